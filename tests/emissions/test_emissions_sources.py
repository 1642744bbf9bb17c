"""Projects -> emission-source table: years, fleet choice, explicit input, provenance, CLI."""

import copy
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc import kengetallen
from stikstofcalc.cli.main import main
from stikstofcalc.errors import InputError
from stikstofcalc.emissions.inventory import COLUMNS, emission_sources, explain, totals
from stikstofcalc.emissions.project import parse_project, read_project

BASE = {
    "name": "Base",
    "location": {"x": 172500, "y": 452500},
    "construction": {"start": "2027-03", "duration": "20 maanden", "year_split": "kalenderjaar"},
    "components": [{"type": "grondgebonden_woningen", "count": 50, "home_type": "tussen_hoek"}],
    "routes": [{"name": "r", "road_type": "stad_normaal", "length": "1 km"}],
}


def _project(**construction):
    data = copy.deepcopy(BASE)
    data["construction"].update(construction)
    return parse_project(data)


@pytest.fixture(scope="module")
def village():
    return emission_sources("examples/dorp_kleine_uitbreiding.toml")


def _machinery_nox(table):
    return table.loc[table["source_kind"] == "machinery", "nox_kg_per_yr"].sum()


def test_table_layout(village):
    assert list(village.columns) == COLUMNS
    assert set(village["phase"]) == {"realisatie", "gebruik"}
    mach = village[village["source_kind"] == "machinery"].iloc[0]
    assert (mach["height_m"], mach["heat_mw"], mach["spread_m"], mach["sector_id"]) == (2.5, 0.0, 1.3, 3220)
    road = village[village["source_kind"] == "use_traffic"].iloc[0]
    assert (road["height_m"], road["heat_mw"], road["spread_m"]) == (2.5, 0.0, 2.5)
    assert (village["nox_kg_per_yr"] >= 0).all() and (village["nh3_kg_per_yr"] >= 0).all()


def test_estimates_are_flagged(village):
    assert village["uses_estimate"].any()
    gasless = village[village["category"] == "gasloos"]
    assert not gasless["uses_estimate"].any() and set(gasless["basis"]) == {"verified"}
    assert (village.loc[village["uses_estimate"], "basis"] == "estimate").all()
    assert "[estimate]" in village.loc[0, "provenance"]


def test_use_traffic_by_hand():
    """16 tussen_hoek homes x 7.2 mvt/day x 365 d, all over one 0.9 km stad_normaal route.

    NOx factor IenW 2020 edition, stad normaal licht, 2028 (publisher's interpolation).
    """
    kg = kengetallen.load()
    table = emission_sources("examples/dorp_kleine_uitbreiding.toml")
    row = table[(table["source_kind"] == "use_traffic") & (table["component"] == "rijwoningen")].iloc[0]
    ef = kg.figure("road_factors_nox", (2028, "stad_normaal", "licht"), "nox_per_vehicle_km").value
    vehicles = 16 * 7.2 * 365
    assert row["vehicles_per_year"] == pytest.approx(vehicles)
    assert row["nox_kg_per_yr"] == pytest.approx(ef * vehicles * 900 / 1e6, rel=1e-12)


def test_spread_over_calendar_years_conserves_the_total():
    split = emission_sources(_project(year_split="kalenderjaar"))
    single = emission_sources(_project(year_split="een_jaar"))
    real = split[split["phase"] == "realisatie"]
    assert sorted(set(real["year"])) == [2027, 2028]
    frac = real.groupby("year")["period_fraction"].first()
    assert frac.sum() == pytest.approx(1.0)
    # machinery is linear in the activity, so the whole-period total does not depend on the split
    assert _machinery_nox(real) == pytest.approx(_machinery_nox(single[single["phase"] == "realisatie"]))
    assert set(single.loc[single["phase"] == "realisatie", "year"]) == {2027}


def test_aerius_rule_short_phase_counts_in_its_start_year():
    """rules.calendar_year_shares: a phase of at most 365 days is entered whole in its start year."""
    table = emission_sources(_project(year_split="aerius", start="2027-09", duration="10 maanden"))
    assert set(table.loc[table["phase"] == "realisatie", "year"]) == {2027}
    assert set(table.loc[table["phase"] == "gebruik", "year"]) == {2029}


