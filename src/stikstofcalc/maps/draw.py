"""Map pictures: deposition per phase and year, and headroom around a location.

Two layers, as everywhere in the package:

- *compute* (plain numpy, no matplotlib): :func:`deposition_maps` gives, per phase and
  calendar year of a project, the deposition on every receptor hexagon in view, the
  largest value and where, the source shapes and the map extent; :func:`headroom_grid`
  moves the project over a grid of candidate sites and gives at each the largest
  project size that still rounds to 0,00.
- *draw* (matplotlib with the Agg backend, the optional extra ``stikstofcalc[maps]``):
  :func:`plot_deposition_map`, :func:`plot_headroom_map` return a Figure;
  :func:`write_deposition_maps`, :func:`write_headroom_map` write PNG files.

Linearity (``docs/assessment.md``): the deposition of a phase-year is ``W @ U`` with ``U``
the deposition of 1 kg/yr of every source template, so both maps need one engine call
(the headroom map one call for all candidate sites, the sites as case codes).
See ``docs/maps.md``.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stikstofcalc.assessment.sites import (  # noqa: F401 - compute layer, re-exported for the map callers
    candidate_offsets, project_templates, reach_distance, scenario_weights, translated_sources, unit_pairs,
)
from stikstofcalc.conventions import CALCULATION_DISTANCE_M
from stikstofcalc.errors import InputError, StikstofError

#: A4 landscape [in] (297 x 210 mm).
A4_LANDSCAPE_IN = (11.69, 8.27)
#: Default resolution [dpi]: 150 gives 1754 x 1240 px, sharp on paper.
DEFAULT_DPI = 150
#: Lowest colour class = threshold x this (below: "< 0,00005", grey) [-].
FLOOR_FRACTION = 0.01
#: Class boundaries per decade, as multiples of the threshold: 1, 2, 10, 20, ... [-].
CLASS_STEPS = (1.0, 2.0)
#: Map extent: padding around sources, maximum and hexagons >= threshold [-], and the
#: smallest half-width [m].
MAP_PAD_FRACTION = 0.12
MAP_MIN_HALF_WIDTH_M = 2_000.0
#: Map axes in figure fractions (left, bottom, width, height); the side panel is right of it.
MAP_AXES = (0.06, 0.13, 0.60, 0.76)
#: Headroom grid defaults [m].
HEADROOM_RADIUS_M = 10_000.0
HEADROOM_STEP_M = 1_000.0
#: Nearest hexagons evaluated first per candidate site (a lower bound of its maximum) [-].
HEADROOM_SEED = 24
#: Labels of Natura 2000 areas per map (the largest in view) [-].
MAX_AREA_LABELS = 8

_MISSING_MPL = ("kaarten hebben matplotlib nodig, een optioneel extra: pip install 'stikstofcalc[maps]'")


class MapsUnavailable(StikstofError, ImportError):
    """matplotlib is not installed (``pip install 'stikstofcalc[maps]'``)."""


def require_matplotlib():
    """Import matplotlib with the Agg backend (no display); raise a clear error if missing."""
    try:
        import matplotlib
    except ImportError as exc:
        raise MapsUnavailable(_MISSING_MPL) from exc
    import sys

    if "matplotlib.pyplot" not in sys.modules:  # figures are drawn on Agg canvases anyway
        matplotlib.use("Agg")
    return matplotlib


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
    from stikstofcalc.assessment.core import KIND_LABEL

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


def _extent(points, *, aspect: float) -> tuple:
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
    from stikstofcalc.assessment.core import terrain_phrase
    from stikstofcalc.geo.natura2000 import ATTRIBUTION_NL as ATTRIBUTION, load_natura2000

    prov = assessment.provenance
    rec = assessment.receptors
    receptors = ("standaard: alle hexagons in stikstofgevoelige Natura 2000-gebieden binnen 25 km "
                 "(screening; kan alleen overschatten)" if rec["source"] == "default" else
                 f"eigen bestand {rec['source']}")
    return (f"stikstofcalc {prov['version']} - voortoets, geen AERIUS-berekening. Rekenkern: "
            f"OPS-LT-emulator ({prov['model'].split(';')[0]}); kengetallen editie "
            f"{prov['kengetallen']['edition']}; regime {prov['regime']['name']} (drempel "
            f"{_nl_num(prov['regime']['threshold_mol_ha_yr'])} mol N/ha/jr, afgerond 0,00). "
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
    from stikstofcalc.assessment.core import PHASE_LABEL, receptor_set, assess_project, unit_deposition
    from stikstofcalc.geo.natura2000 import load_natura2000
    from stikstofcalc.geo.receptors import HEXAGON_RADIUS_M
    from stikstofcalc.rules import format_deposition

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
    U = unit_deposition(templates, rx, ry)
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
        ext = _extent(np.concatenate(pts), aspect=aspect)
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

    from stikstofcalc.geo.receptors import default_receptors
    from stikstofcalc.rules import get_regime
    from stikstofcalc.emissions.sources import in_netherlands

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
        from stikstofcalc.deposition.fast import table_cache

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
    from stikstofcalc._version import __version__
    from stikstofcalc.assessment.core import terrain_phrase
    from stikstofcalc.deposition.model import load_model
    from stikstofcalc.geo.natura2000 import ATTRIBUTION_NL as ATTRIBUTION

    phases = ", ".join(f"{p} {y}" for p, y in scen)
    how = ("woningen: het project als geheel geschaald (alle emissies evenredig met het aantal "
           f"woningen, nu {homes})" if unit == "woningen" else
           "kg NOx/jr: de grootste NOx-emissie per jaar (met de NH3-verhouding van het project)")
    return (f"stikstofcalc {__version__} - voortoets, geen AERIUS-berekening. Het project (terrein, "
            f"routes, emissies per fase en jaar: {phases}) is ongewijzigd naar elke kandidaatlocatie "
            f"verschoven; ruimte = drempel {_nl_num(thr)} mol N/ha/jr / hoogste depositie op een "
            f"stikstofgevoelige Natura 2000-hexagon binnen 25 km; {how}. Rekenkern: OPS-LT-emulator "
            f"({load_model().provenance.split(';')[0]}); kengetallen editie {kg.edition}. {terrain_phrase()} "
            f"{ATTRIBUTION}")


# --------------------------------------------------------------------------- drawing helpers


def _nl_num(value, sig: int = 3) -> str:
    """A number with a Dutch decimal comma: enough decimals for ``sig`` significant digits."""
    if value is None or not np.isfinite(value):
        return "-"
    if value == 0:
        return "0"
    digits = max(0, sig - 1 - int(math.floor(math.log10(abs(value)))))
    s = f"{value:,.{digits}f}".replace(",", "_").replace(".", ",").replace("_", ".")
    if "," in s:
        s = s.rstrip("0").rstrip(",")
    return s


def class_bounds(threshold: float, largest: float) -> np.ndarray:
    """Colour class boundaries: threshold x (0.01, 0.02, 0.1, 0.2, 1, 2, 10, ...) up past ``largest``.

    Returns
    -------
    ndarray
        Increasing boundaries [mol N/ha/yr], from ``threshold x FLOOR_FRACTION`` to the first
        boundary above ``max(largest, 2 x threshold)``; the threshold is one of them.
    """
    top = max(float(largest), CLASS_STEPS[-1] * threshold) if np.isfinite(largest) else threshold
    k0 = int(round(math.log10(FLOOR_FRACTION)))
    k1 = int(math.ceil(math.log10(top / threshold))) + 1
    b = np.array([threshold * s * 10.0 ** k for k in range(k0, k1 + 1) for s in CLASS_STEPS])
    last = int(np.searchsorted(b, top, side="right"))
    return b[:last + 1]


def _class_colours(bounds, threshold):
    """Blues below the threshold, yellow-orange-red-purple from it on."""
    import matplotlib as mpl

    n = len(bounds) - 1
    n_below = int(np.searchsorted(bounds, threshold))
    below = mpl.colormaps["Blues"](np.linspace(0.15, 0.55, max(n_below, 1)))[:n_below]
    hot = mpl.colormaps["YlOrRd"](np.linspace(0.25, 1.0, max(n - n_below, 1)))[:n - n_below]
    if n - n_below > 5:  # long tails end in purple, for print contrast
        hot[-1] = mpl.colors.to_rgba("#49006a")
    return np.vstack([below, hot])


def _new_figure(figsize, dpi):
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _km_axes(ax, extent):
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal", adjustable="box")
    step = _nice((extent[1] - extent[0]) / 6, minimum=1000.0)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MultipleLocator(step))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:.0f}"))
    ax.set_xlabel("RD x (km)", fontsize=9)
    ax.set_ylabel("RD y (km)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(True, color="#999999", lw=0.3, alpha=0.5, zorder=0)


def _nice(value, *, minimum=0.0):
    """The 1-2-5 number at or below ``value`` (at least ``minimum``)."""
    value = max(value, minimum)
    e = 10.0 ** math.floor(math.log10(value))
    return max([m * e for m in (1, 2, 5, 10) if m * e <= value + 1e-9] or [e])


def _scale_bar_and_north(ax, extent):
    from matplotlib.font_manager import FontProperties
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    length = _nice((extent[1] - extent[0]) / 5)
    label = f"{length / 1000:g} km".replace(".", ",") if length >= 1000 else f"{length:g} m"
    bar = AnchoredSizeBar(ax.transData, length, label, "lower left", pad=0.5, sep=4,
                          frameon=True, size_vertical=(extent[3] - extent[2]) / 150,
                          fontproperties=FontProperties(size=9))
    bar.set_gid("scale-bar")
    bar.patch.set_alpha(0.85)
    ax.add_artist(bar)
    ax.annotate("N", xy=(0.955, 0.965), xytext=(0.955, 0.87), xycoords="axes fraction",
                ha="center", va="center", fontsize=12, fontweight="bold", gid="north-arrow",
                arrowprops=dict(facecolor="black", edgecolor="black", width=3.5, headwidth=11,
                                headlength=10),
                bbox=dict(boxstyle="circle,pad=0.2", fc="white", ec="none", alpha=0.8), zorder=8)


def _draw_natura2000(ax, extent, area_names=None, *, fill=True, label_points=None):
    """Natura 2000 outlines (shipped simplified data) that reach into the extent."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patheffects import withStroke

    from stikstofcalc.geo.natura2000 import load_natura2000, load_outlines

    o = load_outlines()
    off, xy = o["ring_offsets"], o["xy"]
    ext, holes, nums = [], [], set()
    for i in range(len(off) - 1):  # ~ a few thousand rings: cheap bounding-box test
        ring = xy[off[i]:off[i + 1]]
        if (ring[:, 0].max() < extent[0] or ring[:, 0].min() > extent[1]
                or ring[:, 1].max() < extent[2] or ring[:, 1].min() > extent[3]):
            continue
        (holes if o["ring_is_hole"][i] else ext).append(ring)
        nums.add(int(o["ring_n2k_number"][i]))
    ax.add_collection(PolyCollection(ext, facecolors="#dcefd9" if fill else "none",
                                     edgecolors="#2e7d32", linewidths=0.8, zorder=1, gid="natura2000"))
    if holes:
        ax.add_collection(PolyCollection(holes, facecolors="white" if fill else "none",
                                         edgecolors="#2e7d32", linewidths=0.5, zorder=1.1))
    names = load_natura2000().area_names(np.array(sorted(nums), dtype=np.int64)) if nums else []
    if label_points is None:
        return dict(zip(sorted(nums), names))
    for num, (lx, ly, _) in sorted(label_points.items(), key=lambda kv: -kv[1][2])[:MAX_AREA_LABELS]:
        ax.text(lx, ly, (area_names or {}).get(num, ""), fontsize=8.5, style="italic",
                color="#1b5e20", ha="center", va="center", zorder=7, clip_on=True,
                path_effects=[withStroke(linewidth=2.5, foreground="white")])
    return dict(zip(sorted(nums), names))


