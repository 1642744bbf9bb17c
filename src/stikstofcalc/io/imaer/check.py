"""Re-check submitted AERIUS calculations: emissions, deposition and plausibility.

For every situation of every file (GML, or the GML inside an AERIUS PDF):

- the sources with the emissions the file states, and the emissions recomputed from
  the activity data the file carries (off-road fuel, hours, AdBlue with the AUB
  method; vehicles per road with the SRM road factors), with the shipped key
  figures; a difference beyond ``tolerance`` is flagged;
- deposition with our engine, on the file's own receptors / calculation points when
  it is a result file (then compared: largest value, where, distribution of the
  ratios), else on the default Natura 2000 receptors within 25 km;
- plausibility flags: a traffic route too short to merge into general traffic,
  SCR machinery without AdBlue (or above the AERIUS cap), source height or heat far
  from the sector default, sources far from the rest of the site or outside the
  Netherlands, a calculation year that does not fit the construction period.

A file that cannot be read is listed with its error; the others are still checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc.emissions import models as emissions
from stikstofcalc.errors import ImaerFileError, StikstofError, read_reason
from stikstofcalc.io.imaer import model
from stikstofcalc.io.imaer.reader import read_gml
from stikstofcalc.emissions.inventory import stagnation_type
from stikstofcalc.geo.geometry import expand, parse_wkt
from stikstofcalc.emissions.project import RD_X_RANGE, RD_Y_RANGE
from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays
from stikstofcalc.deposition.terrain import terrain_info
from stikstofcalc.geo.receptors import default_receptors
from stikstofcalc import kengetallen as kgmod
from stikstofcalc.io.atomic import AtomicGroup
from stikstofcalc.io.excel.cells import finish_sheets

#: A route shorter than this has probably not merged into general traffic [m] (estimate:
#: a rule of thumb of agencies, no legal number; override with ``min_route_m``).
MIN_ROUTE_M = 500.0
#: A non-road source farther than this from the median of the site's sources is flagged [m]
#: (estimate; override with ``site_radius_m``).
SITE_RADIUS_M = 1000.0
#: Characteristics "far" from the sector default: outside this factor and beyond the margins.
FAR_FACTOR, FAR_HEIGHT_M, FAR_HEAT_MW = 2.0, 1.0, 0.05
#: AERIUS caps the AdBlue it credits at 7 % of the fuel (LVVN 2024 par. 8.1.1; IMAER-java warns).
MAX_ADBLUE_RATIO = 0.07
#: Characteristics for a sector without a default in the key figures (height [m], heat [MW],
#: spread [m]): AERIUS's default of sector 4110 (as :mod:`stikstofcalc.emissions.sources`).
FALLBACK_CHARACTERISTICS = (5.0, 0.0, 2.5)


def read_any(path) -> list:
    """Situations in a GML file, or in every GML embedded in an AERIUS PDF."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImaerFileError(f"kan niet worden gelezen ({read_reason(exc)})", file=str(path)) from None
    if data.startswith(b"%PDF"):
        from stikstofcalc.io.imaer.pdf import gml_from_pdf

        return [read_gml(gml, name=label) for label, gml in gml_from_pdf(data, name=str(path))]
    return [read_gml(data, name=str(path))]


#: Dutch column labels of the report workbook (row 1; row 2 keeps the key).
LABELS = {
    "file": "bestand", "situation": "situatie", "situation_type": "soort situatie", "year": "rekenjaar",
    "version": "IMAER-versie", "aerius_version": "AERIUS-versie", "gml_creator": "gemaakt met",
    "sources": "bronnen", "points": "rekenpunten", "nox_stated": "NOx opgegeven (kg/jaar)",
    "nh3_stated": "NH3 opgegeven (kg/jaar)", "emission_differences": "emissieverschillen",
    "flags": "signalen", "receptors": "rekenpunten doorgerekend",
    "max_ours": "hoogste depositie stikstofcalc (mol N/ha/jr)", "max_at": "op rekenpunt",
    "max_at_x": "x (RD, m)", "max_at_y": "y (RD, m)",
    "max_file": "hoogste depositie in bestand (mol N/ha/jr)", "max_file_at": "op rekenpunt (bestand)",
    "ours_at_file_max": "stikstofcalc op dat rekenpunt (mol N/ha/jr)",
    "ratio_p05": "verhouding stikstofcalc/bestand P5", "ratio_p50": "verhouding P50 (mediaan)",
    "ratio_p95": "verhouding P95", "max_abs_diff": "grootste verschil (mol N/ha/jr)",
    "notes": "opmerkingen", "source": "bron-id", "feature": "soort object", "label": "omschrijving",
    "sector_id": "AERIUS-sector", "nox_recomputed": "NOx herberekend (kg/jaar)",
    "nh3_recomputed": "NH3 herberekend (kg/jaar)", "status": "status", "flag": "signaal",
    "message": "melding", "line": "regel", "element": "element"}