def test_fleet_choice_changes_the_factors():
    current = _machinery_nox(emission_sources(_project(fleet="huidig")))
    stage_v = _machinery_nox(emission_sources(_project(fleet="stage_v")))
    half_el = _machinery_nox(emission_sources(_project(fleet="stage_v", electric_share=0.5)))
    all_el = emission_sources(_project(fleet="stage_v", electric_share=1.0))
    assert stage_v < current
    zut = _machinery_nox(all_el)  # only the truck mixers (ZUT, per hour) remain
    assert half_el == pytest.approx(zut + 0.5 * (stage_v - zut))
    diesel = all_el[all_el["category"].str.startswith("AUB")]
    assert diesel["nox_kg_per_yr"].sum() == 0.0


def test_explicit_input_wins():
    data = copy.deepcopy(BASE)
    comp = data["components"][0]
    comp["machines"] = [{"name": "mijn graafmachine", "category": "AUB_D", "fuel": "10000 L",
                         "hours": "1000 h", "adblue": "600 L"}]
    comp["construction_traffic"] = {"zwaar": 1000}
    comp["use_traffic"] = {"licht": "100 per dag"}
    data["construction"]["year_split"] = "een_jaar"
    table = emission_sources(parse_project(data))
    mach = table[table["source_kind"] == "machinery"]
    assert list(mach["label"]) == ["mijn graafmachine"]
    assert mach["nox_kg_per_yr"].sum() == pytest.approx(59.0)  # the AUB Stage V worked example
    assert "components[0].machines[0]" in mach["inputs"].iloc[0]
    heavy = table[(table["source_kind"] == "construction_traffic") & (table["category"] == "zwaar")]
    assert heavy["vehicles_per_year"].sum() == 1000
    assert "construction_traffic:grondgebonden_woningen/zwaar" not in heavy["provenance"].iloc[0]
    light = table[(table["source_kind"] == "use_traffic") & (table["category"] == "licht")]
    assert light["vehicles_per_year"].sum() == pytest.approx(100 * 365)


def test_machine_needs_fuel_or_power():
    data = copy.deepcopy(BASE)
    data["components"][0]["machines"] = [{"category": "AUB_D", "hours": 100}]
    with pytest.raises(InputError, match=r"veld components\[0\].machines\[0\].fuel: categorie AUB_D heeft het brandstofverbruik nodig"):
        emission_sources(parse_project(data))


def test_fuel_derived_from_power():
    table = emission_sources("examples/utiliteit_distributiecentrum.toml")
    crane = table[table["label"] == "mobiele kraan (Stage IV)"]
    assert crane["fuel_l"].sum() == pytest.approx((0.095 * 250 + 0.54) * 600)
    assert "fuel_use:aub_generiek/fuel_per_hour_per_power [verified]" in crane["provenance"].iloc[0]


def test_override_is_reported_in_the_output():
    table = emission_sources("examples/wijk_300_woningen_veluwe.toml")
    prov = table.attrs["provenance"]["Ede-West fase 1 (300 woningen)"]
    assert prov["overrides"][0]["row_id"] == "construction_traffic:grondgebonden_woningen/zwaar/movements_per_unit"
    heavy = table[(table["category"] == "zwaar") & (table["component"] == "grondgebonden woningen")]
    assert heavy["overridden"].all() and "[user, override]" in heavy["provenance"].iloc[0]
    assert heavy["vehicles_per_year"].sum() == pytest.approx(180 * 40)
    assert "OVERRIDE construction_traffic:grondgebonden_woningen/zwaar" in explain(table)


def test_batch_equals_single_cases():
    paths = ["examples/dorp_kleine_uitbreiding.toml", "examples/twee_natura2000_gebieden.toml"]
    batch = emission_sources(paths)
    for path in paths:
        single = emission_sources(path)
        part = batch[batch["case"] == single["case"].iloc[0]].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, single)


def test_reference_situation_is_carried():
    table = emission_sources("examples/twee_natura2000_gebieden.toml")
    ref = table[table["phase"] == "referentie"]
    assert ref["nh3_kg_per_yr"].tolist() == [780.0]
    assert ref["geometry_wkt"].iloc[0] == "POINT (167520.00 447480.00)"


