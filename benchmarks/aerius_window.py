"""Ours vs AERIUS on the hexagons around one hexagon, with the receptor z0 we use there.

    python benchmarks/aerius_window.py [--case lb_north] [--receptor 7792796] [--radius 1200]

Reads ``../shared/reference/aerius_results/`` at run time only (as ``aerius_cases.py``):
the case's sources within 25 km of the hexagon and AERIUS's hexagons within ``--radius`` m
of it go through the source-list path (``assess_source_list``, default terrain); prints per
hexagon AERIUS's value, ours, the ratio and our receptor z0 (the 6.25 ha mean of the shipped
map), and the correlation of ln(ratio) with ln z0. Used to tell a receptor-surface
difference (the ratio follows our z0) from a source or path one.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc.assessment.source_list import assess_source_list
from stikstofcalc.deposition import terrain

REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "aerius_results"
if not REF.is_dir():
    REF = Path("/work/shared/reference/aerius_results")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="lb_north")
    ap.add_argument("--receptor", type=int, default=7792796)
    ap.add_argument("--radius", type=float, default=1200.0)
    args = ap.parse_args()
    src = pd.read_csv(REF / "sources.csv.gz")
    hexes = pd.read_csv(REF / "hexagons.csv.gz")
    s = src[src["case"] == args.case]
    h = hexes[hexes["case"] == args.case]
    c = h[h.receptor_id == args.receptor].iloc[0]
    s = s[np.hypot(s.x - c.x, s.y - c.y) < 25_000]
    hw = h[np.hypot(h.x - c.x, h.y - c.y) < args.radius]
    with tempfile.TemporaryDirectory() as tmp:
        sp, rp = Path(tmp) / "bronnen.csv", Path(tmp) / "receptoren.csv"
        pd.DataFrame({"case_id": args.case, "source_id": s.source_id, "x": "", "y": "",
                      "height_m": s.height_m, "heat_mw": s.heat_mw, "spread_m": s.spread_m,
                      "nox_kg_yr": s.nox_kg_yr, "nh3_kg_yr": s.nh3_kg_yr, "sector_id": s.sector,
                      "phase": "gebruik", "year": 2024, "geometry_wkt": s.geometry_wkt}).to_csv(sp, index=False)
        hw[["receptor_id"]].to_csv(rp, index=False)
        a = assess_source_list(sp, receptors=rp, per_hexagon=True)[0]
    m = hw.set_index("receptor_id")
    m["ours"] = a.hexagons.groupby("receptor_id")["deposition_total_mol_ha_yr"].max()
    m["ratio"] = m.ours / m.aerius_nh3_mol_ha_yr
    m["z0_m"] = terrain.receptor_surface(m.x.to_numpy(), m.y.to_numpy())[0]
    m["distance_m"] = np.hypot(m.x - c.x, m.y - c.y)
    print(f"{args.case}: {len(s)} sources within 25 km, {len(m)} hexagons within {args.radius:g} m "
          f"of {args.receptor}")
    print(m.sort_values("distance_m")[["distance_m", "aerius_nh3_mol_ha_yr", "ours", "ratio", "z0_m"]]
          .round(3).to_string())
    ok = (m.ratio > 0) & np.isfinite(m.ratio)
    cc = np.corrcoef(np.log(m.ratio[ok]), np.log(m.z0_m[ok]))[0, 1]
    b = np.polyfit(np.log(m.z0_m[ok]), np.log(m.ratio[ok]), 1)
    print(f"corr(ln ratio, ln z0) = {cc:.2f}; ln ratio = {b[1]:.2f} + {b[0]:.2f} ln z0")


if __name__ == "__main__":
    main()
