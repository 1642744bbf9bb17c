"""Throughput and memory of the deposition engine.

A realistic mix of construction-phase sources (60 % points, 25 % square areas of
50-500 m, 15 % straight lines of 100-2000 m; AERIUS default characteristics of
machinery and traffic, random z0) within 10 km of the centre of the Netherlands,
and receptors spread over a 60 x 60 km square around them (so part of the pairs
lies beyond the 25 km cut-off, as in practice).

Prints nominal source-receptor pairs per second (sources x receptors / wall time)
and the peak resident memory of the process. Usage::

    python benchmarks/speed.py [--sources 500] [--receptors 200000] [--method fast|reference] [--terrain map|uniform]

(``--terrain`` applies to ``--method auto``, the default: the user-facing path.)
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays


def make_problem(ns, nr, seed=1):
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, ns, p=[0.6, 0.25, 0.15])
    x = 155000 + rng.uniform(-10000, 10000, ns)
    y = 463000 + rng.uniform(-10000, 10000, ns)
    length = rng.uniform(100, 2000, ns)
    ang = rng.uniform(0, 2 * np.pi, ns)
    src = SourceArrays(
        x=x, y=y, height_m=np.where(kind == 1, rng.uniform(2.5, 10, ns), 2.5),
        heat_mw=np.where(kind == 2, 0.0, 0.035), nox_kg_yr=rng.uniform(10, 2000, ns),
        nh3_kg_yr=rng.uniform(0, 20, ns), spread_m=np.where(kind == 2, 2.5, 1.3) * (kind != 0),
        area_side_m=np.where(kind == 1, rng.uniform(50, 500, ns), 0.0),
        x_end=np.where(kind == 2, x + length * np.sin(ang), np.nan),
        y_end=np.where(kind == 2, y + length * np.cos(ang), np.nan),
        z0_m=rng.uniform(0.05, 1.0, ns))
    rcp = ReceptorArrays(x=155000 + rng.uniform(-30000, 30000, nr),
                         y=463000 + rng.uniform(-30000, 30000, nr),
                         landuse=rng.integers(1, 10, nr))
    return src, rcp


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=500)
    ap.add_argument("--receptors", type=int, default=200_000)
    ap.add_argument("--method", default="auto")
    ap.add_argument("--terrain", default="map", choices=["map", "uniform"])
    args = ap.parse_args(argv)
    src, rcp = make_problem(args.sources, args.receptors)
    from stikstofcalc.deposition.engine import evaluate

    small_s, small_r = make_problem(5, 100)
    evaluate(small_s, small_r, cutoff_m=25000.0, allow_extrapolation=False,
             chunk_pairs=4_000_000, method=args.method)  # compile / warm up
    t0 = time.perf_counter()
    c0 = time.process_time()
    if args.method == "auto":
        res = deposition_arrays(src, rcp, terrain=args.terrain)
    else:
        res = evaluate(src, rcp, cutoff_m=25000.0, allow_extrapolation=False,
                       chunk_pairs=4_000_000, method=args.method)
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    pairs = args.sources * args.receptors
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.sources} sources x {args.receptors} receptors = {pairs / 1e6:.0f} M pairs "
          f"in {dt:.2f} s: {pairs / dt / 1e6:.1f} M pairs/s ({args.method}, terrain {args.terrain}); "
          f"peak RSS {rss:.0f} MB; max total deposition {res.total.max():.3g} mol N/ha/yr")
    # CPU seconds over all threads: on a shared machine the wall time varies with the
    # load, the CPU figure much less (it is the throughput per core)
    print(f"CPU time {cpu:.2f} s over {numba_threads()} thread(s): "
          f"{pairs / cpu / 1e6:.1f} M pairs per CPU second")


def numba_threads():
    try:
        import numba

        return numba.get_num_threads()
    except ImportError:  # pragma: no cover
        return 1


if __name__ == "__main__":
    main()
