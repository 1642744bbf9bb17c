"""OPS reference sets with the roughness map (A16, A17) as row tables, and the engine's
predictions for them. Shared by ``tools/fit_terrain.py`` and ``benchmarks/accuracy.py``.

Hold-out policy (never fitted on): A16 runs whose index is a multiple of 5; A17 locations
whose index is a multiple of 5 (0, 5, ..., 50: 11 of the 54 locations).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays
from stikstofcalc.deposition.engine import evaluate


def a16(shared: Path) -> pd.DataFrame:
    df = pd.read_csv(shared / "reference/ops/training_z0map.csv.gz")
    df["run"] = df.run_id.str[4:].astype(int)
    df["holdout"] = df.run % 5 == 0
    df["set"] = "A16"
    return df


def a17(shared: Path) -> pd.DataFrame:
    """A17 as rows (run x distance x bearing), A16-like columns."""
    b = np.load(shared / "reference/ops/kernel_locations_z0map.npz")
    k, ri, bi = np.meshgrid(np.arange(648), np.arange(20), np.arange(24), indexing="ij")
    k, ri, bi = k.ravel(), ri.ravel(), bi.ravel()
    loc = b["run_location"][k].astype(int)
    sx, sy = b["run_x"][k].astype(float), b["run_y"][k].astype(float)
    df = pd.DataFrame({
        "run_id": [f"A17_{i:03d}" for i in k], "run": k, "location": loc,
        "substance": b["run_substance"][k], "src_x": sx, "src_y": sy,
        "height_m": np.round(b["run_height_m"][k].astype(float), 4),
        "heat_mw": np.round(b["run_heat_mw"][k].astype(float), 5),
        "area_side_m": 0.0, "spread_m": 0.0,
        "rcp_x": sx + b["offset_x_m"][ri, bi], "rcp_y": sy + b["offset_y_m"][ri, bi],
        "distance_m": b["actual_distance_m"][ri, bi].astype(float),
        "bearing_deg": b["actual_bearing_deg"][ri, bi].astype(float),
        "deposition_mol_ha_yr_per_t": b["dep"][k, ri, bi].astype(float),
        "z0_src_m": b["run_z0_src_m"][k].astype(float),
        "z0_rcp_m": b["z0_rcp_m"][loc, ri, bi].astype(float),
        "z0_tra_m": b["z0_tra_m"][loc, ri, bi].astype(float),
        "receptor_landuse": b["rcp_landuse"][loc, ri, bi].astype(int),
        "tra_water_pct": b["tra_water_pct"][loc, ri, bi].astype(float)})
    df["holdout"] = df.location % 5 == 0
    df["set"] = "A17"
    return df


def predict(df: pd.DataFrame, *, terrain="map", method="fast", landuse_from_ops=True,
            z0_from_ops=True) -> np.ndarray:
    """Model deposition per 1000 kg/yr for every row (run = case).

    With ``landuse_from_ops``/``z0_from_ops`` the receptors get the class and z0 OPS was
    given (the map cell, as in the reference runs); otherwise the engine's defaults.
    """
    runs = df.drop_duplicates("run_id")
    code = {r: i for i, r in enumerate(runs.run_id)}
    nox = (runs.substance == "NOx").to_numpy() * 1000.0
    src = SourceArrays(
        x=runs.src_x.to_numpy(), y=runs.src_y.to_numpy(),
        height_m=runs.height_m.to_numpy(), heat_mw=runs.heat_mw.to_numpy(),
        nox_kg_yr=nox, nh3_kg_yr=1000.0 - nox, spread_m=runs.spread_m.to_numpy(),
        area_side_m=runs.area_side_m.to_numpy(),
        z0_m=np.clip(runs.z0_src_m.to_numpy(), 0.03, 2.0) if terrain == "uniform" else 0.2,
        case=np.arange(len(runs)))
    rcp = ReceptorArrays(
        x=df.rcp_x.to_numpy(), y=df.rcp_y.to_numpy(),
        landuse=df.receptor_landuse.to_numpy() if landuse_from_ops else 0,
        z0_m=df.z0_rcp_m.to_numpy() if z0_from_ops else None,
        case=df.run_id.map(code).to_numpy())
    res = evaluate(src, rcp, cutoff_m=None, allow_extrapolation=True, chunk_pairs=4_000_000,
                   method=method, terrain=terrain, receptor_terrain="cell")
    return np.where(df.substance.to_numpy() == "NOx", res.nox, res.nh3)
