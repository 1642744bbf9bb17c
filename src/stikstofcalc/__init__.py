"""stikstofcalc: fast nitrogen-deposition prechecks for Dutch building projects.

Layers (each calls only the ones below it)::

    units, errors           one pint registry, one error hierarchy
    deposition              sources x receptors -> mol N/ha/yr (the OPS emulator)
    cli                     a thin click front end
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
