"""Terrain of the deposition engine: the 250 m roughness map along the path and at the receptor.

AERIUS runs OPS with RIVM's roughness map (``z0_jr_250_lgn7``, shipped as
``data/z0_250m.npz``; CC BY-SA 4.0, see NOTICE.md). This module looks the map up the way
OPS-LT 5.3.1 does (``docs/engine.md``, "Terrain";
OPS source ``ops_src_char``, ``ops_getz0_tra``, ``ops_getlu_tra``, read, not translated):

- **source z0**: the map cell holding the source (an area source: its centre);
- **trajectory z0**: the geometric mean of the map over 21 equally spaced points on the
  straight line from the receptor to the source, end points included
  (``x_i = x_r + (x_s - x_r) i / 20``, ``i = 0..20``), ``z0_tra = exp(mean ln z0_i)``;
- **trajectory water share**: the share of those 21 points in water cells (map z0 <= 1 mm:
  the land-use rule of the z0-map configuration, class 6 water, else class 1 grass);
- **receptor z0 and land use**: AERIUS gives every hexagon the average z0 and land-use
  percentages over 6.25 ha around its centre (Handboek Data AERIUS 2024, section 4.6.1).
  Here that is the 250 m x 250 m square centred on the receptor: the area-weighted
  *arithmetic* mean of the map z0 over the (at most four) cells it overlaps, and the area
  share of water cells in it as class 6, the rest class 1 (``RECEPTOR_MODES['hexagon']``,
  the default). ``'cell'`` takes the one map cell holding the receptor, as the OPS
  reference runs A16/A17 were given.

Points outside the map (x -35..335 km, y 238..673 km) take the nearest edge cell (the map
is filled with coarse values outside the Netherlands there anyway).

Cell lookup: ``col = floor((x - x_ul) / 250)``, ``row = floor((y_ul - y) / 250)``, as OPS's
``grid_cell_index`` (OPS works in single precision, so a point exactly on a cell edge can,
rarely, land in the neighbouring cell there).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np

from stikstofcalc import compiled
from stikstofcalc.caches import cached
from stikstofcalc.compiled import njit, prange
from stikstofcalc.errors import DataError
from stikstofcalc.deposition.model import load_terrain_model, z0_hats

TERRAIN_FILE = "z0_250m.npz"
#: map z0 at or below which a cell is open water (land-use class 6) [m]: the rule of the
#: reference runs' land-use map ``lu_250_z0water`` (ops_inputs README)
WATER_Z0_M = 0.001
#: number of points on a trajectory (OPS ops_getz0_tra)
TRAJECTORY_POINTS = 21
#: side of the square around a receptor that AERIUS averages the terrain over [m]
#: (6.25 ha, Handboek Data AERIUS 2024, 4.6.1)
RECEPTOR_SQUARE_M = 250.0
RECEPTOR_MODES = ("hexagon", "cell")
TERRAIN_MODES = ("map", "uniform")
#: attribution that must accompany the shipped map (CC BY-SA 4.0)
ATTRIBUTION = ("Roughness map z0_jr_250_lgn7 (RIVM, OPS), derived from LGN7 (Hazeu et al., "
               "Wageningen Environmental Research, 4TU.ResearchData, "
               "doi 10.4121/e2971c99-f4f2-4786-b7ba-2d16a24bcd83), CC BY-SA 4.0")



@dataclass(frozen=True)
class Z0Grid:
    lnz0: np.ndarray  # (rows, cols) float64, ln z0 [ln m]
    water: np.ndarray  # (rows, cols) float64, 1.0 where open water
    z0: np.ndarray  # (rows, cols) float64 [m]
    x_ul: float
    y_ul: float
    cell: float

    @property
    def shape(self):
        return self.lnz0.shape


@cached(maxsize=1)
def load_grid() -> Z0Grid:
    """The shipped 250 m roughness map (cached)."""
    try:
        ref = resources.files("stikstofcalc.deposition").joinpath("data", TERRAIN_FILE)
        with ref.open("rb") as fh, np.load(fh) as z:
            raw = z["z0_01mm"].astype(np.float64)
            x_ul, y_ul, cell = float(z["x_ul_m"]), float(z["y_ul_m"]), float(z["cell_m"])
    except FileNotFoundError as exc:  # pragma: no cover - packaging error
        raise DataError(f"terreingegevens {TERRAIN_FILE} ontbreken in het pakket; installeer stikstofcalc opnieuw") from exc
    z0 = raw * 1e-4  # the map holds 0.1 mm units (OPS z0_FACT_NL = 10000)
    return Z0Grid(lnz0=np.ascontiguousarray(np.log(z0)),
                  water=np.ascontiguousarray((z0 <= WATER_Z0_M + 1e-12).astype(np.float64)),
                  z0=np.ascontiguousarray(z0), x_ul=x_ul, y_ul=y_ul, cell=cell)


@cached(maxsize=1)
def terrain_info() -> dict:
    """Provenance of the shipped map (file, sha256, attribution)."""
    ref = resources.files("stikstofcalc.deposition").joinpath("data", TERRAIN_FILE)
    return {"file": TERRAIN_FILE, "sha256": hashlib.sha256(ref.read_bytes()).hexdigest(),
            "map": "z0_jr_250_lgn7, 250 m", "licence": "CC BY-SA 4.0",
            "attribution": ATTRIBUTION}


def cell_index(g: Z0Grid, x, y):
    """(row, col) of the cells holding (x, y), clamped to the grid."""
    col = np.floor((np.asarray(x, float) - g.x_ul) / g.cell)
    row = np.floor((g.y_ul - np.asarray(y, float)) / g.cell)
    nr, nc = g.shape
    return (np.clip(np.nan_to_num(row), 0, nr - 1).astype(np.int64),
            np.clip(np.nan_to_num(col), 0, nc - 1).astype(np.int64))


def disk_lnz0_range(x, y, extra_m, radii_m):
    """Smallest and largest map ln z0 [ln m] within each radius of each point, (n, k) each.

    Every cell with a part within ``radius + extra_m`` of (x, y) counts (``extra_m`` per
    point, e.g. the half length of a line; the cell half diagonal is added here); cells
    beyond the grid edge are the edge cells, as :func:`cell_index` clamps. Any point
    within ``radius + extra_m`` of (x, y), so the mean ln z0 over any 21-point trajectory
    inside that disk, lies in the range. Used by the pruned search's bound
    (:mod:`stikstofcalc.assessment.core`). Points sharing a 250 m cell share the work.
    """
    g = load_grid()
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    extra = np.broadcast_to(np.asarray(extra_m, float), x.shape)
    radii = np.asarray(radii_m, float)
    nr, nc = g.shape
    r0, c0 = cell_index(g, x, y)
    half = g.cell / np.sqrt(2.0)
    out_lo = np.empty((x.shape[0], radii.shape[0]))
    out_hi = np.empty_like(out_lo)
    key = np.column_stack([r0, c0, extra])
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    # one offset pattern for all source cells (the cell-centre distances do not depend on
    # the cell), sorted by distance once; per source cell the running min / max of the
    # map over it, read off at each radius (a cell counts when its distance <= radius +
    # extra; the own cell always). Only the clamp at the grid edge differs per cell.
    reach = radii[-1] + float(uniq[:, 2].max()) + 2 * half if uniq.shape[0] else 0.0
    k = int(np.ceil(reach / g.cell)) + 1
    dr, dc = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1), indexing="ij")
    dist = np.hypot(dr, dc).ravel() * g.cell - 2 * half
    order = np.argsort(dist, kind="stable")
    dist, dr, dc = dist[order], dr.ravel()[order].astype(np.int64), dc.ravel()[order].astype(np.int64)
    lim = radii[None, :] + uniq[:, 2:3]  # (nu, k)
    lo_u = np.empty((uniq.shape[0], radii.shape[0]))
    hi_u = np.empty_like(lo_u)
    rows_u = uniq[:, 0].astype(np.int64)
    cols_u = uniq[:, 1].astype(np.int64)
    if compiled.enabled():
        _disk_range_nb(g.lnz0, rows_u, cols_u, np.ascontiguousarray(lim), dist, dr, dc, lo_u, hi_u)
    else:
        for u in range(uniq.shape[0]):
            v = g.lnz0[np.clip(rows_u[u] + dr, 0, nr - 1), np.clip(cols_u[u] + dc, 0, nc - 1)]
            n_in = np.maximum(np.searchsorted(dist, lim[u], side="right"), 1)
            lo_u[u] = np.minimum.accumulate(v)[n_in - 1]
            hi_u[u] = np.maximum.accumulate(v)[n_in - 1]
    out_lo[:] = lo_u[inv]
    out_hi[:] = hi_u[inv]
    return out_lo, out_hi



@njit(cache=True, parallel=True)
def _disk_range_nb(lnz0, rows, cols, lim, dist, dr, dc, out_lo, out_hi):
    nr, nc = lnz0.shape
    nrad = lim.shape[1]
    for u in prange(rows.shape[0]):
        lo = np.inf
        hi = -np.inf
        j = 0
        for t in range(dist.shape[0]):
            if t > 0:
                while j < nrad and dist[t] > lim[u, j]:
                    out_lo[u, j] = lo
                    out_hi[u, j] = hi
                    j += 1
                if j == nrad:
                    break
            r = rows[u] + dr[t]
            c = cols[u] + dc[t]
            r = 0 if r < 0 else (nr - 1 if r > nr - 1 else r)
            c = 0 if c < 0 else (nc - 1 if c > nc - 1 else c)
            v = lnz0[r, c]
            lo = v if v < lo else lo
            hi = v if v > hi else hi
        while j < nrad:
            out_lo[u, j] = lo
            out_hi[u, j] = hi
            j += 1


def cell_z0(x, y) -> np.ndarray:
    """Map z0 [m] of the cell holding each point (the OPS source z0)."""
    g = load_grid()
    r, c = cell_index(g, x, y)
    return g.z0[r, c]


def receptor_surface(x, y, mode: str = "hexagon"):
    """Receptor z0 [m] and water share [0-1] from the map.

    ``mode='hexagon'``: area-weighted arithmetic mean z0 and water area share over the
    250 m square centred on the point (AERIUS: 6.25 ha around the hexagon centre);
    ``'cell'``: the cell holding the point.
    """
    g = load_grid()
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if mode == "cell":
        r, c = cell_index(g, x, y)
        return g.z0[r, c], g.water[r, c]
    if mode != "hexagon":
        raise ValueError(f"receptor terrain mode {mode!r}: expected one of {RECEPTOR_MODES}")
    half = 0.5 * RECEPTOR_SQUARE_M
    if compiled.enabled():  # one pass per point instead of a dozen array passes
        shape = np.broadcast(x, y).shape
        xf = np.ascontiguousarray(np.broadcast_to(x, shape), dtype=np.float64).reshape(-1)
        yf = np.ascontiguousarray(np.broadcast_to(y, shape), dtype=np.float64).reshape(-1)
        z = np.empty(xf.shape[0])
        w = np.empty(xf.shape[0])
        _receptor_surface_nb(g.z0, g.water, float(g.x_ul), float(g.y_ul), float(g.cell), half,
                             xf, yf, z, w)
        return z.reshape(shape), w.reshape(shape)
    # the square spans at most 2 x 2 cells (side = cell size); overlap of each
    fx = (x - half - g.x_ul) / g.cell  # left edge in cell units
    fy = (g.y_ul - (y + half)) / g.cell  # top edge in cell units (rows grow southwards)
    c0, r0 = np.floor(fx), np.floor(fy)
    wx1, wy1 = fx - c0, fy - r0  # share of the second column / row
    nr, nc = g.shape
    z = np.zeros_like(x)
    w = np.zeros_like(x)
    for dr, wr in ((0, 1 - wy1), (1, wy1)):
        for dc, wc in ((0, 1 - wx1), (1, wx1)):
            rr = np.clip(np.nan_to_num(r0 + dr), 0, nr - 1).astype(np.int64)
            cc = np.clip(np.nan_to_num(c0 + dc), 0, nc - 1).astype(np.int64)
            z += wr * wc * g.z0[rr, cc]
            w += wr * wc * g.water[rr, cc]
    return z, np.clip(w, 0.0, 1.0)


def trajectory_numpy(xs, ys, xr, yr):
    """Mean ln z0 and water share over the 21 trajectory points per pair (numpy reference)."""
    g = load_grid()
    xs, ys, xr, yr = np.broadcast_arrays(*(np.asarray(a, float) for a in (xs, ys, xr, yr)))
    f = np.arange(TRAJECTORY_POINTS) / (TRAJECTORY_POINTS - 1)
    px = xr[..., None] + (xs - xr)[..., None] * f
    py = yr[..., None] + (ys - yr)[..., None] * f
    r, c = cell_index(g, px, py)
    return g.lnz0[r, c].mean(-1), g.water[r, c].mean(-1)



@njit(cache=True, inline="always")
def _clamped_row(v, n):
    """``np.clip(np.nan_to_num(v), 0, n - 1)`` as an index."""
    if v != v:
        return 0
    if v < 0.0:
        return 0
    if v > n - 1:
        return n - 1
    return int(v)

@njit(cache=True, parallel=True)
def _receptor_surface_nb(z0, water, x_ul, y_ul, cell, half, x, y, out_z, out_w):
    """Compiled :func:`receptor_surface` (``'hexagon'``): the same sums in the same order,
    so the same numbers."""
    nr, nc = z0.shape
    for k in prange(x.shape[0]):
        fx = (x[k] - half - x_ul) / cell
        fy = (y_ul - (y[k] + half)) / cell
        c0 = math.floor(fx)
        r0 = math.floor(fy)
        wx1 = fx - c0
        wy1 = fy - r0
        z = 0.0
        w = 0.0
        for dr in range(2):
            wr = wy1 if dr == 1 else 1 - wy1
            rr = _clamped_row(r0 + dr, nr)
            for dc in range(2):
                wc = wx1 if dc == 1 else 1 - wx1
                cc = _clamped_row(c0 + dc, nc)
                z += wr * wc * z0[rr, cc]
                w += wr * wc * water[rr, cc]
        out_z[k] = z
        out_w[k] = min(max(w, 0.0), 1.0)

@njit(cache=True, inline="always")
def _cell(lnz0, water, x_ul, y_ul, inv_cell, x, y):
    nr, nc = lnz0.shape
    c = math.floor((x - x_ul) * inv_cell)
    r = math.floor((y_ul - y) * inv_cell)
    c = 0 if c < 0 else (nc - 1 if c > nc - 1 else c)
    r = 0 if r < 0 else (nr - 1 if r > nr - 1 else r)
    return lnz0[r, c], water[r, c]

@njit(cache=True, parallel=True)
def _trajectory_nb(lnz0, water, x_ul, y_ul, inv_cell, xs, ys, xr, yr, out_z, out_w):
    n = xs.shape[0]
    npt = 21
    for k in prange(n):
        sz = 0.0
        sw = 0.0
        for i in range(npt):
            f = i / (npt - 1.0)
            a, b = _cell(lnz0, water, x_ul, y_ul, inv_cell, xr[k] + (xs[k] - xr[k]) * f,
                         yr[k] + (ys[k] - yr[k]) * f)
            sz += a
            sw += b
        out_z[k] = sz / npt
        out_w[k] = sw / npt

@njit(cache=True, parallel=True)
def _node_terrain_nb(lnz0, water, x_ul, y_ul, inv_cell, xs, ys, dist, sinb, cosb,
                     out_z, out_w):
    n = xs.shape[0]
    nr = dist.shape[0]
    nb = sinb.shape[0]
    npt = 21
    for k in prange(n):
        for i in range(nr):
            for j in range(nb):
                xr = xs[k] + dist[i] * sinb[j]
                yr = ys[k] + dist[i] * cosb[j]
                sz = 0.0
                sw = 0.0
                for p in range(npt):
                    f = p / (npt - 1.0)
                    a, b = _cell(lnz0, water, x_ul, y_ul, inv_cell, xr + (xs[k] - xr) * f,
                                 yr + (ys[k] - yr) * f)
                    sz += a
                    sw += b
                out_z[k, i, j] = sz / npt
                out_w[k, i, j] = sw / npt


def trajectory(xs, ys, xr, yr):
    """Mean ln z0 [ln m] and water share [0-1] over the 21 trajectory points of each pair
    (compiled; equal to :func:`trajectory_numpy`)."""
    if not compiled.enabled():
        return trajectory_numpy(xs, ys, xr, yr)
    g = load_grid()
    xs, ys, xr, yr = (np.ascontiguousarray(a, dtype=np.float64).reshape(-1) for a in
                      np.broadcast_arrays(*(np.asarray(a, float) for a in (xs, ys, xr, yr))))
    oz = np.empty(xs.shape[0])
    ow = np.empty(xs.shape[0])
    _trajectory_nb(g.lnz0, g.water, g.x_ul, g.y_ul, 1.0 / g.cell, xs, ys, xr, yr, oz, ow)
    return oz, ow


def node_terrain(xs, ys, dist_m, bearings_deg):
    """Trajectory mean ln z0 and water share from each source to the nodes of its polar
    table (rings ``dist_m`` x bearings ``bearings_deg``), shape (n, rings, bearings)."""
    g = load_grid()
    xs = np.ascontiguousarray(xs, dtype=np.float64).reshape(-1)
    ys = np.ascontiguousarray(ys, dtype=np.float64).reshape(-1)
    d = np.ascontiguousarray(dist_m, dtype=np.float64)
    b = np.radians(np.asarray(bearings_deg, float))
    n = xs.shape[0]
    if not compiled.enabled():
        xr = xs[:, None, None] + d[None, :, None] * np.sin(b)[None, None, :]
        yr = ys[:, None, None] + d[None, :, None] * np.cos(b)[None, None, :]
        return trajectory_numpy(xs[:, None, None], ys[:, None, None], xr, yr)
    oz = np.empty((n, d.shape[0], b.shape[0]))
    ow = np.empty((n, d.shape[0], b.shape[0]))
    _node_terrain_nb(g.lnz0, g.water, g.x_ul, g.y_ul, 1.0 / g.cell, xs, ys, d,
                     np.ascontiguousarray(np.sin(b)), np.ascontiguousarray(np.cos(b)), oz, ow)
    return oz, ow


def receptor_surface_resolved(receptors, terrain="map", receptor_terrain="hexagon"):
    """Receptor z0 [m] (NaN without terrain) and land-use fractions (n, 9) as the engine
    uses them, with where each came from.

    Map terrain: ``z0_m`` given per receptor wins, else the map (``receptor_terrain``);
    land use: ``lu_pct`` given wins, else a ``landuse`` class 1-9 given, else the map
    (water share -> class 6, the rest class 1 grass). Uniform terrain: no receptor z0;
    ``lu_pct``, else ``landuse``, else grass.
    """
    n = len(receptors)
    frac = np.zeros((n, 9))
    lu = np.asarray(receptors.landuse, dtype=np.int64)
    has_class = (lu >= 1) & (lu <= 9)
    frac[np.flatnonzero(has_class), lu[has_class] - 1] = 1.0
    pct = getattr(receptors, "lu_pct", None)
    has_pct = np.zeros(n, bool)
    if pct is not None:
        pct = np.asarray(pct, float)
        tot = np.nansum(pct, axis=1)
        has_pct = np.isfinite(pct).any(axis=1) & (tot > 0)
        frac[has_pct] = np.nan_to_num(pct[has_pct]) / tot[has_pct, None]
    free = ~(has_class | has_pct)
    z0 = np.full(n, np.nan)
    if terrain == "uniform":
        frac[free, 0] = 1.0
        return z0, frac
    given = getattr(receptors, "z0_m", None)
    if given is not None:
        z0 = np.asarray(given, float).copy()
    need = ~np.isfinite(z0)
    if need.any() or free.any():
        zm, wm = receptor_surface(receptors.x, receptors.y, receptor_terrain)
        z0[need] = zm[need]
        frac[free, 5] = wm[free]
        frac[free, 0] = 1.0 - wm[free]
    return z0, frac


def receptor_terms(receptors, terrain="map", receptor_terrain="hexagon", perm=slice(None)):
    """The compiled kernel's receptor arrays, in the order ``perm``: land-use mixture as
    CSR (pointer (n+1), class index 0-8, weight), and the receptor z0 as knot fraction and
    lower knot of the receptor-surface function (fraction -1 without terrain)."""
    if terrain == "map" and getattr(receptors, "lu_pct", None) is None:
        return _receptor_terms_classes(receptors, receptor_terrain, perm)
    return _receptor_terms_general(receptors, terrain, receptor_terrain, perm)


def _receptor_terms_classes(receptors, receptor_terrain, perm):
    """:func:`receptor_terms` with the map and without land-use percentages (the usual
    case): a receptor is its given class 1-9, else grass and water in the map's shares.
    The same arrays as :func:`_receptor_terms_general`, built from two classes instead of
    an (n, 9) table (tests/deposition/test_terrain.py)."""
    lu = np.asarray(receptors.landuse, dtype=np.int64)[perm]
    has_class = (lu >= 1) & (lu <= 9)
    n = lu.shape[0]
    given = getattr(receptors, "z0_m", None)
    z0 = np.full(n, np.nan) if given is None else np.asarray(given, float)[perm].copy()
    need = ~np.isfinite(z0)
    wm = np.zeros(n)
    if need.any() or not has_class.all():
        zm, wmap = receptor_surface(np.asarray(receptors.x, float)[perm],
                                    np.asarray(receptors.y, float)[perm], receptor_terrain)
        z0[need] = zm[need]
        wm = np.where(has_class, 0.0, wmap)
    grass = ~has_class & (1.0 - wm > 0)
    water = ~has_class & (wm > 0)
    count = has_class.astype(np.int64) + grass + water
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(count, out=ptr[1:])
    cc = np.empty(ptr[-1], np.int64)
    ww = np.empty(ptr[-1])
    start = ptr[:-1]
    cc[start[has_class]] = lu[has_class] - 1
    ww[start[has_class]] = 1.0
    cc[start[grass]] = 0
    ww[start[grass]] = 1.0 - wm[grass]
    at = start[water] + grass[water]  # water after grass, as the classes' order
    cc[at] = 5
    ww[at] = wm[water]
    rj, rz = z0_hats(load_terrain_model(), np.log(z0))
    return ptr, cc, ww, rz, rj


def _receptor_terms_general(receptors, terrain, receptor_terrain, perm):
    """:func:`receptor_terms` for every input (land-use percentages, uniform terrain)."""
    lu = np.asarray(receptors.landuse, dtype=np.int64)
    pure = terrain == "uniform" and getattr(receptors, "lu_pct", None) is None
    if pure and np.all((lu >= 0) & (lu <= 9)):
        # one class per receptor (0 = grass without terrain): today's engine
        cls = np.where(lu >= 1, lu - 1, 0)[perm]
        return (np.arange(cls.shape[0] + 1, dtype=np.int64), cls.astype(np.int64),
                np.ones(cls.shape[0]), np.full(cls.shape[0], -1.0),
                np.zeros(cls.shape[0], np.int64))
    z0, frac = receptor_surface_resolved(receptors, terrain, receptor_terrain)
    frac = frac[perm]
    z0 = z0[perm]
    nnz = frac > 0
    ptr = np.zeros(frac.shape[0] + 1, np.int64)
    np.cumsum(nnz.sum(1), out=ptr[1:])
    rr, cc = np.nonzero(nnz)
    if terrain == "uniform":
        rz, rj = np.full(frac.shape[0], -1.0), np.zeros(frac.shape[0], np.int64)
    else:
        rj, rz = z0_hats(load_terrain_model(), np.log(z0))
    return ptr, cc.astype(np.int64), frac[rr, cc], rz, rj
