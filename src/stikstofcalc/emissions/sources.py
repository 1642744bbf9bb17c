"""Project site geometry -> deposition sources (templates of unit emission).

The emission table (:func:`stikstofcalc.emissions.inventory.emission_sources`) gives every
source row a geometry (``geometry_wkt``) and AERIUS characteristics (height, heat
content, spread). This module checks the site geometry and turns the rows into
*source templates*: one per distinct geometry and characteristics, expanded into the
engine's elementary sources (points, squares, straight segments) carrying 1 kg/yr in
total. Deposition is linear in emission, so the deposition of any row is its emission
times the unit deposition of its template (:mod:`stikstofcalc.assessment.core`).

- machinery: an area source over the site outline (``location.outline``), or a point
  at the location when there is no outline or the site is smaller than
  :data:`SMALL_SITE_M2`; AERIUS default characteristics of sector 3220 unless given;
- traffic: a line source along each access route (its polyline, or a straight line of
  the given length and bearing from the site point) until it merges into general traffic;
- heating: a point at the location;
- reference sources: a point at their own x, y.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stikstofcalc import compiled
from stikstofcalc.geo.geometry import (  # noqa: F401 - segment_distance also offered here
    Elementary, expand, parse_wkt, points_in_polygon, segment_distance)
from stikstofcalc.errors import InputError, MultipleInputErrors, StikstofError

#: A site outline smaller than this is modelled as a point at the location [m2]
#: (estimate: below about 0.2 ha the area spread changes deposition beyond ~200 m by < 1 %).
SMALL_SITE_M2 = 2_000.0
#: Roughness length used for all sources [m] (the engine's default).
DEFAULT_Z0_M = 0.2
#: Characteristics for a reference source whose sector has no default in the edition
#: (height [m], heat content [MW], spread [m]); AERIUS default of sector 4110 (animal
#: housing), RIVM standaard bronkenmerken 2024. Every use is noted in the output.
FALLBACK_CHARACTERISTICS = (5.0, 0.0, 2.5)
#: Tolerance of the coarse national outline check [m]: a point farther than this outside
#: :data:`NL_OUTLINE_RD` is refused as "outside the Netherlands or in the sea".
OUTLINE_TOLERANCE_M = 5_000.0

#: Coarse outline of the Dutch land territory incl. the Wadden islands and the
#: IJsselmeer, RD New [m] (about 50 vertices, drawn for this check; an estimate good to a
#: few km, hence :data:`OUTLINE_TOLERANCE_M`). It only catches locations clearly in the
#: North Sea or abroad (swapped or mistyped coordinates).
NL_OUTLINE_RD = np.array([
    (10000, 376000), (18000, 393000), (30000, 406000), (42000, 420000), (52000, 431000),
    (66000, 446000), (78000, 460000), (89000, 476000), (99000, 498000), (104000, 530000),
    (110000, 553000), (112000, 566000), (122000, 586000), (135000, 593000),
    (155000, 604000), (180000, 610000), (205000, 612000), (230000, 614000),
    (255000, 612000), (270000, 598000), (277000, 575000), (270000, 540000),
    (258000, 520000), (270000, 490000), (270000, 475000), (255000, 455000),
    (252000, 440000), (232000, 432000), (205000, 428000), (196000, 418000),
    (202000, 400000), (213000, 378000), (208000, 358000), (200000, 340000),
    (206000, 320000), (200000, 306000), (176000, 306000), (173000, 320000),
    (183000, 338000), (186000, 350000), (170000, 358000), (160000, 366000),
    (150000, 366000), (135000, 372000), (120000, 380000), (105000, 382000),
    (82000, 382000), (72000, 370000), (55000, 360000), (35000, 364000), (17000, 368000),
    (10000, 376000)], dtype=float)


# --------------------------------------------------------------------------- checks


def in_netherlands(x, y, *, tolerance_m: float = OUTLINE_TOLERANCE_M) -> np.ndarray:
    """Whether RD points lie on Dutch territory (coarse; within ``tolerance_m`` of it).

    Parameters
    ----------
    x, y : array_like
        RD New coordinates [m].
    tolerance_m : float, keyword-only
        Points outside :data:`NL_OUTLINE_RD` but nearer than this to it count as inside [m].

    Returns
    -------
    ndarray of bool
    """
    x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
    if x.shape == y.shape and x.ndim == 1 and x.size <= _FEW_POINTS and tolerance_m >= 1.0:
        kernel = _in_outline_kernel()
        if kernel is not None:  # a case's site: compiled, no numpy pass per edge
            out = np.zeros(x.size, bool)
            r = NL_OUTLINE_RD
            kernel(np.ascontiguousarray(x), np.ascontiguousarray(y), r[:-1, 0].copy(), r[:-1, 1].copy(),
                   r[1:, 0].copy(), r[1:, 1].copy(), float(tolerance_m), out)
            return out
    return _in_netherlands_numpy(x, y, tolerance_m)


def _in_netherlands_numpy(x, y, tolerance_m):
    """Reference of :func:`in_netherlands` (numpy over points x edges)."""
    ring = NL_OUTLINE_RD
    inside = points_in_polygon(x, y, [ring], boundary=True)
    d = segment_distance(x, y, ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]).min(axis=1)
    return inside | (d <= tolerance_m)


#: Up to this many points :func:`in_netherlands` runs compiled, point by point [-]
#: (one site per case in validation: 0.2 ms of numpy calls -> a few microseconds).
_FEW_POINTS = 64
_IN_OUTLINE: list = []


def _in_outline_kernel():
    """Compiled point-in-outline test (numba), or None without numba.

    Per point: inside by the even-odd rule, or within the tolerance of an edge, the
    distance computed as :func:`segment_distance` does (so the same numbers). A point
    on an edge, or within rounding of it, is within the tolerance (used from 1 m on) and
    counts as inside under either boundary rule, so the result equals
    :func:`_in_netherlands_numpy` (tested).
    """
    if not compiled.enabled():
        return None
    if not _IN_OUTLINE:
        from stikstofcalc.compiled import njit  # loads numba: not at import

        @njit(cache=True)
        def kernel(x, y, ax, ay, bx, by, tol, out):
            for i in range(x.size):
                px, py = x[i], y[i]
                inside = False
                best = np.inf
                for k in range(ax.size):
                    x0, y0, x1, y1 = ax[k], ay[k], bx[k], by[k]
                    if (y0 > py) != (y1 > py):
                        xc = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
                        if px < xc:
                            inside = not inside
                    dx, dy = x1 - x0, y1 - y0
                    len2 = dx * dx + dy * dy
                    if not len2 > 0:
                        len2 = 1.0
                    t = ((px - x0) * dx + (py - y0) * dy) / len2
                    t = min(max(t, 0.0), 1.0)
                    best = min(best, math.hypot(px - x0 - t * dx, py - y0 - t * dy))
                out[i] = inside or best <= tol

        _IN_OUTLINE.append(kernel)
    return _IN_OUTLINE[0]


def polyline_crosses_itself(points) -> bool:
    """True if two non-adjacent segments of an open polyline touch or cross.

    Parameters
    ----------
    points : (n, 2) array_like
        Vertices [m]; repeated consecutive vertices are ignored.
    """
    p = np.asarray(points, dtype=float)
    keep = np.r_[True, np.any(np.diff(p, axis=0) != 0, axis=1)]
    p = p[keep]
    n = len(p) - 1
    if n < 3:
        return False
    a, b = p[:-1], p[1:]
    i, j = np.triu_indices(n, k=2)

    def orient(o, q, r):
        return np.sign((q[:, 0] - o[:, 0]) * (r[:, 1] - o[:, 1]) - (q[:, 1] - o[:, 1]) * (r[:, 0] - o[:, 0]))

    def within(o, q, r):
        return ((np.minimum(o[:, 0], q[:, 0]) <= r[:, 0]) & (r[:, 0] <= np.maximum(o[:, 0], q[:, 0]))
                & (np.minimum(o[:, 1], q[:, 1]) <= r[:, 1]) & (r[:, 1] <= np.maximum(o[:, 1], q[:, 1])))

    A, B, C, D = a[i], b[i], a[j], b[j]
    o1, o2, o3, o4 = orient(A, B, C), orient(A, B, D), orient(C, D, A), orient(C, D, B)
    hit = ((o1 * o2 < 0) & (o3 * o4 < 0)) | ((o1 == 0) & within(A, B, C)) | (
        (o2 == 0) & within(A, B, D)) | ((o3 == 0) & within(C, D, A)) | ((o4 == 0) & within(C, D, B))
    return bool(hit.any())


def outline_wkt(outline) -> str:
    """A site outline ``((x, y), ...)`` as a closed WKT polygon."""
    ring = list(outline) + ([outline[0]] if tuple(outline[0]) != tuple(outline[-1]) else [])
    return "POLYGON ((" + ", ".join(f"{x!r} {y!r}" for x, y in ring) + "))"


def check_site(project) -> None:
    """Check the site geometry of a project (RD coordinates); raise every problem at once.

    Checks: the location lies in the Netherlands and not in the sea (coarse outline,
    :func:`in_netherlands`); the site outline is a simple polygon that contains the
    location; no access route crosses itself.

    Raises
    ------
    MultipleInputErrors
        Each problem names the case, the field, the value and what was expected.
    """
    loc, errors = project.location, []

    def add(field, message, value, expected):
        errors.append(InputError(message, case=project.name, file=project.file, field=field,
                                 value=value, expected=expected))

    if loc.x is not None and not in_netherlands(loc.x, loc.y)[0]:
        add("location", f"({loc.x:.0f}, {loc.y:.0f}) ligt buiten Nederland of in zee",
            f"{loc.x:.0f}, {loc.y:.0f}", "RD New-coördinaten van een locatie op Nederlands land (x, y in "
            "meter; controleer of x en y niet zijn verwisseld)")
    if loc.outline is not None:
        try:
            geom = parse_wkt(outline_wkt(loc.outline))
        except StikstofError as exc:
            add("location.outline", f"de omtrek van het terrein is geen geldige veelhoek: {exc.message or exc}",
                str(loc.outline)[:60], "een enkelvoudige veelhoek [[x, y], ...] in RD-meters")
        else:
            if loc.x is not None and not points_in_polygon(
                    [loc.x], [loc.y], [r for p in geom.polygons for r in p], boundary=True)[0]:
                add("location.outline", f"de omtrek van het terrein bevat de locatie "
                    f"({loc.x:.0f}, {loc.y:.0f}) niet", str(loc.outline)[:60],
                    "een omtrek om de locatie x, y heen (of een locatie binnen de omtrek)")
    for i, route in enumerate(project.routes):
        if route.geometry is not None and polyline_crosses_itself(route.geometry):
            add(f"routes[{i}].geometry", f"route {route.name!r} snijdt zichzelf",
                str(route.geometry)[:60], "een routelijn die zichzelf niet snijdt")
    if errors:
        raise MultipleInputErrors(errors, file=project.file)


# --------------------------------------------------------------------------- templates


@dataclass
class Templates:
    """Source templates: distinct geometry + characteristics, each carrying 1 kg/yr.

    Attributes
    ----------
    keys : list of tuple
        ``(geometry_wkt, height_m, heat_mw, spread_m)`` per template.
    labels : list of str
        ``point``, ``area (n squares)`` or ``line (n segments)`` per template.
    height_m, heat_mw, spread_m : ndarray, shape (n_templates,)
    elementary : Elementary
        The engine's elementary sources; ``parent`` is the template index and ``weight``
        the share of the template's 1 kg/yr.
    bbox : ndarray, shape (n_templates, 4)
        Bounding box of each template's geometry (xmin, ymin, xmax, ymax) [m].
    notes : list of str
    """

    keys: list
    labels: list
    height_m: np.ndarray
    heat_mw: np.ndarray
    spread_m: np.ndarray
    elementary: Elementary
    bbox: np.ndarray
    notes: list

    def __len__(self):
        return len(self.keys)

    def index(self, keys) -> np.ndarray:
        """Template index for each key (KeyError for an unknown key)."""
        lookup = {k: i for i, k in enumerate(self.keys)}
        return np.array([lookup[k] for k in keys], dtype=np.int64)

    def source_points(self):
        """All elementary start/centre points and segment ends (for receptor selection)."""
        e = self.elementary
        return e.x, e.y, e.x_end, e.y_end


def row_keys(table: pd.DataFrame, project) -> list:
    """Template key of every emission row: site geometry rule applied, characteristics filled.

    Machinery on a site smaller than :data:`SMALL_SITE_M2` becomes a point at the
    location; missing characteristics (reference sources of an unknown sector) take
    :data:`FALLBACK_CHARACTERISTICS`.
    """
    loc = project.location
    point = f"POINT ({loc.x!r} {loc.y!r})"
    small = loc.outline is None or parse_wkt(outline_wkt(loc.outline)).area_m2 < SMALL_SITE_M2
    site = point if small else outline_wkt(loc.outline)
    fh, fq, fs = FALLBACK_CHARACTERISTICS

    def col(name, fill=np.nan):  # float column as a list, missing values filled
        v = table[name].to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isnan(v), fill, v).tolist()

    keys = []
    isnan = math.isnan
    for wkt, kind, x, y, h, q, s in zip(table["geometry_wkt"].tolist(), table["source_kind"].tolist(),
                                        col("x_m"), col("y_m"), col("height_m", fh),
                                        col("heat_mw", fq), col("spread_m", fs)):
        if kind == "machinery":
            wkt = site
        elif not isinstance(wkt, str) or not wkt.startswith("LINESTRING"):
            wkt = f"POINT ({x!r} {y!r})" if not isnan(x) else point
        keys.append((wkt, h, q, min(s, h)))
    return keys


def build_templates(keys) -> Templates:
    """Expand distinct template keys into the engine's elementary sources.

    Parameters
    ----------
    keys : iterable of tuple
        ``(geometry_wkt, height_m, heat_mw, spread_m)`` (duplicates are merged, first
        appearance order kept).
    """
    uniq = list(dict.fromkeys(keys))
    geoms = [parse_wkt(k[0]) for k in uniq]
    n = len(uniq)
    nan = np.full(n, np.nan)
    el = expand(nan, nan, np.zeros(n), nan, nan, geoms)
    labels, bbox = [], np.zeros((n, 4))
    for i, g in enumerate(geoms):
        bbox[i] = g.bounds
        count = int(np.sum(el.parent == i))
        labels.append({"point": "point", "linestring": f"line ({count} segments)",
                       "polygon": f"area ({count} squares)"}[g.kind])
    arr = np.array([k[1:] for k in uniq], dtype=float).reshape(n, 3)
    return Templates(uniq, labels, arr[:, 0], arr[:, 1], arr[:, 2], el, bbox, [])


#: Note when :func:`row_keys` filled missing characteristics with the fallback.
FALLBACK_NOTE = ("sommige bronnen van de referentiesituatie hebben geen bronkenmerken in de editie: "
                 "hoogte 5 m, warmte-inhoud 0 MW en spreiding 2,5 m aangenomen (AERIUS-standaard van "
                 "sector 4110)")


def fallback_notes(table: pd.DataFrame) -> list:
    """[:data:`FALLBACK_NOTE`] when a row of the emission table has no height, heat content
    or spread (so that :func:`row_keys` fills them in), else []. Based on the missing
    values themselves: a source stated with 5 m, 0 MW and 2.5 m is not a fallback."""
    cols = [c for c in ("height_m", "heat_mw", "spread_m") if c in table.columns]
    if not cols or not len(table):
        return []
    return [FALLBACK_NOTE] if bool(table[cols].isna().to_numpy().any()) else []


# --------------------------------------------------------------------------- characteristics per sector

#: Choice of the heat content of mobile machinery (CLI ``--werktuig-warmte``, project field
#: ``construction.werktuig_warmte``, batch column of the same key) -> quantity of the key-figure
#: table ``source_characteristics``. ``conservatief`` (default): 0 MW, the reading of five real
#: AERIUS 2024.0.1 results that OPS-LT reproduces only with 0 MW (status reported);
#: ``instructie``: the AERIUS instruction table (0.02 MW sector 3210, 0.035 MW sector 3220).
MACHINERY_HEAT = {"conservatief": "heat_content", "instructie": "heat_content_instruction"}
DEFAULT_MACHINERY_HEAT = "conservatief"

#: Why each sector default is used (the table in ``docs/assessment.md``; in every provenance).
SECTOR_WHY = {
    3100: "bouwverkeer en verkeer gebruiksfase (lijnbron langs de route): AERIUS-standaard "
          "bronkenmerken van rijdend verkeer",
    3210: "landbouw mobiele werktuigen: alleen voor ingelezen bronnen (IMAER, bronnenlijst); "
          "warmte-inhoud volgens --werktuig-warmte",
    3220: "mobiele werktuigen bouw (vlakbron over het terrein, of punt bij een klein terrein); "
          "warmte-inhoud volgens --werktuig-warmte",
    8200: "verwarming van woningen (puntbron op de locatie): AERIUS-standaard van de sector woningen",
    8640: "verwarming van kantoren en winkels (puntbron op de locatie): AERIUS-standaard",
}


def machinery_heat_choice(value=None, project=None) -> str:
    """The machinery heat-content choice: ``value``, else the project's
    ``construction.werktuig_warmte``, else :data:`DEFAULT_MACHINERY_HEAT`.

    Raises
    ------
    InputError
        For an unknown choice, naming the case and the field.
    """
    field_ = "--werktuig-warmte"
    if value is None and project is not None:
        raw = (getattr(project, "raw", None) or {}).get("construction") or {}
        value = raw.get("werktuig_warmte") if isinstance(raw, dict) else None
        field_ = "construction.werktuig_warmte"
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_MACHINERY_HEAT
    key = str(value).strip().lower()
    if key not in MACHINERY_HEAT:
        raise InputError(f"onbekende keuze voor de warmte-inhoud van mobiele werktuigen {value!r}",
                         case=getattr(project, "name", None), file=getattr(project, "file", None),
                         field=field_, value=value, expected=" of ".join(MACHINERY_HEAT))
    return key


def other_machinery_heat(choice: str) -> str:
    """The alternative of a machinery heat-content choice (for the sensitivity)."""
    return next(k for k in MACHINERY_HEAT if k != choice)


def apply_machinery_heat(table: pd.DataFrame, kg, choice: str) -> pd.DataFrame:
    """The emission table with the heat content of its machinery rows set by ``choice``.

    Parameters
    ----------
    table : DataFrame
        Emission-source table (``source_kind``, ``sector_id``, ``heat_mw``, ``provenance``).
    kg : Kengetallen
    choice : str
        A key of :data:`MACHINERY_HEAT`.

    Returns
    -------
    DataFrame
        ``table`` itself when nothing changes (the default choice: the inventory fills
        ``heat_content``), else a copy with ``heat_mw`` [MW] of the machinery rows from
        the chosen quantity of their sector, its row id added to ``provenance``. Sectors
        without that quantity keep their value.
    """
    if "source_kind" not in table or not len(table):
        return table
    kind = table["source_kind"].to_numpy(object)
    mach = kind == "machinery"
    if not mach.any():
        return table
    quantity = MACHINERY_HEAT[choice]
    sid = table["sector_id"].to_numpy(object)
    heat = table["heat_mw"].to_numpy(float, na_value=np.nan).copy()
    prov = table["provenance"].to_numpy(object).copy() if "provenance" in table else None
    changed = False
    for s in dict.fromkeys(sid[mach].tolist()):
        if s is None or (isinstance(s, float) and math.isnan(s)):
            continue
        fig = kg.figure("source_characteristics", int(s), quantity, required=False)
        if fig is None:
            continue
        rows = mach & (sid == s)
        if not np.all(heat[rows] == fig.value):
            changed = True
            heat[rows] = fig.value
            if prov is not None:
                tag = f"{fig.row_id} [{fig.status}{', override' if fig.overridden else ''}]"
                prov[rows] = [f"{p}; {tag}" if isinstance(p, str) and p else tag for p in prov[rows]]
    if not changed:
        return table
    out = table.copy()
    out["heat_mw"] = heat
    if prov is not None:
        out["provenance"] = prov
    return out


def characteristics_table(kg, machinery_heat: str = DEFAULT_MACHINERY_HEAT) -> list[dict]:
    """Per sector the characteristics the assessment uses and why (for provenance and docs).

    Returns
    -------
    list of dict
        ``sector_id, sector_name, height_m, heat_mw, spread_m`` (heat of machinery
        sectors by ``machinery_heat``; ``heat_mw_alternative`` the other choice), the
        row ids with status, and ``why``; last the fallback for a sector without defaults.
    """
    frame = kg.tables["source_characteristics"]
    rows = []
    for sid in dict.fromkeys(frame["sector_id"].tolist()):
        s = int(sid)
        heat_q = "heat_content"
        alt = None
        if kg.has("source_characteristics", s, "heat_content_instruction"):
            heat_q = MACHINERY_HEAT[machinery_heat]
            alt = kg.figure("source_characteristics", s, MACHINERY_HEAT[other_machinery_heat(machinery_heat)])
        figs = {k: kg.figure("source_characteristics", s, q, required=False)
                for k, q in (("height_m", "height"), ("heat_mw", heat_q), ("spread_m", "spread"))}
        name = frame.loc[frame["sector_id"] == sid, "sector_name"].iloc[0] if "sector_name" in frame else ""
        row = {"sector_id": s, "sector_name": str(name)}
        row.update({k: (f.value if f else None) for k, f in figs.items()})
        row["rows"] = [f"{f.row_id} [{f.status}]" for f in figs.values() if f]
        if alt is not None:
            row["heat_mw_alternative"] = alt.value
            row["rows_alternative"] = [f"{alt.row_id} [{alt.status}]"]
        row["why"] = SECTOR_WHY.get(s, "AERIUS-standaard van de sector")
        rows.append(row)
    h, q, sp = FALLBACK_CHARACTERISTICS
    rows.append({"sector_id": None, "sector_name": "sector zonder standaard in de editie",
                 "height_m": h, "heat_mw": q, "spread_m": sp, "rows": [],
                 "why": "referentiebronnen of ingelezen bronnen zonder kenmerken: AERIUS-standaard "
                        "van sector 4110 (dierhuisvesting), genoteerd in de uitvoer"})
    return rows
