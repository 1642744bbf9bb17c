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

from stikstofcalc import compiled
from stikstofcalc.errors import DataError, RangeError
from stikstofcalc.units import MOL_N_PER_KG_NH3, MOL_N_PER_KG_NOX  # noqa: F401  (documented units)
from stikstofcalc.deposition import model as _model, terrain as _terrain
from stikstofcalc.deposition.arrays import (AREA_MAX_M, AREA_SPACING_M, CALIBRATED_RANGES,
                                            EXTRAPOLATED_NOTE, LINE_SPACING_M, DepositionResult,
                                            ReceptorArrays, SourceArrays)
from stikstofcalc.deposition.terrain import RECEPTOR_MODES, TERRAIN_MODES, receptor_surface_resolved
from stikstofcalc.deposition.fast import evaluate_fast, terrain_reference

def check_ranges(sources, *, allow_extrapolation: bool, terrain: str = "uniform") -> list[str]:
    """Refuse source parameters outside the calibrated range (or note them). With the
    roughness map the sources' ``z0_m`` is not used (the map's z0 is, clamped to the
    kernel's range), so it is not checked."""
    notes = []
    for name, (lo, hi, unit) in CALIBRATED_RANGES.items():
        if name == "z0_m" and terrain != "uniform":
            continue
        v = getattr(sources, name)
        bad = np.flatnonzero(~((v >= lo) & (v <= hi)))
        if name == "spread_m":
            bad = np.union1d(bad, np.flatnonzero(sources.spread_m > sources.height_m))
        if bad.size == 0:
            continue
        i = int(bad[0])
        msg = (f"{bad.size} {'bron' if bad.size == 1 else 'bronnen'} buiten het gekalibreerde bereik "
               f"van {name} [{lo:g}; {hi:g}] {unit} (eerste: bronindex {i}, waarde {v[i]:g})")
        # a height of 0 cannot be extrapolated to: the tables run in ln(height)
        not_computable = (v[bad] <= 0).any() if name == "height_m" else (v[bad] < 0).any()
        if not allow_extrapolation or not np.isfinite(v[bad]).all() or not_computable:
            raise RangeError(msg, field=name, value=float(v[i]),
                             expected=f"{lo} <= {name} <= {hi} {unit}"
                             + (" en spread_m <= height_m" if name == "spread_m" else ""))
        notes.append(EXTRAPOLATED_NOTE + " " + msg)
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

    return SourceArrays(x=s.x[idx], y=s.y[idx], height_m=s.height_m[idx], heat_mw=s.heat_mw[idx],
                        nox_kg_yr=s.nox_kg_yr[idx], nh3_kg_yr=s.nh3_kg_yr[idx],
                        spread_m=s.spread_m[idx], area_side_m=s.area_side_m[idx],
                        x_end=s.x_end[idx], y_end=s.y_end[idx], z0_m=s.z0_m[idx])


def _take_receptors(r, idx):

    return ReceptorArrays(x=r.x[idx], y=r.y[idx], landuse=r.landuse[idx],
                          z0_m=None if r.z0_m is None else r.z0_m[idx],
                          lu_pct=None if r.lu_pct is None else r.lu_pct[idx])


def evaluate_reference(sources, receptors, *, cutoff_m, chunk_pairs, terrain="uniform",
                       receptor_terrain="hexagon"):
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
                                      cutoff_m=cutoff_m, chunk_pairs=chunk_pairs,
                                      terrain=terrain, receptor_terrain=receptor_terrain)
            nox[ri] += a
            nh3[ri] += b
        return nox, nh3
    if terrain != "uniform":
        return _reference_terrain(sources, receptors, cutoff_m=cutoff_m, chunk_pairs=chunk_pairs,
                                  receptor_terrain=receptor_terrain)
    if receptors.lu_pct is not None:  # land-use mixtures: one pass per class, weighted

        _, frac = receptor_surface_resolved(receptors, "uniform")
        nox = np.zeros(len(receptors))
        nh3 = np.zeros(len(receptors))
        for c in range(9):
            ri = np.flatnonzero(frac[:, c] > 0)
            if ri.size == 0:
                continue
            rc = ReceptorArrays_like(receptors, ri, c + 1)
            a, b = evaluate_reference(sources, rc, cutoff_m=cutoff_m, chunk_pairs=chunk_pairs)
            nox[ri] += frac[ri, c] * a
            nh3[ri] += frac[ri, c] * b
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
        lu = np.where(receptors.landuse[rs][ri] >= 1, receptors.landuse[rs][ri], 1)
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


