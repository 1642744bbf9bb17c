"""Issue 12 section 2: a hexagon with a source inside (or on its edge) is the average over its
sub-receptors at least 20 m from the source; 100 m away nothing changes."""

from __future__ import annotations

import numpy as np
import pytest

from stikstofcalc.assessment.core import (NEAR_SOURCE_M, SUB_RECEPTOR_MIN_M, _unit_deposition_centres,
    near_source_hexagons, sub_receptor_offsets, unit_deposition, unit_deposition_many)
from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays
from stikstofcalc.io.gpkg import hexagon_centres
from stikstofcalc.emissions.sources import build_templates

#: every test on the numba and on the numpy path (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("engine_path")

HEX = 4439600
CX, CY = (float(v[0]) for v in hexagon_centres([HEX]))


def _templates(x, y):
    return build_templates([(f"POINT ({float(x)!r} {float(y)!r})", 2.5, 0.0, 1.3)])


def _direct(x, y, px, py):
    """1 kg/yr NOx + 1 kg/yr NH3 of a point source, straight from the engine."""
    r = deposition_arrays(SourceArrays(x=[x], y=[y], height_m=[2.5], heat_mw=[0.0], nox_kg_yr=[1.0],
                                       nh3_kg_yr=[1.0], spread_m=[1.3]), ReceptorArrays(x=px, y=py))
    return r.nox, r.nh3


def test_sub_receptors_fill_the_hexagon():
    off = sub_receptor_offsets()
    assert off.shape[0] > 30
    r = np.hypot(off[:, 0], off[:, 1])
    assert r.max() <= NEAR_SOURCE_M + 1e-6
    assert abs(off[:, 0].mean()) < 1e-9 and abs(off[:, 1].mean()) < 1e-9  # symmetric


@pytest.mark.parametrize("dx, dy", [(0.0, 0.0), (0.0, float(NEAR_SOURCE_M * np.sqrt(3) / 2))],
                         ids=["inside (centre)", "on the edge"])
def test_source_inside_or_on_edge_averages_sub_receptors(dx, dy):
    sx, sy = CX + dx, CY + dy
    tp = _templates(sx, sy)
    u = unit_deposition(tp, [CX], [CY])
    off = sub_receptor_offsets()
    px, py = CX + off[:, 0], CY + off[:, 1]
    keep = np.hypot(px - sx, py - sy) >= SUB_RECEPTOR_MIN_M
    assert 0 < keep.sum() < len(keep)
    nox, nh3 = _direct(sx, sy, px[keep], py[keep])
    np.testing.assert_allclose(u[:, 0], [nox.mean(), nh3.mean()], rtol=1e-9)
    centre = _unit_deposition_centres(tp, [CX], [CY])
    assert not np.allclose(u, centre, rtol=1e-3)  # the 20 m clamp of the centre value is gone
    if dx == dy == 0.0:
        assert (u < centre).all()  # the source at the centre: the clamp overstated it


def test_source_100_m_away_unchanged():
    tp = _templates(CX + 100.0, CY)
    assert not near_source_hexagons(tp, [CX], [CY])[0]
    np.testing.assert_array_equal(unit_deposition(tp, [CX], [CY]), _unit_deposition_centres(tp, [CX], [CY]))


def test_many_equals_one_by_one():
    a, b = _templates(CX, CY), _templates(CX + 300.0, CY + 40.0)
    xs = np.array([CX, CX + 200.0, CX + 300.0])
    ys = np.array([CY, CY, CY + 40.0])
    many = unit_deposition_many([(a, xs, ys), (b, xs, ys)])
    np.testing.assert_allclose(many[0], unit_deposition(a, xs, ys), rtol=1e-12)
    np.testing.assert_allclose(many[1], unit_deposition(b, xs, ys), rtol=1e-12)


def test_area_source_over_the_hexagon_uses_points_20_m_outside():
    # a 300 m square site over the hexagon: no sub-receptor is 20 m from it -> all of them
    wkt = (f"POLYGON (({CX - 150} {CY - 150}, {CX + 150} {CY - 150}, {CX + 150} {CY + 150}, "
           f"{CX - 150} {CY + 150}, {CX - 150} {CY - 150}))")
    tp = build_templates([(wkt, 2.5, 0.0, 1.3)])
    u = unit_deposition(tp, [CX], [CY])
    assert np.isfinite(u).all() and (u > 0).all()



def test_near_hexagons_direct_comparison_equals_the_tree(monkeypatch):
    """With a handful of elements the near-source test compares hexagons with each element
    directly; with the k-d tree (forced) it finds the same hexagons: points, a square and
    a line, hexagons at 0-300 m."""
    import stikstofcalc.assessment.core as C

    tp = build_templates([(f"POINT ({CX!r} {CY!r})", 2.5, 0.0, 1.3),
                          (f"POLYGON (({CX + 500} {CY}, {CX + 600} {CY}, {CX + 600} {CY + 100}, "
                           f"{CX + 500} {CY + 100}, {CX + 500} {CY}))", 2.5, 0.0, 1.3),
                          (f"LINESTRING ({CX - 800} {CY}, {CX - 400} {CY + 300})", 2.5, 0.0, 1.3)])
    rng = np.random.default_rng(4)
    x, y = CX + rng.uniform(-1200, 1000, 20000), CY + rng.uniform(-300, 600, 20000)
    direct = near_source_hexagons(tp, x, y)
    monkeypatch.setattr(C, "_NEAR_BRUTE_ELEMENTS", 0)
    tree = near_source_hexagons(tp, x, y)
    assert np.array_equal(direct, tree)
    assert 100 < direct.sum() < 19000  # both near and far hexagons: the test can fail
