"""Maps: rendered files, pixel sizes, and plotted values equal to the computed ones.

The deposition map is checked against the assessment (largest value and where) and
against a direct engine call with the real emissions of each phase-year (rtol 1e-9);
the headroom grid against ``assess_project`` on the project moved to candidate sites.
"""

from __future__ import annotations

import copy
import sys

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("matplotlib")
from PIL import Image  # noqa: E402 (installed with matplotlib)

from stikstofcalc.maps import draw as maps  # noqa: E402
from stikstofcalc.assessment.core import assess_project  # noqa: E402
from stikstofcalc.cli.main import main  # noqa: E402
from stikstofcalc.geo.receptors import HEXAGON_AREA_M2, HEXAGON_RADIUS_M, hexagon_vertices, xy_to_receptor_id

DORP = "examples/dorp_kleine_uitbreiding.toml"
DPI = 40  # small files, same layout


@pytest.fixture(scope="module")
def dorp():
    a = assess_project(DORP, measures=False)
    return a, maps.deposition_maps(DORP, a)


def _artist(fig, gid):
    found = [c for ax in fig.axes for c in ax.get_children() if c.get_gid() == gid]
    assert found, gid
    return found[0]


def _direct_deposition(m):
    """The phase-year's deposition by one engine call with its real emissions (no templates x W)."""
    from stikstofcalc.assessment.sites import project_templates
    from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays

    project, _, plan, keys, templates = project_templates(DORP, None)
    rows = np.flatnonzero((plan["phase"] == m.phase).to_numpy() & (plan["year"] == m.year).to_numpy())
    tidx = templates.index([keys[i] for i in rows])
    e = templates.elementary
    parts = []
    for r, t in zip(rows, tidx):
        k = np.flatnonzero(e.parent == t)
        parts.append((k, plan["nox_kg_per_yr"].iloc[r], plan["nh3_kg_per_yr"].iloc[r]))
    k = np.concatenate([p[0] for p in parts])
    nox = np.concatenate([e.weight[p[0]] * p[1] for p in parts])
    nh3 = np.concatenate([e.weight[p[0]] * p[2] for p in parts])
    t = e.parent[k]
    src = SourceArrays(x=e.x[k], y=e.y[k], height_m=templates.height_m[t], heat_mw=templates.heat_mw[t],
                       nox_kg_yr=nox, nh3_kg_yr=nh3, spread_m=templates.spread_m[t],
                       area_side_m=e.area_side_m[k], x_end=e.x_end[k], y_end=e.y_end[k])
    return deposition_arrays(src, ReceptorArrays(x=m.x, y=m.y)).total


def test_hexagons_match_the_aerius_grid():
    """Drawn hexagons are 1 ha, flat-topped, and tile the grid of receptors.py."""
    rid = np.array([1, 4706906, 4510085, 4510085 + 1529])
    v = hexagon_vertices(rid)
    x, y = v[..., 0], v[..., 1]
    cx, cy = x.mean(axis=1), y.mean(axis=1)
    u, w = x - cx[:, None], y - cy[:, None]  # relative: no cancellation at RD magnitudes
    area = 0.5 * np.abs((u * np.roll(w, -1, 1) - np.roll(u, -1, 1) * w).sum(axis=1))
    np.testing.assert_allclose(area, HEXAGON_AREA_M2, rtol=1e-9)
    inner = xy_to_receptor_id(cx[:, None] + 0.99 * (x - cx[:, None]), cy[:, None] + 0.99 * (y - cy[:, None]))
    assert (inner == rid[:, None]).all()
    np.testing.assert_allclose(y[:, 0], cy)  # a corner due east of the centre: flat top
    np.testing.assert_allclose(np.hypot(x - cx[:, None], y - cy[:, None]), HEXAGON_RADIUS_M)


