"""Key-figure library: checksums, validation with file/line/column, overrides, statuses, CLI."""

import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc import kengetallen
from stikstofcalc.cli.main import main
from stikstofcalc.errors import DataError, InputError, MultipleDataErrors, MultipleInputErrors

# Changing a number in a shipped table must be a visible, reviewed change: update these pins
# together with the table (sha256 of the file with LF line ends).
PINNED_2026_1 = {
    "sources": "5c71c6df99260422",
    "machinery_factors": "639de036f18be826",
    "fuel_use": "7f79dc2f775663d3",
    "road_factors_nox": "dad865b4bb9ac14a",
    "road_factors_nh3": "e40603fb26e64d9c",
    "source_characteristics": "d8c372a409019e56",
    "general": "507330daccdf1752",
    "project_types": "287e9be3ab436c11",
    "construction_machinery": "ac02887cdd25f81d",
    "construction_traffic": "b15d4432d2d39cb1",
    "fleet_mix": "fe7bee92f56fb6cb",
    "traffic_generation": "8aec86fd7d890df3",
    "traffic_vehicle_shares": "4f05317d093f28b7",
    "heating_factors": "17287253711916d7",
}


@pytest.fixture(scope="module")
def kg():
    return kengetallen.load("2026.1")


def test_pinned_table_checksums(kg):
    assert {k: v[:16] for k, v in kg.hashes.items()} == PINNED_2026_1


def test_default_edition_is_the_newest():
    assert kengetallen.default_edition() == kengetallen.editions()[-1] == "2026.1"


def test_every_table_file_has_a_source_column():
    folder = kengetallen.data_root() / "2026.1"
    for item in folder.iterdir():
        if item.name.endswith(".csv"):
            header = item.read_text(encoding="utf-8").splitlines()[0].split(",")
            assert any("source" in col for col in header), item.name


def test_values_are_canonical_floats(kg):
    assert kg.figure("heating_factors", "gasketel", "nox_per_energy").value == pytest.approx(0.056)
    assert kg.figure("traffic_generation", ("kantoor", "alle"), "movements_per_unit").value == pytest.approx(0.09)
    assert kg.figure("construction_machinery", ("bouwrijp_maken", "graafmachine"),
                     "fuel_per_unit").value == pytest.approx(0.15)  # 1500 L/ha in L/m2


def test_known_verified_values(kg):
    """Values verified against AERIUS 2024 output and LVVN 2024 (research folder)."""
    fig = kg.figure("machinery_factors", "ZUT", "nox_per_hour")
    assert (fig.value, fig.status) == (200.0, "verified")
    assert kg.figure("machinery_factors", "AUB_D", "max_adblue_fuel_ratio").value == 0.07
    assert kg.figure("source_characteristics", 3220, "heat_content").value == 0.0  # conservative (issue 12)
    assert kg.figure("source_characteristics", 3220, "heat_content_instruction").value == 0.035
    assert kg.figure("source_characteristics", 3210, "heat_content_instruction").value == 0.02
    assert kg.figure("general", "aerius", "days_per_year").value == 365.0
    # IenW 2020 edition, research README: 2030 stad normaal zwaar 4.4918 g/km NOx
    assert kg.figure("road_factors_nox", (2030, "stad_normaal", "zwaar"), "nox_per_vehicle_km").value == 4.4918


def test_estimates_are_never_labelled_verified(kg):
    for name, frame in kg.tables.items():
        est = frame[frame["source_id"].isin(["STIKSTOFCALC_ESTIMATE_2026", "IMAER_TEST_FIXTURE",
                                             "CROW_RECALLED", "EU_ECODESIGN_813_2013_RECALLED",
                                             "NL_GAS_GCV_RECALLED"])]
        assert set(est["status"]) <= {"estimate"}, name
        sec = frame[frame["source_id"].isin(["TNO2021_AUB_SECONDARY", "IENW_EF_2020"])]
        assert "verified" not in set(sec["status"]), name


def test_missing_figure_raises_data_error(kg):
    with pytest.raises(DataError, match="machinery_factors:NOPE/nox_per_fuel"):
        kg.figure("machinery_factors", "NOPE", "nox_per_fuel")
    assert kg.figure("machinery_factors", "B4T", "nox_per_hour", required=False) is None


