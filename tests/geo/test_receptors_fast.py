"""Compiled receptor selection (numba) == the numpy reference, exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stikstofcalc.geo import receptors
from stikstofcalc.geo.receptors import default_receptors, distance_to_sources



def _numpy_only(monkeypatch):
    monkeypatch.setattr(receptors, "_kernels", lambda: None)


def _random_sources(rng, n, *, segments=True):
    x = rng.uniform(20_000, 270_000, 1) + rng.normal(0, 300, n)
    y = rng.uniform(310_000, 600_000, 1) + rng.normal(0, 300, n)
    if not segments:
        return x, y, None, None
    xe = x + rng.normal(0, 1_500, n)
    ye = y + rng.normal(0, 1_500, n)
    point = rng.random(n) < 0.4
    xe[point], ye[point] = np.nan, np.nan
    if n > 2:  # a duplicate and a zero-length segment
        x[1], y[1], xe[1], ye[1] = x[0], y[0], xe[0], ye[0]
        xe[2], ye[2] = x[2], y[2]
    return x, y, xe, ye


@pytest.mark.parametrize("seed", range(12))
def test_distance_to_sources_same_numbers(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    sx, sy, ex, ey = _random_sources(rng, int(rng.integers(1, 9)), segments=seed % 3 != 0)
    rx = sx[0] + rng.uniform(-30_000, 30_000, 5_000)
    ry = sy[0] + rng.uniform(-30_000, 30_000, 5_000)
    max_d = [np.inf, 25_000.0, 500.0][seed % 3]
    got = distance_to_sources(rx, ry, sx, sy, ex, ey, max_distance_m=max_d)
    _numpy_only(monkeypatch)
    want = distance_to_sources(rx, ry, sx, sy, ex, ey, max_distance_m=max_d, chunk_pairs=7_000)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", range(16))
def test_default_receptors_same_frame(seed, monkeypatch):
    rng = np.random.default_rng(100 + seed)
    sx, sy, ex, ey = _random_sources(rng, int(rng.integers(1, 6)), segments=seed % 4 != 0)
    radius = [25_000.0, 25_000.0, 3_000.0, 40_000.0][seed % 4]
    sensitive = seed % 5 != 0
    got = default_receptors(sx, sy, ex, ey, radius_m=radius, nitrogen_sensitive_only=sensitive)
    _numpy_only(monkeypatch)
    want = default_receptors(sx, sy, ex, ey, radius_m=radius, nitrogen_sensitive_only=sensitive)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.attrs == want.attrs


def test_default_receptors_edges(monkeypatch):
    cases = [((121_000.0,), (487_500.0,), None, None, 300.0),  # none within the radius
             ((13_000.0,), (306_000.0,), None, None, 25_000.0),  # south-west corner of the grid
             ((278_000.0,), (612_000.0,), None, None, 25_000.0),  # north-east
             ((150_000.0, 150_000.0), (440_000.0, 440_000.0), (170_000.0, np.nan),
              (440_000.0, np.nan), 10_000.0)]
    got = [default_receptors(*c[:4], radius_m=c[4]) for c in cases]
    _numpy_only(monkeypatch)
    for g, c in zip(got, cases):
        want = default_receptors(*c[:4], radius_m=c[4])
        pd.testing.assert_frame_equal(g, want, check_exact=True)


def test_default_receptor_arrays_are_the_frame():
    for args in (((161_750.0,), (470_200.0,), (163_000.0,), (471_000.0,)), ((121_000.0,), (487_500.0,), None, None)):
        frame = default_receptors(*args)
        arrays = receptors.default_receptor_arrays(*args)
        assert arrays.pop("notes") == frame.attrs["notes"]
        assert list(arrays) == list(frame.columns)
        for k, v in arrays.items():
            assert v.tolist() == frame[k].tolist() and len(v) == len(frame)
            if k != "area_name":
                assert v.dtype == frame[k].dtype
