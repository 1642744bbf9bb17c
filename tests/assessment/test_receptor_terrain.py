"""Issue 11, item 1 in ``calc``: a receptor file's own terrain (``z0_m``, ``landuse``,
``lu_1`` ... ``lu_9``) wins over the roughness map, as in the ``deposition`` command; the
pruned search stays exact; bad values are refused with row and field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc.assessment.core import (_unit_deposition_centres, assess_project, sub_receptor_offsets,
                                          unit_deposition, unit_deposition_many, upper_bounds, envelope,
                                          SUB_RECEPTOR_MIN_M)
from stikstofcalc.cli.main import main
from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays
from stikstofcalc.emissions.sources import build_templates
from stikstofcalc.errors import MultipleInputErrors
from stikstofcalc.geo.receptors import collapse_receptors, read_receptor_file, receptor_surface
from stikstofcalc.io.gpkg import hexagon_centres

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROJECT = EXAMPLES / "dorp_kleine_uitbreiding.toml"
#: hexagons of the example's largest deposition in each phase (Veluwe; see its report)
NEAR, FAR = 4510085, 4490207
SX, SY = 172240.0, 458930.0
HEXES = [4439600, 4441130, 4442660]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _direct(px, py, **surface):
    """1 kg/yr NOx + NH3 of a point source 2.5 m, 0 MW at (SX, SY), straight from the engine."""
    r = deposition_arrays(SourceArrays(x=[SX], y=[SY], height_m=[2.5], heat_mw=[0.0], nox_kg_yr=[1.0],
                                       nh3_kg_yr=[1.0], spread_m=[1.3]),
                          ReceptorArrays(x=px, y=py, **surface))
    return np.stack([r.nox, r.nh3])


def test_reader_takes_z0_landuse_and_percentages(tmp_path):
    p = write(tmp_path, "r.csv", "receptor_id,z0_m,landuse,lu_1,lu_4,lu_6\n"
                                 "4439600,0.5,,,,\n4441130,,5,,,\n4442660,,,40,60,\n4444190,,,,,\n")
    rec = read_receptor_file(p)
    assert "z0_m" in rec and "lu_4" in rec and rec.attrs["unused_columns"] == []
    z0, lu, pct = receptor_surface(collapse_receptors(rec))
    np.testing.assert_array_equal(z0[[0]], [0.5])
    assert np.isnan(z0[1:]).all()
    assert lu.tolist() == [0, 5, 0, 0]
    assert pct.shape == (4, 9)
    assert np.isnan(pct[[0, 1, 3]]).all()  # not given: from the map
    np.testing.assert_array_equal(pct[2], [40, 0, 0, 60, 0, 0, 0, 0, 0])  # empty classes = 0 %
    assert receptor_surface(collapse_receptors(read_receptor_file(
        write(tmp_path, "plain.csv", "receptor_id\n4439600\n")))) is None


@pytest.mark.parametrize("header, row, field, needle, reason", [
    ("z0_m", "0", "z0_m", "0 < z0_m <= 10 m", "0 m is geen ruwheidslengte"),
    ("z0_m", "-0.5", "z0_m", "0 < z0_m <= 10 m", "-0,5 m is geen ruwheidslengte"),
    ("z0_m", "25", "z0_m", "0 < z0_m <= 10 m", "25 m is geen ruwheidslengte"),
    ("z0_m", "ruw", "z0_m", "een getal", "'ruw' is niet geldig"),
    ("landuse", "10", "landuse", "OPS-landgebruiksklasse 1-9", "10 is geen landgebruiksklasse"),
    ("landuse", "2.5", "landuse", "OPS-landgebruiksklasse 1-9", "2,5 is geen landgebruiksklasse"),
    ("lu_1,lu_6", "50,40", "lu_1", "samen 100", "tellen op tot 90 in plaats van 100"),
    ("lu_1,lu_6", "0.5,0.5", "lu_1", "samen 100", "als fractie ingevuld"),
    ("lu_1,lu_6", "110,-10", "lu_6", "percentage >= 0", "-10 % is negatief"),
    ("landuse,lu_1", "1,100", "landuse", "niet beide", "op dezelfde rij"),
])
def test_reader_refuses_bad_terrain(tmp_path, header, row, field, needle, reason):
    """Each bad value named with row, field, the value and why (the reason was empty)."""
    p = write(tmp_path, "r.csv", f"receptor_id,{header}\n4439600,{row}\n")
    with pytest.raises(MultipleInputErrors) as e:
        read_receptor_file(p)
    hits = [err for err in e.value.errors if err.field == field]
    assert hits and hits[0].row == 2 and needle in str(hits[0]), [str(x) for x in e.value.errors]
    assert reason in hits[0].reason(), hits[0].reason()


def test_rows_of_one_hexagon_must_agree_on_terrain(tmp_path):
    """Two habitats of one hexagon: the same z0_m is fine, a different one refused (one value
    per hexagon would be dropped unseen)."""
    same = write(tmp_path, "s.csv", "receptor_id,habitat,z0_m\n4439600,H4030,0.3\n4439600,H9190,0.3\n")
    assert collapse_receptors(read_receptor_file(same))["z0_m"].tolist() == [0.3]
    p = write(tmp_path, "r.csv", "receptor_id,habitat,z0_m\n4439600,H4030,0.3\n4439600,H9190,1.2\n")
    with pytest.raises(MultipleInputErrors) as e:
        read_receptor_file(p)
    (err,) = e.value.errors
    assert err.field == "z0_m" and err.row == 2 and "rijen 2, 3" in str(err) and "4439600" in str(err)
    # an empty class beside given percentages is 0 %: the same terrain as a 0
    zero = write(tmp_path, "z.csv", "receptor_id,habitat,lu_1,lu_4\n4439600,a,100,\n4439600,b,100,0\n")
    assert collapse_receptors(read_receptor_file(zero))["lu_1"].tolist() == [100]


def test_unit_deposition_uses_the_receptor_terrain():
    """Far hexagons: the engine with ReceptorArrays(z0_m, landuse, lu_pct) per receptor."""
    tp = build_templates([(f"POINT ({SX!r} {SY!r})", 2.5, 0.0, 1.3)])
    x, y = (np.asarray(v, float) for v in hexagon_centres(HEXES))
    z0 = np.array([1.5, np.nan, 0.01])
    lu = np.array([0, 4, 0])
    pct = np.array([[np.nan] * 9, [np.nan] * 9, [20, 0, 0, 0, 0, 80, 0, 0, 0]], float)
    u = unit_deposition(tp, x, y, surface=(z0, lu, pct))
    ref = _direct(x, y, z0_m=z0, landuse=lu, lu_pct=pct)
    np.testing.assert_allclose(u, ref, rtol=1e-9)
    plain = unit_deposition(tp, x, y)
    assert (np.abs(u / plain - 1) > 1e-3).all()  # each override changes its hexagon
    # a terrain of NaN / 0 / NaN rows is the map's: the same as none
    none = (np.full(3, np.nan), np.zeros(3, np.int64), np.full((3, 9), np.nan))
    np.testing.assert_array_equal(unit_deposition(tp, x, y, surface=none), plain)
    # many requests in one call, with and without a terrain: as one call each
    many = unit_deposition_many([(tp, x, y, (z0, lu, pct)), (tp, x, y)])
    np.testing.assert_allclose(many[0], u, rtol=1e-12)
    np.testing.assert_allclose(many[1], plain, rtol=1e-12)


def test_sub_receptors_take_their_hexagon_terrain():
    """A source inside the hexagon: the mean over sub-receptors >= 20 m away, each with the
    hexagon's own z0_m and land use."""
    (cx,), (cy,) = (np.asarray(v, float).tolist() for v in hexagon_centres([HEXES[0]]))
    tp = build_templates([(f"POINT ({cx!r} {cy!r})", 2.5, 0.0, 1.3)])
    surface = (np.array([0.8]), np.array([5]), None)
    u = unit_deposition(tp, [cx], [cy], surface=surface)
    off = sub_receptor_offsets()
    px, py = cx + off[:, 0], cy + off[:, 1]
    keep = np.hypot(off[:, 0], off[:, 1]) >= SUB_RECEPTOR_MIN_M
    r = deposition_arrays(SourceArrays(x=[cx], y=[cy], height_m=[2.5], heat_mw=[0.0], nox_kg_yr=[1.0],
                                       nh3_kg_yr=[1.0], spread_m=[1.3]),
                          ReceptorArrays(x=px[keep], y=py[keep], landuse=5, z0_m=np.full(keep.sum(), 0.8)))
    np.testing.assert_allclose(u[:, 0], [r.nox.mean(), r.nh3.mean()], rtol=1e-9)
    assert not np.allclose(u, unit_deposition(tp, [cx], [cy]), rtol=1e-3)
    assert not np.allclose(u, _unit_deposition_centres(tp, [cx], [cy], surface), rtol=1e-3)


