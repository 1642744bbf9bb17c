"""The AERIUS receptor grid, coordinate conversion and receptor selection.

AERIUS calculates deposition on the centres of 1 ha hexagons laid out on a fixed grid
in RD New (EPSG:28992). This module converts between AERIUS receptor ids and RD
coordinates in both directions, selects the hexagons within a distance of a set of
sources, builds the default receptor set (hexagon centres inside nitrogen-sensitive
Natura 2000 areas within 25 km) and reads a user's own receptor file.

The grid (``docs/receptors.md``, verified against AERIUS check values)::

    r = sqrt(2 * 10000 / (3 * sqrt(3))) = 62.0403 m      hexagon radius (centre to vertex)
    h = sqrt(3) * r                                       hexagon height (flat-topped)
    i = id - 1,  c = i mod 1529,  k = i div 1529          column and row
    x = 3604 + 3 r c + (1.5 r if k odd else 0)
    y = 296800 + k h / 2

The centres form a regular triangular lattice with spacing ``sqrt(3) r``; the hexagon of a
receptor is exactly the set of points nearer to its centre than to any other centre
(Voronoi cell), which is what :func:`xy_to_receptor_id` uses.

Everything here works on plain float arrays in metres (RD New); WGS84 enters and leaves
through :func:`wgs84_to_rd` and :func:`rd_to_wgs84` (pyproj).
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc import compiled
from stikstofcalc.caches import cached, register
from stikstofcalc.conventions import CALCULATION_DISTANCE_M
from stikstofcalc.deposition.arrays import LANDUSE_CLASSES
from stikstofcalc.errors import InputError, MultipleInputErrors, RangeError, dutch_notation
from stikstofcalc.limits import check_xlsx
from stikstofcalc.ranges import RANGES
from stikstofcalc.geo.hexgrid import (  # noqa: F401 - the grid's names, also offered here
    COLUMN_SPACING_M, GRID_ORIGIN_X_M, GRID_ORIGIN_Y_M, HEXAGON_AREA_M2, HEXAGON_HEIGHT_M,
    HEXAGON_RADIUS_M, HEXAGONS_PER_ROW, RD_BOUNDS, ROW_SPACING_M, hexagon_vertices, in_rd_bounds,
    receptor_id_to_xy,
    xy_to_receptor_id)
from stikstofcalc.geo.natura2000 import ATTRIBUTION_NL as ATTRIBUTION, SCREENING_NOTE, load_natura2000
from stikstofcalc.rules import NEARLY_EXCEEDED_MARGIN_MOL_HA_YR, relevant_hexagons
from stikstofcalc.io.imaer.reader import read_gml
from stikstofcalc.io.gpkg import read_gpkg_receptors
from stikstofcalc.io.text import decode_csv, separator

#: Default selection radius [m]: AERIUS stops at 25 km from each source since 20 Jan 2022,
#: upheld by ABRvS 5 Apr 2023 (ECLI:NL:RVS:2023:1299); same value as the engine's cut-off.
DEFAULT_RADIUS_M = CALCULATION_DISTANCE_M

RD_NEW_EPSG = 28992
WGS84_EPSG = 4326


def receptors_within(x, y, x_end=None, y_end=None, *,
                     radius_m: float = DEFAULT_RADIUS_M) -> np.ndarray:
    """All grid hexagons whose centre lies within ``radius_m`` of any of the sources.

    Parameters
    ----------
    x, y : array_like of float
        RD New coordinates of the points (sources), or segment start points [m].
    x_end, y_end : array_like of float, optional
        Segment end points [m] (NaN for points).
    radius_m : float, keyword-only
        Selection radius [m] (AERIUS: 25 km).

    Returns
    -------
    ndarray of int64
        Sorted unique receptor ids (about 196,000 for one point and 25 km). For the
        Natura 2000 hexagons only, use :func:`default_receptors`, which is much faster.
    """
    px, py = _points(x, y)
    allx, ally = px, py
    if x_end is not None:
        ex = np.atleast_1d(np.asarray(x_end, dtype=float)).ravel()
        ey = np.atleast_1d(np.asarray(y_end, dtype=float)).ravel()
        allx = np.concatenate([px, ex[np.isfinite(ex)]])
        ally = np.concatenate([py, ey[np.isfinite(ey)]])
    kmin = max(0, math.ceil((ally.min() - radius_m - GRID_ORIGIN_Y_M) / ROW_SPACING_M))
    kmax = math.floor((ally.max() + radius_m - GRID_ORIGIN_Y_M) / ROW_SPACING_M)
    if kmax < kmin:
        return np.zeros(0, dtype=np.int64)
    cmin = max(0, math.floor((allx.min() - radius_m - GRID_ORIGIN_X_M) / COLUMN_SPACING_M) - 1)
    cmax = min(HEXAGONS_PER_ROW - 1,
               math.ceil((allx.max() + radius_m - GRID_ORIGIN_X_M) / COLUMN_SPACING_M))
    k = np.arange(kmin, kmax + 1, dtype=np.int64)[:, None]
    c = np.arange(cmin, cmax + 1, dtype=np.int64)[None, :]
    rid = (k * HEXAGONS_PER_ROW + c + 1).ravel()
    rx, ry = receptor_id_to_xy(rid)
    keep = distance_to_sources(rx, ry, px, py, x_end, y_end, max_distance_m=radius_m) <= radius_m
    return rid[keep]


def distance_to_sources(x, y, source_x, source_y, source_x_end=None, source_y_end=None, *,
                        max_distance_m: float = np.inf, chunk_pairs: int = 4_000_000) -> np.ndarray:
    """Distance from each receptor to the nearest source point or segment [m].

    Parameters
    ----------
    x, y : array_like of float
        Receptor coordinates [m].
    source_x, source_y : array_like of float
        Source points, or segment start points [m].
    source_x_end, source_y_end : array_like of float, optional
        Segment end points [m]; NaN (or omitted) for point sources.
    max_distance_m : float, keyword-only
        Receptors farther than this from the sources' bounding box are given ``inf``
        without evaluating pairs (a pre-filter) [m].
    chunk_pairs : int, keyword-only
        Memory bound: receptor-source pairs evaluated at once.

    Returns
    -------
    ndarray of float
        Shortest distance [m] (``inf`` where pre-filtered away).

    Notes
    -----
    Compiled with numba (one pass, no pair blocks) when the end points are finite; the
    numpy reference :func:`_distance_numpy` otherwise. Both give the same numbers
    (``tests/geo/test_receptors_fast.py``).
    """
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    sx, sy, ex, ey = _sources(source_x, source_y, source_x_end, source_y_end)
    lo_x, hi_x = min(sx.min(), ex.min()), max(sx.max(), ex.max())
    lo_y, hi_y = min(sy.min(), ey.min()), max(sy.max(), ey.max())
    kernels = _kernels() if np.all(np.isfinite(ex)) and np.all(np.isfinite(ey)) else None
    if kernels is not None:  # compiled: one pass, the same operations per pair
        x, y = np.require(x, requirements="CW"), np.require(y, requirements="CW")  # one signature
        return kernels[0](x, y, *_kernel_sources(sx, sy, ex, ey), float(lo_x), float(hi_x), float(lo_y),
                          float(hi_y), float(max_distance_m))
    return _distance_numpy(x, y, sx, sy, ex, ey, (lo_x, hi_x, lo_y, hi_y), max_distance_m, chunk_pairs)


def _sources(source_x, source_y, source_x_end, source_y_end):
    """Start and end points of the sources (end = start for points), as float arrays."""
    sx, sy = _points(source_x, source_y)
    ex = sx if source_x_end is None else np.broadcast_to(np.asarray(source_x_end, float), sx.shape)
    ey = sy if source_y_end is None else np.broadcast_to(np.asarray(source_y_end, float), sy.shape)
    return sx, sy, np.where(np.isnan(ex), sx, ex), np.where(np.isnan(ey), sy, ey)


def _distance_numpy(x, y, sx, sy, ex, ey, box, max_distance_m, chunk_pairs):
    """Reference of :func:`distance_to_sources` in numpy (pairs in blocks of ``chunk_pairs``)."""
    lo_x, hi_x, lo_y, hi_y = box
    out = np.full(x.shape, np.inf)
    cand = np.flatnonzero((x >= lo_x - max_distance_m) & (x <= hi_x + max_distance_m)
                          & (y >= lo_y - max_distance_m) & (y <= hi_y + max_distance_m))
    # identical sources give identical distances: keep one of each; points (zero-length
    # segments, t = 0) take the short formula px^2 + py^2, the same number
    sx, sy, ex, ey = np.unique(np.stack([sx, sy, ex, ey]), axis=1)
    dx, dy = ex - sx, ey - sy
    len2 = dx * dx + dy * dy
    pt, sg = len2 == 0, len2 > 0
    step = max(1, chunk_pairs // sx.size)
    for start in range(0, cand.size, step):
        idx = cand[start:start + step]
        best = np.full(idx.size, np.inf)
        if pt.any():
            px, py = x[idx, None] - sx[pt], y[idx, None] - sy[pt]
            best = np.min(px * px + py * py, axis=1)
        if sg.any():
            px, py = x[idx, None] - sx[sg], y[idx, None] - sy[sg]
            t = np.clip((px * dx[sg] + py * dy[sg]) / len2[sg], 0, 1)
            qx, qy = px - t * dx[sg], py - t * dy[sg]
            best = np.minimum(best, np.min(qx * qx + qy * qy, axis=1))
        out[idx] = np.sqrt(best)
    return out


def _points(x, y):
    px = np.atleast_1d(np.asarray(x, dtype=float)).ravel()
    py = np.atleast_1d(np.asarray(y, dtype=float)).ravel()
    if px.size == 0 or px.shape != py.shape:
        raise InputError(f"{px.size} x-waarden en {py.size} y-waarden", field="x, y",
                         value=f"{px.size} x, {py.size} y",
                         expected="evenveel x- als y-coördinaten, minstens één")
    if not (np.all(np.isfinite(px)) and np.all(np.isfinite(py))):
        raise InputError("NaN of oneindig", field="x, y", value="NaN of oneindig",
                         expected="eindige RD-coördinaten [m]")
    return px, py


# --------------------------------------------------------------------------- WGS84


@cached(maxsize=2)
def _transformer(to_rd: bool):
    from pyproj import Transformer

    src, dst = (WGS84_EPSG, RD_NEW_EPSG) if to_rd else (RD_NEW_EPSG, WGS84_EPSG)
    return Transformer.from_crs(src, dst, always_xy=True)


def wgs84_to_rd(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 latitude/longitude to RD New (EPSG:28992).

    Parameters
    ----------
    lat, lon : array_like of float
        Latitude and longitude [degrees] (note the order: latitude first).

    Returns
    -------
    x, y : ndarray of float
        RD New coordinates [m].

    Raises
    ------
    RangeError
        If a latitude/longitude lies outside 50-54 N, 2-8 E (roughly the Netherlands and
        its sea; catches swapped columns).

    Notes
    -----
    pyproj/PROJ without the RDNAPTRANS correction grid uses a Helmert-based operation;
    expect deviations of about 0.2-1 m from RDNAPTRANS, small against a 62 m hexagon.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    bad = ~((lat >= 50.0) & (lat <= 54.0) & (lon >= 2.0) & (lon <= 8.0))
    if np.any(bad):
        i = np.flatnonzero(np.broadcast_to(bad, np.broadcast(lat, lon).shape).ravel())[0]
        la, lo = np.broadcast_arrays(lat, lon)
        raise RangeError(f"({la.ravel()[i]}, {lo.ravel()[i]}) ligt niet in Nederland", field="lat, lon",
                         value=f"({la.ravel()[i]}, {lo.ravel()[i]})",
                         expected="breedtegraad 50 tot 54 en lengtegraad 2 tot 8 graden (Nederland)")
    x, y = _transformer(True).transform(lon, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def rd_to_wgs84(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Convert RD New (EPSG:28992) to WGS84.

    Parameters
    ----------
    x, y : array_like of float
        RD New coordinates [m].

    Returns
    -------
    lat, lon : ndarray of float
        Latitude and longitude [degrees].
    """
    lon, lat = _transformer(False).transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)


