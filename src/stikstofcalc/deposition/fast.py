"""Compiled (numba) evaluation of the deposition model.

The same model as :func:`.engine.evaluate_reference`, with distance-adaptive
quadrature: an area or line source seen from far away needs fewer quadrature points
than one seen from close by. Receptors are processed in parallel (one thread per
core); per receptor, only the sources of its own case are visited. Tested against the
numpy reference in ``tests/deposition/test_engine.py``.
"""

from __future__ import annotations

import contextvars
import math

import numpy as np

from stikstofcalc import compiled
from stikstofcalc.compiled import njit, prange
from stikstofcalc.deposition import model as _model, terrain as _terrain
from stikstofcalc.deposition.arrays import LINE_SPACING_M
from stikstofcalc.deposition.progress import report_step

#: a square is one point (its centre) beyond this many sides from the receptor
AREA_FAR_SIDES = 8.0
#: quadrature points per side needed at a distance of one side
AREA_POINTS_AT_ONE_SIDE = 6.0
#: most cells per side of the coarse grid over a square
AREA_CELLS_MAX = 40
#: cells this close to the receptor (in cell widths, Chebyshev) are refined
NEAR_CELLS = 1.5
#: spacing of the refined points near the receptor [m]
AREA_FINE_M = 4.0
#: most refined points per cell side
AREA_SUB_MAX = 16
#: quadrature points along a line needed at a distance of one line length
LINE_POINTS_AT_ONE_LENGTH = 5.0
#: sqrt(u) range and resolution of the fast path's area-correction tables
AC_SQRT_U_MAX = 36.0
AC_N = 512
AC_INV_STEP = (AC_N - 1) / AC_SQRT_U_MAX
#: receptors per parallel work item
BLOCK = 2048
#: receptors per part of a block in the passes: parts beyond a source's reach are skipped
#: (a block of 2048 spatially ordered receptors spans kilometres; without the parts, a
#: third of the pairs computed on the mixed benchmark lay beyond the 25 km cut-off)
PASS_BLOCK = 256
#: point-like pairs of blocks of one-class receptors take the three passes of
#: ``_evaluate`` (False: the one-loop path, the same numbers; for the tests)
BLOCK_PASSES = True


@njit(cache=True, fastmath=True, inline="always")
def _bearing_frac(dx, dy):
    """Compass bearing from (dx, dy) in units of 10 degrees, 0 <= b < 36.

    Octant reduction and a 7th-order odd polynomial for atan on [0, 1]
    (max error 1e-5 rad), instead of a libm atan2 call.
    """
    ax = abs(dx)
    ay = abs(dy)
    mx = max(max(ax, ay), 1e-300)
    a = min(ax, ay) / mx
    a2 = a * a
    t = a * (0.99997726 + a2 * (-0.33262347 + a2 * (0.19354346 + a2 * (-0.11643287
             + a2 * (0.05265332 - a2 * 0.01172120)))))
    # branch-free placement (receptor directions are random: branches mispredict)
    big = 1.0 if ax > ay else 0.0
    t = t + big * (1.5707963267948966 - 2.0 * t)  # angle from the north-south axis
    sy = 1.0 if dy < 0.0 else 0.0
    sx = 1.0 if dx < 0.0 else 0.0
    ang = (3.141592653589793 * (sy + sx * (2.0 - 2.0 * sy))
           + t * (1.0 - 2.0 * sy) * (1.0 - 2.0 * sx))
    b = ang * (18.0 / 3.141592653589793)
    return b - 36.0 * (1.0 if b >= 36.0 else 0.0)

@njit(cache=True, fastmath=True, inline="always")
def _coords(d2, dx, dy, sq_nodes, sq_x, nr):
    """Fine ring index and fraction, bearing index and fraction."""
    s = math.sqrt(math.sqrt(d2))
    ns = sq_nodes.shape[0]
    f = (s - sq_nodes[0]) * (1.0 / (sq_nodes[1] - sq_nodes[0]))
    if f <= 0.0:
        x = 0.0
    elif f >= ns - 1:  # beyond the last ring: exact log distance
        x = sq_x[ns - 1] + (math.log(s / sq_nodes[ns - 1]) * 4.0) * (
            (sq_x[ns - 1] - sq_x[ns - 2]) / (4.0 * math.log(sq_nodes[ns - 1] / sq_nodes[ns - 2])) * 4.0) / 4.0
    else:
        i = int(f)
        w = f - i
        x = (1.0 - w) * sq_x[i] + w * sq_x[i + 1]
    i = min(int(x), nr - 2)
    y = _bearing_frac(dx, dy)
    j = int(y)
    return i, x - i, j, y - j

@njit(cache=True, fastmath=True, inline="always")
def _rfac(lut, k, r, i, t, rp, rc, rw, taf, rz, rj):
    """Receptor factor of receptor r: land-use ratio (mixture of classes: the
    deposition-velocity average, as OPS with land-use percentages) times the
    receptor-surface factor of the terrain model, interpolated between the z0 knots
    (rz < 0: none, without terrain)."""
    p0 = rp[r]
    if t > 1.0:  # beyond the last ring: hold the last ring's ratio
        i = i + 1
        t = 0.0
        i1 = i
    else:
        i1 = i + 1
    if rp[r + 1] - p0 == 1:
        c = rc[p0]
        f = rw[p0] * ((1.0 - t) * lut[k, c, i] + t * lut[k, c, i1])
    else:
        f = 0.0
        for q in range(p0, rp[r + 1]):
            c = rc[q]
            f += rw[q] * ((1.0 - t) * lut[k, c, i] + t * lut[k, c, i1])
    if rz[r] >= 0.0:  # receptor-surface factor (terrain): z0 knot rj[r] + fraction rz[r]
        jz = rj[r]
        f *= ((1.0 - rz[r]) * ((1.0 - t) * taf[k, jz, i] + t * taf[k, jz, i1])
              + rz[r] * ((1.0 - t) * taf[k, jz + 1, i] + t * taf[k, jz + 1, i1]))
    return f

