"""The output a person reads (issue 13): Dutch in one voice, workbooks fit to read and print.

- the ``calc`` report, its notes, ``--explain``, ``check-imaer`` (console and workbook)
  and the ``fouten`` messages are Dutch, without Python internals;
- units in Dutch notation (m², m³/jaar; not m^2, dimensionless);
- workbooks: column widths from the content, long text wrapped with row heights, A4
  landscape fit to readable page widths, frozen headers;
- ``calc -o result.csv --csv-format excel-nl`` for Excel with Dutch settings;
- the first run says it compiles; no "Exception ignored" noise when every case is invalid.
"""

from __future__ import annotations

import gc
import shutil
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DORP = EXAMPLES / "dorp_kleine_uitbreiding.toml"
#: English that leaked into Dutch output before (issue 13 and a read of the outputs).
ENGLISH = ["today", "current rules", "Default receptors", "not in the data", "screening approximation",
           "is not valid", "unit registry", "could not convert", "key figures", "kg/yr", "your input",
           "sources,", "emission differences", "situation(s) checked", "clipped at 0", "Case \""]


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"uncaught {type(r.exception).__name__}: {r.exception}\n{r.output}")
    return r


def _english(text):
    return [w for w in ENGLISH if w in text]


# ------------------------------------------------------------------ Dutch text

def test_calc_report_is_dutch():
    r = run("calc", DORP, "--no-measures")
    assert r.exit_code == 0, r.output
    assert _english(r.output) == []
    assert "Regime: 'post-porthos' (sinds 2 november 2022): huidige regels" in r.output
    assert "Standaard rekenpunten" in r.output and "niet beoordeeld" in r.output


def test_explain_is_dutch():
    r = run("emissions", DORP, "--explain")
    assert r.exit_code == 0, r.output
    assert _english(r.output) == [], r.output[:2000]
    assert "kg/jaar" in r.output and "kengetallen:" in r.output and "uw invoer:" in r.output


def test_check_imaer_console_and_workbook_are_dutch(tmp_path):
    assert run("export-imaer", DORP, "-o", tmp_path / "gml").exit_code == 0
    gml = sorted((tmp_path / "gml").glob("*.gml"))
    out = tmp_path / "controle.xlsx"
    r = run("check-imaer", *gml, "--no-deposition", "-o", out)
    assert r.exit_code == 0, r.output
    assert _english(r.output) == [], r.output
    assert "gecontroleerd" in r.output and "kg/jr" in r.output
    wb = openpyxl.load_workbook(out)
    head = [c.value for c in wb["situaties"][1]]
    keys = [c.value for c in wb["situaties"][2]]
    assert "bestand" in head and "NOx opgegeven (kg/jaar)" in head and "nox_stated" in keys
    status = {c.value for c in wb["bronnen"]["A"][:0]} | {
        row[[c.value for c in wb["bronnen"][2]].index("status")] for row in
        wb["bronnen"].iter_rows(min_row=3, values_only=True)}
    assert status <= {"ok", "wijkt af", "niet herberekend"}, status
    notes = " ".join(c.value for c in wb["toelichting"]["A"][1:])
    assert "herberekend" in notes and _english(notes) == []


