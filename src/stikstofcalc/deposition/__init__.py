"""The deposition engine: emission sources x receptors -> mol N/ha/yr.

An emulator of RIVM's OPS-LT 5.3.1 (the model inside AERIUS), built from and
tested against OPS reference runs (see ``docs/engine.md``).

Modules:

- :mod:`.arrays`: the plain arrays (sources, receptors, result) and the engine's conventions;
- :mod:`.model`, :mod:`.terrain`: the fitted kernel and the roughness map;
- :mod:`.engine`, :mod:`.fast`: the numpy reference and the compiled path;
- :mod:`.core`: array-level entry point :func:`deposition_arrays` over elementary sources
  (points, squares, straight segments; :mod:`stikstofcalc.geo.geometry` splits the rest);
- :mod:`.api`: pandas front end :func:`deposition` with validation.

The names below load on first use (:mod:`stikstofcalc._lazy`), so importing
``stikstofcalc.deposition.arrays`` from a lower layer does not load the engine.
"""

from stikstofcalc._lazy import lazy_exports

_EXPORTS = {"deposition": "api", "deposition_arrays": "core", "SourceArrays": "arrays",
            "ReceptorArrays": "arrays", "DepositionResult": "arrays"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
