"""The emission inventory of a chunk: many projects in one pass equal one project at a time.

``inventory.emission_sources`` builds the records of all projects of a chunk, renders
their provenance once per distinct list and assembles one table; the records of an
activity share their lists over its calendar years, machinery gets its factors once per
activity, and key-figure selections are memoised per edition. These tests pin that the
numbers, text, dtypes and row order are exactly those of one project at a time.
"""

from __future__ import annotations

import copy
import gc
from pathlib import Path

import pandas as pd
import pytest

from stikstofcalc import kengetallen
from stikstofcalc.assessment.many import _key_figures, emission_tables
from stikstofcalc.errors import InputError
from stikstofcalc.emissions.inventory import COLUMNS, emission_sources
from stikstofcalc.emissions.project import parse_project, read_project

ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "name": "Base",
    "location": {"x": 172500, "y": 452500},
    "construction": {"start": "2027-03", "duration": "20 maanden", "year_split": "kalenderjaar"},
    "components": [{"type": "grondgebonden_woningen", "count": 50, "home_type": "tussen_hoek"}],
    "routes": [{"name": "r", "road_type": "stad_normaal", "length": "1 km"}],
}


def _variant(name, construction=None, **top):
    data = copy.deepcopy(BASE)
    data["name"] = name
    data["construction"].update(construction or {})
    data.update(top)
    return parse_project(data)


def _projects():
    out = [read_project(p) for p in sorted((ROOT / "examples").glob("*.toml"))]
    out += [
        _variant("een jaar", {"year_split": "een_jaar"}),
        _variant("aerius kort", {"year_split": "aerius", "start": "2027-09", "duration": "10 maanden"}),
        _variant("aerius lang", {"year_split": "aerius"}),
        _variant("stage v half elektrisch", {"fleet": "stage_v", "electric_share": 0.5}),
        _variant("na de wegtabel", {"start": "2030-03"}),  # 2031: road factors of 2030, with a note
        _variant("twee routes", routes=[
            {"name": "a", "road_type": "snelweg_100", "length": "2 km", "share": 0.5, "stagnation": 0.1},
            {"name": "b", "road_type": "stad_doorstromend", "length": "1 km", "share": 0.5,
             "stagnation": 0.2}]),
        _variant("eigen invoer", components=[{
            "type": "grondgebonden_woningen", "count": 50, "home_type": "tussen_hoek", "gas_use": "900 m3/jaar",
            "machines": [{"name": "graafmachine", "category": "AUB_D", "fuel": "10000 L", "hours": "1000 h",
                          "adblue": "600 L"}],
            "construction_traffic": {"zwaar": 1000}, "use_traffic": {"licht": "100 per dag"}}]),
    ]
    return out


@pytest.fixture(scope="module")
def projects():
    return _projects()


def _same(a: pd.DataFrame, b: pd.DataFrame):
    pd.testing.assert_frame_equal(a, b, check_exact=True)  # values, dtypes, index
    for col in a.columns:
        assert [type(v) for v in a[col]] == [type(v) for v in b[col]], col


def test_chunk_equals_one_project_at_a_time(projects):
    kg = kengetallen.load()
    chunk = emission_sources(projects, kengetallen=kg)
    assert list(chunk.columns) == COLUMNS
    assert list(chunk["case"]) == sorted(chunk["case"])  # sorted by case, then phase and year
    for p in projects:
        one = emission_sources(p, kengetallen=kg)
        part = chunk[chunk["case"] == p.name].reset_index(drop=True)
        _same(part, one)
        assert chunk.attrs["provenance"][p.name] == one.attrs["provenance"][p.name]


def test_emission_tables_are_the_single_tables(projects):
    tables = emission_tables(projects, _key_figures(projects, None))
    for p, t in zip(projects, tables):
        one = emission_sources(p)
        _same(t, one)
        assert t.attrs == one.attrs


def test_year_records_keep_their_own_notes_and_provenance():
    """Traffic of 2030 and 2031 shares its activity's lists; only 2031 gets the note."""
    table = emission_sources(_variant("na de wegtabel", {"start": "2030-03"}))
    traffic = table[(table["phase"] == "realisatie") & (table["source_kind"] == "construction_traffic")]
    assert set(traffic["year"]) == {2030, 2031}
    by_year = traffic.groupby("year")
    notes = by_year["notes"].agg(set)
    assert notes[2030] == {""}
    assert all("wegverkeerfactoren voor 2031 niet in de tabel" in n for n in notes[2031])
    assert set(traffic["factor_year"]) == {2030.0}
    assert by_year["provenance"].agg(set)[2030] == by_year["provenance"].agg(set)[2031]
    machinery = table[(table["phase"] == "realisatie") & (table["source_kind"] == "machinery")]
    assert (machinery.groupby("label")["provenance"].nunique() == 1).all()


def test_memo_is_per_key_figure_object(tmp_path):
    override = tmp_path / "o.csv"
    override.write_text("table,category,quantity,value,unit,source\n"
                        "machinery_factors,ZUT,nox_per_hour,100,g/h,own measurement\n")
    base = kengetallen.load()
    own = base.with_overrides(override)
    project = read_project(ROOT / "examples" / "dorp_kleine_uitbreiding.toml")
    before = emission_sources(project, kengetallen=base)
    with_own = emission_sources(project, kengetallen=own)
    after = emission_sources(project, kengetallen=base)
    zut = with_own[with_own["category"] == "ZUT"]
    assert zut["nox_kg_per_yr"].to_numpy() == pytest.approx(zut["hours_h"].to_numpy() * 0.1)
    assert zut["overridden"].all() and "[user, override]" in zut["provenance"].iloc[0]
    _same(before, after)
    assert not before["overridden"].any()


def test_collector_state_is_restored():
    project = _variant("gc")
    bad = _variant("geen route", routes=[])
    assert gc.isenabled()
    emission_sources(project)
    assert gc.isenabled()
    with pytest.raises(InputError, match="route"):
        emission_sources([project, bad])
    assert gc.isenabled()
    gc.disable()
    try:
        emission_sources(project)
        assert not gc.isenabled()  # a collector the caller turned off stays off
    finally:
        gc.enable()