@pytest.fixture(scope="module")
def bad_batch(tmp_path_factory):
    """A batch whose two cases are both invalid: a duration in words, x as text."""
    from stikstofcalc.io.excel.template import write_template

    tmp = tmp_path_factory.mktemp("lezen")
    book = write_template(tmp / "zaken.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["projecten"]
    keys = {ws.cell(2, j).value: j for j in range(1, ws.max_column + 1)}
    ws.cell(3, keys["construction.duration"], "achttien maandjes")
    ws.cell(4, keys["location.x"], "veel")
    wb.save(book)
    out = tmp / "resultaten.xlsx"
    caught = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = caught.append
    try:
        r = run("batch", book, "-o", out)
        gc.collect()
    finally:
        sys.unraisablehook = old_hook
    return r, out, caught


def test_fouten_messages_without_python_internals(bad_batch):
    r, out, _ = bad_batch
    assert r.exit_code == 3, r.output
    ws = openpyxl.load_workbook(out)["fouten"]
    keys = [c.value for c in ws[2]]
    messages = [row[keys.index("melding")] for row in ws.iter_rows(min_row=3, values_only=True)]
    assert messages and not [m for m in messages if "registry" in m or "could not convert" in m
                             or "Error" in m]
    assert any("'achttien maandjes' is geen getal met een eenheid (onbekende eenheid 'achttien')" in m for m in messages), \
        messages
    # the reason only: zaak and verwacht have their own columns
    assert not [m for m in messages if m.startswith("case ") or "; expected" in m], messages


def test_no_exception_ignored_when_every_case_is_invalid(bad_batch):
    _, _, caught = bad_batch
    assert caught == [], [str(u.exc_value) for u in caught]


def test_units_in_dutch_notation(tmp_path):
    from stikstofcalc.io.excel.template import write_template
    from stikstofcalc.units import unit_nl

    assert [unit_nl(u) for u in ("m**2", "m**3/year", "1/day", "dimensionless", "h", "kg/year")] == \
        ["m²", "m³/jaar", "per dag", "-", "uur", "kg/jaar"]
    ws = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx"))["toelichting"]
    head = next(r for r in ws.iter_rows(values_only=True) if r[0] == "blad")
    units = {row[head.index("eenheid")] for row in ws.iter_rows(values_only=True) if row[4]}
    assert {"m²", "m³/jaar"} <= units and not {u for u in units if "^" in str(u) or "dimensionless" in str(u)}


# ------------------------------------------------------------------ fit to read and print

def _widths(ws):
    return {k: v.width for k, v in ws.column_dimensions.items()}


def test_fouten_sheet_fits_its_messages(bad_batch):
    _, out, _ = bad_batch
    ws = openpyxl.load_workbook(out)["fouten"]
    keys = [c.value for c in ws[2]]
    col = openpyxl.utils.get_column_letter(keys.index("melding") + 1)
    assert ws.column_dimensions[col].width >= 60  # was 10: the message was cut
    long = [c for row in ws.iter_rows(min_row=3) for c in row if isinstance(c.value, str)
            and len(c.value) > ws.column_dimensions[c.column_letter].width]
    assert long and all(c.alignment.wrap_text for c in long)
    assert all((ws.row_dimensions[c.row].height or 0) > 15 for c in long)  # the row grows
    assert ws.freeze_panes == "B3"


def test_every_results_sheet_prints_on_a4_landscape_fit_to_width(bad_batch):
    _, out, _ = bad_batch
    wb = openpyxl.load_workbook(out)
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert ps.orientation == "landscape" and str(ps.paperSize) == "9", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ps.fitToHeight == 0, ws.title
        width = sum(w for w in _widths(ws).values() if w)
        assert int(ps.fitToWidth) == max(1, -(-int(width) // 190)) or width == 0, (ws.title, width)
        assert ws.freeze_panes is not None, ws.title
        assert ws.print_title_rows, ws.title
    herkomst = wb["herkomst"]
    long = [c for c in herkomst["B"] if isinstance(c.value, str) and len(c.value) > 120]
    assert long and all(c.alignment.wrap_text for c in long)


def test_invoer_columns_are_as_wide_as_their_labels(bad_batch):
    _, out, _ = bad_batch
    ws = openpyxl.load_workbook(out)["invoer"]
    for cell in ws[1]:
        if cell.value:
            w = ws.column_dimensions[cell.column_letter].width
            assert w >= min(len(cell.value), 28), (cell.value, w)


def test_template_toelichting_wraps_with_row_heights_on_one_page_width(tmp_path):
    from stikstofcalc.io.excel.template import write_template

    ws = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx"))["toelichting"]
    assert int(ws.page_setup.fitToWidth) == 1 and ws.page_setup.orientation == "landscape"
    assert sum(_widths(ws)[c] for c in "ABCDEFGHIJ") <= 190
    merged = {r.min_row for r in ws.merged_cells.ranges}
    wrapped = [c for row in ws.iter_rows() for c in row if c.row not in merged
               and isinstance(c.value, str) and len(c.value) > 60 and c.alignment.wrap_text]
    assert len(wrapped) > 20
    assert all((ws.row_dimensions[c.row].height or 0) >= 30 for c in wrapped)
    assert ws.merged_cells.ranges  # the introduction spans the table


def test_deposition_and_check_workbooks_have_content_widths(tmp_path):
    shutil.copy(EXAMPLES / "sources.csv", tmp_path / "s.csv")
    shutil.copy(EXAMPLES / "receptors.csv", tmp_path / "r.csv")
    assert run("deposition", tmp_path / "s.csv", tmp_path / "r.csv", "-o", tmp_path / "d.xlsx").exit_code == 0
    wb = openpyxl.load_workbook(tmp_path / "d.xlsx")
    ws = wb["deposition"]
    head = [c.value for c in ws[1]]
    col = openpyxl.utils.get_column_letter(head.index("natura2000_area") + 1)
    assert ws.column_dimensions[col].width >= len("natura2000_area")
    assert ws.freeze_panes == "A2" and ws.page_setup.orientation == "landscape"


# ------------------------------------------------------------------ CSV for Dutch Excel

def test_calc_csv_for_dutch_excel(tmp_path):
    std, nl = tmp_path / "r.csv", tmp_path / "r_nl.csv"
    assert run("calc", DORP, "--no-measures", "-o", std).exit_code == 0
    r = run("calc", DORP, "--no-measures", "-o", nl, "--csv-format", "excel-nl")
    assert r.exit_code == 0, r.output
    raw = nl.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the accents right
    first = raw.decode("utf-8-sig").splitlines()
    assert ";" in first[0] and "," not in first[0]
    a = pd.read_csv(std)
    b = pd.read_csv(nl, sep=";", decimal=",", encoding="utf-8-sig")
    numbers = [c for c in a.columns if a[c].dtype.kind in "fi"]
    assert len(numbers) > 5 and list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a[numbers], b[numbers])
    assert (tmp_path / "r_nl.csv.provenance.json").exists()


def test_emissions_csv_for_dutch_excel(tmp_path):
    out = tmp_path / "e.csv"
    assert run("emissions", DORP, "-o", out, "--csv-format", "excel-nl").exit_code == 0
    b = pd.read_csv(out, sep=";", decimal=",", encoding="utf-8-sig")
    assert b["nox_kg_per_yr"].dtype == float and b["nox_kg_per_yr"].sum() > 0


# ------------------------------------------------------------------ first run

def test_first_run_says_it_compiles(monkeypatch):
    from stikstofcalc.cli import options as cli_options

    monkeypatch.setattr(cli_options, "_kernel_cached", lambda: False)
    r = CliRunner().invoke(main, ["calc", str(DORP), "--no-measures"])
    assert r.exit_code == 0, r.output
    assert "eenmalig gecompileerd" in r.stderr
    monkeypatch.setattr(cli_options, "_kernel_cached", lambda: True)
    r = CliRunner().invoke(main, ["calc", str(DORP), "--no-measures"])
    assert "gecompileerd" not in r.stderr


def test_kernel_cache_is_found_after_a_run():
    from stikstofcalc.cli import options as cli_options
    assert run("calc", DORP, "--no-measures").exit_code == 0
    assert cli_options._kernel_cached()


def test_kernel_cache_is_looked_up_where_numba_looks(tmp_path, monkeypatch):
    """With NUMBA_CACHE_DIR set numba uses only that folder: an empty one means compiling,
    even when the package's own __pycache__ holds the kernel."""
    from stikstofcalc.cli import options as cli_options

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert not cli_options._kernel_cached()
    (tmp_path / "x" / "deposition").mkdir(parents=True)
    (tmp_path / "x" / "deposition" / "fast._evaluate-123.py311.nbi").write_bytes(b"")
    assert cli_options._kernel_cached()


def test_deposition_xlsx_shows_six_decimals_and_stores_exact_values(tmp_path):
    """The deposition sheet shows deposition_* numbers with 6 decimals (display only): the
    stored value is the computed float, other columns keep their general format."""
    from stikstofcalc.io.tables import write_table

    value = 0.000123456789123
    frame = pd.DataFrame({"receptor_id": [1, 2], "deposition_total": [value, 12.5],
                          "x": [155000.25, 155001.0]})
    out = write_table(frame, tmp_path / "d.xlsx")
    ws = openpyxl.load_workbook(out)["deposition"]
    head = [c.value for c in ws[1]]
    dep, x = head.index("deposition_total") + 1, head.index("x") + 1
    assert ws.cell(2, dep).value == value and ws.cell(2, dep).number_format == "0.000000"
    assert ws.cell(2, x).number_format == "General"
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(dep)].width >= 8
