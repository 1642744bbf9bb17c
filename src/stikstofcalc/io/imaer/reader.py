"""Read IMAER GML (4.0-6.0) into :class:`~stikstofcalc.io.imaer.model.Situation` records.

Reads what a re-check needs: metadata (year, situation), every emission source
with the emissions it states, the activity data of off-road machinery and road
traffic, geometry as WKT in RD New, and the receptor / calculation points with
their results. Every problem raises :class:`~stikstofcalc.errors.ImaerFileError`
naming the file, the element and its line.

Checks that make a file unusable (as AERIUS's importer, IMAER-java, treats them):
not XML (its 5201 validation failure), another namespace or an IMAER version we do
not read, a missing calculation year (XSD: ``ProjectMetadata/year`` is required),
an unknown off-road category code (5208 ``GML_UNKNOWN_MOBILE_SOURCE_CODE``), a
geometry in another reference system than RD New (5225 ``GML_SRS_NAME_UNSUPPORTED``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from stikstofcalc import ranges
from stikstofcalc.errors import ImaerFileError, read_reason
from stikstofcalc.io.imaer import model, xmltree
from stikstofcalc.io.imaer.model import Machine, ResultPoint, Situation, Source, Vehicle

_SOURCE_POINTS = ("ReceptorPoint", "CalculationPoint", "SubPoint")


class _Doc:
    """A parsed tree with helpers that raise errors naming file, element and line."""

    def __init__(self, tree, file, ns):
        self.tree, self.file, self.ns = tree, file, ns

    def q(self, name):
        return f"{{{self.ns}}}{name}"

    def error(self, elem, message, expected=None):
        tag = None if elem is None else _prefixed(elem.tag)
        line = None if elem is None else self.tree.line(elem)
        return ImaerFileError(message, file=self.file, row=line, field=tag, expected=expected)

    def child(self, elem, name):
        return elem.find(self.q(name))

    def text(self, elem, name, default=None):
        c = self.child(elem, name)
        return default if c is None or c.text is None else c.text.strip()

    def number(self, elem, name, default=None, *, kind=float, rng=None):
        """The number in child ``name``; outside range ``rng`` (:data:`~stikstofcalc.ranges.RANGES`)
        an error naming the element and line (``-1e308`` vehicles must not reach the model)."""
        c = self.child(elem, name)
        if c is None or c.text is None or not c.text.strip():
            return default
        text = c.text.strip()
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            raise self.error(c, f"{text!r} is geen getal", "een getal" if kind is float
                             else "een geheel getal") from None
        if not math.isfinite(value):
            raise self.error(c, f"{text!r} is geen eindig getal", "een eindig getal")
        if rng is not None and not ranges.RANGES[rng].contains(value):
            r = ranges.RANGES[rng]
            raise self.error(c, f"{text!r} ligt buiten het toegestane bereik", f"{r.describe()} ({r.why})")
        return value


def _prefixed(tag: str) -> str:
    ns, name = xmltree.namespace(tag), xmltree.local(tag)
    if ns.startswith(model.IMAER_NS_PREFIX):
        return f"imaer:{name}"
    return {model.NS_GML: f"gml:{name}"}.get(ns, name)


def read_gml(source, *, name=None) -> Situation:
    """Read one IMAER GML document.

    Parameters
    ----------
    source : path or bytes
        The file, or its content (then ``name`` names it in messages).
    name : str, optional
        Name used in messages (default: the path).

    Returns
    -------
    Situation

    Raises
    ------
    ImaerFileError
        When the file cannot be used (see the module notes).
    """
    if isinstance(source, (bytes, bytearray)):
        data, file = bytes(source), name or "<bytes>"
    else:
        file = name or str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ImaerFileError(f"kan niet worden gelezen ({read_reason(exc)})", file=file) from None
    if data[:4] == b"PK\x03\x04":
        if b"xl/workbook.xml" in data[:65536] or str(file).lower().endswith((".xlsx", ".xlsm")):
            raise ImaerFileError("dit is een Excel-werkmap, geen GML; een bronnenlijst toetst u met "
                                 "'stikstofcalc calc BRONNEN.xlsx'", file=file,
                                 expected="een IMAER-GML-bestand of een AERIUS-PDF")
        raise ImaerFileError("dit is een zip-bestand, geen GML; pak het uit en geef de GML-bestanden op",
                             file=file, expected="een IMAER-GML-bestand of een AERIUS-PDF")
    try:
        tree = xmltree.parse(data)
    except xmltree.XMLSyntaxError as exc:
        raise ImaerFileError("geen geldige XML" + (f" (kolom {exc.column})" if exc.column else ""), file=file,
                             row=exc.line, expected="een IMAER-GML-bestand") from None
    root = tree.root
    ns = xmltree.namespace(root.tag)
    doc = _Doc(tree, file, ns)
    version = _version(doc, root)
    situation = _metadata(doc, root, version)
    for member in root:
        if xmltree.local(member.tag) not in ("featureMember", "featureMembers"):
            continue
        for feature in member:
            kind = xmltree.local(feature.tag)
            if kind in _SOURCE_POINTS:
                situation.points.append(_point(doc, feature))
            elif feature.get("sectorId") is not None:
                situation.sources.append(_source(doc, feature))
            else:
                situation.notes.append(f"{kind} {feature.get(f'{{{model.NS_GML}}}id', '')} niet gelezen")
    _check_srs(doc, root)
    return situation


def _version(doc, root):
    ns = doc.ns
    if xmltree.local(root.tag) != "FeatureCollectionCalculator":
        raise doc.error(root, f"hoofdelement {_prefixed(root.tag)} is geen IMAER-featurecollectie",
                        "imaer:FeatureCollectionCalculator")
    m = re.fullmatch(re.escape(model.IMAER_NS_PREFIX) + r"(\d+\.\d+)", ns)
    if m is None:
        raise doc.error(root, f"namespace {ns or '(geen)'!r} is geen IMAER-namespace",
                        f"{model.IMAER_NS_PREFIX}<versie>, versies {', '.join(model.READ_VERSIONS)}")
    if m.group(1) not in model.READ_VERSIONS:
        raise doc.error(root, f"IMAER-versie {m.group(1)} wordt niet gelezen (namespace {ns})",
                        f"IMAER {', '.join(model.READ_VERSIONS)} (AERIUS 2021 en later)")
    return m.group(1)


def _metadata(doc, root, version):
    meta = doc.child(root, "metadata")
    calc = None if meta is None else doc.child(meta, "AeriusCalculatorMetadata")
    if calc is None:
        raise doc.error(meta if meta is not None else root, "geen metadata met het rekenjaar",
                        "imaer:metadata/AeriusCalculatorMetadata/project/ProjectMetadata/year")
    project = doc.child(calc, "project")
    pm = None if project is None else doc.child(project, "ProjectMetadata")
    if pm is None:
        raise doc.error(calc, "imaer:project/ProjectMetadata met het rekenjaar ontbreekt",
                        "imaer:ProjectMetadata met imaer:year")
    year = doc.number(pm, "year", kind=int, rng="year")
    if year is None:
        raise doc.error(pm, "imaer:year (het rekenjaar) ontbreekt",
                        "imaer:year als eerste kind van imaer:ProjectMetadata, bijv. 2027")
    sit = doc.child(calc, "situation")
    sm = None if sit is None else doc.child(sit, "SituationMetadata")
    vm = doc.child(calc, "version")
    vmd = None if vm is None else doc.child(vm, "VersionMetadata")
    return Situation(
        file=doc.file, version=version, year=year,
        situation_type=None if sm is None else doc.text(sm, "situationType"),
        situation_name=None if sm is None else doc.text(sm, "name"),
        project_name=doc.text(pm, "name"),
        aerius_version=None if vmd is None else doc.text(vmd, "aeriusVersion"),
        gml_creator=doc.text(calc, "gmlCreator"))


def _check_srs(doc, root):
    for elem in root.iter():
        srs = elem.get("srsName")
        if srs is not None and not model.is_rd_srs(srs):
            raise doc.error(elem, f"srsName {srs!r} is geen RD New",
                            f"{model.RD_SRS} (EPSG:28992, RD New-coördinaten in meter)")


# --------------------------------------------------------------------------- geometry


def _coords(doc, elem, text):
    try:
        values = [float(v) for v in text.split()]
    except ValueError:
        raise doc.error(elem, "de coördinaten zijn geen getallen", "paren x y in meter") from None
    if not all(math.isfinite(v) and abs(v) < 1e7 for v in values):
        raise doc.error(elem, "de coördinaten zijn geen eindige RD-meters", "paren x y in RD New-meters")
    if len(values) % 2 or not values:
        raise doc.error(elem, f"{len(values)} coördinaatwaarden", "paren x y (2 dimensies)")
    return list(zip(values[::2], values[1::2]))


def _ring_text(doc, ring):
    pos_list = ring.find(f"{{{model.NS_GML}}}posList")
    if pos_list is not None:
        pts = _coords(doc, pos_list, pos_list.text or "")
    else:
        pts = [p for pos in ring.findall(f"{{{model.NS_GML}}}pos")
               for p in _coords(doc, pos, pos.text or "")]
    return "(" + ", ".join(f"{x!r} {y!r}" for x, y in pts) + ")", pts


def geometry_wkt(doc, geom_parent) -> str:
    """WKT of the gml:Point, gml:LineString or gml:Polygon under ``geom_parent``."""
    g = model.NS_GML
    for elem in geom_parent.iter():
        name = xmltree.local(elem.tag) if xmltree.namespace(elem.tag) == g else None
        if name == "Point":
            pos = elem.find(f"{{{g}}}pos")
            (x, y), = _coords(doc, pos if pos is not None else elem, "" if pos is None else pos.text or "")
            return f"POINT ({x!r} {y!r})"
        if name == "LineString":
            text, pts = _ring_text(doc, elem)
            if len(pts) < 2:
                raise doc.error(elem, "een lijn met minder dan 2 punten", "minstens 2 punten")
            return "LINESTRING " + text
        if name == "Polygon":
            rings = []
            for part in ("exterior", "interior"):
                for wrap in elem.findall(f"{{{g}}}{part}"):
                    ring = wrap.find(f"{{{g}}}LinearRing")
                    text, pts = _ring_text(doc, ring if ring is not None else wrap)
                    if len(pts) < 4 or pts[0] != pts[-1]:
                        raise doc.error(ring, "de ring van de polygoon is niet gesloten",
                                        "minstens 4 punten, het laatste gelijk aan het eerste")
                    rings.append(text)
            return "POLYGON (" + ", ".join(rings) + ")"
    raise doc.error(geom_parent, "geen gml:Point, gml:LineString of gml:Polygon",
                    "een punt-, lijn- of vlakgeometrie")


# --------------------------------------------------------------------------- sources


def _emissions(doc, elem):
    out = {}
    for em in elem.findall(doc.q("emission")):
        e = doc.child(em, "Emission")
        if e is None:
            continue
        sub = e.get("substance")
        out[sub] = out.get(sub, 0.0) + doc.number(e, "value", 0.0, rng="emission")
    return out


def _characteristics(doc, elem):
    wrap = doc.child(elem, "emissionSourceCharacteristics")
    if wrap is None or not len(wrap):
        return None, None, None
    ch = wrap[0]
    heat = None
    hc = doc.child(ch, "heatContent")
    if hc is not None:
        spec = doc.child(hc, "SpecifiedHeatContent")
        if spec is not None:
            heat = doc.number(spec, "value", rng="heat")
        elif hc.text and hc.text.strip():   # IMAER 4.0: heatContent as a number
            heat = doc.number(ch, "heatContent", rng="heat")
    return doc.number(ch, "emissionHeight", rng="height"), heat, doc.number(ch, "spread", rng="spread")


def _source(doc, feature) -> Source:
    gid = feature.get(f"{{{model.NS_GML}}}id", "")
    try:
        sector = int(feature.get("sectorId"))
    except (TypeError, ValueError):
        raise doc.error(feature, f"sectorId {feature.get('sectorId')!r} is geen geheel getal",
                        "een AERIUS-sectornummer zoals 3220") from None
    geom = doc.child(feature, "geometry")
    if geom is None:
        raise doc.error(feature, f"bron {gid} heeft geen imaer:geometry", "een punt, lijn of vlak")
    height, heat, spread = _characteristics(doc, feature)
    src = Source(gml_id=gid, feature=xmltree.local(feature.tag), sector_id=sector,
                 label=doc.text(feature, "label", "") or "", wkt=geometry_wkt(doc, geom),
                 emissions=_emissions(doc, feature), description=doc.text(feature, "description"),
                 height_m=height, heat_mw=heat, spread_m=spread,
                 road_area_type=feature.get("roadAreaType"), road_type=feature.get("roadType"),
                 line=doc.tree.line(feature))
    for wrap in feature.findall(doc.q("offRoadMobileSource")):
        for m in wrap:
            src.machines.append(_machine(doc, m, gid))
    for wrap in feature.findall(doc.q("vehicles")):
        for v in wrap:
            src.vehicles.append(_vehicle(doc, v))
    return src


def known_offroad_code(code: str) -> bool:
    """Whether ``code`` is an AERIUS off-road category code we recognise (see model notes)."""
    return code in model.STANDARD_OFFROAD_CODES or bool(model.STAGE_CODE.match(code))


def _machine(doc, m, gid) -> Machine:
    kind = xmltree.local(m.tag)
    line = doc.tree.line(m)
    if kind == "StandardOffRoadMobileSource":
        code = m.get("offRoadMobileSourceType", "")
        if not known_offroad_code(code):
            raise doc.error(m, f"onbekende code {code!r} voor de categorie mobiele werktuigen in bron {gid}",
                            "een AERIUS-code zoals B4T, MUT of SV560DSJ (IMAER-java-fout 5208)")
        return Machine("standard", code, doc.text(m, "description", "") or "",
                       doc.number(m, "literFuelPerYear", rng="fuel"),
                       doc.number(m, "operatingHoursPerYear", rng="hours"),
                       doc.number(m, "literAdBluePerYear", rng="adblue"), line=line)
    height, heat, spread = _characteristics(doc, m)
    return Machine("custom", None, doc.text(m, "description", "") or "",
                   emissions=_emissions(doc, m), height_m=height, heat_mw=heat, spread_m=spread,
                   line=line)


def _vehicle(doc, v) -> Vehicle:
    kind = xmltree.local(v.tag).replace("Vehicle", "").lower()
    unit = doc.text(v, "timeUnit", "")
    if unit not in model.TIME_UNITS:
        raise doc.error(v, f"onbekende timeUnit {unit!r}", "HOUR, DAY, MONTH of YEAR")
    strict = doc.text(v, "strictEnforcement")
    factors = {}
    for ef in v.findall(doc.q("emissionFactor")):
        e = doc.child(ef, "Emission")
        if e is not None:
            factors[e.get("substance")] = doc.number(e, "value", 0.0, rng="factor")
    return Vehicle(kind, v.get("vehicleType"), doc.number(v, "vehiclesPerTimeUnit", 0.0, rng="vehicles"), unit,
                   doc.number(v, "stagnationFactor", rng="share"),
                   doc.number(v, "maximumSpeed", kind=int, rng="speed"),
                   None if strict is None else strict == "true", doc.text(v, "description"),
                   factors, line=doc.tree.line(v))


def _point(doc, feature) -> ResultPoint:
    g = model.NS_GML
    pos = None
    for gm in feature.findall(doc.q("GM_Point")):
        pos = gm.find(f".//{{{g}}}pos")
    if pos is None:
        raise doc.error(feature, "punt zonder gml:pos", "imaer:GM_Point/gml:Point/gml:pos")
    (x, y), = _coords(doc, pos, pos.text or "")
    rid = feature.get("receptorPointId")
    results = {}
    for r in feature.findall(doc.q("result")):
        cr = doc.child(r, "CalculationResult")
        if cr is not None:
            results[(cr.get("resultType"), cr.get("substance"))] = doc.number(cr, "value", 0.0,
                                                                               rng="deposition")
    if rid is not None and not rid.strip().isdigit():
        raise doc.error(feature, f"receptorPointId {rid!r} is geen geheel getal", "een AERIUS-receptornummer")
    return ResultPoint(xmltree.local(feature.tag), feature.get(f"{{{g}}}id", ""), x, y,
                       None if rid is None else int(rid), doc.text(feature, "label"), results,
                       line=doc.tree.line(feature))