def evaluate(sources, receptors, *, cutoff_m, allow_extrapolation, chunk_pairs, method="auto",
             terrain="map", receptor_terrain="hexagon"):
    """Validate, then evaluate: the compiled fast path, or the numpy reference with
    ``method="reference"`` or with ``STIKSTOFCALC_NUMPY=1`` (see :mod:`stikstofcalc.compiled`)."""
    if terrain not in TERRAIN_MODES:
        raise ValueError(f"terrain {terrain!r}: expected one of {TERRAIN_MODES}")
    if receptor_terrain not in RECEPTOR_MODES:
        raise ValueError(f"receptor_terrain {receptor_terrain!r}: expected one of {RECEPTOR_MODES}")
    notes = check_ranges(sources, allow_extrapolation=allow_extrapolation, terrain=terrain)

    if method not in ("auto", "fast", "reference"):
        raise ValueError(f"method {method!r}: expected 'auto', 'fast' or 'reference'")
    # the switch of stikstofcalc.compiled wins over "fast": one run never mixes paths
    if method == "reference" or not compiled.enabled():
        nox, nh3 = evaluate_reference(sources, receptors, cutoff_m=cutoff_m,
                                      chunk_pairs=chunk_pairs, terrain=terrain,
                                      receptor_terrain=receptor_terrain)
    else:
        nox, nh3 = evaluate_fast(sources, receptors, cutoff_m=cutoff_m, terrain=terrain,
                                 receptor_terrain=receptor_terrain)
    check_finite(nox, nh3)
    return DepositionResult(nox=nox, nh3=nh3, notes=notes)


def check_finite(nox, nh3) -> None:
    """A deposition that is not a finite number never leaves the engine: a NaN compares
    false with the threshold and would read as "0,00"; it is an internal error instead."""
    bad = ~(np.isfinite(nox) & np.isfinite(nh3))
    if bad.any():
        raise DataError(f"interne fout: de rekenkern gaf voor {int(bad.sum())} rekenpunt(en) geen eindige "
                        "depositie (meld dit met de invoer); er is geen uitkomst gegeven")


def ReceptorArrays_like(r, idx, landuse):
    """Receptors ``idx`` of ``r`` with one land-use class and no percentages."""

    return ReceptorArrays(x=r.x[idx], y=r.y[idx], landuse=landuse,
                          case=None if r.case is None else r.case[idx])


