"""Source geometry: WKT, polygons, rectangles and polylines -> elementary sources.

The core (:mod:`.core`) knows three elementary source kinds: points, axis-aligned
squares (``area_side_m``, centred on x, y) and straight segments (x, y -> x_end,
y_end). This module turns everything else into those:

- a polygon (rectangle, rotated, concave, with holes, or a multipolygon) becomes a
  set of squares from an adaptive quadtree over its bounding box: squares entirely
  inside keep their cell; squares on the boundary carry the emission of the part of
  the cell inside the polygon and are shrunk to a square of that area, centred on the
  centroid of the inside part (kept within the cell). Emission is split by area
  inside, so the emission density is uniform and the total is conserved exactly;
- a polyline becomes its straight segments, emission split by length share.

No shapely: a small WKT reader for ``POINT``, ``LINESTRING``, ``POLYGON`` and
``MULTIPOLYGON`` (2-D, RD New metres; an optional ``SRID=28992;`` prefix is accepted).
All per-vertex and per-cell work is vectorised with numpy; only the loop over
parent sources with a geometry is in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from stikstofcalc.errors import InputError, nl_int
from stikstofcalc.ranges import MAX_POINTS
from stikstofcalc.deposition.arrays import CALIBRATED_RANGES

#: Default coverage tolerance: refine the quadtree until the boundary squares hold at
#: most this fraction of a polygon's area (the rest sits in squares entirely inside).
#: Boundary squares keep their emission at the centroid of their inside part, so the
#: effect on deposition is far smaller than this fraction: for a 2 ha L-shaped site
#: (examples/sources.csv, S1) 0.2 (222 squares) differs from 0.002 (1002 squares) by
#: at most 0.2 % at receptors inside, on the edge and 0.1-3 km away (docs/deposition_io.md).
AREA_TOLERANCE = 0.2
#: Largest number of squares one polygon may be split into.
MAX_SQUARES = 1000
#: Smallest square side the refinement goes down to [m].
MIN_SIDE_M = 1.0
#: Largest square side [m]: the calibrated area-source range of the core.
MAX_SIDE_M = CALIBRATED_RANGES["area_side_m"][1]


@dataclass(frozen=True)
class Geometry:
    """A parsed 2-D geometry in RD New [m].

    Attributes
    ----------
    kind : ``"point"``, ``"linestring"`` or ``"polygon"`` (a multipolygon is a polygon
        with several parts)
    coords : for a point and a linestring, an ``(n, 2)`` array of vertices
    polygons : for a polygon, a list of parts; each part a list of closed rings
        (``(n, 2)`` arrays, first == last), the exterior first, then the holes
    """

    kind: str
    coords: np.ndarray | None = None
    polygons: list = field(default_factory=list)

    @property
    def area_m2(self) -> float:
        """Area of a polygon [m2] (exterior minus holes, summed over parts); 0 otherwise."""
        if self.kind != "polygon":
            return 0.0
        return float(sum(abs(_signed_area(p[0])) - sum(abs(_signed_area(h)) for h in p[1:])
                         for p in self.polygons))

    @property
    def length_m(self) -> float:
        """Length of a linestring [m]; 0 otherwise."""
        if self.kind != "linestring":
            return 0.0
        return float(np.hypot(*np.diff(self.coords, axis=0).T).sum())

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) [m]."""
        pts = self.coords if self.kind != "polygon" else np.vstack(
            [r for p in self.polygons for r in p])
        return (*pts.min(axis=0), *pts.max(axis=0))


@dataclass
class Elementary:
    """Elementary sources from :func:`expand`, as parallel arrays.

    Attributes
    ----------
    x, y : centre (square, point) or start (segment) [m]
    area_side_m : square side [m], 0 for points and segments
    x_end, y_end : segment end [m], NaN otherwise
    weight : share of the parent's emission [-]; sums to 1 per parent
    parent : index (0-based position) of the parent row in the input
    """

    x: np.ndarray
    y: np.ndarray
    area_side_m: np.ndarray
    x_end: np.ndarray
    y_end: np.ndarray
    weight: np.ndarray
    parent: np.ndarray

    def __len__(self):
        return self.x.shape[0]


# --------------------------------------------------------------------------- WKT

