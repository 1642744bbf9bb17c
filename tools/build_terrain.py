"""Build the terrain part of the deposition engine's model data (``ops531_terrain.npz``).

Reads the OPS-LT 5.3.1.0 reference runs in ``../shared/reference/ops`` (OPS output, which
may be shipped with a citation) and writes
``src/stikstofcalc/deposition/data/ops531_terrain.npz``::

    python tools/build_terrain.py [--shared ../shared]      # region field, zero terrain terms
    python tools/fit_terrain.py [--shared ../shared]        # then fit the terrain terms

What goes in:

- ``RG`` (54 locations x substance x height {1, 2.5, 5, 12, 25} m x heat {0, 0.035, 0.3} MW
  x z0 {0.05, 0.25, 1.0} m x 20 rings x 24 bearings): log ratio of the OPS kernel at each
  A12 location to the one at the central location (index 48, (155000, 463000), where the
  A6 table was run). Values where OPS gives no positive deposition (NH3 near tall sources)
  take the nearest valid ring of the same bearing. float16 (log ratios, 0.001 resolution).
- ``region_scale_m``, ``region_power``: inverse-distance weighting
  w = 1 / (d^2 + scale^2)^power, chosen by leave-one-location-out on A12
  (10 km, 2: median 0.028, p95 0.21 in log ratio, against 0.099 / 0.44 without it).
- ``TA``, ``TS``, ``TW``, ``TWR`` (2 x 30): terrain coefficients per ring, zero here;
  ``tools/fit_terrain.py`` fits them.

Nothing from ``../shared/reference/ops_inputs`` (background maps, meteo) goes in.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src/stikstofcalc/deposition/data/ops531_terrain.npz"
CENTRE_INDEX = 48
REGION_SCALE_M = 10_000.0
REGION_POWER = 2.0
#: z0 knots [m] of the receptor-surface function g (hat functions in ln z0)
TA_Z = np.array([0.01, 0.03, 0.06, 0.1, 0.2, 0.35, 0.6, 1.0, 1.6])


def region_field(ops: Path):
    a = np.load(ops / "kernel_locations.npz")
    H = np.array([1, 2.5, 5, 12, 25.0])
    HC = np.array([0, 0.035, 0.3])
    Z = np.array([0.05, 0.25, 1.0])
    dep = a["dep"].astype(float).reshape(54, 2, 5, 3, 3, 20, 24)
    assert np.allclose(a["run_height_m"].reshape(54, 2, 5, 3, 3)[0, 0, :, 0, 0], H)
    assert np.allclose(a["run_z0_m"].reshape(54, 2, 5, 3, 3)[0, 0, 0, 0, :], Z)
    assert list(a["run_substance"].reshape(54, 2, 5, 3, 3)[0, :, 0, 0, 0]) == ["NOx", "NH3"]
    ok = (dep > 0) & (dep[CENTRE_INDEX:CENTRE_INDEX + 1] > 0)
    lr = np.where(ok, np.log(np.where(ok, dep, 1.0) / np.where(ok, dep[CENTRE_INDEX:CENTRE_INDEX + 1], 1.0)),
                  np.nan)
    # fill gaps along distance with the nearest valid ring
    flat = lr.reshape(-1, 20, 24)
    for k in range(flat.shape[0]):
        for b in range(24):
            col = flat[k, :, b]
            good = np.flatnonzero(np.isfinite(col))
            if good.size == 0:
                flat[k, :, b] = 0.0
            elif good.size < 20:
                bad = np.flatnonzero(~np.isfinite(col))
                flat[k, bad, b] = col[good[np.abs(bad[:, None] - good[None, :]).argmin(1)]]
    xy = np.column_stack([a["location_x"], a["location_y"]]).astype(float)
    return dict(RG=lr.astype(np.float16), RG_XY=xy, RG_H=H, RG_HC=HC, RG_Z=Z,
                RG_D=a["distances_m"].astype(float), RG_B=a["bearings_deg"].astype(float),
                RG_CENTRE=np.array(CENTRE_INDEX), region_scale_m=np.array(REGION_SCALE_M),
                region_power=np.array(REGION_POWER))


def build(shared: Path):
    ops = shared / "reference/ops"
    data = region_field(ops)
    data["TA_Z"] = TA_Z
    data["TA"] = np.zeros((2, len(TA_Z), 3, 30))
    for k in ("TS", "TW", "TWR"):
        data[k] = np.zeros((2, 3, 30))
    digest = hashlib.sha256((ops / "kernel_locations.npz").read_bytes()).hexdigest()[:16]
    data["provenance"] = np.array(
        "OPS-LT 5.3.1.0 (L-5.3.1.0 19 dec 2024), RIVM, GPL-3 model; stikstofcalc reference "
        f"runs A12 (kernel_locations.npz sha256[:16]={digest}) for the region field")
    return data


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = ap.parse_args(argv)
    data = build(args.shared)
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    sys.exit(main())