def test_bounds_cover_the_receptor_terrain():
    """The pruning bound holds with each receptor's own z0 and land use (rough forest, water)."""
    tp = build_templates([(f"POINT ({SX!r} {SY!r})", 2.5, 0.0, 1.3)])
    rng = np.random.default_rng(5)
    x = SX + rng.uniform(-8000, 8000, 300)
    y = SY + rng.uniform(-8000, 8000, 300)
    z0 = np.where(rng.random(300) < 0.5, rng.choice([0.0002, 0.05, 1.0, 3.0], 300), np.nan)
    lu = rng.choice([0, 1, 4, 5, 6, 8], 300)
    surface = (z0, lu, None)
    b = upper_bounds(tp, x, y, envelope(tp), surface)
    u = unit_deposition(tp, x, y, surface=surface)
    assert (u <= b).all()


def test_bound_receptor_factor_equals_the_per_hexagon_formula():
    """The bound's receptor factor, formed per (knot, ring, class set, near) and taken per
    hexagon, equals the per-hexagon formula (the larger of the two z0 knots, the largest
    class present; near hexagons the largest of all) bitwise: two sources, hexagons near
    and far, given z0, classes and percentages, the map's grass and water."""
    import stikstofcalc.assessment.core as A

    tp = build_templates([(f"POINT ({SX!r} {SY!r})", 2.5, 0.0, 1.3),
                          (f"POINT ({SX + 900!r} {SY - 300!r})", 6.0, 0.1, 3.0)])
    rng = np.random.default_rng(8)
    n = 3000
    x, y = SX + rng.uniform(-9000, 9000, n), SY + rng.uniform(-9000, 9000, n)
    x[:50], y[:50] = SX + rng.uniform(-100, 100, 50), SY + rng.uniform(-100, 100, 50)
    z0 = np.where(rng.random(n) < 0.3, rng.choice([0.005, 0.05, 1.0, 3.0], n), np.nan)
    lu = np.where(rng.random(n) < 0.3, rng.integers(1, 10, n), 0)
    pct = np.full((n, 9), np.nan)
    pct[:200, 0], pct[:200, 3] = 70.0, 30.0
    lu[:200] = 0
    surface = (z0, lu, pct)
    env = envelope(tp)
    got = upper_bounds(tp, x, y, env, surface)
    # the per-hexagon formula
    geom, d, inside, area = A._geometry_distances(tp, x, y)
    nint = env.value.shape[1]
    rcp, classes = A._receptor_knots(x, y, env.rcp_log.shape[1], surface)
    near = d.min(axis=0) < 2.0 * A.NEAR_SOURCE_M + 1.0
    vs = env.value_src
    table = np.concatenate([vs * env.area_out[:, None] * A.BOUND_SAFETY,
                            vs * env.area_in[:, None] * A.BOUND_SAFETY, np.zeros((vs.shape[0], 1))], axis=1)
    want = np.empty_like(got)
    for g in range(d.shape[0]):
        code = env.ring_index(d[g])
        ring = code.copy()
        if area[g]:
            code[inside[g]] += nint
        code[d[g] > A.DEFAULT_CUTOFF_M] = 2 * nint
        for t in np.flatnonzero(geom == g):
            for f in (2 * t, 2 * t + 1):
                gl, ll = env.rcp_log[f], env.lu_log[f]
                fac = np.maximum(gl[rcp, ring], gl[np.minimum(rcp + 1, gl.shape[0] - 1), ring])
                fac[near] = gl.max(axis=0)[ring[near]]
                luf = np.where(classes, ll[:, ring].T, -np.inf).max(axis=1)
                luf[near] = ll.max(axis=0)[ring[near]]
                want[f] = table[f][code] * np.exp(fac + luf)
    assert np.array_equal(got, want)
    assert near.sum() >= 10 and len(np.unique(classes, axis=0)) >= 4  # the test covers them


