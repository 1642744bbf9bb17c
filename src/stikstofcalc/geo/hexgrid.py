"""The AERIUS hexagon grid: receptor ids <-> RD New coordinates, hexagon corners.

AERIUS calculates deposition on the centres of 1 ha hexagons laid out on a fixed grid in
RD New (EPSG:28992). The grid (verified against AERIUS check values; see
``docs/receptors.md``)::

    r = sqrt(2 * 10000 / (3 * sqrt(3))) = 62.0403 m      hexagon radius (centre to vertex)
    h = sqrt(3) * r                                       hexagon height (flat-topped)
    i = id - 1,  c = i mod 1529,  k = i div 1529          column and row
    x = 3604 + 3 r c + (1.5 r if k odd else 0)
    y = 296800 + k h / 2

The centres form a regular triangular lattice with spacing ``sqrt(3) r``; the hexagon of a
receptor is exactly the set of points nearer to its centre than to any other centre
(Voronoi cell), which is what :func:`xy_to_receptor_id` uses. Bottom layer of ``geo``:
depends on numpy and :mod:`stikstofcalc.errors` only.
"""

from __future__ import annotations

import math

import numpy as np

from stikstofcalc.errors import RangeError

#: Area of one AERIUS hexagon [m2] (1 ha).
HEXAGON_AREA_M2 = 10_000.0
#: Hexagon radius, centre to vertex = edge length [m]: sqrt(2 A / (3 sqrt 3)) = 62.0403 m.
HEXAGON_RADIUS_M = math.sqrt(2.0 * HEXAGON_AREA_M2 / (3.0 * math.sqrt(3.0)))
#: Hexagon height, flat side to flat side [m]: sqrt(3) r = 107.457 m.
HEXAGON_HEIGHT_M = math.sqrt(3.0) * HEXAGON_RADIUS_M
#: Distance between centres in one grid row [m]: 3 r.
COLUMN_SPACING_M = 3.0 * HEXAGON_RADIUS_M
#: Distance between two consecutive grid rows [m]: h / 2.
ROW_SPACING_M = HEXAGON_HEIGHT_M / 2.0
#: RD coordinates of receptor 1 [m].
GRID_ORIGIN_X_M = 3604.0
GRID_ORIGIN_Y_M = 296800.0
#: Hexagons per grid row.
HEXAGONS_PER_ROW = 1529
#: Plausible RD New (EPSG:28992) coordinates [m]: the Netherlands with a wide margin.
#: Catches WGS84 degrees, swapped x/y and receptor ids off the Dutch part of the grid;
#: not a statement about the meteo domain.
RD_BOUNDS = {"x": (-50_000.0, 350_000.0), "y": (250_000.0, 700_000.0)}


