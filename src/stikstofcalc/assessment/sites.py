"""Project moved over candidate sites: templates, unit deposition per site-hexagon pair, reach.

The compute layer shared by the headroom map (:func:`stikstofcalc.assessment.mapdata.headroom_grid`)
and regional capacity (:mod:`stikstofcalc.capacity.core`). Linearity
(``docs/assessment.md``): a project's deposition is ``W @ U`` with ``U`` the deposition of
1 kg/yr of every source template, so moving the project to ``n`` sites needs ``U`` of the
templates moved there - one engine call for all sites, with each site-template pair as its
own case code.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from stikstofcalc.assessment.core import (
    BOUND_DISTANCE_FACTOR, BOUND_SAFETY, DEFAULT_Z0_M, SUB_RECEPTOR_MIN_M, element_distance, envelope,
    near_source_hexagons, sub_receptor_offsets, template_weights, to_rd,
)
from stikstofcalc.deposition.arrays import DEFAULT_CUTOFF_M, ReceptorArrays, SourceArrays
from stikstofcalc.deposition.core import deposition_arrays
from stikstofcalc.deposition.fast import table_cache
from stikstofcalc.errors import InputError
from stikstofcalc.geo.geometry import Elementary
from stikstofcalc.emissions import inventory
from stikstofcalc.emissions.project import Project, kengetallen_for, read_project
from stikstofcalc.emissions.sources import build_templates, check_site, row_keys


#: Site-hexagon pairs per engine call of :func:`unit_pairs` (memory: each pair is one receptor
#: per template with its terrain terms; 250,000 pairs of 3 templates is about 0.3 GB) [-].
BLOCK_PAIRS = 250_000


def project_templates(project, kengetallen):
    """Project in RD, its key figures, plan emission table, template keys and templates."""
    if not isinstance(project, Project):
        project = read_project(project)
    project = to_rd(project)
    check_site(project)
    kg = kengetallen if kengetallen is not None else kengetallen_for(project)
    plan = inventory.emission_sources(project, kengetallen=kg)
    keys = row_keys(plan, project)
    return project, kg, plan, keys, build_templates(keys)


def scenario_weights(plan, keys, templates) -> tuple[list, np.ndarray]:
    """Emission per template field of every plan phase-year (the reference left out).

    Returns
    -------
    scenarios : list of (phase, year)
    W : ndarray, shape (n_scenarios, 2 n_templates)
        ``W[s, 2t]`` kg NOx/yr and ``W[s, 2t + 1]`` kg NH3/yr of template ``t`` [kg/yr].
    """

    w = template_weights(plan, templates.index(keys), 2 * len(templates))
    groups = plan.groupby(["phase", "year"], sort=False).indices
    scen = [(p, int(y)) for (p, y) in groups if p != "referentie"]
    W = np.array([w[groups[(p, y)]].sum(axis=0) for (p, y) in
                  [(p, y) for (p, y) in groups if p != "referentie"]]).reshape(len(scen), w.shape[1])
    return scen, W


def candidate_offsets(radius_m: float, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Square grid of offsets ``step_m`` apart within ``radius_m`` of (0, 0), centre included [m]."""
    if not (step_m > 0 and radius_m >= 0):
        raise InputError(field="step, radius", value=f"{step_m:g} m, {radius_m:g} m",
                         expected="een stap > 0 en een straal >= 0")
    n = int(math.floor(radius_m / step_m + 1e-9))
    if (2 * n + 1) ** 2 > 10_000:
        raise InputError(field="step", value=f"{step_m:g} m",
                         expected=f"hoogstens ongeveer 7.800 locaties: een stap van minstens {radius_m / 50:.0f} m")
    k = np.arange(-n, n + 1) * step_m
    dx, dy = np.meshgrid(k, k)
    keep = np.hypot(dx, dy) <= radius_m + 1e-6
    return dx[keep], dy[keep]


def translated_sources(templates, dx, dy):
    """Elementary sources of every template at every offset: (x, y, x_end, y_end, t, c)."""
    e = templates.elementary
    nc = dx.size
    x = (e.x[None, :] + dx[:, None]).ravel()
    y = (e.y[None, :] + dy[:, None]).ravel()
    xe = (e.x_end[None, :] + dx[:, None]).ravel()
    ye = (e.y_end[None, :] + dy[:, None]).ravel()
    t = np.tile(e.parent, nc)
    c = np.repeat(np.arange(nc), len(e))
    return x, y, xe, ye, t, c


def unit_pairs(templates, moved, hx, hy, ci, hi):
    """Unit deposition (2 n_t, m) of each template moved to site ``ci`` on hexagon ``hi``."""
    n_t, m = len(templates), ci.size
    if m == 0:
        return np.zeros((2 * n_t, 0))
    if m > BLOCK_PAIRS:  # bounded memory: pairs in blocks, the same values (each pair is its own case)
        out = np.empty((2 * n_t, m))
        with table_cache():
            for a in range(0, m, BLOCK_PAIRS):
                b = min(m, a + BLOCK_PAIRS)
                out[:, a:b] = unit_pairs(templates, moved, hx, hy, ci[a:b], hi[a:b])
        return out
    with table_cache():  # the near-source call below reuses these sources' tables
        u = _unit_at(templates, moved, ci, hx[hi], hy[hi])
        return near_source_pairs(templates, moved, hx, hy, ci, hi, u)


