"""Start-up work of the first project: done once, with one compiled kernel; site geometry rule.

Timing itself is in ``benchmarks/calc_speed.py`` (benchmarks never fail on timing); these
tests pin the things that made the first project slow: validating an edition twice,
re-reading an override file, and a second numba specialisation for read-only arrays.
"""

from pathlib import Path

import numpy as np

from stikstofcalc import compiled, kengetallen
from stikstofcalc.deposition import fast
from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays
from stikstofcalc.emissions.inventory import emission_sources
from stikstofcalc.emissions.project import parse_project, read_project
from stikstofcalc.emissions.sources import SMALL_SITE_M2, outline_wkt, row_keys

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_project_with_overrides_validates_edition_and_override_file_once(monkeypatch):
    from stikstofcalc.assessment.core import assess_project

    kengetallen.clear_cache()
    reads = []
    real = kengetallen._read_override_file
    monkeypatch.setattr(kengetallen, "_read_override_file", lambda *a: reads.append(a[0]) or real(*a))
    a = assess_project(EXAMPLES / "wijk_300_woningen_veluwe.toml")
    assert len(reads) == 1, "the project's override file is parsed and validated once"
    assert kengetallen._load_edition.cache_info().misses == 1
    assert a.case.startswith("Ede-West")
    kengetallen.clear_cache()


def test_read_only_receptor_arrays_use_the_same_compiled_kernel(monkeypatch):
    monkeypatch.delenv(compiled.ENV, raising=False)  # about the compiled kernel, also in a numpy run
    src = SourceArrays(x=[155000.0, 155400.0], y=[463000.0, 463100.0], height_m=[4.0, 1.0],
                       heat_mw=[0.0, 0.0], nox_kg_yr=[100.0, 0.0], nh3_kg_yr=[5.0, 2.0],
                       area_side_m=[0.0, 120.0])
    x = np.linspace(154000.0, 158000.0, 50)
    y = np.full(50, 463500.0)
    writable = deposition_arrays(src, ReceptorArrays(x, y, landuse=3))
    n_signatures = len(fast._evaluate.signatures)
    x_ro, y_ro, lu_ro = x.copy(), y.copy(), np.full(50, 3, dtype=np.int64)
    for arr in (x_ro, y_ro, lu_ro):
        arr.flags.writeable = False
    rec = ReceptorArrays(x_ro, y_ro, landuse=3)
    rec.landuse = lu_ro
    assert not (rec.x.flags.writeable or rec.y.flags.writeable or rec.landuse.flags.writeable)
    read_only = deposition_arrays(src, rec)
    assert len(fast._evaluate.signatures) == n_signatures == 1
    np.testing.assert_array_equal(read_only.nox, writable.nox)
    np.testing.assert_array_equal(read_only.nh3, writable.nh3)
    assert writable.total.max() > 0


# --------------------------------------------------------------------------- site geometry
# inventory._wkt: machinery on a site outline is the area source that sources.row_keys
# models (the polygon branch was unreachable: x_m, y_m were always set first).


def _machinery_wkt(project):
    table = emission_sources(project)
    machinery = table[table["source_kind"] == "machinery"]
    assert len(machinery) > 0
    keys = row_keys(machinery, project)
    return set(machinery["geometry_wkt"]), {k[0] for k in keys}


def test_machinery_on_a_large_site_is_the_outline_polygon():
    project = read_project(EXAMPLES / "dorp_ver_van_natuur.toml")
    table_wkt, modelled = _machinery_wkt(project)
    assert table_wkt == {outline_wkt(project.location.outline)} == modelled


def test_machinery_on_a_small_site_or_without_outline_is_a_point():
    project = read_project(EXAMPLES / "dorp_ver_van_natuur.toml")
    raw = dict(project.raw)
    x, y = raw["location"]["x"], raw["location"]["y"]
    side = 0.9 * SMALL_SITE_M2 ** 0.5  # below SMALL_SITE_M2
    raw["location"] = {"x": x, "y": y, "outline": [[x - side / 2, y - side / 2], [x + side / 2, y - side / 2],
                                                   [x + side / 2, y + side / 2], [x - side / 2, y + side / 2]]}
    small = parse_project(raw)
    table_wkt, modelled = _machinery_wkt(small)
    assert table_wkt == {f"POINT ({x:.2f} {y:.2f})"}
    assert {w.split(" (")[0] for w in modelled} == {"POINT"}
    raw["location"] = {"x": x, "y": y}
    table_wkt, _ = _machinery_wkt(parse_project(raw))
    assert table_wkt == {f"POINT ({x:.2f} {y:.2f})"}


def test_other_rows_keep_their_point_or_route():
    project = read_project(EXAMPLES / "wijk_300_woningen_veluwe.toml")
    table = emission_sources(project)
    heating = table[table["source_kind"] == "heating"]["geometry_wkt"]
    assert set(heating) == {"POINT (172500.00 452500.00)"}
    traffic = table[table["route"] == "ontsluiting zuid naar Verlengde Parkweg"]["geometry_wkt"]
    assert {w.split(" (")[0] for w in traffic} == {"LINESTRING"}
