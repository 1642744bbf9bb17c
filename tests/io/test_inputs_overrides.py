"""Issue 13, input half: key-figure override files (``--overrides``, ``overrides = ...``).

Before the fix a year ``abc`` ended in a ValueError deep in the inventory, ``1e308`` gave
infinite emissions, a negative count of movements lowered them, and a share of 2 was
accepted. Every figure now has a range and every key its type; hypothesis checks that
any override file ends in a figure set or an InputError, never another exception.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stikstofcalc.emissions import inventory
from stikstofcalc import kengetallen
from stikstofcalc.errors import InputError, StikstofError
from stikstofcalc.emissions.project import read_project

ROOT = Path(__file__).resolve().parents[2]
HEAD = "table,project_type,vehicle_class,quantity,value,unit,source\n"
ROW = "construction_traffic,grondgebonden_woningen,zwaar,movements_per_unit,{},dimensionless,offerte\n"


@pytest.fixture(scope="module")
def kg():
    return kengetallen.load()


def override(tmp_path, kg, text, name="o.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return kg.with_overrides(path)


@pytest.mark.parametrize("text, field, words", [
    ("table,year,road_type,vehicle_class,quantity,value,unit,source\n"
     "road_factors_nox,abc,stad_normaal,licht,nox_per_vehicle_km,0.3,g/km,x\n", "year", "geen jaar"),
    (HEAD + ROW.format("1e308"), "value", "buiten het toegestane bereik"),
    (HEAD + ROW.format("-50"), "value", "buiten het toegestane bereik"),
    ("table,function,vehicle_class,quantity,value,unit,source\n"
     "traffic_vehicle_shares,tussen_hoek,licht,share,2,dimensionless,x\n", "value", "buiten het toegestane bereik"),
    ("table,name,quantity,value,unit,source\ngeneral,aerius,days_per_year,0,dimensionless,x\n", "value",
     "buiten het toegestane bereik"),
    (HEAD + ROW.format(""), "value", "waarde ontbreekt"),
    (HEAD + ROW.format("40").replace(",zwaar,", ",,"), "vehicle_class", "lege sleutel"),
])
def test_bad_override_rows_are_messages(tmp_path, kg, text, field, words):
    with pytest.raises(InputError) as info:
        override(tmp_path, kg, text)
    hits = [e for e in info.value.errors if e.field == field]
    assert hits and words in str(hits[0]) and "rij 2" in str(hits[0])


def test_negative_adblue_factor_is_still_allowed(tmp_path, kg):
    text = ("table,category,quantity,value,unit,source\n"
            "machinery_factors,AUB_D,nox_per_adblue,-400,g/L,eigen meting\n")
    assert override(tmp_path, kg, text).figure("machinery_factors", "AUB_D", "nox_per_adblue").value == -400


def test_windows_1252_override_file_reads(tmp_path, kg):
    """Dutch Excel's CSV is Windows-1252: read as every CSV reader reads it (io.text)."""
    path = tmp_path / "o.csv"
    path.write_bytes((HEAD + ROW.format("40").replace("offerte", "offerte één")).encode("cp1252"))
    fig = kg.with_overrides(path).figure("construction_traffic", ("grondgebonden_woningen", "zwaar"),
                                         "movements_per_unit")
    assert fig.value == 40 and fig.overridden


def test_undecodable_override_file_is_a_message(tmp_path, kg):
    path = tmp_path / "o.csv"
    path.write_bytes((HEAD + ROW.format("40")).encode() + b"\x81\n")
    with pytest.raises(InputError, match="geen UTF-8 en geen Windows-1252"):
        kg.with_overrides(path)


@pytest.mark.parametrize("text", ["a,b\nx,y,z\n", HEAD + ROW.format("40").rstrip("\n") + ",extra\n"])
def test_row_with_more_cells_than_the_header_is_a_message(tmp_path, kg, text):
    """pandas made the first column the index and the check crashed with a ValueError."""
    with pytest.raises(InputError, match="cellen maar de kopregel"):
        override(tmp_path, kg, text)


