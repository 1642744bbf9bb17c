"""Project file: parsing, carried-through fields and clear errors on bad input."""

import datetime as dt
import glob
import math
import pickle
import tomllib

import pytest

from stikstofcalc.errors import InputError, MultipleInputErrors, UnitError
from stikstofcalc.emissions.project import parse_project, read_project
from stikstofcalc.units import parse_quantity, to_magnitude

MINIMAL = {
    "name": "Test",
    "location": {"x": 172500, "y": 452500},
    "construction": {"start": "2027-03", "duration": "18 maanden"},
    "components": [{"type": "grondgebonden_woningen", "count": 40, "home_type": "tussen_hoek"}],
    "routes": [{"name": "r", "road_type": "stad_normaal", "length": "1,2 km"}],
}


def _with(**changes):
    data = {k: (dict(v) if isinstance(v, dict) else [dict(x) for x in v] if isinstance(v, list) else v)
            for k, v in MINIMAL.items()}
    for path, value in changes.items():
        target, keys = data, path.split("__")
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        target[keys[-1]] = value
    return data


def _errors(data):
    with pytest.raises(MultipleInputErrors) as info:
        parse_project(data, file="p.toml")
    return str(info.value), info.value.errors


def test_minimal_project_parses_to_canonical_values():
    p = parse_project(MINIMAL)
    assert p.construction.start == dt.date(2027, 3, 1)
    assert p.construction.end == dt.date(2028, 9, 1)  # 18 calendar months, exclusive end
    assert p.routes[0].length_m == 1200.0 and p.routes[0].share == 1.0
    assert p.components[0].count == 40 and p.use.urbanisation == "matig_stedelijk"


@pytest.mark.parametrize("path", sorted(glob.glob("examples/*.toml")))
def test_examples_parse(path):
    p = read_project(path)
    assert p.components and p.routes and p.location.x is not None


def test_fields_for_the_assessment_step_are_carried_through():
    p = read_project("examples/wijk_300_woningen_veluwe.toml")
    assert p.location.outline[0] == (172250.0, 452300.0) and len(p.location.outline) == 4
    south, north = p.routes
    assert south.geometry[-1] == (172300.0, 451200.0)
    assert south.length_m == pytest.approx(math.hypot(50, 500) + math.hypot(150, 600))
    assert north.bearing_deg == 20 and north.geometry[1][1] > north.geometry[0][1]
    ref = read_project("examples/twee_natura2000_gebieden.toml").reference
    assert ref.sources[0].nh3_kg_per_yr == 780.0 and ref.sources[0].sector_id == 4110


def test_lat_lon_location_is_accepted():
    p = parse_project(_with(location={"lat": 52.04, "lon": 5.66}))
    assert p.location.lat == 52.04  # converted to RD New once, here: every later step works in RD
    from stikstofcalc.geo.receptors import wgs84_to_rd

    x, y = wgs84_to_rd(52.04, 5.66)
    assert (p.location.x, p.location.y) == (float(x), float(y))  # near Ede: x 173.7 km, y 450.2 km
    assert p.location.x == pytest.approx(173717, abs=5) and p.location.y == pytest.approx(450221, abs=5)


@pytest.mark.parametrize("x, y, lat, lon", [(5.9, 52.1, "52,1", "5,9"), ("52,1", "5,9", "52,1", "5,9")])
def test_degrees_in_x_and_y_are_named_as_wgs84(x, y, lat, lon):
    """x 5,9 lies inside RD New's x range: only y was refused, as 'buiten het bereik' (review)."""
    text, errors = _errors(_with(location={"x": x, "y": y}))
    assert len(errors) == 1 and "lijken WGS84-graden" in text
    assert f"lat = {lat} en lon = {lon}" in text


def test_rd_new_x_and_y_are_not_taken_for_degrees():
    assert parse_project(_with(location={"x": 52, "y": 452500})).location.x == 52.0


def test_unknown_project_type_lists_the_known_ones():
    text, _ = _errors(_with(components__0__type="villa"))
    assert 'zaak "Test", veld components[0].type: onbekend projecttype \'villa\'' in text
    assert "verwacht: een van bouwrijp_maken, gestapelde_woningen, grondgebonden_woningen, sloop, utiliteitsbouw" in text


@pytest.mark.parametrize("count, words", [(-5, "ligt buiten het toegestane bereik"), (12.5, "is geen geheel getal"),
                                          ("12", "is geen geheel getal"), (True, "is geen geheel getal")])