def _area_label_points(x, y, num, extent):
    """Per area in view: the hexagon nearest the centre of its hexagons in view, and their count."""
    inner = ((x > extent[0] + 0.08 * (extent[1] - extent[0])) & (x < extent[1] - 0.08 * (extent[1] - extent[0]))
             & (y > extent[2] + 0.05 * (extent[3] - extent[2])) & (y < extent[3] - 0.05 * (extent[3] - extent[2])))
    out = {}
    for n in np.unique(num[inner & (num > 0)]):
        k = np.flatnonzero(inner & (num == n))
        mx, my = x[k].mean(), y[k].mean()
        j = k[np.argmin(np.hypot(x[k] - mx, y[k] - my))]
        out[int(n)] = (float(x[j]), float(y[j]), k.size)
    return out


def _draw_sources(ax, shapes):
    """Site polygons, route lines and point sources; returns legend handles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Polygon

    handles = {}
    for s in shapes:
        if s.kind == "outline":
            ax.add_patch(Polygon(s.xy, closed=True, fc="none", ec="#bf360c", lw=1.2, ls="--",
                                 zorder=5, gid="project-outline"))
            handles.setdefault("outline", Line2D([], [], color="#bf360c", lw=1.2, ls="--",
                                                 label="projectgebied"))
        if s.kind == "site":
            ax.add_patch(Polygon(s.xy, closed=True, fc="#ff9800", ec="#bf360c", lw=1.6, alpha=0.9,
                                 hatch="///", zorder=5, gid="source-site"))
            handles.setdefault("site", Patch(fc="#ff9800", ec="#bf360c", hatch="///",
                                             label="bouwterrein (mobiele werktuigen)"))
        elif s.kind == "route":
            ax.plot(s.xy[:, 0], s.xy[:, 1], color="#6a1b9a", lw=2.4, solid_capstyle="round",
                    zorder=5, gid="source-route")
            handles.setdefault("route", Line2D([], [], color="#6a1b9a", lw=2.4,
                                               label="route (tot opgaan in het verkeer)"))
        else:
            ax.plot(s.xy[:, 0], s.xy[:, 1], ls="none", marker="^", ms=8, mfc="#ff9800", mec="black",
                    zorder=6, gid="source-point")
            handles.setdefault("point", Line2D([], [], ls="none", marker="^", ms=8, mfc="#ff9800",
                                               mec="black", label="puntbron (" + s.label + ")"))
    return list(handles.values())


def _threshold_edges(receptor_id, above_ids):
    """The threshold contour: hexagon edges between a hexagon at or above the threshold
    and a neighbouring hexagon of the set below it.

    Edges towards hexagons outside the set (the edge of a Natura 2000 area) are not part
    of the contour (the area outline is drawn anyway). Flat-topped hexagons (:func:`receptors.hexagon_vertices`):
    edge ``k`` joins corners ``k`` and ``k + 1`` (at 60 k and 60 (k + 1) degrees) and faces
    the neighbour at ``60 k + 30`` degrees, ``sqrt(3) r`` away.
    """
    from stikstofcalc.geo.receptors import (HEXAGON_HEIGHT_M, hexagon_vertices, receptor_id_to_xy,
        xy_to_receptor_id)

    ids = receptor_id[np.isin(receptor_id, above_ids)]
    if ids.size == 0:
        return np.zeros((0, 2, 2))
    cx, cy = receptor_id_to_xy(ids)
    ang = np.deg2rad(60.0 * np.arange(6) + 30.0)
    nb = xy_to_receptor_id(cx[:, None] + HEXAGON_HEIGHT_M * np.cos(ang),
                           cy[:, None] + HEXAGON_HEIGHT_M * np.sin(ang), outside="zero")
    open_edge = np.isin(nb, receptor_id) & ~np.isin(nb, above_ids)
    v = hexagon_vertices(ids)
    seg = np.stack([v, np.roll(v, -1, axis=1)], axis=2)  # (n, 6, 2 ends, 2)
    return seg[open_edge]


# --------------------------------------------------------------------------- draw: deposition


def plot_deposition_map(m: DepositionMap, *, figsize=A4_LANDSCAPE_IN, dpi: int = DEFAULT_DPI):
    """Draw one deposition map (A4 landscape); returns the matplotlib Figure.

    Artists carry a ``gid`` for tests and post-processing: ``deposition`` (the hexagon
    PolyCollection, its array the deposition [mol N/ha/yr]), ``threshold`` (edges of the
    hexagons at or above the threshold), ``maximum`` (marker at the largest value),
    ``natura2000``, ``source-*``, ``scale-bar``, ``north-arrow``.
    """
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from stikstofcalc.geo.receptors import hexagon_vertices

    fig = _new_figure(figsize, dpi)
    ax = fig.add_axes(MAP_AXES)
    _km_axes(ax, m.extent)
    labels = _area_label_points(m.x, m.y, m.n2k_number, m.extent)
    _draw_natura2000(ax, m.extent, m.area_names, label_points=labels)

    bounds = class_bounds(m.threshold, m.max_deposition)
    colours = _class_colours(bounds, m.threshold)
    cmap = ListedColormap(colours).with_extremes(under="#e6e6e6", over=colours[-1])
    norm = BoundaryNorm(bounds, cmap.N)
    hexes = PolyCollection(hexagon_vertices(m.receptor_id), array=m.deposition, cmap=cmap,
                           norm=norm, edgecolors="face", linewidths=0.15, zorder=2, gid="deposition")
    ax.add_collection(hexes)
    if (~m.relevant).any():
        ax.add_collection(PolyCollection(hexagon_vertices(m.receptor_id[~m.relevant]),
                                         facecolors="none", edgecolors="#555555", linewidths=0,
                                         hatch="////", zorder=2.5, gid="not-relevant"))
    edges = _threshold_edges(m.receptor_id, m.above_ids)
    ax.add_collection(LineCollection(edges, colors="black", linewidths=1.3, zorder=3,
                                     gid="threshold"))
    handles = _draw_sources(ax, m.sources)
    if np.isfinite(m.max_x):
        ax.plot([m.max_x], [m.max_y], ls="none", marker="*", ms=17, mfc="white", mec="black",
                mew=1.4, zorder=9, gid="maximum")
        _label_maximum(ax, m)
    _scale_bar_and_north(ax, m.extent)

    cax = fig.add_axes([0.71, 0.50, 0.022, 0.36])
    cb = fig.colorbar(hexes, cax=cax, extend="min", ticks=bounds, spacing="uniform")
    cb.ax.set_yticklabels([_nl_num(b) + ("  \u25c0 drempel (0,00 \u2192 0,01)" if b == m.threshold else "")
                           for b in bounds], fontsize=8)
    for t, b in zip(cb.ax.get_yticklabels(), bounds):
        t.set_fontweight("bold" if b == m.threshold else "normal")
    cb.ax.axhline(m.threshold, color="black", lw=2.5)
    cax.set_title("Depositie\n(mol N/ha/jr)", fontsize=9, loc="left", pad=8)

    handles = [Patch(fc="#e6e6e6", ec="#bbbbbb",
                     label=f"hexagon < {_nl_num(bounds[0])} mol N/ha/jr"),
               Line2D([], [], color="black", lw=1.3,
                      label=f"grens hexagons \u2265 {_nl_num(m.threshold)} mol N/ha/jr"),
               Line2D([], [], ls="none", marker="*", ms=13, mfc="white", mec="black",
                      label="hoogste depositie"),
               Patch(fc="#dcefd9", ec="#2e7d32", label="Natura 2000-gebied")] + handles
    if (~m.relevant).any():
        handles.append(Patch(fc="none", ec="#555555", hatch="////",
                             label="niet relevant (telt niet mee)"))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.70, 0.455), fontsize=8,
               frameon=False, handlelength=2.2)
    fig.text(0.06, 0.955, m.case, fontsize=15, fontweight="bold", va="bottom")
    fig.text(0.06, 0.915, f"Stikstofdepositie {m.phase_label} {m.year}  -  {_verdict_line(m)}",
             fontsize=11, va="bottom")
    fig.text(0.70, 0.255, _summary(m), fontsize=8.5, va="top", linespacing=1.4)
    fig.text(0.06, 0.012, "\n".join(textwrap.wrap(m.footnote, 200)), fontsize=5.8,
             color="#444444", va="bottom", linespacing=1.3)
    return fig


def _verdict_line(m) -> str:
    return (f"hoogste {_nl_num(m.max_deposition, 4)} mol N/ha/jr (afgerond {m.max_display}): "
            f"{m.verdict}")


def _summary(m) -> str:
    where = (f"{m.max_area}, receptor {m.max_receptor_id}\n(RD x {_nl_num(m.max_x, 6)} m, "
             f"y {_nl_num(m.max_y, 6)} m)" if m.max_receptor_id else "geen Natura 2000-hexagon binnen 25 km")
    n = _nl_num(m.n_hexagons_above, 9)
    return (f"Hoogste depositie: {_nl_num(m.max_deposition, 4)} mol N/ha/jr\n(afgerond {m.max_display})\n"
            f"Waar: {where}\nHexagons \u2265 {_nl_num(m.threshold)} mol N/ha/jr: {n} ({n} ha)")


def _label_maximum(ax, m):
    ext = m.extent
    fx = (m.max_x - ext[0]) / (ext[1] - ext[0])
    fy = (m.max_y - ext[2]) / (ext[3] - ext[2])
    ox = -60 if fx > 0.6 else 60
    oy = -45 if fy > 0.6 else 45
    ax.annotate(f"hoogste: {_nl_num(m.max_deposition, 3)}\n{m.max_area}", xy=(m.max_x, m.max_y),
                xytext=(ox, oy), textcoords="offset points", fontsize=8.5, fontweight="bold",
                ha="right" if ox < 0 else "left", va="center", zorder=10, gid="maximum-label",
                bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="black", lw=0.8, alpha=0.92),
                arrowprops=dict(arrowstyle="-|>", color="black", lw=1.0, shrinkB=9))


def write_deposition_maps(project, assessment=None, *, path=None, directory=None,
                          dpi: int = DEFAULT_DPI, **kwargs) -> list[Path]:
    """Write deposition maps as PNG: ``path`` the phase-year with the largest deposition,
    ``directory`` one file per phase and year (``<case>_<phase>_<year>.png``).

    Keyword arguments go to :func:`deposition_maps`. Returns the files written.
    """
    require_matplotlib()
    maps = deposition_maps(project, assessment, **kwargs)
    written = []
    if path is not None and maps:
        worst = max(maps, key=lambda mm: mm.max_deposition)
        written.append(_save(plot_deposition_map(worst, dpi=dpi), path, dpi))
    if directory is not None:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for mm in maps:
            written.append(_save(plot_deposition_map(mm, dpi=dpi),
                                 d / f"{_slug(mm.case)}_{mm.phase}_{mm.year}.png", dpi))
    return written


def _slug(text) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", str(text)).strip("_")[:60] or "project"


def _save(fig, path, dpi, *, palette: bool = True, group=None) -> Path:
    """Write the figure as PNG atomically (a temporary file renamed).

    ``palette``: store as a 256-colour palette PNG (Pillow, which matplotlib installs);
    the maps have a few flat colours, so this is visually lossless and about 3x smaller.
    ``group``: an :class:`~stikstofcalc.io.atomic.AtomicGroup` the file joins (default its own).
    """
    import contextlib
    import io

    from stikstofcalc.io.atomic import atomic_path

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError("onbekend uitvoertype", file=str(path), value=path.suffix or "(geen extensie)",
                         expected="een bestandsnaam op .png")
    with (contextlib.nullcontext(group.path(path)) if group is not None else atomic_path(path)) as tmp:
        if palette:
            from PIL import Image

            buf = io.BytesIO()
            fig.savefig(buf, dpi=dpi, format="png")
            buf.seek(0)
            img = Image.open(buf).convert("RGB")
            img.quantize(colors=256, dither=Image.Dither.NONE).save(tmp, format="PNG", optimize=True)
        else:
            fig.savefig(tmp, dpi=dpi, format="png")
    return path


# --------------------------------------------------------------------------- draw: headroom


def plot_headroom_map(g: HeadroomGrid, *, figsize=A4_LANDSCAPE_IN, dpi: int = DEFAULT_DPI):
    """Draw the headroom map; returns the Figure.

    ``gid`` ``headroom`` is the PolyCollection of candidate cells (array: the headroom in
    ``g.unit``, ``inf`` shown as the top class); ``project-site`` the project's own location.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import BoundaryNorm, ListedColormap
    import matplotlib as mpl
    from matplotlib.patheffects import withStroke

    fig = _new_figure(figsize, dpi)
    ax = fig.add_axes(MAP_AXES)
    half = g.radius_m + g.step_m / 2
    aspect = (MAP_AXES[2] * figsize[0]) / (MAP_AXES[3] * figsize[1])
    extent = _extent(np.array([[g.location[0] - half, g.location[1] - half],
                               [g.location[0] + half, g.location[1] + half]]), aspect=aspect)
    _km_axes(ax, extent)
    finite = g.headroom[np.isfinite(g.headroom)]
    lo = max(float(finite.min()) if finite.size else 1.0, 1e-3)
    hi = max(float(finite.max()) if finite.size else 10.0, lo * 10)
    bounds = np.array([s * 10.0 ** k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
                       for s in (1, 2, 5)])
    bounds = bounds[(bounds >= bounds[bounds <= lo].max()) & (bounds <= bounds[bounds >= hi].min())]
    colours = mpl.colormaps["YlGnBu"](np.linspace(0.1, 0.95, len(bounds) - 1))
    cmap = ListedColormap(colours).with_extremes(under=colours[0], over=colours[-1])
    norm = BoundaryNorm(bounds, cmap.N)
    s = g.step_m / 2
    cells = np.stack([np.column_stack([g.x - s, g.y - s]), np.column_stack([g.x + s, g.y - s]),
                      np.column_stack([g.x + s, g.y + s]), np.column_stack([g.x - s, g.y + s])], axis=1)
    coll = PolyCollection(cells, array=g.headroom, cmap=cmap, norm=norm, edgecolors="white",
                          linewidths=0.6, zorder=2, alpha=0.92, gid="headroom")
    ax.add_collection(coll)
    _draw_natura2000(ax, extent, fill=False)
    for sh in g.sources:
        if sh.kind == "route":
            ax.plot(sh.xy[:, 0], sh.xy[:, 1], color="#6a1b9a", lw=1.6, zorder=5)
        elif sh.kind == "site":
            ax.fill(sh.xy[:, 0], sh.xy[:, 1], fc="#ff9800", ec="#bf360c", lw=1.2, zorder=5)
    ax.plot([g.location[0]], [g.location[1]], ls="none", marker="o", ms=9, mfc="none", mec="#d50000",
            mew=2.2, zorder=6, gid="project-site")
    if len(g.x) <= 500:
        fs = 7 if len(g.x) <= 150 else 5.5
        for x, y, v in zip(g.x, g.y, g.headroom):
            dark = np.isfinite(v) and norm(v) > 0.55 * cmap.N
            ax.text(x, y, _amount(v, g.unit), ha="center", va="center", fontsize=fs, zorder=7,
                    color="white" if dark else "black", clip_on=True,
                    fontweight="bold" if np.isfinite(v) and v >= g.amount else "normal",
                    path_effects=[withStroke(linewidth=1.5, foreground="#08306b" if dark else "white")])
    _scale_bar_and_north(ax, extent)
    cax = fig.add_axes([0.71, 0.50, 0.022, 0.36])
    cb = fig.colorbar(coll, cax=cax, ticks=bounds, spacing="uniform", extend="max")
    cb.ax.set_yticklabels([_nl_num(b) for b in bounds], fontsize=8)
    if bounds[0] <= g.amount <= bounds[-1]:
        cb.ax.axhline(g.amount, color="#d50000", lw=2.5)
        cb.ax.annotate(f"het project nu:\n{_nl_num(g.amount, 4)} {g.unit}", xy=(1.0, g.amount),
                       xycoords=("axes fraction", "data"), xytext=(48, 0), textcoords="offset points",
                       va="center", fontsize=8, fontweight="bold", color="#d50000",
                       arrowprops=dict(arrowstyle="-", lw=1.0, color="#d50000"))
    what = "woningen" if g.unit == "woningen" else "kg NOx/jr"
    cax.set_title(f"Ruimte tot 0,00\n({what})", fontsize=9, loc="left", pad=8)
    phase = ", ".join(sorted({p for p, _ in g.scenarios}))
    fig.text(0.06, 0.955, g.case, fontsize=15, fontweight="bold", va="bottom")
    fig.text(0.06, 0.915, f"Ruimte per locatie: hoeveel {what} geeft nog 0,00 mol N/ha/jr "
             f"({phase}; raster {_nl_num(g.step_m / 1000)} km binnen {_nl_num(g.radius_m / 1000)} km)",
             fontsize=11, va="bottom")
    text = (f"Elk vak: het project verschoven naar het midden van het vak; het getal is de grootste "
            f"omvang ({what}) die in elke fase en elk jaar nog 0,00 geeft. Vet: het project past "
            f"zoals het is ({_nl_num(g.amount, 4)} {what}). Rode cirkel: de projectlocatie.")
    fig.text(0.70, 0.40, "\n".join(textwrap.wrap(text, 46)), fontsize=8.5, va="top", linespacing=1.4)
    fig.text(0.06, 0.012, "\n".join(textwrap.wrap(g.footnote, 200)), fontsize=5.8, color="#444444",
             va="bottom", linespacing=1.3)
    return fig