def test_override_file_of_another_type_is_a_message(tmp_path, kg):
    with pytest.raises(InputError, match="onbekend bestandstype '.toml'"):
        override(tmp_path, kg, "[construction]\nduration = '14 maanden'\n", name="o.toml")


CELLS = st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
                  st.sampled_from(["", "nan", "inf", "1e308", "-1", "2030", "abc", "g/L", "kg", "zwaar",
                                   "construction_traffic", "road_factors_nox", "year", "share", ",", '"']))


@given(cells=st.lists(CELLS, min_size=5, max_size=10), header=st.booleans())  # also ragged rows
@settings(deadline=None, max_examples=60, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_override_rows(cells, header):
    """Any override row: a figure set the inventory can use, or an InputError."""
    kg = kengetallen.load()
    project = read_project(ROOT / "examples" / "dorp_kleine_uitbreiding.toml")
    head = HEAD if header else "table,year,road_type,vehicle_class,quantity,value,unit,source\n"
    row = ",".join('"' + c.replace('"', '""') + '"' for c in cells)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "o.csv"
        path.write_text(head + row + "\n", encoding="utf-8", errors="surrogatepass")
        try:
            kg2 = kg.with_overrides(path)
        except InputError:
            return
        try:
            table = inventory.emission_sources(project, kengetallen=kg2)
        except StikstofError:
            return
        assert table["nox_kg_per_yr"].map(lambda v: v == v and abs(v) < 1e15).all()


def test_unknown_vehicle_class_is_refused_naming_the_override_row(tmp_path, kg):
    """It was added as a row nothing reads; the error came later without the file's name."""
    with pytest.raises(InputError) as info:
        override(tmp_path, kg, HEAD + ROW.format("40").replace(",zwaar,", ",vrachtwagen,"))
    hit = next(e for e in info.value.errors if e.field == "vehicle_class")
    assert "onbekende vehicle_class 'vrachtwagen'" in str(hit) and "rij 2" in str(hit) and "o.csv" in str(hit)


def test_semicolon_csv_from_dutch_excel_is_read(tmp_path, kg):
    text = (HEAD + ROW.format('"40,5"')).replace(",", ";").replace('"40;5"', "40,5")
    got = override(tmp_path, kg, text)
    fig = got.figure("construction_traffic", ("grondgebonden_woningen", "zwaar"), "movements_per_unit")
    assert fig.value == 40.5 and fig.overridden


def test_csv_without_table_column_and_header_only_are_messages(tmp_path, kg):
    with pytest.raises(InputError, match="kolom table ontbreekt"):
        override(tmp_path, kg, "project_type,vehicle_class,quantity,value,unit,source\nx,zwaar,m,1,dimensionless,s\n")
    with pytest.raises(InputError, match="geen rijen met kengetallen"):
        override(tmp_path, kg, HEAD)


def _xlsx(path, sheets):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_workbook_sheet_with_unknown_name_and_formula_without_value(tmp_path, kg):
    head = ["project_type", "vehicle_class", "quantity", "value", "unit", "source"]
    path = _xlsx(tmp_path / "o.xlsx", {"bouwverkeer": [head, ["grondgebonden_woningen", "zwaar",
                                                              "movements_per_unit", 40, "dimensionless", "x"]],
                                       "toelichting": [["vrije tekst"]]})
    with pytest.raises(InputError, match="blad 'bouwverkeer' is geen tabel met kengetallen"):
        kg.with_overrides(path)
    path = _xlsx(tmp_path / "f.xlsx", {"construction_traffic": [head, ["grondgebonden_woningen", "zwaar",
                                                                       "movements_per_unit", "=20*2",
                                                                       "dimensionless", "x"]]})
    with pytest.raises(InputError) as info:
        kg.with_overrides(path)
    hit = next(e for e in info.value.errors if e.field == "value")
    assert "'=20*2' is een formule zonder opgeslagen waarde" in str(hit) and "rij 2" in str(hit)
