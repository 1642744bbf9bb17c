"""Capacity search speed: sites per second on a province-sized grid, peak memory, Dask 1 vs 2.

    python benchmarks/capacity_speed.py                      # the full run (~80,000 sites)
    python benchmarks/capacity_speed.py --bbox 160000,435000,185000,460000 --step 500   # quick

1. In this process (the engine uses every core): a 250 m grid over a 70 x 70 km box around
   the Veluwe (Gelderland-sized: 78,400 sites, the hardest kind of region: most sites within
   a few km of nitrogen-sensitive nature). Prints sites/s, the time per stage, the peak
   resident memory (``ru_maxrss``) and the capacity distribution.
2. Dask: the same code path on a LocalCluster of 1 and of 2 single-threaded worker
   processes, on a sub-grid (``--dask-bbox``), with the local result as the reference
   (must be equal).

Timing is wall clock on a machine that may be shared: the numbers say what they measured.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np


def _bbox(text):
    v = [float(p) for p in text.split(",")]
    assert len(v) == 4
    return tuple(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bbox", type=_bbox, default=(150000, 420000, 220000, 490000))
    ap.add_argument("--step", type=float, default=250.0)
    ap.add_argument("--plan-type", default="grondgebonden")
    ap.add_argument("--dask-bbox", type=_bbox, default=(160000, 440000, 175000, 455000))
    ap.add_argument("--dask-step", type=float, default=250.0)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--no-local", action="store_true")
    a = ap.parse_args()

    t0 = time.perf_counter()
    from stikstofcalc.capacity import Progress, compute_capacity, grid_sites, load_plan_type
    from stikstofcalc.capacity.run import _weights_for

    plan = load_plan_type(a.plan_type)
    _weights_for(plan)  # key figures, templates, first compiled-kernel load
    print(f"import + plan type: {time.perf_counter() - t0:.1f} s (cpus: {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f})", flush=True)
    import inspect

    from stikstofcalc.deposition.core import deposition_arrays

    print(f"terrain: {inspect.signature(deposition_arrays).parameters['terrain'].default} "
          "(the engine default: the 250 m roughness map)", flush=True)
    if not a.no_local:
        s = grid_sites(a.bbox, a.step, plan_type=plan.name)
        print(f"grid: {len(s):,} sites ({a.step:g} m over {a.bbox})", flush=True)
        t = time.perf_counter()
        c0 = time.process_time()
        res = compute_capacity(s, plans={plan.name: plan}, progress=Progress(len(s), every=30.0))
        dt, cpu = time.perf_counter() - t, time.process_time() - c0
        f = res.to_frame()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cap = f["capaciteit"]
        print(f"local: {len(s):,} sites in {dt:.1f} s = {len(s) / dt:,.0f} sites/s "
              f"(process CPU {cpu:.0f} s); peak RSS {peak:,.0f} MB", flush=True)
        print(f"  capacity [homes]: 0 at {(cap == 0).mean():.0%} of sites; percentiles 25/50/75/95: "
              f"{np.nanpercentile(cap, [25, 50, 75, 95]).round().tolist()}; at the maximum: "
              f"{int(f['tot_maximum'].sum())}; hexagon pairs evaluated per site (mean) "
              f"{f['hexagons_berekend'].mean():,.0f} of {f['hexagons_binnen_25km'].mean():,.0f} within 25 km; "
              f"sizes probed per site (mean) {f['omvangen_berekend'].mean():.1f}", flush=True)
    if a.no_dask:
        return
    try:
        import dask.distributed as dd
    except ImportError:
        print("dask not installed (pip install 'stikstofcalc[dask]'): Dask part skipped")
        return
    from stikstofcalc.capacity.distributed import local_cluster

    s = grid_sites(a.dask_bbox, a.dask_step, plan_type=plan.name)
    t = time.perf_counter()
    ref = compute_capacity(s, plans={plan.name: plan}).to_frame()
    t_local = time.perf_counter() - t
    print(f"dask sub-grid: {len(s):,} sites; in-process {t_local:.1f} s ({len(s) / t_local:,.0f} sites/s)",
          flush=True)
    times = {}
    for n in (1, 2):
        with local_cluster(n) as cl, dd.Client(cl) as client:
            client.run(lambda: __import__("stikstofcalc.capacity.run").capacity.run._weights_for(plan))
            t = time.perf_counter()
            got = compute_capacity(s, plans={plan.name: plan}, client=client).to_frame()
            times[n] = time.perf_counter() - t
            mem = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        same = got.drop(columns=[]).equals(ref)
        print(f"dask {n} worker(s): {times[n]:.1f} s ({len(s) / times[n]:,.0f} sites/s), equal to local: "
              f"{same}; worker peak RSS {max(mem.values()):,.0f} MB", flush=True)
    print(f"dask speed-up 1 -> 2 workers: {times[1] / times[2]:.2f}x", flush=True)


if __name__ == "__main__":
    sys.exit(main())
