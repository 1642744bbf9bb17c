"""Largest deposition through the source-list path vs real AERIUS Calculator results.

    python benchmarks/aerius_cases.py [--werktuig-warmte conservatief|instructie] [--per-hexagon] [--case NAME]

Reads ``../shared/reference/aerius_results/`` at run time (test-time data, never copied into
the repository): per case the AERIUS sources go into a temporary sources CSV in the
``deposition`` format and AERIUS's hexagons (receptor ids) into a temporary receptor file, and
``stikstofcalc.assessment.source_list.assess_source_list`` gives the verdict as ``calc`` does. Prints per
case the largest deposition (ours vs AERIUS, ratio, rounded values) and with ``--per-hexagon``
the median and 95th percentile of |ln(ours / AERIUS)| over the hexagons.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc.rules import aerius_round
from stikstofcalc.assessment.source_list import assess_source_list

REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "aerius_results"
if not REF.is_dir():
    REF = Path("/work/shared/reference/aerius_results")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--werktuig-warmte", default=None)
    ap.add_argument("--per-hexagon", action="store_true")
    ap.add_argument("--case", action="append", default=None, help="only this case (repeatable)")
    args = ap.parse_args()
    src = pd.read_csv(REF / "sources.csv.gz")
    hexes = pd.read_csv(REF / "hexagons.csv.gz")
    print("| case | sources | hexagons | AERIUS max | ours max | ours / AERIUS | AERIUS shown | ours shown "
          "| same hexagon | median abs ln | p95 abs ln | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for case, s in src.groupby("case", sort=False):
            if args.case and case not in args.case:
                continue
            h = hexes[hexes["case"] == case]
            sp = Path(tmp) / f"{case}_bronnen.csv"
            rp = Path(tmp) / f"{case}_receptoren.csv"
            pd.DataFrame({"case_id": case, "source_id": s["source_id"], "x": "", "y": "",
                          "height_m": s["height_m"], "heat_mw": s["heat_mw"], "spread_m": s["spread_m"],
                          "nox_kg_yr": s["nox_kg_yr"], "nh3_kg_yr": s["nh3_kg_yr"], "sector_id": s["sector"],
                          "phase": "gebruik", "year": 2024, "geometry_wkt": s["geometry_wkt"]}).to_csv(sp, index=False)
            h[["receptor_id"]].to_csv(rp, index=False)
            t0 = time.perf_counter()
            a = assess_source_list(sp, receptors=rp, machinery_heat=args.werktuig_warmte,
                                   per_hexagon=args.per_hexagon)[0]
            dt = time.perf_counter() - t0
            r = a.results[0]
            k = int(np.argmax(h["aerius_nh3_mol_ha_yr"].to_numpy()))
            am = float(h["aerius_nh3_mol_ha_yr"].iloc[k])
            same = int(h["receptor_id"].iloc[k]) == r["receptor_id"]
            med = p95 = float("nan")
            if a.hexagons is not None:
                ours = a.hexagons.groupby("receptor_id")["deposition_total_mol_ha_yr"].max()
                m = h.set_index("receptor_id")["aerius_nh3_mol_ha_yr"]
                j = m.index.intersection(ours.index)
                ok = (m[j] > 0) & (ours[j] > 0)
                lr = np.abs(np.log(ours[j][ok] / m[j][ok]))
                med, p95 = float(np.median(lr)), float(np.percentile(lr, 95))
            print(f"| {case} | {len(s)} | {len(h)} | {am:.4g} | {r['max_deposition']:.4g} | "
                  f"{r['max_deposition'] / am:.3f} | {aerius_round(am):.2f} | {r['max_rounded']:.2f} | "
                  f"{'yes' if same else 'no (ours ' + str(r['receptor_id']) + ')'} | {med:.3f} | {p95:.3f} | {dt:.1f} |")


if __name__ == "__main__":
    main()