def _broken_edition(tmp_path):
    folder = tmp_path / "2099.1"
    shutil.copytree(kengetallen.data_root() / "2026.1", folder)
    path = folder / "fuel_use.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace(",0.095,L/h/kW,", ",0.095,kg,")  # wrong dimension
    lines[2] = lines[2].replace("LVVN2024_GEGEVENSINVOER", "NO_SUCH_SOURCE")  # unknown source
    lines.append(lines[2])  # duplicate row
    lines.append("aub_generiek,fuel_per_hour_base,,L/h,LVVN2024_GEGEVENSINVOER,x,estimate,")
    path.write_text("\n".join(lines) + "\n")
    mix = folder / "fleet_mix.csv"
    mix.write_text(mix.read_text().replace("huidig,AUB_A,share,0.15", "huidig,AUB_A,share,0.25"))
    return folder


def test_loader_reports_every_problem_with_file_line_column(tmp_path):
    with pytest.raises(MultipleDataErrors) as info:
        kengetallen.validate_folder(_broken_edition(tmp_path))
    text = str(info.value)
    assert "2099.1/fuel_use.csv (rij 2), veld unit: eenheid 'kg' is een massa" in text
    assert "(rij 3), veld source_id: onbekende source_id 'NO_SUCH_SOURCE'" in text
    assert "dubbele rij fuel_use:aub_generiek/fuel_per_hour_base" in text
    assert "veld value: waarde ontbreekt" in text
    assert len(info.value.errors) >= 4
    # consistency checks run once the rows are clean


def test_shares_must_sum_to_one(tmp_path):
    folder = _broken_edition(tmp_path)
    shutil.copy(kengetallen.data_root() / "2026.1" / "fuel_use.csv", folder / "fuel_use.csv")
    with pytest.raises(MultipleDataErrors, match="de aandelen van 'huidig' tellen op tot 1,1"):
        kengetallen.validate_folder(folder)


def test_unknown_edition_is_an_input_error():
    with pytest.raises(InputError, match="onbekende editie van de kengetallen '1999.9'"):
        kengetallen.load("1999.9")


OVERRIDE_CSV = """table,category,fleet,project_type,vehicle_class,quantity,value,unit,source,status,note
machinery_factors,AUB_D,,,,nh3_per_fuel,0.10,g/L,TNO measurement report X,reported,
fleet_mix,AUB_D,stage_v,,,share,1,dimensionless,,,
construction_traffic,,,grondgebonden_woningen,zwaar,movements_per_unit,40,dimensionless,logistics plan,user,
construction_traffic,,,grondgebonden_woningen,bus,movements_per_unit,2,dimensionless,logistics plan,user,
"""