@njit(cache=True, fastmath=True, inline="always")
def _val(tab, lut, k, r, i, t, j, u, rp, rc, rw, taf, rz, rj):
    if t > 1.0:  # beyond the last ring (no cut-off): log-linear extrapolation
        va = (1.0 - u) * tab[k, i, j] + u * tab[k, i, j + 1]
        vb = (1.0 - u) * tab[k, i + 1, j] + u * tab[k, i + 1, j + 1]
        return vb * (vb / va) ** (t - 1.0) * _rfac(lut, k, r, i, t, rp, rc, rw, taf, rz, rj)
    v = ((1.0 - t) * ((1.0 - u) * tab[k, i, j] + u * tab[k, i, j + 1])
         + t * ((1.0 - u) * tab[k, i + 1, j] + u * tab[k, i + 1, j + 1]))
    return v * _rfac(lut, k, r, i, t, rp, rc, rw, taf, rz, rj)

@njit(cache=True, fastmath=True, inline="always")
def _both(k, kt, d2, dx, dy, r, e0, tab0, lut0, e1, tab1, lut1, sq_nodes, sq_x, rp, rc, rw,
          taf0, taf1, rz, rj):
    """(NOx, NH3) deposition of source k's emission at one offset on receptor r."""
    i, t, j, u = _coords(d2, dx, dy, sq_nodes, sq_x, max(tab0.shape[1], tab1.shape[1]))
    v0 = e0[k] * _val(tab0, lut0, kt, r, i, t, j, u, rp, rc, rw, taf0, rz, rj) if e0[k] != 0.0 else 0.0
    v1 = e1[k] * _val(tab1, lut1, kt, r, i, t, j, u, rp, rc, rw, taf1, rz, rj) if e1[k] != 0.0 else 0.0
    return v0, v1

@njit(cache=True, fastmath=True, inline="always")
def _acorr(ac, k, u):
    """Area correction of source k at u half sides (linear table over sqrt(u))."""
    f = math.sqrt(u) * AC_INV_STEP
    n = ac.shape[1]
    if f >= n - 1:
        return ac[k, n - 1]
    i = int(f)
    w = f - i
    return (1.0 - w) * ac[k, i] + w * ac[k, i + 1]

@njit(cache=True, fastmath=True, inline="always")
def _pair(k, kt, ka, kind, sx, sy, ex, ey, side, rx, ry, lu, e0, tab0, lut0, ac0,
          e1, tab1, lut1, ac1, sq_nodes, sq_x, cut2, rp, rc, rw, taf0, taf1, rz, rj):
    """(NOx, NH3) deposition of source k on one receptor (adaptive quadrature)."""
    if kind[k] == 0:
        dx = rx - sx[k]
        dy = ry - sy[k]
        d2 = dx * dx + dy * dy
        if d2 > cut2:
            return 0.0, 0.0
        return _both(k, kt, d2, dx, dy, lu, e0, tab0, lut0, e1, tab1, lut1, sq_nodes, sq_x,
                     rp, rc, rw, taf0, taf1, rz, rj)
    a0 = 0.0
    a1 = 0.0
    if kind[k] == 1:
        a = side[k]
        dxc = rx - sx[k]
        dyc = ry - sy[k]
        dc = math.sqrt(dxc * dxc + dyc * dyc)
        if dc - 0.7072 * a > math.sqrt(cut2):
            return 0.0, 0.0
        if dc > AREA_FAR_SIDES * a:
            m = 1
        else:
            m = min(AREA_CELLS_MAX, max(2, math.ceil(AREA_POINTS_AT_ONE_SIDE * a / max(dc, 1e-9))))
        h = a / m
        # cells within NEAR_CELLS cell widths of the receptor are refined to <= AREA_FINE_M
        sub = min(AREA_SUB_MAX, max(1, math.ceil(h / AREA_FINE_M)))
        for p in range(m):
            cx = ((p + 0.5) / m - 0.5) * a
            for q in range(m):
                cy = ((q + 0.5) / m - 0.5) * a
                near = max(abs(dxc - cx), abs(dyc - cy)) < NEAR_CELLS * h
                ns = sub if near else 1
                w = 1.0 / (ns * ns)
                for pp in range(ns):
                    ox = cx + ((pp + 0.5) / ns - 0.5) * h
                    for qq in range(ns):
                        oy = cy + ((qq + 0.5) / ns - 0.5) * h
                        dx = dxc - ox
                        dy = dyc - oy
                        d2 = dx * dx + dy * dy
                        if d2 <= cut2:
                            v0, v1 = _both(k, kt, d2, dx, dy, lu, e0, tab0, lut0, e1, tab1,
                                           lut1, sq_nodes, sq_x, rp, rc, rw, taf0, taf1, rz, rj)
                            a0 += w * v0
                            a1 += w * v1
        u = max(abs(dxc), abs(dyc)) / (0.5 * a)
        c0 = _acorr(ac0, ka, u) / (m * m)
        c1 = _acorr(ac1, ka, u) / (m * m)
        return a0 * c0, a1 * c1
    # straight segment
    lx = ex[k] - sx[k]
    ly = ey[k] - sy[k]
    length = math.sqrt(lx * lx + ly * ly)
    wx = rx - sx[k]
    wy = ry - sy[k]
    s = 0.0 if length == 0.0 else min(1.0, max(0.0, (wx * lx + wy * ly) / (length * length)))
    dn = math.sqrt((wx - s * lx) ** 2 + (wy - s * ly) ** 2)
    if dn * dn > cut2:
        return 0.0, 0.0
    nfull = max(1, math.ceil(length / LINE_SPACING_M))
    n = min(nfull, max(1, math.ceil(LINE_POINTS_AT_ONE_LENGTH * length / max(dn, 1e-9))))
    for p in range(n):
        f = (p + 0.5) / n
        dx = wx - f * lx
        dy = wy - f * ly
        d2 = dx * dx + dy * dy
        if d2 <= cut2:
            v0, v1 = _both(k, kt, d2, dx, dy, lu, e0, tab0, lut0, e1, tab1, lut1,
                           sq_nodes, sq_x, rp, rc, rw, taf0, taf1, rz, rj)
            a0 += v0
            a1 += v1
    return a0 / n, a1 / n

