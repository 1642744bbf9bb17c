"""Outputs never destroy a file (issue 13, "Data destroyed"): one rule for every command.

- no command writes over one of its inputs, also not through a symbolic or hard link;
- an existing output is replaced only with ``--overwrite`` (calc, emissions, headroom-map,
  export-imaer, kengetallen export, check-imaer, as deposition, template and batch);
- case ids that clean to the same file name get unique names, and that is reported;
- an output and its provenance are one unit; a write error (full or read-only disk,
  ``-o afile/res.json``, ``-o /proc/x``) is a Dutch message with exit code 2, and
  nothing (no orphan ``.provenance.json``, no half export, no temporary file) is left.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DORP = EXAMPLES / "dorp_kleine_uitbreiding.toml"
WIJK = EXAMPLES / "wijk_300_woningen_veluwe.toml"  # names overrides = "eigen_kengetallen.csv"


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"uncaught {type(r.exception).__name__}: {r.exception}\n{r.output}")
    return r


def _no_traceback(r):
    assert "Traceback" not in r.output and "Error:" not in r.output and "error:" not in r.output


@pytest.fixture
def work(tmp_path):
    for name in ("dorp_kleine_uitbreiding.toml", "wijk_300_woningen_veluwe.toml", "eigen_kengetallen.csv",
                 "receptors.csv", "sources.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}


# ------------------------------------------------------------------ never an input

def _input_cases(w):
    """(arguments, the input that must survive) per command."""
    return [
        (["emissions", w / "dorp_kleine_uitbreiding.toml", "-o", w / "eigen_kengetallen.csv",
          "--overrides", w / "eigen_kengetallen.csv"], w / "eigen_kengetallen.csv"),
        (["calc", w / "dorp_kleine_uitbreiding.toml", "--receptors", w / "receptors.csv",
          "-o", w / "receptors.csv", "--no-measures"], w / "receptors.csv"),
        (["headroom-map", w / "dorp_kleine_uitbreiding.toml", "-o", w / "k.png",
          "--csv", w / "dorp_kleine_uitbreiding.toml"], w / "dorp_kleine_uitbreiding.toml"),
        # the project's own override file is an input too
        (["emissions", w / "wijk_300_woningen_veluwe.toml", "-o", w / "eigen_kengetallen.csv"],
         w / "eigen_kengetallen.csv"),
        (["kengetallen", "export", w, "--overrides", w / "eigen_kengetallen.csv"], None),
        (["deposition", w / "sources.csv", w / "receptors.csv", "-o", w / "receptors.csv"],
         w / "receptors.csv"),
    ]


@pytest.mark.parametrize("k", range(6), ids=["emissions-overrides", "calc-receptors", "headroom-csv",
                                             "emissions-project-overrides", "kengetallen-export",
                                             "deposition"])
@pytest.mark.parametrize("overwrite", [False, True], ids=["plain", "--overwrite"])
def test_no_command_writes_over_an_input(work, k, overwrite):
    args, _ = _input_cases(work)[k]
    if k == 4:  # the export folder holds a file named like an exported table
        shutil.copy(work / "eigen_kengetallen.csv", work / "construction_traffic.csv")
        args = ["kengetallen", "export", work, "--overrides", work / "construction_traffic.csv"]
    before = _snapshot(work)
    r = run(*args, *(["--overwrite"] if overwrite else []))
    assert r.exit_code == 2, r.output
    _no_traceback(r)
    assert "invoer" in r.output
    assert _snapshot(work) == before  # nothing written, nothing changed


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_no_output_through_a_link_to_an_input(work, link):
    target = work / "receptors.csv"
    out = work / "uit.csv"
    (os.symlink if link == "symlink" else os.link)(target, out)
    before = target.read_bytes()
    r = run("deposition", work / "sources.csv", target, "-o", out, "--overwrite")
    assert r.exit_code == 2 and "invoer" in r.output, r.output
    r = run("calc", work / "dorp_kleine_uitbreiding.toml", "--receptors", target, "-o", out,
            "--overwrite", "--no-measures")
    assert r.exit_code == 2 and "invoer" in r.output, r.output
    assert target.read_bytes() == before


# ------------------------------------------------------------------ --overwrite everywhere

def _existing_cases(w):
    return [
        (["calc", w / "dorp_kleine_uitbreiding.toml", "--no-measures", "-o", w / "uit.json"], w / "uit.json"),
        (["emissions", w / "dorp_kleine_uitbreiding.toml", "-o", w / "uit.csv"], w / "uit.csv"),
        (["export-imaer", w / "dorp_kleine_uitbreiding.toml", "-o", w / "gml"],
         w / "gml" / "dorpsrand_oost_24_woningen_gebruik_2028.gml"),
        (["kengetallen", "export", w / "tabellen"], w / "tabellen" / "sources.csv"),
    ]


@pytest.mark.parametrize("k", range(4), ids=["calc", "emissions", "export-imaer", "kengetallen-export"])
def test_existing_output_is_replaced_only_with_overwrite(work, k):
    args, existing = _existing_cases(work)[k]
    first = run(*args)
    assert first.exit_code == 0, first.output
    assert existing.exists(), sorted(p.name for p in existing.parent.iterdir())
    existing.write_text("van de gebruiker\n")
    r = run(*args)
    assert r.exit_code == 2, r.output
    _no_traceback(r)
    assert "bestaat al" in r.output and "--overwrite" in r.output
    assert existing.read_text() == "van de gebruiker\n"
    assert run(*args, "--overwrite").exit_code == 0
    assert existing.read_text() != "van de gebruiker\n"


def test_check_imaer_report_needs_overwrite(work):
    assert run("export-imaer", work / "dorp_kleine_uitbreiding.toml", "-o", work / "gml").exit_code == 0
    gml = sorted((work / "gml").glob("*.gml"))[0]
    out = work / "controle.xlsx"
    out.write_text("x")
    r = run("check-imaer", gml, "--no-deposition", "-o", out)
    assert r.exit_code == 2 and "bestaat al" in r.output and out.read_text() == "x", r.output
    r = run("check-imaer", gml, "--no-deposition", "-o", out, "--overwrite")
    assert r.exit_code == 0, r.output
    assert openpyxl.load_workbook(out).sheetnames[0] == "situaties"


def test_output_type_checked_before_computing(work):
    """``emissions -o x.xlsx`` wrote CSV text into an .xlsx."""
    r = run("emissions", work / "dorp_kleine_uitbreiding.toml", "-o", work / "x.xlsx")
    assert r.exit_code == 2 and ".csv" in r.output, r.output
    assert not (work / "x.xlsx").exists()
    r = run("headroom-map", work / "dorp_kleine_uitbreiding.toml", "-o", work / "k.pdf")
    assert r.exit_code == 2 and ".png" in r.output, r.output


# ------------------------------------------------------------------ write errors

@pytest.mark.parametrize("cmd", ["calc", "emissions", "template", "deposition", "check-imaer"])
def test_output_under_a_file_is_a_message(work, cmd):
    afile = work / "afile"
    afile.write_text("ik ben een bestand\n")
    args = {"calc": ["calc", work / "dorp_kleine_uitbreiding.toml", "--no-measures", "-o", afile / "res.json"],
            "emissions": ["emissions", work / "dorp_kleine_uitbreiding.toml", "-o", afile / "res.csv"],
            "template": ["template", afile / "res.xlsx"],
            "deposition": ["deposition", work / "sources.csv", work / "receptors.csv", "-o", afile / "res.xlsx"],
            "check-imaer": ["check-imaer", work / "sources.csv", "-o", afile / "res.xlsx"]}[cmd]
    r = run(*args)
    assert r.exit_code == 2, r.output
    _no_traceback(r)
    assert "geen map" in r.output
    assert afile.read_text() == "ik ben een bestand\n"


def test_output_in_proc_is_a_message(work):
    r = run("emissions", work / "dorp_kleine_uitbreiding.toml", "-o", "/proc/stikstofcalc_test.csv")
    assert r.exit_code == 2, r.output
    _no_traceback(r)
    r = run("template", "/proc/stikstofcalc_test.xlsx")
    assert r.exit_code == 2, r.output
    _no_traceback(r)
    assert run("template", work / "zaken.xlsx").exit_code == 0
    r = run("batch", work / "zaken.xlsx", "-o", "/proc/stikstofcalc_test.xlsx")  # its spool goes there too
    assert r.exit_code == 2 and "kan niet worden geschreven" in r.output, r.output
    _no_traceback(r)


def _fail_rename(monkeypatch, *, at: int, code=errno.ENOSPC):
    """os.replace fails with ``code`` from its ``at``-th call on (a full disk at the last moment)."""
    real, calls = os.replace, []

    def replace(src, dst, *a, **k):
        calls.append(dst)
        if len(calls) >= at:
            raise OSError(code, os.strerror(code), str(dst))
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    return calls


@pytest.mark.parametrize("at", [1, 2])
@pytest.mark.parametrize("cmd", ["deposition", "emissions", "calc"])
def test_output_and_provenance_are_one_unit(work, monkeypatch, cmd, at):
    out = work / "uit" / "res.csv"
    out.parent.mkdir()
    args = {"deposition": ["deposition", work / "sources.csv", work / "receptors.csv", "-o", out],
            "emissions": ["emissions", work / "dorp_kleine_uitbreiding.toml", "-o", out],
            "calc": ["calc", work / "dorp_kleine_uitbreiding.toml", "--no-measures", "-o", out]}[cmd]
    if cmd == "calc":
        from stikstofcalc.assessment.core import assess_project

        assess_project(work / "dorp_kleine_uitbreiding.toml", measures=False)  # warm before the patch
    _fail_rename(monkeypatch, at=at)
    r = run(*args)
    assert r.exit_code == 2, r.output
    _no_traceback(r)
    assert "schijf is vol" in r.output
    assert sorted(os.listdir(out.parent)) == []  # no output, no orphan provenance, no temporary file


def test_read_only_disk_is_a_message(work, monkeypatch):
    _fail_rename(monkeypatch, at=1, code=errno.EROFS)
    r = run("template", work / "t.xlsx")
    assert r.exit_code == 2 and "alleen-lezen" in r.output, r.output
    assert not (work / "t.xlsx").exists()


def test_export_is_all_or_nothing(work, monkeypatch):
    calls = _fail_rename(monkeypatch, at=4)
    r = run("kengetallen", "export", work / "tabellen")
    assert r.exit_code == 2 and "schijf is vol" in r.output, r.output
    assert len(calls) >= 4
    assert not (work / "tabellen").exists()  # no half export, not even the folder made for it


def test_failed_replace_keeps_the_old_files(tmp_path, monkeypatch):
    from stikstofcalc.io.atomic import AtomicGroup
    from stikstofcalc.errors import OutputError

    a, b = tmp_path / "a.csv", tmp_path / "a.csv.provenance.json"
    a.write_text("oud a")
    b.write_text("oud b")
    real, failed = os.replace, []

    def replace(src, dst, *args):
        if Path(dst) == b and not failed:  # the new provenance cannot be renamed into place
            failed.append(src)
            raise OSError(errno.EIO, "I/O error")
        return real(src, dst, *args)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError, match="kan niet worden geschreven"):
        with AtomicGroup() as g:
            g.write_text(a, "nieuw a")
            g.write_text(b, "nieuw b")
    assert a.read_text() == "oud a" and b.read_text() == "oud b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.csv.provenance.json"]


# ------------------------------------------------------------------ unique names

def _two_cases_same_slug(path):
    from stikstofcalc.io.excel.template import write_template

    write_template(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["projecten"]
    ids = {ws.cell(2, j).value: j for j in range(1, ws.max_column + 1)}
    ws.cell(3, ids["case_id"], "zaak/1")
    ws.cell(4, ids["case_id"], "zaak:1")
    for sheet in ("onderdelen", "werktuigen"):
        for row in wb[sheet].iter_rows(min_row=3):
            for c in row:
                c.value = None
    wb.save(path)


def test_case_ids_with_the_same_file_name_stay_apart(work):
    book = work / "zaken.xlsx"
    _two_cases_same_slug(book)
    r = run("export-imaer", book, "-o", work / "gml")
    assert r.exit_code == 0, r.output
    folders = sorted(p.name for p in (work / "gml").iterdir())
    assert folders == ["zaak_1", "zaak_1_2"], folders
    assert "zaak:1" in r.output and "zaak_1_2" in r.output  # reported
    n = [len(list((work / "gml" / f).glob("*.gml"))) for f in folders]
    assert all(k > 0 for k in n)


def test_unique_names_case_insensitive():
    from stikstofcalc.io.atomic import unique_names

    assert unique_names(["a_1", "A_1", "a_1_2", "b"]) == ["a_1", "A_1_2", "a_1_2_2", "b"]


# ------------------------------------------------------------------ killed runs

KILLED = """
import os, signal, sys
sys.path.insert(0, {src!r})
from stikstofcalc.io.excel.results import openpyxl_temp_files
from openpyxl import Workbook
with openpyxl_temp_files():
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("x")
    ws.append(["a"] * 10)
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
def test_killed_run_leaves_no_openpyxl_files_behind(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    p = subprocess.run([sys.executable, "-c", KILLED.format(src=str(ROOT / "src"))], env=env,
                       capture_output=True, text=True)
    assert p.returncode == -signal.SIGKILL, p.stderr
    left = os.listdir(tmp)
    assert left and all("stikstofcalc-" in n for n in left), left  # named after the killed process
    from stikstofcalc.io.atomic import sweep_stale

    assert sweep_stale(tmp) == len(left) and os.listdir(tmp) == []  # the next run removes them


def test_stale_temporaries_of_killed_runs_are_swept(tmp_path):
    from stikstofcalc.io.atomic import write_text_atomic

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".uit.json.stikstofcalc-{dead}-abc123.tmp"
    stale.write_text("half")
    mine = tmp_path / f".uit.json.stikstofcalc-{os.getpid()}-abc123.tmp"
    mine.write_text("in gebruik")
    write_text_atomic("{}", tmp_path / "uit.json")
    assert not stale.exists() and mine.exists()
