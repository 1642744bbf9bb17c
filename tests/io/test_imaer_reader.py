"""IMAER import: every AERIUS 6.0 fixture reads, every invalid one fails with file, element, line.

Fixtures are read from ../shared/reference/imaer/ at test time (AGPL; not copied here).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stikstofcalc.errors import ImaerFileError, InputError
from stikstofcalc.io.imaer import model
from stikstofcalc.io.imaer.reader import known_offroad_code, read_gml

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "imaer"
pytestmark = pytest.mark.skipif(not (FIXTURES / "IMAER-6.0.xsd").exists(),
                                reason="../shared/reference/imaer not available")

#: file -> (situationType, year, number of sources, number of result points)
VALID = {
    "situation_type_proposed.gml": ("PROPOSED", 2013, 1, 0),
    "situation_type_reference.gml": ("REFERENCE", 2013, 1, 0),
    "situation_type_temporary.gml": ("TEMPORARY", 2013, 1, 0),
    "industry.gml": ("PROPOSED", 2013, 9, 0),
    "offroad.gml": ("PROPOSED", 2013, 7, 0),
    "offroad_adblue.gml": ("PROPOSED", 2030, 1, 0),
    "offroad_non_idle.gml": ("PROPOSED", 2030, 1, 0),
    "road.gml": ("PROPOSED", 2030, 1, 0),
    "road_specific_and_custom.gml": ("PROPOSED", 2030, 1, 0),
    "test_mixed_features.gml": ("PROPOSED", 2013, 2, 5),
    "scenario_livestock_farming_reference.gml": ("REFERENCE", 2022, 5, 0),
    "scenario_livestock_farming_proposed.gml": ("PROPOSED", 2022, 6, 0),
}

#: invalid file -> (line, element, words in the message) (README of the fixtures)
INVALID = {
    "invalid_5208_unknown_offroad_code.gml": (69, "imaer:StandardOffRoadMobileSource", "Z1980"),
    "invalid_xsd_missing_year.gml": (6, "imaer:ProjectMetadata", "imaer:year (het rekenjaar) ontbreekt"),
    "invalid_5225_unsupported_srs_epsg4326.gml": (54, "gml:Point", "EPSG::4326"),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_fixtures(name):
    sit = read_gml(FIXTURES / name)
    assert (sit.situation_type, sit.year, len(sit.sources), len(sit.points)) == VALID[name]
    assert sit.version == "6.0"
    for src in sit.sources:
        assert src.wkt.split()[0] in ("POINT", "LINESTRING", "POLYGON")


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_fixtures_name_file_element_line(name):
    line, element, words = INVALID[name]
    with pytest.raises(ImaerFileError) as info:
        read_gml(FIXTURES / name)
    err = info.value
    assert (err.row, err.field) == (line, element)
    assert name in str(err) and words in str(err) and f"regel {line}" in str(err)
    assert isinstance(err, InputError)


def test_fixture_details():
    adblue = read_gml(FIXTURES / "offroad_adblue.gml").sources[0]
    m = adblue.machines[0]
    assert (m.code, m.fuel_l, m.hours_h, m.adblue_l) == ("SV560DSJ", 10000, 300, 50)
    assert (adblue.nox, adblue.nh3) == (228.5, 2.4)
    offroad = read_gml(FIXTURES / "offroad.gml")
    custom = [m for s in offroad.sources for m in s.machines if m.kind == "custom"]
    assert len(custom) == 2 and (custom[0].heat_mw, custom[0].height_m, custom[0].spread_m) == (100, 3, 2)
    road = read_gml(FIXTURES / "road.gml").sources[0]
    assert (road.road_type, road.sector_id) == ("FREEWAY", 3100)
    v = road.vehicles[0]
    assert (v.vehicle_type, v.per_year, v.stagnation, v.max_speed, v.strict) == (
        "LIGHT_TRAFFIC", 980 * 365, 0.2, 100, True)
    kinds = [v.kind for v in read_gml(FIXTURES / "road_specific_and_custom.gml").sources[0].vehicles]
    assert kinds == ["specific", "specific", "custom"]
    mixed = read_gml(FIXTURES / "test_mixed_features.gml")
    assert mixed.is_result_file
    rp = next(p for p in mixed.points if p.feature == "ReceptorPoint")
    assert (rp.receptor_id, rp.results[("DEPOSITION", "NH3")]) == (1, 8546.77)
    assert mixed.sources[1].label == "ëa?e:(é"


def test_code_recognition():
    for code in ("SI75560DSN", "SV560DSJ", "SIIIA5675DSN", "SIIIB5675DSN", "SI56DSN", "B4T", "MUT"):
        assert known_offroad_code(code)
    for code in ("Z1980", "S1A", "AUB_A", "SVI560DSJ", ""):
        assert not known_offroad_code(code)


def _variant(tmp_path, name, old, new, count=1):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"variant_{name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def test_other_namespaces_and_versions(tmp_path):
    old = _variant(tmp_path, "road.gml", "http://imaer.aerius.nl/6.0", "http://imaer.aerius.nl/2.2", -1)
    with pytest.raises(ImaerFileError, match="IMAER-versie 2.2 wordt niet gelezen") as info:
        read_gml(old)
    assert info.value.row == 2
    other = _variant(tmp_path, "road.gml", "http://imaer.aerius.nl/6.0", "http://example.org/x", -1)
    with pytest.raises(ImaerFileError, match="geen IMAER-namespace"):
        read_gml(other)
    v51 = _variant(tmp_path, "offroad_adblue.gml", "http://imaer.aerius.nl/6.0",
                   "http://imaer.aerius.nl/5.1", -1)
    assert read_gml(v51).version == "5.1"
    prefixed = _variant(tmp_path, "situation_type_proposed.gml", "imaer:", "ns1:", -1)
    prefixed.write_text(prefixed.read_text(encoding="utf-8").replace("xmlns:imaer=", "xmlns:ns1="),
                        encoding="utf-8")
    assert read_gml(prefixed).sources[0].nox == 20000


def test_not_xml_and_other_roots(tmp_path):
    bad = tmp_path / "kapot.gml"
    bad.write_text("<?xml version='1.0'?>\n<a>\n<b></a>", encoding="utf-8")
    with pytest.raises(ImaerFileError, match="geen geldige XML") as info:
        read_gml(bad)
    assert info.value.row == 3 and "kapot.gml" in str(info.value)
    with pytest.raises(ImaerFileError, match="kan niet worden gelezen"):
        read_gml(tmp_path / "missing.gml")
    html = tmp_path / "page.gml"
    html.write_text("<html/>", encoding="utf-8")
    with pytest.raises(ImaerFileError, match="geen IMAER-featurecollectie"):
        read_gml(html)


def test_open_ring_and_other_srs_spellings(tmp_path):
    ring = "62188.06 440188.56 62423.26 439415.76 64385.5 440091.12 64876.06 440689.2 64849.18 440820.24 62188.06 440188.56"
    opened = _variant(tmp_path, "offroad.gml", ring, ring.rsplit(" ", 2)[0])
    with pytest.raises(ImaerFileError, match="niet gesloten"):
        read_gml(opened)
    epsg = _variant(tmp_path, "situation_type_proposed.gml", model.RD_SRS, "EPSG:28992")
    assert read_gml(epsg).sources[0].wkt == "POINT (184080.38 430602.3)"