@njit(cache=True, fastmath=True, inline="always")
def _point_rows(k, kt, r0, r1, cx, cy, rx, ry, rs0, rs1, e0k, tab0, lut0, e1k, tab1, lut1,
                sq_x, s0, sinv, nr, cut2, out0, out1, rp, rc, rw, taf0, taf1, rz, rj):
    """Point source k on receptors r0..r1 (all within the table's 30 km): the hot loop,
    kept free of the quadrature code so that it stays small."""
    xmax = sq_x.shape[0] - 1.000001
    for r in range(r0, r1):
        if k < rs0[r] or k >= rs1[r]:
            continue
        dx = rx[r] - cx
        dy = ry[r] - cy
        d2 = dx * dx + dy * dy
        if d2 > cut2:
            continue
        f = min(max((math.sqrt(math.sqrt(d2)) - s0) * sinv, 0.0), xmax)
        ii = int(f)
        w = f - ii
        x = (1.0 - w) * sq_x[ii] + w * sq_x[ii + 1]
        i = min(int(x), nr - 2)
        t = x - i
        y = _bearing_frac(dx, dy)
        j = int(y)
        u = y - j
        if e0k != 0.0:
            out0[r] += e0k * _val(tab0, lut0, kt, r, i, t, j, u, rp, rc, rw, taf0, rz, rj)
        if e1k != 0.0:
            out1[r] += e1k * _val(tab1, lut1, kt, r, i, t, j, u, rp, rc, rw, taf1, rz, rj)

@njit(cache=True, fastmath=True)
def _block_geometry(r0, n, cx, cy, rx, ry, s0, sinv, cut2, far2, S):
    """First pass of a source seen as one point over receptors r0 .. r0 + n: per
    receptor the position on the sqrt-distance axis (S[0]), the bearing in units of 10
    degrees (S[1]) and 1 where the source acts as a point within the cut-off
    (far2 <= d2 <= cut2), else 0 (S[2]). Free of table look-ups, so that the compiler
    vectorises it (square roots and the bearing polynomial eight at a time). Returns the
    number of receptors nearer than far2 (they need the quadrature)."""
    near = 0
    for q in range(n):
        dx = rx[r0 + q] - cx
        dy = ry[r0 + q] - cy
        d2 = dx * dx + dy * dy
        S[0, q] = (math.sqrt(math.sqrt(d2)) - s0) * sinv
        S[1, q] = _bearing_frac(dx, dy)
        S[2, q] = 1.0 if (d2 <= cut2 and d2 >= far2) else 0.0
        near += 1 if d2 < far2 else 0
    return near


@njit(cache=True, fastmath=True)
def _block_rings(n, sq_x, nr, S, I, J):
    """Second pass: fine ring index (I) and fraction (S[0]), bearing index (J) and
    fraction (S[1]), as :func:`_point_rows`. Unsigned indices: no negative-index
    wrap-around code in this and the next pass."""
    xmax = sq_x.shape[0] - 1.000001
    last = np.uint64(nr - 2)
    for q in range(n):
        f = min(max(S[0, q], 0.0), xmax)
        ii = np.uint64(f)
        w = f - ii
        x = (1.0 - w) * sq_x[ii] + w * sq_x[ii + np.uint64(1)]
        i = min(np.uint64(x), last)
        S[0, q] = x - i
        I[q] = i
        y = S[1, q]
        j = np.uint64(y)
        J[q] = j
        S[1, q] = y - j


@njit(cache=True, fastmath=True)
def _block_acorr(r0, n, cx, cy, rx, ry, ac, ka, inv_half, C):
    """Area correction (:func:`_acorr`) of square ``ka`` seen as one point, per receptor, into C."""
    for q in range(n):
        C[q] = _acorr(ac, ka, max(abs(rx[r0 + q] - cx), abs(ry[r0 + q] - cy)) * inv_half)


@njit(cache=True, fastmath=True)
def _block_values(r0, n, ek, tabk, lutk, tafk, rcl, rwt, rzf, rju, terrain, S, I, J, C, area,
                  out):
    """Third pass, once per substance: the table values of one source at the receptors'
    (ring, bearing) of the passes before, times the receptor factor of a one-class
    receptor (``_rfac``), into ``out``. The look-ups of successive receptors do not depend
    on each other, so the processor overlaps them (the one-loop version waited on each
    receptor's chain of square roots and look-ups). ``area``: times the area correction
    C of a square seen as one point."""
    one = np.uint64(1)
    for q in range(n):
        r = r0 + q
        i = I[q]
        j = J[q]
        t = S[0, q]
        u = S[1, q]
        v = ((1.0 - t) * ((1.0 - u) * tabk[i, j] + u * tabk[i, j + one])
             + t * ((1.0 - u) * tabk[i + one, j] + u * tabk[i + one, j + one]))
        c = rcl[r]
        f = rwt[r] * ((1.0 - t) * lutk[c, i] + t * lutk[c, i + one])
        if terrain:
            jz = rju[r]
            z = rzf[r]
            f *= ((1.0 - z) * ((1.0 - t) * tafk[jz, i] + t * tafk[jz, i + one])
                  + z * ((1.0 - t) * tafk[jz + one, i] + t * tafk[jz + one, i + one]))
        if area:
            out[r] += S[2, q] * ((ek * C[q]) * (v * f))
        else:
            out[r] += S[2, q] * (ek * (v * f))


@njit(cache=True, fastmath=True)
def _source_passes(k, kk, q0, q1, cx, cy, far2, terr, rx, ry, tix, aix, side, e0, tab0, lut0,
                   ac0, taf0, e1, tab1, lut1, ac1, taf1, sq_x, s0, sinv, nr, cut2, out0, out1,
                   rcl, rwt, rzf, rju, S, I, J, C, nmix, rp, rc, rw, rz, rj):
    """Source k (kind kk, seen as one point at cx, cy) on receptors q0 .. q1 of one block
    by the three passes (:func:`_block_geometry`, :func:`_block_rings`,
    :func:`_block_values`), except the receptors nearer than far2 (squares and segments):
    returns their number (they take the quadrature of :func:`_pair`).

    ``nmix`` receptors of the part have a land-use mixture (more than one class): their
    weight ``rwt`` is 0, so the value pass adds 0 to them, and they get the source's
    value from the general receptor factor (``_val``) at the same ring and bearing."""
    n = q1 - q0
    kt = tix[k]
    near = _block_geometry(q0, n, cx, cy, rx, ry, s0, sinv, cut2, far2, S)
    _block_rings(n, sq_x, nr, S, I, J)
    inv_half = 1.0 / (0.5 * side[k]) if kk == 1 else 0.0
    if e0[k] != 0.0:
        if kk == 1:
            _block_acorr(q0, n, cx, cy, rx, ry, ac0, aix[k], inv_half, C)
        _block_values(q0, n, e0[k], tab0[kt], lut0[kt], taf0[kt], rcl, rwt, rzf, rju, terr,
                      S, I, J, C, kk == 1, out0)
    if e1[k] != 0.0:
        if kk == 1:
            _block_acorr(q0, n, cx, cy, rx, ry, ac1, aix[k], inv_half, C)
        _block_values(q0, n, e1[k], tab1[kt], lut1[kt], taf1[kt], rcl, rwt, rzf, rju, terr,
                      S, I, J, C, kk == 1, out1)
    if nmix > 0:
        for q in range(n):
            r = q0 + q
            if rp[r + 1] - rp[r] == 1 or S[2, q] == 0.0:
                continue
            i = np.int64(I[q])
            j = np.int64(J[q])
            t = S[0, q]
            u = S[1, q]
            cu = max(abs(rx[r] - cx), abs(ry[r] - cy)) * inv_half
            if e0[k] != 0.0:
                c = _acorr(ac0, aix[k], cu) if kk == 1 else 1.0
                out0[r] += e0[k] * c * _val(tab0, lut0, kt, r, i, t, j, u, rp, rc, rw, taf0, rz, rj)
            if e1[k] != 0.0:
                c = _acorr(ac1, aix[k], cu) if kk == 1 else 1.0
                out1[r] += e1[k] * c * _val(tab1, lut1, kt, r, i, t, j, u, rp, rc, rw, taf1, rz, rj)
    return near