#: Dutch status words of the ``bronnen`` sheet.
STATUS_NL = {"ok": "ok", "differs": "wijkt af", "not recomputed": "niet herberekend"}


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    """A report table as shown: Dutch labels in row 1, the keys in row 2, Dutch status words."""
    frame = frame.copy()
    if "status" in frame.columns:
        frame["status"] = frame["status"].map(lambda s: STATUS_NL.get(s, s))
    keys = pd.DataFrame([list(frame.columns)], columns=frame.columns)
    out = pd.concat([keys, frame.astype(object)], ignore_index=True)
    out.columns = [LABELS.get(c, c) for c in frame.columns]
    return out


@dataclass
class CheckReport:
    """Tables of a check run (pandas DataFrames) and whether any file failed."""

    situations: pd.DataFrame
    sources: pd.DataFrame
    flags: pd.DataFrame
    errors: pd.DataFrame
    notes: list = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return len(self.errors) > 0

    def write_excel(self, path) -> Path:
        """Write the report as an Excel workbook (atomically)."""
        def save(fh):
            with pd.ExcelWriter(fh, engine="openpyxl") as xw:
                for name, frame in (("situaties", self.situations), ("bronnen", self.sources),
                                    ("signalen", self.flags), ("fouten", self.errors)):
                    _shown(frame).to_excel(xw, sheet_name=name, index=False)
                pd.DataFrame({"toelichting": self.notes}).to_excel(xw, sheet_name="toelichting", index=False)
                finish_sheets(xw.book, header_rows=2, skip=("toelichting",))
                finish_sheets(xw.book, header_rows=1, only=("toelichting",))

        path = Path(path)
        with AtomicGroup() as group:
            group.write_saved(path, save)
        return path


# --------------------------------------------------------------------------- emissions


def _nl(value) -> str:
    """A number with 4 significant digits and a Dutch decimal comma."""
    return f"{value:.4g}".replace(".", ",")


def _machine_emission(m, kg):
    """(nox, nh3) [kg/yr] of one Standard machine, or a reason it cannot be recomputed."""
    if m.code not in kg.values("machinery_factors", "category"):
        return None, f"geen emissiefactoren voor {m.code} in editie {kg.edition}"

    def f(q):
        fig = kg.figure("machinery_factors", m.code, q, required=False)
        return fig.value if fig else 0.0

    fuel, hours, adblue = (m.fuel_l or 0.0), (m.hours_h or 0.0), (m.adblue_l or 0.0)
    nox = emissions.machinery_emission(fuel, hours, adblue, factor_per_fuel=f("nox_per_fuel"),
                                       factor_per_hour=f("nox_per_hour"),
                                       factor_per_adblue=f("nox_per_adblue"),
                                       max_adblue_fuel_ratio=f("max_adblue_fuel_ratio"))
    nh3 = emissions.machinery_emission(fuel, hours, 0.0, factor_per_fuel=f("nh3_per_fuel"),
                                       factor_per_hour=f("nh3_per_hour"))
    return (float(nox), float(nh3)), None


def _vehicle_emission(src, v, year, length_m, kg):
    vc = model.VEHICLE_CLASSES.get(v.vehicle_type) if v.kind == "standard" else None
    road = model.our_road_type(src.road_type or "", v.max_speed, v.strict)
    if vc is None or road is None:
        return None, f"voertuig {v.vehicle_type} ({v.kind}) op {src.road_type}: geen emissiefactoren"
    years = sorted(int(y) for y in kg.values("road_factors_nox", "year"))
    y = min(max(year, years[0]), years[-1])
    stag = v.stagnation or 0.0
    nox, nox_s = (kg.figure("road_factors_nox", (y, r, vc), "nox_per_vehicle_km").value
                  for r in (road, stagnation_type(road)))
    nh3, nh3_s = (kg.figure("road_factors_nh3", (r, vc), "nh3_per_vehicle_km").value
                  for r in (road, stagnation_type(road)))
    out = tuple(float(emissions.road_emission(v.per_year, length_m, a, stagnated_factor_per_vehicle_km=b,
                                              stagnation_fraction=stag)) for a, b in ((nox, nox_s), (nh3, nh3_s)))
    return out, None if y == year else f"wegverkeersfactoren van {y} gebruikt voor {year}"