# --------------------------------------------------------------------------- default set


def default_receptors(x, y, x_end=None, y_end=None, *, radius_m: float = DEFAULT_RADIUS_M,
                      nitrogen_sensitive_only: bool = True) -> pd.DataFrame:
    """Default receptor set: hexagon centres in Natura 2000 areas within ``radius_m``.

    Parameters
    ----------
    x, y : array_like of float
        RD New coordinates of the project's sources (points, or segment starts) [m].
    x_end, y_end : array_like of float, optional
        Segment end points [m] (NaN for points), so line sources count along their length.
    radius_m : float, keyword-only
        Distance from the nearest source [m] (AERIUS: 25 km).
    nitrogen_sensitive_only : bool, keyword-only
        Keep only areas flagged nitrogen-sensitive (RCE); False takes all 160 areas.

    Returns
    -------
    DataFrame
        ``receptor_id``, ``x``, ``y`` [m], ``n2k_number``, ``area_name``, ``distance_m``
        (to the nearest source), sorted by receptor id. ``attrs["notes"]`` holds the
        screening caveat, the missing areas and the attribution, to be echoed in outputs;
        an empty frame means no Natura 2000 hexagon lies within the radius (not an error).

    Notes
    -----
    Pre-filter on the shipped sorted ids: the columns within ``radius_m`` of the sources
    map to one contiguous id range per grid row (``id = 1529 k + c + 1``), found by binary
    search in the (cached) hexagon centres; only those are checked exactly. With numba
    (a dependency) one compiled pass (:func:`_select`) narrows each row's range to the
    columns within ``radius_m`` (+ 1 m) of the sources' bounding box, computes the
    distances with the operations of :func:`distance_to_sources` (the same numbers) and
    gathers the columns; the area names come from a cached per-hexagon column. About
    1.2 ms for a site with an access road (numpy path 3.6 ms).
    """
    return _default_receptors(x, y, x_end, y_end, radius_m=radius_m,
                              nitrogen_sensitive_only=nitrogen_sensitive_only, arrays=False)


