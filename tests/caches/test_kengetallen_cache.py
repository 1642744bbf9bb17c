"""Key-figure caching: one validation per edition and override file, same numbers as pint row by row."""

import pint
import pytest

from stikstofcalc import kengetallen
from stikstofcalc.errors import MultipleInputErrors


@pytest.fixture(autouse=True)
def fresh_cache():
    kengetallen.clear_cache()
    yield
    kengetallen.clear_cache()


def test_default_and_named_edition_share_one_validation():
    kg = kengetallen.load(None)
    assert kengetallen.load() is kg
    assert kengetallen.load(kengetallen.default_edition()) is kg
    assert kengetallen._load_edition.cache_info().misses == 1


def test_cached_unit_factor_gives_the_row_by_row_pint_values_exactly():
    # the factor per distinct unit must not change a single shipped number (bit for bit)
    kg = kengetallen.load()
    rows = 0
    for frame in kg.tables.values():
        for given, unit_given, value, unit in zip(frame["value_as_given"], frame["unit_as_given"],
                                                   frame["value"], frame["unit"]):
            number = float(given.replace(",", "."))
            assert value == kengetallen._convert_exact(number, unit_given, unit)
            rows += 1
    assert rows > 700


def test_offset_units_are_converted_exactly_not_by_factor():
    assert kengetallen._unit_factor("degC", "K") is None
    assert kengetallen._convert("20", "degC", "K") == pytest.approx(293.15)
    assert kengetallen._convert("2,5", "km", "m") == 2500.0


def test_unknown_unit_is_still_an_error_and_not_cached():
    before = kengetallen._unit_factor.cache_info().currsize
    with pytest.raises(pint.UndefinedUnitError):
        kengetallen._convert("1", "furlongs_per_fortnight_nl", "m")
    assert kengetallen._unit_factor.cache_info().currsize == before


def test_override_file_is_parsed_once_per_content(tmp_path, monkeypatch):
    kg = kengetallen.load()
    relation = kg.values("fuel_use", "relation")[0]
    path = tmp_path / "eigen.csv"

    def write(value):
        path.write_text("table,relation,quantity,value,unit,source\n"
                        f"fuel_use,{relation},fuel_per_hour_base,{value},L/h,eigen meting\n",
                        encoding="utf-8")

    calls = []
    real = kengetallen._read_override_file
    monkeypatch.setattr(kengetallen, "_read_override_file",
                        lambda *a: calls.append(a[0]) or real(*a))
    write("1.5")
    first = kg.with_overrides(path)
    assert kg.with_overrides(path) is first and kg.with_overrides(str(path)) is first
    assert len(calls) == 1
    assert first.figure("fuel_use", relation, "fuel_per_hour_base").value == 1.5
    write("2.5")  # new content: validated again, new numbers
    second = kg.with_overrides(path)
    assert len(calls) == 2 and second is not first
    assert second.figure("fuel_use", relation, "fuel_per_hour_base").value == 2.5
    assert first.figure("fuel_use", relation, "fuel_per_hour_base").value == 1.5


def test_invalid_override_file_is_reported_every_time(tmp_path):
    kg = kengetallen.load()
    path = tmp_path / "fout.csv"
    path.write_text("table,relation,quantity,value,unit,source\n"
                    "fuel_use,x,fuel_per_hour_base,1,parsec,eigen\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(MultipleInputErrors):
            kg.with_overrides(path)
    with pytest.raises(MultipleInputErrors, match="bestand niet gevonden"):
        kg.with_overrides(tmp_path / "missing.csv")


def test_cache_key_follows_the_content():
    kg = kengetallen.load()
    assert kg.cache_key[0] == kg.edition
    assert dict(kg.cache_key[1]) == kg.hashes