def test_receptor_knots_equal_the_resolved_terrain():
    """The bound's receptor knots and class sets, from the engine's receptor arrays, equal
    those of the resolved (n, 9) terrain: map grass and water, given classes, percentages
    and z0."""
    import stikstofcalc.assessment.core as A
    from stikstofcalc.deposition import model as M, terrain as T

    rng = np.random.default_rng(9)
    n = 3000
    x, y = rng.uniform(20_000, 280_000, n), rng.uniform(300_000, 620_000, n)
    x[:300], y[:300] = rng.uniform(105_000, 120_000, 300), rng.uniform(545_000, 560_000, 300)
    z0 = np.where(rng.random(n) < 0.3, rng.choice([0.005, 0.05, 1.0, 3.0], n), np.nan)
    lu = np.where(rng.random(n) < 0.3, rng.integers(1, 10, n), 0)
    pct = np.full((n, 9), np.nan)
    pct[300:500, 0], pct[300:500, 3] = 70.0, 30.0
    knots = M.load_terrain_model().TA_Z.shape[0]
    for surface in ((z0, np.where(np.isnan(pct).all(1), lu, 0), pct), None, (z0, lu, None)):
        j, classes = A._receptor_knots(x, y, knots, surface)
        rec = ReceptorArrays(x=x, y=y, **A._surface_arrays(surface, 1))
        z0r, frac = T.receptor_surface_resolved(rec, "map", "hexagon")
        jr = np.clip(M.z0_hats(M.load_terrain_model(), np.log(z0r))[0], 0, knots - 1)
        assert np.array_equal(j, jr) and np.array_equal(classes, frac > 0)
    assert classes[:, 5].any() and classes[:, 0].any() and (classes.sum(1) == 2).any()


