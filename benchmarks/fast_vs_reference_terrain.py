"""Fast (numba) path against the numpy reference path, with the roughness map.

Random sources (points and squares, 0.5-30 m, 0-1 MW) all over the country, each with
receptors at log-uniform distances of 100 m - 25 km in random directions and random land
use; prints median / p95 / p99 / max of |fast/reference - 1| per substance and distance
band, and the worst pairs. The reference path (``STIKSTOFCALC_NUMPY=1``, the switch of
:mod:`stikstofcalc.compiled`) takes about two minutes for the default 30 x 300.

Usage: ``python benchmarks/fast_vs_reference_terrain.py [n_sources] [receptors_per_source]``
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

from stikstofcalc import compiled
from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays


def main(ns: int = 30, nr: int = 300) -> None:
    rng = np.random.default_rng(7)
    cx, cy = rng.uniform(120000, 240000, ns), rng.uniform(380000, 520000, ns)
    square = rng.integers(0, 2, ns) == 1
    src = SourceArrays(x=cx, y=cy, height_m=rng.uniform(0.5, 30, ns),
                       heat_mw=rng.choice([0, 0, 0.02, 0.2, 1.0], ns),
                       nox_kg_yr=np.full(ns, 1000.0), nh3_kg_yr=np.full(ns, 100.0),
                       area_side_m=np.where(square, rng.uniform(20, 500, ns), 0.0), case=np.arange(ns))
    d = np.exp(rng.uniform(np.log(100), np.log(25000), (ns, nr)))
    b = rng.uniform(0, 2 * np.pi, (ns, nr))
    rx, ry = (cx[:, None] + d * np.sin(b)).ravel(), (cy[:, None] + d * np.cos(b)).ravel()
    rec = ReceptorArrays(rx, ry, landuse=rng.integers(1, 10, rx.size), case=np.repeat(np.arange(ns), nr))
    t = time.perf_counter()
    fast = deposition_arrays(src, rec)
    print(f"fast path {time.perf_counter() - t:.1f} s")
    os.environ[compiled.ENV] = "1"
    t = time.perf_counter()
    ref = deposition_arrays(src, rec)
    print(f"numpy reference path {time.perf_counter() - t:.1f} s")
    del os.environ[compiled.ENV]
    dist = d.ravel()
    for name in ("nox", "nh3"):
        a, c = getattr(fast, name), getattr(ref, name)
        ok = c > 0
        e, dd = np.abs(a[ok] / c[ok] - 1), dist[ok]
        print(f"{name}: median {np.median(e):.2%} p95 {np.percentile(e, 95):.2%} "
              f"p99 {np.percentile(e, 99):.2%} max {e.max():.2%}")
        for lo, hi in ((100, 1000), (1000, 5000), (5000, 25001)):
            m = (dd >= lo) & (dd < hi)
            print(f"   {lo:>5}-{hi - 1:>5} m: median {np.median(e[m]):.2%} p95 {np.percentile(e[m], 95):.2%} "
                  f"max {e[m].max():.2%}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
