"""The deposition engine: emission sources x receptors -> mol N/ha/yr.

An emulator of RIVM's OPS-LT 5.3.1 (the model inside AERIUS), built from and
tested against OPS reference runs (see ``docs/engine.md``).

Layers:

- :mod:`.core`: array-level entry point :func:`deposition_arrays` over
  elementary sources (points, squares, straight segments).
- :mod:`.geometry`: polygons, rectangles and polylines -> elementary sources.
- :mod:`.api`: pandas front end :func:`deposition` with validation.
"""

from stikstofcalc.deposition.api import deposition
from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays

__all__ = ["ReceptorArrays", "SourceArrays", "deposition", "deposition_arrays"]
