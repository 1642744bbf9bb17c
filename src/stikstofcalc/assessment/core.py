"""The assessment: project -> verdict per phase and calendar year, with margin and headroom.

The chain (``docs/assessment.md``)::

    project (TOML)  -> emission table (inventory)      kg/yr per phase, year, source
                    -> source templates (sources)      geometry + characteristics, 1 kg/yr each
                    -> unit deposition per template    mol N/ha/yr per kg/yr, NOx and NH3
                    -> scenarios by scaling            phase-years, measures, headroom
                    -> verdict (rules.assess)

OPS (and the engine) is exactly linear in emission for fixed source characteristics,
so the deposition of a scenario is ``W @ U``: ``W`` (n_scenarios, n_fields) the
emission of each template and substance, ``U`` (n_fields, n_receptors) the unit
deposition. The unit deposition is computed once; calendar years, measures and
headroom only rescale it.

Pruned search. ``U`` is not evaluated on every hexagon: :func:`upper_bounds` bounds
each field from the distance of the hexagon to the template's geometry and the
monotone envelope of the model's kernel (maximum over wind directions of the kernel
from that distance outwards). A hexagon whose bound stays below the largest exact
value found so far (and below the threshold, where the count of hexagons above it is
needed) cannot change the answer and is never evaluated (:func:`pruned_search`).
A test checks that the pruned search equals brute force.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stikstofcalc import compiled as compiled_paths
from stikstofcalc.caches import cached, register
from stikstofcalc import rules
from stikstofcalc.deposition.core import DEFAULT_CUTOFF_M, ReceptorArrays, SourceArrays, deposition_arrays
from stikstofcalc.assessment.results import PhaseResult
from stikstofcalc.conventions import CALCULATION_DISTANCE_M
from stikstofcalc.errors import InputError, dutch_notation, nl_int, nl_num
from stikstofcalc.geo.receptors import (TERRAIN_COLUMNS, collapse_receptors, default_receptor_arrays,
                                        distance_to_sources, own_landuse, read_receptor_file,
                                        receptor_surface, wgs84_to_rd)
from stikstofcalc.emissions.sources import (DEFAULT_Z0_M, Templates, apply_machinery_heat,
    build_templates, characteristics_table, check_site, fallback_notes, machinery_heat_choice,
    other_machinery_heat, row_keys)
from stikstofcalc.deposition import model as _model, terrain as _terrain
from stikstofcalc.deposition.terrain import terrain_info
from stikstofcalc.deposition.api import terrain_description, z0_model_range, z0_range_notes
from stikstofcalc.deposition.fast import SUBSTANCE_NAMES, cache_store, table_cache, terrain_reference
from stikstofcalc.deposition.progress import listening, report_step
from stikstofcalc.emissions.project import Project, kengetallen_for, parse_project, read_project
from stikstofcalc.geo import unassessed
from stikstofcalc.geo.natura2000 import ATTRIBUTION_NL as ATTRIBUTION, data_checksums, load_natura2000
from stikstofcalc.emissions import inventory
from stikstofcalc.deposition.model import load_model
from stikstofcalc.geo.geometry import segment_distance
from stikstofcalc._version import __version__

#: Distance shrink applied before looking up the kernel envelope (guards the fast path's
#: approximate distance -> ring mapping) [-].
BOUND_DISTANCE_FACTOR = 0.98
#: Safety factor on the upper bound (fast-math rounding of the compiled kernel) [-].
BOUND_SAFETY = 1.02
#: Hexagons evaluated first per scenario (largest bounds) before pruning [-].
SEED_PER_SCENARIO = 48

PHASE_LABEL = {"realisatie": "realisatiefase", "gebruik": "gebruiksfase", "referentie": "referentiesituatie"}
KIND_LABEL = {"machinery": "mobiele werktuigen", "construction_traffic": "bouwverkeer",
              "use_traffic": "verkeer gebruiksfase", "heating": "verwarming", "reference": "referentie"}
VEHICLE_LABEL = {"licht": "licht verkeer", "middelzwaar": "middelzwaar vrachtverkeer",
                 "zwaar": "zwaar vrachtverkeer", "bus": "bussen"}


# --------------------------------------------------------------------------- unit deposition


def unit_deposition(templates: Templates, x, y, *, sub_receptors: bool = True,
                    surface=None) -> np.ndarray:
    """Deposition of 1 kg/yr NOx and 1 kg/yr NH3 of every template on receptor hexagons.

    A hexagon with a source inside it (or within :data:`NEAR_SOURCE_M` of its centre) gets
    the average over its sub-receptors at least :data:`SUB_RECEPTOR_MIN_M` from every source,
    as AERIUS does (:func:`near_source_average`); ``sub_receptors=False`` gives the centre
    values.

    Parameters
    ----------
    templates : Templates
    x, y : array_like, shape (k,)
        Receptor coordinates, RD New [m].
    surface : None or (z0_m, landuse, lu_pct), keyword-only
        The receptors' own terrain (:func:`stikstofcalc.geo.receptors.receptor_surface`),
        aligned with ``x``; None: all from the roughness map. Sub-receptors take their
        hexagon's.

    Returns
    -------
    ndarray, shape (2 * n_templates, k)
        Field ``2 t`` is NOx of template ``t``, ``2 t + 1`` its NH3 [mol N/ha/yr per kg/yr].

    Notes
    -----
    One engine call: the receptors are repeated once per template with the template's
    index as case code, so every template acts only on its own copy (no loop).
    """
    u = _unit_deposition_centres(templates, x, y, surface)
    return near_source_average(templates, x, y, u, surface) if sub_receptors else u


def take_surface(surface, idx):
    """The receptor terrain ``surface`` (or None) at the receptors ``idx``."""
    if surface is None:
        return None
    z0, lu, pct = surface
    return z0[idx], lu[idx], None if pct is None else pct[idx]


def _surface_arrays(surface, n_t: int) -> dict:
    """ReceptorArrays fields of ``surface`` repeated once per template (as x, y are)."""
    if surface is None:
        return {}
    z0, lu, pct = surface
    return {"z0_m": np.tile(z0, n_t), "landuse": np.tile(lu, n_t),
            "lu_pct": None if pct is None else np.tile(pct, (n_t, 1))}


def _unit_deposition_centres(templates: Templates, x, y, surface=None) -> np.ndarray:
    """:func:`unit_deposition` at the receptor points themselves (no sub-receptors)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n_t, k = len(templates), x.shape[0]
    if k == 0 or n_t == 0:
        return np.zeros((2 * n_t, k))
    e = templates.elementary
    t = e.parent
    src = SourceArrays(x=e.x, y=e.y, height_m=templates.height_m[t], heat_mw=templates.heat_mw[t],
                       nox_kg_yr=e.weight, nh3_kg_yr=e.weight, spread_m=templates.spread_m[t],
                       area_side_m=e.area_side_m, x_end=e.x_end, y_end=e.y_end,
                       z0_m=DEFAULT_Z0_M, case=t)
    rec = ReceptorArrays(x=np.tile(x, n_t), y=np.tile(y, n_t),
                         case=np.repeat(np.arange(n_t, dtype=np.int64), k), **_surface_arrays(surface, n_t))
    res = deposition_arrays(src, rec, cutoff_m=DEFAULT_CUTOFF_M)
    return np.stack([res.nox.reshape(n_t, k), res.nh3.reshape(n_t, k)], axis=1).reshape(2 * n_t, k)


def unit_deposition_many(requests) -> list:
    """:func:`unit_deposition` of many (templates, x, y) requests in one engine call.

    Parameters
    ----------
    requests : sequence of (Templates, array_like, array_like[, surface])
        Templates of one case and receptor coordinates, RD New [m], and optionally the
        receptors' own terrain (as :func:`unit_deposition`).

    Returns
    -------
    list of ndarray, shape (2 * n_templates, k) each
        As :func:`unit_deposition` per request [mol N/ha/yr per kg/yr].

    Notes
    -----
    Every template of every request gets its own case code (its receptors repeated once
    per template), so a value never depends on the other requests in the call: the
    same numbers as one :func:`unit_deposition` call per request, at the cost of one
    engine call (the engine shares its kernel tables between sources).
    """
    requests = [tuple(r) + (None,) * (4 - len(r)) for r in requests]
    parts, rparts, shapes, code = [], [], [], 0
    surfaces = any(r[3] is not None for r in requests)
    for templates, x, y, surface in requests:
        x, y = np.asarray(x, float), np.asarray(y, float)
        n_t, k = len(templates), x.shape[0]
        shapes.append((n_t, k))
        if k == 0 or n_t == 0:
            continue
        e = templates.elementary
        t = e.parent
        parts.append((e.x, e.y, templates.height_m[t], templates.heat_mw[t], e.weight,
                      templates.spread_m[t], e.area_side_m, e.x_end, e.y_end, code + t))
        rp = (np.tile(x, n_t), np.tile(y, n_t), code + np.repeat(np.arange(n_t, dtype=np.int64), k))
        if surfaces:  # receptor terrain: NaN / 0 / NaN rows (from the map) where a request has none
            own = _surface_arrays(surface if surface is not None else _no_surface(k), n_t)
            pct = own["lu_pct"] if own["lu_pct"] is not None else np.full((n_t * k, 9), np.nan)
            rp += (own["z0_m"], own["landuse"], pct)
        rparts.append(rp)
        code += n_t
    out = []
    if parts:
        cols = [np.concatenate(c) for c in zip(*parts)]
        src = SourceArrays(x=cols[0], y=cols[1], height_m=cols[2], heat_mw=cols[3], nox_kg_yr=cols[4],
                           nh3_kg_yr=cols[4], spread_m=cols[5], area_side_m=cols[6], x_end=cols[7],
                           y_end=cols[8], z0_m=DEFAULT_Z0_M, case=cols[9].astype(np.int64))
        rcols = [np.concatenate(c) for c in zip(*rparts)]
        extra = dict(zip(("z0_m", "landuse", "lu_pct"), rcols[3:]))
        res = deposition_arrays(src, ReceptorArrays(x=rcols[0], y=rcols[1], case=rcols[2], **extra),
                                cutoff_m=DEFAULT_CUTOFF_M)
    at = 0
    for n_t, k in shapes:
        if k == 0 or n_t == 0:
            out.append(np.zeros((2 * n_t, k)))
            continue
        nox, nh3 = res.nox[at:at + n_t * k], res.nh3[at:at + n_t * k]
        at += n_t * k
        out.append(np.stack([nox.reshape(n_t, k), nh3.reshape(n_t, k)], axis=1).reshape(2 * n_t, k))
    # hexagons with a source inside: the sub-receptor average (a few points, own engine call)
    return [near_source_average(tp, x, y, u, sf) for (tp, x, y, sf), u in zip(requests, out)]


def _no_surface(k: int):
    """A receptor terrain of ``k`` receptors that all take theirs from the map."""
    return np.full(k, np.nan), np.zeros(k, np.int64), None


# --------------------------------------------------------------------------- bounds


@dataclass(frozen=True)
class Envelope:
    """Upper envelope of the kernel per field, as a function of distance.

    ``value[f, i]`` bounds the deposition per kg/yr of field ``f`` at any distance at or
    beyond ring interval ``i`` (``log_d0``, ``dlog``: the model's ring axis), any wind
    direction; ``area_in[f]`` / ``area_out[f]`` bound the area-source correction for
    receptors inside / outside the template's bounding box (1 for points and lines).
    """

    value: np.ndarray
    log_d0: float
    dlog: float
    area_in: np.ndarray
    area_out: np.ndarray
    #: roughness map only: ``value`` without the receptor-surface factor, and that factor's
    #: bound per field, receptor-z0 knot and ring interval (log; suffix maximum), so
    #: :func:`upper_bounds` can use each receptor's own z0 (None with uniform terrain)
    value_src: np.ndarray | None = None
    rcp_log: np.ndarray | None = None
    #: roughness map only: log land-use ratio bound per field, class and ring interval
    lu_log: np.ndarray | None = None

    def ring_index(self, distance_m) -> np.ndarray:
        """Ring interval whose bound holds at distances ``distance_m`` (int64, same shape)."""
        # floor((log(max(d * factor, 1e-9)) - log_d0) / dlog) clipped to the rings, in place
        v = np.multiply(distance_m, BOUND_DISTANCE_FACTOR, dtype=float)
        np.maximum(v, 1e-9, out=v)
        np.log(v, out=v)
        v -= self.log_d0
        v /= self.dlog
        np.floor(v, out=v)
        np.clip(v, 0, self.value.shape[1] - 1, out=v)
        return v.astype(np.int64)

    def at(self, distance_m, *, inside=None) -> np.ndarray:
        """Bound per field at distances ``distance_m`` (n_fields, n) [mol N/ha/yr per kg/yr]."""
        d = np.asarray(distance_m, float) * BOUND_DISTANCE_FACTOR
        v = np.take_along_axis(self.value, self.ring_index(distance_m), axis=1)
        inside = d <= 0 if inside is None else inside
        ac = np.where(inside, self.area_in[:, None], self.area_out[:, None])
        cut = np.asarray(distance_m, float) > DEFAULT_CUTOFF_M
        return np.where(cut, 0.0, v * ac * BOUND_SAFETY)


