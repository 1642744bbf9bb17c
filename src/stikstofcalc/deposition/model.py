"""The OPS-LT emulator's model data and per-source kernel tables.

The engine represents the deposition of one source as a table of
log(deposition per kg/yr) over 30 log-spaced rings (20 m - 30 km) x 36 bearings,
assembled per source from the shipped OPS-LT 5.3.1.0 reference tables
(``data/ops531_kernel.npz``, built by ``tools/build_kernel.py``):

- height x heat content x roughness: multilinear interpolation in
  (log h, hc**0.25, log z0) of the log table (set A6, heat node 0.035 MW from A9);
- region: log-ratio field of six meteo locations (set A4), inverse-distance
  weighted on the source position;
- vertical spread: log-ratio per ring (set A9);
- receptor land use: log-ratio per class and ring (set A7), applied per pair.

See ``docs/engine.md`` for the derivation and the measured accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from stikstofcalc import compiled
from stikstofcalc.caches import cached, register
from stikstofcalc.errors import DataError

MODEL_FILE = "ops531_kernel.npz"
#: exponent of the heat-content interpolation coordinate hc**p (fitted on A6/A9, see docs)
HEAT_EXPONENT = 0.25
#: length scale of the regional weighting [m]: w_i = 1 / (d_i**2 + REGION_SCALE_M**2)
REGION_SCALE_M = 20_000.0
#: the regional and national corrections use the source position rounded to this grid [m]
#: (they vary on scales of tens of km; rounding lets nearby sources share their tables)
POSITION_GRID_M = 1_000.0


def unique_tables(height_m, heat_mw, z0_m, spread_m, x, y):
    """Distinct table parameters among sources.

    Returns
    -------
    uniq : ndarray (u, 6)
        height, heat, z0, spread, x, y (positions rounded to POSITION_GRID_M) per table.
    index : ndarray (n,) of int64
        Table of each source.
    """
    key = np.column_stack([np.asarray(a, float) for a in (height_m, heat_mw, z0_m, spread_m)]
                          + [np.round(np.asarray(a, float) / POSITION_GRID_M) * POSITION_GRID_M
                             for a in (x, y)])
    uniq, index = np.unique(key, axis=0, return_inverse=True)
    return uniq, np.ascontiguousarray(index.reshape(-1), dtype=np.int64)


@dataclass(frozen=True)
class Model:
    D: np.ndarray
    H: np.ndarray
    HC: np.ndarray
    Z: np.ndarray
    L: np.ndarray
    region_xy: np.ndarray
    R: np.ndarray
    LU_H: np.ndarray
    LU_Z: np.ndarray
    LU: np.ndarray
    SP_HC: np.ndarray
    SP_H: np.ndarray
    SP_S: np.ndarray
    SP: np.ndarray
    AC_U: np.ndarray | None
    AC_H: np.ndarray | None
    AC_S: np.ndarray | None
    AC: np.ndarray | None
    TR: np.ndarray | None
    provenance: str

    @property
    def log_d0(self) -> float:
        return float(np.log(self.D[0]))

    @property
    def dlog(self) -> float:
        return float((np.log(self.D[-1]) - np.log(self.D[0])) / (len(self.D) - 1))


@cached(maxsize=1)
def load_model() -> Model:
    """Load the shipped model data (cached)."""
    try:
        ref = resources.files("stikstofcalc.deposition").joinpath("data", MODEL_FILE)
        with ref.open("rb") as fh, np.load(fh) as z:
            arrs = {k: z[k] for k in z.files}
    except FileNotFoundError as exc:  # pragma: no cover - packaging error
        raise DataError(f"modelgegevens {MODEL_FILE} ontbreken in het pakket; installeer stikstofcalc opnieuw") from exc
    for k in ("AC_U", "AC_H", "AC_S", "AC", "TR"):
        arrs.setdefault(k, None)
    arrs["provenance"] = str(arrs["provenance"]) + DEFAULT_TERRAIN_PROVENANCE
    return Model(**arrs)


#: appended to the model provenance: the terrain every caller of the default engine gets
DEFAULT_TERRAIN_PROVENANCE = (
    "; terrain (default): 250 m roughness map z0_jr_250_lgn7 (RIVM, OPS; derived from LGN7, "
    "Hazeu et al., WENR, 4TU.ResearchData doi 10.4121/e2971c99-f4f2-4786-b7ba-2d16a24bcd83, "
    "CC BY-SA 4.0; data/z0_250m.npz) at source, along the 21-point trajectory and at the "
    "receptor (6.25 ha mean), receptor land use water (map z0 <= 1 mm) or grass; terrain "
    "model data/ops531_terrain.npz (A12 region field, terrain terms fitted on A16/A17)")


@cached(maxsize=1)
def model_info() -> dict:
    """Provenance of the shipped model data (for outputs): file, sha256, OPS version."""
    import hashlib

    ref = resources.files("stikstofcalc.deposition").joinpath("data", MODEL_FILE)
    digest = hashlib.sha256(ref.read_bytes()).hexdigest()
    return {"file": MODEL_FILE, "sha256": digest, "source": load_model().provenance}


#: from this many values on, the node look-ups of :func:`_axis` run compiled
#: (``_tables_nb.axis``, the same numbers): the map-mode tables look up millions of nodes
AXIS_COMPILED_MIN = 4096


def _axis(nodes, v, clamp=False):
    """Index of the lower node and fraction, linear (extrapolating beyond the ends; with
    ``clamp`` the fraction is held to 0 .. 1)."""
    v = np.asarray(v, float)
    if v.size >= AXIS_COMPILED_MIN and compiled.enabled():
        from stikstofcalc.deposition._tables_nb import axis  # loads numba: not at import

        i = np.empty(v.shape, np.int64)
        t = np.empty(v.shape)
        axis(np.ascontiguousarray(nodes, dtype=float), np.ascontiguousarray(v).reshape(-1), clamp,
             i.reshape(-1), t.reshape(-1))
        return i, t
    i = np.clip(np.searchsorted(nodes, v, side="right") - 1, 0, len(nodes) - 2)
    t = (v - nodes[i]) / (nodes[i + 1] - nodes[i])
    return i, (np.clip(t, 0.0, 1.0) if clamp else t)


def _clamped_axis(nodes, v):
    return _axis(nodes, v, clamp=True)


def source_tables(m: Model, substance: int, height_m, heat_mw, z0_m, spread_m, x, y):
    """Per-source log kernel tables.

    Parameters
    ----------
    m : Model
    substance : int
        0 = NOx (as NO2), 1 = NH3.
    height_m, heat_mw, z0_m, spread_m, x, y : array_like, shape (n,)
        Source height [m], heat content [MW], roughness [m], spread [m], RD position [m]
        (rounded to POSITION_GRID_M for the regional and national corrections).

    Returns
    -------
    logtab : ndarray, shape (n, 30, 36)
        log of deposition [mol N/ha/yr per kg/yr] on grass per ring and bearing.
    lutab : ndarray, shape (n, 9, 30)
        log ratio of land-use class 1..9 to grass per ring.
    """
    h = np.asarray(height_m, float)
    x = np.round(np.asarray(x, float) / POSITION_GRID_M) * POSITION_GRID_M
    y = np.round(np.asarray(y, float) / POSITION_GRID_M) * POSITION_GRID_M
    hc = np.asarray(heat_mw, float)
    z0 = np.asarray(z0_m, float)
    # the grass table depends on (h, hc, z0) only: build it once per distinct triple
    key, inv = np.unique(np.column_stack([h, hc, z0]), axis=0, return_inverse=True)
    base = np.empty((key.shape[0], m.L.shape[-2], m.L.shape[-1]))
    for c0 in range(0, key.shape[0], SOURCE_CHUNK):
        sl = slice(c0, c0 + SOURCE_CHUNK)
        base[sl] = base_table(m, substance, key[sl, 0], key[sl, 1], key[sl, 2])
    out = base[inv.reshape(-1)]
    out += region_logratio(m, substance, x, y)
    out += spread_logratio(m, substance, h, heat_mw, spread_m)[:, :, None]
    return out, landuse_logratio(m, substance, h, z0_m, x, y)


#: sources per chunk when assembling tables (bounds the 4 x 4 x 2 stencil memory)
SOURCE_CHUNK = 256


def _stencil(nodes, v):
    """Four node indices around v (clamped) and the interval index i (nodes[i] <= v)."""
    i = np.clip(np.searchsorted(nodes, v, side="right") - 1, 0, len(nodes) - 2)
    idx = np.clip(i[:, None] + np.arange(-1, 3)[None, :], 0, len(nodes) - 1)
    return i, idx


def _pchip(xn, y, v):
    """Monotone cubic (Fritsch-Carlson) interpolation along axis 1 of y (n, 4, ...)
    at v, from the 4-node stencil xn (n, 4); interval between stencil nodes 1 and 2.
    Where a stencil node repeats (axis ends), the end slope is the interval slope;
    beyond the last node the interval is extrapolated linearly."""
    ex = (slice(None),) + (None,) * (y.ndim - 2)
    h0 = (xn[:, 1] - xn[:, 0])[ex]
    h1 = (xn[:, 2] - xn[:, 1])[ex]
    h2 = (xn[:, 3] - xn[:, 2])[ex]
    y0, y1, y2, y3 = y[:, 0], y[:, 1], y[:, 2], y[:, 3]
    d1 = (y2 - y1) / h1
    with np.errstate(divide="ignore", invalid="ignore"):
        d0 = np.where(h0 > 0, (y1 - y0) / np.where(h0 > 0, h0, 1), d1)
        d2 = np.where(h2 > 0, (y3 - y2) / np.where(h2 > 0, h2, 1), d1)

        def slope(da, db, ha, hb):
            wa, wb = 2 * hb + ha, hb + 2 * ha
            m_ = (wa + wb) / (wa / np.where(da == 0, 1, da) + wb / np.where(db == 0, 1, db))
            return np.where(da * db > 0, m_, 0.0)

        m1 = np.where(h0 > 0, slope(d0, d1, h0, h1), d1)
        m2 = np.where(h2 > 0, slope(d1, d2, h1, h2), d1)
    t = ((v - xn[:, 1])[ex]) / h1
    inside = (t >= 0) & (t <= 1)
    tc = np.clip(t, 0, 1)
    t2, t3 = tc * tc, tc * tc * tc
    cubic = ((2 * t3 - 3 * t2 + 1) * y1 + (t3 - 2 * t2 + tc) * h1 * m1
             + (-2 * t3 + 3 * t2) * y2 + (t3 - t2) * h1 * m2)
    linear = y1 + t * (y2 - y1)
    return np.where(inside, cubic, linear)


def base_table(m: Model, substance: int, h, hc, z0):
    """Grass table (n, 30, 36): linear in log z0, monotone cubic in hc**p and log h.

    Compiled (``_tables_nb``), or :func:`_base_table_numpy` on the numpy path
    (:mod:`stikstofcalc.compiled`).
    """
    if not compiled.enabled():
        return _base_table_numpy(m, substance, h, hc, z0)
    from stikstofcalc.deposition._tables_nb import base_tables  # loads numba: not at import
    lh, qh = np.log(m.H), m.HC ** HEAT_EXPONENT
    vh, vq = np.log(h), hc ** HEAT_EXPONENT
    _, sh = _stencil(lh, vh)
    _, sq = _stencil(qh, vq)
    iz, tz = _axis(np.log(m.Z), np.log(z0))
    Ls = m.L[substance]
    out = np.empty((h.shape[0], Ls.shape[-2], Ls.shape[-1]))
    i64 = lambda a: np.ascontiguousarray(a, dtype=np.int64)  # noqa: E731
    f64 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    base_tables(f64(Ls), f64(lh), i64(sh), f64(qh), i64(sq), i64(iz), f64(tz), f64(vh),
                f64(vq), out)
    return out


def _base_table_numpy(m: Model, substance: int, h, hc, z0):
    """Grass table (n, 30, 36), numpy version of :func:`base_table` (reference)."""
    lh, qh = np.log(m.H), m.HC ** HEAT_EXPONENT
    vh, vq = np.log(h), hc ** HEAT_EXPONENT
    _, sh = _stencil(lh, vh)
    _, sq = _stencil(qh, vq)
    iz, tz = _axis(np.log(m.Z), np.log(z0))
    Ls = m.L[substance]
    n = h.shape[0]
    # (n, 4 heights, 4 heats, 30, 36), linear in log z0
    a = sh[:, :, None]
    b = sq[:, None, :]
    z = iz[:, None, None]
    w = tz[:, None, None, None, None]
    T = (1 - w) * Ls[a, b, z] + w * Ls[a, b, z + 1]
    # along heat for each of the 4 heights
    Tq = _pchip(np.repeat(qh[sq], 4, axis=0),
                T.reshape(n * 4, 4, *T.shape[3:]), np.repeat(vq, 4)).reshape(n, 4, *T.shape[3:])
    return _pchip(lh[sh], Tq, vh)


def region_logratio(m: Model, substance: int, x, y):
    """Regional log ratio to the central location, (n, 30, 36)."""
    d2 = (np.asarray(x, float)[:, None] - m.region_xy[None, :, 0]) ** 2 + \
         (np.asarray(y, float)[:, None] - m.region_xy[None, :, 1]) ** 2
    w = 1.0 / (d2 + REGION_SCALE_M ** 2)
    w /= w.sum(1, keepdims=True)
    return np.einsum("nk,krb->nrb", w, m.R[substance])


def spread_logratio(m: Model, substance: int, height_m, heat_mw, spread_m):
    """Log ratio of a source with vertical spread to one without, per ring (n, 30)."""
    ic, tc = _clamped_axis(m.SP_HC ** HEAT_EXPONENT, np.asarray(heat_mw, float) ** HEAT_EXPONENT)
    ih, th = _clamped_axis(np.log(m.SP_H), np.log(np.asarray(height_m, float)))
    i_s, ts = _clamped_axis(m.SP_S, np.asarray(spread_m, float))
    S = m.SP[substance]
    out = 0.0
    for a, wa in ((0, 1 - tc), (1, tc)):
        for b, wb in ((0, 1 - th), (1, th)):
            for c, wc in ((0, 1 - ts), (1, ts)):
                out = out + (wa * wb * wc)[:, None] * S[ic + a, ih + b, i_s + c]
    return out


#: number of coefficients of the national correction (see :func:`trend_features`)
N_TREND = 10


def trend_features(distance_m, x, y):
    """Features of the national land-use correction: quadratic in log distance
    (clamped to 100 m - 25 km) and in the RD position (scaled by 100 km)."""
    ld = np.log(np.clip(distance_m, 100.0, 25_000.0)) - np.log(1000.0)
    xs = (np.asarray(x, float) - 155_000.0) / 1e5
    ys = (np.asarray(y, float) - 463_000.0) / 1e5
    one = np.ones_like(ld * xs)
    return np.stack(np.broadcast_arrays(one, ld, ld * ld, xs, ys, xs * ld, ys * ld, xs * xs,
                                        ys * ys, xs * ys), -1)


def landuse_logratio(m: Model, substance: int, height_m, z0_m, x=None, y=None):
    """Log ratio of each land-use class to grass per ring, (n, 9, 30), including the
    national correction at the source position (x, y) when the model has one."""
    ih, th = _clamped_axis(np.log(m.LU_H), np.log(np.asarray(height_m, float)))
    iz, tz = _clamped_axis(np.log(m.LU_Z), np.log(np.asarray(z0_m, float)))
    U = m.LU[substance]  # (9, nh, nz, 30)
    out = 0.0
    for a, wa in ((0, 1 - th), (1, th)):
        for c, wc in ((0, 1 - tz), (1, tz)):
            out = out + (wa * wc)[:, None, None] * np.moveaxis(U[:, ih + a, iz + c], 1, 0)
    if m.TR is not None and x is not None:
        f = trend_features(m.D[None, :], np.asarray(x, float)[:, None],
                           np.asarray(y, float)[:, None])  # (n, 30, N_TREND)
        out = out + np.einsum("nrk,lk->nlr", f, m.TR[substance])
    return out


def pair_lookup(m: Model, logtab, lutab, src, d, bearing, landuse):
    """Deposition per kg/yr for pairs [mol N/ha/yr per kg/yr].

    ``src`` indexes rows of ``logtab``/``lutab``; ``d`` [m] is clamped to the first
    ring below 20 m and extrapolated log-linearly beyond 30 km; ``bearing`` [deg] from
    source to receptor (0 = N); ``landuse`` 1..9.
    """
    nr = logtab.shape[1]
    x = (np.log(np.maximum(d, m.D[0])) - m.log_d0) / m.dlog
    i = np.minimum(x.astype(np.int64), nr - 2)
    t = x - i
    y = np.mod(bearing, 360.0) / 10.0
    j = y.astype(np.int64) % 36
    u = y - np.floor(y)
    j1 = (j + 1) % 36
    v = ((1 - t) * ((1 - u) * logtab[src, i, j] + u * logtab[src, i, j1])
         + t * ((1 - u) * logtab[src, i + 1, j] + u * logtab[src, i + 1, j1]))
    lu = landuse - 1
    v += (1 - t) * lutab[src, lu, i] + t * lutab[src, lu, i + 1]
    return np.exp(v)


def area_logcorr(m: Model, substance: int, height_m, side_m, u):
    """log of the OPS area-source correction for pairs (set A8).

    ``u`` is the Chebyshev distance from the square's centre in half sides (u <= 1
    inside); the table is over log(1 + u), log side and log height (clamped).
    """
    iu, tu = _clamped_axis(m.AC_U, np.log1p(u))  # AC_U holds log1p of the u nodes
    ih, th = _clamped_axis(np.log(m.AC_H), np.log(height_m))
    i_s, ts = _clamped_axis(np.log(m.AC_S), np.log(side_m))
    A = m.AC[substance]  # (nh, ns, nu)
    out = 0.0
    for a, wa in ((0, 1 - th), (1, th)):
        for b, wb in ((0, 1 - ts), (1, ts)):
            for c, wc in ((0, 1 - tu), (1, tu)):
                out = out + wa * wb * wc * A[ih + a, i_s + b, iu + c]
    return out


# ===================================================================== terrain (z0 map)
#
# With the roughness map (terrain="map", the default) the table of a source is evaluated
# node by node at the trajectory terrain from the source to that node, and every pair
# gets a receptor-surface factor. The model data for this are in ``data/ops531_terrain.npz``
# (``tools/build_terrain.py``):
#
# - RG: log ratio of the OPS kernel at 54 locations to the central one (set A12, by
#   substance, height, heat and z0), inverse-distance weighted on the source position;
# - TA, TS, TW, TWR: per ring, fitted on sets A16/A17 (training part): the receptor-z0
#   exponent (deposition ~ (z0_rcp / z0_tra) ** TA), the source-z0 term
#   TS * ln(z0_src / z0_tra), the depletion over water along the path TW * water share,
#   and the extra log ratio of a water receptor (class 6) to the A7 water ratio.
#
# The kernel itself is taken at the trajectory z0 (OPS corrects u* and L to it) clamped to
# the A6 range. See docs/engine.md ("Terrain").

TERRAIN_MODEL_FILE = "ops531_terrain.npz"
#: clamp of the trajectory / source z0 for the kernel tables [m] (range of set A6)
KERNEL_Z0_RANGE = (0.03, 2.0)
#: clamp of the receptor z0 in the receptor-surface factor [m]
RECEPTOR_Z0_RANGE = (0.01, 2.0)
#: map-mode tables: sources within this distance share a table [m]
TERRAIN_POSITION_GRID_M = 1.0


@dataclass(frozen=True)
class TerrainModel:
    RG: np.ndarray  # (54, 2, nh, nhc, nz, nd, nb) log ratio to the central location
    RG_XY: np.ndarray  # (54, 2) RD [m]
    RG_H: np.ndarray
    RG_HC: np.ndarray
    RG_Z: np.ndarray
    RG_D: np.ndarray
    RG_B: np.ndarray
    RG_CENTRE: int
    region_scale_m: float
    region_power: float
    TA: np.ndarray  # (2, n z0 knots, N_SOURCE_BASIS, 30): receptor-surface g(ln z0)
    TA_Z: np.ndarray  # z0 knots [m] of g (hat functions in ln z0)
    TS: np.ndarray  # (2, N_SOURCE_BASIS, 30)
    TW: np.ndarray
    TWR: np.ndarray
    provenance: str


@cached(maxsize=1)
def load_terrain_model() -> TerrainModel:
    """Load the shipped terrain model data (cached)."""
    try:
        ref = resources.files("stikstofcalc.deposition").joinpath("data", TERRAIN_MODEL_FILE)
        with ref.open("rb") as fh, np.load(fh) as z:
            arrs = {k: z[k] for k in z.files}
    except FileNotFoundError as exc:  # pragma: no cover - packaging error
        raise DataError(f"modelgegevens {TERRAIN_MODEL_FILE} ontbreken in het pakket; installeer stikstofcalc "
                        "opnieuw") from exc
    arrs["RG"] = arrs["RG"].astype(np.float64)
    for k in ("region_scale_m", "region_power"):
        arrs[k] = float(arrs[k])
    arrs["RG_CENTRE"] = int(arrs["RG_CENTRE"])
    arrs["provenance"] = str(arrs["provenance"])
    return TerrainModel(**arrs)


@cached(maxsize=1)
def terrain_model_info() -> dict:
    import hashlib

    ref = resources.files("stikstofcalc.deposition").joinpath("data", TERRAIN_MODEL_FILE)
    return {"file": TERRAIN_MODEL_FILE, "sha256": hashlib.sha256(ref.read_bytes()).hexdigest(),
            "source": load_terrain_model().provenance}


def region_weights(tm: TerrainModel, x, y):
    """Inverse-distance weights (n, 54) of the A12 locations at the source positions."""
    d2 = (np.asarray(x, float)[:, None] - tm.RG_XY[None, :, 0]) ** 2 + \
         (np.asarray(y, float)[:, None] - tm.RG_XY[None, :, 1]) ** 2
    w = 1.0 / (d2 + tm.region_scale_m ** 2) ** tm.region_power
    return w / w.sum(1, keepdims=True)


def _remap_rings_bearings(tm: TerrainModel, m: Model, a):
    """(..., nd, nb) on the A12 rings/bearings -> (..., 30, 36) on the engine's: linear in
    log distance (ends held), periodic linear in bearing."""
    ld = np.log(tm.RG_D)
    i, t = _clamped_axis(ld, np.log(m.D))
    a = (1 - t)[:, None] * a[..., i, :] + t[:, None] * a[..., i + 1, :]
    step = 360.0 / tm.RG_B.shape[0]
    bb = np.arange(36) * 10.0 / step
    j = np.floor(bb).astype(int) % tm.RG_B.shape[0]
    u = bb - np.floor(bb)
    j1 = (j + 1) % tm.RG_B.shape[0]
    return (1 - u) * a[..., j] + u * a[..., j1]


def region_map_logratio(m: Model, tm: TerrainModel, substance: int, height_m, heat_mw, x, y):
    """Regional log ratio (A12) at the RG_Z z0 nodes, (n, nz, 30, 36).

    Linear in log height and heat**p between the A12 nodes (held beyond them)."""
    h = np.asarray(height_m, float)
    hc = np.asarray(heat_mw, float)
    w = region_weights(tm, x, y)  # (n, 54)
    ih, th = _clamped_axis(np.log(tm.RG_H), np.log(h))
    ic, tc = _clamped_axis(tm.RG_HC ** HEAT_EXPONENT, hc ** HEAT_EXPONENT)
    R = region_node_fields(m, tm, substance)  # (nh, nhc, 54, nz * 30 * 36)
    n = h.shape[0]
    nz, nr, nb = tm.RG.shape[4], m.D.shape[0], 36
    out = np.empty((n, R.shape[-1]))
    # Both steps are linear, so the field of each (height, heat) node is remapped to the
    # engine's rings and bearings once per process (region_node_fields) and each source
    # takes the location weights and the bilinear node weights of its own row. Each row
    # is summed in a fixed order (over locations, then nodes) by itself: a value does not
    # depend on the other sources in the call or on BLAS threads (Dask workers equal the
    # local run; tests/assessment/test_sites.py).
    if compiled.enabled():
        from stikstofcalc.deposition._tables_nb import region_sums  # loads numba: not at import

        region_sums(R, np.ascontiguousarray(w), np.ascontiguousarray(ih, dtype=np.int64),
                    np.ascontiguousarray(ic, dtype=np.int64), np.ascontiguousarray(th, dtype=np.float64),
                    np.ascontiguousarray(tc, dtype=np.float64), out)
    else:
        _region_sums_numpy(R, w, ih, ic, th, tc, out)
    return out.reshape(n, nz, nr, nb)


def _region_sums_numpy(R, w, ih, ic, th, tc, out):
    """numpy version of :func:`._tables_nb.region_sums` (reference): per source row,
    sum over the four (height, heat) nodes of node weight x (location weights . field).
    einsum without BLAS sums each row in a fixed order."""
    out[:] = 0.0
    for a in (0, 1):
        wa = th if a else 1.0 - th
        for b in (0, 1):
            c = wa * (tc if b else 1.0 - tc)
            use = c != 0.0
            cells = np.unique(np.column_stack([ih[use], ic[use]]), axis=0)
            for i0, c0 in cells:
                rows = np.flatnonzero(use & (ih == i0) & (ic == c0))
                out[rows] += c[rows, None] * np.einsum("nl,lr->nr", w[rows], R[i0 + a, c0 + b],
                                                       optimize=False)


#: the A12 field of every (height, heat) node remapped to the engine's rings and bearings,
#: per (model, terrain model, substance): (m, tm, array), the models kept so that their
#: ids stay theirs
_REGION_FIELDS: dict = register("stikstofcalc.deposition.model._REGION_FIELDS", {})


def region_node_fields(m: Model, tm: TerrainModel, substance: int) -> np.ndarray:
    """The A12 regional field at every (height, heat) node on the engine's rings and
    bearings, (nh, nhc, 54, nz * 30 * 36), contiguous; built once per process (about
    20 MB per substance)."""
    key = (id(m), id(tm), int(substance))
    hit = _REGION_FIELDS.get(key)
    if hit is None:
        G = tm.RG[:, substance]  # (54, nh, nhc, nz, nd, nb)
        F = _remap_rings_bearings(tm, m, G)  # (54, nh, nhc, nz, 30, 36)
        F = np.ascontiguousarray(np.moveaxis(F, 0, 2).reshape(G.shape[1], G.shape[2], G.shape[0], -1))
        F.setflags(write=False)
        hit = _REGION_FIELDS[key] = (m, tm, F)
    return hit[2]


def base_tables_all_z0(m: Model, substance: int, height_m, heat_mw):
    """Grass tables at every z0 node of the model, (n, nz, 30, 36) (same interpolation in
    height and heat as :func:`base_table`; linear in log z0 between these)."""
    h = np.asarray(height_m, float)
    hc = np.asarray(heat_mw, float)
    n, nz = h.shape[0], m.Z.shape[0]
    out = np.empty((n, nz, m.L.shape[-2], m.L.shape[-1]))
    for k in range(nz):
        out[:, k] = base_table(m, substance, h, hc, np.full(n, m.Z[k]))
    return out


def z0_axis(nodes_ln, lnz):
    """Lower node index and fraction of ln z0 values on ln-z0 nodes, clamped to the ends."""
    i, t = _clamped_axis(nodes_ln, lnz)
    return i, t


def gather_z(tab, i, t):
    """tab (n, nz, ...) at node index i and fraction t of shape (n, ...)."""
    idx = i[:, None] if i.ndim == 1 else i
    a = np.take_along_axis(tab, idx[:, None], 1)[:, 0]
    b = np.take_along_axis(tab, idx[:, None] + 1, 1)[:, 0]
    return (1 - t) * a + t * b


#: number of source-dependent basis functions of the terrain coefficients
N_SOURCE_BASIS = 3


def source_basis(height_m, heat_mw):
    """Basis of the terrain coefficients' dependence on the source, (n, 3):
    1, heat**0.25 (heat in MW, clamped to 1.5) and ln(height / 5 m) (clamped to 0.5-40 m).

    The receptor and source z0 act through u* and the Obukhov length on the plume; how
    that changes the deposition depends on how high the plume is (a ground-level plume
    is diluted more over a rougher receptor, an elevated, buoyant one is brought down)."""
    h = np.clip(np.asarray(height_m, float), 0.5, 40.0)
    hc = np.clip(np.asarray(heat_mw, float), 0.0, 1.5)
    return np.column_stack([np.ones_like(h), hc ** HEAT_EXPONENT, np.log(h / 5.0)])


def terrain_coefficients(tm: TerrainModel, substance: int, height_m, heat_mw):
    """(G, TS, TW, TWR) per source: G (n, z0 knots, 30) the receptor-surface function at
    the z0 knots, the others (n, 30)."""
    B = source_basis(height_m, heat_mw)
    G = np.einsum("nb,jbr->njr", B, tm.TA[substance])
    return (G,) + tuple(np.einsum("nb,br->nr", B, T[substance]) for T in (tm.TS, tm.TW, tm.TWR))


def z0_hats(tm: TerrainModel, lnz):
    """Lower knot and fraction of ln z0 on the receptor-surface knots (clamped)."""
    return _clamped_axis(np.log(tm.TA_Z), lnz)


def clamp_ln(lnz, lo_hi):
    return np.clip(lnz, np.log(lo_hi[0]), np.log(lo_hi[1]))


def node_axes(m: Model, tm: TerrainModel, lnz_node):
    """Where the trajectory ln z0 of each table node lies on the z0 axes of the kernel,
    the regional field and the receptor-surface knots: (clamped ln z0, (index,
    fraction) on m.Z, on tm.RG_Z, on tm.TA_Z). The same for both substances
    (:func:`source_tables_terrain` takes them once for both)."""
    lzk = clamp_ln(lnz_node, KERNEL_Z0_RANGE)
    return lzk, z0_axis(np.log(m.Z), lzk), z0_axis(np.log(tm.RG_Z), lzk), z0_hats(tm, lnz_node)


def source_tables_terrain(m: Model, tm: TerrainModel, substance: int, height_m, heat_mw,
                          spread_m, x, y, lnz0_src, lnz_node, water_node, axes=None):
    """Per-source log tables in map mode, evaluated at each node's trajectory terrain.

    Parameters
    ----------
    lnz0_src : (n,) ln of the source's map z0 [ln m]
    lnz_node, water_node : (n, 30, 36) trajectory mean ln z0 and water share from the
        source to each table node (:func:`.terrain.node_terrain`)
    axes : :func:`node_axes` of ``lnz_node``, when already at hand (else computed)

    Returns
    -------
    logtab : (n, 30, 36) log deposition [mol N/ha/yr per kg/yr] on a receptor of z0 = 1 m
        and class grass (the receptor factor exp(TA ln z0_rcp) x land-use ratio applies)
    lutab : (n, 9, 30) log ratio of each land-use class to grass, class 6 including TWR
    """
    h = np.asarray(height_m, float)
    hc = np.asarray(heat_mw, float)
    n = h.shape[0]
    key, inv = np.unique(np.column_stack([h, hc]), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    base6 = base_tables_all_z0(m, substance, key[:, 0], key[:, 1])
    lzk, (iz, tz), (jz, uz), (jh, wz) = node_axes(m, tm, lnz_node) if axes is None else axes
    out = gather_rows(base6, inv, iz, tz)
    reg = region_map_logratio(m, tm, substance, h, hc, x, y)  # (n, 3, 30, 36)
    out += gather_z(reg, jz, uz)
    out += spread_logratio(m, substance, h, hc, spread_m)[:, :, None]
    TA, TS, TW, TWR = terrain_coefficients(tm, substance, h, hc)
    lzs = clamp_ln(np.asarray(lnz0_src, float), KERNEL_Z0_RANGE)
    r = np.arange(lnz_node.shape[1])[None, :, None]
    k = np.arange(n)[:, None, None]
    out += (TS[:, :, None] * (lzs[:, None, None] - lzk)
            - ((1 - wz) * TA[k, jh, r] + wz * TA[k, jh + 1, r])
            + TW[:, :, None] * water_node)
    lut = landuse_logratio(m, substance, h, np.exp(lzs))
    lut[:, 5, :] += TWR
    return out, lut


def gather_rows(tab6, inv, iz, tz):
    """tab6 (u, nz, 30, 36) of each source's row ``inv`` at per-node z0 (iz, tz) (n, 30, 36)."""
    n, nr, nb = iz.shape
    r = np.arange(nr)[None, :, None]
    b = np.arange(nb)[None, None, :]
    k = inv[:, None, None]
    return (1 - tz) * tab6[k, iz, r, b] + tz * tab6[k, iz + 1, r, b]
