"""Shipped Natura 2000 data: content, provenance, attribution, and an independent check of
the hexagon rasterisation against the source polygons in ``../shared`` (skipped without it).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from stikstofcalc.geo.natura2000 import (ATTRIBUTION, LICENCE, area_outline, data_checksums,
    load_natura2000, load_outlines)
from stikstofcalc.geo.receptors import (COLUMN_SPACING_M, HEXAGON_RADIUS_M, HEXAGONS_PER_ROW,
    ROW_SPACING_M, receptor_id_to_xy)

REPO = Path(__file__).resolve().parents[2]
SHARED_N2K = REPO / ".." / "shared" / "data" / "natura2000"
GEOJSON = SHARED_N2K / "natura2000_rd.geojson"
needs_shared = pytest.mark.skipif(not GEOJSON.exists(), reason="../shared/data/natura2000 not present")

#: Pinned checksum of the receptor table (ids and area numbers). A rebuild that changes any
#: hexagon changes this: update it in the same, reviewed commit as the data.
RECEPTOR_TABLE_SHA256 = "4ab9228ff7d1ed9fabcde903b3ae2812722a44ebe90df0c72b54819d94ce8e1f"


@pytest.fixture(scope="module")
def n2k():
    return load_natura2000()


def test_area_table(n2k):
    a = n2k.areas
    assert len(a) == 160 and a.index.is_unique
    assert int(a["nitrogen_sensitive"].sum()) == 128
    assert set(a["protection"]) == {"VR", "HR", "VR+HR"}
    assert a.loc[57, "name"] == "Veluwe" and bool(a.loc[57, "nitrogen_sensitive"])
    assert a.loc[57, "area_ha"] == pytest.approx(88_437, abs=1)
    assert a["area_ha"].sum() == pytest.approx(1_781_015, abs=2)  # README of the source data
    assert not set(a.index) & {1, 7}


def test_missing_areas_named(n2k):
    assert n2k.missing["n2k_number"].tolist() == [1, 7]
    assert n2k.missing["name"].tolist() == ["Waddenzee", "Noordzeekustzone"]
    assert "Waddenzee (1)" in n2k.missing_note and "Noordzeekustzone (7)" in n2k.missing_note


def test_receptor_arrays(n2k):
    rid, num = n2k.receptor_id, n2k.n2k_number
    assert rid.dtype == np.int64 and rid.size == n2k.manifest["n_receptors"] == 1_649_187
    assert rid[0] >= 1 and np.all(np.diff(rid) > 0)  # sorted, unique
    assert set(np.unique(num)) == set(n2k.areas.index)
    counts = np.bincount(num, minlength=256)[n2k.areas.index.to_numpy()]
    np.testing.assert_array_equal(counts, n2k.areas["n_hexagons"].to_numpy())
    assert not rid.flags.writeable


def test_receptor_table_checksum(n2k):
    h = hashlib.sha256(n2k.receptor_id.tobytes() + n2k.n2k_number.tobytes()).hexdigest()
    assert h == RECEPTOR_TABLE_SHA256


def test_hexagon_count_matches_area(n2k):
    """Each hexagon is 1 ha, so the number of centres inside an area is its area in ha,
    up to a boundary effect of the order of perimeter x hexagon size (land areas only)."""
    a = n2k.areas[n2k.areas["n_centres_outside_grid"] == 0]
    ratio = a["n_hexagons"] / a["area_ha"]
    assert ratio[a["area_ha"] > 1000].between(0.97, 1.03).all()
    assert ratio.between(0.9, 1.1).all()
    assert n2k.areas.loc[57, "n_hexagons"] == pytest.approx(88_437, rel=0.002)


def test_area_of(n2k):
    rid = n2k.receptor_id[[0, 1000, 500_000]]
    np.testing.assert_array_equal(n2k.area_of(rid), n2k.n2k_number[[0, 1000, 500_000]])
    assert n2k.area_of([1, 2])[0] == 0  # receptor 1 is at sea in the far south-west
    assert n2k.area_names([57, 0]).tolist() == ["Veluwe", ""]


def test_outlines(n2k):
    o = load_outlines()
    off = o["ring_offsets"]
    assert off[-1] == len(o["xy"]) and len(off) == len(o["ring_n2k_number"]) + 1
    assert set(np.unique(o["ring_n2k_number"])) == set(n2k.areas.index)
    rings = area_outline(57)
    assert all(np.array_equal(r[0], r[-1]) for r in rings)
    # area of the simplified outline (exteriors minus holes) within 1 % of the true area
    is_hole = o["ring_is_hole"][o["ring_n2k_number"] == 57]
    area = sum((-1 if h else 1) * abs(0.5 * np.sum(r[:-1, 0] * r[1:, 1] - r[1:, 0] * r[:-1, 1]))
               for r, h in zip(rings, is_hole))
    assert area / 1e4 == pytest.approx(n2k.areas.loc[57, "area_ha"], rel=0.01)


def test_attribution_and_notice():
    assert LICENCE == "CC BY 4.0" and "CC BY 4.0" in ATTRIBUTION
    notice = (REPO / "NOTICE.md").read_text(encoding="utf-8")
    readme = resources.files("stikstofcalc").joinpath("data", "natura2000", "README.md").read_text(
        encoding="utf-8")
    for text in (notice, readme):
        assert ATTRIBUTION.split(";")[0] in text.replace("\n> ", " ")
        assert "BoerderijenNatura2000NL" in text and "e4665aa8ac14707040988b3933768ae0faa854f8" in text


def test_shipped_data_is_small():
    total = 0
    for f in resources.files("stikstofcalc").joinpath("data", "natura2000").iterdir():
        total += len(f.read_bytes())
    assert total < 2_000_000
    assert set(data_checksums()) >= {"receptors.npz", "areas.csv", "outlines.npz"}


def test_loader_is_cached():
    assert load_natura2000() is load_natura2000()


# ------------------------------------------------------------------ against the source


@pytest.fixture(scope="module")
def source():
    return json.loads(GEOJSON.read_text(encoding="utf-8"))


def _rings(geometry):
    return [np.asarray(r, dtype=float) for poly in geometry["coordinates"] for r in poly]


def _inside_brute_force(px, py, rings):
    """Crossing-number test, every point against every edge (independent of the build)."""
    inside = np.zeros(px.shape, dtype=bool)
    for r in rings:
        x0, y0, x1, y1 = r[:-1, 0], r[:-1, 1], r[1:, 0], r[1:, 1]
        cond = (y0[None] > py[:, None]) != (y1[None] > py[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = x0[None] + (py[:, None] - y0[None]) * (x1 - x0)[None] / (y1 - y0)[None]
        inside ^= (np.sum(cond & (px[:, None] < xc), axis=1) % 2).astype(bool)
    return inside


@needs_shared
def test_manifest_matches_shared_inputs(n2k):
    for name, meta in n2k.manifest["inputs"].items():
        assert hashlib.sha256((SHARED_N2K / name).read_bytes()).hexdigest() == meta["sha256"]


@needs_shared
@pytest.mark.parametrize("number", [22, 151, 63, 31, 48, 82])
def test_rasterisation_equals_brute_force(n2k, source, number):
    feat = next(f for f in source["features"] if f["properties"]["n2k_number"] == number)
    rings = _rings(feat["geometry"])
    xy = np.vstack(rings)
    kmin = int((xy[:, 1].min() - 296800) // ROW_SPACING_M) - 1
    kmax = int((xy[:, 1].max() - 296800) // ROW_SPACING_M) + 2
    cmin = int((xy[:, 0].min() - 3604) // COLUMN_SPACING_M) - 1
    cmax = int((xy[:, 0].max() - 3604) // COLUMN_SPACING_M) + 2
    cand = np.array([k * HEXAGONS_PER_ROW + c + 1 for k in range(kmin, kmax + 1)
                     for c in range(cmin, cmax + 1)])
    x, y = receptor_id_to_xy(cand)
    want = cand[_inside_brute_force(x, y, rings)]
    got = n2k.receptor_id[n2k.n2k_number == number]
    np.testing.assert_array_equal(got, want)


@needs_shared
def test_holes_are_respected(n2k, source):
    """Pick an area with holes: no shipped centre lies in a hole."""
    for f in source["features"]:
        holes = [np.asarray(r, float) for poly in f["geometry"]["coordinates"] for r in poly[1:]]
        big = [h for h in holes if abs(0.5 * np.sum(h[:-1, 0] * h[1:, 1] - h[1:, 0] * h[:-1, 1])) > 5e4]
        if big:
            break
    number = f["properties"]["n2k_number"]
    rid = n2k.receptor_id[n2k.n2k_number == number]
    x, y = receptor_id_to_xy(rid)
    for h in big[:5]:
        sel = ((x >= h[:, 0].min()) & (x <= h[:, 0].max()) & (y >= h[:, 1].min()) & (y <= h[:, 1].max()))
        assert not _inside_brute_force(x[sel], y[sel], [h]).any()
    # and the hole really contains grid centres that were left out
    h = big[0]
    assert abs(0.5 * np.sum(h[:-1, 0] * h[1:, 1] - h[1:, 0] * h[:-1, 1])) > 3 * HEXAGON_RADIUS_M**2


@pytest.mark.slow
def test_wheel_carries_the_data(tmp_path):
    """Build the wheel, install it elsewhere (no editable path) and load the data there."""
    import subprocess
    import sys

    pytest.importorskip("hatchling")
    pytest.importorskip("build")
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(out),
                    str(REPO)], check=True, capture_output=True)
    wheel = next(out.glob("*.whl"))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                    "--disable-pip-version-check", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = ("import stikstofcalc, stikstofcalc.geo.natura2000 as n; "
            "assert str(stikstofcalc.__file__).startswith(%r); "
            "d = n.load_natura2000(); print(d.receptor_id.size, len(n.load_outlines()['xy']))"
            % str(target))
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(target), "PATH": ""})
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[0] == "1649187"


def test_area_at(n2k):
    from stikstofcalc.geo.receptors import receptor_id_to_xy

    rid = n2k.receptor_id[n2k.n2k_number == 57][::5000]
    x, y = receptor_id_to_xy(rid)
    assert (n2k.area_at(x + 10.0, y - 10.0) == 57).all()
    assert n2k.area_at(121_000.0, 487_500.0) == 0  # Amsterdam, Dam square
    assert n2k.area_at(-90_000.0, 487_500.0) == 0  # off the grid