_TOKEN = re.compile(r"\s*(?:([A-Za-z]+)|(\()|(\))|(,)|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))")
_KINDS = {"POINT", "LINESTRING", "POLYGON", "MULTIPOLYGON"}
_WKT_EXPECTED = ("WKT POINT, LINESTRING, POLYGON of MULTIPOLYGON in RD New-meters, "
                 "bijv. POLYGON ((172000 460000, 172100 460000, 172100 460080, 172000 460000))")


#: What the WKT reader expected, in words (for "onjuiste WKT: ... verwacht").
_WKT_TOKENS = {"(": "'('", ")": "')'", ",": "','", "n": "een getal", "w": "een woord"}


def _tokens(text: str):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise InputError(f"WKT niet te lezen bij {text[pos:pos + 15]!r}", expected=_WKT_EXPECTED)
        word, lp, rp, comma, num = m.groups()
        out.append(("w", word.upper()) if word else ("(", None) if lp else (")", None)
                   if rp else (",", None) if comma else ("n", float(num)))
        pos = m.end()
    return out


class _Reader:
    def __init__(self, tokens):
        self.t, self.i = tokens, 0

    def take(self, kind):
        if self.i >= len(self.t) or self.t[self.i][0] != kind:
            got = ("het einde van de tekst" if self.i >= len(self.t)
                   else repr(self.t[self.i][1] or self.t[self.i][0]))
            raise InputError(f"onjuiste WKT: {got} gevonden waar {_WKT_TOKENS.get(kind, repr(kind))} hoort",
                             expected=_WKT_EXPECTED)
        self.i += 1
        return self.t[self.i - 1][1]

    def peek(self):
        return self.t[self.i][0] if self.i < len(self.t) else None

    def coords(self):
        """``( x y, x y, ... )`` -> (n, 2) array."""
        self.take("(")
        pts = []
        while True:
            pt = [self.take("n")]
            while self.peek() == "n":
                pt.append(self.take("n"))
            if len(pt) != 2:
                raise InputError(f"een WKT-hoekpunt heeft {len(pt)} coördinaten",
                                 expected="2D-paren x y")
            pts.append(pt)
            if self.peek() != ",":
                break
            self.take(",")
        self.take(")")
        return np.asarray(pts, dtype=float)

    def nested(self, depth):
        if depth == 0:
            return self.coords()
        self.take("(")
        items = [self.nested(depth - 1)]
        while self.peek() == ",":
            self.take(",")
            items.append(self.nested(depth - 1))
        self.take(")")
        return items


def parse_wkt(text: str) -> Geometry:
    """Read a 2-D WKT geometry (RD New metres) and validate it.

    Parameters
    ----------
    text : str
        ``POINT (x y)``, ``LINESTRING (x y, ...)``, ``POLYGON ((x y, ...), (hole), ...)`` or
        ``MULTIPOLYGON (((...)), ((...)))``; keywords in any case; an optional ``SRID=28992;``
        prefix.

    Returns
    -------
    Geometry

    Raises
    ------
    InputError
        Malformed text, an unsupported type, ``EMPTY``, Z/M coordinates, another SRID, or an
        invalid geometry (see :func:`validate`).
    """
    body = str(text).strip()
    m = re.match(r"(?i)^SRID=(\d+);", body)
    if m:
        if m.group(1) != "28992":
            raise InputError(f"SRID {m.group(1)} wordt niet ondersteund", expected="RD New, SRID=28992")
        body = body[m.end():]
    r = _Reader(_tokens(body))
    if r.peek() != "w":
        raise InputError("WKT moet beginnen met een geometrietype", expected=_WKT_EXPECTED)
    kind = r.take("w")
    if kind not in _KINDS:
        raise InputError(f"WKT-type {kind} wordt niet ondersteund", expected=_WKT_EXPECTED)
    if r.peek() == "w":
        word = r.take("w")
        msg = "lege geometrie" if word == "EMPTY" else f"WKT-coördinaten {word} worden niet ondersteund"
        raise InputError(msg, expected="2D-coördinaten (x y)")
    depth = {"POINT": 0, "LINESTRING": 0, "POLYGON": 1, "MULTIPOLYGON": 2}[kind]
    value = r.nested(depth)
    if r.peek() is not None:
        raise InputError("onverwachte tekst na de WKT-geometrie", expected=_WKT_EXPECTED)
    n = _vertex_count(value, depth)
    if n > MAX_POINTS:  # the ring checks grow with the square, a line's segments with the count
        raise InputError(f"de geometrie heeft {nl_int(n)} hoekpunten",
                         expected=f"hoogstens {nl_int(MAX_POINTS)} hoekpunten (vereenvoudig de lijn of het vlak; "
                                  "voor de depositie op kilometers afstand doet die detaillering er niet "
                                  "toe)")
    if kind == "POINT":
        geom = Geometry("point", coords=value)
    elif kind == "LINESTRING":
        geom = Geometry("linestring", coords=value)
    else:
        geom = Geometry("polygon", polygons=[value] if kind == "POLYGON" else value)
    validate(geom)
    return _oriented(geom)