def in_rd_bounds(x, y) -> np.ndarray:
    """Whether points lie within :data:`RD_BOUNDS` (bool array; NaN is outside)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    (xlo, xhi), (ylo, yhi) = RD_BOUNDS["x"], RD_BOUNDS["y"]
    return (x >= xlo) & (x <= xhi) & (y >= ylo) & (y <= yhi)


# --------------------------------------------------------------------------- grid


def receptor_id_to_xy(receptor_id) -> tuple[np.ndarray, np.ndarray]:
    """RD New coordinates of AERIUS hexagon centres.

    Parameters
    ----------
    receptor_id : array_like of int
        AERIUS receptor ids (>= 1).

    Returns
    -------
    x, y : ndarray of float
        Centre coordinates [m], RD New (EPSG:28992), same shape as ``receptor_id``.

    Raises
    ------
    RangeError
        If an id is below 1 or not an integer.

    Notes
    -----
    ``i = id - 1``, ``c = i mod 1529``, ``k = i div 1529``;
    ``x = 3604 + 3 r c + 1.5 r (k mod 2)``, ``y = 296800 + k h / 2``.

    References
    ----------
    AERIUS receptor grid of RIVM/BIJ12 (see NOTICE.md, "AERIUS receptor grid")
    (check values: id 1 -> (3604, 296800); 4706906 -> (123279.78, 462176.31)).
    """
    rid = as_ids(receptor_id)
    i = rid - 1
    c = i % HEXAGONS_PER_ROW
    k = i // HEXAGONS_PER_ROW
    x = GRID_ORIGIN_X_M + COLUMN_SPACING_M * c + 1.5 * HEXAGON_RADIUS_M * (k % 2)
    y = GRID_ORIGIN_Y_M + ROW_SPACING_M * k
    return x, y


def xy_to_receptor_id(x, y, *, outside: str = "raise") -> np.ndarray:
    """AERIUS id of the hexagon that contains each point.

    Parameters
    ----------
    x, y : array_like of float
        RD New coordinates [m]; broadcast against each other.
    outside : {"raise", "zero"}, keyword-only
        What to do with points whose hexagon lies outside the grid (west of the first
        column, east of column 1529, or south of the first row): raise
        :class:`RangeError` (default) or return id 0 for them.

    Returns
    -------
    ndarray of int64
        Receptor ids.

    Notes
    -----
    In lattice units ``u = (x - 3604) / (1.5 r)``, ``v = (y - 296800) / (h / 2)`` the centres
    are the integer points with ``u + v`` even. The lattice cell ``[floor u, floor u + 1] x
    [floor v, floor v + 1]`` meets only the Voronoi cells (hexagons) of its two corners with
    even coordinate sum, so the nearer of those two (in metres) is the containing hexagon.
    A point exactly on an edge goes to the lower of the two candidate rows/columns as
    decided by ``<=``; this is deterministic but AERIUS's own tie rule is not known.
    """
    if outside not in ("raise", "zero"):
        raise ValueError(f"outside must be 'raise' or 'zero', not {outside!r}")
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise RangeError("NaN of oneindig", field="x, y", value="NaN of oneindig",
                         expected="eindige RD-coördinaten [m]")
    u = (x - GRID_ORIGIN_X_M) / (1.5 * HEXAGON_RADIUS_M)
    v = (y - GRID_ORIGIN_Y_M) / ROW_SPACING_M
    u0, v0 = np.floor(u), np.floor(v)
    even = (u0 + v0) % 2 == 0
    # the two lattice corners with even coordinate sum
    ua = np.where(even, u0, u0 + 1)
    ub = np.where(even, u0 + 1, u0)
    va, vb = v0, v0 + 1
    da = ((u - ua) * 1.5 * HEXAGON_RADIUS_M) ** 2 + ((v - va) * ROW_SPACING_M) ** 2
    db = ((u - ub) * 1.5 * HEXAGON_RADIUS_M) ** 2 + ((v - vb) * ROW_SPACING_M) ** 2
    q = np.where(da <= db, ua, ub).astype(np.int64)
    k = np.where(da <= db, va, vb).astype(np.int64)
    c = (q - (k % 2)) // 2
    ok = (c >= 0) & (c < HEXAGONS_PER_ROW) & (k >= 0)
    rid = np.where(ok, k * HEXAGONS_PER_ROW + c + 1, 0)
    if outside == "raise" and not np.all(ok):
        bad = np.flatnonzero(~ok.ravel())[0]
        raise RangeError(f"({x.ravel()[bad]:.1f}, {y.ravel()[bad]:.1f}) ligt buiten het AERIUS-rooster",
                         field="x, y", value=f"({x.ravel()[bad]:.1f}, {y.ravel()[bad]:.1f})",
                         expected="RD New-coördinaten op het AERIUS-rooster "
                                  f"(x van {GRID_ORIGIN_X_M:.0f} tot ongeveer 288000, y >= {GRID_ORIGIN_Y_M:.0f})")
    return rid


def hexagon_vertices(receptor_id) -> np.ndarray:
    """Corner coordinates of hexagons, for maps.

    Parameters
    ----------
    receptor_id : array_like of int

    Returns
    -------
    ndarray, shape (..., 6, 2)
        RD New corner coordinates [m], counter-clockwise starting east of the centre
        (flat-topped hexagons: corners at 0, 60, ..., 300 degrees).
    """
    x, y = receptor_id_to_xy(receptor_id)
    ang = np.deg2rad(np.arange(6) * 60.0)
    vx = x[..., None] + HEXAGON_RADIUS_M * np.cos(ang)
    vy = y[..., None] + HEXAGON_RADIUS_M * np.sin(ang)
    return np.stack([vx, vy], axis=-1)


def as_ids(receptor_id) -> np.ndarray:
    """Receptor ids as int64, refusing non-integers and ids below 1."""
    a = np.asarray(receptor_id)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise RangeError("geen geheel getal", field="receptor_id", value="geen geheel getal",
                             expected="gehele AERIUS-receptornummers >= 1")
    elif a.dtype.kind not in "iu":
        raise RangeError(f"type {a.dtype} is geen geheel getal", field="receptor_id", value=str(a.dtype),
                         expected="gehele receptornummers")
    a = a.astype(np.int64)
    if a.size and a.min() < 1:
        raise RangeError(field="receptor_id", value=int(a.min()), expected="AERIUS-receptornummers >= 1")
    return a
