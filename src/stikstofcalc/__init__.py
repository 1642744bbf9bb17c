"""stikstofcalc: fast nitrogen-deposition prechecks for Dutch building projects.

The chain, one package per stage (each layer imports only the layers below it; the contract is
``tools/import_graph.py`` ``LAYERS``, enforced by ``tests/test_layers.py``)::

    _version, errors, units, conventions,   basis: version, one error tree, one pint registry,
    limits, ranges, deposition.arrays       AERIUS conventions (25 km), value ranges, engine arrays
    io.atomic, io.gpkg, io.imaer (read)     file primitives: atomic writes, GeoPackage, IMAER parsing
    rules, kengetallen                      policy (thresholds, rounding, verdicts); key figures
    geo                                     hexagon grid, Natura 2000, receptor selection, geometry
    deposition                              sources x receptors -> mol N/ha/yr (the OPS-LT emulator)
    emissions                               project -> machines, traffic, use phase -> sources
    io                                      tables, report, Excel, IMAER write and check
    assessment                              one project: verdict per phase, margin, headroom, measures
    batch                                   many cases from a workbook, in parallel
    maps, capacity                          drawing; regional capacity and the woondeal sum
    cli                                     the click front end (Dutch), errors -> exit codes

The names below are the curated API, imported on first use (``import stikstofcalc`` stays
light). The engine entry point is :func:`stikstofcalc.deposition.deposition` (not re-exported
here: ``stikstofcalc.deposition`` is the package).
"""

from stikstofcalc import _compat
from stikstofcalc._lazy import lazy_exports
from stikstofcalc._version import __version__

_compat.install()  # 0.1.0 module paths (stikstofcalc.inventory, ...) for one release

_EXPORTS = {
    # project -> sources
    "Project": "emissions.project",
    "read_project": "emissions.project",
    "parse_project": "emissions.project",
    "emission_sources": "emissions.inventory",
    # one project
    "Assessment": "assessment.core",
    "assess_project": "assessment.core",
    "assess_many": "assessment.many",
    "assess_source_list": "assessment.source_list",
    "read_source_files": "assessment.source_list",
    # many projects
    "run_batch": "batch.run",
    "validate_book": "batch.run",
    "BatchResult": "batch.run",
    # regions
    "compute_capacity": "capacity.run",
    "grid_sites": "capacity.sites",
    "read_sites": "capacity.sites",
    "load_plan_type": "capacity.plan",
    "woondeal_sum": "capacity.woondeal",
    # rules and errors
    "get_regime": "rules",
    "clear_caches": "caches",
    "StikstofError": "errors",
    "InputError": "errors",
    "DataError": "errors",
    "OutputError": "errors",
}

__getattr__, _dir = lazy_exports("stikstofcalc", _EXPORTS)
__all__ = ["__version__", *_EXPORTS]


def __dir__():
    return sorted({*globals(), *_EXPORTS})
