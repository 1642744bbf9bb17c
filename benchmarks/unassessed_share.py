"""How many batch cases the Waddenzee / Noordzeekustzone check touches (docs/assessment.md).

    python benchmarks/unassessed_share.py [--cases 2000] [--jobs 2]

Runs the synthetic cases of ``benchmarks/batch_speed.py`` (locations uniform over Dutch
land, seeded) and prints how many lie within 25 km of the envelope of the two areas the
shipped data lacks (``stikstofcalc.geo.unassessed``) and how many become a grensgeval
through it. Never fails on its figures.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from stikstofcalc.batch.run import run_batch
from stikstofcalc.batch.synthetic import make_cases, write_workbook


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "zaken.xlsx"
        cases, extra = make_cases(args.cases)
        write_workbook(src, cases, extra)
        r = run_batch(src, jobs=args.jobs).results
    near = r["unassessed_max_deposition"].notna()
    why = r["verdict"].astype(str).str.contains("Waddenzee")
    only = r["verdict"].astype(str).str.startswith(
        "grensgeval: reken dit project door in AERIUS Calculator (Waddenzee")
    n = r["case"].nunique()
    print(f"{n} cases, {len(r)} phase rows")
    print(f"envelope computed (within 25 km and the reach of the band): {r.loc[near, 'case'].nunique()} cases "
          f"({100 * r.loc[near, 'case'].nunique() / n:.1f} %), {int(near.sum())} rows")
    print(f"grensgeval through it: {r.loc[why, 'case'].nunique()} cases "
          f"({100 * r.loc[why, 'case'].nunique() / n:.1f} %), {int(why.sum())} rows, "
          f"{int(only.sum())} of them for that reason alone")


if __name__ == "__main__":
    main()
