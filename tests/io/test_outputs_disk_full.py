"""A really full disk (issue 13, "Data destroyed"): every writing command says so in Dutch.

The other write-error tests make ``os.replace`` fail; here the output folder is a tiny
tmpfs that is full, so the writes themselves fail half-way (openpyxl's zip, the batch
spool, a CSV). Each command runs in its own process, so that what Python prints when
it collects a half-written ``ZipFile`` ("Exception ignored ...") is seen too. Expected:
exit code 2, "schijf is vol", no traceback, and nothing left on the disk (no temporary
file, no orphan provenance, no empty folder made for the output).

Needs ``mount -t tmpfs`` (root on Linux); skipped elsewhere.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module", params=[4, 20], ids=["4kB-frei", "20kB-frei"])
def full_disk(tmp_path_factory, request):
    """A 64 kB tmpfs, filled up to its last 4 or 20 kB (removed afterwards): writes fail at
    their start or part-way (the batch's second temporary file was left behind there)."""
    if not sys.platform.startswith("linux") or shutil.which("mount") is None:
        pytest.skip("needs Linux mount")
    mnt = tmp_path_factory.mktemp("vol")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        (mnt / "uit").mkdir()
        with open(mnt / "vulling", "wb") as fh:  # a file can start but not finish
            fh.write(b"\0" * ((64 - request.param) * 1024))
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    w = tmp_path_factory.mktemp("work")
    for name in ("dorp_kleine_uitbreiding.toml", "receptors.csv", "sources.csv"):
        shutil.copy(EXAMPLES / name, w / name)
    for args in (["template", w / "zaken.xlsx"], ["export-imaer", w / "dorp_kleine_uitbreiding.toml", "-o", w]):
        r = subprocess.run([sys.executable, "-m", "stikstofcalc", *map(str, args)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    return w


def _commands(w, out):
    dorp = w / "dorp_kleine_uitbreiding.toml"
    return {
        "batch": ["batch", w / "zaken.xlsx", "-o", out / "res.xlsx", "-j", "1"],
        # deposition writes only into an existing folder
        "deposition-xlsx": ["deposition", w / "sources.csv", w / "receptors.csv", "-o", out.parent / "dep.xlsx"],
        "deposition-csv": ["deposition", w / "sources.csv", w / "receptors.csv", "-o", out.parent / "dep.csv"],
        "template": ["template", out / "t.xlsx"],
        "check-imaer": ["check-imaer", *sorted(w.glob("*.gml")), "-o", out / "check.xlsx"],
        "emissions": ["emissions", dorp, "-o", out / "em.csv"],
        "calc": ["calc", dorp, "--no-measures", "-o", out / "res.json"],
        "export-imaer": ["export-imaer", dorp, "-o", out / "gml"],
        "kengetallen": ["kengetallen", "export", out / "tabellen"],
    }


NAMES = list(_commands(Path("."), Path(".")))


@pytest.mark.parametrize("name", NAMES)
def test_full_disk_is_a_message_and_leaves_nothing(full_disk, work, name):
    out = full_disk / "uit" / name  # a folder the command has to make (and remove again)
    before = sorted(p.relative_to(full_disk) for p in full_disk.rglob("*"))
    args = [str(a) for a in _commands(work, out)[name]]
    r = subprocess.run([sys.executable, "-m", "stikstofcalc", *args], capture_output=True, text=True,
                       timeout=300, cwd=work)
    text = r.stdout + r.stderr
    roomy = (full_disk / "vulling").stat().st_size < 50 * 1024
    if r.returncode == 0 and roomy:  # a small output may fit in 20 kB: fine, and cleared for the next
        for p in sorted(full_disk.rglob("*")):
            if p.is_file() and p.name != "vulling":
                p.unlink()
        for p in sorted(full_disk.rglob("*"), key=lambda p: -len(p.parts)):
            if p.is_dir() and p.name != "uit":
                p.rmdir()
        return
    assert r.returncode == 2, text
    assert "schijf is vol" in text, text
    assert "Traceback" not in text and "Exception ignored" not in text, text
    assert sorted(p.relative_to(full_disk) for p in full_disk.rglob("*")) == before