def _unit_at(templates, moved, site, x, y):
    """Unit deposition (2 n_t, k) of every template of site ``site[j]`` at point ``(x[j], y[j])``.

    One engine call; each site-template pair is its own case code (the point repeated once
    per template), so a value is that of the site alone. Only the sources of the sites
    asked for are passed to the engine."""
    n_t, k = len(templates), x.size
    el = _moved_templates(templates, moved).elementary
    c = moved[5]
    use = np.isin(c, np.unique(site))
    tt = el.parent[use]
    src = SourceArrays(x=el.x[use], y=el.y[use], height_m=templates.height_m[tt], heat_mw=templates.heat_mw[tt],
                       nox_kg_yr=el.weight[use], nh3_kg_yr=el.weight[use], spread_m=templates.spread_m[tt],
                       area_side_m=el.area_side_m[use], x_end=el.x_end[use], y_end=el.y_end[use],
                       z0_m=DEFAULT_Z0_M, case=c[use] * n_t + tt)
    rec = ReceptorArrays(x=np.tile(x, n_t), y=np.tile(y, n_t),
                         case=np.tile(site, n_t) * n_t + np.repeat(np.arange(n_t), k))
    res = deposition_arrays(src, rec, cutoff_m=DEFAULT_CUTOFF_M)
    return np.stack([res.nox.reshape(n_t, k), res.nh3.reshape(n_t, k)], axis=1).reshape(2 * n_t, k)


def near_source_pairs(templates, moved, hx, hy, ci, hi, u):
    """Pairs whose hexagon has a moved site's source inside: the sub-receptor average, as the
    assessment (:func:`stikstofcalc.assessment.core.near_source_average`, issue 12).

    All sites at once: whether a hexagon is near, and which of its sub-receptors are far
    enough from every source, does not change when site and hexagon move together, so both
    are decided on the hexagon's position relative to the site (the templates' own frame);
    the sub-receptors of every near pair are then computed in one engine call, each
    site-template pair as its own case (the values of one call per site).
    """
    x, y = moved[0], moved[1]
    e = templates.elementary
    n_t, ne = len(templates), len(e.x)
    if ci.size == 0 or n_t == 0:
        return u
    sdx, sdy = x[::ne] - e.x[0], y[::ne] - e.y[0]  # each site's offset from the templates
    rx, ry = hx[hi] - sdx[ci], hy[hi] - sdy[ci]
    idx = np.flatnonzero(near_source_hexagons(templates, rx, ry))
    if not idx.size:
        return u
    off = sub_receptor_offsets()
    p = off.shape[0]
    keep = (element_distance(templates, (rx[idx, None] + off[None, :, 0]).ravel(),
                             (ry[idx, None] + off[None, :, 1]).ravel(), within=SUB_RECEPTOR_MIN_M)
            >= SUB_RECEPTOR_MIN_M).reshape(idx.size, p)
    keep[~keep.any(axis=1)] = True
    pair, sub = np.nonzero(keep)  # kept sub-receptors, pair by pair
    site = ci[idx[pair]]
    sx = hx[hi[idx[pair]]] + off[sub, 0]
    sy = hy[hi[idx[pair]]] + off[sub, 1]
    vals = _unit_at(templates, moved, site, sx, sy)
    total = np.zeros((u.shape[0], idx.size))
    np.add.at(total.T, pair, vals.T)
    out = u.copy()
    out[:, idx] = total / keep.sum(axis=1)
    return out


def _moved_templates(templates, moved):
    """The templates with the elementary sources of every site (for one envelope)."""
    x, y, xe, ye, t, c = moved
    e = templates.elementary
    reps = int(c.max()) + 1
    el = Elementary(x=x, y=y, area_side_m=np.tile(e.area_side_m, reps), x_end=xe, y_end=ye,
                    weight=np.tile(e.weight, reps), parent=t)
    return replace(templates, elementary=el)


def prime_reach(templates, moved) -> None:
    """Compute the envelope rows of every moved source in one call, so that later
    :func:`reach_distance` calls on subsets of the sites (one per plan size) find them in
    the open :class:`~stikstofcalc.deposition.fast.table_cache` (no effect without one)."""
    if len(moved[0]):
        envelope(_moved_templates(templates, moved))


def reach_distance(templates, moved, W, level):
    """Distance [m] beyond which no phase-year can reach ``level`` (n_sites,), from the
    kernel envelope of every template at every site (:func:`assessment.envelope`)."""
    env = envelope(_moved_templates(templates, moved))
    ac = np.maximum(env.area_in, env.area_out)[:, None]
    curve = (W @ (env.value * ac * BOUND_SAFETY)).max(axis=0)  # (n_intervals,)
    nint = curve.size
    edges = np.exp(env.log_d0 + env.dlog * np.arange(nint + 1)) / BOUND_DISTANCE_FACTOR
    above = curve[None, :] >= np.asarray(level, float)[:, None]
    last = np.where(above.any(axis=1), nint - 1 - np.argmax(above[:, ::-1], axis=1), -1)
    return np.minimum(np.where(last >= 0, edges[np.minimum(last + 1, nint)], 0.0), DEFAULT_CUTOFF_M)