@njit(cache=True, parallel=True, fastmath=True)
def _evaluate(rx, ry, rp, rc, rw, rz, rj, rs0, rs1, tix, aix, kind, sx, sy, ex, ey, side,
              e0, tab0, lut0, ac0, taf0, e1, tab1, lut1, ac1, taf1, sq_nodes, sq_x, cut2,
              out0, out1, block_order, rcl, rwt, rzf, rju, use_passes):
    """Receptor blocks in parallel; per block, sources outer so that a source's
    tables stay in cache while the block's receptors stream past.

    Pairs where the source acts as a point (points; squares beyond AREA_FAR_SIDES
    sides; segments beyond LINE_POINTS_AT_ONE_LENGTH lengths) take a tight loop on
    the source's reference point; the others take the quadrature in ``_pair``. On a
    block whose receptors all see the same sources and have one land-use class each (the
    usual case), sources take three short passes per part of PASS_BLOCK receptors within
    their reach (``_source_passes``: ``_block_geometry``, ``_block_rings``,
    ``_block_values``; ``rcl``, ``rwt``: each receptor's class and weight, ``rzf``,
    ``rju``: its z0 knot fraction and knot, unsigned) instead of ``_point_rows``, and the
    receptors of a part nearer than a square's or segment's far distance take ``_pair``
    after them: the same numbers, about twice as fast.
    """
    n = rx.shape[0]
    nr = max(tab0.shape[1], tab1.shape[1])
    nblocks = (n + BLOCK - 1) // BLOCK
    ns = sq_nodes.shape[0]
    s0 = sq_nodes[0]
    sinv = 1.0 / (sq_nodes[1] - sq_nodes[0])
    within_table = cut2 <= sq_nodes[ns - 1] ** 4
    cut = math.sqrt(cut2) if cut2 < np.inf else np.inf
    for bq in prange(nblocks):
        # blocks in a low-discrepancy order: prange hands each thread one contiguous run
        # of iterations, and contiguous blocks in Z order are one part of the map, so
        # threads would get very different amounts of work (sources are not spread evenly)
        bi = block_order[bq]
        r0 = bi * BLOCK
        r1 = min(n, r0 + BLOCK)
        k0 = rs0[r0]
        k1 = rs1[r0]
        bx0 = rx[r0]
        bx1 = rx[r0]
        by0 = ry[r0]
        by1 = ry[r0]
        same = True  # every receptor of the block sees sources k0 .. k1
        nterr = 0
        for r in range(r0, r1):
            same = same and rs0[r] == k0 and rs1[r] == k1
            nterr += 1 if rz[r] >= 0.0 else 0
            k0 = min(k0, rs0[r])
            k1 = max(k1, rs1[r])
            bx0 = min(bx0, rx[r])
            bx1 = max(bx1, rx[r])
            by0 = min(by0, ry[r])
            by1 = max(by1, ry[r])
        terr = nterr == r1 - r0
        passes = use_passes and same and (terr or nterr == 0) and within_table
        # bounding boxes of the block's parts of PASS_BLOCK receptors (x0, x1, y0, y1)
        nsub = (r1 - r0 + PASS_BLOCK - 1) // PASS_BLOCK
        pbx = np.empty((4, nsub))
        pmx = np.zeros(nsub, np.int64)  # receptors with a land-use mixture per part
        for sb in range(nsub):
            q0 = r0 + sb * PASS_BLOCK
            q1 = min(r1, q0 + PASS_BLOCK)
            for r in range(q0, q1):
                pmx[sb] += 1 if rp[r + 1] - rp[r] != 1 else 0
            pbx[0, sb] = rx[q0]
            pbx[1, sb] = rx[q0]
            pbx[2, sb] = ry[q0]
            pbx[3, sb] = ry[q0]
            for r in range(q0, q1):
                pbx[0, sb] = min(pbx[0, sb], rx[r])
                pbx[1, sb] = max(pbx[1, sb], rx[r])
                pbx[2, sb] = min(pbx[2, sb], ry[r])
                pbx[3, sb] = max(pbx[3, sb], ry[r])
        S = np.empty((3, PASS_BLOCK))
        C = np.empty(PASS_BLOCK)
        I = np.empty(PASS_BLOCK, np.uint64)
        J = np.empty(PASS_BLOCK, np.uint64)
        for k in range(k0, k1):
            kk = kind[k]
            # the whole block beyond the cut-off of every point of the source: skip it
            ext = 0.0
            if kk == 1:
                ext = 0.7072 * side[k]
            elif kk == 2:
                ext = 0.5 * math.sqrt((ex[k] - sx[k]) ** 2 + (ey[k] - sy[k]) ** 2)
            mx = sx[k] if kk != 2 else 0.5 * (sx[k] + ex[k])
            my = sy[k] if kk != 2 else 0.5 * (sy[k] + ey[k])
            gx = max(bx0 - mx, 0.0, mx - bx1)
            gy = max(by0 - my, 0.0, my - by1)
            if gx * gx + gy * gy > (cut + ext + 1.0) ** 2:
                continue
            if kk == 2:  # segment: reference point is the midpoint
                lx = ex[k] - sx[k]
                ly = ey[k] - sy[k]
                cx = sx[k] + 0.5 * lx
                cy = sy[k] + 0.5 * ly
                far2 = (LINE_POINTS_AT_ONE_LENGTH + 0.5) ** 2 * (lx * lx + ly * ly)
            elif kk == 1:
                cx = sx[k]
                cy = sy[k]
                far2 = (AREA_FAR_SIDES * side[k]) ** 2
            else:
                cx = sx[k]
                cy = sy[k]
                far2 = 0.0
            has0 = e0[k] != 0.0
            has1 = e1[k] != 0.0
            if passes and (kk == 0 or far2 > 0.0):
                # a point, or the receptors that see a square or segment as one point (as
                # below): the three passes, per part of the block within the source's reach
                for sb in range(nsub):
                    gx = max(pbx[0, sb] - mx, 0.0, mx - pbx[1, sb])
                    gy = max(pbx[2, sb] - my, 0.0, my - pbx[3, sb])
                    if gx * gx + gy * gy > (cut + ext + 1.0) ** 2:
                        continue
                    q0 = r0 + sb * PASS_BLOCK
                    q1 = min(r1, q0 + PASS_BLOCK)
                    near = _source_passes(k, kk, q0, q1, cx, cy, far2, terr, rx, ry, tix, aix,
                                          side, e0, tab0, lut0, ac0, taf0, e1, tab1, lut1, ac1,
                                          taf1, sq_x, s0, sinv, nr, cut2, out0, out1, rcl, rwt,
                                          rzf, rju, S, I, J, C, pmx[sb], rp, rc, rw, rz, rj)
                    if near == 0:
                        continue
                    for r in range(q0, q1):  # the quadrature of the nearer receptors
                        dx = rx[r] - cx
                        dy = ry[r] - cy
                        if dx * dx + dy * dy < far2:
                            v0, v1 = _pair(k, tix[k], aix[k], kind, sx, sy, ex, ey, side, rx[r],
                                           ry[r], r, e0, tab0, lut0, ac0, e1, tab1, lut1, ac1,
                                           sq_nodes, sq_x, cut2, rp, rc, rw, taf0, taf1, rz, rj)
                            out0[r] += v0
                            out1[r] += v1
                continue
            if kk == 0 and within_table:
                _point_rows(k, tix[k], r0, r1, cx, cy, rx, ry, rs0, rs1, e0[k], tab0, lut0,
                            e1[k], tab1, lut1, sq_x, s0, sinv, nr, cut2, out0, out1,
                            rp, rc, rw, taf0, taf1, rz, rj)
                continue
            for r in range(r0, r1):
                if k < rs0[r] or k >= rs1[r]:
                    continue
                dx = rx[r] - cx
                dy = ry[r] - cy
                d2 = dx * dx + dy * dy
                if d2 < far2 or (kk == 2 and far2 == 0.0):
                    v0, v1 = _pair(k, tix[k], aix[k], kind, sx, sy, ex, ey, side, rx[r], ry[r], r,
                                   e0, tab0, lut0, ac0, e1, tab1, lut1, ac1,
                                   sq_nodes, sq_x, cut2, rp, rc, rw, taf0, taf1, rz, rj)
                    out0[r] += v0
                    out1[r] += v1
                    continue
                if d2 > cut2:
                    continue
                i, t, j, u = _coords(d2, dx, dy, sq_nodes, sq_x, nr)
                c = 1.0
                if kk == 1:
                    c = _acorr(ac0, aix[k], max(abs(dx), abs(dy)) / (0.5 * side[k]))
                if has0:
                    out0[r] += e0[k] * c * _val(tab0, lut0, tix[k], r, i, t, j, u, rp, rc, rw, taf0, rz, rj)
                if has1:
                    if kk == 1:
                        c = _acorr(ac1, aix[k], max(abs(dx), abs(dy)) / (0.5 * side[k]))
                    out1[r] += e1[k] * c * _val(tab1, lut1, tix[k], r, i, t, j, u, rp, rc, rw, taf1, rz, rj)