def _default_receptors(x, y, x_end, y_end, *, radius_m, nitrogen_sensitive_only, arrays):
    sx, sy = _points(x, y)
    ex = None if x_end is None else np.atleast_1d(np.asarray(x_end, dtype=float)).ravel()
    ey = None if y_end is None else np.atleast_1d(np.asarray(y_end, dtype=float)).ravel()
    ally = sy if ey is None else np.concatenate([sy, ey[np.isfinite(ey)]])
    allx = sx if ex is None else np.concatenate([sx, ex[np.isfinite(ex)]])
    n2k = load_natura2000()
    grid = _n2k_grid(n2k, nitrogen_sensitive_only)
    kmin = max(0, math.floor((ally.min() - radius_m - GRID_ORIGIN_Y_M) / ROW_SPACING_M))
    kmax = math.ceil((ally.max() + radius_m - GRID_ORIGIN_Y_M) / ROW_SPACING_M)
    # per grid row one contiguous id range covers the columns within the radius (one
    # column extra each side for the half-column shift of odd rows)
    cmin = max(0, math.floor((allx.min() - radius_m - GRID_ORIGIN_X_M) / COLUMN_SPACING_M) - 1)
    cmax = min(HEXAGONS_PER_ROW - 1,
               math.ceil((allx.max() + radius_m - GRID_ORIGIN_X_M) / COLUMN_SPACING_M) + 1)
    dsx, dsy, dex, dey = _sources(sx, sy, ex, ey)
    kernels = _kernels() if np.all(np.isfinite(dex)) and np.all(np.isfinite(dey)) else None
    if kernels is not None and kmax >= kmin:
        # compiled: per grid row the columns within the radius of the sources' bounding
        # box (a disc-shaped window inside the id range), then the exact test
        pos, rid, rx, ry, num, dist = kernels[1](grid.row_start, grid.rid, grid.x, grid.y, grid.num64,
                                                 kmin, kmax, cmin, cmax,
                                                 *_kernel_sources(dsx, dsy, dex, dey), float(radius_m))
    else:
        row0 = np.arange(kmin, kmax + 1, dtype=np.int64) * HEXAGONS_PER_ROW
        lo = np.searchsorted(grid.rid, row0 + cmin + 1, side="left")
        hi = np.searchsorted(grid.rid, row0 + cmax + 1, side="right")
        idx = _ranges(lo, hi)
        d = distance_to_sources(grid.x[idx], grid.y[idx], sx, sy, ex, ey, max_distance_m=radius_m)
        keep = d <= radius_m
        pos, dist = idx[keep], d[keep]
        rid, rx, ry, num = grid.rid[pos], grid.x[pos], grid.y[pos], grid.num64[pos]
    if arrays:
        return {"receptor_id": rid, "x": rx, "y": ry, "n2k_number": num, "area_name": grid._hex_names[pos],
                "distance_m": dist, "notes": [SCREENING_NOTE, grid.missing_note, ATTRIBUTION]}
    out = pd.DataFrame({"receptor_id": rid, "x": rx, "y": ry, "n2k_number": num,
                        "area_name": grid.area_names(pos), "distance_m": dist})
    out.attrs["notes"] = [SCREENING_NOTE, grid.missing_note, ATTRIBUTION]
    return out


def default_receptor_arrays(x, y, x_end=None, y_end=None, *, radius_m: float = DEFAULT_RADIUS_M,
                            nitrogen_sensitive_only: bool = True) -> dict:
    """:func:`default_receptors` as plain arrays (no DataFrame; about 0.3 ms less per call).

    Returns
    -------
    dict
        ``receptor_id``, ``x``, ``y``, ``n2k_number`` (int64), ``area_name`` (object
        array of str), ``distance_m``: the columns of :func:`default_receptors`, same
        values and order; ``notes``: its ``attrs["notes"]``.
    """
    return _default_receptors(x, y, x_end, y_end, radius_m=radius_m,
                              nitrogen_sensitive_only=nitrogen_sensitive_only, arrays=True)


_N2K_GRID: dict = register("stikstofcalc.geo.receptors._N2K_GRID", {})


