"""Accuracy of the deposition engine against OPS-LT 5.3.1.0 reference runs.

Reads ``../shared/reference/ops`` (not shipped) and prints median and 95th percentile
of |model/OPS - 1| for receptors 100 m - 25 km, split by substance, source type,
distance band and heat content, on:

- the held-out part of the random sets: A10 runs and A11 lines whose index is a
  multiple of 5 (never used for fitting; in fact no A10/A11 run is used by
  ``tools/build_kernel.py`` at all, so the "all" rows are out-of-sample too);
- the structured sets A4 (regions), A7 (land use x z0), A8 (area sides), A9 (spread)
  and A6 with whole heights held out is reported by ``benchmarks/holdout_heights.py``.

Usage::

    python benchmarks/accuracy.py [--shared ../shared] [--all] [--method reference|fast]

NH3 on water receptors (class 6) where OPS returns negative deposition (low NH3
background, compensation point) cannot be matched by a positive kernel; such rows
(total <= 0) are excluded and counted.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays
from stikstofcalc.deposition.engine import evaluate

ROOT = Path(__file__).resolve().parents[1]
BANDS = [100, 300, 1000, 3000, 10000, 25000]


def predict(df: pd.DataFrame, method: str) -> np.ndarray:
    """Model deposition per 1000 kg/yr for every row (run = case)."""
    runs = df.drop_duplicates("run_id")
    code = {r: i for i, r in enumerate(runs.run_id)}
    is_line = "line_x0" in runs
    nox = (runs.substance == "NOx").to_numpy() * 1000.0
    src = SourceArrays(
        x=(runs.line_x0 if is_line else runs.src_x).to_numpy(),
        y=(runs.line_y0 if is_line else runs.src_y).to_numpy(),
        height_m=runs.height_m.to_numpy(), heat_mw=runs.heat_mw.to_numpy(),
        nox_kg_yr=nox, nh3_kg_yr=1000.0 - nox, spread_m=runs.spread_m.to_numpy(),
        area_side_m=runs.area_side_m.to_numpy(), z0_m=runs.z0_m.to_numpy(),
        x_end=runs.line_x1.to_numpy() if is_line else np.nan,
        y_end=runs.line_y1.to_numpy() if is_line else np.nan,
        case=np.arange(len(runs)))
    rcp = ReceptorArrays(x=df.rcp_x.to_numpy(), y=df.rcp_y.to_numpy(),
                         landuse=df.receptor_landuse.to_numpy(),
                         case=df.run_id.map(code).to_numpy())
    res = evaluate(src, rcp, cutoff_m=None, allow_extrapolation=False,
                   chunk_pairs=4_000_000, method=method)
    return np.where(df.substance.to_numpy() == "NOx", res.nox, res.nh3)


def table(df: pd.DataFrame, by) -> pd.DataFrame:
    g = df.groupby(by, observed=True).err
    return pd.DataFrame({"n": g.size(), "median_%": (100 * g.median()).round(1),
                         "p95_%": (100 * g.quantile(0.95)).round(1)})


def score(df: pd.DataFrame, pred: np.ndarray, kind) -> pd.DataFrame:
    ops = df.deposition_mol_ha_yr_per_t.to_numpy()
    df = df.assign(pred=pred, err=np.abs(pred / ops - 1), kind=kind)
    df = df[(df.distance_m >= 100) & (df.distance_m <= 25000)]
    neg = (df.deposition_mol_ha_yr_per_t <= 0)
    df = df[~neg]
    df["distance_band"] = pd.cut(df.distance_m, BANDS)
    df["heat"] = pd.cut(df.heat_mw, [-1, 0, 0.035, 0.1, 0.4, 2],
                        labels=["0", "<=0.035", "<=0.1", "<=0.4", ">0.4"])
    df["low_source"] = np.where((df.height_m <= 6) & (df.heat_mw <= 0.05),
                                "h<=6m,hc<=0.05MW", "other")
    df.attrs["negative_excluded"] = int(neg.sum())
    return df


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--all", action="store_true", help="score all runs, not only the holdout")
    ap.add_argument("--method", default="reference")
    args = ap.parse_args(argv)
    ops = args.shared / "reference/ops"
    parts = []
    t0 = time.perf_counter()
    a10 = pd.read_csv(ops / "training_random.csv.gz")
    a11 = pd.read_csv(ops / "training_lines.csv.gz")
    if not args.all:
        a10 = a10[a10.run_id.str[4:].astype(int) % 5 == 0]
        a11 = a11[a11.run_id.str[5:8].astype(int) % 5 == 0]
    kind10 = np.where(a10.area_side_m > 0, "area", "point")
    parts.append(score(a10, predict(a10, args.method), kind10))
    parts.append(score(a11, predict(a11, args.method), "line"))
    df = pd.concat(parts)
    print(f"OPS-LT 5.3.1.0 {'all' if args.all else 'holdout (index % 5 == 0)'} A10+A11 rows, "
          f"100 m - 25 km, {len(df)} rows, method {args.method}, "
          f"{time.perf_counter() - t0:.1f} s")
    print("excluded (OPS total <= 0, NH3 over water):",
          sum(p.attrs["negative_excluded"] for p in parts))
    pd.set_option("display.width", 200)
    for by in (["substance"], ["substance", "kind"], ["substance", "distance_band"],
               ["substance", "heat"], ["substance", "receptor_landuse"],
               ["substance", "low_source"]):
        print()
        print(table(df, by).to_string())


if __name__ == "__main__":
    main()
