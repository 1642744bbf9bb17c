"""Batches of cases from a workbook or CSV: validate every row, compute every valid case (:mod:`.run`)."""

from stikstofcalc._lazy import lazy_exports

_EXPORTS = {"run_batch": "run", "run_source_batch": "run", "compute_cases": "run",
            "validate_book": "run", "BatchResult": "run", "CaseInput": "run"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