def test_totals_and_explain(village):
    tot = totals(village)
    assert tot["nox_kg_per_yr"].sum() == pytest.approx(village["nox_kg_per_yr"].sum())
    text = explain(village)
    assert "steunt op GESCHATTE kengetallen" in text and "realisatie 2027" in text
    assert "NOx = 33 g/L x" in text and "sha256" in text
    assert "+ -" not in text and "- 460 g/L x min(" in text  # the AdBlue term read "+ -460" (review)


def test_cli_writes_atomically_with_provenance(tmp_path):
    out = tmp_path / "sources.csv"
    res = CliRunner().invoke(main, ["emissions", "examples/wijk_300_woningen_veluwe.toml",
                                    "-o", str(out), "--explain"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert len(table) > 10 and table["nox_kg_per_yr"].sum() > 0
    prov = json.loads((tmp_path / "sources.csv.provenance.json").read_text())
    assert prov["Ede-West fase 1 (300 woningen)"]["edition"] == "2026.1"
    assert "overschreven" in res.output and "Zaak" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.csv", "sources.csv.provenance.json"]


def test_cli_bad_input_exit_code_and_message(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "X"\n[location]\nx = 1\ny = 2\n[construction]\nstart = "2027-01"\n'
                   '[[components]]\ntype = "kasteel"\ncount = -3\n')
    res = CliRunner().invoke(main, ["emissions", str(bad), "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 2
    assert "components[0].count" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o.csv").exists()


def test_cli_csv_to_stdout():
    res = CliRunner().invoke(main, ["emissions", "examples/dorp_kleine_uitbreiding.toml"])
    assert res.exit_code == 0
    assert res.output.startswith("case,phase,year,source_kind")


def test_project_overrides_file_from_the_cli(tmp_path):
    override = tmp_path / "o.csv"
    override.write_text("table,category,quantity,value,unit,source\n"
                        "machinery_factors,ZUT,nox_per_hour,100,g/h,own measurement\n")
    res = CliRunner().invoke(main, ["emissions", "examples/dorp_kleine_uitbreiding.toml",
                                    "--overrides", str(override), "-o", str(tmp_path / "s.csv")])
    assert res.exit_code == 0 and "1 kengetal-rij(en) overschreven" in res.output
    table = pd.read_csv(tmp_path / "s.csv")
    zut = table[table["category"] == "ZUT"]
    assert zut["nox_kg_per_yr"].to_numpy() == pytest.approx(zut["hours_h"].to_numpy() * 0.1)
    project = read_project("examples/dorp_kleine_uitbreiding.toml")
    assert project.overrides is None


def test_readme_example_runs():
    import re
    import tomllib

    text = open("README.md", encoding="utf-8").read()
    block = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    table = emission_sources(parse_project(tomllib.loads(block)))
    assert set(table["phase"]) == {"realisatie", "gebruik"}
    machinery = table[table["source_kind"] == "machinery"]
    assert set(machinery["category"]) == {"AUB_D", "ZUT"}  # fleet = "stage_v"


def _with_heat(tmp_path, choice):
    from pathlib import Path

    text = (Path(__file__).parents[2] / "examples/utiliteit_distributiecentrum.toml").read_text(encoding="utf-8")
    assert "[construction]" in text
    p = tmp_path / "dc.toml"
    p.write_text(text.replace("[construction]", f'[construction]\nwerktuig_warmte = "{choice}"', 1),
                 encoding="utf-8")
    return p


def test_project_machinery_heat_choice_reaches_the_emission_table(tmp_path):
    """construction.werktuig_warmte was applied by calc only: the emissions output, the IMAER
    export and the batch's bronnen kept 0 MW, and an unknown choice passed there unnoticed."""
    base = emission_sources(read_project(_with_heat(tmp_path, "conservatief")))
    t = emission_sources(read_project(_with_heat(tmp_path, "instructie")))
    m = t.source_kind == "machinery"
    assert m.any() and set(t.loc[m, "heat_mw"]) == {0.035}
    assert set(base.loc[base.source_kind == "machinery", "heat_mw"]) == {0.0}
    assert t.loc[m, "provenance"].str.contains("heat_content_instruction").all()
    pd.testing.assert_series_equal(t.loc[~m, "heat_mw"], base.loc[~m, "heat_mw"])
    with pytest.raises(InputError, match="werktuig_warmte.*'instructe'"):
        emission_sources(read_project(_with_heat(tmp_path, "instructe")))
