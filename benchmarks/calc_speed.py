"""End-to-end speed of ``assess_project`` (what ``stikstofcalc calc`` does, without printing).

One project end to end: project file -> emissions (plan and the four standard measures)
-> source templates -> receptors -> pruned deposition search -> verdicts, headroom,
effect distances. Prints the import time, the first project after import (cold: key
figures validated, compiled kernel loaded from numba's cache) and, per example, the
median of repeated runs (warm). Never fails on timing. Usage::

    python benchmarks/calc_speed.py [--repeat 5] [PROJECT.toml ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("projects", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    projects = args.projects or sorted(EXAMPLES.glob("*.toml"))

    t0 = time.perf_counter()
    from stikstofcalc.assessment import assess_project

    print(f"import stikstofcalc.assessment: {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    first = assess_project(projects[0])
    print(f"first project after import (cold): {time.perf_counter() - t0:.2f} s  [{first.case}]")
    print(f"{'project':<42}{'median s':>10}{'max s':>8}{'hexagons':>10}{'evaluated':>11}")
    for path in projects:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            a = assess_project(path)
            times.append(time.perf_counter() - t0)
        print(f"{path.stem:<42}{statistics.median(times):>10.3f}{max(times):>8.3f}"
              f"{a.receptors['count']:>10}{a.receptors['evaluated']:>11}")


if __name__ == "__main__":
    main()
