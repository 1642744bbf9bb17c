"""Extract the OPS reference sample that the test suite carries (tests/data/).

The repository's own reference tests must run without ../shared, so a small,
fixed sample of the OPS-LT 5.3.1.0 runs (model output; may be shipped with its
citation, see ../shared/reference/ops/README.md) is kept in
``tests/data/ops_sample.csv.gz``. Run from the repository root::

    python tools/make_ops_sample.py [--shared ../shared]
"""

import argparse
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ops = ap.parse_args().shared / "reference/ops"
    parts = []
    a6 = pd.read_csv(ops / "kernel_factorial.csv.gz")
    sel = a6[a6.height_m.isin([2.5, 10]) & a6.heat_mw.isin([0, 0.1]) & a6.z0_m.isin([0.1, 1.0])]
    parts.append(sel.assign(set="A6"))
    a8 = pd.read_csv(ops / "kernel_area_sides.csv.gz")
    parts.append(a8[a8.area_side_m.isin([100, 1000]) & (a8.height_m == 2.5)].assign(set="A8"))
    a10 = pd.read_csv(ops / "training_random.csv.gz")
    idx = a10.run_id.str[4:].astype(int)
    parts.append(a10[(idx % 5 == 0) & (idx < 1000)].assign(set="A10"))
    a11 = pd.read_csv(ops / "training_lines.csv.gz")
    lidx = a11.run_id.str[5:8].astype(int)
    parts.append(a11[(lidx % 5 == 0) & (lidx < 100)].assign(set="A11"))
    out = pd.concat(parts, ignore_index=True)
    cols = ["set", "run_id", "substance", "src_x", "src_y", "height_m", "heat_mw", "area_side_m",
            "z0_m", "spread_m", "receptor_landuse", "rcp_x", "rcp_y", "distance_m", "bearing_deg",
            "deposition_mol_ha_yr_per_t", "line_x0", "line_y0", "line_x1", "line_y1"]
    out = out[cols]
    dest = ROOT / "tests/data/ops_sample.csv.gz"
    out.to_csv(dest, index=False, float_format="%.7g")
    print(f"wrote {dest}: {len(out)} rows, {dest.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
