"""Leave-one-out accuracy of the table interpolation: whole heights, heat contents,
roughness values and meteo locations held out of the model.

For each held-out node the shipped model data are reduced (the node removed from the
table, or the location from the regional field), the engine predicts the OPS runs at
that node, and median / 95th percentile of |model/OPS - 1| over receptors 100 m -
25 km are printed. Node spacing doubles around a held-out node, so these errors are an
upper bound for values between the shipped nodes. Usage::

    python benchmarks/holdout.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc.deposition import model as M

ROOT = Path(__file__).resolve().parents[1]


def predict(m, df):
    out = np.empty(len(df))
    for s, sub in enumerate(("NOx", "NH3")):
        k = (df.substance == sub).to_numpy()
        q = df[k]
        lt, lu = M.source_tables(m, s, q.height_m.to_numpy(), q.heat_mw.to_numpy(),
                                 q.z0_m.to_numpy(), np.zeros(len(q)), q.src_x.to_numpy(),
                                 q.src_y.to_numpy())
        dx = (q.rcp_x - q.src_x).to_numpy()
        dy = (q.rcp_y - q.src_y).to_numpy()
        out[k] = 1000 * M.pair_lookup(m, lt, lu, np.arange(len(q)), np.hypot(dx, dy),
                                      np.degrees(np.arctan2(dx, dy)),
                                      np.ones(len(q), np.int64))
    return out


def stats(df, pred):
    keep = (df.distance_m >= 100) & (df.distance_m <= 25000)
    e = np.abs(pred[keep.to_numpy()] / df.deposition_mol_ha_yr_per_t[keep] - 1)
    return f"median {100 * np.median(e):5.1f} %   p95 {100 * np.percentile(e, 95):5.1f} %"


def drop(m, axis_name, value):
    nodes = getattr(m, axis_name)
    i = int(np.flatnonzero(np.isclose(nodes, value))[0])
    ax = {"H": 1, "HC": 2, "Z": 3}[axis_name]
    return dataclasses.replace(m, **{axis_name: np.delete(nodes, i), "L": np.delete(m.L, i, axis=ax)})


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ops = ap.parse_args(argv).shared / "reference/ops"
    m = dataclasses.replace(M.load_model(), TR=None)  # structured sets: no national correction
    a6 = pd.read_csv(ops / "kernel_factorial.csv.gz")
    print("A6 (centre, grass), node held out of the table:")
    for axis, col, values in (("H", "height_m", [1.0, 2.5, 6.0, 15.0, 25.0]),
                              ("HC", "heat_mw", [0.1, 0.4]),
                              ("Z", "z0_m", [0.1, 0.2, 0.5, 1.0])):
        for v in values:
            df = a6[np.isclose(a6[col], v)]
            print(f"  {col:9s} {v:6g}: {stats(df, predict(drop(m, axis, v), df))}"
                  f"   (with the node: {stats(df, predict(m, df))})")
    a4 = pd.read_csv(ops / "kernel_region.csv.gz")
    a4 = a4.assign(spread_m=0.0)
    print("A4 (4 m point), meteo location held out of the regional field:")
    for x, y in m.region_xy:
        if (x, y) == (155000.0, 463000.0):
            continue
        k = np.flatnonzero((m.region_xy[:, 0] != x) | (m.region_xy[:, 1] != y))
        mm = dataclasses.replace(m, region_xy=m.region_xy[k], R=m.R[:, k])
        df = a4[(a4.src_x == x) & (a4.src_y == y)]
        print(f"  ({x:.0f}, {y:.0f}): {stats(df, predict(mm, df))}"
              f"   (with it: {stats(df, predict(m, df))})")


if __name__ == "__main__":
    main()
