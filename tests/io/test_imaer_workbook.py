"""export-imaer on a batch workbook: one folder per valid case, invalid cases reported."""

import openpyxl
from click.testing import CliRunner

from stikstofcalc.cli.main import main


def test_template_cases_exported(tmp_path):
    book = tmp_path / "zaken.xlsx"
    r = CliRunner()
    assert r.invoke(main, ["template", str(book)]).exit_code == 0
    res = r.invoke(main, ["export-imaer", str(book), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    folders = sorted(p for p in (tmp_path / "out").iterdir() if p.is_dir())
    assert len(folders) == 2
    for f in folders:
        gml = list(f.glob("*.gml"))
        assert any("realisatie" in g.name for g in gml) and any("gebruik" in g.name for g in gml)
        assert all(g.read_text(encoding="utf-8").lstrip().startswith("<?xml") for g in gml)


def test_invalid_case_reported_others_written(tmp_path):
    book = tmp_path / "zaken.xlsx"
    r = CliRunner()
    assert r.invoke(main, ["template", str(book)]).exit_code == 0
    wb = openpyxl.load_workbook(book)
    ws = wb["projecten"]
    keys = [c.value for c in ws[2]]
    col = keys.index("location.x") + 1 if "location.x" in keys else None
    assert col is not None, keys
    ws.cell(row=3, column=col, value="ver weg")  # first example case: x is text
    wb.save(book)
    res = r.invoke(main, ["export-imaer", str(book), "-o", str(tmp_path / "out")])
    assert res.exit_code == 3
    assert "ver weg" in res.output or "location" in res.output
    assert len([p for p in (tmp_path / "out").iterdir() if p.is_dir()]) == 1
