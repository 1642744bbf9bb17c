"""End-to-end speed of ``assess_project`` (what ``stikstofcalc calc`` does, without printing).

One project end to end: project file -> emissions (plan and the four standard measures)
-> source templates -> receptors -> pruned deposition search -> verdicts, headroom,
effect distances. Prints the import time and the first project after import (cold: the
first project pays pint's registry, numba's start-up and the compiled kernel loaded
from numba's cache, and the key-figure validation), measured in ``--cold`` fresh
processes because one cold sample on a shared machine is noisy; then, per example, the
median of repeated runs in this process (warm). Never fails on timing. Usage::

    python benchmarks/calc_speed.py [--repeat 5] [--cold 5] [PROJECT.toml ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def cold(project: Path) -> dict:
    """Import, then the first project, in this (fresh) process [s]."""
    t0 = time.perf_counter()
    from stikstofcalc.assessment.core import assess_project

    t1 = time.perf_counter()
    a = assess_project(project)
    t2 = time.perf_counter()
    return {"import": t1 - t0, "first": t2 - t1, "case": a.case}


def cold_in_fresh_processes(project: Path, n: int) -> list[dict]:
    runs = []
    for _ in range(n):
        out = subprocess.run([sys.executable, __file__, "--child", str(project)],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("projects", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=5, help="warm runs per project")
    ap.add_argument("--cold", type=int, default=5, help="fresh processes for the cold figure")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    projects = args.projects or sorted(EXAMPLES.glob("*.toml"))
    if args.child:
        print(json.dumps(cold(projects[0])))
        return

    runs = cold_in_fresh_processes(projects[0], args.cold)
    imp = [r["import"] for r in runs]
    first = [r["first"] for r in runs]
    print(f"import stikstofcalc.assessment.core: median {statistics.median(imp):.2f} s "
          f"(min {min(imp):.2f}, max {max(imp):.2f}; {len(runs)} fresh processes)")
    print(f"first project after import (cold): median {statistics.median(first):.2f} s "
          f"(min {min(first):.2f}, max {max(first):.2f})  [{runs[0]['case']}]")

    from stikstofcalc.assessment.core import assess_project

    print(f"{'project':<42}{'median s':>10}{'max s':>8}{'hexagons':>10}{'evaluated':>11}")
    for path in projects:
        assess_project(path)  # warm-up: this table is the warm figure
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            a = assess_project(path)
            times.append(time.perf_counter() - t0)
        print(f"{path.stem:<42}{statistics.median(times):>10.3f}{max(times):>8.3f}"
              f"{a.receptors['count']:>10}{a.receptors['evaluated']:>11}")


if __name__ == "__main__":
    main()
