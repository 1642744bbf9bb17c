"""The emission table's column names feed `deposition` directly (docs/nomenclature.md)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main
from stikstofcalc.deposition import deposition
from stikstofcalc.emissions.inventory import emission_sources
from stikstofcalc.errors import MultipleInputErrors

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RECEPTORS = pd.read_csv(EXAMPLES / "receptors.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def table():
    t = emission_sources(EXAMPLES / "dorp_kleine_uitbreiding.toml")
    return pd.DataFrame(t).astype(str).replace("nan", "")


def _one_period(t):
    first = t[(t.phase == "realisatie")]
    return first[first.year == first.year.min()].reset_index(drop=True)


def test_emission_table_of_one_phase_and_year_gives_the_deposition_of_its_own_format(table):
    mine = _one_period(table)
    assert {"nox_kg_per_yr", "x_m", "geometry_wkt"} <= set(mine.columns)
    got = deposition(mine, RECEPTORS)
    # the same sources in the deposition format's own names
    own = pd.DataFrame({"source_id": [f"s{i}" for i in range(len(mine))],
                        "x": np.where(mine.geometry_wkt != "", "", mine.x_m),
                        "y": np.where(mine.geometry_wkt != "", "", mine.y_m),
                        "height_m": mine.height_m, "heat_mw": mine.heat_mw,
                        "spread_m": mine.spread_m, "nox_kg_yr": mine.nox_kg_per_yr,
                        "nh3_kg_yr": mine.nh3_kg_per_yr, "geometry_wkt": mine.geometry_wkt})
    want = deposition(own, RECEPTORS)
    assert got["deposition_total_mol_ha_yr"].max() > 0
    np.testing.assert_array_equal(got["deposition_total_mol_ha_yr"], want["deposition_total_mol_ha_yr"])
    assert any("bronnen genoemd naar hun rij" in n for n in got.attrs["notes"])


def test_several_phases_or_years_are_refused_with_the_way_out(table):
    assert table[["phase", "year"]].drop_duplicates().shape[0] > 1
    with pytest.raises(MultipleInputErrors) as e:
        deposition(table, RECEPTORS)
    text = str(e.value)
    assert "combinaties van fase en jaar" in text and "stikstofcalc calc" in text


def test_both_spellings_of_one_quantity_is_an_error(table):
    mine = _one_period(table).assign(nox_kg_yr="1")
    with pytest.raises(MultipleInputErrors) as e:
        deposition(mine, RECEPTORS)
    assert "'nox_kg_per_yr' en 'nox_kg_yr' allebei opgegeven" in str(e.value)
    assert "komt 2 keer voor" not in str(e.value)


def test_cli_emissions_output_feeds_deposition(tmp_path, table):
    src = tmp_path / "emissies.csv"
    _one_period(table).to_csv(src, index=False)
    r = CliRunner().invoke(main, ["deposition", str(src), str(EXAMPLES / "receptors.csv"),
                                  "-o", str(tmp_path / "dep.csv")])
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "dep.csv")
    assert out["deposition_total_mol_ha_yr"].max() > 0
    whole = tmp_path / "alles.csv"
    table.to_csv(whole, index=False)
    r = CliRunner().invoke(main, ["deposition", str(whole), str(EXAMPLES / "receptors.csv"),
                                  "-o", str(tmp_path / "dep2.csv")])
    assert r.exit_code == 2 and "fase en jaar" in r.output
    assert not (tmp_path / "dep2.csv").exists()


def test_sources_of_several_projects_are_refused_not_summed(tmp_path):
    """`emissions A.toml B.toml` writes one table with a `case` column; its rows of one phase
    and year still belong to two projects, and their sum is no project's deposition."""
    src = tmp_path / "twee.csv"
    r = CliRunner().invoke(main, ["emissions", str(EXAMPLES / "dorp_kleine_uitbreiding.toml"),
                                  str(EXAMPLES / "dorp_ver_van_natuur.toml"), "-o", str(src)])
    assert r.exit_code == 0, r.output
    both = pd.read_csv(src, dtype=str, keep_default_na=False)
    one_period = both[(both.phase == "realisatie") & (both.year == "2027")]
    assert one_period["case"].nunique() == 2
    with pytest.raises(MultipleInputErrors) as e:
        deposition(one_period.reset_index(drop=True), RECEPTORS)
    text = str(e.value)
    assert "2 verschillende projecten" in text and "veld case" in text
    # one project of that table is still fine
    mine = one_period[one_period["case"] == one_period["case"].iloc[0]].reset_index(drop=True)
    assert deposition(mine, RECEPTORS)["deposition_total_mol_ha_yr"].max() > 0
