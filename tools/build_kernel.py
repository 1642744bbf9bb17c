"""Build the deposition engine's model data from the OPS-LT 5.3.1.0 reference runs.

Reads ``../shared/reference/ops/*.csv.gz`` (OPS output figures, which may be shipped
with a citation; see that folder's README) and writes
``src/stikstofcalc/deposition/data/ops531_kernel.npz``. Run from the repository root::

    python tools/build_kernel.py [--shared ../shared]

What goes in (all values are log of deposition in mol N/ha/yr per kg/yr emitted, or
log ratios; 30 log-spaced rings 20 m - 30 km x 36 bearings):

- ``L``: point source, grass, z0/height/heat table from set A6, with a heat node at
  0.035 MW (the AERIUS default for construction machinery) built from set A9;
- ``R``: regional (meteo/background) log ratio to the central location, set A4;
- ``LU``: receptor land-use log ratio to grass per height and z0, set A7;
- ``SP``: vertical-spread log ratio per heat, height and spread, set A9;
- ``AC``: area-source correction (OPS square / integrated point kernel), set A8
  (filled by :func:`area_correction` once the point kernel exists).

Holdout policy (for ``benchmarks/accuracy.py``): sets A10/A11 runs whose index is
a multiple of 5 are never used here; A10/A11 are not used at all by this build.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src/stikstofcalc/deposition/data/ops531_kernel.npz"

#: Nominal rings of the "36 x 30" layout (README of ../shared/reference/ops).
D30 = np.array([20, 25.7, 33.1, 42.6, 54.8, 70.6, 90.8, 116.9, 150.4, 193.5, 249, 320.4,
                412.4, 530.6, 682.8, 878.7, 1130.7, 1455, 1872.4, 2409.4, 3100.5, 3989.9,
                5134.3, 6606.9, 8502, 10940.6, 14078.6, 18116.8, 23313.1, 30000])
D45 = np.round(np.geomspace(20, 30000, 45), 1)
SUBST = ("NOx", "NH3")
PER_KG = 1.0 / 1000.0  # files give mol N/ha/yr per 1000 kg/yr
CENTRE = (155000, 463000)


def ring_index(d, rings):
    return np.abs(np.log(np.asarray(d)[:, None] / rings[None, :])).argmin(1)


def bearing_index(b):
    return np.round(np.asarray(b) / 10.0).astype(int) % 36


def grid(df, keys, nodes, rings=D30, value="deposition_mol_ha_yr_per_t"):
    """Scatter a run set into an array indexed by substance, keys..., ring, bearing."""
    shape = (2,) + tuple(len(n) for n in nodes) + (len(rings), 36)
    out = np.full(shape, np.nan)
    idx = [(df.substance == "NH3").astype(int).to_numpy()]
    for k, n in zip(keys, nodes):
        idx.append(np.searchsorted(n, df[k].to_numpy()))
    idx += [ring_index(df.distance_m, rings), bearing_index(df.bearing_deg)]
    out[tuple(idx)] = df[value].to_numpy()
    return out


def point_table(ops):
    a6 = pd.read_csv(ops / "kernel_factorial.csv.gz")
    H = np.sort(a6.height_m.unique())
    HC6 = np.sort(a6.heat_mw.unique())
    Z = np.sort(a6.z0_m.unique())
    T = grid(a6, ["height_m", "heat_mw", "z0_m"], [H, HC6, Z])
    assert not np.isnan(T).any() and (T > 0).all()
    L6 = np.log(T * PER_KG)
    # Heat node 0.035 MW from A9 (z0 0.2, spread 0): w = fraction of the log drop 0 -> 0.1 MW
    a9 = pd.read_csv(ops / "kernel_spread.csv.gz")
    a9 = a9[a9.spread_m == 0]
    Hs = np.sort(a9.height_m.unique())
    T9 = grid(a9, ["height_m", "heat_mw"], [Hs, np.array([0.0, 0.035])])
    L9 = np.log(T9 * PER_KG)
    iz = int(np.searchsorted(Z, 0.2))
    ih = np.searchsorted(H, Hs)
    l0, l1 = L6[:, ih, 0, iz], L6[:, ih, 1, iz]
    w = (L9[:, :, 1] - l0) / (l1 - l0)
    w = np.median(w, axis=-1)  # over bearings: (2, 4 heights, 30 rings)
    lh = np.log(np.clip(H, Hs[0], Hs[-1]))
    wh = np.stack([np.stack([np.interp(lh, np.log(Hs), w[s, :, r]) for r in range(30)], -1)
                   for s in range(2)])  # (2, 9, 30)
    HC = np.array([0.0, 0.035, 0.1, 0.4, 1.0])
    L = np.empty((2, len(H), 5, len(Z), 30, 36))
    L[:, :, 0] = L6[:, :, 0]
    L[:, :, 2:] = L6[:, :, 1:]
    L[:, :, 1] = L6[:, :, 0] + wh[:, :, None, :, None] * (L6[:, :, 1] - L6[:, :, 0])
    # exact A9 values where they exist
    L[:, ih, 1, iz] = L9[:, :, 1]
    return H, HC, Z, L


def region_table(ops):
    a4 = pd.read_csv(ops / "kernel_region.csv.gz")
    locs = a4[["src_x", "src_y"]].drop_duplicates().to_numpy()
    locs = locs[np.lexsort((locs[:, 1], locs[:, 0]))]
    a4 = a4.assign(loc=[int(np.flatnonzero((locs[:, 0] == x) & (locs[:, 1] == y))[0])
                        for x, y in zip(a4.src_x, a4.src_y)])
    T = grid(a4, ["loc"], [np.arange(len(locs))], rings=D45)
    c = int(np.flatnonzero((locs[:, 0] == CENTRE[0]) & (locs[:, 1] == CENTRE[1]))[0])
    R45 = np.log(T) - np.log(T[:, c:c + 1])
    # light smoothing over bearing (1-2-1) against OPS's sector interpolation noise
    R45 = 0.25 * np.roll(R45, 1, -1) + 0.5 * R45 + 0.25 * np.roll(R45, -1, -1)
    # to the 30-ring layout, linear in log distance
    x45, x30 = np.log(D45), np.log(D30)
    R = np.apply_along_axis(lambda v: np.interp(x30, x45, v), -2, R45)
    return locs.astype(float), R


def landuse_table(ops):
    a7 = pd.read_csv(ops / "kernel_landuse_z0.csv.gz")
    H = np.sort(a7.height_m.unique()).astype(float)
    Z = np.sort(a7.z0_m.unique())
    T = grid(a7, ["receptor_landuse", "height_m", "z0_m"], [np.arange(1, 10), H, Z])
    ratio = T / T[:, :1]
    LU = np.log(np.median(ratio, axis=-1))  # (2, 9 classes, 3 heights, 4 z0, 30 rings)
    return H, Z, LU


def spread_table(ops):
    a9 = pd.read_csv(ops / "kernel_spread.csv.gz")
    H = np.sort(a9.height_m.unique())
    HC = np.array([0.0, 0.035])
    S = np.array([0.0, 0.5, 1.3, 2.5])
    T = grid(a9, ["heat_mw", "height_m", "spread_m"], [HC, H, S])
    ratio = np.median(T / T[:, :, :, :1], axis=-1)  # (2, 2, 4, 4, 30)
    # spreads above the height were not run (h = 1 m): use the largest spread that was
    ratio = np.where(np.isnan(ratio), ratio[:, :, :, 1:2], ratio)
    return HC, H, S, np.log(ratio)


def build(shared: Path):
    ops = shared / "reference/ops"
    H, HC, Z, L = point_table(ops)
    locs, R = region_table(ops)
    LUH, LUZ, LU = landuse_table(ops)
    SPHC, SPH, SPS, SP = spread_table(ops)
    data = dict(D=D30, H=H, HC=HC, Z=Z, L=L.astype(np.float32), region_xy=locs,
                R=R.astype(np.float32), LU_H=LUH, LU_Z=LUZ, LU=LU.astype(np.float32),
                SP_HC=SPHC, SP_H=SPH, SP_S=SPS, SP=SP.astype(np.float32))
    files = sorted(p.name for p in ops.glob("*.csv.gz"))
    digests = {f: hashlib.sha256((ops / f).read_bytes()).hexdigest()[:16] for f in files}
    data["provenance"] = np.array(
        "OPS-LT 5.3.1.0 (L-5.3.1.0 19 dec 2024), RIVM, GPL-3 model; reference runs of "
        "stikstofcalc's shared/reference/ops (meteo m005114c 2005-2015, YEAR 2021 "
        "backgrounds rebuilt from OPS test data, receptor height 4 m); inputs sha256[:16]: "
        + ", ".join(f"{k}={v}" for k, v in digests.items()))
    return data


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = ap.parse_args(argv)
    data = build(args.shared)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **data)
    # second stage: area-source correction needs the point kernel itself
    from stikstofcalc.deposition import model as _m  # noqa: PLC0415

    _m.load_model.cache_clear()
    ac = area_correction(args.shared / "reference/ops")
    data.update(ac)
    np.savez_compressed(OUT, **data)
    _m.load_model.cache_clear()
    data.update(national_correction(args.shared / "reference/ops"))
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


#: nodes of the area correction over u = Chebyshev distance / half side
AC_U_NODES = np.array([0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100, 300, 1200.0])


def area_correction(ops):
    """OPS square area source / integrated point kernel, per height, side and u (set A8)."""
    from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays
    from stikstofcalc.deposition.fast import evaluate_fast

    a8 = pd.read_csv(ops / "kernel_area_sides.csv.gz")
    H = np.sort(a8.height_m.unique())
    S = np.sort(a8.area_side_m.unique()).astype(float)
    vnodes = np.log1p(AC_U_NODES)
    AC = np.zeros((2, len(H), len(S), len(AC_U_NODES)))
    for (sub, h, side), g in a8.groupby(["substance", "height_m", "area_side_m"]):
        s = SUBST.index(sub)
        src = SourceArrays(x=[g.src_x.iloc[0]], y=[g.src_y.iloc[0]], height_m=[h], heat_mw=[0.0],
                           nox_kg_yr=[1000.0 * (s == 0)], nh3_kg_yr=[1000.0 * (s == 1)],
                           area_side_m=[side], z0_m=[0.2])
        rcp = ReceptorArrays(x=g.rcp_x.to_numpy(), y=g.rcp_y.to_numpy())
        base = evaluate_fast(src, rcp, cutoff_m=None)[s]  # converged area integral
        lr = np.log(g.deposition_mol_ha_yr_per_t.to_numpy() / base)
        u = np.maximum(np.abs(g.rcp_x - g.src_x), np.abs(g.rcp_y - g.src_y)).to_numpy() / (0.5 * side)
        k = np.abs(np.log1p(u)[:, None] - vnodes[None, :]).argmin(1)
        med = np.array([np.median(lr[k == j]) if np.any(k == j) else np.nan
                        for j in range(len(vnodes))])
        good = np.flatnonzero(np.isfinite(med))
        med = np.interp(np.arange(len(vnodes)), good, med[good])  # fill gaps, hold the ends
        AC[s, list(H).index(h), list(S).index(side)] = med
    return dict(AC_U=vnodes, AC_H=H, AC_S=S, AC=AC.astype(np.float32))


def national_correction(ops):
    """Smooth correction for receptor land use x distance x position, fitted on the
    training part of the random set A10 (runs whose index is NOT a multiple of 5).

    The structured sets are all at the central location with its backgrounds; over the
    country, land-use responses (NH3 compensation point, NO2/NOx ratio) differ. Per
    substance and land-use class, log(OPS/model) is fitted with a quadratic in log
    distance and the source position (10 coefficients, one robust reweighting step).
    """
    from stikstofcalc.deposition import model as m
    from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays
    from stikstofcalc.deposition.fast import evaluate_fast

    a10 = pd.read_csv(ops / "training_random.csv.gz")
    a10 = a10[a10.run_id.str[4:].astype(int) % 5 != 0]
    runs = a10.drop_duplicates("run_id")
    code = {r: i for i, r in enumerate(runs.run_id)}
    nox = (runs.substance == "NOx").to_numpy() * 1000.0
    src = SourceArrays(x=runs.src_x, y=runs.src_y, height_m=runs.height_m, heat_mw=runs.heat_mw,
                       nox_kg_yr=nox, nh3_kg_yr=1000.0 - nox, spread_m=runs.spread_m,
                       area_side_m=runs.area_side_m, z0_m=runs.z0_m, case=np.arange(len(runs)))
    rcp = ReceptorArrays(x=a10.rcp_x, y=a10.rcp_y, landuse=a10.receptor_landuse,
                         case=a10.run_id.map(code).to_numpy())
    nox_d, nh3_d = evaluate_fast(src, rcp, cutoff_m=None)
    pred = np.where(a10.substance == "NOx", nox_d, nh3_d)
    ops_v = a10.deposition_mol_ha_yr_per_t.to_numpy()
    ok = (ops_v > 0) & (a10.distance_m >= 100).to_numpy() & (a10.distance_m <= 25000).to_numpy()
    lr = np.log(np.where(ok, ops_v, 1.0) / pred)
    ok &= np.abs(lr) < 1.5
    TR = np.zeros((2, 9, m.N_TREND))
    for s, sub in enumerate(SUBST):
        for lu in range(1, 10):
            k = ok & (a10.substance == sub).to_numpy() & (a10.receptor_landuse == lu).to_numpy()
            A = m.trend_features(a10.distance_m.to_numpy()[k], a10.src_x.to_numpy()[k],
                                 a10.src_y.to_numpy()[k])
            coef = np.linalg.lstsq(A, lr[k], rcond=None)[0]
            w = 1.0 / np.maximum(np.abs(lr[k] - A @ coef), 0.05)
            coef = np.linalg.lstsq(A * np.sqrt(w)[:, None], lr[k] * np.sqrt(w), rcond=None)[0]
            TR[s, lu - 1] = coef
    return dict(TR=TR)


if __name__ == "__main__":
    sys.exit(main())
