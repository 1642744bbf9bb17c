"""Assessment: emission sources -> deposition per hexagon -> verdict per phase and year.

- :mod:`.core`         unit deposition, envelopes, the pruned search, headroom, effect distance,
                       :func:`assess_project`;
- :mod:`.many`         many cases at once (one emission inventory per chunk);
- :mod:`.source_list`  any source list (CSV/Excel, IMAER GML) -> the same verdict.
"""

from stikstofcalc._lazy import lazy_exports

_EXPORTS = {
    "Assessment": "core", "assess_project": "core", "assess_project_steps": "core",
    "borderline_band": "core", "assess_many": "many", "CaseOutcome": "many",
    "SourceList": "source_list", "read_source_files": "source_list",
    "assess_source_list": "source_list",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