def test_bad_home_counts(count, words):
    text, _ = _errors(_with(components__0__count=count))
    shown = "true" if count is True else repr(count)  # a boolean as TOML writes it
    assert f"veld components[0].count: {shown} {words}" in text
    assert "verwacht: een eindig getal van 1 tot en met 100.000 woningen" in text


def test_end_before_start():
    data = _with()
    data["construction"] = {"start": "2027-03", "end": "2026-12"}
    text, _ = _errors(data)
    assert "veld construction.end: '2026-12' ligt niet na de start '2027-03'" in text


@pytest.mark.parametrize("duration, expected", [("18 kg", "een hoeveelheid in maanden (het is een massa)"),
                                                ("achttien maanden", '"18 maanden"'),
                                                ("0 maanden", "meer dan 0 tot en met 240 maanden")])
def test_bad_durations(duration, expected):
    text, errors = _errors(_with(construction__duration=duration))
    assert "veld construction.duration" in text and expected in text


def test_unknown_machine_category_and_vehicle_class():
    data = _with()
    data["components"][0]["machines"] = [{"category": "STAGE_X", "fuel": "100 L", "hours": 5}]
    data["components"][0]["construction_traffic"] = {"vrachtwagen": 10}
    text, errors = _errors(data)
    assert "veld components[0].construction_traffic.vrachtwagen: onbekende voertuigklasse 'vrachtwagen'" in text
    assert "verwacht: een van licht, middelzwaar, zwaar, bus" in text
    assert "veld components[0].machines[0].category: onbekende werktuigcategorie 'STAGE_X'" in text
    assert "AUB_D" in text and "ELEKTRISCH" in text


def test_all_problems_are_reported_at_once():
    data = _with(routes__0__road_type="snelweg", components__0__count=-1)
    data["location"] = {"x": 1e7, "y": 452500}
    data["colour"] = "blue"
    _, errors = _errors(data)
    fields = {e.field for e in errors}
    assert {"colour", "location.x", "components[0].count"} <= fields
    assert all(isinstance(e, InputError) for e in errors)
    assert pickle.loads(pickle.dumps(errors[0])).field == errors[0].field


def test_route_shares_must_sum_to_one():
    data = _with()
    data["routes"] = [{"road_type": "buitenweg", "length": 500, "share": 0.5},
                      {"road_type": "buitenweg", "length": 500, "share": 0.4}]
    text, _ = _errors(data)
    assert "veld routes[1].share: de aandelen van de routes tellen op tot 0,9; verwacht: aandelen van de routes die samen 1 zijn" in text


def test_unknown_road_type_after_structure_is_valid():
    text, _ = _errors(_with(routes__0__road_type="snelweg"))
    assert "veld routes[0].road_type: onbekend wegtype 'snelweg'" in text and "snelweg_100" in text


def test_invalid_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(InputError, match="geen geldige TOML"):
        read_project(bad)
    with pytest.raises(InputError, match="bestand niet gevonden"):
        read_project(tmp_path / "none.toml")


def test_dutch_quantity_strings():
    assert to_magnitude("18 maanden", "month") == 18.0
    assert to_magnitude("1,2 km", "m") == pytest.approx(1200.0)
    assert to_magnitude("10.000,5 L", "L") == 10000.5
    assert to_magnitude("3 weken", "day") == 21.0
    assert to_magnitude("2000 m2", "m**2") == 2000.0
    assert to_magnitude("180 per dag", "1/day") == 180.0
    assert to_magnitude("780 kg/jaar", "kg/year") == 780.0
    assert to_magnitude("25 %", "dimensionless") == 0.25
    assert parse_quantity("12 uur").to("hour").magnitude == 12.0
    assert to_magnitude("5", "L") == 5.0  # a bare number is in the field's unit


@pytest.mark.parametrize("text, unit, shown", [
    ("5 mi", "m", "mi"), ("ft", "m", "ft"), ("12 in", "m", "in"), ("3 yd", "m", "yd"),
    ("2 acre", "m**2", "acre"), ("400 sq_ft", "m**2", "sq_ft"), ("1 square_mile", "m**2", "sq_mi"),
    ("3 cubic_foot", "m**3", "cu_ft"), ("100 gal", "L", "gal"), ("20 lb", "kg", "lb"),
    ("50 mph", "km/hour", "mph"), ("90 hp", "kW", "hp"), ("2 nmi", "m", "nmi"), ("1 km/mi", "dimensionless", "mi"),
    ("5 grain", "kg", "gr"),
])
def test_imperial_units_are_refused_naming_the_accepted_ones(text, unit, shown):
    """pint reads mi, ft, in, yd, acre, gal, lb: in a Dutch project they are a mistake ("5 mi"
    was 8 km); refused, naming the unit and the metric units accepted."""
    with pytest.raises(UnitError) as exc:
        to_magnitude(text, unit, field="routes[0].length")
    assert str(exc.value) == (f"veld routes[0].length: {text!r}: {shown} is geen metrische eenheid; verwacht: "
                              "metrische eenheden, bijv. m, km, m2, ha, L, m3, kg, ton, kW, MW, uur, dag, "
                              "maand, jaar of %")


