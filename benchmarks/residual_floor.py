"""How much of the engine's remaining error against OPS (A16, roughness map) could any
correction built from the pair's own inputs remove?

    python benchmarks/residual_floor.py [--shared ../shared]

Needs the reference data in ``../shared`` and, for the second part, scikit-learn (a research
aid only, not a dependency of stikstofcalc: ``pip install scikit-learn``).

1. Splits the held-out residual ln(OPS/model) into a per-run offset (the same for all 30
   receptors of one source: region, background, source terms) and the rest (per pair).
2. Fits a gradient-boosted regression of the residual on everything the pair's inputs give
   (distance, height, heat, area side, spread, source / trajectory / receptor z0, receptor
   water class, water share of the path, source and receptor position, bearing) on the A16
   training runs (run % 5 != 0) and reports its error on the held-out runs (run % 5 == 0).
   That is an empirical floor for corrections of this kind: if a flexible fit on these
   inputs cannot reach the target, a physical term in them cannot either, and the rest lies
   in what the inputs do not carry (OPS's background maps and regional meteo per pair).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

FEATURES = ["ld", "height_m", "heat_mw", "area_side_m", "spread_m", "lz0_src", "lz0_tra",
            "lz0_rcp", "water", "tra_water_pct", "src_x", "src_y", "rcp_x", "rcp_y",
            "bearing_deg"]


def _stats(a):
    a = np.abs(np.asarray(a))
    return f"median {100 * np.median(a):5.1f} %, p95 {100 * np.percentile(a, 95):5.1f} %"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = ap.parse_args(argv)
    import terrain_sets as ts

    t0 = time.perf_counter()
    df = ts.a16(args.shared)
    df["pred"] = ts.predict(df, method="fast")
    ops = df.deposition_mol_ha_yr_per_t
    ok = (ops > 0) & (df.pred > 0) & (df.distance_m >= 100) & (df.distance_m <= 25_000)
    df = df[ok].copy()
    df["r"] = np.log(df.deposition_mol_ha_yr_per_t / df.pred)
    df["ld"] = np.log(df.distance_m)
    for k in ("src", "tra", "rcp"):
        df[f"lz0_{k}"] = np.log(df[f"z0_{k}_m"])
    df["water"] = (df.receptor_landuse == 6).astype(int)
    print(f"A16, 100 m - 25 km, {len(df)} rows, model predictions in "
          f"{time.perf_counter() - t0:.0f} s; |exp(residual) - 1| approximated by |ln|")
    try:
        from sklearn.ensemble import HistGradientBoostingRegressor
    except ImportError:
        HistGradientBoostingRegressor = None
        print("scikit-learn is not installed: part 2 skipped (pip install scikit-learn)")
    for sub in ("NH3", "NOx"):
        d = df[df.substance == sub]
        te = d[d.holdout]
        off = te.groupby("run_id").r.transform("median")
        print(f"\n{sub} held-out ({len(te)} rows): engine          {_stats(te.r)}")
        print(f"{sub} per-run offset (median per run) {_stats(te.groupby('run_id').r.median())}")
        print(f"{sub} within run (offset removed)     {_stats(te.r - off)}")
        if HistGradientBoostingRegressor is None:
            continue
        tr = d[~d.holdout]
        m = HistGradientBoostingRegressor(max_iter=1000, learning_rate=0.03, max_leaf_nodes=31,
                                          min_samples_leaf=40, loss="absolute_error",
                                          random_state=0).fit(tr[FEATURES], tr.r)
        print(f"{sub} engine + flexible fit on all pair inputs, held out: "
              f"{_stats(te.r - m.predict(te[FEATURES]))} "
              f"(training {_stats(tr.r - m.predict(tr[FEATURES]))})")
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