def envelope(templates: Templates, *, landuse: int = 1) -> Envelope:
    """Kernel envelope of every template (NOx and NH3) from the model's ring tables.

    Notes
    -----
    The engine interpolates the kernel between rings and bearings (log-linearly in the
    reference path, linearly on finer tables in the compiled one); both stay within the
    largest node value of the surrounding rings and bearings. Per ring interval ``i``
    the bound is ``max_b(K_i, K_i+1) * max(L_i, L_i+1)`` (K the kernel, L the land-use
    factor of class ``landuse``), maximised over the template's elementary sources
    (regional differences), then over all farther intervals (suffix maximum), which makes
    it non-increasing in distance.

    The kernel tables are the model's (:func:`stikstofcalc.deposition.model.source_tables`),
    assembled by :func:`_source_tables` from per-worker caches of the parts that do not
    depend on the position (the same few templates recur in every case); the same numbers.
    """
    return envelope_many([templates], landuse=landuse)[0]


def envelope_many(templates_list, *, landuse: int = 1) -> list:
    """:func:`envelope` of many template sets (cases) with one pass over the kernel tables.

    The tables are computed per elementary source (no value depends on the other rows),
    so each envelope is the one :func:`envelope` gives for its templates alone; the
    batch's lock step asks for the envelopes of a whole chunk at once.
    """
    m = _model.load_model()
    els = [tp.elementary for tp in templates_list]
    cols = [np.concatenate(c) if c else np.zeros(0) for c in zip(*(
        (tp.height_m[e.parent], tp.heat_mw[e.parent], tp.spread_m[e.parent], e.x, e.y)
        for tp, e in zip(templates_list, els)))]
    if not cols:
        return []
    geo = [np.concatenate(c) for c in zip(*((e.x_end, e.y_end, e.area_side_m) for e in els))]
    per_s, rcp_s, lu_s = [], [], []
    terrain_map = engine_terrain() == "map"

    def suffix_max(a):
        return np.maximum.accumulate(a[..., ::-1], axis=-1)[..., ::-1]

    for s in (0, 1):
        if terrain_map:
            kint, lu1, g = _map_bound_kept(m, s, cols, geo)
            rcp_s.append(suffix_max(np.maximum(g[..., :-1], g[..., 1:])))  # (n, knots, nint)
            lu_s.append(suffix_max(np.maximum(lu1[..., :-1], lu1[..., 1:])))  # (n, 9, nint)
            per = np.exp(kint)
        else:
            logtab, lu1 = _source_tables(m, s, *cols, landuse)
            k = np.exp(logtab.max(axis=2))
            lu = np.exp(lu1)
            per = np.maximum(k[:, :-1], k[:, 1:]) * np.maximum(lu[:, :-1], lu[:, 1:])
        per_s.append(suffix_max(per))
    out, at = [], 0
    for tp, e in zip(templates_list, els):
        t, n_t, rows = e.parent, len(tp), slice(at, at + len(e))
        at += len(e)
        has_sq = np.zeros(n_t, bool)
        has_sq[t[e.area_side_m > 0]] = True
        values, a_in, a_out, rcps, lus = [], [], [], [], []
        one = n_t == len(e) and np.array_equal(t, np.arange(n_t))
        for s in (0, 1):
            per = per_s[s][rows]
            if one:
                tab = per  # one elementary source per template (points): the row itself
            else:
                tab = np.zeros((n_t, per.shape[1]))
                np.maximum.at(tab, t, per)
            values.append(tab)
            if terrain_map:
                for src_l, dst in ((rcp_s, rcps), (lu_s, lus)):
                    g = src_l[s][rows]
                    if not one:
                        gt = np.full((n_t,) + g.shape[1:], -np.inf)
                        np.maximum.at(gt, t, g)
                        g = gt
                    dst.append(g)
            ac_all, ac_out = _area_factors(m, s)
            a_in.append(np.where(has_sq, ac_all, 1.0))
            a_out.append(np.where(has_sq, ac_out, 1.0))
        value = np.stack(values, axis=1).reshape(2 * n_t, -1)
        value_src = rcp_log = lu_log = None
        if terrain_map:
            rcp_log = np.stack(rcps, axis=1).reshape(2 * n_t, *rcps[0].shape[1:])
            lu_log = np.stack(lus, axis=1).reshape(2 * n_t, *lus[0].shape[1:])
            value_src = value
            value = value_src * np.exp(rcp_log.max(axis=1) + lu_log.max(axis=1))
        out.append(Envelope(value, m.log_d0, m.dlog, np.stack(a_in, 1).ravel(), np.stack(a_out, 1).ravel(),
                            value_src, rcp_log, lu_log))
    return out


class EnvelopeRequest:
    """What :func:`assess_project_steps` yields for its kernel envelope: ``(request, None)``.

    :func:`drive` answers it with ``request.evaluate(None)`` (:func:`envelope` of the
    case's templates); :func:`stikstofcalc.assessment.many.assess_many` answers the
    requests of a whole chunk with one :func:`envelope_many` call (the same numbers).
    """

    points = None

    def __init__(self, templates: Templates):
        self.templates = templates

    def evaluate(self, idx=None) -> Envelope:
        return envelope(self.templates)


#: Cached kernel parts per worker: (substance, kind, characteristics) -> table. The
#: templates of a batch have a handful of (height, heat, spread) triples, so this stays
#: small; :data:`ENVELOPE_CACHE_SIZE` bounds it anyway (cleared when full).
_KERNEL_PARTS: dict = register("stikstofcalc.assessment.core._KERNEL_PARTS", {})
ENVELOPE_CACHE_SIZE = 4096


def _kernel_part(key, make):
    """``_KERNEL_PARTS[key]``, made by ``make()`` on a miss (bounded cache)."""
    try:
        return _KERNEL_PARTS[key]
    except KeyError:
        if len(_KERNEL_PARTS) >= ENVELOPE_CACHE_SIZE:
            _KERNEL_PARTS.clear()
        value = _KERNEL_PARTS[key] = make()
        return value


def _area_factors(m, s):
    """Largest area correction (any u) and largest for u >= 2 (outside the box), substance ``s``."""
    def make():
        if m.AC is None:
            return 1.0, 1.0
        ac = np.exp(m.AC[s])
        return float(ac.max()), float(ac[..., np.searchsorted(m.AC_U, np.log(2.0) - 1e-9):].max())
    return _kernel_part((id(m), s, "area"), make)


def terrain_phrase() -> str:
    """The terrain the engine computes with, in one Dutch sentence for a map's footnote (the
    provenance has it in full)."""
    if engine_terrain() == "uniform":
        return "Terrein: uniform (z0 van de bronnen)."

    info = terrain_info()
    return (f"Terrein: ruwheidskaart {info['map']} (RIVM/OPS, uit LGN7, {info['licence']}) bij de bron, "
            "langs het pad en per hexagon (gemiddelde over 6,25 ha), zoals AERIUS.")


def engine_terrain() -> str:
    """Terrain the engine call of :func:`unit_deposition` uses (its default): "map" or "uniform"."""
    import inspect

    return inspect.signature(deposition_arrays).parameters["terrain"].default


def _map_bound_kept(m, s, cols, geo):
    """:func:`_source_tables_map_bound`, its rows kept while a
    :func:`~stikstofcalc.deposition.fast.table_cache` is open (each row depends only on its
    own source: the same numbers; capacity asks for the same moved sources several times)."""
    store = cache_store(("map_bound", s))
    if store is None:
        return _map_bound_parts(m, s, *cols, *geo)
    rows = np.ascontiguousarray(np.column_stack([*cols, *geo]), dtype=float)
    uniq, inv = np.unique(rows, axis=0, return_inverse=True)
    keys = [r.tobytes() for r in uniq]
    miss = [i for i, k in enumerate(keys) if k not in store]
    if miss:
        got = _map_bound_parts(m, s, *uniq[miss].T)
        for j, i in enumerate(miss):
            store[keys[i]] = tuple(a[j] for a in got)
    parts = [store[k] for k in keys]
    inv = inv.reshape(-1)
    return tuple(np.stack([p[a] for p in parts])[inv] for a in range(3))


#: :func:`_source_tables_map_bound` takes this many sources at a time (its intermediate
#: arrays are (sources, 30, 36) per z0 candidate; each row depends only on its source).
BOUND_CHUNK = 2048


def _map_bound_parts(m, s, *cols):
    """:func:`_source_tables_map_bound` in parts of :data:`BOUND_CHUNK` sources."""
    n = np.asarray(cols[0]).shape[0]
    if n <= BOUND_CHUNK:
        return _source_tables_map_bound(m, s, *cols)
    label = f"zoekgrenzen {SUBSTANCE_NAMES[s]}"
    report_step(label, 0, n)
    parts = []
    for a in range(0, n, BOUND_CHUNK):
        parts.append(_source_tables_map_bound(m, s, *(np.asarray(c)[a:a + BOUND_CHUNK] for c in cols)))
        report_step(label, min(n, a + BOUND_CHUNK), n)
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))


