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
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import DataError

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


@lru_cache(maxsize=1)
def load_model() -> Model:
    """Load the shipped model data (cached)."""
    try:
        ref = resources.files("stikstofcalc.deposition").joinpath("data", MODEL_FILE)
        with ref.open("rb") as fh, np.load(fh) as z:
            arrs = {k: z[k] for k in z.files}
    except FileNotFoundError as exc:  # pragma: no cover - packaging error
        raise DataError(f"model data {MODEL_FILE} missing from the package") from exc
    for k in ("AC_U", "AC_H", "AC_S", "AC", "TR"):
        arrs.setdefault(k, None)
    arrs["provenance"] = str(arrs["provenance"])
    return Model(**arrs)


@lru_cache(maxsize=1)
def model_info() -> dict:
    """Provenance of the shipped model data (for outputs): file, sha256, OPS version."""
    import hashlib

    ref = resources.files("stikstofcalc.deposition").joinpath("data", MODEL_FILE)
    digest = hashlib.sha256(ref.read_bytes()).hexdigest()
    return {"file": MODEL_FILE, "sha256": digest, "source": load_model().provenance}


def _axis(nodes, v):
    """Index of the lower node and fraction, linear (extrapolating beyond the ends)."""
    i = np.clip(np.searchsorted(nodes, v, side="right") - 1, 0, len(nodes) - 2)
    t = (v - nodes[i]) / (nodes[i + 1] - nodes[i])
    return i, t


def _clamped_axis(nodes, v):
    i, t = _axis(nodes, v)
    return i, np.clip(t, 0.0, 1.0)


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
        base[sl] = _base_table(m, substance, key[sl, 0], key[sl, 1], key[sl, 2])
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


def _base_table(m: Model, substance: int, h, hc, z0):
    """Grass table (n, 30, 36): linear in log z0, monotone cubic in hc**p and log h.

    Compiled (``_tables_nb``) when numba is there, else :func:`_base_table_numpy`.
    """
    try:
        from ._tables_nb import base_tables
    except ImportError:  # pragma: no cover - numba is a dependency
        return _base_table_numpy(m, substance, h, hc, z0)
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
    """Grass table (n, 30, 36), numpy version of :func:`_base_table` (reference)."""
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
