"""Batch speed: N realistic cases, workbook -> results workbook, time per stage and peak memory.

    python benchmarks/batch_speed.py                  # 10,000 cases (the issue's target: <= 60 s)
    python benchmarks/batch_speed.py --cases 500 --jobs 2

The results workbook is written while the workers compute (``run_batch(..., output=)``):
"after last" is the time from the last chunk's return to the finished file.

Cases: mixed sizes (70 % small housing 5-60 homes, 20 % larger housing 60-400 homes in
two components, 10 % non-residential 1,000-30,000 m2 with demolition), locations drawn
uniformly over Dutch land (``sources.in_netherlands``), start 2026-2029, 6-30 months,
one access route of 0.3-3 km. Seeded, so runs are comparable. Prints the stages
(read, validate, emissions, deposition, write), the wall time, the CPU time and peak memory of
this process (RSS high-water mark; worker processes are reported separately) and the
extrapolation to 10,000 cases. Never fails on timing.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path


from stikstofcalc.batch.synthetic import make_cases, write_workbook


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args(argv)

    from stikstofcalc.batch.run import run_batch

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "cases.xlsx", Path(tmp) / "results.xlsx"
        t = time.perf_counter()
        cases, extra = make_cases(args.cases)
        write_workbook(src, cases, extra)
        print(f"input: {args.cases} cases ({len(extra)} extra components), "
              f"{src.stat().st_size / 1e6:.1f} MB, made in {time.perf_counter() - t:.1f} s")
        last = [None]

        def progress(done=0, *, total=None):  # the time the last chunk came back
            if total is None:
                last[0] = time.perf_counter()

        k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        kids0 = k0.ru_utime + k0.ru_stime
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        res = run_batch(src, jobs=args.jobs, output=out, progress=progress)  # writes while computing
        t2 = time.perf_counter()
        cpu = time.process_time() - cpu0
        tm = res.timings
        tail = t2 - (last[0] or t0)
        print(f"read        {tm['read_s']:8.2f} s")
        print(f"validate    {tm['validate_s']:8.2f} s  (this process, overlapped with compute)")
        print(f"compute     {tm['compute_wall_s']:8.2f} s wall, first chunk sent to last received "
              f"(CPU in workers: emissions {tm['emissions_s']:.1f} s, deposition/assessment "
              f"{tm['deposition_s']:.1f} s)")
        print(f"write rows  {tm.get('write_rows_s', 0.0):8.2f} s  (this process, per chunk, overlapped)")
        print(f"after last  {tail:8.2f} s  (small sheets, copy of the spooled rows; "
              f"{out.stat().st_size / 1e6:.1f} MB)")
        total = t2 - t0
        print(f"total       {total:8.2f} s  = {1e3 * total / max(args.cases, 1):.1f} ms/case; "
              f"10,000 cases ~ {total / max(args.cases, 1) * 1e4:.0f} s")
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        kids_cpu = kids.ru_utime + kids.ru_stime - kids0
        print(f"main process CPU {cpu:.1f} s (read, validate, write); worker processes CPU "
              f"{kids_cpu:.1f} s; together {(cpu + kids_cpu) / total:.2f} cores busy on average")
        self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kids_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory: main process {self_mb:.0f} MB, largest worker {kids_mb:.0f} MB")
        print(res.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