def _source_tables_map_bound(m, s, height_m, heat_mw, spread_m, x, y, x_end, y_end, side_m):
    """Upper bound over the terrain of the map-mode tables, per ring interval.

    With the roughness map the log deposition of a pair is (see
    :func:`~stikstofcalc.deposition.model.source_tables_terrain` and the reference path)

        base(zk) + region(zk) + spread + TS (zs - zk) - G(zt) + G(zr) + TW w

    with zt the trajectory ln z0, zk = zt clamped to ``KERNEL_Z0_RANGE``, zs the source's
    clamped ln z0, zr the receptor's ln z0 and w the water share along the path, times
    the land-use factor sum_c f_c exp(lut_c(zs)) (fractions summing to 1).

    - zt is a mean of ln z0 over points within the receptor's distance of the source, so
      it lies between the smallest and largest map ln z0 within that distance
      (:func:`~stikstofcalc.deposition.terrain.disk_lnz0_range`, per ring interval). The zt
      terms are piecewise linear in zt (linear between the nodes of the kernel, the region
      field and the receptor-surface knots, held beyond the ends), so their supremum over
      that range is their maximum over the nodes inside it and its two ends.
    - zs: the source's own map z0 (its reference point, as the engine); w in [0, 1]:
      max(TW, 0).
    - The land-use factor: per class its largest value over the source z0 nodes;
      :func:`upper_bounds` takes the largest class present at each receptor.
    - G(zr) is returned apart per knot, so :func:`upper_bounds` takes each receptor's own
      z0 (G(zr) is the hat interpolation of the knots: at most the larger of the two
      around zr).

    The ring/bearing interpolation weights are the same for every term, so for a pair in
    ring interval i the larger of rings i and i+1 (each at the worst zt of the interval)
    bounds it, as in the uniform case. Receptor overrides (``z0_m``, ``lu_*``) are covered
    by the largest knot / class.

    Returns
    -------
    logint : ndarray, shape (n, nint)
        log bound per ring interval (largest bearing), without G(zr) and land use
    lu : ndarray, shape (n, 9, 30)
        Largest log land-use ratio per class over the source z0, per ring.
    g : ndarray, shape (n, knots, 30)
        The receptor-surface function G at its z0 knots (``TA_Z``).
    """
    tm = _model.load_terrain_model()
    h = np.asarray(height_m, float)
    hc = np.asarray(heat_mw, float)
    sp = np.asarray(spread_m, float)
    xe, ye, side = (np.asarray(v, float) for v in (x_end, y_end, side_m))
    seg = np.isfinite(xe) & np.isfinite(ye)
    kind = np.where(seg, 2, np.where(side > 0, 1, 0))
    cx, cy = terrain_reference(np.asarray(x, float), np.asarray(y, float), xe, ye, kind)
    extra = np.where(seg, 0.5 * np.hypot(np.where(seg, xe, 0) - x, np.where(seg, ye, 0) - y),
                     np.where(side > 0, side / np.sqrt(2.0), 0.0))
    key, inv = np.unique(np.column_stack([h, hc, sp, cx, cy, extra]), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    kh, khc, ksp, kx, ky, kex = key.T
    n = key.shape[0]
    nr, nb = m.L.shape[-2:]
    nint = nr - 1
    lo, hi = np.log(_model.KERNEL_Z0_RANGE[0]), np.log(_model.KERNEL_Z0_RANGE[1])
    radii = np.exp(m.log_d0 + m.dlog * np.arange(1, nr)) / BOUND_DISTANCE_FACTOR
    radii[-1] = max(radii[-1], DEFAULT_CUTOFF_M)
    zlo, zhi = _terrain.disk_lnz0_range(kx, ky, kex, radii)  # (n, nint)
    nodes = np.unique(np.concatenate([np.log(m.Z), np.log(tm.RG_Z), np.log(tm.TA_Z), [lo, hi]]))
    hk, pk = np.unique(np.column_stack([kh, khc]), axis=0, return_inverse=True)
    pk = pk.reshape(-1)
    base6 = _model.base_tables_all_z0(m, s, hk[:, 0], hk[:, 1])
    reg = _model.region_map_logratio(m, tm, s, kh, khc, kx, ky)
    TA, TS, TW, TWR = _model.terrain_coefficients(tm, s, kh, khc)
    ln_z, ln_rg = np.log(m.Z), np.log(tm.RG_Z)

    def F(k, r, z):  # zt terms of source k at ring r and trajectory ln z0 z (1-D each), max bearing
        # only the (source, ring) pairs whose interval holds the candidate: a node of the
        # kernel's z0 axis lies in few intervals' ranges (the same arithmetic per element as
        # model.gather_rows / gather_z, with the bearings as a slice)
        zk = np.clip(z, lo, hi)
        iz, tz = _model.z0_axis(ln_z, zk)
        v = (1 - tz)[:, None] * base6[pk[k], iz, r] + tz[:, None] * base6[pk[k], iz + 1, r]
        jz, uz = _model.z0_axis(ln_rg, zk)
        v += (1 - uz)[:, None] * reg[k, jz, r] + uz[:, None] * reg[k, jz + 1, r]
        jt, wt = _model.z0_hats(tm, z)
        g = (1 - wt) * TA[k, jt, r] + wt * TA[k, jt + 1, r]
        return v.max(axis=1) - TS[k, r] * zk - g

    best = np.full((n, nint), -np.inf)
    cands = [zlo, zhi] + [np.where((zlo <= b) & (b <= zhi), b, np.nan) for b in nodes]
    for zc in cands:  # (n, nint): candidate zt per interval (NaN: not in the range)
        k, i = np.nonzero(np.isfinite(zc))
        if k.size == 0:
            continue
        z = zc[k, i]
        # interval i lies between rings i and i+1: the larger of the two at this zt
        best[k, i] = np.maximum(best[k, i], np.maximum(F(k, i, z), F(k, i + 1, z)))
    sp_r = _model.spread_logratio(m, s, kh, khc, ksp)
    zsrc = np.clip(np.log(_terrain.cell_z0(kx, ky)), lo, hi)  # the source's own map z0
    extra_r = TS * zsrc[:, None] + np.maximum(TW, 0.0) + sp_r  # (n, 30)
    best += np.maximum(extra_r[:, :-1], extra_r[:, 1:])
    zs = np.unique(np.clip(np.concatenate([np.log(m.LU_Z), [lo, hi]]), lo, hi))
    lu = np.full((n, 9, nr), -np.inf)
    for z in zs:
        lut = _model.landuse_logratio(m, s, kh, np.full(n, np.exp(z)))
        lut[:, 5, :] += TWR
        np.maximum(lu, lut, out=lu)
    return best[inv], lu[inv], TA[inv]


def _source_tables(m, s, height_m, heat_mw, spread_m, x, y, landuse):
    """The model's :func:`~stikstofcalc.deposition.model.source_tables` at roughness
    :data:`DEFAULT_Z0_M`, with the land-use ratio of class ``landuse`` only.

    Returns
    -------
    logtab : ndarray, shape (n, 30, 36)
    lu : ndarray, shape (n, 30)
        ``lutab[:, landuse - 1, :]`` of the model's function.

    Notes
    -----
    The same operations in the same order as the model's function, so the same numbers
    (a test checks it); the grass table (height, heat, roughness) and the spread ratio
    (height, heat, spread) come from :func:`_kernel_part` per distinct triple, only the
    regional and land-use parts (the position) are computed per call.
    """
    G = _model.POSITION_GRID_M
    h = np.asarray(height_m, float)
    hc = np.asarray(heat_mw, float)
    sp = np.asarray(spread_m, float)
    z0 = np.full(h.shape, DEFAULT_Z0_M)
    xr = np.round(np.asarray(x, float) / G) * G
    yr = np.round(np.asarray(y, float) / G) * G
    pos: dict = {}
    inv = np.array([pos.setdefault(k, len(pos)) for k in zip(h.tolist(), hc.tolist(), sp.tolist())],
                   dtype=np.int64)
    uniq = list(pos)
    mid = id(m)
    base = np.array([_kernel_part((mid, s, "base", a, b, DEFAULT_Z0_M), lambda a=a, b=b: _model.base_table(
        m, s, np.array([a]), np.array([b]), np.array([DEFAULT_Z0_M]))[0])
        for a, b, _ in uniq]).reshape(len(uniq), *m.L.shape[-2:])
    spread = np.array([_kernel_part((mid, s, "spread", a, b, c), lambda a=a, b=b, c=c: _model.spread_logratio(
        m, s, np.array([a]), np.array([b]), np.array([c]))[0])
        for a, b, c in uniq]).reshape(len(uniq), m.L.shape[-2])
    out = base[inv]
    out += _model.region_logratio(m, s, xr, yr)
    out += spread[inv][:, :, None]
    lu = _model.landuse_logratio(m, s, h, z0, xr, yr)[:, landuse - 1, :]
    return out, lu


def template_distances(templates: Templates, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Lower bound of the distance from receptors to every elementary source of a template.

    Returns
    -------
    distance : ndarray, shape (n_templates, n) [m]
        Points: exact; lines: to the nearest segment; areas: to the bounding box of the
        outline (every square lies inside it).
    inside : ndarray of bool, shape (n_templates, n)
        Receptor inside the template's bounding box (area correction not bounded by u >= 1).
    """
    geom, d, inside, _ = _geometry_distances(templates, x, y)
    return d[geom], inside[geom]


def _geometry_distances(templates: Templates, x, y):
    """:func:`template_distances` once per distinct geometry.

    Returns
    -------
    geom : ndarray of int64, shape (n_templates,)
        Row of each template's geometry in ``distance`` and ``inside``.
    distance, inside : ndarray, shape (n_geometries, n)
        As :func:`template_distances` (templates sharing a geometry share the rows).
    area : ndarray of bool, shape (n_geometries,)
        Area geometries (the only ones with receptors ``inside``).
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    e = templates.elementary
    pos: dict = {}
    geom = np.array([pos.setdefault(k[0], len(pos)) for k in templates.keys], dtype=np.int64)
    first = np.unique(geom, return_index=True)[1]
    out = np.empty((len(pos), x.shape[0]))
    inside = np.zeros(out.shape, bool)
    seg = np.isfinite(e.x_end)
    area = np.zeros(len(pos), bool)
    for g, i in enumerate(first):  # a few geometries; receptors stay vectorised
        mine = e.parent == i
        if np.any(mine & seg):
            k = np.flatnonzero(mine & seg)
            # compiled, one pass (segment_distance(...).min(axis=1) to within rounding:
            # sqrt of the squared distance instead of hypot; 6x faster)
            out[g] = distance_to_sources(x, y, e.x[k], e.y[k], e.x_end[k], e.y_end[k])
        elif np.any(mine & (e.area_side_m > 0)):
            x0, y0, x1, y1 = templates.bbox[i]
            dx = np.maximum(np.maximum(x0 - x, x - x1), 0.0)
            dy = np.maximum(np.maximum(y0 - y, y - y1), 0.0)
            out[g] = np.hypot(dx, dy)
            inside[g] = (dx == 0) & (dy == 0)
            area[g] = True
        else:
            k = np.flatnonzero(mine)
            if k.size == 1:  # one point: the distance itself (the minimum over one)
                np.hypot(x - e.x[k[0]], y - e.y[k[0]], out=out[g])
            elif k.size > 64:  # many points (merged source lists): compiled, as zero-length segments
                out[g] = distance_to_sources(x, y, e.x[k], e.y[k], e.x[k], e.y[k])
            else:
                out[g] = np.hypot(x[:, None] - e.x[k], y[:, None] - e.y[k]).min(axis=1)
    return geom, out, inside, area


def upper_bounds(templates: Templates, x, y, env: Envelope | None = None, surface=None) -> np.ndarray:
    """Upper bound of :func:`unit_deposition` on receptors, shape (2 * n_templates, n).

    ``surface``: the receptors' own terrain, as :func:`unit_deposition` takes it (its z0
    and land-use classes then enter the bound as the map's do). With uniform terrain
    (no receptor-surface factor in the envelope) a receptor with its own land use gets no
    finite bound: it is always evaluated.

    Notes
    -----
    The numbers of ``env.at(distance, inside=inside)`` per field, in fewer passes: the
    ring interval is computed once per distinct geometry (not per field) and each field
    looks its bound up in a table of ``value * area factor * BOUND_SAFETY`` (the same
    products, formed on the 30 ring values instead of on every hexagon).
    """
    env = envelope(templates) if env is None else env
    geom, d, inside, area = _geometry_distances(templates, x, y)
    nint = env.value.shape[1]
    # per field: [value * area_out * safety | value * area_in * safety | 0 beyond the cut-off]
    zero = np.zeros((env.value.shape[0], 1))
    table = np.concatenate([env.value * env.area_out[:, None] * BOUND_SAFETY,
                            env.value * env.area_in[:, None] * BOUND_SAFETY, zero], axis=1)
    out = np.empty((2 * len(templates), d.shape[1]))
    rcp = None
    if env.rcp_log is not None:
        # roughness map: the source part of the bound times the receptor-surface factor at
        # each receptor's own z0 (the larger of its two knots); hexagons that may be
        # averaged over sub-receptors (near a source) take the largest knot
        vs = env.value_src
        table = np.concatenate([vs * env.area_out[:, None] * BOUND_SAFETY,
                                vs * env.area_in[:, None] * BOUND_SAFETY, zero], axis=1)
        rcp, classes = _receptor_knots(x, y, env.rcp_log.shape[1], surface)
        near = d.min(axis=0) < 2.0 * NEAR_SOURCE_M + 1.0
        # the receptor factor depends on the hexagon only through (knot, ring, set of
        # land-use classes, near): each field forms it on that small grid and every
        # hexagon takes its entry (the same sums and exp as per hexagon, in fewer passes)
        code_lu = classes @ (1 << np.arange(9))  # class set as 9 bits
        present = np.bincount(code_lu, minlength=512) > 0  # (a sort of n codes cost more)
        bits = np.flatnonzero(present)
        pat = (np.cumsum(present) - 1)[code_lu]
        sets = ((bits[:, None] >> np.arange(9)) & 1).astype(bool)  # (patterns, 9)
        npat = bits.shape[0]
        k_hi = np.minimum(np.arange(env.rcp_log.shape[1]) + 1, env.rcp_log.shape[1] - 1)
    for g in range(d.shape[0]):
        code = env.ring_index(d[g])
        ring = code.copy() if rcp is not None else None
        if area[g]:
            code[inside[g]] += nint
        code[d[g] > DEFAULT_CUTOFF_M] = 2 * nint
        if rcp is not None:
            key = ((rcp * nint + ring) * npat + pat) * 2 + near
        for t in np.flatnonzero(geom == g):
            for f in (2 * t, 2 * t + 1):
                table[f].take(code, out=out[f])
                if rcp is not None:
                    gl = env.rcp_log[f]  # (knots, nint)
                    ll = env.lu_log[f]  # (9, nint)
                    grid = np.empty((gl.shape[0], nint, npat, 2))
                    fac = np.maximum(gl, gl[k_hi])  # (knots, nint): the larger of the two knots
                    luf = np.where(sets[:, :, None], ll[None], -np.inf).max(axis=1)  # (npat, nint)
                    grid[:, :, :, 0] = np.exp(fac[:, :, None] + luf.T[None])
                    grid[:, :, :, 1] = np.exp(gl.max(axis=0) + ll.max(axis=0))[None, :, None]
                    out[f] *= grid.reshape(-1).take(key)
    if rcp is None and surface is not None:
        out[:, own_landuse(surface)] = 1e30  # as unpruned
    return out


def _receptor_knots(x, y, n_knots, surface=None):
    """Lower receptor-surface knot of the z0 each hexagon centre gets (its own ``z0_m``,
    else the map's, as the engine derives it), int64 (n,), and the land-use classes
    present there, bool (n, 9)."""
    rec = ReceptorArrays(x=np.asarray(x, float), y=np.asarray(y, float),
                         **_surface_arrays(surface, 1))
    # the engine's own receptor arrays: the classes present are the mixture's entries
    ptr, cc, _, _, j = _terrain.receptor_terms(rec, "map", "hexagon")
    n = ptr.shape[0] - 1
    classes = np.zeros((n, 9), bool)
    classes[np.repeat(np.arange(n), np.diff(ptr)), cc] = True
    return np.clip(np.asarray(j, np.int64), 0, n_knots - 1), classes


# --------------------------------------------------------------------------- search


@dataclass
class Search:
    """Exact unit deposition on the hexagons that matter.

    ``exact[:, i]`` holds the unit deposition of hexagon ``i`` where ``done[i]``;
    ``bounds`` the upper bounds everywhere; ``evaluations`` counts engine calls.
    """

    exact: np.ndarray
    done: np.ndarray
    bounds: np.ndarray
    relevant: np.ndarray
    evaluate: object
    evaluations: int = 0
    #: (templates, x, y) that ``evaluate`` computes on, so a driver can batch many searches
    points: tuple | None = None
    _evaluated: dict = field(default_factory=dict, repr=False)

    def evaluated(self, relevant: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Evaluated hexagons (only the relevant ones unless ``relevant=False``) and their
        exact values ``exact[:, idx]``, kept until the next evaluation.

        The phase results, the headroom iterations and the maxima all scale the same
        exact values; gathering them once per round saves a pass over every hexagon.
        """
        hit = self._evaluated.get(relevant)
        if hit is None or hit[0] != self.evaluations:
            idx = np.flatnonzero(self.done & self.relevant if relevant else self.done)
            hit = self._evaluated[relevant] = (self.evaluations, idx, self.exact[:, idx])
        return hit[1], hit[2]

    def run_steps(self, mask):
        """Generator form of :meth:`run`: yields ``(self, idx)``, is sent the exact values."""
        idx = np.flatnonzero(mask & ~self.done)
        if idx.size:
            self.exact[:, idx] = yield (self, idx)
            self.done[idx] = True
            self.evaluations += 1

    def run(self, mask) -> None:
        drive(self.run_steps(mask))

    def maxima(self, weights) -> np.ndarray:
        """Largest exact deposition per scenario over evaluated relevant hexagons."""
        sel, ex = self.evaluated()
        if not sel.size:
            return np.zeros(weights.shape[0])
        return (weights @ ex).max(axis=1)


def drive(steps):
    """Run a search generator, answering each ``(search, idx)`` with ``search.evaluate(idx)``.

    The searches below are written as generators (``*_steps``) that only ask for exact
    values of hexagons, so :func:`stikstofcalc.assessment.many.assess_many` can drive
    the searches of many cases in lock step with one engine call per round. Within
    :func:`reporting_progress` a long round is computed in parts and reported.

    The rounds share the sources' kernel tables (a
    :class:`~stikstofcalc.deposition.fast.table_cache` around the search): a search asks
    for the same sources two to eight times, and a large source list's tables take
    longer to build than the kernel takes to use them (lb_north, 21,012 distinct
    sources: 8 x 8 s of tables without the cache).
    """
    with table_cache():
        try:
            request = next(steps)
            while True:
                search, idx = request
                request = steps.send(_evaluate_reported(search, idx))
        except StopIteration as stop:
            return stop.value


#: The progress listener of this thread (:func:`reporting_progress`), or None.
_PROGRESS: contextvars.ContextVar = contextvars.ContextVar("stikstofcalc_search_progress", default=None)
#: Hexagons per engine call while a listener is set: a round of more is computed in parts
#: of this size (per hexagon the same numbers: each hexagon's sum does not depend on the
#: others) so that the listener hears how far it is.
PROGRESS_PART = 2_000


@contextlib.contextmanager
def reporting_progress(report):
    """Within this block every :func:`drive` (``assess_project``, ``assess_source_list``)
    calls ``report(done, total)`` after each part of an engine round of more than
    :data:`PROGRESS_PART` hexagons (``done`` of ``total`` hexagons of that round), and
    ``report(total, total)`` when the round ends. For the command line's progress line.
    A ``report`` with a ``step`` method also hears the preparation steps of a large source
    list (:func:`stikstofcalc.deposition.progress.report_step`: ``step(label, done, total)``
    in source elements)."""
    token = _PROGRESS.set(report)
    step = getattr(report, "step", None)  # and the preparation steps, for a listener that has them
    try:
        with listening(step) if step is not None else contextlib.nullcontext():
            yield
    finally:
        _PROGRESS.reset(token)


def _evaluate_reported(search, idx):
    report = _PROGRESS.get()
    if report is None or idx is None or len(idx) <= PROGRESS_PART:
        return search.evaluate(idx)
    parts = []
    with table_cache():  # the parts share the sources' kernel tables
        for a in range(0, len(idx), PROGRESS_PART):
            parts.append(np.asarray(search.evaluate(idx[a:a + PROGRESS_PART])))
            report(min(a + PROGRESS_PART, len(idx)), len(idx))
    return np.concatenate(parts, axis=1)


def pruned_search(weights, bounds, evaluate, *, relevant=None, count_level=None,
                  seed: int = SEED_PER_SCENARIO) -> Search:
    """Evaluate only the hexagons that can hold a scenario's maximum (see :func:`pruned_search_steps`)."""
    return drive(pruned_search_steps(weights, bounds, evaluate, relevant=relevant,
                                     count_level=count_level, seed=seed))


def pruned_search_steps(weights, bounds, evaluate, *, relevant=None, count_level=None,
                        seed: int = SEED_PER_SCENARIO, points=None):
    """Evaluate only the hexagons that can hold a scenario's maximum (or exceed a level).

    Parameters
    ----------
    weights : ndarray, shape (n_scenarios, n_fields)
        Emission of each field per scenario [kg/yr], >= 0.
    bounds : ndarray, shape (n_fields, n)
        Upper bound of the unit deposition per hexagon (:func:`upper_bounds`).
    evaluate : callable
        ``evaluate(idx) -> (n_fields, len(idx))`` exact unit deposition.
    relevant : ndarray of bool, shape (n,), optional
        Hexagons that count (default all).
    count_level : ndarray, shape (n_scenarios,), optional
        Also evaluate every hexagon whose bound reaches this level (the threshold, so
        the hexagons above it are counted exactly); ``inf`` = maximum only.
    seed : int
        Hexagons with the largest bound evaluated first, per scenario.

    Returns
    -------
    Search
        Every hexagon not evaluated has a bound below each scenario's exact maximum
        (and below its count level): it can be neither the maximum nor above the level.
    """
    w = np.asarray(weights, float)
    n = bounds.shape[1]
    rel = np.ones(n, bool) if relevant is None else np.asarray(relevant, bool)
    level_cap = np.full(w.shape[0], np.inf) if count_level is None else np.asarray(count_level, float)
    b = w @ bounds
    b[:, ~rel] = -np.inf
    s = Search(np.zeros(bounds.shape), np.zeros(n, bool), bounds, rel, evaluate, points=points)
    if n == 0:
        return s
    first = seed_mask(b, min(seed, n))
    yield from s.run_steps(first & rel)
    # The levels only rise as hexagons are evaluated, so a hexagon that is no candidate
    # never becomes one again: after the first pass only the remaining pool is checked
    # (the same comparisons; a full pass again if a level ever fell).
    pool, last = None, None
    while True:
        level = np.minimum(s.maxima(w), level_cap)
        if pool is None or np.any(level < last):
            # (b >= level) & (b > 0) per scenario: b >= level alone where level > 0
            hit = np.zeros(n, bool)
            for row, lv in zip(b, level):
                hit |= (row >= lv) if lv > 0 else (row >= lv) & (row > 0)
            pool = np.flatnonzero(hit & ~s.done)
        else:
            pool = pool[~s.done[pool]]
            bp = b[:, pool]
            pool = pool[np.any((bp >= level[:, None]) & (bp > 0), axis=0)]
        last = level
        if not pool.size:
            return s
        cand = np.zeros(n, bool)
        cand[pool] = True
        yield from s.run_steps(cand)


def seed_mask(b, k: int, *, compiled: bool | None = None) -> np.ndarray:
    """Hexagons among the ``k`` largest of some row of ``b`` (n_scenarios, n), as a mask.

    Compiled (``_search_nb``, a heap per row) or with ``numpy.argpartition``
    (``compiled=None``: as :mod:`stikstofcalc.compiled` says); the two differ only in
    which of equal values they take, which changes no result (the search is exact from
    any seed)."""
    b = np.ascontiguousarray(b, dtype=float)
    out = np.zeros(b.shape[1], bool)
    if k <= 0 or b.shape[0] == 0:
        return out
    if compiled is None:
        compiled = compiled_paths.enabled()
    if compiled:
        from stikstofcalc.assessment._search_nb import top_k_mask

        top_k_mask(b, int(k), out)
    else:
        out[np.argpartition(-b, k - 1, axis=1)[:, :k].ravel()] = True
    return out


def group_headroom(search: Search, group_w, other_w, *, threshold: float) -> float:
    """Largest factor on one source group with the others fixed (:func:`group_headroom_steps`)."""
    return drive(group_headroom_steps(search, group_w, other_w, threshold=threshold))


def group_headroom_steps(search: Search, group_w, other_w, *, threshold: float):
    """Largest factor on one source group with the others fixed that keeps 0,00.

    Evaluates further hexagons until the bounds prove none of the rest binds:
    ``other_bound + s * group_bound < threshold`` for every hexagon not evaluated.
    Returns ``inf`` when the group adds nothing, 0 when the others alone reach the
    threshold (:func:`stikstofcalc.rules.group_headroom_factor`).
    """
    gb, ob = group_w @ search.bounds, other_w @ search.bounds
    # s only falls as hexagons are evaluated (a minimum over more of them), and the bounds
    # are >= 0, so the candidates only shrink: after the first pass only the remaining
    # pool is checked (the same comparisons; a full pass again if s ever rose)
    pool, last = None, None
    while True:
        sel, ex = search.evaluated()
        if not sel.size:
            return float("inf")
        s = float(rules.group_headroom_factor(group_w @ ex, other_w @ ex, threshold=threshold))
        if s == 0.0:
            return s
        if pool is None or s > last:
            with np.errstate(invalid="ignore"):
                reach = ob + (gb * s if np.isfinite(s) else np.where(gb > 0, np.inf, 0.0))
            pool = np.flatnonzero((reach >= threshold) & search.relevant & ~search.done)
        else:
            pool = pool[~search.done[pool]]
            g, o = gb[pool], ob[pool]
            with np.errstate(invalid="ignore"):
                reach = o + (g * s if np.isfinite(s) else np.where(g > 0, np.inf, 0.0))
            pool = pool[reach >= threshold]
        last = s
        if not pool.size:
            return s
        cand = np.zeros(search.done.shape, bool)
        cand[pool] = True
        yield from search.run_steps(cand)


def effect_distance(env: Envelope, weights, *, threshold: float) -> np.ndarray:
    """Distance beyond which a scenario gives less than the threshold in every direction.

    Parameters
    ----------
    env : Envelope
    weights : ndarray, shape (n_scenarios, n_fields)
    threshold : float [mol N/ha/yr]

    Returns
    -------
    ndarray, shape (n_scenarios,)
        Distance from the nearest source (site or route) [m]: an upper bound at the
        resolution of the model's distance rings (factor 1.29); 0 when even on the site
        the bound stays below the threshold; at most the 25 km calculation distance.

    Notes
    -----
    All templates are put at the same distance (the nearest source), wind direction
    and land use at their worst, so a Natura 2000 hexagon at least this far from every
    source receives less than ``threshold`` from the project.
    """
    w = np.asarray(weights, float)
    nint = env.value.shape[1]
    edges = np.exp(env.log_d0 + env.dlog * np.arange(nint + 1)) / BOUND_DISTANCE_FACTOR
    total = w @ (env.value * env.area_out[:, None] * BOUND_SAFETY)  # (n_scen, nint)
    above = total >= threshold
    last = np.where(above.any(axis=1), nint - 1 - np.argmax(above[:, ::-1], axis=1), -1)
    dist = np.where(last >= 0, edges[np.minimum(last + 1, nint)], 0.0)
    return np.minimum(dist, DEFAULT_CUTOFF_M)


# --------------------------------------------------------------------------- measures


def _shift_years(project, years: int):
    c = project.construction
    start = c.start.replace(year=c.start.year + years)
    end = None if c.end is None else c.end.replace(year=c.end.year + years)
    use = project.use if project.use.year is None else dataclasses.replace(
        project.use, year=project.use.year + years)
    return dataclasses.replace(project, construction=dataclasses.replace(c, start=start, end=end),
                               use=use)


def _machines(project, change):
    comps = tuple(c if c.machines is None else dataclasses.replace(
        c, machines=tuple(change(m) for m in c.machines)) for c in project.components)
    return dataclasses.replace(project, components=comps)


_DIESEL_OLD = {"AUB_A", "AUB_B", "AUB_C"}
_ZERO = {"ELEKTRISCH", "WATERSTOF_BRANDSTOFCEL"}


def _stage_v(project):
    p = dataclasses.replace(project, construction=dataclasses.replace(project.construction,
                                                                      fleet="stage_v"))
    return _machines(p, lambda m: dataclasses.replace(m, category="AUB_D", adblue_l=None)
                     if m.category in _DIESEL_OLD else m)


def _electric(project):
    p = dataclasses.replace(project, construction=dataclasses.replace(project.construction,
                                                                      electric_share=1.0))
    return _machines(p, lambda m: m if m.category in _ZERO else dataclasses.replace(
        m, category="ELEKTRISCH", fuel_l=0.0, adblue_l=0.0, hours_h=m.hours_h or 0.0))


#: Standard measures: name -> (Dutch description, project transform or None, table transform).
MEASURES = {
    "stage_v": ("alle diesel-werktuigen Stage V (AUB-groep D)", _stage_v, None),
    "elektrisch": ("volledig elektrisch materieel", _electric, None),
    "bouwverkeer_half": ("bouwverkeer gehalveerd", None, "halve_construction_traffic"),
    "later_starten": ("start een jaar later", lambda p: _shift_years(p, 1), None),
}


def _halve_construction_traffic(table):
    t = table.copy()
    m = t["source_kind"] == "construction_traffic"
    for c in ("nox_kg_per_yr", "nh3_kg_per_yr", "vehicles_per_year"):
        t.loc[m, c] = t.loc[m, c] * 0.5
    return t


# --------------------------------------------------------------------------- the assessment


@dataclass
class Assessment:
    """Result of :func:`assess_project` (see ``docs/assessment.md`` for every field)."""

    case: str
    regime: rules.Regime
    #: one typed, frozen :class:`~stikstofcalc.assessment.results.PhaseResult` per phase and year
    results: list[PhaseResult]
    measures: list
    reference: dict | None
    receptors: dict
    provenance: dict | None
    notes: list = field(default_factory=list)
    #: deposition per hexagon, phase and year (``per_hexagon=True``; :func:`hexagon_table`)
    hexagons: pd.DataFrame | None = None

    def to_dict(self) -> dict:
        """JSON-ready dict (schema ``stikstofcalc.calc/1``)."""
        return {"schema": "stikstofcalc.calc/1", "case": self.case, "regime": self.regime.name,
                "results": [r.to_dict() for r in self.results], "measures": self.measures, "reference": self.reference,
                "receptors": self.receptors, "notes": self.notes, "provenance": self.provenance}

    def to_frame(self) -> pd.DataFrame:
        """One row per phase and year (measure ``plan``) and per measure, phase and year."""
        rows = []
        for r in self.results:
            flat = {k: v for k, v in r.to_dict().items() if not isinstance(v, (list, dict))}
            dom = r["dominant_sources"]
            flat["dominant_source"] = dom[0]["source"] if dom else None
            flat["dominant_share"] = dom[0]["share"] if dom else None
            for k, v in r["headroom"].items():
                flat[f"headroom_{k}"] = v
            flat.update(check_columns(r))
            rows.append({"case": self.case, "measure": "plan", **flat})
        for m in self.measures:
            rows.append({"case": self.case, **m})
        return pd.DataFrame(rows)


def to_rd(project):
    """A project with RD coordinates (WGS84 location converted, routes rebuilt)."""
    loc = project.location
    if loc.x is not None or loc.lat is None:
        return project
    x, y = wgs84_to_rd(loc.lat, loc.lon)
    raw = dict(project.raw)
    raw["location"] = {k: v for k, v in raw["location"].items() if k not in ("lat", "lon")}
    raw["location"].update(x=float(x), y=float(y))
    return parse_project(raw, file=project.file)


def receptor_set(templates, receptors, margin):
    """Default receptors (N2K hexagons within 25 km) or the user's, collapsed per hexagon.

    The default set comes as a dict of column arrays, the user's as a DataFrame (both
    have ``receptor_id``, ``x``, ``y``, ``n2k_number``, ``area_name``, ``relevant``)."""
    if receptors is None:  # columns as arrays (no DataFrame: 0.3 ms less per case)
        x, y, xe, ye = templates.source_points()
        rec = default_receptor_arrays(x, y, xe, ye)
        notes = rec.pop("notes")
        rec["relevant"] = np.ones(rec["x"].shape[0], bool)
        return rec, {"source": "default", "notes": list(notes)}
    path = None
    if not isinstance(receptors, pd.DataFrame):
        path = str(receptors)
        receptors = read_receptor_file(receptors, margin=margin)
    unused = list(receptors.attrs.get("unused_columns", []))
    rec = collapse_receptors(receptors)
    n2k = load_natura2000()
    rec["n2k_number"] = n2k.area_of(rec["receptor_id"].to_numpy()).astype(np.int64)
    if "area_name" not in rec:
        rec["area_name"] = n2k.area_names(rec["n2k_number"].to_numpy())
    rec["area_name"] = rec["area_name"].fillna("").astype(str)
    empty = rec["area_name"] == ""
    rec.loc[empty, "area_name"] = n2k.area_names(rec.loc[empty, "n2k_number"].to_numpy())
    notes = [f"rekenpunten uit het bestand {path}" if path else "rekenpunten van de aanroeper"]
    if unused:
        notes.append(f"kolom(men) {', '.join(unused)} van het receptorbestand niet gebruikt (gelezen: "
                     "receptor_id, x, y, lat, lon, kdw, background_deposition, exceeding, "
                     "area_name, habitat, z0_m, landuse, lu_1..lu_9)")
    terrain_notes, terrain_counts = receptor_terrain(rec)
    notes.extend(terrain_notes)
    if len(rec) and len(templates) and (template_distances(templates, rec["x"].to_numpy(float),
                                                           rec["y"].to_numpy(float))[0].min() > DEFAULT_CUTOFF_M):
        notes.append(f"let op: geen van de {len(rec)} opgegeven rekenpunten ligt binnen "
                     f"{DEFAULT_CUTOFF_M / 1000:g} km van een bron, dus de depositie is er 0; "
                     "controleer of het receptorbestand bij dit project hoort")
    if not rec["relevant"].all():
        notes.append(f"{int((~rec['relevant']).sum())} hexagon(s) niet (bijna) overbelast "
                     "(achtergrond <= KDW - 70): getoond, telt niet mee voor het oordeel")
    info = {"source": path or "table", "notes": notes}
    if terrain_counts is not None:  # also apart: the batch's result rows carry these notes
        info["terrain"] = terrain_counts
        info["terrain_notes"] = terrain_notes
    return rec, info


def receptor_terrain(rec) -> tuple[list, dict | None]:
    """What terrain the hexagons of a user's receptor file got from the file itself: the
    report's notes and the provenance's counts (None when the file gives none)."""
    surface = receptor_surface(rec)
    if surface is None:
        return [], None
    z0 = surface[0]
    n = len(rec)
    n_z0, n_lu = int(np.isfinite(z0).sum()), int(own_landuse(surface).sum())
    if n_z0 == 0 and n_lu == 0:
        return [], None
    lo, hi = z0_model_range()
    below, above = int((z0 < lo).sum()), int((z0 > hi).sum())
    info = {"hexagons": n, "z0_m_given": n_z0, "landuse_given": n_lu, "z0_m_below_model": below,
            "z0_m_above_model": above, "z0_model_range_m": [lo, hi]}
    uniform = engine_terrain() != "map"
    notes = [f"terrein uit het receptorbestand: eigen ruwheid (z0_m) bij {n_z0} en eigen landgebruik "
             f"(landuse of lu_1..lu_9) bij {n_lu} van de {n} hexagon(s); de overige uit de ruwheidskaart"
             + (" (uniform terrein: z0_m niet gebruikt)" if uniform else "")]
    if not uniform:  # with uniform terrain no receptor z0 is used, so none is clamped
        notes.extend(z0_range_notes(z0, "hexagon(s)", warning="let op: "))
    return notes, info


def template_weights(table, tidx, n_fields):
    """Emission of each field per row -> (n_rows, n_fields)."""
    w = np.zeros((len(table), n_fields))
    r = np.arange(len(table))
    w[r, 2 * tidx] = table["nox_kg_per_yr"].to_numpy(float)
    w[r, 2 * tidx + 1] = table["nh3_kg_per_yr"].to_numpy(float)
    return w


@dataclass
class _RowInfo:
    """What the results need of an emission table's rows, as arrays (no pandas per scenario)."""

    groups: np.ndarray
    kind: np.ndarray
    hours_h: np.ndarray
    vehicles_per_year: np.ndarray
    gas_m3: np.ndarray
    uses_estimate: np.ndarray

    @classmethod
    def of(cls, table):
        def num(col):
            return table[col].to_numpy(float) if col in table else np.full(len(table), np.nan)
        return cls(_group_names(table), table["source_kind"].to_numpy(object), num("hours_h"),
                   num("vehicles_per_year"), num("gas_m3"), table["uses_estimate"].to_numpy(bool))

    def take(self, idx):
        return _RowInfo(*(a[idx] for a in (self.groups, self.kind, self.hours_h,
                                           self.vehicles_per_year, self.gas_m3, self.uses_estimate)))


#: Order of the phases in every output: realisation, use, reference.
PHASE_ORDER = {"realisatie": 0, "gebruik": 1, "referentie": 2}


def _phase_years(table) -> dict:
    """Rows per (phase, year), realisatiefase before gebruiksfase and years ascending (so a
    list of AERIUS files reads in that order whatever the file names' order)."""
    out: dict = {}
    for i, key in enumerate(zip(table["phase"].tolist(), table["year"].tolist())):
        out.setdefault(key, []).append(i)
    order = sorted(out, key=lambda k: (PHASE_ORDER.get(k[0], len(PHASE_ORDER)), int(k[1])))
    return {k: np.array(out[k], dtype=np.intp) for k in order}


def _nansum(a) -> float:
    """Sum skipping NaN, as pandas' ``Series.sum`` gives it (NaN -> 0, then the sum)."""
    return float(np.nansum(np.asarray(a, float))) if len(a) else 0.0


#: How a group of a large source list's sources is named (``source_list.merged_tables``).
SOURCE_GROUP_PREFIX = "groep van "
#: Dutch names of the geometry kinds, for labels.
GEOMETRY_NL = {"point": "punt", "linestring": "lijn", "polygon": "vlak"}


def _group_names(table):
    kind, cat = table["source_kind"].tolist(), table["category"].tolist()
    comp = ["" if pd.isna(p) else p for p in table["component"].tolist()]
    out = []
    for k, c, p, lab in zip(kind, cat, comp, table["label"].tolist()):
        if k == "machinery":
            out.append(f"mobiele werktuigen ({p})" if p else "mobiele werktuigen")
        elif k in ("construction_traffic", "use_traffic"):
            out.append(f"{KIND_LABEL[k]}: {VEHICLE_LABEL.get(c, c)}")
        elif k == "heating":
            out.append(f"verwarming ({p})")
        elif k == "bron":  # a source read from a source list or an IMAER file (or a group of them)
            out.append(lab if lab.startswith(SOURCE_GROUP_PREFIX) else f"bron {lab}")
        else:
            out.append(f"referentie: {lab}")
    return np.array(out, dtype=object)


def assess_project(project, *, regime=None, receptors=None, netted: bool = False,
                   measures: bool = True, prune: bool = True, kengetallen=None,
                   receptor_margin: float | None = None, plan=None, machinery_heat=None,
                   sensitivity: bool = True, per_hexagon: bool = False) -> Assessment:
    """Assess one project: per phase and calendar year the verdict (:func:`assess_project_steps`)."""
    return drive(assess_project_steps(project, regime=regime, receptors=receptors, netted=netted,
                                      measures=measures, prune=prune, kengetallen=kengetallen,
                                      receptor_margin=receptor_margin, plan=plan,
                                      machinery_heat=machinery_heat, sensitivity=sensitivity,
                                      per_hexagon=per_hexagon))


def assess_project_steps(project, *, regime=None, receptors=None, netted: bool = False,
                         measures: bool = True, prune: bool = True, kengetallen=None,
                         receptor_margin: float | None = None, plan=None, provenance: bool = True,
                         machinery_heat=None, sensitivity: bool = True, per_hexagon: bool = False):
    """Assess one project: per phase and calendar year the verdict, margin and headroom.

    Parameters
    ----------
    project : Project or path
        A validated project (:func:`stikstofcalc.emissions.project.read_project`) or a TOML path.
    regime : str or Regime, keyword-only
        ``post-porthos`` (default), ``bouwvrijstelling`` or ``ondergrens-1mol``.
    receptors : path or DataFrame, keyword-only
        The user's receptor set (:func:`stikstofcalc.geo.receptors.read_receptor_file`);
        default: Natura 2000 hexagons within 25 km (a screening approximation).
    netted : bool, keyword-only
        Also show the use phase netted against the reference situation (for a permit
        application; never changes the post-Porthos verdict).
    measures : bool, keyword-only
        Compute the standard measures (:data:`MEASURES`).
    prune : bool, keyword-only
        Use the bounds to skip hexagons (False: evaluate every hexagon; same answer).
    kengetallen : Kengetallen, keyword-only
        Key figures (default: the edition the project names).
    plan : DataFrame, keyword-only
        The project's emission-source table when the caller already has it
        (``inventory.emission_sources(project, kengetallen=...)``, the same key figures);
        default: computed here.
    provenance : bool, keyword-only
        Fill ``Assessment.provenance`` (False: ``None``; the batch records its
        provenance once, in ``herkomst``, and skips this per case). The report
        (``report.format_report``) and the maps read it: keep the default for them.
    machinery_heat : str, keyword-only
        Heat content of mobile machinery: ``conservatief`` (0 MW) or ``instructie``
        (AERIUS instruction table); default the project's ``construction.werktuig_warmte``,
        else ``conservatief`` (:data:`stikstofcalc.emissions.sources.MACHINERY_HEAT`).
    sensitivity : bool, keyword-only
        Also compute every phase and year with the other machinery heat content
        (``result["sensitivity"]``: its largest deposition and whether the verdict differs).
    per_hexagon : bool, keyword-only
        Evaluate every hexagon and keep the deposition per hexagon, phase and year in
        ``Assessment.hexagons`` (:func:`hexagon_table`).

    Returns
    -------
    generator
        Yields ``(search, idx)`` requests for exact unit deposition (:func:`drive`
        answers them one by one, ``assessment_many`` many cases at once) and returns
        the Assessment.
    """
    if not isinstance(project, Project):
        project = read_project(project)
    reg = rules.get_regime(regime)
    project = to_rd(project)
    check_site(project)
    kg = kengetallen if kengetallen is not None else kengetallen_for(project)
    if plan is None:
        plan = inventory.emission_sources(project, kengetallen=kg)
    # a view without attrs: pandas deep-copies attrs (the provenance) on every operation
    plan = plan.copy(deep=False)
    plan.attrs = {}
    heat = machinery_heat_choice(machinery_heat, project)
    plan = apply_machinery_heat(plan, kg, heat)
    tables = {"plan": plan}
    if measures:
        for name, (_, ptrans, ttrans) in MEASURES.items():
            if ptrans is not None:
                try:
                    tables[name] = inventory.emission_sources(ptrans(project), kengetallen=kg)
                except InputError:  # a measure that does not apply to this project
                    continue
            else:
                tables[name] = _halve_construction_traffic(plan)
            tables[name] = apply_machinery_heat(tables[name], kg, heat)
    alt_heat = other_machinery_heat(heat)
    if sensitivity:  # the same plan with the other machinery heat content (when it differs)
        alt = apply_machinery_heat(plan, kg, alt_heat)
        if alt is not plan:
            tables[SENSITIVITY] = alt
    keys = {name: row_keys(t, project) for name, t in tables.items()}
    return (yield from assess_tables_steps(
        project.name, tables, keys, reg=reg, kg=kg, receptors=receptors,
        receptor_margin=receptor_margin, prune=prune, netted=netted, sensitivity=sensitivity,
        heat=heat, alt_heat=alt_heat, provenance=provenance,
        site_notes=lambda: fallback_notes(plan) + _site_notes(project), per_hexagon=per_hexagon))


def assess_tables_steps(case_name, tables, keys, *, reg, kg, receptors, receptor_margin, prune, netted,
                         sensitivity, heat, alt_heat, provenance, site_notes, per_hexagon=False,
                         templates=None):
    """The assessment of emission tables with their template keys (projects and source lists).

    ``tables`` maps ``plan`` (and measures, :data:`SENSITIVITY`) to emission tables with
    the inventory's columns; ``keys`` gives every row's template key
    (:func:`stikstofcalc.emissions.sources.row_keys` or :func:`stikstofcalc.assessment.source_list.row_keys`).
    """
    if templates is None:
        templates = build_templates([k for ks in keys.values() for k in ks])
    n_f = 2 * len(templates)

    # scenarios: (measure, phase, year) -> weight vector; rows per scenario for groups
    scen, scen_rows, plan_info = [], [], None
    for name, t in tables.items():
        w = template_weights(t, templates.index(keys[name]), n_f)
        info = _RowInfo.of(t) if name == "plan" else None
        plan_info = info if name == "plan" else plan_info
        for (phase, year), idx in _phase_years(t).items():
            if name != "plan" and phase == "referentie":
                continue
            scen.append((name, phase, int(year)))
            scen_rows.append((None if info is None else info.take(idx), w[idx]))
    W = np.array([rw.sum(axis=0) for _, rw in scen_rows]).reshape(len(scen), n_f)

    rec, rec_info = receptor_set(templates, receptors, receptor_margin)
    rx, ry = np.asarray(rec["x"], float), np.asarray(rec["y"], float)
    relevant = np.asarray(rec["relevant"], bool)
    surface = receptor_surface(rec) if isinstance(rec, pd.DataFrame) else None
    rec = _Receptors(rec)
    env = yield (EnvelopeRequest(templates), None)
    bounds = upper_bounds(templates, rx, ry, env, surface) if prune else np.full((n_f, len(rec)), 1e30)
    if prune:
        near = near_source_hexagons(templates, rx, ry)
        if near.any():  # sub-receptors may lie nearer to a source than the centre
            top = env.value[:, 0] * np.maximum(env.area_in, env.area_out) * BOUND_SAFETY  # any distance
            bounds[:, near] = np.maximum(bounds[:, near], top[:, None])
    thr = reg.threshold_mol_ha_yr
    count = np.array([thr if s[0] == "plan" and s[1] != "referentie" else np.inf for s in scen])
    search = yield from pruned_search_steps(
        W, bounds, lambda idx: unit_deposition(templates, rx[idx], ry[idx], surface=take_surface(surface, idx)),
        relevant=relevant, count_level=count, points=(templates, rx, ry, surface))
    if not prune or per_hexagon or (len(rec) and not relevant.any()):
        # (no relevant hexagon: the largest value on the others is shown, it does not count)
        yield from search.run_steps(np.ones(len(rec), bool))

    plan_idx = [i for i, s in enumerate(scen) if s[0] == "plan" and s[1] != "referentie"]
    ref_idx = [i for i, s in enumerate(scen) if s[0] == "plan" and s[1] == "referentie"]
    use_idx = [i for i in plan_idx if scen[i][1] == "gebruik"]
    if ref_idx and use_idx and (netted or reg.netting_avoids_permit):
        yield from _refine_netted(search, W[use_idx[0]], W[ref_idx[0]])
    eff = effect_distance(env, W, threshold=thr)
    notes = list(templates.notes) + list(site_notes())
    band = borderline_band(kg, thr)
    at = {s: i for i, s in enumerate(scen)}
    # the default receptors lack Waddenzee and Noordzeekustzone: their envelope qualifies a
    # "geen vergunning nodig" of a project near them (stikstofcalc.geo.unassessed)
    measure_idx = [i for i, s in enumerate(scen) if s[0] != "plan" and s[1] != "referentie"
                   and not s[0].startswith("_")]
    off_data = None
    if receptors is None:  # only as far as the project can reach the band's lower edge at all
        reach = float(effect_distance(env, W[plan_idx + measure_idx], threshold=band["low"]).max()
                      ) if plan_idx + measure_idx else 0.0
        off_data = unassessed_maxima(templates, W, plan_idx + measure_idx, reach_m=reach)
    results = []
    for i in plan_idx:
        r = yield from _phase_result(
            search, scen[i], scen_rows[i], W, i, reg, rec, eff[i], thr,
            ref=(W[ref_idx[0]] if ref_idx and scen[i][1] == "gebruik" else None), netted=netted)
        _add_borderline(r, band, empty=len(rec) == 0)
        if sensitivity:
            alt_i = at.get((SENSITIVITY, scen[i][1], scen[i][2]))
            if alt_i is not None and np.array_equal(W[alt_i], W[i]):
                alt_i = None  # no machinery in this phase and year: the same numbers
            _add_sensitivity(r, search, W, alt_i, rec, reg, heat, alt_heat, band)
        if off_data is not None:
            _add_unassessed(r, off_data[i], band)
        results.append(PhaseResult.from_dict(r))
    reference = None
    if ref_idx:
        i = ref_idx[0]
        mx, pos = _max_of(search, W[i], rec)
        reference = {"year": scen[i][2], "nox_kg_per_yr": float(W[i][0::2].sum()),
                     "nh3_kg_per_yr": float(W[i][1::2].sum()), "max_deposition": mx,
                     "max_rounded": float(rules.aerius_round(mx)), **pos,
                     "note": "referentiesituatie: berekend en getoond; vermindert het oordeel niet "
                             "(intern salderen sinds 18 dec 2024 niet meer toegestaan om een "
                             "vergunningplicht te vermijden)"}
    measure_rows = _measure_rows(search, scen, W, reg, rec, thr, band, off_data)
    if len(rec) == 0:
        notes.append("geen Natura 2000-gebied binnen 25 km van de bronnen: geen depositie "
                     "binnen de rekenafstand, geen vergunning nodig voor stikstof")
    rec_info.update(count=int(len(rec)), relevant=int(relevant.sum()),
                    evaluated=int(search.done.sum()), engine_calls=search.evaluations,
                    pruned=bool(prune))
    prov = (_provenance(__version__, kg, reg, rec_info, plan_info, tables["plan"], templates)
            if provenance else None)
    if prov is not None:
        prov.update(verdict_provenance(kg, heat, band))
    out = Assessment(case_name, reg, results, measure_rows, reference, rec_info, prov, notes)
    if per_hexagon:
        out.hexagons = hexagon_table(search, [scen[i] for i in plan_idx + ref_idx],
                                     W[plan_idx + ref_idx], rec.table, relevant)
    return out


def _site_notes(project) -> list:
    """A note when the site point lies inside a Natura 2000 area (hexagon resolution)."""
    n2k = load_natura2000()
    num = int(n2k.area_at(project.location.x, project.location.y))
    if num == 0:
        return []
    return [f"de projectlocatie ligt in Natura 2000-gebied {n2k.area_names(num)} ({num}): "
            "depositie op en direct naast het terrein telt mee"]


def _refine_netted(search, plan_w, ref_w):
    """Evaluate until the netted maximum ``max(plan - reference)`` is exact.

    The reference has no useful lower bound, so a hexagon can be skipped only when the
    plan's bound alone stays below the netted maximum found so far (or below 0).
    """
    pb = plan_w @ search.bounds
    while True:
        sel, ex = search.evaluated()
        best = float(((plan_w - ref_w) @ ex).max()) if sel.size else 0.0
        cand = ~search.done & search.relevant & (pb >= max(best, 0.0)) & (pb > 0)
        if not cand.any():
            return
        yield from search.run_steps(cand)


def _max_of(search, w, rec, *, relevant: bool = True):
    """Largest exact deposition of weight vector ``w`` and where (None-safe); over every
    evaluated hexagon with ``relevant=False``."""
    sel, ex = search.evaluated(relevant)
    if sel.size == 0:
        return 0.0, {"receptor_id": None, "x": None, "y": None, "area_name": None, "n2k_number": None}
    d = w @ ex
    j = sel[int(np.argmax(d))]
    return float(d.max()), _where(rec, j)


def _where(rec, j):
    r = rec.row(j)
    return {"receptor_id": int(r["receptor_id"]), "x": round(float(r["x"]), 2),
            "y": round(float(r["y"]), 2), "area_name": str(r["area_name"]),
            "n2k_number": int(r["n2k_number"]) if pd.notna(r.get("n2k_number")) else None}


class _Receptors:
    """The receptor table with its columns as arrays for :func:`_where` (no pandas row per lookup).

    ``len`` and ``row(j)`` (a dict of the columns :func:`_where` reads) are all the
    results need of the table.
    """

    _COLUMNS = ("receptor_id", "x", "y", "area_name", "n2k_number")

    def __init__(self, table):  # DataFrame or dict of column arrays
        self.table = table
        self._cols = None
        self._n = len(table["x"])

    def __len__(self):
        return self._n

    def row(self, j) -> dict:
        if self._cols is None:
            t = self.table
            self._cols = {c: np.asarray(t[c]) for c in self._COLUMNS if c in t}
        return {c: a[j] for c, a in self._cols.items()}


def _phase_result(search, scen, rows_w, W, i, reg, rec, eff, thr, *, ref, netted):
    name, phase, year = scen
    rows, rw = rows_w
    sel, ex = search.evaluated(relevant=False)
    dep = W[i] @ ex
    ref_dep = None if ref is None else ref @ ex
    v = rules.assess(dep, phase=phase, regime=reg, relevant=search.relevant[sel],
                     reference_deposition=ref_dep, show_netted=netted)
    mx = float(v.max_deposition)
    where = _where(rec, sel[int(v.index)]) if int(v.index) >= 0 else _max_of(search, W[i], rec)[1]
    if not mx > 0:  # no deposition anywhere (no emission): no hexagon is "the largest"
        where = {k: None for k in where}
    groups = rows.groups
    dominant, head = [], {}
    if int(v.index) >= 0 and mx > 0:
        at = search.exact[:, sel[int(v.index)]]
        contrib = rw @ at
        gnames = list(dict.fromkeys(groups))
        gdep = np.array([contrib[groups == g].sum() for g in gnames])
        order = np.argsort(-gdep)
        dominant = [{"source": gnames[k], "deposition": float(gdep[k]),
                     "share": float(gdep[k] / mx)} for k in order[:3] if gdep[k] > 0]
        head = yield from _headroom(search, rows, rw, groups, gnames[order[0]], W[i], mx, thr)
    nox, nh3 = float(W[i][0::2].sum()), float(W[i][1::2].sum())
    factor = float(v.margin_factor)
    head.update(factor=factor, nox_kg_per_yr=nox * factor if np.isfinite(factor) else None,
                nh3_kg_per_yr=nh3 * factor if np.isfinite(factor) else None)
    notes = list(v.notes)
    if len(rec) == 0:
        verdict = rules.NO_AREA_VERDICT
    elif not search.relevant.any():
        verdict = rules.NO_RELEVANT_VERDICT
        top, at = _max_of(search, W[i], rec, relevant=False)
        if at["receptor_id"] is not None:
            notes.append(f"hoogste depositie op een niet-relevante hexagon: {nl_num(top, 4)} mol N/ha/jr "
                         f"(receptor {at['receptor_id']}); telt niet mee voor het oordeel")
    elif v.exempt:
        verdict = "vrijgesteld (bouwvrijstelling, art. 2.9a Wnb; regime niet meer geldig)"
    elif bool(v.permit_needed):
        verdict = "vergunningplichtig: depositie boven de drempel"
    else:
        verdict = "geen vergunning nodig voor stikstof (depositie onder de drempel)"
    if not reg.in_force:  # a proposal: the verdict itself says so (CSV, batch, JSON carry it)
        verdict += (f"; LET OP: regime {reg.name!r} is niet van kracht, onder de huidige regels "
                    f"({rules.DEFAULT_REGIME}) geldt een drempel van 0,005 mol N/ha/jr")
    return {
        "phase": phase, "phase_label": PHASE_LABEL[phase], "year": year,
        "nox_kg_per_yr": nox, "nh3_kg_per_yr": nh3,
        "max_deposition": mx, "max_rounded": float(v.max_rounded),
        "max_display": str(rules.format_deposition(mx)[0]), **where,
        "n_hexagons_above": int(v.n_hexagons_above), "hectares_above": float(v.n_hexagons_above),
        "permit_needed": bool(v.permit_needed), "exempt": bool(v.exempt), "verdict": verdict,
        "threshold": thr, "margin_factor": factor,
        "effect_distance_m": float(eff),
        "netted_max": None if v.netted_max is None else float(v.netted_max),
        "dominant_sources": dominant, "headroom": head, "notes": notes,
        "uses_estimate": bool(rows.uses_estimate.any()),
    }


def _headroom(search, rows, rw, groups, dominant, w_all, mx, thr):
    """Headroom of the dominant source group with the others fixed, in its own units."""
    mine = groups == dominant
    gw = rw[mine].sum(axis=0)
    s = yield from group_headroom_steps(search, gw, w_all - gw, threshold=thr)
    kind = rows.kind[mine][0]
    if kind == "machinery":
        qty, unit = _nansum(rows.hours_h[mine]), "machine-uren per jaar"
    elif kind in ("construction_traffic", "use_traffic"):
        qty, unit = _nansum(rows.vehicles_per_year[mine]), "voertuigbewegingen per jaar"
    elif kind == "heating":
        qty, unit = _nansum(rows.gas_m3[mine]), "m3 aardgas per jaar"
    else:  # no activity unit: the headroom is in kg/yr only (below); None, never NaN
        qty, unit = None, ""
    if kind == "bron":  # a source read from a list: no activity units (kg/yr below)
        dominant = None
    fin = np.isfinite(s)
    f_all = float(rules.margin_factor(mx, threshold=thr))
    has = qty is not None
    return {"source": dominant, "unit": unit, "current": qty,
            "allowed_all_scaled": qty * f_all if has and np.isfinite(f_all) else None,
            "source_factor": s if fin else None,
            "allowed_source_only": qty * s if has and fin else None,
            "source_nox_kg_per_yr": float(gw[0::2].sum() * s) if fin else None,
            "source_nh3_kg_per_yr": float(gw[1::2].sum() * s) if fin else None}


def _measure_rows(search, scen, W, reg, rec, thr, band, off_data=None):
    """The standard measures' largest deposition per phase and year, with the verdict and
    whether it is a grensgeval (within the band, or the envelope of the areas the data lacks
    reaching the band: "haalt 0,00" is then not certain)."""
    out = []
    for i, (name, phase, year) in enumerate(scen):
        if name == "plan" or phase == "referentie" or name.startswith("_"):
            continue
        mx, where = _max_of(search, W[i], rec)
        exempt = reg.construction_exempt and phase == "realisatie"
        out.append({"measure": name, "description": MEASURES[name][0], "phase": phase,
                    "phase_label": PHASE_LABEL[phase], "year": year,
                    "nox_kg_per_yr": float(W[i][0::2].sum()), "nh3_kg_per_yr": float(W[i][1::2].sum()),
                    "max_deposition": mx, "max_rounded": float(rules.aerius_round(mx)),
                    "max_display": str(rules.format_deposition(mx)[0]),
                    "permit_needed": bool(rules.permit_needed(mx, threshold=thr)) and not exempt,
                    "borderline": bool(len(rec) and not exempt and (
                        band["low"] <= mx < band["high"]
                        or (off_data is not None and mx < thr and off_data[i][0] >= band["low"]))),
                    "receptor_id": where["receptor_id"], "area_name": where["area_name"]})
    return out


@cached(maxsize=1)
def _data_checksums() -> dict:
    """SHA-256 of the shipped Natura 2000 files (hashed once per process)."""
    return data_checksums()


def _provenance(version, kg, reg, rec_info, info, plan, templates) -> dict:
    est = plan["provenance"].to_numpy(object)[info.uses_estimate] if info.uses_estimate.any() else []
    return {
        "package": "stikstofcalc", "version": version,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "kengetallen": kg.provenance(),
        "model": load_model().provenance,
        "terrain": {**terrain_description(engine_terrain()),
                    **({"receptor_file": rec_info["terrain"]} if "terrain" in rec_info else {})},
        "engine_path": compiled_paths.path_name(),
        "natura2000": {"attribution": ATTRIBUTION, "checksums": dict(_data_checksums())},
        "regime": {"name": reg.name, "note": reg.note, "in_force": reg.in_force,
                   "threshold_mol_ha_yr": reg.threshold_mol_ha_yr,
                   "rules": {k: {"content": rules.RULES[k].content, "source": rules.RULES[k].source,
                                 "date": rules.RULES[k].date, "status": rules.RULES[k].status}
                             for k in reg.rules}},
        "receptors": rec_info["notes"],
        "uses_estimate": bool(len(est)),
        "estimates_used": sorted(set(
            p for s in est for p in str(s).split("; ") if "[estimate" in p)),
        "sources": [{"template": i, "geometry": lab, "height_m": float(templates.height_m[i]),
                     "heat_mw": float(templates.heat_mw[i]), "spread_m": float(templates.spread_m[i])}
                    for i, lab in enumerate(templates.labels)],
        "method": "deposition per source template for 1 kg/yr (linear in emission), scaled to "
                  "each phase, year and measure; hexagons pruned by distance bounds",
    }


# --------------------------------------------------------------------------- verdict checks (issue 12)

#: Scenario name of the plan with the other machinery heat content (sensitivity).
SENSITIVITY = "_werktuig_warmte"
#: Verdict text of a borderline case (the largest deposition within the band of the threshold).
BORDERLINE_TEXT = "grensgeval: reken dit project door in AERIUS Calculator"


def borderline_band(kg, threshold: float) -> dict:
    """The band around the threshold in which the verdict is a *grensgeval*.

    The key figure ``general:model_vs_aerius/borderline_factor`` ``f`` (the measured
    agreement of the largest deposition per case with AERIUS Calculator, as a factor
    either way) gives ``threshold / f <= d < threshold * f``: there AERIUS's largest
    value may lie on the other side of the threshold [mol N/ha/yr].
    """
    fig = kg.figure("general", "model_vs_aerius", "borderline_factor")
    f = float(fig.value)
    return {"low": threshold / f, "high": threshold * f, "factor": f, "row": fig.row_id,
            "status": fig.status, "overridden": bool(fig.overridden)}


def _add_borderline(r: dict, band: dict, *, empty: bool) -> None:
    """Mark a phase result as borderline (field ``borderline``, text in ``verdict``)."""
    mx = r["max_deposition"]
    hit = (not empty) and (not r["exempt"]) and band["low"] <= mx < band["high"]
    r["borderline"] = bool(hit)
    r["borderline_band"] = [band["low"], band["high"]]
    if hit:
        side = ("boven de drempel" if r["permit_needed"] else "onder de drempel")
        low, high = (dutch_notation(f"{band[k]:.5f}") for k in ("low", "high"))
        r["verdict"] = (f"{BORDERLINE_TEXT} (hoogste depositie {side}, maar binnen de gemeten "
                        f"modelonzekerheid: {low} - {high} mol N/ha/jr); voortoets: {r['verdict']}")


def _add_sensitivity(r, search, W, alt_i, rec, reg, heat, alt_heat, band) -> None:
    """The largest deposition with the other machinery heat content (``r["sensitivity"]``)."""
    out = {"machinery_heat": heat, "alternative": alt_heat}
    if alt_i is None:  # no machinery in the project: the same numbers
        mx, permit = r["max_deposition"], r["permit_needed"]
        out["applies"] = False
    else:
        mx, _ = _max_of(search, W[alt_i], rec)
        exempt = reg.construction_exempt and r["phase"] == "realisatie"
        permit = bool(rules.permit_needed(mx, threshold=r["threshold"])) and not exempt and len(rec) > 0
        out["applies"] = True
    out.update(max_deposition=float(mx), max_rounded=float(rules.aerius_round(mx)),
               max_display=str(rules.format_deposition(mx)[0]), permit_needed=bool(permit),
               verdict_differs=bool(permit) != bool(r["permit_needed"]))
    r["sensitivity"] = out
    if out["verdict_differs"] and not r.get("borderline"):
        # the two readings of the machinery heat content straddle the threshold: whatever the
        # band says, the verdict hangs on a source characteristic AERIUS may take otherwise
        r["borderline"] = True
        r["verdict"] = (f"{BORDERLINE_TEXT} (het oordeel hangt af van de warmte-inhoud van "
                        f"mobiele werktuigen); voortoets: {r['verdict']}")
    if out["verdict_differs"]:
        r["verdict"] = (f"{r['verdict']}; LET OP: met de andere warmte-inhoud van mobiele werktuigen "
                        f"({alt_heat}) {'wel' if permit else 'geen'} vergunningplicht "
                        f"({out['max_display']})")


#: Points of the unassessed areas' envelope computed per engine call (the engine repeats the
#: points once per template: memory about templates x points rows).
_UNASSESSED_BLOCK = 2_000


def unassessed_maxima(templates: Templates, W, rows, *, reach_m: float = CALCULATION_DISTANCE_M) -> dict | None:
    """Largest deposition of scenarios ``rows`` of ``W`` on the envelope of the areas the
    shipped data lacks (:mod:`stikstofcalc.geo.unassessed`), within ``reach_m`` of a source
    (the calculation distance, or less: the effect distance at the grensgeval band's lower
    edge, beyond which no point can reach it): ``{row: (max [mol N/ha/yr], x, y, distance
    [m])}``, or None when no source lies that near the envelope (almost every project)."""
    x, y, xe, ye = templates.source_points()
    line = np.isfinite(xe)
    px, py = np.concatenate([x, xe[line]]), np.concatenate([y, ye[line]])
    ux, uy = unassessed.candidate_points(px, py, min(float(reach_m), CALCULATION_DISTANCE_M))
    if ux.size == 0 or not rows:
        return None
    best = np.full(len(rows), -1.0)
    where = np.zeros(len(rows), int)
    for b in range(0, ux.size, _UNASSESSED_BLOCK):
        u = unit_deposition(templates, ux[b:b + _UNASSESSED_BLOCK], uy[b:b + _UNASSESSED_BLOCK])
        d = W[rows] @ u
        j = d.argmax(axis=1)
        top = d[np.arange(len(rows)), j]
        better = top > best
        best[better], where[better] = top[better], b + j[better]
    dist = float(unassessed.distance_to_envelope(px, py).min())
    return {i: (float(best[k]), float(ux[where[k]]), float(uy[where[k]]), dist) for k, i in enumerate(rows)}


def _add_unassessed(r: dict, found, band: dict) -> None:
    """A note on the areas the data lacks, and a *grensgeval* where a "geen vergunning nodig"
    could be wrong there: the envelope's largest deposition reaches the band's lower edge."""
    mx, x, y, dist = found
    r["unassessed"] = {"areas": unassessed.AREAS_TEXT, "max_deposition": mx, "x": x, "y": y, "distance_m": dist}
    shown = nl_num(mx, 4)
    where = "binnen" if dist == 0 else f"op {dutch_notation(f'{dist / 1000:.1f}')} km van"
    r["notes"].append(f"{unassessed.AREAS_TEXT} staan niet in de gegevens van stikstofcalc; de bronnen liggen "
                      f"{where} hun benaderde omtrek (schatting); daarop hoogstens {shown} mol N/ha/jr "
                      f"(x {nl_int(x)}, y {nl_int(y)})")
    if r["exempt"] or r["permit_needed"] or mx < band["low"]:
        return
    why = (f"{unassessed.AREAS_TEXT}, niet in de gegevens, krijgen naar schatting tot {shown} mol N/ha/jr")
    if r.get("borderline"):
        r["verdict"] = f"{r['verdict']}; LET OP: {why}"
    else:
        r["borderline"] = True
        r["verdict"] = f"{BORDERLINE_TEXT} ({why}); voortoets: {r['verdict']}"


def verdict_provenance(kg, heat: str, band: dict) -> dict:
    """Provenance of the machinery heat content, the sector characteristics and the band."""
    return {
        "machinery_heat": {
            "choice": heat, "alternative": other_machinery_heat(heat),
            "note": "conservatief = 0 MW (vergelijking AERIUS 2024.0.1-uitvoer met OPS-LT 5.3.1, status "
                    "reported); instructie = 0,02 MW (sector 3210) / 0,035 MW (sector 3220) uit de "
                    "Instructie gegevensinvoer AERIUS Calculator 2024",
        },
        "source_characteristics": characteristics_table(kg, heat),
        "borderline": {"band_mol_ha_yr": [band["low"], band["high"]], "factor": band["factor"],
                       "row": band["row"], "status": band["status"],
                       "note": "grensgeval wanneer de hoogste depositie binnen de gemeten "
                               "modelonzekerheid (factor) van de drempel ligt"},
    }


def check_columns(r: dict) -> dict:
    """Flat columns of the borderline band, the machinery heat sensitivity and the areas the
    data lacks (CSV, batch)."""
    band = r.get("borderline_band") or [None, None]
    sens = r.get("sensitivity") or {}
    return {"borderline": r.get("borderline"), "borderline_band_low": band[0],
            "borderline_band_high": band[1],
            "machinery_heat": sens.get("machinery_heat"),
            "alt_heat": sens.get("alternative"),
            "alt_heat_max_deposition": sens.get("max_deposition"),
            "alt_heat_max_display": sens.get("max_display"),
            "alt_heat_permit_needed": sens.get("permit_needed"),
            "alt_heat_verdict_differs": sens.get("verdict_differs"),
            "unassessed_max_deposition": (r.get("unassessed") or {}).get("max_deposition")}


def hexagon_table(search: Search, scen, W, rec, relevant) -> pd.DataFrame:
    """Deposition per hexagon per phase and year (long format), every hexagon evaluated.

    Columns: ``phase, year, receptor_id, x, y, n2k_number, area_name, relevant,
    deposition_nox_mol_ha_yr, deposition_nh3_mol_ha_yr, deposition_total_mol_ha_yr``
    [mol N/ha/yr]; with a receptor file that gives terrain also its columns ``z0_m``,
    ``landuse``, ``lu_1`` ... ``lu_9`` (empty = from the roughness map).
    """
    ex = search.exact
    n = ex.shape[1]
    nox = np.asarray(W)[:, 0::2] @ ex[0::2]
    nh3 = np.asarray(W)[:, 1::2] @ ex[1::2]
    k = len(scen)
    cols = {"phase": np.repeat([s[1] for s in scen], n).astype(object),
            "year": np.repeat([int(s[2]) for s in scen], n)}
    for c in ("receptor_id", "x", "y", "n2k_number", "area_name"):
        if c in rec:
            v = np.asarray(rec[c])
            cols[c] = np.tile(np.round(v.astype(float), 2) if c in ("x", "y") else v, k)  # cm, as in JSON
    cols["relevant"] = np.tile(np.asarray(relevant, bool), k)
    for c in TERRAIN_COLUMNS:  # the hexagon's own terrain, when the receptor file gave one
        if c in rec:
            v = np.tile(np.asarray(rec[c], float), k)
            cols[c] = pd.array(v).astype("Int64") if c == "landuse" else v  # a class: 4, not 4.0
    cols["deposition_nox_mol_ha_yr"] = nox.ravel()
    cols["deposition_nh3_mol_ha_yr"] = nh3.ravel()
    cols["deposition_total_mol_ha_yr"] = (nox + nh3).ravel()
    return pd.DataFrame(cols)


# --------------------------------------------------------------------------- sources inside a hexagon

#: A hexagon is averaged over sub-receptors when a source lies within this distance of its
#: centre [m]: the circumradius of an AERIUS hexagon (62.04 m, so every source inside the
#: hexagon or on its edge; 100 m away is outside).
NEAR_SOURCE_M = 62.0403
#: Sub-receptors nearer than this to a source are left out [m] (RIVM/AERIUS factsheet
#: "Berekening depositiebijdrage bronnen op korte afstand": average over sub-receptors at
#: least 20 m from the source; status reported, ``docs/assessment.md``).
SUB_RECEPTOR_MIN_M = 20.0
#: Spacing of the sub-receptor lattice inside a hexagon [m] (r / 4: 61 points; an estimate:
#: the AERIUS sub-receptor levels are not documented in numbers here).
SUB_RECEPTOR_SPACING_M = NEAR_SOURCE_M / 4


def sub_receptor_offsets() -> np.ndarray:
    """Offsets of the sub-receptors from the hexagon centre, shape (p, 2) [m].

    A triangular lattice of spacing :data:`SUB_RECEPTOR_SPACING_M` (61 points) clipped to the
    flat-topped hexagon of circumradius :data:`NEAR_SOURCE_M` (points on the edge kept).
    """
    r, s = NEAR_SOURCE_M, SUB_RECEPTOR_SPACING_M
    n = int(np.ceil(r / s)) + 1
    i, j = np.meshgrid(np.arange(-2 * n, 2 * n + 1), np.arange(-2 * n, 2 * n + 1), indexing="ij")
    px = (i + 0.5 * j) * s
    py = j * s * np.sqrt(3) / 2
    px, py = px.ravel(), py.ravel()
    # flat-topped hexagon: |y| <= sqrt(3)/2 r and sqrt(3)|x| + |y| <= sqrt(3) r
    eps = 1e-9 * r
    inside = (np.abs(py) <= np.sqrt(3) / 2 * r + eps) & (np.sqrt(3) * np.abs(px) + np.abs(py) <= np.sqrt(3) * r + eps)
    return np.stack([px[inside], py[inside]], axis=1)


#: Receptors per block in :func:`element_distance` (bounds its memory to block x sources).
_DISTANCE_BLOCK = 2048


def element_distance(templates: Templates, x, y, *, within: float | None = None) -> np.ndarray:
    """Distance from points to the nearest elementary source of any template [m]
    (points: exact; squares: to the square; segments: to the segment).

    With ``within`` [m] only elements that can lie within that distance are looked at (a
    k-d tree on the elements' anchors, searched to ``within`` plus the largest element's
    reach): the distance is exact wherever it is at most ``within``, and larger (or inf)
    elsewhere. That is all the near-source tests need, and it keeps thousands of area
    sources x tens of thousands of sub-receptors from a full distance matrix (lb_north:
    minutes). Without ``within``, every element in blocks of :data:`_DISTANCE_BLOCK` points.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if within is not None:
        return _element_distance_within(templates, x, y, float(within))
    if x.shape[0] > _DISTANCE_BLOCK:
        return np.concatenate([element_distance(templates, x[i:i + _DISTANCE_BLOCK], y[i:i + _DISTANCE_BLOCK])
                               for i in range(0, x.shape[0], _DISTANCE_BLOCK)])
    e = templates.elementary
    best = np.full(x.shape[0], np.inf)
    seg = np.isfinite(e.x_end)
    sq = ~seg & (e.area_side_m > 0)
    pt = ~seg & ~sq
    if pt.any():
        best = np.minimum(best, np.hypot(x[:, None] - e.x[pt], y[:, None] - e.y[pt]).min(axis=1))
    if sq.any():
        h = e.area_side_m[sq] / 2
        dx = np.maximum(np.abs(x[:, None] - e.x[sq]) - h, 0.0)
        dy = np.maximum(np.abs(y[:, None] - e.y[sq]) - h, 0.0)
        best = np.minimum(best, np.hypot(dx, dy).min(axis=1))
    if seg.any():
        best = np.minimum(best, segment_distance(x, y, e.x[seg], e.y[seg], e.x_end[seg], e.y_end[seg]).min(axis=1))
    return best


def _element_reach(e) -> np.ndarray:
    """How far each element reaches from its anchor (x, y) [m]: a segment's length, a
    square's half diagonal, 0 for a point."""
    seg = np.isfinite(e.x_end)
    return np.where(seg, np.hypot(np.where(seg, e.x_end - e.x, 0.0), np.where(seg, e.y_end - e.y, 0.0)),
                    e.area_side_m * np.sqrt(0.5))


#: Points per block in :func:`element_distance` with ``within`` (bounds the candidate pairs
#: held at once: lb_north's 1.3 M sub-receptors near 21,012 squares of up to 1 km held about
#: 1.7 GB of pairs in one piece, on top of the search's kernel tables).
_WITHIN_BLOCK = 65_536


def _element_distance_within(templates: Templates, x, y, within: float) -> np.ndarray:
    from scipy.spatial import cKDTree

    e = templates.elementary
    best = np.full(x.shape[0], np.inf)
    if x.shape[0] == 0 or e.x.shape[0] == 0:
        return best
    radius = within + float(_element_reach(e).max()) + 1e-6
    tree = cKDTree(np.column_stack([e.x, e.y]))
    for a in range(0, x.shape[0], _WITHIN_BLOCK):
        b = min(x.shape[0], a + _WITHIN_BLOCK)
        best[a:b] = _nearest_within(e, tree, x[a:b], y[a:b], radius)
    return best


def _nearest_within(e, tree, x, y, radius) -> np.ndarray:
    """Distance of each point to the nearest element whose anchor lies within ``radius``."""
    best = np.full(x.shape[0], np.inf)
    lists = tree.query_ball_point(np.column_stack([x, y]), radius)
    counts = np.fromiter((len(v) for v in lists), np.int64, count=len(lists))
    if not counts.sum():
        return best
    pi = np.repeat(np.arange(x.shape[0]), counts)  # candidate pairs: point, element
    ei = np.fromiter((k for v in lists for k in v), np.int64, count=int(counts.sum()))
    del lists
    px, py = x[pi], y[pi]
    ex, ey = e.x[ei], e.y[ei]
    seg = np.isfinite(e.x_end[ei])
    side = e.area_side_m[ei]
    h = side / 2
    d = np.where(side > 0,
                 np.hypot(np.maximum(np.abs(px - ex) - h, 0.0), np.maximum(np.abs(py - ey) - h, 0.0)),
                 np.hypot(px - ex, py - ey))
    if seg.any():
        k = np.flatnonzero(seg)
        d[k] = _point_segment_distance(px[k], py[k], ex[k], ey[k], e.x_end[ei[k]], e.y_end[ei[k]])
    np.minimum.at(best, pi, d)
    return best


def _point_segment_distance(px, py, ax, ay, bx, by) -> np.ndarray:
    """Distance of each point to its own segment (element-wise) [m]."""
    lx, ly = bx - ax, by - ay
    ll = lx * lx + ly * ly
    t = np.clip(((px - ax) * lx + (py - ay) * ly) / np.where(ll > 0, ll, 1.0), 0.0, 1.0)
    t = np.where(ll > 0, t, 0.0)
    return np.hypot(px - (ax + t * lx), py - (ay + t * ly))


#: up to this many elementary sources :func:`near_source_hexagons` compares each hexagon
#: with every element directly (a k-d tree's queries cost more for a handful)
_NEAR_BRUTE_ELEMENTS = 64


def near_source_hexagons(templates: Templates, x, y) -> np.ndarray:
    """Receptor hexagons with a source within :data:`NEAR_SOURCE_M` of their centre (bool)."""
    x = np.asarray(x, float)
    if x.shape[0] == 0 or len(templates) == 0:
        return np.zeros(x.shape[0], bool)
    from scipy.spatial import cKDTree

    e = templates.elementary
    reach = _element_reach(e)  # an element lies within this of its anchor
    # a first cut: hexagons with an element anchor within NEAR_SOURCE_M + the largest reach
    # (a hair wider: the exact test follows)
    radius = (NEAR_SOURCE_M + float(reach.max())) * (1 + 1e-9)
    y = np.asarray(y, float)
    if e.x.shape[0] <= _NEAR_BRUTE_ELEMENTS:  # few elements (most projects): no tree
        hit = np.zeros(x.shape[0], bool)
        for ax, ay in zip(np.asarray(e.x, float), np.asarray(e.y, float)):
            hit |= (x - ax) ** 2 + (y - ay) ** 2 <= radius * radius
        cand = np.flatnonzero(hit)
    else:
        tree = cKDTree(np.column_stack([e.x, e.y]))
        hits = tree.query_ball_point(np.column_stack([x, y]), radius, return_length=True)
        cand = np.flatnonzero(np.asarray(hits) > 0)
    out = np.zeros(x.shape[0], bool)
    if cand.size:
        out[cand] = element_distance(templates, x[cand], y[cand],
                                     within=NEAR_SOURCE_M) <= NEAR_SOURCE_M
    return out


def near_source_average(templates: Templates, x, y, u: np.ndarray, surface=None) -> np.ndarray:
    """Replace the columns of hexagons with a source inside by their sub-receptor average.

    Parameters
    ----------
    templates : Templates
    x, y : array_like, shape (k,)
        Hexagon centres, RD New [m].
    u : ndarray, shape (n_fields, k)
        Unit deposition at the centres (:func:`_unit_deposition_centres`).
    surface : None or (z0_m, landuse, lu_pct)
        The hexagons' own terrain (:func:`unit_deposition`); each sub-receptor takes its
        hexagon's.

    Returns
    -------
    ndarray, shape (n_fields, k)
        ``u``, with each near hexagon (:func:`near_source_hexagons`) replaced by the mean
        over its sub-receptors (:func:`sub_receptor_offsets`) at least
        :data:`SUB_RECEPTOR_MIN_M` from every source (all of them if none is that far),
        all hexagons in one engine call. Hexagons farther away are unchanged.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    near = near_source_hexagons(templates, x, y)
    if not near.any():
        return u
    idx = np.flatnonzero(near)
    off = sub_receptor_offsets()
    p = off.shape[0]
    sx = (x[idx, None] + off[None, :, 0]).ravel()
    sy = (y[idx, None] + off[None, :, 1]).ravel()
    keep = (element_distance(templates, sx, sy, within=SUB_RECEPTOR_MIN_M)
            >= SUB_RECEPTOR_MIN_M).reshape(idx.size, p)
    keep[~keep.any(axis=1)] = True
    sel = keep.ravel()
    vals = _unit_deposition_centres(templates, sx[sel], sy[sel],
                                    take_surface(surface, np.repeat(idx, p)[sel]))
    full = np.zeros((u.shape[0], idx.size * p))
    full[:, sel] = vals
    mean = full.reshape(u.shape[0], idx.size, p).sum(axis=2) / keep.sum(axis=1)
    out = u.copy()
    out[:, idx] = mean
    return out