def test_overrides_replace_and_extend_and_are_reported(kg, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(OVERRIDE_CSV.replace("fleet_mix,AUB_D,stage_v,,,share,1,dimensionless,,,\n", ""))
    new = kg.with_overrides(path)
    fig = new.figure("machinery_factors", "AUB_D", "nh3_per_fuel")
    assert (fig.value, fig.status, fig.overridden) == (0.10, "reported", True)
    assert new.figure("construction_traffic", ("grondgebonden_woningen", "zwaar"), "movements_per_unit").value == 40
    actions = {(o.row_id, o.action) for o in new.overrides}
    assert ("machinery_factors:AUB_D/nh3_per_fuel", "replaced") in actions
    assert ("construction_traffic:grondgebonden_woningen/bus/movements_per_unit", "added") in actions
    assert kg.figure("machinery_factors", "AUB_D", "nh3_per_fuel").value == 0.24  # original untouched
    assert new.provenance()["overrides"][0]["file"] == str(path)


def test_override_without_source_and_wrong_unit_is_rejected(kg, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("table,category,quantity,value,unit,source\n"
                    "machinery_factors,AUB_D,nox_per_fuel,33,g/h,my note\n"
                    "machinery_factors,AUB_D,nox_per_hour,5,g/h,\n"
                    "no_table,AUB_D,nox_per_hour,5,g/h,x\n")
    with pytest.raises(MultipleInputErrors) as info:
        kg.with_overrides(path)
    text = str(info.value)
    assert "(rij 2), veld unit: eenheid 'g/h' is een massa per tijdseenheid; verwacht: een eenheid om te rekenen naar g/L" in text
    assert "(rij 3), veld source: geen bron opgegeven" in text
    assert "(rij 4), veld table: onbekende tabel 'no_table'" in text


def test_override_in_imperial_units_is_refused(kg, tmp_path):
    """The override files follow the rule of every quantity typed: no gallons or pounds."""
    path = tmp_path / "gal.csv"
    path.write_text("table,category,quantity,value,unit,source\n"
                    "machinery_factors,AUB_D,nox_per_fuel,120,g/gal,eigen meting\n")
    with pytest.raises(MultipleInputErrors) as info:
        kg.with_overrides(path)
    assert ("(rij 2), veld unit: eenheid 'g/gal': gal is geen metrische eenheid; verwacht: metrische "
            "eenheden, bijv. m, km") in str(info.value)


def test_override_units_read_as_in_project_files(kg, tmp_path):
    """Dutch unit words in an override file mean what they mean in a project file: 'ton' is
    1000 kg (it was refused as not metric, before that read as a US ton), 'gr' a gram (pint:
    grain), 'pk' a metric horsepower (pint: peck); the figure keeps the unit as written."""
    path = tmp_path / "nl.csv"
    path.write_text("table,category,quantity,value,unit,source\n"
                    "machinery_factors,AUB_D,nox_per_fuel,12,gr/L,eigen meting\n"
                    "machinery_factors,AUB_C,nox_per_fuel,0.012,kg per L,eigen meting\n")
    new = kg.with_overrides(path)
    assert new.figure("machinery_factors", "AUB_D", "nox_per_fuel").value == pytest.approx(12.0)
    assert new.figure("machinery_factors", "AUB_C", "nox_per_fuel").value == pytest.approx(12.0)
    assert any(o.line == 2 for o in new.overrides)


def test_override_numbers_read_as_quantities_are(kg, tmp_path):
    """'1.000' was read as 1 (heavy construction traffic 1,200 -> 264 movements): it is
    ambiguous, as in a project file; '1.000,5' and '40,5' are Dutch; a workbook's number
    cell 1.125 is a number, not text."""
    path = tmp_path / "dots.csv"
    path.write_text("table,category,quantity,value,unit,source\n"
                    'machinery_factors,AUB_D,nox_per_fuel,"1.500",mg/L,eigen meting\n')
    with pytest.raises(MultipleInputErrors, match="'1.500' is dubbelzinnig") as info:
        kg.with_overrides(path)
    assert "(rij 2), veld value" in str(info.value)
    path.write_text("table,category,quantity,value,unit,source\n"
                    'machinery_factors,AUB_D,nox_per_fuel,"1.000,5",mg/L,eigen meting\n'
                    'machinery_factors,AUB_C,nox_per_fuel,"40,5",g/L,eigen meting\n')
    new = kg.with_overrides(path)
    assert new.figure("machinery_factors", "AUB_D", "nox_per_fuel").value == pytest.approx(1.0005)
    assert new.figure("machinery_factors", "AUB_C", "nox_per_fuel").value == pytest.approx(40.5)
    xl = tmp_path / "cell.xlsx"
    pd.DataFrame([{"category": "AUB_C", "quantity": "nox_per_fuel", "value": 1.125, "unit": "g/L",
                   "source": "x"}]).to_excel(xl, sheet_name="machinery_factors", index=False)
    assert kg.with_overrides(xl).figure("machinery_factors", "AUB_C", "nox_per_fuel").value == 1.125


def test_overrides_from_excel(kg, tmp_path):
    path = tmp_path / "mine.xlsx"
    frame = pd.DataFrame([{"category": "AUB_C", "quantity": "nox_per_fuel", "value": 30,
                           "unit": "g/L", "source": "own measurement"}])
    frame.to_excel(path, sheet_name="machinery_factors", index=False)
    new = kg.with_overrides(path)
    assert new.figure("machinery_factors", "AUB_C", "nox_per_fuel").value == 30.0
    assert new.overrides[0].action == "replaced" and new.overrides[0].line == 2


def test_cli_list_show_export(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["kengetallen", "list"])
    assert res.exit_code == 0 and "machinery_factors" in res.output and "2026.1" in res.output
    res = runner.invoke(main, ["kengetallen", "show", "machinery_factors", "--status", "verified"])
    assert res.exit_code == 0
    shown = pd.read_csv(pd.io.common.StringIO(res.output))
    assert set(shown["status"]) == {"verified"} and "ZUT" in set(shown["category"])
    res = runner.invoke(main, ["kengetallen", "show", "nope"])
    assert res.exit_code == 2 and "onbekende tabel 'nope'" in res.output
    res = runner.invoke(main, ["kengetallen", "export", str(tmp_path / "out")])
    assert res.exit_code == 0
    exported = kengetallen.validate_folder(tmp_path / "out")
    assert exported.figure("machinery_factors", "AUB_D", "nox_per_fuel").value == 33.0
