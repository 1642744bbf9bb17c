#!/usr/bin/env python3
"""Build the Natura 2000 package data from ``../shared/data/natura2000/``.

Reads the 10 MB GeoJSON (160 areas, RD New) and the nitrogen-sensitivity table and writes,
under ``src/stikstofcalc/data/natura2000/``:

- ``receptors.npz``: AERIUS receptor ids of all hexagon centres inside each area (exact
  point-in-polygon by scanline over the grid rows, holes respected), sorted, delta-encoded
  int32, plus the area number of each id (uint8);
- ``outlines.npz``: outlines simplified with Douglas-Peucker (``--tolerance`` m), integer
  metres, delta-encoded per ring, for maps;
- ``areas.csv``: number, name, protection, nitrogen-sensitive flag, area, hexagon count;
- ``missing_areas.csv``: the areas of the official 162 that the source lacks;
- ``manifest.json``: input hashes, parameters, counts.

The README and attribution next to the data are written by hand (``README.md``).

Run from the repository root::

    python tools/build_natura2000.py [--shared ../shared] [--tolerance 15]

Needs only numpy and pandas (no GIS library). Deterministic: the same input gives
byte-identical .csv/.json files (the .npz differ only in zip timestamps).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from stikstofcalc.geo.receptors import (COLUMN_SPACING_M, GRID_ORIGIN_X_M, GRID_ORIGIN_Y_M,
    HEXAGON_RADIUS_M, HEXAGONS_PER_ROW, ROW_SPACING_M)

OUT = REPO / "src" / "stikstofcalc" / "data" / "natura2000"
MISSING = [
    (1, "Waddenzee", "not processed by the source repository (BoerderijenNatura2000NL: "
                     "'160 van de 162 Natura 2000-gebieden verwerkt')"),
    (7, "Noordzeekustzone", "not processed by the source repository (BoerderijenNatura2000NL: "
                            "'160 van de 162 Natura 2000-gebieden verwerkt')"),
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rings_of(geometry) -> list[np.ndarray]:
    """All rings (exteriors and holes) of a (Multi)Polygon as closed (n, 2) arrays."""
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    out = []
    for poly in polys:
        for ring in poly:
            r = np.asarray(ring, dtype=float)
            if not np.array_equal(r[0], r[-1]):
                r = np.vstack([r, r[:1]])
            out.append(r)
    return out


def polygon_area_m2(geometry) -> float:
    """Area [m2]: exterior rings minus holes (independent of ring orientation)."""
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    total = 0.0
    for poly in polys:
        for j, ring in enumerate(poly):
            r = np.asarray(ring, dtype=float)
            a = abs(0.5 * np.sum(r[:-1, 0] * r[1:, 1] - r[1:, 0] * r[:-1, 1]))
            total += a if j == 0 else -a
    return total


def hexagons_inside(rings: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """Receptor ids of grid hexagon centres inside the rings (even-odd rule).

    Scanline over the grid rows: every edge is intersected with the rows whose y lies in
    its half-open y-range [ymin, ymax); per row the sorted crossings pair up into inside
    intervals [x_a, x_b), and the row's centres in each interval are taken. Holes and
    multi-part areas follow from the even-odd rule (the source polygons are valid and do
    not overlap). Returns the ids and the number of centres that fell outside the grid.
    """
    e = np.vstack([np.hstack([r[:-1], r[1:]]) for r in rings])  # x0 y0 x1 y1
    x0, y0, x1, y1 = e.T
    horizontal = y0 == y1
    x0, y0, x1, y1 = x0[~horizontal], y0[~horizontal], x1[~horizontal], y1[~horizontal]
    ylo, yhi = np.minimum(y0, y1), np.maximum(y0, y1)
    kfirst = np.ceil((ylo - GRID_ORIGIN_Y_M) / ROW_SPACING_M).astype(np.int64)
    klast = np.ceil((yhi - GRID_ORIGIN_Y_M) / ROW_SPACING_M).astype(np.int64) - 1
    n = np.maximum(klast - kfirst + 1, 0)
    edge = np.repeat(np.arange(n.size), n)
    k = kfirst[edge] + (np.arange(edge.size) - np.repeat(np.cumsum(n) - n, n))
    yk = GRID_ORIGIN_Y_M + ROW_SPACING_M * k
    # guard the half-open rule against rounding in the ceil above
    ok = (yk >= ylo[edge]) & (yk < yhi[edge])
    edge, k, yk = edge[ok], k[ok], yk[ok]
    t = (yk - y0[edge]) / (y1[edge] - y0[edge])
    xc = x0[edge] + t * (x1[edge] - x0[edge])
    order = np.lexsort((xc, k))
    k, xc = k[order], xc[order]
    if k.size % 2 or np.any(k[0::2] != k[1::2]):
        raise RuntimeError("odd number of crossings on a row: ring not closed?")
    kk, xa, xb = k[0::2], xc[0::2], xc[1::2]
    offset = GRID_ORIGIN_X_M + 1.5 * HEXAGON_RADIUS_M * (kk % 2)
    cfirst = np.ceil((xa - offset) / COLUMN_SPACING_M).astype(np.int64)
    cend = np.ceil((xb - offset) / COLUMN_SPACING_M).astype(np.int64)  # exclusive
    m = np.maximum(cend - cfirst, 0)
    run = np.repeat(np.arange(m.size), m)
    c = cfirst[run] + (np.arange(run.size) - np.repeat(np.cumsum(m) - m, m))
    krun = kk[run]
    inside_grid = (c >= 0) & (c < HEXAGONS_PER_ROW) & (krun >= 0)
    ids = krun[inside_grid] * HEXAGONS_PER_ROW + c[inside_grid] + 1
    return np.unique(ids), int((~inside_grid).sum())


def douglas_peucker(ring: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker simplification of a closed ring (first point = last point).

    The ring is split at its first vertex and the vertex farthest from it; both halves are
    simplified with an explicit stack. Returns the kept vertices, closed.
    """
    pts = ring[:-1]
    n = len(pts)
    if n < 4:
        return ring
    far = int(np.argmax(np.hypot(*(pts - pts[0]).T)))
    keep = np.zeros(n + 1, dtype=bool)
    keep[[0, far, n]] = True
    closed = np.vstack([pts, pts[:1]])
    stack = [(0, far), (far, n)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        p, q = closed[a], closed[b]
        seg = closed[a + 1:b]
        d = q - p
        L = np.hypot(*d)
        if L == 0:
            dist = np.hypot(*(seg - p).T)
        else:
            dist = np.abs(d[0] * (seg[:, 1] - p[1]) - d[1] * (seg[:, 0] - p[0])) / L
        i = int(np.argmax(dist))
        if dist[i] > tolerance:
            j = a + 1 + i
            keep[j] = True
            stack += [(a, j), (j, b)]
    return closed[keep]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--tolerance", type=float, default=15.0,
                    help="Douglas-Peucker tolerance for the map outlines [m]")
    args = ap.parse_args(argv)
    src = args.shared / "data" / "natura2000"
    gj_path, csv_path = src / "natura2000_rd.geojson", src / "nitrogen_sensitive_areas.csv"
    gj = json.loads(gj_path.read_text(encoding="utf-8"))
    flags = pd.read_csv(csv_path)
    flag = dict(zip(flags.n2k_number, flags.has_nitrogen_sensitive_habitat.astype(str).str.lower() == "true"))

    rows, all_ids, all_area = [], [], []
    ring_xy, ring_len, ring_area, ring_part, ring_hole = [], [], [], [], []
    part = 0
    for feat in gj["features"]:
        p, g = feat["properties"], feat["geometry"]
        number = int(p["n2k_number"])
        ids, outside = hexagons_inside(rings_of(g))
        all_ids.append(ids)
        all_area.append(np.full(ids.size, number, dtype=np.uint8))
        area_m2 = polygon_area_m2(g)
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        for poly in polys:
            for j, ring in enumerate(poly):
                s = douglas_peucker(np.asarray(ring, dtype=float), args.tolerance)
                s = np.round(s).astype(np.int64)
                if len(s) < 4:  # collapsed below the tolerance
                    continue
                ring_xy.append(s)
                ring_len.append(len(s))
                ring_area.append(number)
                ring_part.append(part)
                ring_hole.append(j > 0)
            part += 1
        rows.append({
            "n2k_number": number, "name": p["name"], "protection": p["protection"],
            "nitrogen_sensitive": bool(flag[number]),
            "area_ha": round(area_m2 / 1e4, 1), "n_hexagons": int(ids.size),
            "n_centres_outside_grid": outside, "source_slug": p["source_slug"],
        })
    areas = pd.DataFrame(rows).sort_values("n2k_number")
    ids = np.concatenate(all_ids)
    area_of = np.concatenate(all_area)
    order = np.argsort(ids, kind="stable")
    ids, area_of = ids[order], area_of[order]
    dup = int(np.sum(ids[1:] == ids[:-1]))
    if dup:  # a centre exactly on a boundary shared by two areas: keep the first
        keep = np.r_[True, ids[1:] != ids[:-1]]
        ids, area_of = ids[keep], area_of[keep]
    assert ids.max() < 2**31
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "receptors.npz",
                        receptor_id_delta=np.diff(ids, prepend=0).astype(np.int32),
                        n2k_number=area_of)
    xy = np.vstack(ring_xy)
    starts = np.cumsum([0] + ring_len[:-1])
    delta = np.diff(xy, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    delta[starts] = xy[starts]  # each ring starts absolute
    assert np.abs(delta).max() < 2**31
    np.savez_compressed(OUT / "outlines.npz",
                        xy_delta=delta.astype(np.int32),
                        ring_length=np.asarray(ring_len, dtype=np.int32),
                        ring_n2k_number=np.asarray(ring_area, dtype=np.uint8),
                        ring_part=np.asarray(ring_part, dtype=np.int32),
                        ring_is_hole=np.asarray(ring_hole, dtype=bool))
    areas.to_csv(OUT / "areas.csv", index=False, lineterminator="\n")
    pd.DataFrame(MISSING, columns=["n2k_number", "name", "reason"]).to_csv(
        OUT / "missing_areas.csv", index=False, lineterminator="\n")
    manifest = {
        "built_by": "tools/build_natura2000.py",
        "inputs": {
            "natura2000_rd.geojson": {"sha256": sha256(gj_path), "bytes": gj_path.stat().st_size},
            "nitrogen_sensitive_areas.csv": {"sha256": sha256(csv_path),
                                             "bytes": csv_path.stat().st_size},
        },
        "source": "jolietjakeblues/BoerderijenNatura2000NL commit "
                  "e4665aa8ac14707040988b3933768ae0faa854f8, via ../shared/data/natura2000",
        "crs": "EPSG:28992",
        "receptor_rule": "hexagon centre inside area (even-odd, boundaries half-open)",
        "outline_tolerance_m": args.tolerance,
        "outline_vertex_rounding_m": 1,
        "n_areas": int(len(areas)),
        "n_receptors": int(ids.size),
        "n_duplicate_centres_dropped": dup,
        "n_outline_vertices": int(len(xy)),
        "n_outline_rings": int(len(ring_len)),
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