def _vertex_count(value, depth: int) -> int:
    """All vertices of a parsed WKT body (``depth``: 0 coordinates, 1 rings, 2 polygons)."""
    if depth == 0:
        return len(value)
    return sum(_vertex_count(v, depth - 1) for v in value)


def validate(geom: Geometry) -> None:
    """Check a geometry; raise :class:`InputError` on the first problem.

    Points: one finite vertex. Linestrings: >= 2 finite vertices and a length > 0 (self-
    intersection is allowed). Polygon rings: >= 4 vertices, closed (first == last), finite,
    area > 0, no crossing edges; holes inside their exterior.
    """
    if geom.kind == "point":
        if geom.coords.shape != (1, 2) or not np.isfinite(geom.coords).all():
            raise InputError("een punt heeft één eindig hoekpunt x y nodig", expected="POINT (x y)")
        return
    if geom.kind == "linestring":
        c = geom.coords
        if len(c) < 2 or not np.isfinite(c).all():
            raise InputError(f"een lijn heeft minstens 2 eindige hoekpunten nodig, niet {len(c)}",
                             expected="LINESTRING (x1 y1, x2 y2, ...)")
        if geom.length_m <= 0.0:
            raise InputError("de lijn heeft lengte 0", expected="een lijn met verschillende hoekpunten")
        return
    for k, part in enumerate(geom.polygons, start=1):
        for j, ring in enumerate(part):
            which = f"veelhoek {k}, " * (len(geom.polygons) > 1) + (
                "buitenring" if j == 0 else f"gat {j}")
            _validate_ring(ring, which)
            if j > 0 and not points_in_polygon(ring[:-1, 0], ring[:-1, 1], [part[0]],
                                               boundary=True).all():
                raise InputError(f"{which} ligt niet binnen de buitenring",
                                 expected="gaten binnen hun veelhoek")
        left = abs(_signed_area(part[0])) - sum(abs(_signed_area(h)) for h in part[1:])
        if left <= 1e-9 * abs(_signed_area(part[0])):  # the emission would have no area to go to
            which = f"veelhoek {k}" if len(geom.polygons) > 1 else "de veelhoek"
            raise InputError(f"de gaten van {which} bedekken de hele buitenring: er blijft geen "
                             "oppervlak over voor de emissie",
                             expected="gaten die samen kleiner zijn dan de buitenring")


def _validate_ring(ring, which):
    if not np.isfinite(ring).all():
        raise InputError(f"{which} heeft een niet-eindige coördinaat", expected="eindige getallen")
    if len(ring) > 1 and not np.array_equal(ring[0], ring[-1]):
        raise InputError(f"{which} is niet gesloten: begint bij {ring[0][0]:g} {ring[0][1]:g} "
                         f"en eindigt bij {ring[-1][0]:g} {ring[-1][1]:g}",
                         expected="het laatste hoekpunt gelijk aan het eerste")
    if len(ring) < 4:
        raise InputError(f"{which} heeft {len(ring)} hoekpunten",
                         expected="een gesloten ring van minstens 4 hoekpunten (eerste = laatste)")
    if _ring_self_intersects(ring):
        raise InputError(f"{which} snijdt zichzelf", expected="een enkelvoudige ring (geen kruisende zijden)")
    if abs(_signed_area(ring)) <= 0.0:
        raise InputError(f"{which} heeft oppervlakte 0", expected="een ring die een oppervlak omsluit")


