"""Assessment: pruned search == brute force, bounds, linearity, headroom, rules, bad input."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from stikstofcalc.assessment import core as A
from stikstofcalc import rules
from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays
from stikstofcalc.errors import InputError, MultipleInputErrors
from stikstofcalc.emissions.project import parse_project, read_project
from stikstofcalc.emissions.sources import (DEFAULT_Z0_M, build_templates, in_netherlands,
    polyline_crosses_itself, row_keys)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TWEE = EXAMPLES / "twee_natura2000_gebieden.toml"
WIJK = EXAMPLES / "wijk_300_woningen_veluwe.toml"
VER = EXAMPLES / "dorp_ver_van_natuur.toml"


def _project(**changes):
    """The far-from-nature village with some fields changed (dict merge per section)."""
    data = tomllib.loads(VER.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return parse_project(data, file=str(VER))


@pytest.fixture(scope="module")
def twee_pruned():
    return A.assess_project(TWEE)


@pytest.fixture(scope="module")
def twee_brute():
    return A.assess_project(TWEE, prune=False)


# --------------------------------------------------------------------------- pruning


@pytest.mark.usefixtures("engine_path")  # numba and numpy path (tests/conftest.py)
@pytest.mark.slow
def test_pruned_search_equals_brute_force_uniform(monkeypatch):
    """The same with uniform terrain (the engine's default switched; the bound follows it)."""
    import functools

    monkeypatch.setattr(A, "deposition_arrays", functools.partial(A.deposition_arrays, terrain="uniform"))
    assert A.engine_terrain() == "uniform"
    p, b = A.assess_project(TWEE), A.assess_project(TWEE, prune=False)
    assert p.receptors["evaluated"] < 0.2 * p.receptors["count"]
    for rp, rb in zip(p.results, b.results, strict=True):
        assert rp["max_deposition"] == pytest.approx(rb["max_deposition"], rel=1e-12)
        assert rp["receptor_id"] == rb["receptor_id"]
        assert rp["n_hexagons_above"] == rb["n_hexagons_above"]


def test_map_bound_holds_on_every_hexagon(twee_brute):
    """The terrain-aware bound is above the exact unit deposition everywhere (sampled)."""
    captured = {}
    real = A.upper_bounds

    def spy(templates, x, y, env=None, surface=None):
        captured.update(t=templates, x=x, y=y, env=env)
        return real(templates, x, y, env, surface)

    import unittest.mock as um
    with um.patch.object(A, "upper_bounds", spy):
        A.assess_project(TWEE)
    t, x, y, env = captured["t"], captured["x"], captured["y"], captured["env"]
    assert env.value_src is not None  # the roughness-map bound
    idx = np.random.default_rng(3).choice(len(x), 2000, replace=False)
    u = A.unit_deposition(t, x[idx], y[idx])
    b = real(t, x[idx], y[idx], env)
    assert np.all(b >= u)
    assert np.median(b[u > 0] / u[u > 0]) < 5.0  # and still a useful bound


def test_pruned_search_equals_brute_force(twee_pruned, twee_brute):
    p, b = twee_pruned, twee_brute
    # pruning did prune: with the roughness map the bound covers every trajectory and
    # receptor terrain the case can see (assessment._source_tables_map_bound), looser than
    # the uniform-terrain one (about a third of the hexagons evaluated, measured 13,296 of
    # 39,228; uniform terrain below a fifth, test_pruned_search_equals_brute_force_uniform)
    assert p.receptors["evaluated"] < 0.4 * p.receptors["count"]
    assert b.receptors["evaluated"] == b.receptors["count"]
    assert len(p.results) == len(b.results) >= 3
    for rp, rb in zip(p.results, b.results, strict=True):
        assert (rp["phase"], rp["year"]) == (rb["phase"], rb["year"])
        assert rp["max_deposition"] == pytest.approx(rb["max_deposition"], rel=1e-12)
        assert rp["receptor_id"] == rb["receptor_id"]
        assert rp["n_hexagons_above"] == rb["n_hexagons_above"]
        assert rp["permit_needed"] == rb["permit_needed"]
        assert rp["headroom"]["source_factor"] == pytest.approx(rb["headroom"]["source_factor"])
    for mp, mb in zip(p.measures, b.measures, strict=True):
        assert mp["max_deposition"] == pytest.approx(mb["max_deposition"], rel=1e-12)
        assert mp["receptor_id"] == mb["receptor_id"]
    assert p.reference["max_deposition"] == pytest.approx(b.reference["max_deposition"], rel=1e-12)


def _templates(project):
    from stikstofcalc.emissions import inventory

    table = inventory.emission_sources(project)
    return build_templates(row_keys(table, project)), table


def test_upper_bounds_hold_near_and_far():
    """Bound >= exact unit deposition for points, areas and lines, inside the site and out to 26 km."""
    project = read_project(WIJK)
    tpl, _ = _templates(project)
    kinds = {lab.split(" ")[0] for lab in tpl.labels}
    assert {"area", "line"} <= kinds
    rng = np.random.default_rng(4)
    r = np.concatenate([rng.uniform(0, 800, 300), np.geomspace(800, 26_000, 300)])
    ang = rng.uniform(0, 2 * np.pi, r.size)
    x, y = 172500 + r * np.sin(ang), 452500 + r * np.cos(ang)
    exact = A.unit_deposition(tpl, x, y)
    bound = A.upper_bounds(tpl, x, y)
    assert np.all(bound >= exact)
    assert np.all(bound[:, r > 25_900] == 0) or np.all(exact[:, r > 25_900] <= bound[:, r > 25_900])


@pytest.mark.usefixtures("engine_path")  # numba and numpy path (tests/conftest.py)
def test_pruned_search_generic_bounds():
    """pruned_search on synthetic fields: the maximum and the count above a level are exact."""
    rng = np.random.default_rng(1)
    exact = rng.lognormal(-6, 2, size=(4, 5000))
    bounds = exact * rng.uniform(1.0, 3.0, size=exact.shape)
    w = rng.uniform(0, 5, size=(3, 4))
    calls = []

    def evaluate(idx):
        calls.append(idx.size)
        return exact[:, idx]

    s = A.pruned_search(w, bounds, evaluate, count_level=np.array([0.05, np.inf, np.inf]))
    full = w @ exact
    assert np.allclose(s.maxima(w), full.max(axis=1))
    sel = s.done
    assert np.sum((w[0] @ exact[:, sel]) >= 0.05) == np.sum(full[0] >= 0.05)
    assert sum(calls) < exact.shape[1]


# --------------------------------------------------------------------------- linearity, headroom


@pytest.mark.usefixtures("engine_path")  # numba and numpy path (tests/conftest.py)
def test_unit_deposition_times_emission_equals_direct_engine_call():
    project = read_project(TWEE)
    tpl, table = _templates(project)
    rows = table[(table["phase"] == "realisatie") & (table["year"] == 2028)]
    t = tpl.index(row_keys(rows, project))
    rng = np.random.default_rng(2)
    x, y = 167500 + rng.uniform(-6000, 6000, 200), 447500 + rng.uniform(-6000, 6000, 200)
    u = A.unit_deposition(tpl, x, y)
    scaled = rows["nox_kg_per_yr"].to_numpy() @ u[2 * t] + rows["nh3_kg_per_yr"].to_numpy() @ u[2 * t + 1]
    # direct: every row's own elementary sources with its real emission, one call
    e = tpl.elementary
    parts = [np.flatnonzero(e.parent == ti) for ti in t]
    k = np.concatenate(parts)
    row = np.repeat(np.arange(len(t)), [p.size for p in parts])
    src = SourceArrays(x=e.x[k], y=e.y[k], height_m=tpl.height_m[e.parent[k]],
                       heat_mw=tpl.heat_mw[e.parent[k]], spread_m=tpl.spread_m[e.parent[k]],
                       nox_kg_yr=e.weight[k] * rows["nox_kg_per_yr"].to_numpy()[row],
                       nh3_kg_yr=e.weight[k] * rows["nh3_kg_per_yr"].to_numpy()[row],
                       area_side_m=e.area_side_m[k], x_end=e.x_end[k], y_end=e.y_end[k],
                       z0_m=DEFAULT_Z0_M)
    direct = deposition_arrays(src, ReceptorArrays(x=x, y=y)).total
    assert np.allclose(scaled, direct, rtol=1e-9, atol=1e-15)


def _brute(project, phase, year, scale_all=1.0, group=None, scale_group=1.0):
    """Max deposition of one phase-year over all default receptors, brute force."""
    from stikstofcalc.geo.receptors import default_receptors

    tpl, table = _templates(project)
    rows = table[(table["phase"] == phase) & (table["year"] == year)]
    t = tpl.index(row_keys(rows, project))
    f = np.full(len(rows), scale_all)
    if group is not None:
        f = np.where(A._group_names(rows) == group, scale_group, 1.0)
    rec = default_receptors(*tpl.source_points())
    u = A.unit_deposition(tpl, rec["x"].to_numpy(), rec["y"].to_numpy())
    dep = (f * rows["nox_kg_per_yr"].to_numpy()) @ u[2 * t] + (f * rows["nh3_kg_per_yr"].to_numpy()) @ u[2 * t + 1]
    return dep.max()


def test_headroom_applied_gives_000(twee_pruned):
    project = read_project(TWEE)
    r = next(x for x in twee_pruned.results if x["phase"] == "realisatie" and x["year"] == 2027)
    assert r["permit_needed"]
    f = r["headroom"]["factor"]
    below = _brute(project, "realisatie", 2027, scale_all=0.999 * f)
    above = _brute(project, "realisatie", 2027, scale_all=1.001 * f)
    assert rules.aerius_round(below) == 0.0 and not rules.permit_needed(below)
    assert rules.permit_needed(above)
    # emission totals of the headroom are the plan's totals times the factor
    assert r["headroom"]["nox_kg_per_yr"] == pytest.approx(r["nox_kg_per_yr"] * f)


@pytest.mark.slow
@pytest.mark.usefixtures("engine_path")  # numba and numpy path (tests/conftest.py)
def test_source_only_headroom_applied_gives_000():
    project = read_project(VER)
    a = A.assess_project(project, measures=False)
    r = a.results[0]
    h = r["headroom"]
    s = h["source_factor"]
    assert 1 < s < np.inf and h["allowed_source_only"] == pytest.approx(h["current"] * s)
    below = _brute(project, r["phase"], r["year"], group=h["source"], scale_group=0.999 * s)
    above = _brute(project, r["phase"], r["year"], group=h["source"], scale_group=1.001 * s)
    assert not rules.permit_needed(below) and rules.permit_needed(above)


def test_effect_distance_is_an_upper_bound(twee_pruned):
    """No default hexagon beyond the effect distance gets the threshold (checked by the bound)."""
    for r in twee_pruned.results:
        assert 0 < r["effect_distance_m"] <= 25_000
    env_total = twee_pruned.results[0]["effect_distance_m"]
    assert env_total > 100


# --------------------------------------------------------------------------- rules and receptors


@pytest.mark.usefixtures("engine_path")  # numba and numpy path (tests/conftest.py)
def test_far_village_is_000_in_both_phases():
    a = A.assess_project(VER)
    assert [r["phase"] for r in a.results] == ["realisatie", "gebruik"]
    for r in a.results:
        assert r["max_display"] == "0,00" and not r["permit_needed"] and r["n_hexagons_above"] == 0
        assert r["margin_factor"] > 1
    assert all(not m["permit_needed"] for m in a.measures)


def test_no_natura2000_within_25km_is_an_answer():
    # Eemshaven: only the Waddenzee is near, and it is missing from the data (noted)
    p = _project(location={"x": 254000, "y": 611000, "outline": [[253900, 610900], [254100, 610900],
                                                                  [254100, 611100], [253900, 611100]]})
    a = A.assess_project(p, measures=False)
    assert a.receptors["count"] == 0
    for r in a.results:
        assert r["receptor_id"] is None and r["max_deposition"] == 0 and not r["permit_needed"]
        assert "geen Natura 2000" in r["verdict"]
    assert any("25 km" in n for n in a.notes)
    assert any("Waddenzee" in n for n in a.receptors["notes"])


def test_netted_difference_is_shown_not_used(twee_pruned):
    a = A.assess_project(TWEE, netted=True, measures=False)
    use = next(r for r in a.results if r["phase"] == "gebruik")
    plain = next(r for r in twee_pruned.results if r["phase"] == "gebruik")
    assert use["netted_max"] is not None and use["netted_max"] < use["max_deposition"]
    assert use["permit_needed"] == plain["permit_needed"] and use["max_deposition"] == plain["max_deposition"]
    assert a.reference["max_deposition"] > 1


def test_bouwvrijstelling_exempts_construction(twee_pruned):
    a = A.assess_project(TWEE, regime="bouwvrijstelling", measures=False)
    real = [r for r in a.results if r["phase"] == "realisatie"]
    assert real and all(r["exempt"] and not r["permit_needed"] for r in real)
    assert a.provenance["regime"]["name"] == "bouwvrijstelling"


def test_user_receptor_file_relevance(tmp_path):
    f = tmp_path / "rec.csv"
    f.write_text("x;y;kdw;achtergronddepositie\n167580;447460;1000;500\n170000;450000;1000;2000\n",
                 encoding="utf-8")
    a = A.assess_project(TWEE, receptors=f, measures=False)
    assert a.receptors["count"] == 2 and a.receptors["relevant"] == 1
    from stikstofcalc.geo.receptors import xy_to_receptor_id

    second = int(xy_to_receptor_id(170000, 450000))
    for r in a.results:   # only the (nearly) overloaded hexagon counts, although the other is nearer
        assert r["receptor_id"] == second


def test_latlon_location_is_converted():
    from stikstofcalc.geo.receptors import rd_to_wgs84

    lat, lon = rd_to_wgs84(172400, 406800)
    data = tomllib.loads(VER.read_text(encoding="utf-8"))
    outline = data["location"]["outline"]
    data["location"] = {"lat": float(lat[()]), "lon": float(lon[()]), "outline": outline}
    a = A.assess_project(parse_project(data), measures=False)
    b = A.assess_project(VER, measures=False)
    assert a.results[0]["max_deposition"] == pytest.approx(b.results[0]["max_deposition"], rel=0.01)
    assert a.results[0]["receptor_id"] == b.results[0]["receptor_id"]


# --------------------------------------------------------------------------- bad input


def test_location_in_the_sea_is_refused():
    data = tomllib.loads(VER.read_text(encoding="utf-8"))
    data["location"] = {"x": 50000, "y": 480000}
    with pytest.raises(MultipleInputErrors) as e:
        A.assess_project(parse_project(data))
    assert "location" in str(e.value) and "in zee" in str(e.value) and "50000" in str(e.value)


def test_outline_not_containing_location():
    with pytest.raises(MultipleInputErrors) as e:
        A.assess_project(_project(location={"x": 173400}))
    assert "location.outline" in str(e.value) and "bevat de locatie" in str(e.value)


def test_self_crossing_route():
    route = {"name": "lus", "road_type": "stad_normaal",
             "geometry": [[172400, 406800], [172800, 406800], [172800, 407200], [172600, 406600]]}
    with pytest.raises(MultipleInputErrors) as e:
        A.assess_project(_project(routes=[route]))
    assert "routes[0].geometry" in str(e.value) and "snijdt zichzelf" in str(e.value)


def test_receptor_file_without_coordinates(tmp_path):
    f = tmp_path / "rec.csv"
    f.write_text("gebied,kdw\nVeluwe,1000\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        A.assess_project(VER, receptors=f)
    assert "columns" in str(e.value) and "receptor_id" in str(e.value)


def test_in_netherlands_and_route_crossing():
    inside = in_netherlands([121000, 233000, 176000, 30500, 258000], [487000, 582000, 317000, 385000, 471000])
    assert inside.all()   # Amsterdam, Groningen, Maastricht, Vlissingen, Enschede
    assert not in_netherlands([40000, 290000, 100000], [480000, 450000, 330000]).any()
    assert polyline_crosses_itself([(0, 0), (10, 0), (10, 10), (5, -5)])
    assert not polyline_crosses_itself([(0, 0), (10, 0), (10, 10), (0, 10)])


@pytest.mark.parametrize("tolerance", [1.0, 100.0, 5000.0, 0.0])
def test_compiled_in_netherlands_equals_numpy(tolerance):
    """The compiled check of a few points == the numpy reference, also on and near the
    outline's edges and vertices (tolerance 0 takes the numpy path)."""
    from stikstofcalc.emissions.sources import NL_OUTLINE_RD, _in_netherlands_numpy

    rng = np.random.default_rng(11)
    r = NL_OUTLINE_RD
    t, k = rng.random(3000), rng.integers(0, len(r) - 1, 3000)
    ex, ey = r[k, 0] + t * (r[k + 1, 0] - r[k, 0]), r[k, 1] + t * (r[k + 1, 1] - r[k, 1])
    xs = np.concatenate([rng.uniform(0, 300000, 3000), ex, ex + rng.normal(0, 3 * tolerance + 1, 3000), r[:, 0]])
    ys = np.concatenate([rng.uniform(280000, 630000, 3000), ey, ey + rng.normal(0, 3 * tolerance + 1, 3000),
                         r[:, 1]])
    got = np.concatenate([in_netherlands(xs[i:i + 10], ys[i:i + 10], tolerance_m=tolerance)
                          for i in range(0, xs.size, 10)])
    ref = _in_netherlands_numpy(xs, ys, tolerance)
    assert np.array_equal(got, ref)
    assert 0.2 < ref.mean() < 0.9  # both outcomes occur


def test_fallback_characteristics_are_noted_only_where_used(twee_pruned, tmp_path):
    """The reference cowshed of the example (sector 4110, no characteristics given, none in
    the edition) takes the fallback and says so; a source list that states 5 m, 0 MW and
    2.5 m itself (as AERIUS files of sector 4110 do) is not told it has none."""
    from stikstofcalc.assessment.source_list import assess_source_list
    from stikstofcalc.emissions.sources import FALLBACK_NOTE

    assert FALLBACK_NOTE in twee_pruned.notes
    f = tmp_path / "bronnen.csv"
    f.write_text("source_id,x,y,height_m,heat_mw,spread_m,nox_kg_yr,nh3_kg_yr,sector_id\n"
                 "stal,167520,447480,5,0,2.5,0,780,4110\n", encoding="utf-8")
    a = assess_source_list(f)[0]
    assert a.results[0]["max_deposition"] > 0
    assert FALLBACK_NOTE not in a.notes
    assert not any("geen bronkenmerken" in n for n in a.notes)