#: refinement of the ring axis in the fast path's linear tables
FINE = 4
#: nodes in sqrt(distance) [m**0.5] of the distance -> ring-coordinate map
SQ_NODES = np.linspace(np.sqrt(20.0), np.sqrt(30000.0), 4000)


def block_order(n_receptors: int) -> np.ndarray:
    """Order in which the kernel's threads take the receptor blocks: the golden-ratio
    sequence, so that any contiguous run of iterations (one thread's share) holds blocks
    from all over the receptor set. Every receptor's sum is the same whatever the order."""
    nb = (n_receptors + BLOCK - 1) // BLOCK
    return np.argsort((np.arange(nb) * 0.6180339887498949) % 1.0, kind="stable").astype(np.int64)


def sq_x(m):
    """Fine ring coordinate at the SQ_NODES distances."""
    return np.ascontiguousarray((np.log(SQ_NODES ** 2) - m.log_d0) / (m.dlog / FINE))


def fine_tables(logtab, lutab):
    """Linear-value tables with FINE-times finer rings and a wrapped 37th bearing.

    Log-linear interpolation between the model's rings is exact at the fine nodes,
    so linear interpolation between fine nodes differs from the reference path's
    log-linear interpolation by < 0.3 %.
    """
    n, nr, nb = logtab.shape
    nf = (nr - 1) * FINE + 1
    tab = np.empty((n, nf, nb + 1))
    luf = np.empty((n, lutab.shape[1], nf))
    if compiled.enabled():
        _fine_tables(np.ascontiguousarray(logtab, dtype=np.float64),
                     np.ascontiguousarray(lutab, dtype=np.float64), tab, luf)
        return tab, luf
    xf = np.arange(nf) / FINE
    i = np.minimum(xf.astype(int), nr - 2)
    t = (xf - i)[None, :, None]
    tab[:, :, :nb] = np.exp((1 - t) * logtab[:, i, :] + t * logtab[:, i + 1, :])
    tab[:, :, nb] = tab[:, :, 0]
    t2 = (xf - i)[None, None, :]
    luf[:] = np.exp((1 - t2) * lutab[:, :, i] + t2 * lutab[:, :, i + 1])
    return tab, luf