def _amount(v, unit) -> str:
    """Headroom as shown: whole homes (rounded down, strictly below the supremum), or kg NOx/yr."""
    if not np.isfinite(v):
        return "\u221e"
    if unit == "woningen":
        whole = max(math.ceil(v) - 1, 0)
        return "<1" if whole == 0 and v > 0 else f"{whole:,}".replace(",", ".")
    return _nl_num(v, 2)


def write_headroom_map(project, path, *, csv=None, dpi: int = DEFAULT_DPI, **kwargs) -> list[Path]:
    """Compute :func:`headroom_grid` (keyword arguments) and write the PNG (and a CSV)."""
    require_matplotlib()
    g = headroom_grid(project, **kwargs)
    written = [_save(plot_headroom_map(g, dpi=dpi), path, dpi)]
    if csv is not None:
        from stikstofcalc.io.atomic import write_csv_atomic

        write_csv_atomic(g.to_frame(), csv)
        written.append(Path(csv))
    return written


def write_batch_maps(cases, directory, *, regime=None, dpi: int = DEFAULT_DPI,
                     book=None) -> tuple[list[Path], list]:
    """One deposition map per phase and year of every valid case of a batch workbook.

    Parameters
    ----------
    cases : path
        The workbook or CSV given to :func:`stikstofcalc.batch.run.run_batch`.
    directory : path
        Maps go to ``DIRECTORY/<case>_<phase>_<year>.png``.
    regime : str, keyword-only
        For cases without a regime cell (as for the batch).
    book : RawBook, keyword-only
        The book already read (saves reading it twice).

    Returns
    -------
    written : list of Path
    failed : list of (case_id, message)
        Cases whose maps could not be drawn (their errors are in the batch's ``fouten``
        sheet already, or are listed here); the other cases are still drawn. A case whose
        id gives the same file name as an earlier one (``zaak/1``, ``zaak:1``) is drawn
        under a unique name (``zaak_1_2_...``) and listed here with a note.
    """
    from stikstofcalc.io.atomic import unique_names
    from stikstofcalc.batch.run import read_book, validate_book

    require_matplotlib()
    v = validate_book(read_book(cases) if book is None else book, regime=regime)
    written, failed = [], []
    slugs = [_slug(c.case_id) for c in v.cases]
    names = unique_names(slugs)
    for i, (case, slug, name) in enumerate(zip(v.cases, slugs, names)):
        if name != slug:  # the earlier case whose maps have this name (also a renamed one)
            first = next(c.case_id for c, n in zip(v.cases[:i], names[:i]) if n.lower() == slug.lower())
            failed.append((case.case_id, f"zaak-id geeft dezelfde bestandsnaam als zaak {first!r} "
                                         f"({slug}); kaarten heten {name}_*.png"))
        try:
            maps = deposition_maps(case.project, regime=case.regime, receptors=case.receptors)
        except StikstofError as exc:
            failed.append((case.case_id, str(exc)))
            continue
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for mm in maps:
            written.append(_save(plot_deposition_map(mm, dpi=dpi),
                                 d / f"{name}_{mm.phase}_{mm.year}.png", dpi))
    return written, failed
