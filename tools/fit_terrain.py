"""Fit the terrain terms of the engine (TA, TS, TW, TWR in ``ops531_terrain.npz``).

Run after ``tools/build_terrain.py``, from the repository root::

    python tools/fit_terrain.py [--shared ../shared]

Data: the training parts of the OPS runs with the roughness map, A16 (4,000 random single
sources, points and squares; runs with index % 5 != 0) and A17 (point-source kernels at 54
locations; locations with index % 5 != 0). The held-out parts are never used here.

Model (log deposition, per substance; each coefficient a smooth function of distance,
hat functions over log distance at KNOTS_M, interpolated to the engine's 30 rings):

    ln dep = ln K(h, heat, z0_tra) + region(x, y; z0_tra)              [tables, A6 x A12]
             + TA(d) [ln z0_rcp - ln z0_tra]   (receptor surface: Ra and the near-surface
                                                profile at the receptor, relative to the path)
             + TS(d) [ln z0_src - ln z0_tra]   (source surface: initial mixing near the source)
             + TW(d) water share along the path (dry depletion over water)
             + TWR(d) [receptor is water]      (on top of the A7 water/grass ratio)

(z0 clamped: kernel 0.03-2 m, receptor term 0.01-2 m.) Fitted by least squares on
ln(OPS / model without these terms), with Huber reweighting (3 passes) and a small ridge
penalty on the differences between neighbouring knots (smoothness).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
OUT = ROOT / "src/stikstofcalc/deposition/data/ops531_terrain.npz"
KNOTS_M = np.array([20, 60, 150, 400, 1000, 2500, 6000, 15000, 30000.0])
TERMS = ("TA", "TS", "TW", "TWR")
SMOOTH = 200.0  # ridge weight on squared knot differences, in rows (of unit weight)


def hats(d, knots=KNOTS_M):
    """Hat-function basis over log distance (clamped), (n, len(knots))."""
    x = np.interp(np.log(np.asarray(d, float)), np.log(knots), np.arange(len(knots)))
    i = np.minimum(x.astype(int), len(knots) - 2)
    t = x - i
    B = np.zeros((x.shape[0], len(knots)))
    B[np.arange(x.shape[0]), i] = 1 - t
    B[np.arange(x.shape[0]), i + 1] += t
    return B


def z0_hat_matrix(tm, lnz):
    from stikstofcalc.deposition import model as m

    j, w = m.z0_hats(tm, lnz)
    H = np.zeros((lnz.shape[0], tm.TA_Z.shape[0]))
    H[np.arange(lnz.shape[0]), j] = 1 - w
    H[np.arange(lnz.shape[0]), j + 1] += w
    return H


def features(df, tm):
    """Per row: g-hats(receptor z0) - g-hats(trajectory z0) (one column per z0 knot), the
    source-z0 term, the path water share and the water-receptor indicator."""
    from stikstofcalc.deposition import model as m

    lzt = np.log(df.z0_tra_m.to_numpy())
    lzr = np.log(df.z0_rcp_m.to_numpy())
    lzs = np.log(df.z0_src_m.to_numpy())
    kr = m.KERNEL_Z0_RANGE
    return np.column_stack([z0_hat_matrix(tm, lzr) - z0_hat_matrix(tm, lzt),
                            m.clamp_ln(lzs, kr) - m.clamp_ln(lzt, kr),
                            df.tra_water_pct.to_numpy() / 100.0,
                            (df.receptor_landuse.to_numpy() == 6).astype(float)])


def fit(shared: Path, verbose=True):
    import pandas as pd
    from stikstofcalc.deposition import model as m
    import terrain_sets as ts

    data = dict(np.load(OUT))
    nz = data["TA_Z"].shape[0]
    data["TA"] = np.zeros((2, nz, m.N_SOURCE_BASIS, 30))
    for k in TERMS[1:]:
        data[k] = np.zeros((2, m.N_SOURCE_BASIS, 30))
    np.savez_compressed(OUT, **data)
    m.load_terrain_model.cache_clear()
    tm = m.load_terrain_model()
    df = pd.concat([ts.a16(shared), ts.a17(shared)], ignore_index=True)
    df = df[~df.holdout].reset_index(drop=True)
    base = ts.predict(df)
    ops = df.deposition_mol_ha_yr_per_t.to_numpy()
    d = df.distance_m.to_numpy()
    ok = (ops > 0) & (base > 0) & (d >= 20) & (d <= 25_000)
    y = np.log(np.where(ok, ops, 1) / np.where(ok, base, 1))
    ok &= np.abs(y) < 2.5
    F = features(df, tm)
    nterm = F.shape[1]
    SB = m.source_basis(df.height_m.to_numpy(), df.heat_mw.to_numpy())  # (n, nb)
    nb = SB.shape[1]
    F = (F[:, :, None] * SB[:, None, :]).reshape(F.shape[0], -1)  # term-major, basis minor
    nk = len(KNOTS_M)
    # the coefficients per ring are the hats at the ring distances, interpolated in the
    # ring coordinate by the engine: use the same interpolation for the rows
    ring_hats = hats(m.load_model().D)  # (30, nk)
    xr = np.clip((np.log(np.maximum(d, m.load_model().D[0])) - m.load_model().log_d0)
                 / m.load_model().dlog, 0, 29)
    i = np.minimum(xr.astype(int), 28)
    t = xr - i
    Bd = (1 - t)[:, None] * ring_hats[i] + t[:, None] * ring_hats[i + 1]
    # set weights: A17 has 311k rows of 648 runs, A16 96k of 3,200: weight them equally
    wset = np.where(df.set.to_numpy() == "A17", 0.5 * ok.sum() / max(1, (ok & (df.set == "A17")).sum()),
                    0.5 * ok.sum() / max(1, (ok & (df.set == "A16")).sum()))
    D = np.diff(np.eye(nk), axis=0)
    for s, sub in enumerate(("NOx", "NH3")):
        k = ok & (df.substance.to_numpy() == sub)
        X = (F[k][:, :, None] * Bd[k][:, None, :]).reshape(k.sum(), -1)
        yy = y[k]
        w = wset[k].copy()
        P = np.kron(np.eye(nterm * nb), D) * np.sqrt(SMOOTH * wset[k].sum() / k.sum())
        for _ in range(3):
            sw = np.sqrt(w)
            A = np.vstack([X * sw[:, None], P])
            bvec = np.concatenate([yy * sw, np.zeros(P.shape[0])])
            beta = np.linalg.lstsq(A, bvec, rcond=None)[0]
            r = yy - X @ beta
            w = wset[k] * np.minimum(1.0, 0.1 / np.maximum(np.abs(r), 1e-9))
        beta = beta.reshape(nterm, nb, nk)
        data["TA"][s] = beta[:nz] @ ring_hats.T
        for j, name in enumerate(TERMS[1:]):
            data[name][s] = beta[nz + j] @ ring_hats.T
        if verbose:
            r0 = np.abs(yy)
            print(f"{sub}: training |ln(OPS/model)| median {np.median(r0):.3f} -> "
                  f"{np.median(np.abs(r)):.3f}, p95 {np.percentile(r0, 95):.3f} -> "
                  f"{np.percentile(np.abs(r), 95):.3f}")
            for j in range(nterm):
                name = f"TA z0={data['TA_Z'][j]:g}" if j < nz else TERMS[1 + j - nz]
                print(f"  {name}: source basis 0 at knots {np.round(beta[j, 0], 2).tolist()}")
    data["provenance"] = np.array(str(data["provenance"]).split("; terrain terms")[0]
                                  + "; terrain terms fitted on A16 (run % 5 != 0) and A17 "
                                  "(location % 5 != 0) by tools/fit_terrain.py")
    np.savez_compressed(OUT, **data)
    m.load_terrain_model.cache_clear()
    return data


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = ap.parse_args(argv)
    fit(args.shared)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    sys.exit(main())