def _frame(ids, **cols):
    x, y = hexagon_centres(ids)
    return pd.DataFrame({"receptor_id": ids, "x": x, "y": y, "row": np.arange(len(ids)) + 2,
                         "relevant": True, **cols})


def test_pruned_search_with_terrain_equals_brute_force():
    from stikstofcalc.geo.hexgrid import xy_to_receptor_id

    gx, gy = np.meshgrid(np.arange(195_000, 208_000, 330.0), np.arange(449_000, 462_000, 330.0))
    ids = np.unique(xy_to_receptor_id(gx.ravel(), gy.ravel()))
    proj = PROJECT
    n = ids.size
    rng = np.random.default_rng(1)
    frame = _frame(ids, z0_m=np.where(rng.random(n) < 0.3, 2.0, np.nan),
                   landuse=np.where(rng.random(n) < 0.3, 4, np.nan))
    a = assess_project(proj, receptors=frame, measures=False, sensitivity=False)
    b = assess_project(proj, receptors=frame, measures=False, sensitivity=False, prune=False)
    for ra, rb in zip(a.results, b.results):
        assert ra.max_deposition == pytest.approx(rb.max_deposition, rel=1e-9)
        assert ra.receptor_id == rb.receptor_id
    plain = assess_project(proj, receptors=_frame(ids), measures=False, sensitivity=False)
    assert any(abs(ra.max_deposition / rp.max_deposition - 1) > 1e-3 for ra, rp in zip(a.results, plain.results))


