"""No output holds a formula the tool did not write (issue 13, "Security").

Text starting with ``=``, ``+``, ``-``, ``@`` (or tab/CR) from an input became a live
formula in the ``deposition`` .xlsx output and in the batch's verbatim ``invoer``
sheets, and CSV outputs passed it on as is. Now:

- .xlsx outputs type such text as text (``t="s"``/inline string, never ``<f>``), so the
  value is kept exactly and ``invoer`` re-runs to identical results;
- CSV outputs put a ``'`` before it (OWASP "CSV Injection"); the deposition reader
  takes it off again, so its round trip stays exact.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EVIL = ['=HYPERLINK("http://example.invalid","klik")', "=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(1)",
        "\t=1+1", "\r=1+1"]


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"uncaught {type(r.exception).__name__}: {r.exception}\n{r.output}")
    return r


def formula_cells(path) -> list:
    """Every ``<f>`` element in the worksheets of an .xlsx package."""
    found = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                found += [(name, m) for m in re.findall(rb"<f[ >].{0,60}", zf.read(name))]
    return found


def _text(cell, value):
    cell.value = value
    cell.data_type = "s"  # as a user types it with a leading apostrophe: text, not a formula


# ------------------------------------------------------------------ deposition

@pytest.fixture
def dep_files(tmp_path):
    shutil.copy(EXAMPLES / "sources.csv", tmp_path / "s.csv")
    evil = EVIL[:5]  # (tab and CR inside a CSV cell are the reader's business)
    rec = pd.read_csv(EXAMPLES / "receptors.csv", dtype=str).head(len(evil))
    rec["receptor_id"] = evil[:len(rec)]
    rec["natura2000_area"] = evil[:len(rec)][::-1]
    rec.to_csv(tmp_path / "r.csv", index=False)
    return tmp_path, rec


def test_deposition_xlsx_has_no_formulas_and_keeps_the_text(dep_files):
    tmp, rec = dep_files
    r = run("deposition", tmp / "s.csv", tmp / "r.csv", "-o", tmp / "uit.xlsx")
    assert r.exit_code == 0, r.output
    assert formula_cells(tmp / "uit.xlsx") == []
    back = pd.read_excel(tmp / "uit.xlsx", sheet_name="deposition", dtype=str)
    assert back["receptor_id"].tolist() == rec["receptor_id"].tolist()


def test_deposition_csv_is_neutralised_and_reads_back_exactly(dep_files):
    from stikstofcalc.io.tables import read_table

    tmp, rec = dep_files
    r = run("deposition", tmp / "s.csv", tmp / "r.csv", "-o", tmp / "uit.csv")
    assert r.exit_code == 0, r.output
    raw = pd.read_csv(tmp / "uit.csv", dtype=str, keep_default_na=False)
    assert all(v.startswith("'") for v in raw["receptor_id"]), raw["receptor_id"].tolist()
    assert read_table(tmp / "uit.csv")["receptor_id"].tolist() == rec["receptor_id"].tolist()


# ------------------------------------------------------------------ batch invoer

@pytest.fixture(scope="module")
def evil_batch(tmp_path_factory):
    from stikstofcalc.batch import run as batch
    from stikstofcalc.io.excel.template import write_template

    tmp = tmp_path_factory.mktemp("formulas")
    book = tmp / "zaken.xlsx"
    write_template(book)
    wb = openpyxl.load_workbook(book)
    ws = wb["projecten"]
    keys = {ws.cell(2, j).value: j for j in range(1, ws.max_column + 1)}
    _text(ws.cell(3, keys["municipality"]), EVIL[0])
    _text(ws.cell(3, keys["component.name"]), EVIL[2])
    _text(ws.cell(4, keys["municipality"]), EVIL[1])
    # free text echoed verbatim (unknown columns are refused since issue 13's key schemas)
    _text(ws.cell(3, keys["description"]), EVIL[4])
    _text(ws.cell(4, keys["description"]), EVIL[5])
    wo = wb["onderdelen"]
    okeys = {wo.cell(2, j).value: j for j in range(1, wo.max_column + 1)}
    _text(wo.cell(3, okeys["name"]), EVIL[3])
    wb.save(book)
    first = batch.run_batch(book, jobs=1)
    out = tmp / "resultaten.xlsx"
    res = batch.run_batch(book, jobs=1, output=out)
    return book, out, res, first


def test_batch_results_have_no_formulas(evil_batch):
    _, out, res, _ = evil_batch
    assert res.counts["valid"] == 2
    assert formula_cells(out) == []
    ws = openpyxl.load_workbook(out)["invoer"]
    values = {c.value for row in ws.iter_rows(min_row=3) for c in row}
    assert {EVIL[0], EVIL[1], EVIL[2], EVIL[4], EVIL[5]} <= values  # verbatim, as text


def test_invoer_reruns_to_identical_results(evil_batch):
    from stikstofcalc.batch import run as batch

    _, out, res, first = evil_batch
    again = batch.run_batch(out, jobs=1)
    cols = [c for c in first.results.columns if c != "notes"]
    pd.testing.assert_frame_equal(again.results[cols], first.results[cols])
    assert again.counts == first.counts


# ------------------------------------------------------------------ other outputs

@pytest.fixture
def evil_project(tmp_path):
    text = (EXAMPLES / "dorp_kleine_uitbreiding.toml").read_text(encoding="utf-8")
    text = text.replace('name = "rijwoningen"', 'name = "=HYPERLINK(\\"http://x\\")"')
    text = text.replace('name = "twee-onder-een-kap"', 'name = "@SUM(1)"')
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_emissions_csv_is_neutralised(evil_project, tmp_path):
    r = run("emissions", evil_project, "-o", tmp_path / "bronnen.csv")
    assert r.exit_code == 0, r.output
    raw = pd.read_csv(tmp_path / "bronnen.csv", dtype=str, keep_default_na=False)
    cells = [v for col in raw.columns for v in raw[col]]
    assert not [v for v in cells if v and (v[0] in "=+@" or (v[0] == "-" and not re.fullmatch(r"-[\d.e+-]*", v)))]
    assert any(v.startswith("'=HYPERLINK") for v in cells)


def test_check_imaer_workbook_has_no_formulas(evil_project, tmp_path):
    assert run("export-imaer", evil_project, "-o", tmp_path / "gml").exit_code == 0
    gml = sorted((tmp_path / "gml").glob("*realisatie*.gml"))
    r = run("check-imaer", *gml, "--no-deposition", "-o", tmp_path / "controle.xlsx")
    assert r.exit_code == 0, r.output
    assert formula_cells(tmp_path / "controle.xlsx") == []
    labels = {c.value for row in openpyxl.load_workbook(tmp_path / "controle.xlsx")["bronnen"].iter_rows()
              for c in row if isinstance(c.value, str)}
    assert any(v.startswith("=HYPERLINK") or "HYPERLINK" in v for v in labels)


def test_defuse_is_lossless():
    from stikstofcalc.io.atomic import defuse, restore

    for text in EVIL + ["'=x", "''+y", "-12.5", "-", "+31", "gewoon", "'gewoon", "=", "@"]:
        assert restore(defuse(text)) == text
        d = defuse(text)
        assert not (len(d) > 1 and d[0] in "=+-@\t\r" and not re.fullmatch(r"[+-]\d+(\.\d+)?", d))
