"""What the maps show, computed (no matplotlib): deposition per phase and year, headroom.

:func:`deposition_maps` gives, per phase and calendar year of a project, the deposition on
every receptor hexagon in view, the largest value and where, the source shapes and the map
extent; :func:`headroom_grid` moves the project over a grid of candidate sites and gives at
each the largest project size that still rounds to 0,00. :mod:`stikstofcalc.maps.draw`
draws them (the optional extra ``stikstofcalc[maps]``).

Linearity (``docs/assessment.md``): the deposition of a phase-year is ``W @ U`` with ``U``
the deposition of 1 kg/yr of every source template, so both maps need one engine call
(the headroom map one call for all candidate sites, the sites as case codes).
See ``docs/maps.md``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stikstofcalc.assessment.sites import (candidate_offsets, project_templates, reach_distance,
                                           scenario_weights, translated_sources, unit_pairs)
from stikstofcalc.conventions import CALCULATION_DISTANCE_M
from stikstofcalc.errors import InputError, dutch_notation, nl_num  # noqa: F401 - nl_num offered here
from stikstofcalc.assessment.core import (KIND_LABEL, PHASE_LABEL, assess_project, receptor_set,
    terrain_phrase, unit_deposition)
from stikstofcalc.geo.natura2000 import ATTRIBUTION_NL as ATTRIBUTION, load_natura2000
from stikstofcalc.geo.receptors import HEXAGON_RADIUS_M, default_receptors, receptor_surface
from stikstofcalc.rules import format_deposition, get_regime
from stikstofcalc.emissions.sources import in_netherlands
from stikstofcalc.deposition.fast import table_cache
from stikstofcalc.deposition.model import load_model
from stikstofcalc._version import __version__

#: A4 landscape [in] (297 x 210 mm): the page the maps are drawn on (its map axes set the extent's aspect).
A4_LANDSCAPE_IN = (11.69, 8.27)
#: Map axes in figure fractions (left, bottom, width, height); the side panel is right of it.
MAP_AXES = (0.06, 0.13, 0.60, 0.76)
#: Map extent: padding around sources, maximum and hexagons >= threshold [-], and the
#: smallest half-width [m].
MAP_PAD_FRACTION = 0.12
MAP_MIN_HALF_WIDTH_M = 2_000.0
#: Headroom grid defaults [m].
HEADROOM_RADIUS_M = 10_000.0
HEADROOM_STEP_M = 1_000.0
#: Nearest hexagons evaluated first per candidate site (a lower bound of its maximum) [-].
HEADROOM_SEED = 24


# --------------------------------------------------------------------------- compute: deposition


@dataclass(frozen=True)
class SourceShape:
    """A project source as drawn: ``kind`` site | route | point, a label, vertices (n, 2) [m]."""

    kind: str
    label: str
    xy: np.ndarray


@dataclass
class DepositionMap:
    """Everything one deposition map shows (one phase and calendar year of one project).

    Arrays are over the hexagons in view (``extent`` plus one hexagon radius); the maximum
    is over every relevant hexagon of the receptor set (it always lies in view).

    Attributes
    ----------
    case, phase, phase_label, year : str, str, str, int
    threshold : float
        Threshold of the regime [mol N/ha/yr].
    receptor_id, x, y : ndarray
        AERIUS hexagon ids and the receptor points [m] (RD New).
    deposition : ndarray
        Deposition of the phase-year [mol N/ha/yr].
    relevant : ndarray of bool
        Hexagon counts for the verdict.
    above_ids : ndarray of int64
        Ids of all hexagons of the receptor set at or above the threshold (also out of view).
    max_deposition, max_x, max_y, max_receptor_id, max_area : float, float, float, int, str
    verdict, max_display : str
    extent : tuple
        (xmin, xmax, ymin, ymax) [m].
    sources : list of SourceShape
    footnote : str
        Model, key figures, regime, receptors and the Natura 2000 attribution.
    """

    case: str
    phase: str
    phase_label: str
    year: int
    threshold: float
    receptor_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    deposition: np.ndarray
    relevant: np.ndarray
    n2k_number: np.ndarray
    above_ids: np.ndarray
    max_deposition: float
    max_x: float
    max_y: float
    max_receptor_id: int
    max_area: str
    n_hexagons_above: int
    verdict: str
    max_display: str
    extent: tuple
    sources: list
    footnote: str
    area_names: dict = field(default_factory=dict)


def _source_shapes(plan, keys, phase, year, outline=None) -> list:
    """Shapes of the sources that emit in one phase-year (site, routes, points), and the
    project outline (``outline``) when no site source is active."""
    rows = plan[(plan["phase"] == phase) & (plan["year"] == year)]
    active = (rows["nox_kg_per_yr"] + rows["nh3_kg_per_yr"]) > 0
    out, seen = [], set()
    for i, kind, route in zip(rows.index[active], rows["source_kind"][active], rows["route"][active]):
        wkt = keys[plan.index.get_loc(i)][0]
        shape_kind = ("site" if wkt.startswith("POLYGON") else "route" if wkt.startswith("LINESTRING")
                      else "point")
        if kind == "machinery":
            label = "bouwterrein (mobiele werktuigen)" if shape_kind == "site" else \
                "bouwlocatie: werktuigen als punt"
        elif shape_kind == "route":
            label = f"route: {route}" if isinstance(route, str) and route else "route"
        else:
            label = KIND_LABEL.get(kind, kind)
        if (wkt, label) in seen:
            continue
        seen.add((wkt, label))
        xy = np.array(re.findall(r"(-?[\d.]+(?:e[+-]?\d+)?) (-?[\d.]+(?:e[+-]?\d+)?)", wkt), float)
        out.append(SourceShape(shape_kind, label, xy.reshape(-1, 2)))
    if outline is not None and not any(s.kind == "site" for s in out):
        out.insert(0, SourceShape("outline", "projectgebied", np.asarray(outline, float)))
    return out


def map_extent(points, *, aspect: float) -> tuple:
    """Box around points, padded, at least 2 x :data:`MAP_MIN_HALF_WIDTH_M`, width/height = aspect."""
    p = np.asarray(points, float).reshape(-1, 2)
    lo, hi = p.min(axis=0), p.max(axis=0)
    c, half = (lo + hi) / 2, (hi - lo) / 2
    pad = np.maximum(half.max() * 2 * MAP_PAD_FRACTION, 500.0)
    hx, hy = half + pad
    hx, hy = max(hx, MAP_MIN_HALF_WIDTH_M), max(hy, MAP_MIN_HALF_WIDTH_M / aspect)
    hx, hy = max(hx, hy * aspect), max(hy, hx / aspect)
    return (c[0] - hx, c[0] + hx, c[1] - hy, c[1] + hy)


def _footnote(assessment) -> str:
    prov = assessment.provenance
    rec = assessment.receptors
    receptors = ("standaard: alle hexagons in stikstofgevoelige Natura 2000-gebieden binnen 25 km "
                 "(screening; kan alleen overschatten)" if rec["source"] == "default" else
                 f"eigen bestand {rec['source']}")
    return (f"stikstofcalc {prov['version']} - voortoets, geen AERIUS-berekening. Rekenkern: "
            f"OPS-LT-emulator ({prov['model'].split(';')[0]}); kengetallen editie "
            f"{prov['kengetallen']['edition']}; regime {prov['regime']['name']} (drempel "
            f"{nl_num(prov['regime']['threshold_mol_ha_yr'])} mol N/ha/jr, afgerond 0,00). "
            f"Receptoren: {receptors}. {terrain_phrase()} {load_natura2000().missing_note} {ATTRIBUTION}")


def deposition_maps(project, assessment=None, *, regime=None, receptors=None,
                    kengetallen=None, receptor_margin=None,
                    aspect: float | None = None) -> list[DepositionMap]:
    """The data of one deposition map per phase and calendar year of a project.

    Parameters
    ----------
    project : Project or path
        As for :func:`stikstofcalc.assessment.core.assess_project`.
    assessment : Assessment, optional
        Its result, when already computed (else computed here, without measures).
    regime, receptors, kengetallen, receptor_margin : keyword-only
        As for :func:`~stikstofcalc.assessment.core.assess_project` (use the same values as
        for ``assessment``).
    aspect : float, keyword-only
        Width / height of the map extent (default: the map axes of the A4 layout).

    Returns
    -------
    list of DepositionMap
        In the order of ``assessment.results``.

    Notes
    -----
    Every hexagon of the receptor set is evaluated (one engine call for all templates:
    the unit deposition ``U``); the phase-year's deposition is ``W[s] @ U``. The
    assessment's pruned search finds the same maximum (tested).
    """
    project, kg, plan, keys, templates = project_templates(project, kengetallen)
    if assessment is None:
        assessment = assess_project(project, regime=regime, receptors=receptors, measures=False,
                                    kengetallen=kg, receptor_margin=receptor_margin)
    scen, W = scenario_weights(plan, keys, templates)
    rec, _ = receptor_set(templates, receptors, receptor_margin)
    rx, ry = np.asarray(rec["x"], float), np.asarray(rec["y"], float)
    rid = np.asarray(rec["receptor_id"], np.int64)
    rel = np.asarray(rec["relevant"], bool)
    num = load_natura2000().area_of(rid).astype(np.int64)
    surface = receptor_surface(rec) if isinstance(rec, pd.DataFrame) else None  # the file's own terrain
    U = unit_deposition(templates, rx, ry, surface=surface)
    thr = assessment.regime.threshold_mol_ha_yr
    if aspect is None:
        aspect = (MAP_AXES[2] * A4_LANDSCAPE_IN[0]) / (MAP_AXES[3] * A4_LANDSCAPE_IN[1])
    out = []
    for r in assessment.results:
        dep = W[scen.index((r["phase"], r["year"]))] @ U if len(rx) else np.zeros(0)
        shapes = _source_shapes(plan, keys, r["phase"], r["year"], project.location.outline)
        pts = [s.xy for s in shapes] + [np.array([[project.location.x, project.location.y]])]
        if rel.any():
            j = np.flatnonzero(rel)[int(np.argmax(dep[rel]))]
            mx, mxx, mxy, mid = float(dep[j]), float(rx[j]), float(ry[j]), int(rid[j])
            pts.append(np.array([[mxx, mxy]]))
        else:
            mx, mxx, mxy, mid = 0.0, math.nan, math.nan, 0
        above = dep >= thr
        pts.append(np.column_stack([rx[above], ry[above]]))
        ext = map_extent(np.concatenate(pts), aspect=aspect)
        view = ((rx >= ext[0] - HEXAGON_RADIUS_M) & (rx <= ext[1] + HEXAGON_RADIUS_M)
                & (ry >= ext[2] - HEXAGON_RADIUS_M) & (ry <= ext[3] + HEXAGON_RADIUS_M))
        out.append(DepositionMap(
            case=assessment.case, phase=r["phase"], phase_label=PHASE_LABEL[r["phase"]],
            year=int(r["year"]), threshold=thr, receptor_id=rid[view], x=rx[view], y=ry[view],
            deposition=dep[view], relevant=rel[view], n2k_number=num[view],
            above_ids=rid[above & rel], max_deposition=mx, max_x=mxx, max_y=mxy,
            max_receptor_id=mid, max_area=str(load_natura2000().area_names(num[rid == mid][:1])[0])
            if mid else "", n_hexagons_above=int((above & rel).sum()), verdict=r["verdict"],
            max_display=str(format_deposition(mx)[0]), extent=ext, sources=shapes,
            footnote=_footnote(assessment),
            area_names={int(n): str(load_natura2000().area_names(n)) for n in np.unique(num[view])
                        if n > 0}))
    return out


# --------------------------------------------------------------------------- compute: headroom


@dataclass
class HeadroomGrid:
    """Headroom of a project moved over a grid of candidate sites.

    Attributes
    ----------
    case : str
    x, y : ndarray, shape (n,)
        Candidate site locations (the project's location moved there) [m], RD New.
    dx, dy : ndarray, shape (n,)
        Offset from the project's own location [m].
    in_netherlands : ndarray of bool
        Candidate on Dutch land (others NaN below).
    max_deposition : ndarray, shape (n, n_scenarios)
        Largest deposition of each phase-year of the project as it is, at each site
        [mol N/ha/yr] (0 where no Natura 2000 hexagon lies within 25 km).
    factor : ndarray, shape (n,)
        ``threshold / max_s max_deposition``: the largest factor on the whole project that
        still gives 0,00 (``inf`` without any hexagon in range) [-].
    headroom : ndarray, shape (n,)
        ``factor x amount`` in ``unit`` (homes, or kg NOx/yr of the binding phase-year).
    unit : str
        ``woningen`` or ``kg NOx/jr``.
    amount : float
        The project's own amount in ``unit`` (its number of homes, or its largest NOx
        emission of a phase-year).
    scenarios : list of (phase, year)
    threshold, radius_m, step_m : float
    location : tuple
        The project's own location (x, y) [m].
    evaluated : int
        Hexagon-site pairs evaluated exactly.
    """

    case: str
    x: np.ndarray
    y: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    in_netherlands: np.ndarray
    max_deposition: np.ndarray
    factor: np.ndarray
    headroom: np.ndarray
    unit: str
    amount: float
    scenarios: list
    threshold: float
    radius_m: float
    step_m: float
    location: tuple
    evaluated: int
    sources: list = field(default_factory=list)
    footnote: str = ""

    def to_frame(self):
        """One row per candidate site (CSV-ready)."""
        import pandas as pd

        d = {"x": self.x, "y": self.y, "dx_m": self.dx, "dy_m": self.dy,
             "in_netherlands": self.in_netherlands, "factor": self.factor,
             f"headroom ({self.unit})": self.headroom}
        for k, (p, yr) in enumerate(self.scenarios):
            d[f"max_deposition {p} {yr}"] = self.max_deposition[:, k]
        return pd.DataFrame(d)


def _project_homes(project, kg) -> int:
    """Number of homes of the project (components whose key figures are per home)."""
    return int(sum(c.count or 0 for c in project.components
                   if kg.labels("project_types", c.type).get("basis") == "woning"))


def headroom_grid(project, *, radius_m: float = HEADROOM_RADIUS_M,
                  step_m: float = HEADROOM_STEP_M, regime=None, unit: str | None = None,
                  phase: str | None = None, kengetallen=None) -> HeadroomGrid:
    """The largest project size that still gives 0,00, at every candidate site around it.

    Parameters
    ----------
    project : Project or path
        The "standard project": its layout (site outline, routes relative to the site)
        and emission per phase and year are moved rigidly to every candidate site.
    radius_m, step_m : float, keyword-only
        Candidate sites on a square grid ``step_m`` apart within ``radius_m`` of the
        project's location [m].
    regime : str, keyword-only
        Threshold (default ``post-porthos``: 0.005 mol N/ha/yr).
    unit : {"woningen", "nox"}, keyword-only
        Headroom in homes (default when the project has homes) or in kg NOx/yr.
    phase : {"realisatie", "gebruik"}, keyword-only
        Only this phase (default: every phase-year must give 0,00).

    Returns
    -------
    HeadroomGrid

    Notes
    -----
    Deposition is linear in emission, so with ``M_cs`` the largest deposition of
    phase-year ``s`` of the project at site ``c`` (max over the Natura 2000 hexagons
    within 25 km), the factor ``f_c = threshold / max_s M_cs`` on the whole project
    keeps every phase-year below the threshold (a supremum: exactly ``f_c`` gives
    0.005, which rounds to 0,01). Homes: ``f_c`` times the project's homes, assuming
    every emission scales with the number of homes; NOx: ``min_s f_cs x NOx_s``.

    One engine call evaluates all sites (the site index is the case code). Per site,
    the nearest :data:`HEADROOM_SEED` hexagons give a lower bound ``L_c`` of its
    maximum; the kernel envelope gives the distance beyond which nothing reaches
    ``L_c``; every hexagon within that distance (plus the project's extent) is
    evaluated exactly, so ``M_cs`` is exact (tested against ``assess_project`` on the
    moved project).
    """
    from scipy.spatial import cKDTree

    project, kg, plan, keys, templates = project_templates(project, kengetallen)
    scen, W = scenario_weights(plan, keys, templates)
    if phase is not None:
        keep = [i for i, s in enumerate(scen) if s[0] == phase]
        if not keep:
            raise InputError(field="phase", value=phase, case=project.name,
                             expected=f"een van {', '.join(sorted({s[0] for s in scen}))}")
        scen, W = [scen[i] for i in keep], W[keep]
    thr = get_regime(regime).threshold_mol_ha_yr
    homes = _project_homes(project, kg)
    unit = unit or ("woningen" if homes else "nox")
    if unit not in ("woningen", "nox"):
        raise InputError(field="unit", value=unit, expected="woningen of nox")
    if unit == "woningen" and not homes:
        raise InputError("het project heeft geen woningen", field="unit", value=unit, case=project.name,
                         expected="nox")
    x0, y0 = project.location.x, project.location.y
    dx, dy = candidate_offsets(radius_m, step_m)
    nl = in_netherlands(x0 + dx, y0 + dy)
    dx, dy = dx[nl], dy[nl]
    e = templates.elementary
    cx = np.where(np.isfinite(e.x_end), (e.x + e.x_end) / 2, e.x)
    cy = np.where(np.isfinite(e.y_end), (e.y + e.y_end) / 2, e.y)
    pad = np.where(np.isfinite(e.x_end), np.hypot(e.x_end - e.x, e.y_end - e.y) / 2,
                   e.area_side_m / math.sqrt(2))
    extent = float(np.max(np.hypot(cx - x0, cy - y0) + pad))
    rec = default_receptors(x0 + dx, y0 + dy, radius_m=CALCULATION_DISTANCE_M + extent)
    hx, hy = rec["x"].to_numpy(float), rec["y"].to_numpy(float)
    nc = dx.size
    M = np.zeros((nc, len(scen)))
    evaluated = 0
    if len(rec) and nc:
        with table_cache():  # both engine calls share the moved sources' tables
            moved = translated_sources(templates, dx, dy)
            tree = cKDTree(np.column_stack([hx, hy]))
            k = min(HEADROOM_SEED, len(rec))
            _, seed = tree.query(np.column_stack([x0 + dx, y0 + dy]), k=k)
            ci, hi = np.repeat(np.arange(nc), k), np.asarray(seed).reshape(-1)
            lower = _site_max(W @ unit_pairs(templates, moved, hx, hy, ci, hi), ci, nc)
            reach = reach_distance(templates, moved, W, np.maximum(lower.max(axis=1), 1e-300)) + extent
            balls = tree.query_ball_point(np.column_stack([x0 + dx, y0 + dy]), r=reach)
            ci = np.repeat(np.arange(nc), [len(b) for b in balls])
            hi = np.concatenate([np.asarray(b, np.int64) for b in balls]) if ci.size else ci
            M = np.maximum(lower, _site_max(W @ unit_pairs(templates, moved, hx, hy, ci, hi), ci, nc))
            evaluated = int(ci.size)
    worst = M.max(axis=1) if M.size else np.zeros(nc)
    with np.errstate(divide="ignore"):
        factor = np.where(worst > 0, thr / np.where(worst > 0, worst, 1.0), np.inf)
        if unit == "woningen":
            amount, head = float(homes), factor * homes
        else:
            nox = W[:, 0::2].sum(axis=1)
            amount = float(nox.max()) if nox.size else 0.0
            per = np.where(M > 0, thr * nox[None, :] / np.where(M > 0, M, 1.0), np.inf)
            head = per.min(axis=1) if per.size else np.full(nc, np.inf)
    n_all = candidate_offsets(radius_m, step_m)[0].size
    notes = "" if nc == n_all else f" {n_all - nc} kandidaatlocatie(s) buiten Nederland of in zee weggelaten."
    return HeadroomGrid(
        case=project.name, x=x0 + dx, y=y0 + dy, dx=dx, dy=dy, in_netherlands=np.ones(nc, bool),
        max_deposition=M, factor=factor, headroom=head, unit="woningen" if unit == "woningen"
        else "kg NOx/jr", amount=amount, scenarios=scen, threshold=thr, radius_m=float(radius_m),
        step_m=float(step_m), location=(x0, y0), evaluated=evaluated,
        sources=_source_shapes(plan, keys, *scen[0], project.location.outline) if scen else [],
        footnote=_headroom_footnote(kg, thr, unit, homes, scen) + notes)


def _site_max(dep, ci, nc):
    """Largest value per site: dep (n_s, m) grouped by ci (m,) -> (nc, n_s)."""
    out = np.zeros((nc, dep.shape[0]))
    for s in range(dep.shape[0]):  # a few phase-years; sites stay vectorised
        np.maximum.at(out[:, s], ci, dep[s])
    return out


def _headroom_footnote(kg, thr, unit, homes, scen) -> str:
    phases = ", ".join(f"{p} {y}" for p, y in scen)
    how = ("woningen: het project als geheel geschaald (alle emissies evenredig met het aantal "
           f"woningen, nu {homes})" if unit == "woningen" else
           "kg NOx/jr: de grootste NOx-emissie per jaar (met de NH3-verhouding van het project)")
    return (f"stikstofcalc {__version__} - voortoets, geen AERIUS-berekening. Het project (terrein, "
            f"routes, emissies per fase en jaar: {phases}) is ongewijzigd naar elke kandidaatlocatie "
            f"verschoven; ruimte = drempel {nl_num(thr)} mol N/ha/jr / hoogste depositie op een "
            f"stikstofgevoelige Natura 2000-hexagon binnen 25 km; {how}. Rekenkern: OPS-LT-emulator "
            f"({load_model().provenance.split(';')[0]}); kengetallen editie {kg.edition}. {terrain_phrase()} "
            f"{ATTRIBUTION}")
