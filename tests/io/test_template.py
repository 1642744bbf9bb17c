"""``stikstofcalc template``: sheets, header rows, dropdowns, defined names, toelichting, examples."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main
from stikstofcalc.io.excel.schema import SHEETS, choice_lists
from stikstofcalc.io.excel.template import EXAMPLES, KIND_NL, write_template


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("tpl") / "zaken.xlsx"
    write_template(path)
    return path


def test_sheets_and_order(template):
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames[:2] == ["toelichting", "projecten"]
    assert {s.name for s in SHEETS} <= set(wb.sheetnames)
    assert wb["lijsten"].sheet_state == "hidden"
    assert wb.active.title == "projecten"


def test_label_and_key_rows(template):
    wb = openpyxl.load_workbook(template)
    for sheet in SHEETS:
        ws = wb[sheet.name]
        labels = [c.value for c in ws[1]][: len(sheet.columns)]
        keys = [c.value for c in ws[2]][: len(sheet.columns)]
        assert labels == [c.label for c in sheet.columns]
        assert keys == sheet.keys
        assert ws.freeze_panes == "B3"


def test_units_in_labels():
    for sheet in SHEETS:
        for c in sheet.columns:
            if c.kind == "quantity" and c.unit not in ("dimensionless",):
                assert "(" in c.label, c.label


def test_dropdowns_on_every_fixed_list(template):
    wb = openpyxl.load_workbook(template)
    for sheet in SHEETS:
        ws = wb[sheet.name]
        ranges = {str(r) for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges}
        for j, col in enumerate(sheet.columns, start=1):
            if col.choices:
                letter = openpyxl.utils.get_column_letter(j)
                assert f"{letter}3:{letter}10000" in ranges, (sheet.name, col.key)


def test_landuse_class_accepts_whole_numbers_1_to_9(template):
    """The receptoren sheet's landuse column has a whole-number 1-9 validation, as the
    reader's range (geo.receptors.terrain_violations)."""
    wb = openpyxl.load_workbook(template)
    ws = wb["receptoren"]
    keys = [c.value for c in ws[2]]
    letter = openpyxl.utils.get_column_letter(keys.index("landuse") + 1)
    found = [dv for dv in ws.data_validations.dataValidation
             if f"{letter}3:{letter}10000" in {str(r) for r in dv.sqref.ranges}]
    assert len(found) == 1
    dv = found[0]
    assert (dv.type, dv.operator, dv.formula1, dv.formula2) == ("whole", "between", "1", "9")
    assert dv.allow_blank and dv.showErrorMessage and "1 tot en met 9" in dv.error


def test_lists_match_kengetallen(template):
    from stikstofcalc import kengetallen

    lists = choice_lists(kengetallen.load())
    wb = openpyxl.load_workbook(template)
    ws = wb["lijsten"]
    for j, (name, values) in enumerate(lists.items(), start=1):
        got = [ws.cell(i, j).value for i in range(2, len(values) + 2)]
        assert ws.cell(1, j).value == name and got == values
    assert "post-porthos" in lists["regime"] and "stage_v" in lists["fleet"]


def test_defined_names(template):
    wb = openpyxl.load_workbook(template)
    names = set(wb.defined_names.keys())
    assert "col_projecten_location_x" in names and "lijst_project_type" in names


def test_toelichting_explains_every_field(template):
    wb = openpyxl.load_workbook(template)
    ws = wb["toelichting"]
    rows = {(r[0], r[2]): r for r in ws.iter_rows(values_only=True) if r[0] and r[2]}
    for sheet in SHEETS:
        for col in sheet.columns:
            r = rows[(sheet.name, col.key)]
            assert r[1] == col.label and r[6] is not None and r[7] is not None  # default, source
            assert r[3] == KIND_NL[col.kind]  # the kind in Dutch ("aantal (geheel getal)", not "count")


def test_two_example_rows(template):
    wb = openpyxl.load_workbook(template)
    ws = wb["projecten"]
    ids = [ws.cell(r, 1).value for r in range(3, 6)]
    assert ids[:2] == [e["case_id"] for e in EXAMPLES["projecten"]] and ids[2] is None


def test_cli_template_refuses_overwrite(tmp_path):
    out = tmp_path / "z.xlsx"
    r = CliRunner().invoke(main, ["template", str(out)])
    assert r.exit_code == 0 and out.exists()
    r = CliRunner().invoke(main, ["template", str(out)])
    assert r.exit_code == 2 and "bestaat al" in r.output
    r = CliRunner().invoke(main, ["template", str(out), "--overwrite"])
    assert r.exit_code == 0
    r = CliRunner().invoke(main, ["template", str(tmp_path / "z.csv")])
    assert r.exit_code == 2
