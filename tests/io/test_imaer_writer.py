"""IMAER 6.0 export: well-formed, schema order (XSD sequences), round trip, AERIUS fixture structure.

The AERIUS fixtures and the IMAER 6.0 XSD are read from ../shared/reference/imaer/ at test time
(AGPL, not copied into the project); tests that need them skip when the folder is absent.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main
from stikstofcalc.errors import InputError
from stikstofcalc.io.imaer import model, xmltree
from stikstofcalc.io.imaer.reader import read_gml
from stikstofcalc.io.imaer.writer import CREATOR, export_project, write_project
from stikstofcalc.emissions.inventory import emission_sources
from stikstofcalc.emissions.project import parse_project

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FIXTURES = SHARED / "reference" / "imaer"
needs_fixtures = pytest.mark.skipif(not (FIXTURES / "IMAER-6.0.xsd").exists(),
                                    reason="../shared/reference/imaer not available")
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml"))

#: A project with every writer path: Standard codes with fuel / hours, AUB classes (Custom),
#: electric (skipped), a site outline (polygon), a polyline route and a freeway route, gas
#: heating (generic source) and a reference source.
MIXED = {
    "name": "Gemengd werk",
    "location": {"x": 172500, "y": 452500,
                 "outline": [[172400, 452400], [172600, 452400], [172600, 452600], [172400, 452600]]},
    "construction": {"start": "2027-03", "duration": "8 maanden"},
    "use": {"year": 2029},
    "components": [{
        "name": "kantoor", "type": "utiliteitsbouw", "floor_area": "2000 m2", "function": "kantoor",
        "gas_use": "5000 m3/jaar",
        "machines": [
            {"name": "graafmachine", "category": "AUB_D", "fuel": 4000, "hours": 300, "adblue": 200},
            {"name": "aggregaat", "category": "B4T", "fuel": 500},
            {"name": "truckmixer", "category": "MUT", "hours": 120},
            {"name": "kraan", "category": "ELEKTRISCH", "hours": 400},
        ]}],
    "routes": [
        {"name": "bouwweg", "road_type": "stad_normaal", "share": 0.6, "stagnation": "10 %",
         "geometry": [[172500, 452400], [172450, 451800], [172300, 451200]]},
        {"name": "A12", "road_type": "snelweg_100_sh", "share": 0.4, "length": "2 km", "bearing": 90},
    ],
    "reference": {"description": "bestaand", "sources": [
        {"name": "stal", "nh3": 500, "x": 172520, "y": 452480, "sector_id": 4110,
         "height": 5, "heat": 0, "spread": 2.5}]},
}


@pytest.fixture(scope="module")
def mixed():
    return parse_project(copy.deepcopy(MIXED))


@pytest.fixture(scope="module")
def mixed_files(mixed):
    return export_project(mixed)


@pytest.fixture(scope="module")
def schema():
    if not (FIXTURES / "IMAER-6.0.xsd").exists():
        pytest.skip("../shared/reference/imaer not available")
    from stikstofcalc.io.imaer.xsd import Schema

    return Schema(FIXTURES / "IMAER-6.0.xsd")


def _root(text):
    return ET.fromstring(text.encode())


def test_one_file_per_phase_and_year(mixed_files):
    kinds = [(f.phase, f.year, f.situation_type) for f in mixed_files]
    assert kinds == [("realisatie", 2027, "TEMPORARY"), ("gebruik", 2029, "PROPOSED"),
                     ("referentie", 2029, "REFERENCE")]


def test_well_formed_metadata_and_unique_ids(mixed_files):
    for f in mixed_files:
        tree = xmltree.parse(f.text.encode())          # raises on malformed XML
        root = tree.root
        assert root.tag == f"{{{model.NS_IMAER}}}FeatureCollectionCalculator"
        ids = [e.get(f"{{{model.NS_GML}}}id") for e in root.iter() if e.get(f"{{{model.NS_GML}}}id")]
        assert len(ids) == len(set(ids))
        ns = {"i": model.NS_IMAER}
        assert root.findtext(".//i:ProjectMetadata/i:year", namespaces=ns) == str(f.year)
        assert root.findtext(".//i:situationType", namespaces=ns) == f.situation_type
        assert root.findtext(".//i:gmlCreator", namespaces=ns) == CREATOR
        for el in root.iter():
            if el.get("srsName") is not None:
                assert el.get("srsName") == model.RD_SRS
            if el.tag == f"{{{model.NS_GML}}}LinearRing":
                v = el.findtext(f"{{{model.NS_GML}}}posList").split()
                assert v[:2] == v[-2:], "polygon rings are closed"


@needs_fixtures
def test_schema_order_of_every_export(schema, mixed_files, tmp_path):
    files = [f.text for f in mixed_files]
    for toml in EXAMPLES:
        files += [f.text for f in export_project(toml_project(toml))]
    for text in files:
        assert schema.check(xmltree.parse(text.encode())) == []


def toml_project(path):
    from stikstofcalc.emissions.project import read_project

    return read_project(path)


@needs_fixtures
def test_schema_checker_catches_order_and_values(schema, mixed_files):
    """The XSD check is not vacuous: a swapped, a missing and a wrong element are caught."""
    text = mixed_files[1].text
    assert schema.check(xmltree.parse(text.encode())) == []
    swapped = re.sub(r"(<imaer:timeUnit>YEAR</imaer:timeUnit>)(\s*)(<imaer:stagnationFactor>[^<]*</imaer:stagnationFactor>)",
                     r"\3\2\1", text, count=1)
    assert swapped != text
    bad = [
        swapped,                                                          # order
        text.replace("<imaer:timeUnit>YEAR</imaer:timeUnit>", "", 1),     # required element
        text.replace("<imaer:situationType>PROPOSED", "<imaer:situationType>FUTURE", 1),  # enum
        text.replace(' roadAreaType="NL"', "", 1),                        # required attribute
    ]
    for variant in bad:
        assert schema.check(xmltree.parse(variant.encode()))
    with open(FIXTURES / "invalid_xsd_missing_year.gml", "rb") as fh:
        problems = schema.check(xmltree.parse(fh.read()))
    assert len(problems) == 1 and problems[0].element == "imaer:ProjectMetadata"
    for good in ("offroad.gml", "road.gml", "test_mixed_features.gml", "industry.gml"):
        assert schema.check(xmltree.parse((FIXTURES / good).read_bytes())) == []


def test_round_trip_same_sources_and_emissions(mixed, mixed_files, tmp_path):
    table = emission_sources(mixed)
    for f in mixed_files:
        path = tmp_path / f"{f.phase}.gml"
        path.write_text(f.text, encoding="utf-8")
        sit = read_gml(path)
        assert (sit.year, sit.situation_type, sit.gml_creator) == (f.year, f.situation_type, CREATOR)
        rows = table[(table["phase"] == f.phase) & (table["year"] == f.year)]
        assert sum(s.nox for s in sit.sources) == pytest.approx(rows["nox_kg_per_yr"].sum(), rel=1e-9)
        assert sum(s.nh3 for s in sit.sources) == pytest.approx(rows["nh3_kg_per_yr"].sum(), rel=1e-9)
        for src in sit.sources:
            if src.feature == "SRM2Road":
                route = rows[rows["route"] == src.label]
                assert src.nox == pytest.approx(route["nox_kg_per_yr"].sum(), rel=1e-9)
                per_class = route.groupby("category")["vehicles_per_year"].sum()
                assert {model.VEHICLE_CLASSES[v.vehicle_type]: v.per_year for v in src.vehicles} == (
                    pytest.approx(per_class.to_dict(), rel=1e-9))
            elif src.feature == "OffRoadMobileSourceEmissionSource":
                assert src.wkt.startswith("POLYGON"), "machinery works the site outline"
                codes = sorted(m.code for m in src.machines if m.kind == "standard")
                assert codes == ["B4T", "MUT"]
                custom = [m for m in src.machines if m.kind == "custom"]
                assert len(custom) == 1 and custom[0].height_m == 2.5
                std = {m.code: m for m in src.machines if m.kind == "standard"}
                assert (std["B4T"].fuel_l, std["MUT"].hours_h) == (500, 120)


def test_zero_emission_rows_skipped_and_counted(mixed_files):
    realisation = mixed_files[0]
    assert realisation.skipped == 1                     # the electric crane
    assert "ELEKTRISCH" not in realisation.text


@needs_fixtures
@pytest.mark.parametrize("feature, fixtures", [
    ("OffRoadMobileSourceEmissionSource", ["offroad.gml", "offroad_adblue.gml"]),
    ("SRM2Road", ["road.gml"]),
    ("EmissionSource", ["situation_type_proposed.gml", "industry.gml"]),
])
def test_structure_of_matching_aerius_fixture(mixed_files, feature, fixtures):
    """Every element path and attribute our sources use also occurs in AERIUS's own file."""
    def paths(root):
        out, attrs = set(), set()
        for member in root.iter(f"{{{model.NS_IMAER}}}{feature}"):
            stack = [(member, feature)]
            attrs.add(tuple(sorted(xmltree.local(a) for a in member.attrib)))
            while stack:
                el, path = stack.pop()
                out.add(path)
                for child in el:
                    stack.append((child, f"{path}/{xmltree.local(child.tag)}"))
        return out, attrs

    theirs, their_attrs = set(), set()
    for name in fixtures:
        p, a = paths(_root((FIXTURES / name).read_text(encoding="utf-8")))
        theirs |= p
        their_attrs |= a
    ours, our_attrs = set(), set()
    for f in mixed_files:
        p, a = paths(_root(f.text))
        ours |= p
        our_attrs |= a
    assert ours, f"no {feature} exported"
    assert ours <= theirs, sorted(ours - theirs)
    assert our_attrs <= their_attrs