class _Grid:
    """Natura 2000 hexagons of one selection, for :func:`default_receptors` (per process).

    ``rid`` sorted ids, ``num`` area numbers (int16), ``x``, ``y`` centres [m],
    ``row_start[k]`` the first position of grid row ``k`` (``row_start[-1] == rid.size``),
    ``names[num]`` the area name of an area number (as ``Natura2000.area_names``),
    ``missing_note`` the data's note on missing areas.
    """

    def __init__(self, n2k, nitrogen_sensitive_only: bool):
        rid, num = n2k.receptor_id, n2k.n2k_number
        if nitrogen_sensitive_only:
            sensitive = n2k.areas.index[n2k.areas["nitrogen_sensitive"]].to_numpy()
            keep = np.isin(num, sensitive)
            rid, num = rid[keep], num[keep]
        self.n2k = n2k
        self.rid = np.array(rid, dtype=np.int64)  # own writable copies (one compiled signature)
        self.num = np.array(num)
        self.num64 = self.num.astype(np.int64)
        self.x, self.y = receptor_id_to_xy(self.rid)
        n_rows = int((self.rid[-1] - 1) // HEXAGONS_PER_ROW) + 2 if self.rid.size else 1
        self.row_start = np.searchsorted(self.rid, np.arange(n_rows, dtype=np.int64) * HEXAGONS_PER_ROW + 1)
        # names[num] == n2k.area_names(num) for every int16 (others and negatives: area 0's)
        known = np.arange(256)
        named = n2k.area_names(known)
        self.names = np.full(np.iinfo(np.int16).max + 1, named[0], dtype=object)
        self.names[known] = named
        self.missing_note = n2k.missing_note
        # the names column as pandas makes it from str objects (pandas 3: a string array),
        # one entry per hexagon: a take instead of converting the strings per call
        self._hex_names = self.names[self.num]
        dtype = pd.Series(self._hex_names[:1]).dtype
        self._hex_names_pd = (pd.array(self._hex_names, dtype=dtype)
                              if isinstance(dtype, pd.api.extensions.ExtensionDtype) else None)

    def area_names(self, pos):
        """The ``area_name`` column of the hexagons at ``pos`` (as from their str objects)."""
        if self._hex_names_pd is None or pos.size == 0:
            return self._hex_names[pos]
        return self._hex_names_pd.take(pos)


def _n2k_grid(n2k, nitrogen_sensitive_only: bool) -> _Grid:
    """The :class:`_Grid` of the Natura 2000 hexagons (cached per process)."""
    key = (id(n2k), bool(nitrogen_sensitive_only))
    hit = _N2K_GRID.get(key)
    if hit is None or hit.n2k is not n2k:
        hit = _N2K_GRID[key] = _Grid(n2k, nitrogen_sensitive_only)
    return hit


_KERNELS: list = []
_pair_distance2_nb = None  # the compiled _pair_distance2, set by _kernels() before it compiles the callers


def _kernels():
    """(nearest, select): the compiled kernels (compiled lazily, cached), or None on the
    numpy path (:mod:`stikstofcalc.compiled`)."""
    if not compiled.enabled():
        return None
    if not _KERNELS:
        from stikstofcalc.compiled import njit  # loads numba: not at import

        pair = njit(cache=True, inline="always")(_pair_distance2)
        globals()["_pair_distance2_nb"] = pair
        _KERNELS.append((njit(cache=True)(_nearest), njit(cache=True)(_select)))
    return _KERNELS[0]


def _pair_distance2(px, py, sx, sy, dx, dy, len2):
    """Squared distance from (px, py) to the nearest source (start ``sx, sy``, direction
    ``dx, dy = end - start``, ``len2 = dx^2 + dy^2``).

    The operations of :func:`_distance_numpy` in the same order (same numbers): a point
    (zero length) ``px^2 + py^2``, a segment the clipped projection.
    """
    best = np.inf
    for s in range(sx.size):
        ax = px - sx[s]
        ay = py - sy[s]
        if len2[s] == 0:
            d2 = ax * ax + ay * ay
        else:
            t = (ax * dx[s] + ay * dy[s]) / len2[s]
            t = min(max(t, 0.0), 1.0)
            qx = ax - t * dx[s]
            qy = ay - t * dy[s]
            d2 = qx * qx + qy * qy
        best = min(best, d2)
    return best


def _kernel_sources(sx, sy, ex, ey):
    """Arguments of the kernels: contiguous writable float copies of the start and end
    points (a read-only array would compile a second signature), directions and squared
    lengths."""
    sx, sy, ex, ey = (np.array(a, dtype=float) for a in (sx, sy, ex, ey))
    dx, dy = ex - sx, ey - sy
    return sx, sy, ex, ey, dx, dy, dx * dx + dy * dy


def _nearest(x, y, sx, sy, ex, ey, dx, dy, len2, lo_x, hi_x, lo_y, hi_y, max_d):
    """Compiled :func:`distance_to_sources` (inf outside the bounding box + ``max_d``)."""
    out = np.full(x.size, np.inf)
    x0, x1, y0, y1 = lo_x - max_d, hi_x + max_d, lo_y - max_d, hi_y + max_d
    for i in range(x.size):
        if x[i] >= x0 and x[i] <= x1 and y[i] >= y0 and y[i] <= y1:
            out[i] = np.sqrt(_pair_distance2_nb(x[i], y[i], sx, sy, dx, dy, len2))
    return out


def _select(row_start, rid, gx, gy, num, kmin, kmax, cmin, cmax, sx, sy, ex, ey, dx, dy, len2, radius):
    """The hexagons within ``radius``: positions, ids, x, y, area numbers and distances.

    Per grid row ``kmin..kmax``: the id range of columns ``cmin..cmax`` narrowed to the
    columns within ``radius`` (+ 1 m) of the sources' bounding box (a hexagon outside
    that window is farther than ``radius`` from every source); inside it the exact test
    of :func:`default_receptors` (bounding-box pre-filter, then distance <= radius).
    """
    lo_x, hi_x = min(sx.min(), ex.min()), max(sx.max(), ex.max())
    lo_y, hi_y = min(sy.min(), ey.min()), max(sy.max(), ey.max())
    x0, x1, y0, y1 = lo_x - radius, hi_x + radius, lo_y - radius, hi_y + radius
    n_rows = kmax - kmin + 1
    first = np.zeros(n_rows, np.int64)
    last = np.zeros(n_rows, np.int64)
    total = 0
    for i in range(n_rows):
        k = kmin + i
        if k + 1 >= row_start.size:
            break
        a, b = row_start[k], row_start[k + 1]
        if a == b:
            continue
        yk = gy[a]
        gap = max(lo_y - yk, yk - hi_y, 0.0)
        if gap > radius + 1.0:
            continue
        half = np.sqrt(max(radius * radius - gap * gap, 0.0)) + 1.0
        shift = 1.5 * HEXAGON_RADIUS_M * (k % 2)
        c_lo = max(cmin, int(np.floor((lo_x - half - GRID_ORIGIN_X_M - shift) / COLUMN_SPACING_M)) - 1)
        c_hi = min(cmax, int(np.ceil((hi_x + half - GRID_ORIGIN_X_M - shift) / COLUMN_SPACING_M)) + 1)
        if c_hi < c_lo:
            continue
        row0 = k * HEXAGONS_PER_ROW
        first[i] = a + np.searchsorted(rid[a:b], row0 + c_lo + 1)
        last[i] = a + np.searchsorted(rid[a:b], row0 + c_hi + 1, side="right")
        total += last[i] - first[i]
    pos = np.empty(total, np.int64)
    dist = np.empty(total)
    n = 0
    for i in range(n_rows):
        for j in range(first[i], last[i]):
            px, py = gx[j], gy[j]
            if px >= x0 and px <= x1 and py >= y0 and py <= y1:
                d = np.sqrt(_pair_distance2_nb(px, py, sx, sy, dx, dy, len2))
                if d <= radius:
                    pos[n] = j
                    dist[n] = d
                    n += 1
    pos, dist = pos[:n], dist[:n]
    out_rid, out_x, out_y, out_num = np.empty(n, np.int64), np.empty(n), np.empty(n), np.empty(n, np.int64)
    for i in range(n):
        j = pos[i]
        out_rid[i], out_x[i], out_y[i], out_num[i] = rid[j], gx[j], gy[j], num[j]
    return pos, out_rid, out_x, out_y, out_num, dist


def _ranges(lo, hi) -> np.ndarray:
    """Concatenation of ``arange(lo[i], hi[i])`` over i."""
    n = np.maximum(hi - lo, 0)
    total = int(n.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.repeat(lo - np.concatenate([[0], np.cumsum(n)[:-1]]), n)
    return start + np.arange(total, dtype=np.int64)


# --------------------------------------------------------------------------- user file

#: Accepted column names (lower case, spaces/dashes as underscores) -> canonical name.
RECEPTOR_COLUMNS = {
    "receptor_id": ("receptor_id", "receptorid", "receptor", "hexagon_id", "hexagon", "id"),
    "x": ("x", "x_rd", "rd_x", "x_coord", "x_coordinaat"),
    "y": ("y", "y_rd", "rd_y", "y_coord", "y_coordinaat"),
    "lat": ("lat", "latitude", "breedtegraad"),
    "lon": ("lon", "lng", "long", "longitude", "lengtegraad"),
    "area_name": ("area_name", "area", "gebied", "natura2000_area", "natura_2000_gebied", "n2k_name"),
    "habitat": ("habitat", "habitat_type", "habitattype", "habitat_code"),
    "kdw": ("kdw", "kdw_mol_per_ha_per_year", "critical_deposition", "critical_load"),
    "background_deposition": ("background_deposition", "achtergronddepositie", "background",
                              "total_deposition", "totale_depositie"),
    "exceeding": ("exceeding", "overbelast", "overschrijding", "nearly_exceeded", "exceedance"),
    # the receptor's own terrain (as the deposition command reads it): roughness, one OPS
    # land-use class, or the percentages of the nine classes
    "z0_m": ("z0_m", "z0", "z_0", "z0m", "ruwheid", "ruwheid_m", "ruwheidslengte", "ruwheidslengte_m"),
    "landuse": ("landuse", "land_use", "landgebruik", "landgebruiksklasse"),
    **{f"lu_{k}": (f"lu_{k}",) for k in range(1, 10)},
}
_NUMERIC = ("x", "y", "lat", "lon", "kdw", "background_deposition", "z0_m", "landuse",
            *(f"lu_{k}" for k in range(1, 10)))
#: The terrain columns of a receptor file, in the order :func:`receptor_surface` returns them.
TERRAIN_COLUMNS = ("z0_m", "landuse", *(f"lu_{k}" for k in range(1, 10)))
#: Largest roughness length accepted [m] (as the deposition command: 0 < z0_m <= 10 m).
MAX_Z0_M = 10.0
_TRUE = {"true", "1", "ja", "yes", "waar", "j", "y", "wel"}
_FALSE = {"false", "0", "nee", "no", "onwaar", "n", "niet"}
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def read_receptor_file(path, *, sheet: str | int | None = None,
                       margin: float | None = None, row_numbers=None) -> pd.DataFrame:
    """Read a user's receptor set (CSV or Excel) and validate every row.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (comma or semicolon separated, decimal point or comma) or ``.xlsx``.
    sheet : str or int, keyword-only
        Excel sheet (default the first).
    margin : float, keyword-only
        "Nearly exceeded" KDW margin [mol N/ha/yr] (default 70, :mod:`stikstofcalc.rules`).
    row_numbers : array_like of int, keyword-only
        The row number of every data row in the user's own table, for the messages
        (default: the file's, header = row 1), e.g. the rows of a workbook sheet that a
        caller wrote to ``path``.

    Returns
    -------
    DataFrame
        One row per input row, in input order: ``receptor_id`` (the AERIUS hexagon holding
        the point), ``x``, ``y`` [m, RD New], ``row`` (file row number), the optional
        columns given (``area_name``, ``habitat``, ``kdw``, ``background_deposition``,
        ``exceeding``; the receptor's own terrain ``z0_m`` [m], ``landuse`` (OPS class 1-9)
        or ``lu_1`` ... ``lu_9`` [%], empty = from the roughness map) and ``relevant``
        (whether the row counts for the verdict). Several
        rows may share a hexagon (one per habitat); see :func:`collapse_receptors`.

    Raises
    ------
    InputError
        No coordinates (neither ``receptor_id`` nor ``x, y`` nor ``lat, lon``).
    MultipleInputErrors
        Every bad cell, each with file, row, column, value and what was expected.

    Notes
    -----
    Coordinates: ``x, y`` (RD New) win over ``lat, lon`` (WGS84, via pyproj); if only
    ``receptor_id`` is given the hexagon centre is used; when both an id and coordinates
    are given, the point must lie in that hexagon. With ``kdw`` (and
    ``background_deposition``) or ``exceeding`` the rule "relevance" of
    :mod:`stikstofcalc.rules` applies: background > KDW - 70 mol/ha/yr.
    """
    path = Path(path)
    raw = _read_table(path, sheet)
    if len(raw) == 0:  # no receptor at all would give "no Natura 2000 within 25 km": a false 0,00
        name, others = _sheet_names(path, sheet)
        raise InputError("het receptorbestand heeft geen receptoren" + (
            f" (alleen het eerste blad wordt gelezen; het bestand heeft ook {', '.join(others)})"
            if others and sheet is None else ""), file=str(path), sheet=name,
            expected="minstens één rij met een receptor_id, x en y, of lat en lon")
    cols = _map_columns(raw, path)
    errors: list[InputError] = []
    rows = np.arange(len(raw)) + 2 if row_numbers is None else np.asarray(row_numbers, np.int64)  # header row 1
    out = pd.DataFrame({"row": rows})
    for name in _NUMERIC:
        if name in cols:
            out[name] = _numbers(raw[cols[name]], name, cols[name], rows, path, errors)
    for name in ("kdw", "background_deposition"):  # a typo here flips the relevance of a hexagon
        if name in out:
            rng = RANGES[name]
            for i in np.flatnonzero(np.isfinite(out[name]) & ~out[name].map(rng.contains)):
                errors.append(RangeError("ligt buiten het toegestane bereik", file=str(path),
                                         row=int(rows[i]), field=cols[name], value=raw[cols[name]].iloc[i],
                                         expected=f"{rng.describe()} ({rng.why})"))
    if "receptor_id" in cols:
        ids = _numbers(raw[cols["receptor_id"]], "receptor_id", cols["receptor_id"], rows, path, errors)
        bad = ~np.isnan(ids) & ((ids < 1) | (ids != np.round(ids)))
        for i in np.flatnonzero(bad):
            errors.append(InputError(file=str(path), row=int(rows[i]), field=cols["receptor_id"],
                                     value=raw[cols["receptor_id"]].iloc[i],
                                     expected="een geheel AERIUS-receptornummer >= 1"))
        out["receptor_id"] = np.where(bad, np.nan, ids)
    if "exceeding" in cols:
        out["exceeding"] = _flags(raw[cols["exceeding"]], cols["exceeding"], rows, path, errors)
    for name in ("area_name", "habitat"):
        if name in cols:
            out[name] = raw[cols[name]].astype("string").str.strip()
    _check_terrain(out, path, errors, cols)
    if ("kdw" in cols) != ("background_deposition" in cols) and "exceeding" not in cols:
        have, lack = ("kdw", "background_deposition") if "kdw" in cols else ("background_deposition", "kdw")
        errors.append(InputError(f"kolom {lack} ontbreekt", file=str(path), field=lack,
                                 expected=f"een kolom {lack} naast {cols[have]!r}, of een kolom 'exceeding'"))
    _resolve_coordinates(out, path, errors, cols)
    if errors:
        raise MultipleInputErrors(errors, file=str(path))
    kdw = out["kdw"] if "kdw" in out and "background_deposition" in out else None
    bg = out["background_deposition"] if kdw is not None else None
    exc = out["exceeding"] if "exceeding" in out else None
    m = NEARLY_EXCEEDED_MARGIN_MOL_HA_YR if margin is None else margin
    out["relevant"] = np.broadcast_to(relevant_hexagons(kdw, bg, exc, margin=m), len(out))
    out["receptor_id"] = out["receptor_id"].astype(np.int64)
    first = ["receptor_id", "x", "y", "row"]
    out = out[first + [c for c in out.columns if c not in first + ["lat", "lon"]]]
    _check_terrain_per_hexagon(out, path)
    # columns not read (a typo such as xx, yy beside an id column would go unnoticed)
    out.attrs["unused_columns"] = [str(c) for c in raw.columns if c not in set(cols.values())]
    return out


def collapse_receptors(receptors: pd.DataFrame) -> pd.DataFrame:
    """One row per hexagon: relevant if any of its rows is; KDW the lowest; first x, y.

    Parameters
    ----------
    receptors : DataFrame
        As returned by :func:`read_receptor_file`.

    Returns
    -------
    DataFrame
        ``receptor_id``, ``x``, ``y``, ``relevant``, ``n_rows`` and, where present,
        ``kdw`` (min), ``background_deposition`` (max), ``area_name`` and ``habitat``
        (joined with ``;``) and the terrain columns (``z0_m``, ``landuse``, ``lu_1`` ...
        ``lu_9``: one value per hexagon), sorted by first appearance.
    """
    agg = {"x": "first", "y": "first", "relevant": "any", "row": "size"}
    for c, how in (("kdw", "min"), ("background_deposition", "max")):
        if c in receptors:
            agg[c] = how
    for c in ("area_name", "habitat"):
        if c in receptors:
            agg[c] = lambda s: ";".join(dict.fromkeys(s.dropna().astype(str)))
    for c in TERRAIN_COLUMNS:  # one value per hexagon (checked by read_receptor_file)
        if c in receptors:
            agg[c] = "first"
    out = receptors.groupby("receptor_id", sort=False).agg(agg).rename(columns={"row": "n_rows"})
    return out.reset_index()


def _read_table(path: Path, sheet) -> pd.DataFrame:
    if not path.exists():
        raise InputError("bestand niet gevonden", file=str(path), expected="een bestaand CSV- of Excel-bestand")
    suffix = path.suffix.lower()
    if suffix in (".gml", ".xml", ".gpkg"):
        return _read_aerius_receptors(path)
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            check_xlsx(path)  # decompression bombs: refused before anything is unpacked
            return pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object)
        if suffix in (".csv", ".txt"):
            text = decode_csv(path.read_bytes(), path)
            header = text.split("\n", 1)[0]
            sep = separator(header)
            # header=None: a row with more cells than column names is an error, not a
            # silent shift of every column under an inferred index
            cells = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, header=None)
            if cells.empty:
                return pd.DataFrame()
            head = [str(h) for h in cells.iloc[0]]
            twice = sorted({h for h in head if head.count(h) > 1 and h.strip()})
            if twice:
                raise InputError(f"kolom {twice[0]!r} staat meer dan eens in de kopregel", file=str(path),
                                 row=1, field=twice[0], expected="elke kolomnaam één keer")
            return pd.DataFrame(cells.iloc[1:].to_numpy(), columns=head).reset_index(drop=True)
    except InputError:
        raise
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if not m:
            raise InputError(_unreadable(exc, sheet), file=str(path), expected="een CSV- of Excel-tabel") from None
        raise InputError(f"{m.group(3)} cellen maar {m.group(1)} kolomnamen", file=str(path),
                         row=int(m.group(2)), expected="een waarde per kolom") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"is geen geldige UTF-8-tekst (byte {exc.start + 1})", file=str(path),
                         expected="een CSV opgeslagen als UTF-8 (in Excel: 'CSV UTF-8'), of een Excel-werkmap"
                         ) from None
    except (ValueError, KeyError) as exc:
        raise InputError(_unreadable(exc, sheet), file=str(path), expected="een CSV- of Excel-tabel") from None
    raise InputError(f"bestandstype {suffix or '(geen extensie)'} wordt niet gelezen", file=str(path),
                     expected="een .csv- of .xlsx-bestand")