def recompute(src, year, kg):
    """Recomputed (nox, nh3) [kg/yr] of a source, and notes; (None, notes) if not possible."""
    if not src.machines and not src.vehicles:
        return None, ["alleen opgegeven (geen activiteitsgegevens)"]
    total, notes = np.zeros(2), []
    for m in src.machines:
        if m.kind == "custom":
            total += (m.emissions.get("NOX", 0.0), m.emissions.get("NH3", 0.0))
            continue
        value, why = _machine_emission(m, kg)
        if value is None:
            return None, [why]
        total += value
    length = parse_wkt(src.wkt).length_m if src.vehicles else 0.0
    for v in src.vehicles:
        value, why = _vehicle_emission(src, v, year, length, kg)
        if value is None:
            return None, [why]
        total += value
        if why:
            notes.append(why)
    return (float(total[0]), float(total[1])), list(dict.fromkeys(notes))


# --------------------------------------------------------------------------- plausibility


def _sector_default(kg, sector):
    if sector is None or not kg.has("source_characteristics", int(sector), "height"):
        return None
    return tuple(kg.figure("source_characteristics", int(sector), q).value
                 for q in ("height", "heat_content", "spread"))


def _far(value, default, margin):
    if value is None:
        return False
    lo, hi = default / FAR_FACTOR, default * FAR_FACTOR
    return abs(value - default) > margin and not lo <= value <= hi


def plausibility(sit, kg, *, min_route_m=MIN_ROUTE_M, site_radius_m=SITE_RADIUS_M,
                 construction_period=None, today_year=None):
    """Plausibility flags of one situation: list of dicts (source, flag, message)."""
    flags = []

    def add(src, flag, message):
        flags.append({"source": None if src is None else src.gml_id,
                      "label": None if src is None else src.label, "flag": flag, "message": message})

    centres = {}
    for src in sit.sources:
        g = parse_wkt(src.wkt)
        xmin, ymin, xmax, ymax = g.bounds
        centres[src.gml_id] = ((xmin + xmax) / 2, (ymin + ymax) / 2)
        if not (RD_X_RANGE[0] <= xmin and xmax <= RD_X_RANGE[1] and RD_Y_RANGE[0] <= ymin
                and ymax <= RD_Y_RANGE[1]):
            add(src, "outside_netherlands", "geometrie ligt buiten het RD-gebied van Nederland")
        if src.vehicles and g.kind == "linestring" and g.length_m < min_route_m:
            add(src, "short_route", f"verkeer over maar {g.length_m:.0f} m gemodelleerd: het is "
                f"waarschijnlijk nog niet opgegaan in het heersende verkeersbeeld (vuistregel >= {min_route_m:.0f} m)")
        for m in src.machines:
            stage = model.STAGE_CODE.match(m.code or "")
            if stage and stage.group(3) == "J" and not m.adblue_l:
                add(src, "adblue_missing", f"{m.code} ({m.description}) is een SCR-klasse "
                    "(code eindigt op J) maar er is geen AdBlue opgegeven: AERIUS rekent dan geen reductie")
            if m.adblue_l and m.fuel_l and m.adblue_l / m.fuel_l > MAX_ADBLUE_RATIO:
                add(src, "adblue_above_cap", f"{m.code}: AdBlue {m.adblue_l / m.fuel_l:.0%} van de brandstof; "
                    f"AERIUS rekent hoogstens {MAX_ADBLUE_RATIO:.0%}")
        default = _sector_default(kg, src.sector_id)
        own = [(src.height_m, src.heat_mw, src.label)] + [
            (m.height_m, m.heat_mw, m.description) for m in src.machines if m.kind == "custom"]
        for height, heat, what in own if default else ():
            if _far(height, default[0], FAR_HEIGHT_M) or _far(heat, default[1], FAR_HEAT_MW):
                add(src, "characteristics", f"{what}: hoogte {height} m, warmte {heat} MW, ver van de "
                    f"standaard van sector {src.sector_id} ({default[0]} m, {default[1]} MW)")
    site = [c for s in sit.sources if not s.vehicles for c in [centres[s.gml_id]]]
    if len(site) >= 2:
        mx, my = np.median(np.array(site), axis=0)
        for src in sit.sources:
            cx, cy = centres[src.gml_id]
            d = float(np.hypot(cx - mx, cy - my))
            if not src.vehicles and d > site_radius_m:
                add(src, "outside_site", f"{d:.0f} m van het midden van de andere bronnen "
                    f"(> {site_radius_m:.0f} m): een bron buiten het terrein?")
    today_year = today_year or dt.date.today().year
    if construction_period is not None:
        first, last = construction_period
        if sit.situation_type == "TEMPORARY" and not first <= sit.year <= last:
            add(None, "year", f"rekenjaar {sit.year} ligt buiten de bouwperiode "
                f"{first}-{last}")
        if sit.situation_type == "PROPOSED" and sit.year <= last:
            add(None, "year", f"gebruiksfase berekend voor {sit.year}, voordat de bouw klaar is ({last})")
    elif sit.situation_type in ("TEMPORARY", "PROPOSED") and sit.year < today_year:
        add(None, "year", f"rekenjaar {sit.year} ligt in het verleden: de realisatie- of gebruiksfase "
            "wordt berekend voor het jaar waarin zij plaatsvindt")
    return flags


