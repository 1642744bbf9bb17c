"""Issue 13, input half: project files whose mistakes used to change a verdict silently or end in a traceback.

Every test here failed on the code before the fix: an unknown key at any level, a home
type on a building (or a function on homes), numbers without a range, non-text where
text belongs, a Latin-1 file or a workbook given as a project.
"""

import datetime as dt

import pytest

from stikstofcalc import ranges
from stikstofcalc.errors import InputError, MultipleInputErrors, closest
from stikstofcalc.emissions.project import KEYS, parse_project, read_project, use_names

BASE = {
    "name": "T",
    "location": {"x": 172500, "y": 452500},
    "construction": {"start": "2027-03", "duration": "18 maanden"},
    "components": [{"type": "grondgebonden_woningen", "count": 40, "home_type": "tussen_hoek"}],
    "routes": [{"name": "r", "road_type": "stad_normaal", "length": "1,2 km"}],
}
OFFICE = {"type": "utiliteitsbouw", "floor_area": "2000 m2", "function": "kantoor"}


def doc(**sections):
    out = {k: (dict(v) if isinstance(v, dict) else [dict(x) for x in v] if isinstance(v, list) else v)
           for k, v in BASE.items()}
    out.update(sections)
    return out


def errors(data):
    with pytest.raises(MultipleInputErrors) as info:
        parse_project(data, file="p.toml")
    return info.value.errors


def one(data, field):
    found = [e for e in errors(data) if e.field == field]
    assert found, [str(e) for e in errors(data)]
    return str(found[0])


# --------------------------------------------------------------------- unknown keys, every level


@pytest.mark.parametrize("section, key, field, meant", [
    ("construction", "duraton", "construction.duraton", "duration"),
    ("component", "aantal", "components[0].aantal", "count"),
    ("route", "naam", "routes[0].naam", "name"),
    ("location", "X", "location.X", "x"),
    ("use", "jaar", "use.jaar", "year"),
    ("machine", "brandstof", "components[0].machines[0].brandstof", "fuel"),
    ("reference", "bronnen", "reference.bronnen", "sources"),
    ("reference_source", "nox_kg", "reference.sources[0].nox_kg", "nox"),
])
def test_unknown_key_at_every_level_is_an_error_with_a_suggestion(section, key, field, meant):
    d = doc()
    if section == "construction":
        d["construction"][key] = "14 maanden"
    elif section == "component":
        d["components"][0][key] = 3
    elif section == "route":
        d["routes"][0][key] = "x"
    elif section == "location":
        d["location"][key] = 1
    elif section == "use":
        d["use"] = {key: 2030}
    elif section == "machine":
        d["components"][0]["machines"] = [{"category": "AUB_D", "fuel": "100 L", key: 5}]
    elif section == "reference":
        d["reference"] = {"description": "boerderij", key: []}
    else:
        d["reference"] = {"sources": [{"nox": 10, "x": 172500, "y": 452500, key: 5}]}
    text = one(d, field)
    assert f"onbekend veld '{key}'" in text and f"bedoelt u '{meant}'?" in text
    assert 'zaak "T"' in text and "bestand p.toml" in text


def test_every_level_of_the_key_schema_is_documented():
    text = open("docs/project_format.md", encoding="utf-8").read()
    for level, keys in KEYS.items():
        for key in keys:
            assert f"`{key}`" in text, (level, key)


# --------------------------------------------------------------------- home types and functions


def test_an_office_home_type_on_homes_is_refused_and_only_home_types_are_offered():
    d = doc()
    d["components"][0]["home_type"] = "kantoor"  # used to cut use-phase NOx from 21.6 to 0.378 kg/yr
    text = one(d, "components[0].home_type")
    assert "onbekend woningtype 'kantoor' voor grondgebonden_woningen" in text
    assert "tussen_hoek" in text and "supermarkt" not in text and "kantoor," not in text


def test_a_home_function_on_a_building_is_refused_and_only_functions_are_offered():
    text = one(doc(components=[dict(OFFICE, function="vrijstaand")]), "components[0].function")
    assert "onbekende functie 'vrijstaand' voor utiliteitsbouw" in text
    assert "kantoor" in text and "tussen_hoek" not in text


@pytest.mark.parametrize("comp, field", [
    ({"type": "grondgebonden_woningen", "count": 10, "home_type": "tussen_hoek", "function": "kantoor"},
     "components[0].function"),
    (dict(OFFICE, home_type="vrijstaand"), "components[0].home_type"),
    (dict(OFFICE, count=12), "components[0].count"),
    ({"type": "grondgebonden_woningen", "count": 10, "home_type": "tussen_hoek", "floor_area": 900},
     "components[0].floor_area"),
    ({"type": "sloop", "floor_area": 500, "function": "kantoor"}, "components[0].function"),
    ({"type": "bouwrijp_maken", "area": "2 ha", "gas_use": 100}, "components[0].gas_use"),
])
def test_a_key_the_component_type_does_not_use_is_an_error(comp, field):
    assert "hoort niet bij projecttype" in one(doc(components=[comp]), field)


