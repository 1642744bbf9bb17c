"""Capacity and woondeal outputs are one atomic unit (issue 13, "Data destroyed").

All files of one run (workbook with its herkomst sheet, GeoPackage, GeoTIFF, PNG map) are
renamed into place together or not at all; a write error anywhere in the group (a failed
rename, a full disk inside SQLite, a read-only folder while the PNG is saved) is a Dutch
message with exit code 2, and nothing is left behind: no output, no temporary file.
The computation is done once per module and handed to the CLI, so the tests are about the
writing.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main

BBOX = ["--bbox", "170000,448000,172000,450000", "--step", "1 km"]  # 4 grid sites


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"uncaught {type(r.exception).__name__}: {r.exception}\n{r.output}")
    return r


@pytest.fixture(scope="module")
def capacity_result():
    from stikstofcalc.capacity import compute_capacity, grid_sites

    return compute_capacity(grid_sites((170000, 448000, 172000, 450000), 1000, plan_type="grondgebonden"))


@pytest.fixture(scope="module")
def woondeal_result():
    from stikstofcalc.capacity.woondeal import read_projects, woondeal_sum

    ps, _ = read_projects(["examples/dorp_ver_van_natuur.toml"])
    return woondeal_sum(ps)


@pytest.fixture
def computed(monkeypatch, capacity_result, woondeal_result):
    import stikstofcalc.capacity as cap
    import stikstofcalc.capacity.woondeal as wd

    monkeypatch.setattr(cap, "compute_capacity", lambda *a, **k: capacity_result)
    monkeypatch.setattr(wd, "woondeal_sum", lambda *a, **k: woondeal_result)


def _capacity_args(folder, *, png=True):
    args = ["capacity", *BBOX, "-o", folder / "c.xlsx", "--gpkg", folder / "c.gpkg",
            "--geotiff", folder / "c.tif", "--quiet"]
    if png:
        pytest.importorskip("matplotlib")
        args += ["--map", folder / "c.png"]
    return args


def _woondeal_args(folder):
    return ["woondeal", "examples/dorp_ver_van_natuur.toml", "-o", folder / "w.xlsx",
            "--gpkg", folder / "w.gpkg", "--quiet"]


def _clean_failure(r, folder, reason):
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "OSError" not in r.output and "sqlite3" not in r.output
    assert reason in r.output and "er is niets geschreven" in r.output, r.output
    assert sorted(os.listdir(folder)) == []  # no output, no temporary file, no journal


def _fail_rename(monkeypatch, *, at: int, code=errno.ENOSPC, once=False):
    """os.replace fails from its ``at``-th call on (``once``: only that call)."""
    real, calls = os.replace, []

    def replace(src, dst, *a, **k):
        calls.append(dst)
        if len(calls) == at or (len(calls) > at and not once):
            raise OSError(code, os.strerror(code), str(dst))
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    return calls


@pytest.mark.parametrize("at", [2, 3, 4])
def test_capacity_outputs_are_renamed_together(tmp_path, monkeypatch, computed, at):
    out = tmp_path / "uit"
    out.mkdir()
    args = _capacity_args(out)
    calls = _fail_rename(monkeypatch, at=at)
    r = run(*args)
    assert len(calls) >= at
    _clean_failure(r, out, "schijf is vol")


def test_woondeal_outputs_are_renamed_together(tmp_path, monkeypatch, computed):
    out = tmp_path / "uit"
    out.mkdir()
    _fail_rename(monkeypatch, at=2)
    _clean_failure(run(*_woondeal_args(out)), out, "schijf is vol")


@pytest.mark.parametrize("cmd", ["capacity", "woondeal"])
def test_full_disk_inside_the_geopackage(tmp_path, monkeypatch, computed, cmd):
    """SQLite reports a full disk as its own error, after the workbook is written."""
    from stikstofcalc.capacity import geofiles

    def full(con, layers):
        exc = sqlite3.OperationalError("database or disk is full")
        exc.sqlite_errorcode = 13  # SQLITE_FULL
        raise exc

    monkeypatch.setattr(geofiles, "_write_gpkg", full)
    out = tmp_path / "uit"
    out.mkdir()
    args = _capacity_args(out, png=False) if cmd == "capacity" else _woondeal_args(out)
    _clean_failure(run(*args), out, "schijf is vol")


def test_read_only_disk_while_the_map_is_saved(tmp_path, monkeypatch, computed):
    """The last file of the group cannot be written: the others are not left behind."""
    pytest.importorskip("matplotlib")
    from PIL import Image

    def read_only(self, fp, *a, **k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(fp))

    monkeypatch.setattr(Image.Image, "save", read_only)
    out = tmp_path / "uit"
    out.mkdir()
    _clean_failure(run(*_capacity_args(out)), out, "alleen-lezen")


def test_existing_outputs_survive_a_failed_run(tmp_path, monkeypatch, computed):
    out = tmp_path / "uit"
    out.mkdir()
    args = _capacity_args(out, png=False) + ["--overwrite"]
    for name in ("c.xlsx", "c.gpkg", "c.tif"):
        (out / name).write_text("oud")
    _fail_rename(monkeypatch, at=4, once=True)  # the second new file cannot be renamed in
    r = run(*args)
    assert r.exit_code == 2 and "schijf is vol" in r.output, r.output
    assert sorted(os.listdir(out)) == ["c.gpkg", "c.tif", "c.xlsx"]
    assert all((out / n).read_text() == "oud" for n in ("c.xlsx", "c.gpkg", "c.tif"))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
@pytest.mark.parametrize("when", ["before", "during"])
def test_read_only_folder(tmp_path, monkeypatch, computed, when):
    """A folder that is read-only from the start (refused before computing) or becomes so
    while computing (the disk remounted read-only): exit 2, a Dutch message, nothing written."""
    import stikstofcalc.capacity as cap

    out = tmp_path / "uit"
    out.mkdir()
    args = _capacity_args(out, png=False)
    if when == "before":
        out.chmod(0o555)
    else:
        res = cap.compute_capacity()

        def compute_then_lock(*a, **k):
            out.chmod(0o555)
            return res

        monkeypatch.setattr(cap, "compute_capacity", compute_then_lock)
    try:
        r = run(*args)
        assert r.exit_code == 2, r.output
        assert "Traceback" not in r.output and "schrijfrechten" in r.output, r.output
        assert os.listdir(out) == []
    finally:
        out.chmod(0o755)


def test_a_successful_run_writes_every_file(tmp_path, computed):
    out = tmp_path / "uit"
    out.mkdir()
    r = run(*_capacity_args(out, png=False))
    assert r.exit_code == 0, r.output
    assert sorted(os.listdir(out)) == ["c.gpkg", "c.tif", "c.xlsx"]
    assert Path(out / "c.gpkg").read_bytes()[:16] == b"SQLite format 3\0"
    shutil.rmtree(out)
