"""Evaluation driver: validation, sub-point quadrature, chunked pair evaluation.

Two interchangeable paths compute :func:`stikstofcalc.deposition.core.deposition_arrays`:

- :func:`evaluate_reference` (numpy): expands every area and line source into its full
  set of quadrature points and evaluates all (point, receptor) pairs in chunks. It
  defines the model and is what the tests check against OPS.
- :mod:`.fast` (numba, when installed): the same model with distance-adaptive
  quadrature, tested against the reference.

Quadrature (the model definition):

- line segment: ``ceil(L / LINE_SPACING_M)`` equal parts, one point at each centre
  (as OPS's own line discretisation in the reference set A11);
- square: the mean of the point kernel over the square (``m x m`` midpoint grid,
  ``m = clip(ceil(side / AREA_SPACING_M), 2, AREA_MAX_M)``; the fast path refines
  only near the receptor and converges to the same integral), times the OPS area
  correction ``AC`` (set A8) as a function of the Chebyshev distance to the centre
  in half sides.
"""

from __future__ import annotations

import numpy as np

from ..errors import RangeError
from ..units import MOL_N_PER_KG_NH3, MOL_N_PER_KG_NOX  # noqa: F401  (documented units)
from . import model as _model

#: spacing of the quadrature points on a line source [m] (OPS reference set A11 used 10 m)
LINE_SPACING_M = 10.0
#: target spacing of the quadrature grid in a square area source [m]
AREA_SPACING_M = 4.0
#: most quadrature points per side of a square (2000 m side: 10 m spacing)
AREA_MAX_M = 200


def check_ranges(sources, *, allow_extrapolation: bool) -> list[str]:
    """Refuse source parameters outside the calibrated range (or note them)."""
    from .core import CALIBRATED_RANGES

    notes = []
    for name, (lo, hi, unit) in CALIBRATED_RANGES.items():
        v = getattr(sources, name)
        bad = np.flatnonzero(~((v >= lo) & (v <= hi)))
        if name == "spread_m":
            bad = np.union1d(bad, np.flatnonzero(sources.spread_m > sources.height_m))
        if bad.size == 0:
            continue
        i = int(bad[0])
        msg = (f"{bad.size} source(s) outside the calibrated range of {name} "
               f"[{lo}, {hi}] {unit} (first: source index {i}, value {v[i]:g})")
        if not allow_extrapolation or not np.isfinite(v[bad]).all() or (v[bad] < 0).any():
            raise RangeError(msg, field=name, value=float(v[i]),
                             expected=f"{lo} <= {name} <= {hi} {unit}"
                             + (" and spread <= height" if name == "spread_m" else ""))
        notes.append("EXTRAPOLATED: " + msg)
    return notes


