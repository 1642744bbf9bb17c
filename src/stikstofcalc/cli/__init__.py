"""The ``stikstofcalc`` command line: one module per command, shared options in :mod:`.options`."""

from stikstofcalc.cli.main import main

__all__ = ["main"]