@pytest.mark.parametrize("text, unit, value", [
    ("5 km", "m", 5000.0), ("350 m", "m", 350.0), ("3 ha", "m**2", 30000.0), ("2000 m2", "m**2", 2000.0),
    ("12 m3", "m**3", 12.0), ("2 ton", "kg", 2000.0), ("800 kg", "kg", 800.0), ("100 uur", "h", 100.0),
    ("2 jaar", "month", 24.0), ("18 maanden", "month", 18.0), ("1000 L", "L", 1000.0), ("5 MW", "MW", 5.0),
    ("120 kW", "kW", 120.0), ("10 min", "h", 10 / 60), ("25 %", "dimensionless", 0.25),
    # Dutch abbreviations pint spells otherwise: gr (pint: grain), pk (pint: peck), kton
    ("10000 gr/jaar", "kg/year", 10.0), ("150 pk", "kW", 150 * 0.73549875), ("2 kton", "kg", 2e6),
    # capitals as typed in spreadsheets (case still matters where it changes the unit: MW, mW)
    ("12 KM", "m", 12000.0), ("3 Ha", "m**2", 30000.0), ("2000 M2", "m**2", 2000.0), ("5 KG", "kg", 5.0),
    ("120 KW", "kW", 120.0), ("5 MW", "kW", 5000.0), ("1 mW", "W", 0.001), ("200 graden", "degree", 200.0),
    ("5 MM", "m", 0.005), ("5 CM", "m", 0.05), ("1500 mol N/ha/jr", "mol/hectare/year", 1500.0),
])
def test_metric_units_and_dutch_words_still_read(text, unit, value):
    assert to_magnitude(text, unit) == pytest.approx(value)


def test_a_project_with_a_route_in_miles_is_refused():
    text, errors = _errors(_with(routes__0__length="5 mi"))
    assert "veld routes[0].length: '5 mi': mi is geen metrische eenheid" in text
    assert [e.field for e in errors] == ["routes[0].length"]


def test_ambiguous_thousands_separator_is_refused():
    with pytest.raises(UnitError, match="dubbelzinnig"):
        to_magnitude("10.000 L", "L")


def test_toml_example_keys_are_documented():
    doc = open("docs/project_format.md", encoding="utf-8").read()
    for path in glob.glob("examples/*.toml"):
        data = tomllib.load(open(path, "rb"))
        for key in data:
            assert f"`{key}`" in doc, (path, key)


def test_remembered_unit_texts_convert_and_fail_as_fresh_ones():
    """to_magnitude remembers text conversions per unit: same numbers, errors still raised."""
    from stikstofcalc import units
    from stikstofcalc.errors import UnitError

    units._MAGNITUDES.clear()
    assert units.to_magnitude("1,2 km", "m") == pytest.approx(1200.0)
    assert ("1,2 km", "m") in units._MAGNITUDES
    assert units.to_magnitude("1,2 km", "m") == pytest.approx(1200.0)  # remembered
    assert units.to_magnitude("1,2 km", "km") == pytest.approx(1.2)  # per unit
    with pytest.raises(UnitError) as err:  # a wrong dimension is never remembered
        units.to_magnitude("1,2 km", "month", field="bouwduur")
    assert "bouwduur" in str(err.value)
    with pytest.raises(UnitError):
        units.to_magnitude("1,2 km", "month", field="bouwduur")
    assert units.to_magnitude("24", "month") == 24.0  # a bare number in the column's unit


def test_a_dutch_ton_is_1000_kg():
    """pint's "ton" is the US short ton (907.185 kg): "780 ton/jaar" was read as 707,604 kg."""
    assert to_magnitude("780 ton/jaar", "kg/year") == pytest.approx(780_000.0)
    assert to_magnitude("2 tonnen", "kg") == pytest.approx(2000.0)
    assert to_magnitude("780 t/jaar", "kg/year") == pytest.approx(780_000.0)


@pytest.mark.parametrize("length", [0.9, "1 cm", "9,9 m"])
def test_a_route_shorter_than_10_m_is_refused(length):
    """A bare 0.9 (meant: km) was read as 0,9 m and turned a permit case into 0,00."""
    with pytest.raises(MultipleInputErrors) as e:
        parse_project(_with(routes__0__length=length))
    (err,) = e.value.errors
    assert err.field == "routes[0].length" and "10" in str(err) and "km?" in str(err)
    assert parse_project(_with(routes__0__length="10 m")).routes[0].length_m == 10.0


