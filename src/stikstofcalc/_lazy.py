"""Lazy re-exports for package ``__init__`` modules (PEP 562).

A package lists the public names of its modules; a name is imported on first use, so that
``import stikstofcalc.units`` does not load the engine and a package's ``__init__`` never
takes part in an import cycle.
"""

import importlib


def lazy_exports(package: str, exports: dict[str, str]):
    """``__getattr__`` and ``__dir__`` for *package* re-exporting ``{name: module}``."""

    def __getattr__(name: str):
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        return value

    def __dir__():
        return sorted(exports)

    return __getattr__, __dir__
