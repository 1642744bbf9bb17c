"""The project moved over sites (assessment.sites): the all-sites-at-once near-source average
equals the assessment's own per-site sub-receptor average (issue 12 rule), site by site."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from stikstofcalc.assessment.core import _unit_deposition_centres as centres
from stikstofcalc.assessment.core import near_source_average, near_source_hexagons
from stikstofcalc.assessment.sites import translated_sources, unit_pairs
from stikstofcalc.capacity import PlanWeights, load_plan_type
from stikstofcalc.geo.geometry import Elementary
from stikstofcalc.geo.receptors import default_receptors


@pytest.fixture(scope="module")
def setup():
    pw = PlanWeights(load_plan_type("grondgebonden"))
    tp = pw.templates
    x0, y0 = pw.project.location.x, pw.project.location.y
    # sites inside and next to the Veluwe, so that some hexagons have a source inside
    xs = np.array([186000.0, 186120.0, 190000.0, 172500.0])
    ys = np.array([455000.0, 455060.0, 460000.0, 452500.0])
    rec = default_receptors(xs, ys, radius_m=400.0)
    hx, hy = rec["x"].to_numpy(float), rec["y"].to_numpy(float)
    d = np.hypot(hx[None, :] - xs[:, None], hy[None, :] - ys[:, None])
    ci, hi = np.nonzero(d <= 400.0)
    return tp, xs - x0, ys - y0, hx, hy, ci, hi


def test_vectorised_near_source_pairs_equal_the_per_site_average(setup):
    tp, dx, dy, hx, hy, ci, hi = setup
    moved = translated_sources(tp, dx, dy)
    got = unit_pairs(tp, moved, hx, hy, ci, hi)
    x, y, xe, ye, t, c = moved
    e = tp.elementary
    n_near = 0
    for site in np.unique(ci):  # the reference: one templates object per site, absolute positions
        pick = np.flatnonzero(ci == site)
        mine = c == site
        el = Elementary(x=x[mine], y=y[mine], area_side_m=e.area_side_m, x_end=xe[mine], y_end=ye[mine],
                        weight=e.weight, parent=t[mine])
        shift = np.array([x[mine][0] - e.x[0], y[mine][0] - e.y[0]] * 2)
        ts = replace(tp, elementary=el, bbox=tp.bbox + shift)
        u = centres(ts, hx[hi[pick]], hy[hi[pick]])
        want = near_source_average(ts, hx[hi[pick]], hy[hi[pick]], u)
        n_near += int(near_source_hexagons(ts, hx[hi[pick]], hy[hi[pick]]).sum())
        np.testing.assert_allclose(got[:, pick], want, rtol=1e-12, atol=0)
    assert n_near >= 2  # the test covers hexagons with a source inside


def test_region_field_of_a_source_does_not_depend_on_the_other_sources_in_the_call():
    # bitwise: a Dask worker (one BLAS thread, other chunk sizes) must give the local values
    from stikstofcalc.deposition.model import load_model, load_terrain_model, region_map_logratio

    m, tm = load_model(), load_terrain_model()
    rng = np.random.default_rng(1)
    n = 600
    h, hc = rng.choice([1.5, 3.0, 10.0], n), rng.choice([0.0, 0.02], n)
    x, y = rng.uniform(150000, 220000, n), rng.uniform(420000, 490000, n)
    big = region_map_logratio(m, tm, 0, h, hc, x, y)
    for i in (0, 17, 599):
        one = region_map_logratio(m, tm, 0, h[i:i + 1], hc[i:i + 1], x[i:i + 1], y[i:i + 1])
        assert np.array_equal(one[0], big[i])


def test_unit_pairs_in_blocks_equal_one_call(setup, monkeypatch):
    from stikstofcalc.assessment import sites

    tp, dx, dy, hx, hy, ci, hi = setup
    moved = translated_sources(tp, dx, dy)
    whole = unit_pairs(tp, moved, hx, hy, ci, hi)
    monkeypatch.setattr(sites, "BLOCK_PAIRS", max(1, ci.size // 5))
    np.testing.assert_array_equal(unit_pairs(tp, moved, hx, hy, ci, hi), whole)