def test_a_use_year_before_construction_is_refused():
    with pytest.raises(MultipleInputErrors) as e:
        parse_project(_with(use={"year": 2020}))
    (err,) = e.value.errors
    assert err.field == "use.year" and "voor het begin van de bouw" in str(err)
    assert parse_project(_with(use={"year": 2027})).use.year == 2027


def test_x_y_and_lat_lon_must_name_one_place():
    """Both given: x, y is used, so lat, lon elsewhere (Groningen for a site in Utrecht)
    was silently ignored; now refused. Both for the same place is fine."""
    from stikstofcalc.geo.receptors import rd_to_wgs84

    with pytest.raises(MultipleInputErrors) as e:
        parse_project(_with(location={"x": 172500, "y": 452500, "lat": 53.2, "lon": 6.5}))
    (err,) = e.value.errors
    assert err.field == "location" and "km uit elkaar" in str(err)
    lat, lon = (float(v) for v in rd_to_wgs84(172500, 452500))
    loc = parse_project(_with(location={"x": 172500, "y": 452500, "lat": lat, "lon": lon})).location
    assert (loc.x, loc.y) == (172500.0, 452500.0)


def test_a_duration_shorter_than_a_day_names_the_duration():
    """"10 minuten" made the end fall before the start, reported as a field "end" the user
    never wrote, without file or case."""
    with pytest.raises(MultipleInputErrors) as e:
        parse_project(_with(construction={"start": "2027-03", "duration": "10 minuten"}))
    (err,) = e.value.errors
    assert err.field == "construction.duration" and "korter dan een dag" in str(err)
    assert parse_project(_with(construction={"start": "2027-03", "duration": "6 weken"})).construction.end


def test_lat_lon_outside_rd_new_names_the_place_given():
    """lat, lon inside the degree limits but outside RD New (the North Sea off Zeeland): the
    message names the lat, lon the user wrote (Dutch decimals) and the RD limits; it showed
    the converted y unrounded ("665135.5412636613 ligt buiten het toegestane bereik")."""
    with pytest.raises(MultipleInputErrors) as e:
        parse_project(_with(location={"lat": 53.95, "lon": 3.1}))
    (err,) = e.value.errors
    assert err.field == "location" and err.value == "lat 53,95, lon 3,1"
    assert "buiten het gebied van RD New (omgerekend x 4.829, y 665.135 m)" in str(err)
    assert "y van 289.000 tot 629.000 m" in str(err) and "665135.54" not in str(err)


@pytest.mark.parametrize("text, why", [
    ("25 000 m2", "een spatie in het getal"), ("25\u00a0000 m2", "een spatie in het getal"),
    ("2000 m2 \U0001F600", "onverwacht teken"), ("2000 m2 #", "onverwacht teken"), ("40 = L", "onverwacht teken"),
])
def test_text_pint_would_skip_or_misread_is_refused(text, why):
    """pint read "25 000 m2" as 25 x 000 m2 = 0 m2 (then "ligt buiten het bereik") and skipped
    an emoji after the unit ("2000 m2 😀" gave 2000 m2): both refused, saying why."""
    with pytest.raises(UnitError, match=why):
        parse_quantity(text)


@pytest.mark.parametrize("text, unit, value", [
    ("2000 m²", "m**2", 2000.0), ("3 m³", "m**3", 3.0), ("180 per dag", "1/day", 180.0),
    ("25 %", "dimensionless", 0.25), ("1,5 kg/uur", "kg/hour", 1.5), ("(2) m", "m", 2.0),
])
def test_units_with_signs_still_read(text, unit, value):
    assert to_magnitude(text, unit) == pytest.approx(value)


def test_invalid_site_outline_is_refused_at_reading_naming_the_field():
    """Every command reads the outline (emissions and export-imaer gave 'fout: buitenring
    snijdt zichzelf' without file, case or field)."""
    bowtie = [[172400, 452400], [172600, 452600], [172600, 452400], [172400, 452600]]
    data = _with(location={"x": 172500, "y": 452500, "outline": bowtie})
    with pytest.raises(MultipleInputErrors) as e:
        parse_project(data, file="p.toml")
    err = next(x for x in e.value.errors if x.field == "location.outline")
    assert "snijdt zichzelf" in str(err) and "p.toml" in str(err) and 'zaak "Test"' in str(err)
