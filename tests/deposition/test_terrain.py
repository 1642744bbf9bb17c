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
