"""Compiled assembly of the per-source grass tables (see :func:`.model.base_table`).

The same interpolation as the numpy version (linear in log z0, monotone cubic in
heat**p and in log height on a four-node stencil), but per source in cache instead
of over (n, 4, 4, rings, bearings) temporaries: about ten times faster, and parallel.
``tests/deposition/test_engine.py`` checks it against the numpy version.
"""

from __future__ import annotations

import numpy as np
from stikstofcalc.compiled import njit, prange


@njit(cache=True, inline="always")
def _slope(da, db, ha, hb):
    if da * db <= 0.0:
        return 0.0
    wa = 2.0 * hb + ha
    wb = hb + 2.0 * ha
    return (wa + wb) / (wa / da + wb / db)


@njit(cache=True, inline="always")
def _pchip1(x0, x1, x2, x3, y0, y1, y2, y3, v):
    """Monotone cubic between (x1, y1) and (x2, y2); stencil ends may repeat; linear
    beyond the interval (as ``model._pchip``)."""
    h0 = x1 - x0
    h1 = x2 - x1
    h2 = x3 - x2
    d1 = (y2 - y1) / h1
    d0 = (y1 - y0) / h0 if h0 > 0.0 else d1
    d2 = (y3 - y2) / h2 if h2 > 0.0 else d1
    m1 = _slope(d0, d1, h0, h1) if h0 > 0.0 else d1
    m2 = _slope(d1, d2, h1, h2) if h2 > 0.0 else d1
    t = (v - x1) / h1
    if t < 0.0 or t > 1.0:
        return y1 + t * (y2 - y1)
    t2 = t * t
    t3 = t2 * t
    return ((2.0 * t3 - 3.0 * t2 + 1.0) * y1 + (t3 - 2.0 * t2 + t) * h1 * m1
            + (-2.0 * t3 + 3.0 * t2) * y2 + (t3 - t2) * h1 * m2)


@njit(cache=True, parallel=True)
def base_tables(Ls, xh, sh, xq, sq, iz, tz, vh, vq, out):
    """Grass log tables of n sources into ``out`` (n, rings, bearings).

    Ls (heights, heats, z0s, rings, bearings): the substance's log table; sh, sq (n, 4):
    stencil node indices along height and heat; xh, xq: node coordinates (log h,
    heat**p); iz, tz: lower z0 node and fraction; vh, vq: the sources' coordinates.
    """
    n = out.shape[0]
    nr = out.shape[1]
    nb = out.shape[2]
    for k in prange(n):
        T = np.empty((4, 4))
        Tq = np.empty(4)
        w = tz[k]
        z = iz[k]
        for r in range(nr):
            for b in range(nb):
                for a in range(4):
                    for c in range(4):
                        T[a, c] = ((1.0 - w) * Ls[sh[k, a], sq[k, c], z, r, b]
                                   + w * Ls[sh[k, a], sq[k, c], z + 1, r, b])
                    Tq[a] = _pchip1(xq[sq[k, 0]], xq[sq[k, 1]], xq[sq[k, 2]], xq[sq[k, 3]],
                                    T[a, 0], T[a, 1], T[a, 2], T[a, 3], vq[k])
                out[k, r, b] = _pchip1(xh[sh[k, 0]], xh[sh[k, 1]], xh[sh[k, 2]], xh[sh[k, 3]],
                                       Tq[0], Tq[1], Tq[2], Tq[3], vh[k])


@njit(cache=True, parallel=True)
def region_sums(R, w, ih, ic, th, tc, out):
    """Regional log ratio of n sources into ``out`` (n, v) (see
    :func:`.model.region_map_logratio`): per source, the sum over the four (height, heat)
    nodes (ih + a, ic + b) with bilinear weights (th, tc) of the location weights ``w``
    (n, 54) times the node's fields R (nh, nhc, 54, v). Each row is summed by itself, in a
    fixed order (no fastmath): the same value whatever the other rows."""
    n = out.shape[0]
    nl = w.shape[1]
    nv = out.shape[1]
    for k in prange(n):
        for v in range(nv):
            out[k, v] = 0.0
        for a in range(2):
            wa = th[k] if a == 1 else 1.0 - th[k]
            for b in range(2):
                c = wa * (tc[k] if b == 1 else 1.0 - tc[k])
                if c == 0.0:
                    continue
                i0 = ih[k] + a
                c0 = ic[k] + b
                for q in range(nl):
                    f = c * w[k, q]
                    for v in range(nv):
                        out[k, v] += f * R[i0, c0, q, v]


@njit(cache=True, parallel=True)
def axis(nodes, v, clamp, i_out, t_out):
    """Lower node index and fraction of the values v on ascending nodes, as
    ``model._axis`` (``np.searchsorted(nodes, v, "right") - 1`` clipped to 0 .. n - 2,
    t = (v - nodes[i]) / (nodes[i + 1] - nodes[i])), and t clipped to 0 .. 1 when
    ``clamp`` (``model._clamped_axis``). The same numbers; one pass instead of numpy's
    sorted search and three temporaries over arrays of millions of table nodes."""
    n = nodes.shape[0]
    for q in prange(v.shape[0]):
        x = v[q]
        i = 0
        for k in range(1, n - 1):  # the nodes are ascending: a count, free of branches
            i += 1 if nodes[k] <= x else 0
        if x != x:  # NaN sorts after every node in numpy
            i = n - 2
        t = (x - nodes[i]) / (nodes[i + 1] - nodes[i])
        if clamp:
            if t < 0.0:
                t = 0.0
            elif t > 1.0:
                t = 1.0
        i_out[q] = i
        t_out[q] = t
