"""Accuracy of the deposition engine against OPS-LT 5.3.1.0 reference runs.

Reads ``../shared/reference/ops`` (not shipped) and prints median and 95th percentile
of |model/OPS - 1| for receptors 100 m - 25 km, split by substance, source type,
distance band and heat content, on:

- the held-out part of the random sets: A10 runs and A11 lines whose index is a
  multiple of 5 (never used for fitting; in fact no A10/A11 run is used by
  ``tools/build_kernel.py`` at all, so the "all" rows are out-of-sample too);
- the structured sets A4 (regions), A7 (land use x z0), A8 (area sides), A9 (spread)
  and A6 with whole heights held out is reported by ``benchmarks/holdout_heights.py``.

With the roughness map (the engine's default terrain, ``--set map``): the held-out parts
of A16 (random single sources with the map, run index % 5 == 0) and of A17 (kernels at the
54 locations with the map, location index % 5 == 0), scored with the map and with uniform
terrain (the source cell's z0 everywhere) so that the gain is visible; ``--set aerius``:
the real AERIUS Calculator 2024 results in ``../shared/reference/aerius_results`` (read
at run time only, never copied), per hexagon median |ln(model/AERIUS)| and the largest
value per case, with the map and uniform.

Usage::

    python benchmarks/accuracy.py [--shared ../shared] [--set map|aerius|uniform|all]
                                  [--all] [--method reference|fast]

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


def predict(df: pd.DataFrame, method: str, terrain: str = "uniform") -> np.ndarray:
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
                   chunk_pairs=4_000_000, method=method, terrain=terrain)
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
    if "z0_tra_m" in df:
        df["z0_band"] = pd.cut(df.z0_tra_m, [0, 0.03, 0.1, 0.3, 3],
                               labels=["tra<0.03", "tra0.03-0.1", "tra0.1-0.3", "tra>0.3"])
        df["rcp_z0_band"] = pd.cut(np.where(df.receptor_landuse == 6, 0, df.z0_rcp_m),
                                   [-1, 0, 0.1, 0.3, 3],
                                   labels=["water", "rcp<0.1", "rcp0.1-0.3", "rcp>0.3"])
    df["low_source"] = np.where((df.height_m <= 6) & (df.heat_mw <= 0.05),
                                "h<=6m,hc<=0.05MW", "other")
    df.attrs["negative_excluded"] = int(neg.sum())
    return df


def uniform_sets(args):
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
    print(f"== uniform z0 (terrain='uniform'): OPS-LT 5.3.1.0 {'all' if args.all else 'holdout (index % 5 == 0)'} "
          f"A10+A11 rows, 100 m - 25 km, {len(df)} rows, method {args.method}, "
          f"{time.perf_counter() - t0:.1f} s")
    print("excluded (OPS total <= 0, NH3 over water):",
          sum(p.attrs["negative_excluded"] for p in parts))
    for by in (["substance"], ["substance", "kind"], ["substance", "distance_band"],
               ["substance", "heat"], ["substance", "receptor_landuse"],
               ["substance", "low_source"]):
        print()
        print(table(df, by).to_string())


def map_sets(args):
    import terrain_sets as ts

    for name, df in (("A16", ts.a16(args.shared)), ("A17", ts.a17(args.shared))):
        if not args.all:
            df = df[df.holdout]
        kind = np.where(df.area_side_m > 0, "area", "point")
        for terrain in ("map", "uniform"):
            t0 = time.perf_counter()
            pred = ts.predict(df, terrain=terrain, method=args.method)
            sc = score(df, pred, kind)
            what = ("held-out runs (index % 5 == 0)" if name == "A16"
                    else "held-out locations (index % 5 == 0)") if not args.all else "all"
            print(f"\n== {name} (OPS with the z0 map), {what}, terrain='{terrain}', "
                  f"100 m - 25 km, {len(sc)} rows ({sc.attrs['negative_excluded']} with OPS <= 0 "
                  f"excluded), method {args.method}, {time.perf_counter() - t0:.1f} s")
            bys = [["substance"]] if terrain == "uniform" else [
                ["substance"], ["substance", "kind"], ["substance", "distance_band"],
                ["substance", "heat"], ["substance", "z0_band"], ["substance", "rcp_z0_band"]]
            for by in bys:
                print(table(sc, by).to_string())
            if args.save:
                sc.to_csv(f"/tmp/accuracy_{name}_{terrain}.csv.gz", index=False)


def aerius_sets(args):
    """Real AERIUS results (test/analysis only; read here, never copied)."""
    from stikstofcalc.deposition import deposition

    base = args.shared / "reference/aerius_results"
    src = pd.read_csv(base / "sources.csv.gz")
    hexa = pd.read_csv(base / "hexagons.csv.gz")
    print("\n== real AERIUS Calculator 2024 results (per hexagon), NH3")
    rows = []
    for case, s in src.groupby("case"):
        h = hexa[hexa.case == case]
        sources = pd.DataFrame({"source_id": s.source_id.astype(str), "x": s.x, "y": s.y,
                                "height_m": s.height_m, "heat_mw": s.heat_mw,
                                "nox_kg_yr": s.nox_kg_yr, "nh3_kg_yr": s.nh3_kg_yr,
                                "spread_m": s.spread_m, "geometry_wkt": s.geometry_wkt})
        receptors = pd.DataFrame({"receptor_id": h.receptor_id.astype(str), "x": h.x, "y": h.y})
        aer = h.aerius_nh3_mol_ha_yr.to_numpy()
        for terrain in ("map", "uniform"):
            t0 = time.perf_counter()
            out = deposition(sources, receptors, terrain=terrain, allow_extrapolation=True)
            mod = out.deposition_nh3_mol_ha_yr.to_numpy()
            ok = (aer > 0) & (mod > 0)
            lr = np.abs(np.log(mod[ok] / aer[ok]))
            k = int(np.argmax(aer))
            rows.append({"case": case, "terrain": terrain, "hexagons": int(ok.sum()),
                         "median_|ln(model/AERIUS)|": round(float(np.median(lr)), 3),
                         "p90": round(float(np.percentile(lr, 90)), 3),
                         "AERIUS_max": float(aer.max()), "model_max": round(float(mod.max()), 4),
                         "max_ratio": round(float(mod.max() / aer.max()), 3),
                         "model_at_AERIUS_max_hexagon": round(float(mod[k] / aer[k]), 3),
                         "seconds": round(time.perf_counter() - t0, 1)})
    print(pd.DataFrame(rows).to_string(index=False))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--all", action="store_true", help="score all runs, not only the holdout")
    ap.add_argument("--method", default="fast")
    ap.add_argument("--set", default="all", choices=["map", "aerius", "uniform", "all"])
    ap.add_argument("--save", action="store_true", help="write the scored rows to /tmp")
    args = ap.parse_args(argv)
    pd.set_option("display.width", 200)
    if args.set in ("map", "all"):
        map_sets(args)
    if args.set in ("aerius", "all"):
        aerius_sets(args)
    if args.set in ("uniform", "all"):
        uniform_sets(args)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