def test_calc_reads_the_receptor_terrain(tmp_path):
    """From the command line: the deposition on the hexagon follows its z0_m and land use, the
    report says where the terrain came from, and no column is reported as not read."""
    plain = write(tmp_path, "r0.csv", f"receptor_id\n{NEAR}\n{FAR}\n")
    own = write(tmp_path, "r1.csv", f"receptor_id,z0_m,landuse\n{NEAR},1.0,4\n{FAR},,\n")
    runner = CliRunner()
    out = {}
    for name, rec in (("plain", plain), ("own", own)):
        res = runner.invoke(main, ["calc", str(PROJECT), "--receptors", str(rec), "--no-measures",
                                   "-o", str(tmp_path / f"{name}.json")])
        assert res.exit_code == 0, res.output
        out[name] = res
    assert "niet gebruikt" not in out["own"].output
    assert ("terrein uit het receptorbestand: eigen ruwheid (z0_m) bij 1 en eigen landgebruik "
            "(landuse of lu_1..lu_9) bij 1 van de 2 hexagon(s)") in out["own"].output
    import json

    mx = {k: json.loads((tmp_path / f"{k}.json").read_text())["results"][0]["max_deposition"] for k in out}
    assert mx["own"] > 1.2 * mx["plain"]  # forest with z0 1 m catches more than the map's surface


def test_notes_and_provenance_of_the_receptor_terrain(tmp_path):
    """z0 beyond the terrain model's knots (0.01-1.6 m) is named (the model holds its end
    values: above 1.6 m possibly too low); the provenance counts the file's terrain; a file
    whose terrain cells are all empty gets no terrain note."""
    import json

    rec = write(tmp_path, "r.csv", f"receptor_id,z0_m,landuse\n{NEAR},3.0,4\n{FAR},0.001,\n")
    res = CliRunner().invoke(main, ["calc", str(PROJECT), "--receptors", str(rec), "--no-measures",
                                    "-o", str(tmp_path / "o.json")])
    assert res.exit_code == 0, res.output
    assert "z0_m boven 1,6 m bij 1 hexagon(s) gerekend als 1,6 m" in res.output
    assert "z0_m onder 0,01 m bij 1 hexagon(s) gerekend als 0,01 m" in res.output
    prov = json.loads((tmp_path / "o.json").read_text())["provenance"]["terrain"]
    assert prov["terrain"] == "map" and prov["receptor_file"] == {
        "hexagons": 2, "z0_m_given": 2, "landuse_given": 1, "z0_m_below_model": 1, "z0_m_above_model": 1,
        "z0_model_range_m": [0.01, 1.6]}
    empty = write(tmp_path, "e.csv", f"receptor_id,z0_m,landuse\n{NEAR},,\n")
    res = CliRunner().invoke(main, ["calc", str(PROJECT), "--receptors", str(empty), "--no-measures"])
    assert res.exit_code == 0 and "terrein uit het receptorbestand" not in res.output