def test_map_maximum_equals_the_assessment(dorp):
    a, ms = dorp
    assert [(m.phase, m.year) for m in ms] == [(r["phase"], r["year"]) for r in a.results]
    for m, r in zip(ms, a.results):
        assert m.max_deposition == pytest.approx(r["max_deposition"], rel=1e-9)
        assert m.max_receptor_id == r["receptor_id"]
        assert (round(m.max_x, 2), round(m.max_y, 2)) == (r["x"], r["y"])
        assert m.n_hexagons_above == r["n_hexagons_above"]
        ext = m.extent
        assert ext[0] < m.max_x < ext[1] and ext[2] < m.max_y < ext[3]


def test_deposition_map_file_and_plotted_values(dorp, tmp_path):
    a, ms = dorp
    m = ms[0]
    fig = maps.plot_deposition_map(m, dpi=DPI)
    out = maps.save_figure(fig, tmp_path / "kaart.png", DPI)
    assert out.exists()
    w, h = Image.open(out).size  # figsize x dpi, truncated as matplotlib does
    assert (w, h) == (int(maps.A4_LANDSCAPE_IN[0] * DPI), int(maps.A4_LANDSCAPE_IN[1] * DPI))

    hexes = _artist(fig, "deposition")
    np.testing.assert_array_equal(hexes.get_array(), m.deposition)
    # hexagons with a source inside show the sub-receptor average (issue 12), the rest the centre
    from stikstofcalc.assessment.core import near_source_hexagons

    from stikstofcalc.assessment.sites import project_templates

    far = ~near_source_hexagons(project_templates(DORP, None)[4], m.x, m.y)
    assert far.sum() > 0.9 * far.size
    np.testing.assert_allclose(np.asarray(hexes.get_array())[far], _direct_deposition(m)[far],
                               rtol=1e-9, atol=1e-15)
    assert len(hexes.get_paths()) == m.receptor_id.size
    assert hexes.norm(m.threshold) != hexes.norm(m.threshold * 0.999)  # a class boundary

    star = _artist(fig, "maximum")
    r = a.results[0]
    assert (round(float(star.get_xdata()[0]), 2), round(float(star.get_ydata()[0]), 2)) == (r["x"], r["y"])

    edges = np.asarray(_artist(fig, "threshold").get_segments())
    assert len(edges) > 0
    np.testing.assert_allclose(np.hypot(*(edges[:, 1] - edges[:, 0]).T), HEXAGON_RADIUS_M, rtol=1e-9)
    # each contour edge separates a hexagon >= threshold from one below it
    mid = edges.mean(axis=1)
    normal = (edges[:, 1] - edges[:, 0])[:, ::-1] * np.array([1, -1]) / HEXAGON_RADIUS_M
    dep = dict(zip(m.receptor_id.tolist(), m.deposition))
    side = [[dep.get(int(i), np.nan) for i in xy_to_receptor_id(*(mid + s * 5 * normal).T)] for s in (1, -1)]
    lo, hi = np.fmin(*side), np.fmax(*side)
    assert (hi >= m.threshold).all() and (lo < m.threshold).all()

    for gid in ("natura2000", "scale-bar", "north-arrow"):
        _artist(fig, gid)
    texts = " ".join(t.get_text() for t in fig.texts)
    assert m.case in texts and f"{m.phase_label} {m.year}" in texts
    assert "CC BY 4.0" in texts and "mol N/ha/jr" in texts
    assert "ruwheidskaart" in texts and "CC BY-SA 4.0" in texts  # the terrain computed with, and its licence


def _moved(dx, dy):
    """The Dorpsrand project moved by (dx, dy) through its own file format."""
    from stikstofcalc.emissions.project import parse_project, read_project

    p = read_project(DORP)
    raw = copy.deepcopy(p.raw)
    raw["location"]["x"] = p.location.x + dx
    raw["location"]["y"] = p.location.y + dy
    return parse_project(raw, file=p.file)


