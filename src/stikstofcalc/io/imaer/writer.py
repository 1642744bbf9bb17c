"""Write a project's emission sources as IMAER 6.0 GML that AERIUS Calculator imports.

One document per phase and calculation year: the realisation phase as TEMPORARY
(one file per calendar year of the construction period), the use phase as
PROPOSED, the reference situation as REFERENCE. The rows of the emission table
(:func:`stikstofcalc.emissions.inventory.emission_sources`) are grouped into AERIUS sources:

- machinery of one component and site -> one ``OffRoadMobileSourceEmissionSource``
  (sector 3220) whose sub-sources are ``StandardOffRoadMobileSource`` (AERIUS code
  with litres fuel, operating hours, litres AdBlue, rounded to whole numbers as the
  schema's integers) for the categories that are AERIUS codes, and
  ``CustomOffRoadMobileSource`` (own emission and characteristics) for our stage
  classes without an AERIUS code;
- traffic on one route -> one ``SRM2Road`` (sector 3100) with a ``StandardVehicle``
  per vehicle class (vehicles per YEAR, the route's stagnation factor);
- other rows (gas heating, reference sources) -> generic ``EmissionSource``.

Every source carries its total emission in kg/yr (NH3, NOX), as the file states
it; AERIUS recomputes Standard machinery and roads from the activity data itself.
Rows without emission and without activity (electric machinery, gasless heating)
are left out and counted in :attr:`ExportedFile.skipped`. Element order follows the
sequences of IMAER 6.0's XSD (checked in ``tests/io/test_imaer_writer.py``).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from stikstofcalc._version import __version__
from stikstofcalc.geo.geometry import parse_wkt
from stikstofcalc.errors import InputError
from stikstofcalc.io.imaer import model
from stikstofcalc.io.imaer.model import NS_GML, NS_IMAER, NS_XLINK, NS_XSI
from stikstofcalc.emissions.inventory import emission_sources
from stikstofcalc.emissions.project import Project, UsePhase, read_project
from stikstofcalc.io.atomic import AtomicGroup

CREATOR = f"stikstofcalc {__version__}"
_PHASE_WORD = {"realisatie": "realisatiefase", "gebruik": "gebruiksfase", "referentie": "referentiesituatie"}

for _prefix, _uri in (("imaer", NS_IMAER), ("gml", NS_GML), ("xsi", NS_XSI), ("xlink", NS_XLINK)):
    ET.register_namespace(_prefix, _uri)


@dataclass
class ExportedFile:
    """One written (or built) IMAER document."""

    phase: str
    year: int
    situation_type: str
    path: Path | None
    text: str
    sources: int
    skipped: int = 0
    notes: list = field(default_factory=list)


def _i(name):
    return f"{{{NS_IMAER}}}{name}"


def _g(name):
    return f"{{{NS_GML}}}{name}"


def _sub(parent, name, text=None, **attrib):
    el = ET.SubElement(parent, _i(name) if not name.startswith("{") else name, attrib)
    if text is not None:
        el.text = text
    return el


def _num(value: float) -> str:
    """A float as xs:double text: up to 10 significant digits, no exponent for normal sizes."""
    v = float(value)
    if v == 0:
        return "0.0"
    text = f"{v:.10g}"
    return text if ("." in text or "e" in text) else text + ".0"


def _int(value: float) -> str:
    return str(int(round(float(value))))


# --------------------------------------------------------------------------- geometry


def _positions(coords) -> str:
    return " ".join(f"{x:.2f} {y:.2f}" for x, y in np.asarray(coords, dtype=float))


def geometry_element(parent, wkt: str, gml_id: str):
    """Append ``imaer:geometry/EmissionSourceGeometry`` with the GML form of ``wkt``."""
    geom = parse_wkt(wkt)
    holder = _sub(_sub(parent, "geometry"), "EmissionSourceGeometry")
    srs = {_g("id"): "", "srsName": model.RD_SRS}
    if geom.kind == "point":
        srs[_g("id")] = f"{gml_id}.POINT"
        pt = ET.SubElement(_sub(holder, "GM_Point"), _g("Point"), srs)
        ET.SubElement(pt, _g("pos")).text = _positions(geom.coords)
    elif geom.kind == "linestring":
        srs[_g("id")] = f"{gml_id}.CURVE"
        line = ET.SubElement(_sub(holder, "GM_Curve"), _g("LineString"), srs)
        ET.SubElement(line, _g("posList")).text = _positions(geom.coords)
    else:
        if len(geom.polygons) != 1:
            raise InputError("een multipolygoon kan geen enkele IMAER-bron zijn", value=wkt[:60],
                             expected="één polygoon per bron")
        srs[_g("id")] = f"{gml_id}.SURFACE"
        poly = ET.SubElement(_sub(holder, "GM_Surface"), _g("Polygon"), srs)
        for k, ring in enumerate(geom.polygons[0]):
            ring = np.asarray(ring, dtype=float)
            if not np.array_equal(ring[0], ring[-1]):
                ring = np.vstack([ring, ring[:1]])
            wrap = ET.SubElement(poly, _g("exterior" if k == 0 else "interior"))
            ET.SubElement(ET.SubElement(wrap, _g("LinearRing")), _g("posList")).text = _positions(ring)


# --------------------------------------------------------------------------- parts


def _characteristics(parent, height, heat, spread):
    if height is None or (isinstance(height, float) and math.isnan(height)):
        return
    ch = _sub(_sub(parent, "emissionSourceCharacteristics"), "EmissionSourceCharacteristics")
    heat = 0.0 if heat is None or math.isnan(heat) else heat
    _sub(_sub(_sub(ch, "heatContent"), "SpecifiedHeatContent"), "value", _num(heat))
    _sub(ch, "emissionHeight", _num(height))
    if spread is not None and not math.isnan(spread):
        _sub(ch, "spread", _num(spread))


def _emission(parent, nox, nh3, tag="emission"):
    for sub, value in (("NH3", nh3), ("NOX", nox)):
        _sub(_sub(_sub(parent, tag), "Emission", substance=sub), "value", _num(value))


def _feature(collection, kind, gml_id, sector, label, **attrib):
    member = _sub(collection, "featureMember")
    el = _sub(member, kind, **attrib, sectorId=str(int(sector)), **{_g("id"): gml_id})
    nen = _sub(_sub(el, "identifier"), "NEN3610ID")
    _sub(nen, "namespace", "NL.IMAER")
    _sub(nen, "localId", gml_id)
    _sub(el, "label", label)
    return el


def _first(group, col):
    v = group[col].iloc[0]
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def _machinery(collection, gml_id, group, notes):
    el = _feature(collection, "OffRoadMobileSourceEmissionSource", gml_id, model.SECTOR_MACHINERY,
                  f"{group['component'].iloc[0]} - mobiele werktuigen")
    geometry_element(el, group["geometry_wkt"].iloc[0], gml_id)
    _emission(el, group["nox_kg_per_yr"].sum(), group["nh3_kg_per_yr"].sum())
    for _, row in group.iterrows():
        wrap = _sub(el, "offRoadMobileSource")
        if row["category"] in model.STANDARD_OFFROAD_CODES:
            m = _sub(wrap, "StandardOffRoadMobileSource", offRoadMobileSourceType=row["category"])
            _sub(m, "description", str(row["label"]))
            for name, col in (("literFuelPerYear", "fuel_l"), ("operatingHoursPerYear", "hours_h"),
                              ("literAdBluePerYear", "adblue_l")):
                if row[col] > 0:
                    _sub(m, name, _int(row[col]))
            if any(0 < row[c] < 10 for c in ("fuel_l", "hours_h")):
                notes.append(f"{row['label']}: een activiteit onder 10 L of 10 uur is afgerond op hele "
                             "getallen (het schema vraagt gehele getallen); AERIUS rekent met de afgeronde waarden")
        else:
            m = _sub(wrap, "CustomOffRoadMobileSource")
            _sub(m, "description", f"{row['label']} [stikstofcalc {row['category']}: "
                                   f"{row['fuel_l']:.0f} L, {row['hours_h']:.0f} h, "
                                   f"{row['adblue_l']:.0f} L AdBlue; geen AERIUS-code]")
            _emission(m, row["nox_kg_per_yr"], row["nh3_kg_per_yr"])
            _characteristics(m, row["height_m"], row["heat_mw"], row["spread_m"])


def _road(collection, gml_id, group):
    road_type = group["road_type"].iloc[0]
    if road_type not in model.ROAD_TYPES:
        raise InputError(f"wegtype {road_type!r} heeft geen AERIUS-SRM2-wegtype",
                         expected=f"een van {', '.join(model.ROAD_TYPES)}")
    aerius_type, speed, strict, stagnation = model.ROAD_TYPES[road_type]
    el = _feature(collection, "SRM2Road", gml_id, model.SECTOR_ROAD, str(group["route"].iloc[0]),
                  roadAreaType="NL", roadType=aerius_type)
    geometry_element(el, group["geometry_wkt"].iloc[0], gml_id)
    _emission(el, group["nox_kg_per_yr"].sum(), group["nh3_kg_per_yr"].sum())
    stag = stagnation if stagnation is not None else float(group["stagnation_fraction"].iloc[0])
    per_class = group.groupby("category", sort=False)["vehicles_per_year"].sum()
    for vc, per_year in per_class.items():
        v = _sub(_sub(el, "vehicles"), "StandardVehicle", vehicleType=model.VEHICLE_TYPES[vc])
        _sub(v, "vehiclesPerTimeUnit", _num(per_year))
        _sub(v, "timeUnit", "YEAR")
        _sub(v, "stagnationFactor", _num(stag))
        if speed is not None:
            _sub(v, "maximumSpeed", str(speed))
            _sub(v, "strictEnforcement", "true" if strict else "false")


def _generic(collection, gml_id, row):
    sector = row["sector_id"] if not _missing(row["sector_id"]) else model.SECTOR_OTHER
    el = _feature(collection, "EmissionSource", gml_id, sector, str(row["label"]))
    _characteristics(el, _float(row["height_m"]), _float(row["heat_mw"]), _float(row["spread_m"]))
    geometry_element(el, row["geometry_wkt"], gml_id)
    _emission(el, row["nox_kg_per_yr"], row["nh3_kg_per_yr"])


def _missing(v):
    return v is None or v is np.nan or (isinstance(v, float) and math.isnan(v)) or str(v) == "<NA>"


def _float(v):
    return None if _missing(v) else float(v)


# --------------------------------------------------------------------------- documents


def build_document(table, *, project_name, phase, year, description=None):
    """IMAER 6.0 text of one phase and year of an emission table.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`stikstofcalc.emissions.inventory.emission_sources` for one case, phase and year.
    project_name : str
    phase : {"realisatie", "gebruik", "referentie"}
    year : int
        Calculation year written as ``ProjectMetadata/year``.

    Returns
    -------
    ExportedFile
        With ``path`` None; :func:`write_project` writes it.
    """
    situation = model.SITUATION_TYPES[phase]
    root = ET.Element(_i("FeatureCollectionCalculator"),
                      {_g("id"): "NL.IMAER.Collection", f"{{{NS_XSI}}}schemaLocation": model.SCHEMA_LOCATION})
    meta = _sub(_sub(root, "metadata"), "AeriusCalculatorMetadata")
    pm = _sub(_sub(meta, "project"), "ProjectMetadata")
    _sub(pm, "year", str(int(year)))
    _sub(pm, "name", project_name)
    if description:
        _sub(pm, "description", description)
    sm = _sub(_sub(meta, "situation"), "SituationMetadata")
    _sub(sm, "name", f"{project_name} - {_PHASE_WORD[phase]} {year}")
    _sub(sm, "situationType", situation)
    _sub(meta, "gmlCreator", CREATOR)

    active = (table["nox_kg_per_yr"] > 0) | (table["nh3_kg_per_yr"] > 0) | (
        table["fuel_l"] > 0) & table["category"].isin(model.STANDARD_OFFROAD_CODES)
    skipped = int((~active).sum())
    rows = table[active]
    notes, n = [], 0
    machinery = rows[rows["source_kind"] == "machinery"]
    for _, group in machinery.groupby(["component", "geometry_wkt"], sort=False, dropna=False):
        n += 1
        _machinery(root, f"ES.{n}", group, notes)
    traffic = rows[rows["source_kind"].isin(["construction_traffic", "use_traffic"])]
    for route, group in traffic.groupby("route", sort=False):
        if not isinstance(group["geometry_wkt"].iloc[0], str):
            raise InputError(f"route {route!r} heeft geen geometrie: AERIUS heeft een lijn nodig",
                             field="routes", expected="een routegeometrie, of een lengte met een richting")
        n += 1
        _road(root, f"ES.{n}", group)
    for _, row in rows[~rows.index.isin(machinery.index) & ~rows.index.isin(traffic.index)].iterrows():
        n += 1
        _generic(root, f"ES.{n}", row)
    ET.indent(root, space="    ")
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return ExportedFile(phase, int(year), situation, None, text, n, skipped, list(dict.fromkeys(notes)))


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "project"


def export_project(project, *, year=None, kengetallen=None):
    """Build the IMAER documents of one project (see :func:`write_project`)."""
    if year is not None and project.use.year != year:
        project = replace(project, use=UsePhase(int(year), project.use.urbanisation))
    table = emission_sources(project, kengetallen=kengetallen)
    if project.location.outline:  # machinery works the whole site: an area source over the outline
        ring = list(project.location.outline)
        ring += [ring[0]] if tuple(ring[0]) != tuple(ring[-1]) else []
        site = "POLYGON ((" + ", ".join(f"{x!r} {y!r}" for x, y in ring) + "))"
        parse_wkt(site)  # a valid simple polygon, or an error naming it
        table.loc[table["source_kind"] == "machinery", "geometry_wkt"] = site
    out = []
    for (phase, y), group in table.groupby(["phase", "year"], sort=False):
        if phase == "realisatie" and year is not None and y != year:
            continue
        out.append(build_document(group, project_name=project.name, phase=phase, year=int(y)))
    if year is not None and not any(f.phase == "realisatie" for f in out):
        years = sorted(set(table.loc[table["phase"] == "realisatie", "year"]))
        raise InputError(f"jaar {year} ligt buiten de bouwperiode ({years[0]}-{years[-1]})",
                         case=project.name, field="--year", value=year,
                         expected=f"een jaar van de realisatiefase: {', '.join(map(str, years))}")
    return out


def write_project(project, outdir, *, year=None, kengetallen=None, group=None) -> list[ExportedFile]:
    """Write one IMAER 6.0 GML file per phase and calculation year of a project.

    Parameters
    ----------
    project : Project or path
        A validated project or a project TOML file.
    outdir : path
        Folder for ``<name>_<phase>_<year>.gml``.
    year : int, optional, keyword-only
        Calculation year: the realisation file of that year only (it must lie in the
        construction period), and the use phase and reference computed for that year.
        Default: every realisation year and the project's first year of use.

    Returns
    -------
    list of ExportedFile
    """
    if not isinstance(project, Project):
        project = read_project(project)
    files = export_project(project, year=year, kengetallen=kengetallen)
    own = group is None
    group = AtomicGroup() if own else group
    try:  # every file of the project, or none
        for f in files:
            f.path = group.write_text(Path(outdir) / f"{slug(project.name)}_{f.phase}_{f.year}.gml", f.text)
    except BaseException:
        if own:
            group.abort()
        raise
    if own:
        group.commit()
    return files
