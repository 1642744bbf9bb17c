"""Issue 13, input half, on the command line: option ranges and inputs that ended in a traceback.

Each test failed before the fix: ``--tolerance nan`` switched the flags off, ``--period
2030-2020`` and ``--min-route -1e308`` were accepted, ``--year 99999999999999999999`` was an
OverflowError, a lat/lon project broke ``export-imaer``, a Latin-1 file or a workbook given
to ``calc`` was a UnicodeDecodeError, ``z0`` was ignored by ``deposition``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "dorp_kleine_uitbreiding.toml"
GML_DIR = ROOT / "tests" / "data"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def clean(r, code=2):
    assert r.exit_code == code, r.output
    assert "Traceback" not in r.output and not (r.exception and not isinstance(r.exception, SystemExit))


@pytest.fixture(scope="module")
def gml(tmp_path_factory):
    out = tmp_path_factory.mktemp("gml")
    r = run("export-imaer", EXAMPLE, "-o", out)
    assert r.exit_code == 0, r.output
    return sorted(out.glob("*.gml"))[0]


@pytest.mark.parametrize("option", [
    ["--tolerance", "nan"], ["--tolerance", "-1"], ["--tolerance", "inf"],
    ["--min-route", "-1e308"], ["--min-route", "nan"],
    ["--period", "2030-2020"], ["--period", "1800-1900"], ["--period", "2027-2028-2029"],
])
def test_check_imaer_options_out_of_range_exit_2_before_any_work(gml, option, tmp_path):
    out = tmp_path / "r.xlsx"
    r = run("check-imaer", gml, "--no-deposition", "-o", out, *option)
    clean(r)
    assert "bereik" in r.output or "periode" in r.output
    assert not out.exists()


def test_check_imaer_options_in_range_still_work(gml):
    r = run("check-imaer", gml, "--no-deposition", "--tolerance", "0.05", "--period", "2027-2028",
            "--min-route", "200")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("year", ["99999999999999999999", "-5", "1999"])
def test_export_imaer_year_out_of_range(tmp_path, year):
    r = run("export-imaer", EXAMPLE, "-o", tmp_path / "out", "--year", year)
    clean(r)
    assert not (tmp_path / "out").exists()


def test_export_imaer_of_a_lat_lon_project(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace("x = 201500\ny = 455200", "lat = 52.08\nlon = 5.9")
    assert "lat = 52.08" in text
    project = tmp_path / "latlon.toml"
    project.write_text(text, encoding="utf-8")
    r = run("export-imaer", project, "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert list((tmp_path / "out").glob("*.gml"))


@pytest.mark.parametrize("name, data, words", [
    ("latin1.toml", 'name = "Dörp"\n'.encode("cp1252"), "geen UTF-8"),
    # a damaged workbook: calc reads tables only as source lists, and says what is wrong
    ("zaken.xlsx", b"PK\x03\x04" + b"\0" * 30, "geen leesbare .xlsx-werkmap"),
])
def test_calc_of_a_file_that_is_no_project(tmp_path, name, data, words):
    path = tmp_path / name
    path.write_bytes(data)
    r = run("calc", path)
    clean(r)
    assert words in r.output


def test_calc_of_a_workbook_of_cases_points_to_batch(tmp_path):
    path = tmp_path / "zaken.xlsx"
    pd.DataFrame({"case_id": ["A"], "homes": [24]}).to_excel(path, index=False)
    r = run("calc", path)
    clean(r)
    assert "stikstofcalc batch" in r.output


def test_emissions_with_an_unknown_key_exit_2_and_write_nothing(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace('duration = "10 maanden"', 'duraton = "14 maanden"')
    project = tmp_path / "p.toml"
    project.write_text(text, encoding="utf-8")
    out = tmp_path / "e.csv"
    r = run("emissions", project, "-o", out)
    clean(r)
    assert "bedoelt u 'duration'?" in r.output and not out.exists()


def test_deposition_refuses_z0_and_an_empty_first_line(tmp_path):
    src = (ROOT / "examples" / "sources.csv").read_text(encoding="utf-8").splitlines()
    rec = ROOT / "examples" / "receptors.csv"
    z0 = tmp_path / "z0.csv"
    z0.write_text(src[0] + ",z0\n" + "\n".join(line + ",0.5" for line in src[1:]) + "\n", encoding="utf-8")
    r = run("deposition", z0, rec, "-o", tmp_path / "out.csv")
    clean(r)
    assert "bedoelt u 'z0_m'?" in r.output and not (tmp_path / "out.csv").exists()
    empty = tmp_path / "e.csv"
    empty.write_text("\n" + "\n".join(src) + "\n", encoding="utf-8")
    r = run("deposition", empty, rec, "-o", tmp_path / "out.csv")
    clean(r)
    assert "eerste regel is leeg" in r.output


def test_export_imaer_of_a_workbook_with_a_lat_lon_case(tmp_path):
    """A lat/lon case broke the whole batch export (every case lost)."""
    keys = ["case_id", "location.lat", "location.lon", "construction.start", "construction.duration",
            "component.type", "component.count", "component.home_type", "route.road_type", "route.length",
            "route.bearing"]
    rows = [["LL", "52,08", "5,9", "2027-03", "10 maanden", "grondgebonden_woningen", "16", "tussen_hoek",
             "stad_normaal", "900 m", "200"],
            ["NOLINE", "52,08", "5,9", "2027-03", "10 maanden", "grondgebonden_woningen", "16", "tussen_hoek",
             "stad_normaal", "900 m", ""]]
    path = tmp_path / "z.csv"
    text = ";".join(keys) + "\n" + "\n".join(";".join(r) for r in rows) + "\n"
    path.write_text(text, encoding="utf-8")
    r = run("export-imaer", path, "-o", tmp_path / "out")
    clean(r, code=3)  # NOLINE cannot be exported (no route line): listed; LL still exported
    assert "NOLINE" in r.output
    assert list((tmp_path / "out").rglob("*.gml")) and {p.name for p in (tmp_path / "out").iterdir()} == {"ll"}
