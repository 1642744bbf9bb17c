"""stikstofcalc: fast nitrogen-deposition prechecks for Dutch building projects.

Layers (each calls only the ones below it)::

    units, errors           one pint registry, one error hierarchy
    deposition              sources x receptors -> mol N/ha/yr (the OPS emulator)
    cli                     a thin click front end
"""

from stikstofcalc._version import __version__

__all__ = ["__version__"]