def _signed_area(ring) -> float:
    x, y = ring[:, 0] - ring[0, 0], ring[:, 1] - ring[0, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def _oriented(geom: Geometry) -> Geometry:
    """Exterior rings counter-clockwise, holes clockwise (drops repeated vertices)."""
    if geom.kind != "polygon":
        return geom
    parts = []
    for part in geom.polygons:
        rings = []
        for j, ring in enumerate(part):
            keep = np.r_[True, np.any(np.diff(ring, axis=0) != 0, axis=1)]
            ring = ring[keep]
            ccw = _signed_area(ring) > 0
            rings.append(ring if ccw == (j == 0) else ring[::-1].copy())
        parts.append(rings)
    return Geometry("polygon", polygons=parts)


def _ring_self_intersects(ring, chunk=2_000_000) -> bool:
    """True if two non-adjacent edges of a closed ring touch or cross (vectorised, O(n^2))."""
    p, q = ring[:-1] - ring[0], ring[1:] - ring[0]
    n = len(p)
    keep = np.any(p != q, axis=1)              # repeated vertices are not edges
    p, q = p[keep], q[keep]
    n = len(p)
    if n < 4:
        return False
    step = max(1, chunk // n)
    for i0 in range(0, n, step):
        i = np.arange(i0, min(n, i0 + step))[:, None]
        j = np.arange(n)[None, :]
        # only pairs j > i + 1, and not (first, last) which share the closing vertex
        mask = (j > i + 1) & ~((i == 0) & (j == n - 1))
        if not mask.any():
            continue
        hit = _segments_touch(p[i, 0], p[i, 1], q[i, 0], q[i, 1],
                              p[j, 0], p[j, 1], q[j, 0], q[j, 1])
        if np.any(hit & mask):
            return True
    return False


def _segments_touch(ax, ay, bx, by, cx, cy, dx, dy):
    """Segments AB and CD share at least one point (broadcast arrays)."""
    def orient(px, py, qx, qy, rx, ry):
        return np.sign((qx - px) * (ry - py) - (qy - py) * (rx - px))

    def on_seg(px, py, qx, qy, rx, ry):  # r collinear with pq: is it within the box?
        return ((np.minimum(px, qx) <= rx) & (rx <= np.maximum(px, qx))
                & (np.minimum(py, qy) <= ry) & (ry <= np.maximum(py, qy)))

    o1, o2 = orient(ax, ay, bx, by, cx, cy), orient(ax, ay, bx, by, dx, dy)
    o3, o4 = orient(cx, cy, dx, dy, ax, ay), orient(cx, cy, dx, dy, bx, by)
    proper = (o1 * o2 < 0) & (o3 * o4 < 0)
    return (proper | ((o1 == 0) & on_seg(ax, ay, bx, by, cx, cy))
            | ((o2 == 0) & on_seg(ax, ay, bx, by, dx, dy))
            | ((o3 == 0) & on_seg(cx, cy, dx, dy, ax, ay))
            | ((o4 == 0) & on_seg(cx, cy, dx, dy, bx, by)))


def segment_distance(px, py, ax, ay, bx, by):
    """Distance from points (n,) to segments (m,) -> (n, m) [m]."""
    dx, dy = bx - ax, by - ay
    len2 = np.where(dx * dx + dy * dy > 0, dx * dx + dy * dy, 1.0)
    t = np.clip(((px[:, None] - ax) * dx + (py[:, None] - ay) * dy) / len2, 0.0, 1.0)
    return np.hypot(px[:, None] - ax - t * dx, py[:, None] - ay - t * dy)


def points_in_polygon(px, py, rings, *, boundary: bool = False) -> np.ndarray:
    """Which points lie inside a polygon given as rings (even-odd rule, vectorised).

    Parameters
    ----------
    px, py : array_like
        Point coordinates [m].
    rings : list of (n, 2) arrays
        Closed rings (exterior and holes, any orientation).
    boundary : bool, keyword-only
        Count points on an edge as inside.
    """
    px, py = np.asarray(px, dtype=float).ravel(), np.asarray(py, dtype=float).ravel()
    inside = np.zeros(px.shape, dtype=bool)
    on_edge = np.zeros(px.shape, dtype=bool)
    for ring in rings:
        ax, ay, bx, by = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
        X, Y = px[:, None], py[:, None]
        crosses = (ay > Y) != (by > Y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = ax + (Y - ay) * (bx - ax) / (by - ay)
        inside ^= (np.count_nonzero(crosses & (X < xi), axis=1) % 2).astype(bool)
        cross = (bx - ax) * (Y - ay) - (by - ay) * (X - ax)
        on_edge |= np.any((cross == 0) & (np.minimum(ax, bx) <= X) & (X <= np.maximum(ax, bx))
                          & (np.minimum(ay, by) <= Y) & (Y <= np.maximum(ay, by)), axis=1)
    return (inside | on_edge) if boundary else (inside & ~on_edge)


def rectangle(x: float, y: float, length_m: float, width_m: float, angle_deg: float = 0.0
              ) -> Geometry:
    """A rectangle centred on (x, y) [m], ``length_m`` along the direction ``angle_deg``.

    ``angle_deg`` is measured counter-clockwise from the RD x axis (east) [degrees].
    """
    if not (length_m > 0 and width_m > 0):
        raise InputError(f"rechthoek {length_m} x {width_m} m", expected="positieve zijden")
    a = np.deg2rad(angle_deg)
    u = np.array([np.cos(a), np.sin(a)]) * length_m / 2
    v = np.array([-np.sin(a), np.cos(a)]) * width_m / 2
    c = np.array([x, y], dtype=float)
    ring = np.array([c - u - v, c + u - v, c + u + v, c - u + v, c - u - v])
    return Geometry("polygon", polygons=[[ring]])


# ------------------------------------------------------ polygon -> squares

_GAUSS = np.array([0.5 - 0.5 / np.sqrt(3.0), 0.5 + 0.5 / np.sqrt(3.0)])


def clip_moments(edges: np.ndarray, x0, y0, x1, y1, *, chunk_pairs: int = 400_000):
    """Area and first moments of a polygon inside axis-aligned boxes (vectorised, exact).

    Parameters
    ----------
    edges : (n, 4) array
        Polygon edges (xa, ya, xb, yb) [m]; exteriors counter-clockwise, holes clockwise.
    x0, y0, x1, y1 : (m,) arrays
        Box corners [m].

    Returns
    -------
    area, mx, my : (m,) arrays
        Area inside each box [m2] and its moments about the origin [m3].

    Notes
    -----
    Green's theorem with the polygon clipped vertically to [y0, y1]: with
    c(y) = clamp(y, y0, y1), area = -sum_e int_e (c - y0) dx over the edge's part with x in
    [x0, x1]; mx uses x (c - y0), my uses (c^2 - y0^2) / 2. On each edge the integrand is
    piecewise polynomial (degree <= 2) between the points where y crosses y0 and y1, so
    two-point Gauss-Legendre per piece is exact.
    """
    x0, y0, x1, y1 = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (x0, y0, x1, y1))
    m = x0.shape[0]
    out = np.zeros((3, m))
    step = max(1, chunk_pairs // max(1, len(edges)))
    for i0 in range(0, m, step):
        sl = slice(i0, i0 + step)
        out[:, sl] = _clip_chunk(edges, x0[sl, None], y0[sl, None], x1[sl, None], y1[sl, None])
    return out[0], out[1], out[2]


def _clip_chunk(edges, x0, y0, x1, y1):
    xa, ya, xb, yb = (edges[:, k][None, :] for k in range(4))
    sigma = np.sign(xb - xa)
    lo = np.clip(np.minimum(xa, xb), x0, x1)
    hi = np.clip(np.maximum(xa, xb), x0, x1)
    dxe = np.where(xb != xa, xb - xa, 1.0)
    slope = (yb - ya) / dxe
    dye = np.where(yb != ya, yb - ya, 1.0)
    flat = yb == ya
    t1 = np.clip(np.where(flat, lo, xa + (y0 - ya) * (xb - xa) / dye), lo, hi)
    t2 = np.clip(np.where(flat, lo, xa + (y1 - ya) * (xb - xa) / dye), lo, hi)
    knots = (lo, np.minimum(t1, t2), np.maximum(t1, t2), hi)
    area = np.zeros(np.broadcast(lo, x0).shape)
    mx, my = area.copy(), area.copy()
    for a, b in zip(knots[:-1], knots[1:], strict=True):
        w = (b - a) * 0.5
        for g in _GAUSS:
            x = a + (b - a) * g
            c = np.clip(ya + slope * (x - xa), y0, y1)
            area += w * (c - y0)
            mx += w * x * (c - y0)
            my += w * 0.5 * (c * c - y0 * y0)
    return np.stack([-(sigma * area).sum(axis=1), -(sigma * mx).sum(axis=1),
                     -(sigma * my).sum(axis=1)])


def polygon_squares(geom: Geometry, *, area_tolerance: float = AREA_TOLERANCE,
                    max_squares: int = MAX_SQUARES, min_side_m: float = MIN_SIDE_M,
                    max_side_m: float = MAX_SIDE_M):
    """Cover a polygon with axis-aligned squares; emission share by area inside.

    Parameters
    ----------
    geom : Geometry
        A polygon (from :func:`parse_wkt` or :func:`rectangle`).
    area_tolerance : float, keyword-only
        Refine until the squares crossing the boundary hold at most this fraction of the
        polygon's area [-].
    max_squares : int, keyword-only
        Stop refining before the number of squares would exceed this.
    min_side_m, max_side_m : float, keyword-only
        Smallest and largest square side [m].

    Returns
    -------
    x, y, side, weight : (k,) arrays
        Square centres [m], sides [m] and emission shares [-] (summing to 1).

    Notes
    -----
    Quadtree on the bounding box, root side L / 2^j <= ``max_side_m`` (L the longer side
    of the box). A cell entirely inside stays a square of its own size; a cell crossing the
    boundary is split into four while the boundary cells hold more than
    ``area_tolerance`` of the area. A final boundary cell with inside area a becomes a
    square of side sqrt(a) centred on the centroid of its inside part, shifted (and if
    needed shrunk) to stay within the cell and the polygon's bounding box, so emission
    density stays uniform. Shares are a / sum(a), so the total is conserved to rounding.
    """
    if geom.kind != "polygon":
        raise InputError(f"een {geom.kind} is geen vlak", expected="een polygon")
    geom = _oriented(geom)
    xmin, ymin, xmax, ymax = geom.bounds
    ox, oy = 0.5 * (xmin + xmax), 0.5 * (ymin + ymax)   # local origin: keeps precision
    rings = [r - (ox, oy) for p in geom.polygons for r in p]
    edges = np.vstack([np.hstack([r[:-1], r[1:]]) for r in rings])
    bx0, by0, bx1, by1 = xmin - ox, ymin - oy, xmax - ox, ymax - oy
    total = geom.area_m2
    long_side = max(bx1 - bx0, by1 - by0)
    side = long_side / 2.0 ** max(0, int(np.ceil(np.log2(long_side / max_side_m))))
    nx = max(1, int(np.ceil((bx1 - bx0) / side - 1e-9)))
    ny = max(1, int(np.ceil((by1 - by0) / side - 1e-9)))
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))
    cx0, cy0 = bx0 + gx.ravel() * side, by0 + gy.ravel() * side
    done = []                                              # (x0, y0, side, a, mx, my, full)
    while True:
        a, mx, my = clip_moments(edges, cx0, cy0, cx0 + side, cy0 + side)
        full = a >= side * side * (1.0 - 1e-9)
        part = ~full & (a > side * side * 1e-12)
        done.append((cx0[full], cy0[full], side, a[full], mx[full], my[full], True))
        n_done = sum(len(d[0]) for d in done)
        p = np.flatnonzero(part)
        if (a[p].sum() <= area_tolerance * total or side / 2 < min_side_m
                or n_done + 4 * len(p) > max_squares):
            done.append((cx0[p], cy0[p], side, a[p], mx[p], my[p], False))
            break
        side /= 2
        cx0 = (cx0[p][:, None] + np.array([0, side, 0, side])).ravel()
        cy0 = (cy0[p][:, None] + np.array([0, 0, side, side])).ravel()
    return _squares_from_cells(done, (bx0, by0, bx1, by1), ox, oy)


def _squares_from_cells(done, box, ox, oy):
    bx0, by0, bx1, by1 = box
    xs, ys, sides, areas = [], [], [], []
    for x0, y0, s, a, mx, my, full in done:
        if full:
            xs.append(x0 + s / 2), ys.append(y0 + s / 2), sides.append(np.full(len(a), s))
        else:
            lo_x, hi_x = np.maximum(x0, bx0), np.minimum(x0 + s, bx1)
            lo_y, hi_y = np.maximum(y0, by0), np.minimum(y0 + s, by1)
            side = np.minimum(np.sqrt(a), np.minimum(hi_x - lo_x, hi_y - lo_y))
            xs.append(np.clip(mx / a, lo_x + side / 2, hi_x - side / 2))
            ys.append(np.clip(my / a, lo_y + side / 2, hi_y - side / 2))
            sides.append(side)
        areas.append(a)
    a = np.concatenate(areas)
    return (np.concatenate(xs) + ox, np.concatenate(ys) + oy, np.concatenate(sides),
            a / a.sum())


# ------------------------------------------------------ polyline -> segments

def polyline_segments(geom: Geometry):
    """Split a linestring into straight segments; emission share by length.

    Returns
    -------
    x, y, x_end, y_end, weight : (k,) arrays
        Segment ends [m] and shares [-] (summing to 1). Repeated vertices (zero-length
        segments) carry no emission and are left out.
    """
    if geom.kind != "linestring":
        raise InputError(f"een {geom.kind} is geen lijn", expected="een linestring")
    c = geom.coords
    length = np.hypot(*np.diff(c, axis=0).T)
    k = np.flatnonzero(length > 0)
    return c[k, 0], c[k, 1], c[k + 1, 0], c[k + 1, 1], length[k] / length[k].sum()


# ------------------------------------------------------ rows -> elementary

def expand(x, y, area_side_m, x_end, y_end, geometries, *,
           area_tolerance: float = AREA_TOLERANCE, max_squares: int = MAX_SQUARES) -> Elementary:
    """Expand source rows into elementary sources the core understands.

    Parameters
    ----------
    x, y, area_side_m, x_end, y_end : (n,) array_like
        Per row [m]: a point (side 0, no end), a square (side > 0) or a straight segment.
        Ignored for rows with a geometry.
    geometries : sequence of length n of :class:`Geometry` or None
        A point, linestring or polygon per row, or None for an elementary row.
    area_tolerance, max_squares : keyword-only
        See :func:`polygon_squares`.

    Returns
    -------
    Elementary
        Elementary sources, parents in input order, with emission shares and the parent
        row index. Elementary rows map 1:1 with weight 1.
    """
    cols = [np.asarray(a, dtype=float) for a in (x, y, area_side_m, x_end, y_end)]
    n = cols[0].shape[0]
    has_geom = np.array([g is not None for g in geometries], dtype=bool) if n else np.zeros(0, bool)
    pieces = []                                              # (parent idx, arrays...)
    plain = np.flatnonzero(~has_geom)
    pieces.append((plain, *(c[plain] for c in cols), np.ones(len(plain))))
    for i in np.flatnonzero(has_geom):
        g = geometries[i]
        if g.kind == "point":
            parts = (g.coords[:, 0], g.coords[:, 1], [0.0], [np.nan], [np.nan], [1.0])
        elif g.kind == "linestring":
            sx, sy, ex, ey, w = polyline_segments(g)
            parts = (sx, sy, np.zeros_like(sx), ex, ey, w)
        else:
            qx, qy, side, w = polygon_squares(g, area_tolerance=area_tolerance,
                                              max_squares=max_squares)
            parts = (qx, qy, side, np.full_like(qx, np.nan), np.full_like(qx, np.nan), w)
        parts = [np.asarray(p, dtype=float) for p in parts]
        pieces.append((np.full(len(parts[0]), i), *parts))
    parent = np.concatenate([p[0] for p in pieces]).astype(np.int64)
    order = np.argsort(parent, kind="stable")               # parents in input order
    arr = [np.concatenate([p[k] for p in pieces])[order] for k in range(1, 7)]
    return Elementary(*arr[:5], weight=arr[5], parent=parent[order])