@needs_fixtures
@pytest.mark.parametrize("index, fixture", [(0, "situation_type_temporary.gml"),
                                            (1, "situation_type_proposed.gml"),
                                            (2, "situation_type_reference.gml")])
def test_metadata_as_in_situation_type_fixtures(mixed_files, index, fixture):
    def meta(root):
        m = root.find(f"{{{model.NS_IMAER}}}metadata")
        return {"/".join(xmltree.local(e.tag) for e in path) for path in _walk(m)}

    theirs = meta(_root((FIXTURES / fixture).read_text(encoding="utf-8")))
    ours = meta(_root(mixed_files[index].text)) - {"metadata/AeriusCalculatorMetadata/gmlCreator"}
    assert ours <= theirs
    ns = {"i": model.NS_IMAER}
    assert (_root(mixed_files[index].text).findtext(".//i:situationType", namespaces=ns)
            == _root((FIXTURES / fixture).read_text(encoding="utf-8")).findtext(".//i:situationType",
                                                                               namespaces=ns))


def _walk(el, prefix=()):
    path = prefix + (el,)
    yield path
    for child in el:
        yield from _walk(child, path)


def test_year_option(mixed):
    files = export_project(mixed, year=2027)
    assert [(f.phase, f.year) for f in files] == [("realisatie", 2027), ("gebruik", 2027),
                                                 ("referentie", 2027)]
    with pytest.raises(InputError, match="buiten de bouwperiode"):
        export_project(mixed, year=2031)


def test_cli_export(tmp_path):
    out = tmp_path / "gml"
    result = CliRunner().invoke(main, ["export-imaer", str(EXAMPLES[0]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = sorted(out.glob("*.gml"))
    assert len(written) >= 2 and "TEMPORARY" in result.output
    for p in written:
        read_gml(p)
    bad = CliRunner().invoke(main, ["export-imaer", str(tmp_path / "missing.toml"), "-o", str(out)])
    assert bad.exit_code == 2 and "niet gevonden" in bad.output


def test_write_project_writes_files(mixed, tmp_path):
    files = write_project(mixed, tmp_path)
    assert [f.path.name for f in files] == ["gemengd_werk_realisatie_2027.gml",
                                           "gemengd_werk_gebruik_2029.gml",
                                           "gemengd_werk_referentie_2029.gml"]
