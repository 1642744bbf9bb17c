"""Capacity per site: the largest plan size that still gives 0,00 in every phase and year.

For a plan type (:mod:`.plan`) and candidate sites, per site the largest size ``n`` (homes,
or m2 in whole ``step``s) for which the realisatie- and gebruiksfase of the plan of size
``n`` at that site each stay below the threshold (0.005 mol N/ha/yr: 0,00) on every
nitrogen-sensitive Natura 2000 hexagon within 25 km; which phase binds at ``n + 1``, where
(area, hexagon, year), and the deposition per unit.

Method (``docs/capacity.md``):

- the plan's source templates are moved rigidly to every site (``maps._translated``); the
  emission per template of a plan of size ``n`` does not depend on the site, so
  ``deposition(n, site, hexagon) = W(n) @ U(site, hexagon)``, with ``U`` the unit deposition;
- per site only the hexagons that can hold the maximum for some size are evaluated: the 24
  nearest give a lower bound of the maximum per unit of size, the kernel envelope
  (``maps._reach``) the distance beyond which no hexagon reaches it (sizes sampled over
  ``[step, maximum]``, with a margin);
- ``U`` on those (site, hexagon) pairs comes from one engine call per chunk of sites;
- the key figures are not linear in the size (the default construction duration grows
  with it and spreads the emission over more calendar years; the use year moves), so the
  size is found by a bracketing search on the integer count, with the exact ``W(n)`` of
  each size probed (memoised, batched inventory calls) and ``U`` reused: the answer ``n``
  is exact in that the plan of ``n`` gives < threshold in every phase-year and the plan of
  ``n + step`` gives >= threshold in some phase-year (both evaluated exactly).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stikstofcalc.conventions import CALCULATION_DISTANCE_M
from stikstofcalc.rules import permit_needed
from stikstofcalc.capacity.plan import PHASES, PlanWeights
from stikstofcalc.assessment.sites import prime_reach, reach_distance, translated_sources, unit_pairs
from stikstofcalc.deposition.fast import table_cache
from stikstofcalc.geo.receptors import default_receptors

#: Nearest hexagons per site evaluated first (lower bound of its maximum) [-].
SEED = 24
#: First radius: where the plan one step above the seeds' bound reaches this share of the
#: threshold (below 1, so the maximum at the capacity is usually covered at once) [-].
REACH_LEVEL = 0.8
#: Widening rounds when the check finds the evaluated hexagons too few, and the factor [-].
MAX_WIDEN = 4
WIDEN_FACTOR = 1.1
#: Sizes of the shared grid of the first search stage: every count up to this [steps] ...
GRID_DENSE = 50
#: ... then geometric with this ratio [-].
GRID_RATIO = 1.02


@dataclass
class ChunkResult:
    """Capacity of a chunk of sites (arrays of length n, per phase columns 0 realisatie, 1 gebruik).

    capacity : int64, in plan units (homes or m2); -1 where no hexagon lies within 25 km
    at_maximum : bool, the plan of ``maximum`` still gives 0,00 (capacity >= maximum)
    dep_cap, dep_next : (n, 2) largest deposition per phase at ``capacity`` and at
        ``capacity + step`` [mol N/ha/yr] (NaN where not evaluated)
    binding : int64, phase that reaches the threshold at ``capacity + step`` (-1: none)
    year, receptor_id, hex_x, hex_y, n2k_number : where the binding phase reaches it
    n_hexagons : hexagons within 25 km of the site; pairs : evaluated exactly
    probes : sizes evaluated per site
    """

    capacity: np.ndarray
    at_maximum: np.ndarray
    dep_cap: np.ndarray
    dep_next: np.ndarray
    binding: np.ndarray
    year: np.ndarray
    receptor_id: np.ndarray
    hex_x: np.ndarray
    hex_y: np.ndarray
    n2k_number: np.ndarray
    n_hexagons: np.ndarray
    pairs: np.ndarray
    probes: np.ndarray

    @classmethod
    def concat(cls, parts):
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))


def _extent(templates, x0, y0) -> float:
    """Largest distance from the reference location to any elementary source (+ its size) [m]."""
    e = templates.elementary
    cx = np.where(np.isfinite(e.x_end), (e.x + e.x_end) / 2, e.x)
    cy = np.where(np.isfinite(e.y_end), (e.y + e.y_end) / 2, e.y)
    pad = np.where(np.isfinite(e.x_end), np.hypot(e.x_end - e.x, e.y_end - e.y) / 2,
                   e.area_side_m / math.sqrt(2))
    return float(np.max(np.hypot(cx - x0, cy - y0) + pad)) if len(e) else 0.0


class _Pairs:
    """Exact unit deposition on the (site, hexagon) pairs of a chunk, grouped by site."""

    def __init__(self, U, ci, hi, nc):
        order = np.argsort(ci, kind="stable")
        self.U = U[:, order]
        self.hi = hi[order]
        self.counts = np.bincount(ci, minlength=nc)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])

    def idx(self, sites):
        """Pair columns of ``sites`` (concatenated) and the segment start of each site."""
        c, s = self.counts[sites], self.starts[sites]
        seg = np.concatenate([[0], np.cumsum(c)[:-1]])
        cols = np.repeat(s - seg, c) + np.arange(int(c.sum()))
        return cols, seg, c


def _evaluate(pw, pairs, sites, sizes, *, where=False):
    """Largest deposition per phase of the plan of ``sizes[i]`` at ``sites[i]`` (m, 2).

    With ``where``: also the pair column and the year of each maximum (-1 where none).
    """
    m = len(sites)
    out = np.zeros((m, 2))
    col = np.full((m, 2), -1, np.int64)
    yr = np.full((m, 2), -1, np.int64)
    if m == 0:
        return (out, col, yr) if where else out
    sizes = np.asarray(sizes, np.int64)
    uniq, inv = np.unique(sizes, return_inverse=True)
    got = pw.get(uniq.tolist())
    for u, sz in enumerate(got):
        if sz is None:
            continue
        rows = np.flatnonzero(inv == u)
        cols, seg, cnt = pairs.idx(sites[rows])
        keep = cnt > 0
        if not keep.any():
            continue
        dep = sz.W @ pairs.U[:, cols]  # (n_s, k)
        for p in (0, 1):
            mine = np.flatnonzero(sz.phase == p)
            if not mine.size:
                continue
            dp = dep[mine]
            best = dp.max(axis=0)
            kr = rows[keep]
            segmax = np.maximum.reduceat(best, seg[keep])
            out[kr, p] = segmax
            if where:
                rep = np.repeat(segmax, cnt[keep])
                site_of = np.repeat(np.arange(kr.size), cnt[keep])
                hit = np.flatnonzero(best == rep)
                u_s, first = np.unique(site_of[hit], return_index=True)
                j = hit[first]
                col[kr[u_s], p] = cols[j]
                yr[kr[u_s], p] = sz.year[mine[dp[:, j].argmax(axis=0)]]
    return (out, col, yr) if where else out


def size_grid(plan) -> np.ndarray:
    """The shared sizes of the first search stage, in steps: every count up to
    :data:`GRID_DENSE`, then geometric with ratio :data:`GRID_RATIO` up to the maximum."""
    kmax = plan.maximum // plan.step
    n = int(math.ceil(math.log(max(kmax, 2)) / math.log(GRID_RATIO))) + 1
    g = np.unique(np.concatenate([np.arange(1, min(GRID_DENSE, kmax) + 1),
                                  np.round(np.geomspace(1, kmax, n)).astype(np.int64), [kmax]]))
    return g[(g >= 1) & (g <= kmax)]


def _update(lo, glo, hi, ghi, s, k, d, threshold):
    """Narrow the brackets of sites ``s`` (distinct) with the exact maxima ``d`` at sizes ``k``."""
    fail = permit_needed(d, threshold=threshold)
    inside = (k > lo[s]) & (k < hi[s])
    up, dn = ~fail & inside, fail & inside
    lo[s[up]], glo[s[up]] = k[up], d[up] / threshold
    hi[s[dn]], ghi[s[dn]] = k[dn], d[dn] / threshold


def _search(pw, pairs, threshold, start=None):
    """Bracketing search on ``k = size / step`` per site of ``pairs``.

    Stage 1 halves the bracket over the shared :func:`size_grid` (the same sizes for every
    site and chunk: their emission is computed once); stage 2 interpolates inside the last
    grid interval (at most 2 % wide), probing the estimate and one step above it.

    ``start``: ``(lo, hi)`` of a search on a subset of these pairs (the nearest hexagons):
    its ``hi`` fails here too (a maximum over more hexagons is not smaller), and its ``lo``
    is probed first (usually the answer).

    Returns ``lo`` (int64, per site): the plan of ``lo * step`` gives < threshold on the
    pairs in every phase-year and (unless ``lo`` is the maximum) the plan of
    ``(lo + 1) * step`` gives >= threshold; ``hi`` (the smallest size known to fail, or
    ``maximum + 1``); and the number of sizes probed per site.
    """
    plan = pw.plan
    nc = pairs.counts.size
    kmax = plan.maximum // plan.step
    grid = size_grid(plan)
    lo = np.zeros(nc, np.int64)
    glo = np.zeros(nc)
    hi = np.full(nc, kmax + 1, np.int64)  # kmax + 1: not (yet) known to fail
    ghi = np.full(nc, np.inf)
    probes = np.zeros(nc, np.int64)
    sites = np.arange(nc)
    # stage 1: the reference size (or the subset's answer), then bisection over the grid
    # indices inside the bracket
    if start is None:
        kr = np.full(nc, plan.reference // plan.step)
    else:
        hi[:], ghi[:] = start[1], np.where(start[1] <= kmax, 1.0, np.inf)
        kr = start[0]
    s0 = sites[kr > 0]
    d = _evaluate(pw, pairs, s0, kr[s0] * plan.step).max(axis=1)
    probes[s0] += 1
    _update(lo, glo, hi, ghi, s0, kr[s0], d, threshold)

    def probe_estimates(todo, *, middle):
        """Probe the interpolated boundary, one step above it (and the middle of the bracket)."""
        l, h, gl, gh = lo[todo], hi[todo], glo[todo], ghi[todo]
        with np.errstate(divide="ignore", invalid="ignore"):
            # inside a known bracket: interpolate; above everything known: a secant through 0
            est = np.where(np.isfinite(gh), l + (1.0 - gl) / (gh - gl) * (h - l),
                           np.where(gl > 0, l / gl, kmax + 1.0))
        kstar = np.floor(np.nan_to_num(est, nan=0.0, posinf=kmax + 1.0)).astype(np.int64)
        kstar = np.clip(kstar, l, np.minimum(h - 1, kmax))
        p1 = np.where(kstar > l, kstar, l + 1)
        p2 = np.minimum(kstar + 1, np.minimum(h - 1, kmax))
        for k in (p1, p2) + (((l + h) // 2,) if middle else ()):
            keep = (k > lo[todo]) & (k < hi[todo]) & (k <= kmax)
            if keep.any():
                s = todo[keep]
                d = _evaluate(pw, pairs, s, k[keep] * plan.step).max(axis=1)
                probes[s] += 1
                _update(lo, glo, hi, ghi, s, k[keep], d, threshold)

    # the linear estimate from what is known (exact for key figures linear in the size)
    probe_estimates(np.flatnonzero((hi > lo + 1) & (lo < kmax)), middle=False)
    while True:
        a = np.searchsorted(grid, lo, side="right")        # first grid index above lo
        b = np.searchsorted(grid, hi, side="left") - 1     # last grid index below hi
        todo = np.flatnonzero(b >= a)
        if not todo.size:
            break
        k = grid[(a[todo] + b[todo]) // 2]
        d = _evaluate(pw, pairs, todo, k * plan.step).max(axis=1)
        probes[todo] += 1
        _update(lo, glo, hi, ghi, todo, k, d, threshold)
    # stage 2: inside one grid interval
    while True:
        todo = np.flatnonzero((hi > lo + 1) & (lo < kmax))
        if not todo.size:
            return lo, hi, probes
        probe_estimates(todo, middle=True)


def _reach_for(pw, dx, dy, sizes, levels) -> np.ndarray:
    """Distance from each site beyond which the plan of ``sizes[i]`` stays below ``levels[i]``
    on every hexagon (kernel envelope, ``maps._reach``; 0 for size 0) [m]."""
    out = np.zeros(len(sizes))
    sizes = np.asarray(sizes, np.int64)
    uniq, inv = np.unique(sizes, return_inverse=True)
    for u, sz in zip(range(len(uniq)), pw.get(uniq.tolist())):
        if sz is None or not sz.W.any():
            continue
        g = np.flatnonzero(inv == u)
        lv = np.maximum(np.asarray(levels, float)[g], 1e-300)
        out[g] = reach_distance(pw.templates, translated_sources(pw.templates, dx[g], dy[g]), sz.W, lv)
    return out


def capacity_chunk(pw: PlanWeights, xs, ys, *, threshold: float) -> ChunkResult:
    """Capacity of the plan at every site of one chunk (:func:`_capacity_chunk`), with the
    kernel tables of the moved sources built once for all engine calls of the chunk."""
    with table_cache():
        return _capacity_chunk(pw, xs, ys, threshold=threshold)


def _capacity_chunk(pw: PlanWeights, xs, ys, *, threshold: float) -> ChunkResult:
    """Capacity of the plan at every site ``(xs[i], ys[i])`` (RD New, m) of one chunk.

    Steps: an upper bound of the capacity from the 24 nearest hexagons; every hexagon within
    the distance where the plan of that size can still reach the threshold evaluated
    exactly; the search on those; then a check that the hexagons evaluated cover the
    distance at which the plan of the found size (and one step more) could reach its own
    maximum, widened and searched again where not (:data:`MAX_WIDEN` times at most).
    """
    from scipy.spatial import cKDTree

    plan, tp = pw.plan, pw.templates
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    nc = xs.size
    x0, y0 = pw.project.location.x, pw.project.location.y
    dx, dy = xs - x0, ys - y0
    extent = _extent(tp, x0, y0)
    empty = ChunkResult(np.full(nc, -1, np.int64), np.zeros(nc, bool), np.full((nc, 2), np.nan),
                        np.full((nc, 2), np.nan), np.full(nc, -1, np.int64), np.full(nc, -1, np.int64),
                        np.zeros(nc, np.int64), np.full(nc, np.nan), np.full(nc, np.nan),
                        np.zeros(nc, np.int64), np.zeros(nc, np.int64), np.zeros(nc, np.int64),
                        np.zeros(nc, np.int64))
    if nc == 0:
        return empty
    rec = default_receptors(xs, ys, radius_m=CALCULATION_DISTANCE_M + extent)
    if not len(rec):
        return empty
    hx, hy = rec["x"].to_numpy(float), rec["y"].to_numpy(float)
    rid = rec["receptor_id"].to_numpy(np.int64)
    num = rec["n2k_number"].to_numpy(np.int64)
    pts = np.column_stack([xs, ys])
    tree = cKDTree(np.column_stack([hx, hy]))
    full = CALCULATION_DISTANCE_M + extent
    n_hex = np.asarray(tree.query_ball_point(pts, r=full, return_length=True), np.int64)
    moved = translated_sources(tp, dx, dy)
    prime_reach(tp, moved)  # the reach of every size below reuses these envelope rows

    def pairs_within(radius):
        balls = tree.query_ball_point(pts, r=np.minimum(radius, full))
        ci = np.repeat(np.arange(nc), [len(b) for b in balls])
        hi = np.concatenate([np.asarray(b, np.int64) for b in balls]) if ci.size else ci
        return _Pairs(unit_pairs(tp, moved, hx, hy, ci, hi), ci, hi, nc)

    # 1. an upper bound of the capacity from the nearest hexagons
    k = min(SEED, len(rec))
    _, seed = tree.query(pts, k=k)
    sci, shi = np.repeat(np.arange(nc), k), np.asarray(seed).reshape(-1)
    seeds = _Pairs(unit_pairs(tp, moved, hx, hy, sci, shi), sci, shi, nc)
    lo_seed, hi_seed, probes = _search(pw, seeds, threshold)
    kmax = plan.maximum // plan.step
    # 2. every hexagon where the plan of one step above that bound can reach the threshold
    radius = _reach_for(pw, dx, dy, np.minimum(lo_seed + 1, kmax) * plan.step,
                        np.full(nc, REACH_LEVEL * threshold)) + extent
    for _ in range(MAX_WIDEN + 1):
        pairs = pairs_within(radius)
        lo, _, pr = _search(pw, pairs, threshold, start=(lo_seed, hi_seed))
        probes += pr
        cap = lo * plan.step
        at_max = lo >= kmax
        nxt = np.where(at_max, cap, (lo + 1) * plan.step)
        sites = np.arange(nc)
        dep_cap = np.full((nc, 2), np.nan)
        has = cap > 0
        dep_cap[has] = _evaluate(pw, pairs, sites[has], cap[has])
        dep_next, col, yr = _evaluate(pw, pairs, sites, nxt, where=True)
        # 3. do the pairs cover where these two plans could reach their maxima?
        mc = np.fmin(np.fmax(dep_cap[:, 0], dep_cap[:, 1]), threshold)
        mn = np.fmin(np.fmax(dep_next[:, 0], dep_next[:, 1]), threshold)
        need = np.maximum(_reach_for(pw, dx, dy, np.where(np.isnan(mc), 0, cap), np.nan_to_num(mc)),
                          _reach_for(pw, dx, dy, nxt, np.nan_to_num(mn))) + extent
        short = (need > radius + 1e-6) & (radius < full)
        if not short.any():
            break
        radius = np.where(short, need * WIDEN_FACTOR, radius)
    else:
        raise RuntimeError("capacity: the evaluated hexagons do not cover the reach after widening")

    dep_next[at_max] = np.nan
    exceeded = permit_needed(np.nan_to_num(dep_next, nan=0.0), threshold=threshold)
    binding = np.where(exceeded.any(axis=1), np.argmax(np.where(exceeded, dep_next, -np.inf), axis=1), -1)
    b = np.maximum(binding, 0)
    c = col[sites, b]
    hexi = np.where(c >= 0, pairs.hi[np.maximum(c, 0)], -1)
    good = (binding >= 0) & (hexi >= 0)
    none = n_hex == 0
    return ChunkResult(
        capacity=np.where(none, -1, cap), at_maximum=at_max & ~none, dep_cap=dep_cap,
        dep_next=dep_next, binding=binding, year=np.where(good, yr[sites, b], -1),
        receptor_id=np.where(good, rid[np.maximum(hexi, 0)], 0),
        hex_x=np.where(good, hx[np.maximum(hexi, 0)], np.nan),
        hex_y=np.where(good, hy[np.maximum(hexi, 0)], np.nan),
        n2k_number=np.where(good, num[np.maximum(hexi, 0)], 0), n_hexagons=n_hex,
        pairs=pairs.counts.astype(np.int64), probes=probes)


def phase_name(i: int) -> str:
    return PHASES[i] if i >= 0 else ""