def _reference_terrain(sources, receptors, *, cutoff_m, chunk_pairs, receptor_terrain):
    """numpy reference with the roughness map: per pair the exact 21-point trajectory
    terrain, the kernel at that trajectory z0 (linear in ln z0 between the model's z0
    nodes, as the uniform tables), the regional ratio at that z0, and the receptor
    factor (see :func:`.model.source_tables_terrain`)."""
    m = _model.load_model()
    tm = _model.load_terrain_model()
    nrcp = len(receptors)
    out = [np.zeros(nrcp), np.zeros(nrcp)]
    parent, px, py, w = quadrature(sources)
    seg = np.isfinite(sources.x_end) & np.isfinite(sources.y_end)
    kind = np.where(seg, 2, np.where(sources.area_side_m > 0, 1, 0))
    xr0, yr0 = terrain_reference(sources.x, sources.y, sources.x_end, sources.y_end, kind)
    # trajectories start at the source's reference point; a line's at each of its points
    tx = np.where(kind[parent] == 2, px, xr0[parent])
    ty = np.where(kind[parent] == 2, py, yr0[parent])
    lzs = np.log(_terrain.cell_z0(xr0, yr0))
    z0r, frac = _terrain.receptor_surface_resolved(receptors, "map", receptor_terrain)
    jr, wr = _model.z0_hats(tm, np.log(z0r))
    emis = (sources.nox_kg_yr, sources.nh3_kg_yr)
    h, hc = sources.height_m, sources.heat_mw
    lnZ, lnRZ = np.log(m.Z), np.log(tm.RG_Z)
    parts = [None, None]
    for s in (0, 1):
        if np.any(emis[s] != 0):
            base6 = _model.base_tables_all_z0(m, s, h, hc)  # (n, 6, 30, 36)
            reg = _model.region_map_logratio(m, tm, s, h, hc, xr0, yr0)  # (n, 3, 30, 36)
            sp = _model.spread_logratio(m, s, h, hc, sources.spread_m)  # (n, 30)
            lzs_k = _model.clamp_ln(lzs, _model.KERNEL_Z0_RANGE)
            lut = _model.landuse_logratio(m, s, h, np.exp(lzs_k))
            coef = _model.terrain_coefficients(tm, s, h, hc)
            lut[:, 5, :] += coef[3]
            parts[s] = (base6, reg, sp, lzs_k, lut) + coef
    npts = parent.size
    step = max(1, int(chunk_pairs) // max(1, npts))
    nr = m.D.shape[0]
    for r0 in range(0, nrcp, step):
        rs = slice(r0, min(nrcp, r0 + step))
        dx = receptors.x[rs, None] - px[None, :]
        dy = receptors.y[rs, None] - py[None, :]
        d = np.hypot(dx, dy)
        keep = np.ones(d.shape, bool) if cutoff_m is None else d <= cutoff_m
        ri, pi = np.nonzero(keep)
        src = parent[pi]
        dd = d[ri, pi]
        bearing = np.degrees(np.arctan2(dx[ri, pi], dy[ri, pi]))
        lzt, wt = _terrain.trajectory(tx[pi], ty[pi], receptors.x[rs][ri], receptors.y[rs][ri])
        lzk = _model.clamp_ln(lzt, _model.KERNEL_Z0_RANGE)
        x = (np.log(np.maximum(dd, m.D[0])) - m.log_d0) / m.dlog
        i = np.minimum(x.astype(np.int64), nr - 2)
        t = x - i
        y = np.mod(bearing, 360.0) / 10.0
        j = y.astype(np.int64) % 36
        u = y - np.floor(y)
        j1 = (j + 1) % 36

        def bil(tab, kz):  # bilinear in (ring, bearing) of tab[src, kz] at the pairs
            return ((1 - t) * ((1 - u) * tab[src, kz, i, j] + u * tab[src, kz, i, j1])
                    + t * ((1 - u) * tab[src, kz, i + 1, j] + u * tab[src, kz, i + 1, j1]))

        def ring(arr):  # per-source per-ring array (n, 30) at the pairs
            return (1 - t) * arr[src, i] + t * arr[src, i + 1]

        iz, tz = _model.z0_axis(lnZ, lzk)
        jz, uz = _model.z0_axis(lnRZ, lzk)
        for s in (0, 1):
            if parts[s] is None:
                continue
            base6, reg, sp, lzs_k, lut, G, TS, TW, TWR = parts[s]
            v = (1 - tz) * bil(base6, iz) + tz * bil(base6, iz + 1)
            v += (1 - uz) * bil(reg, jz) + uz * bil(reg, jz + 1)
            v += ring(sp)
            v += ring(TS) * (lzs_k[src] - lzk)
            jt, wtz = _model.z0_hats(tm, lzt)

            def g_at(jj, ww):  # receptor-surface function at the pairs
                ga = (1 - t) * G[src, jj, i] + t * G[src, jj, i + 1]
                gb = (1 - t) * G[src, jj + 1, i] + t * G[src, jj + 1, i + 1]
                return (1 - ww) * ga + ww * gb

            v += g_at(jr[rs][ri], wr[rs][ri]) - g_at(jt, wtz)
            v += ring(TW) * wt
            fr = frac[rs][ri]
            luf = np.zeros_like(v)
            for c in range(9):
                nzc = fr[:, c] > 0
                if nzc.any():
                    luf[nzc] += fr[nzc, c] * np.exp((1 - t[nzc]) * lut[src[nzc], c, i[nzc]]
                                                    + t[nzc] * lut[src[nzc], c, i[nzc] + 1])
            val = np.exp(v) * luf
            side = sources.area_side_m[src]
            isq = side > 0
            if isq.any() and m.AC is not None:
                cx, cy = sources.x[src[isq]], sources.y[src[isq]]
                uu = np.maximum(np.abs(receptors.x[rs][ri[isq]] - cx),
                                np.abs(receptors.y[rs][ri[isq]] - cy)) / (0.5 * side[isq])
                val[isq] *= np.exp(_model.area_logcorr(m, s, sources.height_m[src[isq]],
                                                        side[isq], uu))
            contrib = val * w[pi] * emis[s][src]
            out[s][rs] += np.bincount(ri, weights=contrib, minlength=rs.stop - rs.start)
    return out[0], out[1]