# --------------------------------------------------------------------------- deposition


def _characteristics(src, kg, notes):
    default = _sector_default(kg, src.sector_id)
    if default is None:
        default = FALLBACK_CHARACTERISTICS
        notes.append(f"sector {src.sector_id}: geen standaardkenmerken in de kengetallen; "
                     f"{FALLBACK_CHARACTERISTICS} (hoogte m, warmte MW, spreiding m) gebruikt waar het bestand "
                     "ze niet geeft")
    h = src.height_m if src.height_m is not None else default[0]
    q = src.heat_mw if src.heat_mw is not None else default[1]
    s = src.spread_m if src.spread_m is not None else default[2]
    return h, q, min(s, h)


def _deposition_note() -> str:
    """How :func:`deposition` computes, from the engine's own default terrain (it said "op gras,
    z0 0,2 m" while the roughness map was used)."""
    import inspect

    if inspect.signature(deposition_arrays).parameters["terrain"].default == "uniform":
        terrain = "overal de z0 van de bronnen, receptoren in gras"
    else:
        info = terrain_info()
        terrain = (f"de ruwheidskaart {info['map']} (RIVM/OPS, uit LGN7, {info['licence']}) bij de bron, "
                   "langs het pad en per rekenpunt (gemiddelde over 6,25 ha), zoals AERIUS")
    return (f"depositie: de OPS-emulator van stikstofcalc met {terrain}; de waarde in het rekenpunt zelf "
            "(calc middelt een hexagon met een bron erin over deelpunten); een voortoets, geen "
            "AERIUS-berekening")


def deposition(sit, kg):
    """Our deposition for a situation, and the comparison with the file's results.

    Returns
    -------
    dict
        ``receptors`` (count), ``max_ours`` [mol N/ha/yr], ``max_at`` (receptor id or
        point id with x, y), and for a result file ``max_file``, ``max_file_at``,
        ``ours_at_file_max``, ``ratio_p05/p50/p95`` (ours / file, points with a
        result > 0) and ``max_abs_diff``; ``notes``.
    """
    notes = []
    srcs = [s for s in sit.sources if s.nox > 0 or s.nh3 > 0]
    if not srcs:
        return {"receptors": 0, "notes": "geen emissie"}
    geoms = [parse_wkt(s.wkt) for s in srcs]
    n = len(srcs)
    nan = np.full(n, np.nan)
    el = expand(nan, nan, np.zeros(n), nan, nan, geoms)
    chars = np.array([_characteristics(s, kg, notes) for s in srcs])[el.parent]
    nox = np.array([s.nox for s in srcs])[el.parent] * el.weight
    nh3 = np.array([s.nh3 for s in srcs])[el.parent] * el.weight
    sources = SourceArrays(el.x, el.y, chars[:, 0], chars[:, 1], nox, nh3, spread_m=chars[:, 2],
                           area_side_m=el.area_side_m, x_end=el.x_end, y_end=el.y_end)
    if sit.points:
        pts = sit.points
        ids = [p.receptor_id if p.receptor_id is not None else p.gml_id for p in pts]
        rx, ry = np.array([p.x for p in pts]), np.array([p.y for p in pts])
    else:
        table = default_receptors(el.x, el.y, el.x_end, el.y_end)
        ids, rx, ry = list(table["receptor_id"]), table["x"].to_numpy(), table["y"].to_numpy()
    if len(ids) == 0:
        return {"receptors": 0, "notes": "geen Natura 2000-rekenpunt binnen 25 km"}
    result = deposition_arrays(sources, ReceptorArrays(rx, ry), allow_extrapolation=True)
    ours = result.total
    k = int(np.argmax(ours))
    out = {"receptors": len(ids), "max_ours": float(ours[k]), "max_at": ids[k],
           "max_at_x": float(rx[k]), "max_at_y": float(ry[k])}
    if sit.is_result_file:
        theirs = np.array([sum(v for (kind, _), v in p.results.items() if kind == "DEPOSITION")
                           for p in sit.points])
        j = int(np.argmax(theirs))
        good = theirs > 0
        ratio = ours[good] / theirs[good] if good.any() else np.array([np.nan])
        out.update(max_file=float(theirs[j]), max_file_at=ids[j], ours_at_file_max=float(ours[j]),
                   ratio_p05=float(np.nanpercentile(ratio, 5)), ratio_p50=float(np.nanmedian(ratio)),
                   ratio_p95=float(np.nanpercentile(ratio, 95)),
                   max_abs_diff=float(np.max(np.abs(ours - theirs))))
    out["notes"] = "; ".join(dict.fromkeys(notes + list(result.notes)))
    return out


