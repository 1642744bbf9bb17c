"""Verdict of every example project (plan, default receptors): one line per phase and year.

    python benchmarks/examples_verdicts.py [--werktuig-warmte conservatief|instructie]

Prints a Markdown table (max deposition, shown value, verdict, sensitivity to the
machinery heat content when the assessment reports it). Used for the before/after
table of issue 12 in docs/assessment.md.
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

from stikstofcalc.assessment.core import assess_project

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--werktuig-warmte", default=None)
    args = ap.parse_args()
    kw = {}
    if args.werktuig_warmte and "machinery_heat" in inspect.signature(assess_project).parameters:
        kw["machinery_heat"] = args.werktuig_warmte
    print("| example | phase, year | max [mol/ha/yr] | shown | verdict | other heat: max | shown | differs |")
    print("|---|---|---|---|---|---|---|---|")
    for path in sorted((ROOT / "examples").glob("*.toml")):
        a = assess_project(path, measures=False, **kw)
        for r in a.results:
            s = r.get("sensitivity") or {}
            verdict = "permit" if r["permit_needed"] else "no permit"
            if r.get("borderline"):
                verdict += " (grensgeval)"
            alt = s.get("max_deposition")
            print(f"| `{path.stem}` | {r['phase']} {r['year']} | {r['max_deposition']:.4g} | {r['max_display']} "
                  f"| {verdict} | {'' if alt is None else f'{alt:.4g}'} | {s.get('max_display', '')} "
                  f"| {'yes' if s.get('verdict_differs') else ''} |")


if __name__ == "__main__":
    main()
