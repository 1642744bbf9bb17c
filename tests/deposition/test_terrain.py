"""Terrain lookups of the deposition engine (the shipped 250 m roughness map)."""

from __future__ import annotations

import numpy as np

from stikstofcalc.deposition import terrain


def _disk_range_brute(x, y, ex, radii):
    """Min / max map ln z0 over the cells whose centre lies within radius + extra + both
    half diagonals of the point's cell centre (the own cell always), by direct search."""
    g = terrain.load_grid()
    r0, c0 = terrain.cell_index(g, x, y)
    half = g.cell / np.sqrt(2.0)
    k = int(np.ceil((radii[-1] + ex + 2 * half) / g.cell)) + 1
    dr, dc = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1), indexing="ij")
    dist = np.hypot(dr, dc) * g.cell - 2 * half
    v = g.lnz0[np.clip(r0 + dr, 0, g.shape[0] - 1), np.clip(c0 + dc, 0, g.shape[1] - 1)]
    lo = [v[(dist <= r + ex) | ((dr == 0) & (dc == 0))].min() for r in radii]
    hi = [v[(dist <= r + ex) | ((dr == 0) & (dc == 0))].max() for r in radii]
    return np.array(lo), np.array(hi)


def test_disk_range_equals_direct_search():
    rng = np.random.default_rng(7)
    # inside the map, near its edges and beyond them (edge cells), with line/square extras
    x = np.concatenate([rng.uniform(0, 300e3, 12), [-50e3, 340e3, 120e3, 120e3]])
    y = np.concatenate([rng.uniform(300e3, 620e3, 12), [450e3, 450e3, 230e3, 680e3]])
    ex = rng.choice([0.0, 50.0, 353.6], x.shape[0])
    radii = np.array([0.0, 20.0, 240.0, 700.0, 2500.0, 8000.0])
    lo, hi = terrain.disk_lnz0_range(x, y, ex, radii)
    assert lo.shape == hi.shape == (x.shape[0], radii.shape[0])
    for i in range(x.shape[0]):
        blo, bhi = _disk_range_brute(x[i], y[i], ex[i], radii)
        np.testing.assert_array_equal(lo[i], blo)
        np.testing.assert_array_equal(hi[i], bhi)
    # nested disks: the range only widens with the radius
    assert (np.diff(lo, axis=1) <= 0).all() and (np.diff(hi, axis=1) >= 0).all()


def test_regional_field_compiled_equals_numpy_and_the_per_type_remap(monkeypatch):
    """The regional field (A12) of sources of many heights and heats: the compiled sums,
    the numpy sums and a direct computation (bilinear field of the source's own type,
    remapped, then the location weights) agree to rounding; the last is how the field
    was computed before the node fields were remapped once."""
    from stikstofcalc import compiled
    from stikstofcalc.deposition import model as M

    m, tm = M.load_model(), M.load_terrain_model()
    rng = np.random.default_rng(5)
    n = 40
    h = np.concatenate([[0.5, 1.0, 2.5, 25.0, 60.0], rng.uniform(0.5, 40.0, n - 5)])
    hc = np.concatenate([[0.0, 0.035, 0.3, 2.0, 0.0], rng.uniform(0.0, 1.5, n - 5)])
    x, y = rng.uniform(20_000, 280_000, n), rng.uniform(300_000, 620_000, n)
    for s in (0, 1):
        fast = M.region_map_logratio(m, tm, s, h, hc, x, y)
        monkeypatch.setenv(compiled.ENV, "1")
        ref = M.region_map_logratio(m, tm, s, h, hc, x, y)
        monkeypatch.delenv(compiled.ENV)
        np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-12)
        w = M.region_weights(tm, x, y)
        ih, th = M._clamped_axis(np.log(tm.RG_H), np.log(h))
        ic, tc = M._clamped_axis(tm.RG_HC ** M.HEAT_EXPONENT, hc ** M.HEAT_EXPONENT)
        G = tm.RG[:, s]
        for k in range(n):
            i0, c0, a, b = int(ih[k]), int(ic[k]), th[k], tc[k]
            Gk = ((1 - a) * ((1 - b) * G[:, i0, c0] + b * G[:, i0, c0 + 1])
                  + a * ((1 - b) * G[:, i0 + 1, c0] + b * G[:, i0 + 1, c0 + 1]))
            want = np.tensordot(w[k], M._remap_rings_bearings(tm, m, Gk), axes=1)
            np.testing.assert_allclose(fast[k], want, rtol=0, atol=1e-12)
    assert np.ptp(fast[:, 0, 10, 0]) > 0.01  # the sources' fields differ: the test can fail


def test_receptor_surface_compiled_equals_numpy(monkeypatch):
    """The compiled 6.25 ha average equals the numpy one bitwise, inside the map, at its
    edges, outside it (clamped to the edge cells) and for a NaN coordinate."""
    from stikstofcalc import compiled
    from stikstofcalc.deposition import terrain as T

    rng = np.random.default_rng(11)
    g = T.load_grid()
    x = np.concatenate([rng.uniform(0, 300_000, 5000), [g.x_ul, g.x_ul - 1e6, 1e12, np.nan, 155_000.0]])
    y = np.concatenate([rng.uniform(290_000, 640_000, 5000), [g.y_ul, 463_000.0, 463_000.0, 463_000.0, np.inf]])
    fast = T.receptor_surface(x, y)
    monkeypatch.setenv(compiled.ENV, "1")
    with np.errstate(invalid="ignore"):  # inf - inf for the point at y = inf
        ref = T.receptor_surface(x, y)
    for a, b in zip(fast, ref):
        assert np.array_equal(a, b, equal_nan=True)
    assert np.ptp(fast[0][:5000]) > 0.5 and 0 < fast[1][:5000].mean() < 1  # real terrain: can fail
    # a scalar point keeps its shape
    monkeypatch.delenv(compiled.ENV)
    z, w = T.receptor_surface(155_000.0, 463_000.0)
    za, wa = T.receptor_surface(np.array([155_000.0]), np.array([463_000.0]))
    assert np.shape(z) == () and z == za[0] and w == wa[0]


def test_receptor_terms_without_percentages_equal_the_general_build():
    """The kernel's receptor arrays with the map and without land-use percentages (given
    classes, given z0, map grass and water shares, a permutation) equal the general
    build from the (n, 9) table exactly."""
    from stikstofcalc.deposition import terrain as T
    from stikstofcalc.deposition.core import ReceptorArrays

    rng = np.random.default_rng(12)
    n = 4000
    x, y = rng.uniform(20_000, 280_000, n), rng.uniform(300_000, 620_000, n)
    x[:300], y[:300] = rng.uniform(105_000, 120_000, 300), rng.uniform(545_000, 560_000, 300)  # IJsselmeer coast
    lu = np.where(rng.random(n) < 0.3, rng.integers(1, 10, n), 0)
    z0 = np.where(rng.random(n) < 0.2, rng.uniform(0.02, 1.5, n), np.nan)
    perm = rng.permutation(n)
    for rec in (ReceptorArrays(x=x, y=y, landuse=lu), ReceptorArrays(x=x, y=y, landuse=lu, z0_m=z0)):
        for p in (slice(None), perm):
            got = T._receptor_terms_classes(rec, "hexagon", p)
            want = T._receptor_terms_general(rec, "map", "hexagon", p)
            for a, b in zip(got, want):
                assert a.dtype == b.dtype and np.array_equal(a, b)
    ptr, cc, ww, rz, rj = got
    assert (np.diff(ptr) == 2).sum() > 10 and set(cc) >= {0, 5}  # mixed grass/water hexagons: can fail