def quadrature(sources):
    """Sub-points of every elementary source.

    Returns
    -------
    parent : int array, index of the source of each sub-point
    px, py : sub-point coordinates [m]
    weight : share of the parent's emission
    """
    n = len(sources)
    seg = np.isfinite(sources.x_end) & np.isfinite(sources.y_end)
    sq = ~seg & (sources.area_side_m > 0)
    length = np.where(seg, np.hypot(sources.x_end - sources.x, sources.y_end - sources.y), 0.0)
    nseg = np.where(seg, np.maximum(1, np.ceil(length / LINE_SPACING_M)), 1).astype(np.int64)
    mside = np.where(sq, np.clip(np.ceil(sources.area_side_m / AREA_SPACING_M), 2, AREA_MAX_M),
                     1).astype(np.int64)
    count = np.where(seg, nseg, np.where(sq, mside * mside, 1))
    parent = np.repeat(np.arange(n), count)
    k = np.arange(parent.size) - np.repeat(np.cumsum(count) - count, count)  # index within parent
    px = sources.x[parent].copy()
    py = sources.y[parent].copy()
    w = 1.0 / count[parent]
    s = seg[parent]
    f = (k[s] + 0.5) / nseg[parent][s]
    px[s] += f * (sources.x_end[parent][s] - sources.x[parent][s])
    py[s] += f * (sources.y_end[parent][s] - sources.y[parent][s])
    a = sq[parent]
    ma = mside[parent][a]
    side = sources.area_side_m[parent][a]
    px[a] += ((k[a] % ma) + 0.5) / ma * side - 0.5 * side
    py[a] += ((k[a] // ma) + 0.5) / ma * side - 0.5 * side
    return parent, px, py, w


def _take_sources(s, idx):
    from .core import SourceArrays

    return SourceArrays(x=s.x[idx], y=s.y[idx], height_m=s.height_m[idx], heat_mw=s.heat_mw[idx],
                        nox_kg_yr=s.nox_kg_yr[idx], nh3_kg_yr=s.nh3_kg_yr[idx],
                        spread_m=s.spread_m[idx], area_side_m=s.area_side_m[idx],
                        x_end=s.x_end[idx], y_end=s.y_end[idx], z0_m=s.z0_m[idx])


def _take_receptors(r, idx):
    from .core import ReceptorArrays

    return ReceptorArrays(x=r.x[idx], y=r.y[idx], landuse=r.landuse[idx])


def evaluate_reference(sources, receptors, *, cutoff_m, chunk_pairs):
    """numpy reference: full quadrature, all pairs (in chunks).

    With case codes on both sides, each case is evaluated on its own (a loop over
    cases: this path is the reference for tests, not the production path).
    """
    if sources.case is not None and receptors.case is not None:
        nox = np.zeros(len(receptors))
        nh3 = np.zeros(len(receptors))
        for c in np.unique(sources.case):
            si = np.flatnonzero(sources.case == c)
            ri = np.flatnonzero(receptors.case == c)
            if ri.size == 0:
                continue
            a, b = evaluate_reference(_take_sources(sources, si), _take_receptors(receptors, ri),
                                      cutoff_m=cutoff_m, chunk_pairs=chunk_pairs)
            nox[ri] += a
            nh3[ri] += b
        return nox, nh3
    m = _model.load_model()
    nrcp = len(receptors)
    out = [np.zeros(nrcp), np.zeros(nrcp)]
    parent, px, py, w = quadrature(sources)
    emis = (sources.nox_kg_yr, sources.nh3_kg_yr)
    tabs = [None, None]
    for s in (0, 1):
        if np.any(emis[s] != 0):
            tabs[s] = _model.source_tables(m, s, sources.height_m, sources.heat_mw, sources.z0_m,
                                           sources.spread_m, sources.x, sources.y)
    npts = parent.size
    step = max(1, int(chunk_pairs) // max(1, npts))
    for r0 in range(0, nrcp, step):
        rs = slice(r0, min(nrcp, r0 + step))
        dx = receptors.x[rs, None] - px[None, :]
        dy = receptors.y[rs, None] - py[None, :]
        d = np.hypot(dx, dy)
        keep = np.ones(d.shape, bool) if cutoff_m is None else d <= cutoff_m
        ri, pi = np.nonzero(keep)
        src = parent[pi]
        bearing = np.degrees(np.arctan2(dx[ri, pi], dy[ri, pi]))
        lu = receptors.landuse[rs][ri]
        for s in (0, 1):
            if tabs[s] is None:
                continue
            val = _model.pair_lookup(m, tabs[s][0], tabs[s][1], src, d[ri, pi], bearing, lu)
            side = sources.area_side_m[src]
            isq = side > 0
            if isq.any() and m.AC is not None:
                cx, cy = sources.x[src[isq]], sources.y[src[isq]]
                u = np.maximum(np.abs(receptors.x[rs][ri[isq]] - cx),
                               np.abs(receptors.y[rs][ri[isq]] - cy)) / (0.5 * side[isq])
                val[isq] *= np.exp(_model.area_logcorr(m, s, sources.height_m[src[isq]],
                                                        side[isq], u))
            contrib = val * w[pi] * emis[s][src]
            out[s][rs] += np.bincount(ri, weights=contrib, minlength=rs.stop - rs.start)
    return out[0], out[1]


def evaluate(sources, receptors, *, cutoff_m, allow_extrapolation, chunk_pairs, method="auto"):
    """Validate, then evaluate with the fast path when available (see module doc)."""
    from .core import DepositionResult

    notes = check_ranges(sources, allow_extrapolation=allow_extrapolation)
    from .fast import HAVE_NUMBA, evaluate_fast

    if method == "reference" or (method == "auto" and not HAVE_NUMBA):
        nox, nh3 = evaluate_reference(sources, receptors, cutoff_m=cutoff_m,
                                      chunk_pairs=chunk_pairs)
    else:
        nox, nh3 = evaluate_fast(sources, receptors, cutoff_m=cutoff_m)
    return DepositionResult(nox=nox, nh3=nh3, notes=notes)
