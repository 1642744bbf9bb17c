"""Regional capacity: how many homes (or m2) fit at 0,00 per site, and a woondeal's sum.

- :func:`compute_capacity` (``run``): per candidate site and plan type the largest plan size
  whose realisatie- and gebruiksfase each stay below the threshold (0,00), which phase binds,
  where, and the deposition per unit; locally or on Dask (``distributed``).
- sites: :func:`read_sites` (CSV/Excel/GeoJSON), :func:`grid_sites` (a grid over a region).
- plan types: :func:`load_plan_type` (shipped ``grondgebonden``, ``gestapeld``, ``utiliteit``
  or a project file with a ``[capacity]`` table).
- :func:`woondeal_sum` (``woondeal``): the summed deposition of a list of planned projects
  per hexagon and year (planning information; the legal test stays per project).
- outputs (``output``): workbook, GeoPackage, GeoTIFF, PNG map.

See ``docs/capacity.md``.
"""

from stikstofcalc.capacity.plan import PLAN_TYPES, PlanType, PlanWeights, load_plan_type
from stikstofcalc.capacity.run import CapacityResult, Progress, compute_capacity
from stikstofcalc.capacity.sites import Sites, grid_sites, read_region, read_sites

__all__ = ["PLAN_TYPES", "PlanType", "PlanWeights", "load_plan_type", "CapacityResult", "Progress",
           "compute_capacity", "Sites", "grid_sites", "read_region", "read_sites"]
