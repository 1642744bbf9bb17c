"""The one switch for the compiled (numba) code paths.

numba is a required dependency: every compiled kernel in the package has a numpy
counterpart that computes the same numbers and serves as its specification (the engine's
reference path, the terrain look-ups, the polar-table refinement, the receptor selection,
the Netherlands outline test, the search's seed heap). Which of the two runs is decided
here and nowhere else:

* by default the compiled kernels run;
* with the environment variable ``STIKSTOFCALC_NUMPY=1`` everything runs on the numpy
  path (slower, the same results within the tolerances stated in the tests). It is read
  at every call, so it may be set in a running process (the test fixture
  ``engine_path`` in ``tests/conftest.py`` does that to run the engine and search tests
  on both paths). It wins over an explicit ``method="fast"`` of
  :func:`stikstofcalc.deposition.core.deposition_arrays`: one run never mixes paths.

Modules with kernels take ``njit`` and ``prange`` from here. Importing this module alone
does not load numba (``import stikstofcalc`` and the command line's start stay light);
importing a module that defines kernels (``deposition.fast``, ``deposition.terrain``,
``assessment._search_nb``, ...) does, once, at its import (about 0.3 s).
"""
from __future__ import annotations

import os

#: environment variable that switches every compiled path to its numpy counterpart
ENV = "STIKSTOFCALC_NUMPY"

__all__ = ["ENV", "enabled", "path_name", "njit", "prange"]  # noqa: F822 - njit, prange: module __getattr__


def enabled() -> bool:
    """True when the compiled kernels run (``STIKSTOFCALC_NUMPY`` unset, empty or ``0``)."""
    return os.environ.get(ENV, "").strip() in ("", "0")


def path_name() -> str:
    """The engine path for provenance: ``numba (fast)`` or ``numpy (reference)``."""
    return "numba (fast)" if enabled() else "numpy (reference)"


def __getattr__(name: str):
    # njit / prange: loaded from numba on first use, so that importing this module is cheap
    if name in ("njit", "prange"):
        import numba

        return getattr(numba, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