def test_deposition_reads_the_same_terrain_names(tmp_path):
    """deposition takes calc's names of the terrain columns (Ruwheid, landgebruik): the same
    numbers as z0_m / landuse (it ignored them and used the map); two names for one column,
    and landuse beside lu_* on a row, are refused."""
    src = EXAMPLES / "sources.csv"
    out = {}
    for name, head in (("a", "z0_m,landuse"), ("b", "Ruwheid,Landgebruik")):
        rec = write(tmp_path, f"{name}.csv", f"receptor_id,x,y,{head}\nA,172508.78,457501.93,0.5,4\n"
                                            "B,172601.84,457555.66,1.2,\n")
        res = CliRunner().invoke(main, ["deposition", str(src), str(rec), "-o", str(tmp_path / f"o{name}.csv")])
        assert res.exit_code == 0, res.output
        out[name] = pd.read_csv(tmp_path / f"o{name}.csv")["deposition_total_mol_ha_yr"].to_numpy()
    np.testing.assert_array_equal(out["a"], out["b"])
    for head, row, needle in (("z0_m,ruwheid", "0.5,0.6", "geven allebei z0_m"),
                              ("landuse,lu_1", "4,100", "op dezelfde rij")):
        rec = write(tmp_path, "c.csv", f"receptor_id,x,y,{head}\nA,172508.78,457501.93,{row}\n")
        res = CliRunner().invoke(main, ["deposition", str(src), str(rec), "-o", str(tmp_path / "oc.csv")])
        assert res.exit_code == 2 and needle in res.output, res.output
    rec = write(tmp_path, "d.csv", "receptor_id,x,y,z0_m\nA,172508.78,457501.93,3\n")
    res = CliRunner().invoke(main, ["deposition", str(src), str(rec), "-o", str(tmp_path / "od.csv")])
    assert res.exit_code == 0 and "z0_m boven 1,6 m bij 1 receptor(en) gerekend als 1,6 m" in res.output


def test_calc_refuses_bad_terrain_with_row_and_field(tmp_path):
    rec = write(tmp_path, "r.csv", f"receptor_id,z0_m\n{NEAR},0\n")
    res = CliRunner().invoke(main, ["calc", str(PROJECT), "--receptors", str(rec), "--no-measures"])
    assert res.exit_code == 2
    assert "rij 2" in res.output and "z0_m" in res.output and "0 < z0_m <= 10 m" in res.output


def test_per_hexagon_output_carries_the_terrain_columns(tmp_path):
    """--per-hexagon: the hexagon's own z0_m and landuse beside its deposition (empty where the
    map was used), in CSV and in the GeoPackage (NULL; a missing class crashed the writer)."""
    import sqlite3

    rec = write(tmp_path, "r.csv", f"receptor_id,z0_m,landuse\n{NEAR},1.0,4\n{FAR},,\n")
    for suffix in ("csv", "gpkg"):
        out = tmp_path / f"hex.{suffix}"
        res = CliRunner().invoke(main, ["calc", str(PROJECT), "--receptors", str(rec), "--no-measures",
                                        "--per-hexagon", str(out)])
        assert res.exit_code == 0, res.output
    t = pd.read_csv(tmp_path / "hex.csv")
    near, far = t[t["receptor_id"] == NEAR], t[t["receptor_id"] == FAR]
    assert (near["z0_m"] == 1.0).all() and (near["landuse"] == 4).all()
    assert far["z0_m"].isna().all() and far["landuse"].isna().all()
    assert "4.0" not in (tmp_path / "hex.csv").read_text().split("\n")[1].split(",")[10]  # a class, not 4.0
    con = sqlite3.connect(tmp_path / "hex.gpkg")
    rows = set(con.execute("SELECT receptor_id, z0_m, landuse FROM depositie"))
    con.close()
    assert rows == {(NEAR, 1.0, 4), (FAR, None, None)}


def test_maps_use_the_receptor_terrain(tmp_path):
    """The map's deposition comes from the same terrain as the report (it used the roughness
    map: 15.22 on the map against 21.72 in the report)."""
    from stikstofcalc.assessment.mapdata import deposition_maps

    rec = write(tmp_path, "r.csv", f"receptor_id,z0_m,landuse\n{NEAR},1.0,4\n{FAR},,\n")
    a = assess_project(PROJECT, receptors=rec, measures=False)
    for r, m in zip(a.results, deposition_maps(PROJECT, a, receptors=rec)):
        assert m.max_deposition == pytest.approx(r.max_deposition, rel=1e-9)