def _sheet_names(path: Path, sheet):
    """An Excel file's sheet read (name) and its other sheets; (None, []) for other files."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return None, []
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        names = list(wb.sheetnames)
    finally:
        wb.close()
    name = sheet if isinstance(sheet, str) else names[sheet or 0]
    return name, [n for n in names if n != name]


def _unreadable(exc, sheet) -> str:
    """Why pandas could not read a table, in Dutch (no Python internals)."""
    text = str(exc)
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if m:
        return f"is niet te lezen als tabel: regel {m[2]} heeft {m[3]} cellen, de kopregel {m[1]}"
    if sheet is not None and "not found" in text:
        return f"heeft geen blad {sheet!r}"
    return "is niet te lezen als CSV- of Excel-tabel"


def _read_aerius_receptors(path: Path) -> pd.DataFrame:
    """AERIUS's receptor sets: IMAER GML ``ReceptorPoint``s (their ``receptorPointId``) or a
    GeoPackage of receptor hexagons (its ``receptor_id`` column and other attributes).

    Only the ids are taken from GML (the hexagon centre follows from the id), as text
    cells, so the usual validation applies with the file's own row numbers (point or
    feature order + 2).
    """
    if path.suffix.lower() == ".gpkg":
        table = read_gpkg_receptors(path)
        return table.astype(object).where(table.notna(), "")

    sit = read_gml(path)
    ids = [p.receptor_id for p in sit.points if p.feature == "ReceptorPoint" and p.receptor_id is not None]
    if not ids:
        raise InputError("geen ReceptorPoint met receptorPointId in het IMAER-bestand", file=str(path),
                         expected="een AERIUS-resultaatbestand (IMAER GML) met ReceptorPoints")
    return pd.DataFrame({"receptor_id": [str(int(i)) for i in ids]}, dtype=object)


def _map_columns(raw: pd.DataFrame, path: Path) -> dict[str, str]:
    norm = {re.sub(r"[\s\-/]+", "_", str(c).strip().lower()): c for c in raw.columns}
    cols = {}
    for name, aliases in RECEPTOR_COLUMNS.items():
        hit = [norm[a] for a in aliases if a in norm]
        if hit:
            cols[name] = hit[0]
    has_xy = "x" in cols and "y" in cols
    has_ll = "lat" in cols and "lon" in cols
    if not (has_xy or has_ll or "receptor_id" in cols):
        raise InputError(f"geen kolom receptor_id, x en y, of lat en lon (wel: {', '.join(map(str, raw.columns))})",
                         file=str(path), field="columns", value=", ".join(map(str, raw.columns)),
                         expected="receptor_id, of x en y (RD New), of lat en lon (WGS84)")
    return cols


def _numbers(col: pd.Series, name, label, rows, path, errors) -> np.ndarray:
    out = np.full(len(col), np.nan)
    for i, v in enumerate(col.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            out[i] = float(v)
            continue
        s = str(v).strip()
        if s == "":
            continue
        if _NUMBER.match(s):
            out[i] = float(s.replace(",", "."))
        else:
            errors.append(InputError(file=str(path), row=int(rows[i]), field=label, value=v,
                                     expected=f"een getal ({name})"))
    return out


#: Land-use percentages of a row must add up to 100 within this [%] (rounding in a table).
PCT_SUM_TOLERANCE = 1.0
#: What the terrain checks expect (one text for calc, batch and deposition).
Z0_EXPECTED = f"een ruwheidslengte in meter: 0 < z0_m <= {MAX_Z0_M:g} m (leeg = uit de ruwheidskaart)"
LANDUSE_EXPECTED = "een OPS-landgebruiksklasse 1-9: " + ", ".join(f"{k} {v}" for k, v in LANDUSE_CLASSES.items())
PCT_SUM_EXPECTED = (f"percentages van de 9 OPS-klassen lu_1..lu_9 die samen 100 zijn "
                    f"(±{PCT_SUM_TOLERANCE:g}; leeg = 0)")
BOTH_EXPECTED = "óf een klasse in landuse, óf percentages in lu_1..lu_9, niet beide"


def terrain_violations(z0=None, landuse=None, pct=None, pct_cols=()) -> list:
    """The rules of a receptor's own terrain, for every reader (``calc``'s receptor files,
    the batch sheet ``receptoren``, ``deposition``): 0 < z0_m <= :data:`MAX_Z0_M`, landuse a
    class 1-9, lu_* percentages >= 0 adding up to 100 (± :data:`PCT_SUM_TOLERANCE`) on a row
    that gives one (empty = 0), and not landuse and lu_* on one row. NaN = not given.

    Returns
    -------
    list of (rule, positions, column, values, message, expected)
        Each broken rule (``"z0"``, ``"class"``, ``"negative"``, ``"sum"``, ``"both"``): the
        row positions (0-based), the column, the values shown, a message for after the
        value ("m is geen ruwheidslengte") and what was expected.
    """
    out = []
    if z0 is not None:
        z0 = np.asarray(z0, float)
        p = np.flatnonzero(~np.isnan(z0) & ~((z0 > 0) & (z0 <= MAX_Z0_M)))
        out.append(("z0", p, "z0_m", z0[p], "m is geen ruwheidslengte", Z0_EXPECTED))
    if landuse is not None:
        lu = np.asarray(landuse, float)
        p = np.flatnonzero(~np.isnan(lu) & ~np.isin(lu, list(LANDUSE_CLASSES)))
        out.append(("class", p, "landuse", lu[p], "is geen landgebruiksklasse", LANDUSE_EXPECTED))
    if pct is not None and len(pct_cols):
        pct = np.asarray(pct, float)
        for k, c in enumerate(pct_cols):
            p = np.flatnonzero(pct[:, k] < 0)
            out.append(("negative", p, c, pct[p, k], "% is negatief", "een percentage >= 0"))
        given = ~np.isnan(pct).all(axis=1)
        tot = np.nansum(pct, axis=1)
        p = np.flatnonzero(given & (np.abs(tot - 100.0) > PCT_SUM_TOLERANCE))
        out.append(("sum", p, pct_cols[0], tot[p], "is de som van de landgebruikspercentages lu_1..lu_9, "
                    "niet 100", PCT_SUM_EXPECTED))
        if landuse is not None:
            p = np.flatnonzero(given & ~np.isnan(np.asarray(landuse, float)))
            out.append(("both", p, "landuse", np.asarray(landuse, float)[p],
                        "in landuse en lu_1..lu_9 op dezelfde rij", BOTH_EXPECTED))
    return [v for v in out if v[1].size]


def _check_terrain(out: pd.DataFrame, path: Path, errors: list, cols: dict) -> None:
    """:func:`terrain_violations` of a receptor file, as errors naming file, row and column."""
    row = out["row"].to_numpy()
    lu_cols = [f"lu_{k}" for k in range(1, 10) if f"lu_{k}" in out]
    found = terrain_violations(out["z0_m"] if "z0_m" in out else None,
                               out["landuse"] if "landuse" in out else None,
                               out[lu_cols].to_numpy(float) if lu_cols else None, lu_cols)
    for rule, positions, column, values, message, expected in found:
        for i, v in zip(positions, values):
            shown = dutch_notation(f"{float(v):g}")
            text = f"{shown} {message}"
            if rule == "sum":
                text = f"de landgebruikspercentages lu_1..lu_9 tellen op tot {shown} in plaats van 100"
                if 0.99 <= v <= 1.01:
                    text += " (percentages als fractie ingevuld, 0,5 voor 50 %?)"
            errors.append(InputError(text, file=str(path), row=int(row[i]), field=cols.get(column, column),
                                     value=float(v), expected=expected))


def _check_terrain_per_hexagon(out: pd.DataFrame, path: Path) -> None:
    """Rows of one hexagon (several habitats) must not give it different terrain: the
    engine computes one value per hexagon, so one of them would be dropped unseen.
    Vectorised: each row is compared with the first row of its hexagon."""
    cols = [c for c in TERRAIN_COLUMNS if c in out]
    if not cols or not out["receptor_id"].duplicated().any():
        return
    vals = out[cols].to_numpy(float, copy=True)  # a copy: filled below (pandas may hand out a view)
    lu = [k for k, c in enumerate(cols) if c.startswith("lu_")]
    if lu:  # compared as the engine takes them (an empty class beside given ones is 0 %)
        vals[:, lu] = empty_classes_as_zero(vals[:, lu])
    vals = np.where(np.isnan(vals), -1.0, vals)  # empty = from the map: a value of its own
    first = out.groupby("receptor_id", sort=False).cumcount().to_numpy() == 0
    lead = pd.Series(np.flatnonzero(first), index=out["receptor_id"].to_numpy()[first])
    head = lead.reindex(out["receptor_id"].to_numpy()).to_numpy()  # first row of each row's hexagon
    differ = vals != vals[head]  # (rows, columns)
    if not differ.any():
        return
    errors = []
    rows, rid = out["row"].to_numpy(), out["receptor_id"].to_numpy()
    bad_hex = pd.unique(rid[differ.any(axis=1)])
    for h in bad_hex:  # one message per hexagon and column (few: these are the errors)
        at = np.flatnonzero(rid == h)
        for k in np.flatnonzero(differ[at].any(axis=0)):
            c = cols[k]
            v = out[c].to_numpy(float)[at]
            errors.append(InputError(
                f"de rijen {', '.join(str(r) for r in rows[at])} liggen in dezelfde hexagon {int(h)} maar "
                f"geven een andere {c}", file=str(path), row=int(rows[at[0]]), field=c,
                value=", ".join("leeg" if np.isnan(a) else f"{a:g}" for a in v),
                expected=f"één {c} per hexagon (dezelfde waarde op elke rij van de hexagon)"))
    raise MultipleInputErrors(errors, file=str(path))


def receptor_surface(receptors: pd.DataFrame):
    """The receptors' own terrain from a receptor table, for the engine, or None.

    Returns
    -------
    None, or (z0_m, landuse, lu_pct)
        ``z0_m`` [m], (n,), NaN = from the map; ``landuse`` int (n,), 0 = from the map;
        ``lu_pct`` (n, 9) [%], rows of NaN = not given (or None without ``lu_*`` columns):
        the fields of :class:`stikstofcalc.deposition.arrays.ReceptorArrays`.
    """
    if not any(c in receptors for c in TERRAIN_COLUMNS):
        return None
    n = len(receptors)
    z0 = receptors["z0_m"].to_numpy(float) if "z0_m" in receptors else np.full(n, np.nan)
    lu = receptors["landuse"].to_numpy(float) if "landuse" in receptors else np.full(n, np.nan)
    lu = np.where(np.isnan(lu), 0, lu).astype(np.int64)
    pct = None
    lu_cols = [f"lu_{k}" for k in range(1, 10)]
    if any(c in receptors for c in lu_cols):
        pct = empty_classes_as_zero(np.column_stack(
            [receptors[c].to_numpy(float) if c in receptors else np.full(n, np.nan) for c in lu_cols]))
    return z0, lu, pct


def empty_classes_as_zero(pct) -> np.ndarray:
    """Land-use percentages (n, k) with an empty class on a row that gives some as 0 %; a row
    that gives none stays NaN (from the map). A new array."""
    pct = np.array(pct, float)
    some = ~np.isnan(pct).all(axis=1)
    pct[some] = np.nan_to_num(pct[some])
    return pct


def own_landuse(surface) -> np.ndarray:
    """Which receptors of a terrain ``surface`` (:func:`receptor_surface`) give their own land
    use (a class, or percentages), bool (n,)."""
    _, lu, pct = surface
    own = np.asarray(lu) > 0
    return own if pct is None else own | ~np.isnan(pct).all(axis=1)


def _flags(col: pd.Series, label, rows, path, errors) -> np.ndarray:
    out = np.full(len(col), np.nan)
    for i, v in enumerate(col.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "":
            continue
        s = str(v).strip().lower()
        if isinstance(v, bool) or s in _TRUE | _FALSE:
            out[i] = float(bool(v)) if isinstance(v, bool) else float(s in _TRUE)
        else:
            errors.append(InputError(file=str(path), row=int(rows[i]), field=label, value=v,
                                     expected="ja/nee (waar/onwaar, true/false, 1/0)"))
    return out


def _resolve_coordinates(out: pd.DataFrame, path: Path, errors: list, labels=None) -> None:
    """x, y (RD New) of every row: given, from lat, lon, or the hexagon of receptor_id.
    ``labels``: the file's column name of each field (for the messages)."""
    labels = labels or {}
    n = len(out)
    x = out["x"].to_numpy() if "x" in out else np.full(n, np.nan)
    y = out["y"].to_numpy() if "y" in out else np.full(n, np.nan)
    if "lat" in out:
        ll = ~np.isnan(out["lat"].to_numpy()) & ~np.isnan(out["lon"].to_numpy()) & np.isnan(x)
        if ll.any():
            lat, lon = out["lat"].to_numpy()[ll], out["lon"].to_numpy()[ll]
            bad = ~((lat >= 50) & (lat <= 54) & (lon >= 2) & (lon <= 8))
            for i in np.flatnonzero(ll)[bad]:
                errors.append(InputError(file=str(path), row=int(out["row"].iloc[i]), field="lat, lon",
                                         value=f"{out['lat'].iloc[i]}, {out['lon'].iloc[i]}",
                                         expected="breedtegraad 50 tot 54 en lengtegraad 2 tot 8 graden (WGS84)"))
            ok = np.flatnonzero(ll)[~bad]
            if ok.size:
                x[ok], y[ok] = wgs84_to_rd(out["lat"].to_numpy()[ok], out["lon"].to_numpy()[ok])
    rid = out["receptor_id"].to_numpy() if "receptor_id" in out else np.full(n, np.nan)
    have_id = ~np.isnan(rid)
    half = np.zeros(n, dtype=bool)
    for a, b, what in (("x", "y", "RD New, m"), ("lat", "lon", "WGS84")):
        va = out[a].to_numpy() if a in out else np.full(n, np.nan)
        vb = out[b].to_numpy() if b in out else np.full(n, np.nan)
        for lack, have, bad in ((a, b, np.isnan(va) & ~np.isnan(vb)), (b, a, ~np.isnan(va) & np.isnan(vb))):
            half |= bad  # half a pair would be dropped silently (the id or the other pair used)
            for i in np.flatnonzero(bad):
                errors.append(InputError("ontbreekt", file=str(path), row=int(out["row"].iloc[i]),
                                         field=labels.get(lack, lack), expected=f"{lack} naast {have} ({what})"))
    have_xy = ~np.isnan(x) & ~np.isnan(y)
    for i in np.flatnonzero(~have_xy & ~have_id & ~half):
        errors.append(InputError("receptor_id en coördinaten ontbreken", file=str(path),
                                 row=int(out["row"].iloc[i]), field=labels.get("receptor_id", "receptor_id"),
                                 expected="receptor_id, x en y, of lat en lon"))
    cx, cy = receptor_id_to_xy(np.where(have_id, rid, 1).astype(np.int64))
    from_xy = xy_to_receptor_id(np.where(have_xy, x, cx), np.where(have_xy, y, cy), outside="zero")
    for i in np.flatnonzero(have_xy & ((from_xy == 0) | ~in_rd_bounds(x, y))):
        errors.append(InputError(file=str(path), row=int(out["row"].iloc[i]), field="x, y",
                                 value=f"{x[i]}, {y[i]}", expected="RD New-coördinaten in Nederland"))
    off_grid = (from_xy != np.where(have_id, rid, 0)) | ~in_rd_bounds(cx, cy)
    for i in np.flatnonzero(have_id & ~have_xy & off_grid):
        errors.append(InputError(f"receptornummer {int(rid[i])} ligt niet in het AERIUS-rooster van Nederland",
                                 file=str(path), row=int(out["row"].iloc[i]), field="receptor_id",
                                 value=int(rid[i]), expected="een AERIUS-receptornummer van een hexagon in "
                                                             "Nederland (zoals 4706906)"))
    clash = have_xy & have_id & (from_xy != 0) & (from_xy != np.where(have_id, rid, 0))
    for i in np.flatnonzero(clash):
        errors.append(InputError(file=str(path), row=int(out["row"].iloc[i]), field="receptor_id",
                                 value=int(rid[i]),
                                 expected=f"de hexagon waarin ({x[i]:.1f}, {y[i]:.1f}) ligt: "
                                          f"{int(from_xy[i])}"))
    out["x"] = np.where(have_xy, x, cx)
    out["y"] = np.where(have_xy, y, cy)
    out["receptor_id"] = np.where(have_id, rid, from_xy)