def test_headroom_grid_equals_threshold_over_moved_maximum(tmp_path):
    g = maps.headroom_grid(DORP, radius_m=1000.0, step_m=1000.0)
    assert len(g.x) == 5 and g.unit == "woningen" and g.amount == 24
    for k in (0, int(np.argmax(g.dx))):
        a = assess_project(_moved(g.dx[k], g.dy[k]), measures=False)
        worst = max(r["max_deposition"] for r in a.results)
        assert g.factor[k] == pytest.approx(0.005 / worst, rel=1e-9)
        assert g.headroom[k] == pytest.approx(24 * 0.005 / worst, rel=1e-9)
    home = int(np.flatnonzero((g.dx == 0) & (g.dy == 0))[0])
    a0 = assess_project(DORP, measures=False)
    assert g.max_deposition[home].max() == pytest.approx(max(r["max_deposition"] for r in a0.results),
                                                         rel=1e-9)

    fig = maps.plot_headroom_map(g, dpi=DPI)
    out = maps.save_figure(fig, tmp_path / "ruimte.png", DPI)
    assert Image.open(out).size == (int(maps.A4_LANDSCAPE_IN[0] * DPI),
                                    int(maps.A4_LANDSCAPE_IN[1] * DPI))
    np.testing.assert_array_equal(_artist(fig, "headroom").get_array(), g.headroom)
    site = _artist(fig, "project-site")
    assert (site.get_xdata()[0], site.get_ydata()[0]) == g.location


def test_headroom_nox_unit_and_bad_input():
    g = maps.headroom_grid(DORP, radius_m=0.0, step_m=1000.0, unit="nox", phase="realisatie")
    assert g.unit == "kg NOx/jr" and [p for p, _ in g.scenarios] == ["realisatie"]
    nox = g.amount
    assert g.headroom[0] == pytest.approx(0.005 * nox / g.max_deposition[0, 0], rel=1e-12)
    with pytest.raises(maps.InputError):
        maps.headroom_grid(DORP, radius_m=1000.0, step_m=0.0)
    with pytest.raises(maps.InputError):
        maps.headroom_grid(DORP, phase="referentie")


def test_class_bounds_put_the_threshold_on_a_boundary():
    b = maps.class_bounds(0.005, 0.3)
    assert 0.005 in b and b[0] == pytest.approx(0.00005) and b[-1] > 0.3
    assert maps._nl_num(0.00005) == "0,00005" and maps._nl_num(12345.0, 9) == "12.345"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_calc_maps_and_headroom_map(tmp_path):
    r = run("calc", DORP, "--no-measures", "--map", tmp_path / "k.png", "--map-dir", tmp_path / "kaarten")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "k.png").exists()
    assert sorted(p.name for p in (tmp_path / "kaarten").iterdir()) == [
        "Dorpsrand_Oost_24_woningen_gebruik_2028.png", "Dorpsrand_Oost_24_woningen_realisatie_2027.png"]
    r = run("headroom-map", DORP, "-o", tmp_path / "h.png", "--radius", "1km", "--step", "1 km",
            "--csv", tmp_path / "h.csv", "--dpi", 60)
    assert r.exit_code == 0, r.output
    assert Image.open(tmp_path / "h.png").size == (int(11.69 * 60), int(8.27 * 60))
    assert len((tmp_path / "h.csv").read_text().splitlines()) == 6
    r = run("headroom-map", DORP, "-o", tmp_path / "h.png", "--step", "een km")
    assert r.exit_code == 2 and "--step" in r.output


def test_missing_matplotlib_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(maps.MapsUnavailable, match=r"pip install 'stikstofcalc\[maps\]'"):
        maps.require_matplotlib()
    r = run("calc", DORP, "--map", tmp_path / "k.png")
    assert r.exit_code == 2 and "stikstofcalc[maps]" in r.output and "Traceback" not in r.output


def test_batch_map_dir(tmp_path):
    from stikstofcalc.io.excel.template import write_template

    tpl = tmp_path / "zaken.xlsx"
    write_template(tpl)
    r = run("batch", tpl, "-o", tmp_path / "r.xlsx", "--map-dir", tmp_path / "kaarten")
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "kaarten").glob("*.png"))) >= 2