def test_use_names_split_the_traffic_table_by_basis():
    from stikstofcalc import kengetallen

    kg = kengetallen.load()
    homes, functions = use_names(kg, "woning"), use_names(kg, "m2")
    assert "tussen_hoek" in homes and "kantoor" in functions and not set(homes) & set(functions)


# --------------------------------------------------------------------- ranges


@pytest.mark.parametrize("path, value", [
    ("construction.duration", "700000 maanden"),
    ("construction.duration", "1e999 maanden"),
    ("construction.electric_share", 1.5),
    ("components[0].count", 10**12),
    ("components[0].gas_use", 1e308),
    ("components[0].use_traffic.zwaar", "1e308 per dag"),
    ("components[0].construction_traffic.zwaar", -5),
    ("routes[0].length", "-1 km"),
    ("routes[0].length", "1e9 m"),
    ("routes[0].bearing", 1000),
    ("reference.sources[0].nox", 1e308),
    ("reference.sources[0].height", 1e5),
    ("construction.start", "9999-01"),
    ("construction.start", dt.date(1, 1, 1)),
])
def test_every_number_has_a_range(path, value):
    d = doc()
    d["reference"] = {"sources": [{"nox": 10, "x": 172500, "y": 452500}]}
    target = d
    parts = path.replace("]", "").replace("[", ".").split(".")
    for p in parts[:-1]:
        target = target[int(p)] if p.isdigit() else target.setdefault(p, {})
    target[parts[-1]] = value
    text = one(d, path)
    assert "buiten het toegestane bereik" in text or "geen bruikbaar getal" in text, text
    assert "verwacht:" in text


def test_ranges_refuse_nan_inf_and_booleans():
    r = ranges.RANGES["tolerance"]
    assert not any(r.contains(v) for v in (float("nan"), float("inf"), -1e308, True, "x", None))
    assert r.contains(0.01) and r.contains(0)


# --------------------------------------------------------------------- types and files


@pytest.mark.parametrize("value", [dt.date(2027, 3, 1), ["a.csv"], 5, {"x": 1}])
def test_overrides_must_be_text(value):
    text = one(doc(overrides=value), "overrides")
    assert "is geen tekst" in text and "datetime" not in text


@pytest.mark.parametrize("key, value", [("use", 5), ("reference", "boerderij"), ("components", {"type": "x"}),
                                        ("routes", "stad"), ("construction", [1])])
def test_a_scalar_where_a_table_belongs_is_an_error(key, value):
    assert errors(doc(**{key: value}))


def test_latin1_project_file_is_a_clear_error(tmp_path):
    path = tmp_path / "p.toml"
    path.write_bytes('name = "Dörp"\n'.encode("cp1252"))
    with pytest.raises(InputError, match="geen UTF-8"):
        read_project(path)


@pytest.mark.parametrize("suffix, words", [(".xlsx", "werkmap"), (".csv", "CSV"), (".gml", "IMAER")])
def test_other_file_types_given_as_a_project_name_the_right_command(tmp_path, suffix, words):
    path = tmp_path / f"p{suffix}"
    path.write_bytes(b"PK\x03\x04rest" if suffix == ".xlsx" else b"a,b\n")
    with pytest.raises(InputError, match=words):
        read_project(path)


def test_a_project_in_lat_lon_gets_rd_coordinates_and_routes():
    d = doc(location={"lat": 52.04, "lon": 5.66})
    d["routes"][0]["bearing"] = 90
    p = parse_project(d)
    assert p.location.x is not None and p.routes[0].geometry is not None


def test_outline_with_too_many_points_is_refused_quickly():
    import math

    n = ranges.MAX_POINTS + 1
    pts = [[172500 + 100 * math.cos(2 * math.pi * i / n), 452500 + 100 * math.sin(2 * math.pi * i / n)]
           for i in range(n)]
    d = doc()
    d["location"] = {"x": 172500, "y": 452500, "outline": pts}
    assert f"{n} punten" in one(d, "location.outline")


def test_closest_finds_typos_units_left_off_and_dutch_words():
    assert closest("z0", ["z0_m", "spread_m"]) == "z0_m"
    assert closest("duraton", KEYS["construction"]) == "duration"
    assert closest("Road_Type", KEYS["routes[]"]) == "road_type"
    assert closest("kleur", KEYS[""]) is None


def test_a_reference_source_with_x_but_no_y_is_an_error():
    """Found by the TOML fuzz test: a TypeError while formatting the source's point."""
    d = doc(reference={"sources": [{"nox": 10, "x": 172500}]})
    assert "ontbreekt; verwacht: y naast x (RD New, m)" in one(d, "reference.sources[0].y")