@njit(cache=True, parallel=True, fastmath=False)
def _fine_tables(logtab, lutab, tab, luf):
    n, nr, nb = logtab.shape
    nf = tab.shape[1]
    for k in prange(n):
        for q in range(nf):
            i = min(q // FINE, nr - 2)
            t = q / FINE - i
            for b in range(nb):
                tab[k, q, b] = math.exp((1.0 - t) * logtab[k, i, b] + t * logtab[k, i + 1, b])
            tab[k, q, nb] = tab[k, q, 0]
            for c in range(lutab.shape[1]):
                luf[k, c, q] = math.exp((1.0 - t) * lutab[k, c, i] + t * lutab[k, c, i + 1])


def area_table_index(height_m, side_m):
    """Row of each source in the area-correction tables: 0 (no correction) for points
    and segments, one row per distinct (height, side) of the squares after that."""
    aix = np.zeros(height_m.shape[0], np.int64)
    sq = np.flatnonzero(side_m > 0)
    if sq.size == 0:
        return np.zeros((0, 2)), aix
    key, inv = np.unique(np.column_stack([height_m[sq], side_m[sq]]), axis=0, return_inverse=True)
    aix[sq] = inv.reshape(-1) + 1
    return key, aix


def _area_tables(m, s, key):
    """Area correction factor on a uniform sqrt(u) grid per (height, side) in ``key``,
    after a first row of ones, (1 + len(key), AC_N)."""
    out = np.ones((1 + key.shape[0], AC_N))
    if m.AC is None or key.shape[0] == 0:
        return out
    u_nodes = np.linspace(0.0, AC_SQRT_U_MAX, AC_N) ** 2
    nk = key.shape[0]
    out[1:] = np.exp(_model.area_logcorr(m, s, np.repeat(key[:, 0], AC_N),
                                         np.repeat(key[:, 1], AC_N),
                                         np.tile(u_nodes, nk))).reshape(nk, AC_N)
    return out


def _kernel_array(a, dtype):
    """``a`` as a writable, C-contiguous array of ``dtype``.

    numba specialises on writability as well as on dtype and layout: a read-only
    array (pandas ``to_numpy()`` under copy-on-write, ``np.load`` with mmap) would
    need a second compiled ``_evaluate`` (about 25 s without a cached copy). With
    every argument normalised, the one cached specialisation serves all callers.
    """
    return np.require(a, dtype=dtype, requirements=("C", "W"))


def table_keys(g, kind, terrain="uniform"):
    """Distinct tables among the (ordered) sources ``g`` and the table of each source.

    Uniform terrain: :func:`.model.unique_tables` (characteristics, z0 and the position
    rounded to 1 km). Map terrain: characteristics and the terrain reference point (a
    point itself, a square's centre, a segment's midpoint) rounded to
    ``TERRAIN_POSITION_GRID_M``; the source z0 comes from the map there.
    """
    if terrain == "uniform":
        return _model.unique_tables(g["height_m"], g["heat_mw"], g["z0_m"], g["spread_m"],
                                    g["x"], g["y"])
    xr, yr = terrain_reference(g["x"], g["y"], g["x_end"], g["y_end"], kind)
    q = _model.TERRAIN_POSITION_GRID_M
    key = np.column_stack([np.asarray(g["height_m"], float), np.asarray(g["heat_mw"], float),
                           np.asarray(g["spread_m"], float), np.round(xr / q) * q,
                           np.round(yr / q) * q])
    uniq, index = np.unique(key, axis=0, return_inverse=True)
    return uniq, np.ascontiguousarray(index.reshape(-1), dtype=np.int64)


def terrain_reference(x, y, x_end, y_end, kind):
    """Point a source's trajectories start from: itself, a square's centre, a segment's
    midpoint [m]."""
    seg = kind == 2
    return (np.where(seg, 0.5 * (x + np.where(seg, x_end, 0.0)), x),
            np.where(seg, 0.5 * (y + np.where(seg, y_end, 0.0)), y))


def build_tables(m, substances, uniq, terrain="uniform"):
    """Fine (linear-value) tables of the ``uniq`` rows of :func:`table_keys`, and the
    receptor-z0 exponent per fine ring (:func:`receptor_z0_coefficients`): for each
    substance index in ``substances``, (tables, land-use tables, receptor-z0 factors).

    With the map, the trajectory terrain of the table nodes is computed once for all the
    substances (it does not depend on them), in parts of TABLE_CHUNK sources."""
    out = {s: [None, None, receptor_z0_coefficients(m, s, uniq, terrain)] for s in substances}
    if terrain == "uniform":
        for s in substances:
            out[s][:2] = fine_tables(*_model.source_tables(m, s, *uniq.T))
        return {s: tuple(v) for s, v in out.items()}

    n = uniq.shape[0]
    label = "rekentabellen " + " en ".join(SUBSTANCE_NAMES[s] for s in substances)
    if n > TABLE_CHUNK:
        report_step(label, 0, n)
    for a in range(0, max(n, 1), TABLE_CHUNK):  # in parts: the arrays that build them stay small
        part = _map_fine_tables(m, substances, uniq[a:a + TABLE_CHUNK])
        if n > TABLE_CHUNK:
            report_step(label, min(n, a + TABLE_CHUNK), n)
        for s in substances:
            t, u = part[s]
            if n <= TABLE_CHUNK:
                out[s][:2] = t, u
                continue
            if out[s][0] is None:
                out[s][:2] = (np.empty((n,) + t.shape[1:], t.dtype),
                              np.empty((n,) + u.shape[1:], u.dtype))
            out[s][0][a:a + t.shape[0]] = t
            out[s][1][a:a + u.shape[0]] = u
    return {s: tuple(v) for s, v in out.items()}


#: Names of the substances by index (0, 1), for messages.
SUBSTANCE_NAMES = ("NOx", "NH3")

#: Map-mode tables are built for this many distinct sources at a time: each part's
#: intermediate arrays are about 0.2 MB per source (trajectory terrain at 30 x 36 nodes,
#: the regional field at three z0 nodes, ...), so a list of 20,000 area elements would
#: otherwise hold gigabytes of them at once. Per source the same numbers (each table
#: depends only on its own source).
TABLE_CHUNK = 2048


def _map_fine_tables(m, substances, uniq):
    """Map-mode fine tables of ``uniq``, per substance: the nodes' trajectory terrain and
    its z0 axes once, then each substance's tables."""
    tm = _model.load_terrain_model()
    h, hc, sp, x, y = uniq.T
    lnz_node, w_node = _terrain.node_terrain(x, y, m.D, np.arange(36) * 10.0)
    lzs = np.log(_terrain.cell_z0(x, y))
    axes = _model.node_axes(m, tm, lnz_node)
    return {s: fine_tables(*_model.source_tables_terrain(m, tm, s, h, hc, sp, x, y, lzs, lnz_node,
                                                         w_node, axes))
            for s in substances}


def receptor_z0_coefficients(m, s, uniq, terrain):
    """The receptor-surface factor exp(g) per table, z0 knot and fine ring (log-linear
    between rings), (n, knots, fine rings); ones without terrain (then unused)."""
    nf = (m.D.shape[0] - 1) * FINE + 1
    if terrain == "uniform":
        return np.ones((uniq.shape[0], 2, nf))
    G = _model.terrain_coefficients(_model.load_terrain_model(), s, uniq[:, 0], uniq[:, 1])[0]
    xf = np.arange(nf) / FINE
    i = np.minimum(xf.astype(int), G.shape[2] - 2)
    t = xf - i
    return np.ascontiguousarray(np.exp((1 - t) * G[:, :, i] + t * G[:, :, i + 1]))


def evaluate_fast(sources, receptors, *, cutoff_m, chunk_receptors=200_000, terrain="uniform",
                  receptor_terrain="hexagon"):
    """Evaluate with the compiled kernel; returns (nox, nh3) per receptor."""
    m = _model.load_model()
    n = len(sources)
    order = np.arange(n)
    nrcp = len(receptors)
    if sources.case is not None and receptors.case is not None:
        order = np.argsort(sources.case, kind="stable")
        sc = sources.case[order]
        rs0 = np.searchsorted(sc, receptors.case, "left").astype(np.int64)
        rs1 = np.searchsorted(sc, receptors.case, "right").astype(np.int64)
    else:
        rs0 = np.zeros(nrcp, np.int64)
        rs1 = np.full(nrcp, n, np.int64)
    g = {k: np.ascontiguousarray(getattr(sources, k)[order]) for k in
         ("x", "y", "x_end", "y_end", "area_side_m", "height_m", "heat_mw", "z0_m",
          "spread_m", "nox_kg_yr", "nh3_kg_yr")}
    seg = np.isfinite(g["x_end"]) & np.isfinite(g["y_end"])
    kind = np.where(seg, 2, np.where(g["area_side_m"] > 0, 1, 0)).astype(np.int64)
    # sources sharing characteristics and (rounded) position share their tables
    uniq, tix = table_keys(g, kind, terrain)
    akey, aix = area_table_index(g["height_m"], g["area_side_m"])
    tabs = []
    stores = _TABLE_CACHE.get()
    if stores is not None:  # a table_cache() is open: the tables of sources seen before are kept
        kept = stores.setdefault((id(m), terrain), _TableStore(m, terrain)).rows(uniq)
        tix = kept[-1][tix]  # rows in the store
    emissions = (g["nox_kg_yr"], g["nh3_kg_yr"])
    needed = [stores is not None or bool(np.any(e != 0)) for e in emissions]
    if not any(needed):  # no emission of either substance: nothing to evaluate
        return np.zeros(nrcp), np.zeros(nrcp)
    built = {}
    fresh = {} if stores is not None else build_tables(m, [s for s in (0, 1) if needed[s]], uniq,
                                                       terrain)
    for s in (0, 1):
        if stores is not None:
            built[s] = (kept[3 * s], kept[3 * s + 1], _area_tables(m, s, akey), kept[3 * s + 2])
        elif needed[s]:
            lt, lu, taf = fresh[s]
            built[s] = (lt, lu, _area_tables(m, s, akey), taf)
    for s in (0, 1):
        if s not in built:
            # a substance no source emits: tables of the other's shapes (the kernel indexes
            # them as it indexes the real ones; unchecked, a smaller stand-in is read out of
            # bounds and 0 x garbage can be NaN), with values that make every term 0 x finite
            lt, lu, ac, taf = built[1 - s]
            built[s] = (np.zeros_like(lt), np.zeros_like(lu), np.ones_like(ac), np.ones_like(taf))
        lt, lu, ac, taf = built[s]
        tabs.append((np.ascontiguousarray(emissions[s], dtype=float), np.ascontiguousarray(lt),
                     np.ascontiguousarray(lu), np.ascontiguousarray(ac),
                     np.ascontiguousarray(taf)))
    cut2 = np.inf if cutoff_m is None else float(cutoff_m) ** 2
    # receptors in spatial order (within their case): a block of receptors then covers a
    # small area, so a source's table is read from a few cache lines and blocks beyond
    # the cut-off of a source skip it whole. Each receptor's sum runs over the same
    # sources in the same order, so the values do not depend on the ordering.
    perm = spatial_order(receptors.x, receptors.y, rs0)
    keep = perm.size == nrcp and (nrcp == 0 or (perm[0] == 0 and np.all(perm[1:] > perm[:-1])))
    if keep:  # the receptors' own order (spatial_order keeps small grouped cases as they are)
        perm = slice(None)
    rx = _kernel_array(receptors.x[perm], np.float64)
    ry = _kernel_array(receptors.y[perm], np.float64)
    surf = _terrain.receptor_terms(receptors, terrain, receptor_terrain, perm)
    rp, rc, rw, rz, rj = (_kernel_array(surf[0], np.int64), _kernel_array(surf[1], np.int64),
                          _kernel_array(surf[2], np.float64), _kernel_array(surf[3], np.float64),
                          _kernel_array(surf[4], np.int64))
    rs0, rs1 = _kernel_array(rs0[perm], np.int64), _kernel_array(rs1[perm], np.int64)
    # one-class receptors' class and weight, and the z0 knot unsigned, for the passes of
    # _evaluate; weight 0 for a receptor with a land-use mixture (the passes add 0 to it and
    # then its value from all its classes)
    first = np.minimum(rp[:-1], max(rc.shape[0] - 1, 0))
    rcl = _kernel_array(rc[first] if rc.shape[0] else np.zeros(nrcp, np.int64), np.uint64)
    rwt = _kernel_array(np.where(np.diff(rp) == 1, rw[first], 0.0) if rw.shape[0] else np.zeros(nrcp),
                        np.float64)
    rzf = _kernel_array(np.maximum(rz, 0.0), np.float64)
    rju = _kernel_array(rj, np.uint64)
    o0 = np.zeros(nrcp)
    o1 = np.zeros(nrcp)
    for r0 in range(0, nrcp, chunk_receptors):
        sl = slice(r0, min(nrcp, r0 + chunk_receptors))
        _evaluate(rx[sl], ry[sl], rp[r0:sl.stop + 1], rc, rw, rz[sl], rj[sl], rs0[sl], rs1[sl], tix, aix,
                  kind, g["x"], g["y"], g["x_end"], g["y_end"], g["area_side_m"],
                  *tabs[0], *tabs[1], SQ_NODES, sq_x(m), cut2, o0[sl], o1[sl],
                  block_order(sl.stop - r0), rcl[sl], rwt[sl], rzf[sl], rju[sl], BLOCK_PASSES)
    if keep:
        return o0, o1
    out0 = np.zeros(nrcp)
    out1 = np.zeros(nrcp)
    out0[perm] = o0
    out1[perm] = o1
    return out0, out1


#: The open table cache of this thread (see :func:`table_cache`): model id -> _TableStore,
#: or None. A context variable: each thread (and asyncio task) has its own.
_TABLE_CACHE: contextvars.ContextVar = contextvars.ContextVar("stikstofcalc_table_cache", default=None)


class _TableStore:
    """Fine tables of both substances per distinct source (``unique_tables`` row), kept
    while a :func:`table_cache` is open; rows are appended, never changed."""

    def __init__(self, m, terrain="uniform"):
        self.m, self.terrain, self.index, self.n = m, terrain, {}, 0
        self.arrays = None  # [lt, lu, taf of NOx, then of NH3], capacity >= n rows

    def rows(self, uniq):
        """(lt0, lu0, taf0, lt1, lu1, taf1, position of each ``uniq`` row in them)."""
        keys = [r.tobytes() for r in np.ascontiguousarray(uniq, dtype=float)]
        at = np.fromiter((self.index.get(k, -1) for k in keys), np.int64, len(keys))
        miss = np.flatnonzero(at < 0)
        if miss.size:
            both = build_tables(self.m, (0, 1), uniq[miss], self.terrain)
            new = [*both[0], *both[1]]
            self._append(new)
            for j, i in enumerate(miss.tolist()):
                at[i] = self.index[keys[i]] = self.n + j
            self.n += miss.size
        return (*(a[:self.n] for a in self.arrays), at)

    def _append(self, new):
        k = new[0].shape[0]
        if self.arrays is None:  # the first rows as they are: a large source list's tables
            self.arrays = [np.ascontiguousarray(a, dtype=float) for a in new]  # are gigabytes
            return
        if self.n + k > self.arrays[0].shape[0]:  # room to spare: appends stay amortised linear
            cap = max(2 * (self.n + k), 256)
            grown = [np.empty((cap, *a.shape[1:])) for a in new]
            for g, a in zip(grown, self.arrays):
                g[:self.n] = a[:self.n]
            self.arrays = grown  # (the first, adopted arrays are never written)
        for a, b in zip(self.arrays, new):
            a[self.n:self.n + k] = b


def cache_store(key) -> dict | None:
    """The dict kept under ``key`` while a :func:`table_cache` is open in this thread (for
    other per-source tables that depend only on their own source row), else None."""
    stores = _TABLE_CACHE.get()
    return None if stores is None else stores.setdefault(key, {})


class table_cache:
    """Keep the per-source kernel tables between engine calls (a context manager).

    Within it, :func:`evaluate_fast` builds the tables of a source (both substances) the
    first time it sees its characteristics and position, and reuses them in later
    calls: the batch's searches call the engine two to four times per chunk of cases
    with the same sources. The values are those of a call without the cache (each
    source's tables depend only on its own row). Memory grows with the distinct sources
    seen (about 90 kB each) until the context closes. The cache belongs to the thread
    that opened it (a context variable); nested contexts share the outer one.
    """

    def __enter__(self):
        outer = _TABLE_CACHE.get()
        self.token = _TABLE_CACHE.set({} if outer is None else outer)
        return self

    def __exit__(self, *exc):
        _TABLE_CACHE.reset(self.token)
        return False


#: cell size of the spatial receptor order [m]
ORDER_CELL_M = 250.0
#: receptors per group (case) on average below which grouped receptors keep their own
#: order [-]. A batch's cases (hexagon grids in row order, ~9,000 receptors per case in
#: a call) evaluated as fast unsorted (0.74 s against 0.76 s for 400 cases) and the sort
#: cost 0.34-0.50 s; one large set (500 x 200,000) gains from the order (block skipping).
ORDER_MIN_PER_GROUP = 50_000


def spatial_order(x, y, group=None):
    """Permutation that puts receptors in Z (Morton) order of ORDER_CELL_M cells,
    within each ``group`` value (the case's first source), stable for ties.

    Grouped receptors (``group`` ascending) of on average fewer than
    ORDER_MIN_PER_GROUP per group keep their own order."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    rank = None
    if group is not None:
        group = np.asarray(group)
        step = group[1:] != group[:-1]
        if np.all(group[1:] >= group[:-1]):  # grouped already (the batch's receptors)
            if n < ORDER_MIN_PER_GROUP * (1 + np.count_nonzero(step)):
                return np.arange(n)
            rank = np.zeros(n, np.uint64)
            np.cumsum(step, out=rank[1:])
        else:
            rank = np.unique(group, return_inverse=True)[1].astype(np.uint64).reshape(n)
    y = np.asarray(y, dtype=np.float64)
    fx = np.nan_to_num(x - np.nanmin(x)) / ORDER_CELL_M
    fy = np.nan_to_num(y - np.nanmin(y)) / ORDER_CELL_M
    cx = np.minimum(fx, 65535).astype(np.uint64)
    cy = np.minimum(fy, 65535).astype(np.uint64)
    code = _spread_bits(cx) | (_spread_bits(cy) << np.uint64(1))  # < 2**32
    if rank is None:
        return np.argsort(code, kind="stable")
    # one key, group rank in the high 32 bits: a stable argsort of it is the lexsort of
    # (group, code), several times faster than np.lexsort (docs/engine.md, "Speed")
    return np.argsort((rank << np.uint64(32)) | code, kind="stable")


def _spread_bits(v):
    """Bits of 16-bit integers moved to the even positions of 32 bits."""
    v = v & np.uint64(0xFFFF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
    v = (v | (v << np.uint64(1))) & np.uint64(0x55555555)
    return v
