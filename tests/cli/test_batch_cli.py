"""``stikstofcalc batch``: exit codes, overwrite rules, summary, input never changed (CliRunner)."""

from __future__ import annotations

import hashlib

import openpyxl
from click.testing import CliRunner

from stikstofcalc.cli.main import main
from stikstofcalc.io.excel.template import write_template


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_batch_exit_codes(tmp_path):
    tpl = tmp_path / "zaken.xlsx"
    write_template(tpl)
    digest = hashlib.sha256(tpl.read_bytes()).hexdigest()
    out = tmp_path / "r.xlsx"
    r = run("batch", tpl, "-o", out)
    assert r.exit_code == 0, r.output
    assert "2 zaken gelezen: 2 berekend, 0 ongeldig" in r.output
    assert run("batch", tpl, "-o", out).exit_code == 2  # exists
    assert run("batch", tpl, "-o", tpl, "--overwrite").exit_code == 2  # output = input
    assert hashlib.sha256(tpl.read_bytes()).hexdigest() == digest

    wb = openpyxl.load_workbook(tpl)
    wb["projecten"]["A5"] = "kapot"  # a case row without location, start, component
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    r = run("batch", bad, "-o", out, "--overwrite", "--regime", "bouwvrijstelling")
    assert r.exit_code == 3, r.output
    assert "3 zaken gelezen: 2 berekend, 1 ongeldig" in r.output
    fouten = list(openpyxl.load_workbook(out)["fouten"].iter_rows(min_row=3, values_only=True))
    assert fouten and all(f[0] == "kapot" and f[2] == 5 for f in fouten)
    res = list(openpyxl.load_workbook(out)["resultaten"].iter_rows(min_row=3, values_only=True))
    assert {r[28] for r in res} == {"bouwvrijstelling"}


def test_batch_unreadable_input(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_text("geen excel")
    r = run("batch", p, "-o", tmp_path / "r.xlsx")
    assert r.exit_code == 2 and "fout:" in r.output and "Traceback" not in r.output
    r = run("batch", tmp_path / "missing.xlsx", "-o", tmp_path / "r.xlsx")
    assert r.exit_code == 2
    r = run("batch", p.with_suffix(".pdf"), "-o", tmp_path / "r.xlsx")
    assert r.exit_code == 2