def test_one_lu_column_with_two_rows_per_hexagon(tmp_path):
    """A single lu_k column and two rows of one hexagon crashed (a read-only view from pandas)."""
    p = write(tmp_path, "r.csv", "receptor_id,habitat,lu_1\n4439600,a,100\n4439600,b,100\n"
                                 "4441130,a,100\n4441130,b,\n")
    with pytest.raises(MultipleInputErrors) as e:
        read_receptor_file(p)
    (err,) = e.value.errors
    assert err.row == 4 and "de rijen 4, 5 liggen in dezelfde hexagon 4441130" in str(err)
    ok = write(tmp_path, "ok.csv", "receptor_id,habitat,lu_1\n4439600,a,100\n4439600,b,100\n")
    assert collapse_receptors(read_receptor_file(ok))["lu_1"].tolist() == [100]


@pytest.mark.parametrize("total, refused", [(98.9, True), (99.0, False), (101.0, False), (101.1, True)])
def test_percentages_sum_to_100_within_one(tmp_path, total, refused):
    p = write(tmp_path, "r.csv", f"receptor_id,lu_1,lu_4\n4439600,{total - 50:g},50\n")
    if refused:
        with pytest.raises(MultipleInputErrors):
            read_receptor_file(p)
    else:
        assert read_receptor_file(p)["lu_4"].tolist() == [50]


def test_z0_of_10_m_is_the_largest_accepted(tmp_path):
    assert read_receptor_file(write(tmp_path, "a.csv", "receptor_id,z0_m\n4439600,10\n"))["z0_m"].tolist() == [10]
    with pytest.raises(MultipleInputErrors):
        read_receptor_file(write(tmp_path, "b.csv", "receptor_id,z0_m\n4439600,10.01\n"))


def test_calc_and_deposition_read_one_file_alike(tmp_path):
    """LU_1 / LU_6 in capitals: calc read them, deposition refused them ('onbekende kolom')."""
    src = EXAMPLES / "sources.csv"
    out = {}
    for name, head in (("a", "lu_1,lu_6"), ("b", "LU_1,LU_6")):
        rec = write(tmp_path, f"{name}.csv", f"receptor_id,x,y,{head}\nA,172508.78,457501.93,50,50\n")
        res = CliRunner().invoke(main, ["deposition", str(src), str(rec), "-o", str(tmp_path / f"o{name}.csv")])
        assert res.exit_code == 0, res.output
        out[name] = pd.read_csv(tmp_path / f"o{name}.csv")["deposition_total_mol_ha_yr"].to_numpy()
    np.testing.assert_array_equal(out["a"], out["b"])


def test_uniform_envelope_never_prunes_a_receptor_with_its_own_land_use(monkeypatch):
    """Without the receptor-surface factor in the envelope (uniform terrain) the bound knows only
    grass: a receptor with its own land use gets no finite bound, so it is always evaluated."""
    import stikstofcalc.assessment.core as core

    tp = build_templates([(f"POINT ({SX!r} {SY!r})", 2.5, 0.0, 1.3)])
    monkeypatch.setattr(core, "engine_terrain", lambda: "uniform")
    env = core.envelope_many([tp])[0]
    assert env.rcp_log is None
    x, y = np.array([SX + 500.0, SX + 800.0, SX + 900.0]), np.array([SY, SY, SY])
    pct = np.full((3, 9), np.nan)
    pct[2] = [50, 0, 0, 50, 0, 0, 0, 0, 0]
    b = upper_bounds(tp, x, y, env, (np.full(3, np.nan), np.array([0, 4, 0]), pct))
    assert np.isfinite(b[:, 0]).all() and b[:, 0].max() < 1e30
    assert (b[:, 1:] == 1e30).all()
