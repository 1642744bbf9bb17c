"""Map pictures (optional extra ``stikstofcalc[maps]``: matplotlib): :mod:`.draw`."""

from stikstofcalc._lazy import lazy_exports

_EXPORTS = {"write_deposition_maps": "draw", "write_headroom_map": "draw", "write_batch_maps": "draw",
            "plot_deposition_map": "draw", "plot_headroom_map": "draw", "MapsUnavailable": "draw"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
