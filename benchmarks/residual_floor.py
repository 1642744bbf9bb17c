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
3. With ``--backgrounds``: the same fit with, in addition, the 1 km background
   concentrations (NH3, NOx, SO2) that the reference runs read, at the receptor and as the
   mean over 21 points on the path (``../shared/reference/ops_inputs/background_2021_1km.npz``,
   GPL-3 OPS test data: read here at run time for this analysis only, never shipped, and
   nothing derived from it enters the package). It measures how much of the floor is the
   backgrounds, i.e. what the engine could reach only with data it may not ship.
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


BACKGROUND_FEATURES = [f"bg_{s}_{w}" for s in ("nh3", "nox", "so2") for w in ("rcp", "path")]


def _add_backgrounds(df, shared: Path) -> None:
    """Background concentrations (ug/m3) at the receptor and averaged over 21 points from
    source to receptor, looked up as OPS does (cell = floor of the offset / cell size)."""
    z = np.load(shared / "reference/ops_inputs/background_2021_1km.npz")
    x0, y0, cell = float(z["x_ul_m"]), float(z["y_ul_m"]), float(z["cell_m"])
    f = np.linspace(0.0, 1.0, 21)[:, None]
    sx, sy = df.src_x.to_numpy(), df.src_y.to_numpy()
    rx, ry = df.rcp_x.to_numpy(), df.rcp_y.to_numpy()
    for s in ("nh3", "nox", "so2"):
        grid = z[f"{s}_ugm3"].astype(float)

        def at(x, y, grid=grid):
            c = np.clip(np.floor((x - x0) / cell).astype(int), 0, grid.shape[1] - 1)
            r = np.clip(np.floor((y0 - y) / cell).astype(int), 0, grid.shape[0] - 1)
            return grid[r, c]

        df[f"bg_{s}_rcp"] = at(rx, ry)
        df[f"bg_{s}_path"] = at(sx + f * (rx - sx), sy + f * (ry - sy)).mean(axis=0)


def _stats(a):
    a = np.abs(np.asarray(a))
    return f"median {100 * np.median(a):5.1f} %, p95 {100 * np.percentile(a, 95):5.1f} %"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--backgrounds", action="store_true",
                    help="also fit with the reference runs' background maps (analysis only)")
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
    fits = [("all pair inputs", FEATURES)]
    if args.backgrounds:
        _add_backgrounds(df, args.shared)
        fits.append(("pair inputs + backgrounds", FEATURES + BACKGROUND_FEATURES))
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
        for what, feats in fits:
            m = HistGradientBoostingRegressor(max_iter=1000, learning_rate=0.03,
                                              max_leaf_nodes=31, min_samples_leaf=40,
                                              loss="absolute_error",
                                              random_state=0).fit(tr[feats], tr.r)
            print(f"{sub} engine + flexible fit on {what}, held out: "
                  f"{_stats(te.r - m.predict(te[feats]))} "
                  f"(training {_stats(tr.r - m.predict(tr[feats]))})")
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