# --------------------------------------------------------------------------- driver


def check_situation(sit, kg, *, tolerance=0.01, with_deposition=True, **flag_options):
    """(situation row, source rows, flag rows) of one situation."""
    base = {"file": sit.file, "situation": sit.situation_name, "situation_type": sit.situation_type,
            "year": sit.year}
    rows, flags = [], []
    for src in sit.sources:
        value, notes = recompute(src, sit.year, kg)
        row = dict(base, source=src.gml_id, feature=src.feature, label=src.label,
                   sector_id=src.sector_id, nox_stated=src.nox, nh3_stated=src.nh3,
                   nox_recomputed=None if value is None else value[0],
                   nh3_recomputed=None if value is None else value[1], notes="; ".join(notes))
        status = "not recomputed" if value is None else "ok"
        if value is not None:
            for sub, stated, again in (("NOx", src.nox, value[0]), ("NH3", src.nh3, value[1])):
                if abs(again - stated) > max(tolerance * abs(stated), 1e-3):
                    status = "differs"
                    flags.append(dict(base, source=src.gml_id, label=src.label, flag="emission",
                                      message=f"{sub} opgegeven {_nl(stated)} kg/jaar, herberekend "
                                              f"{_nl(again)} kg/jaar met editie {kg.edition}"))
        row["status"] = status
        rows.append(row)
    flags += [dict(base, **f) for f in plausibility(sit, kg, **flag_options)]
    summary = dict(base, version=sit.version, aerius_version=sit.aerius_version,
                   gml_creator=sit.gml_creator, sources=len(sit.sources), points=len(sit.points),
                   nox_stated=sum(s.nox for s in sit.sources), nh3_stated=sum(s.nh3 for s in sit.sources),
                   emission_differences=sum(r["status"] == "differs" for r in rows),
                   flags=len(flags))
    if with_deposition:
        summary.update(deposition(sit, kg))
    return summary, rows, flags


def check_files(paths, *, kengetallen=None, tolerance=0.01, with_deposition=True, **flag_options):
    """Check IMAER GML files and AERIUS PDFs; a bad file is reported, the rest still checked.

    Parameters
    ----------
    paths : iterable of path
    kengetallen : Kengetallen, optional
        Key figures for recomputation (default: the newest edition).
    tolerance : float
        Relative emission difference that is flagged [-] (plus 0.001 kg/yr absolute).
    with_deposition : bool
        Compute deposition (the slowest part).
    **flag_options
        ``min_route_m``, ``site_radius_m``, ``construction_period`` (first, last year),
        ``today_year``: see :func:`plausibility`.

    Returns
    -------
    CheckReport
    """
    kg = kengetallen if kengetallen is not None else kgmod.load()
    situations, sources, flags, errors = [], [], [], []
    for path in paths:
        try:
            for sit in read_any(path):
                s, r, f = check_situation(sit, kg, tolerance=tolerance,
                                          with_deposition=with_deposition, **flag_options)
                situations.append(s)
                sources += r
                flags += f
        except StikstofError as exc:
            errors.append({"file": str(path), "line": getattr(exc, "row", None),
                           "element": getattr(exc, "field", None), "message": str(exc)})
    notes = [f"emissies herberekend met kengetallen-editie {kg.edition}; wegverkeersfactoren: NOx editie "
             "IenW 2020, NH3 uit testgegevens (schattingen), dus verschillen bij wegverkeer zijn te verwachten",
             _deposition_note()]
    flag_cols = ["file", "situation", "situation_type", "year", "source", "label", "flag", "message"]
    return CheckReport(pd.DataFrame(situations), pd.DataFrame(sources), pd.DataFrame(flags, columns=flag_cols),
                       pd.DataFrame(errors, columns=["file", "line", "element", "message"]), notes)
