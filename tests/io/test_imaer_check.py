"""check-imaer: PDFs with embedded GML, recomputed emissions, deposition, flags, batch errors.

AERIUS fixtures are read from ../shared/reference/imaer/ at test time (AGPL; not copied here).
No AERIUS PDF fixture exists, so the PDF tests use PDFs made here with :func:`make_pdf`.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main
from stikstofcalc.errors import ImaerFileError
from stikstofcalc.io.imaer.check import check_files, read_any
from stikstofcalc.io.imaer.pdf import gml_from_pdf, make_pdf
from stikstofcalc.io.imaer.writer import export_project
from stikstofcalc.emissions.project import read_project

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "reference" / "imaer"
needs_fixtures = pytest.mark.skipif(not (FIXTURES / "IMAER-6.0.xsd").exists(),
                                    reason="../shared/reference/imaer not available")
EXAMPLE = ROOT / "examples" / "wijk_300_woningen_veluwe.toml"


@pytest.fixture(scope="module")
def exported():
    return export_project(read_project(EXAMPLE))


def test_pdf_embedded_zip_file_and_text(exported, tmp_path):
    use, temp = exported[-1].text.encode(), exported[0].text.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("gebruik.gml", use)
        zf.writestr("readme.txt", b"not gml")
    pdf = make_pdf([("AERIUS_gml.zip", buf.getvalue()), ("realisatie.gml", temp)], text_gml=use)
    found = gml_from_pdf(pdf, name="r.pdf")
    assert [label for label, _ in found] == ["r.pdf#1", "r.pdf#2"] or len(found) == 2
    assert {g.strip() for _, g in found} == {use.strip(), temp.strip()}
    path = tmp_path / "r.pdf"
    path.write_bytes(make_pdf([], text_gml=temp))         # AERIUS style: GML as escaped text
    (sit,) = read_any(path)
    assert sit.situation_type == "TEMPORARY" and sit.file == f"{path}#1"


def test_pdf_errors(tmp_path):
    with pytest.raises(ImaerFileError, match="geen IMAER-GML gevonden"):
        gml_from_pdf(make_pdf([("a.txt", b"hello")]), name="x.pdf")
    with pytest.raises(ImaerFileError, match="geen PDF-bestand"):
        gml_from_pdf(b"<xml/>", name="x.pdf")


def test_own_export_rechecks_clean(exported, tmp_path):
    paths = []
    for f in exported:
        p = tmp_path / f"{f.phase}_{f.year}.gml"
        p.write_text(f.text, encoding="utf-8")
        paths.append(p)
    report = check_files(paths, with_deposition=False, construction_period=(2027, 2029))
    assert not report.failed
    assert set(report.sources["status"]) == {"ok"}       # rounding of litres stays within 1 %
    assert report.flags.empty
    note = report.notes[-1]  # it said "op gras (landgebruik 1), z0 0,2 m" (review)
    assert "ruwheidskaart" in note and "op gras" not in note


@needs_fixtures
def test_fixture_recompute_and_flags():
    names = ["offroad_non_idle.gml", "offroad_adblue.gml", "scenario_livestock_farming_proposed.gml",
             "industry.gml", "road_specific_and_custom.gml"]
    report = check_files([FIXTURES / n for n in names], with_deposition=False, today_year=2026)
    src = report.sources.set_index(["file", "source"])
    b4t = src.loc[(str(FIXTURES / "offroad_non_idle.gml"), "ES.1")]
    assert (b4t["nox_recomputed"], b4t["nh3_recomputed"], b4t["status"]) == (40.0, 0.075, "ok")
    adblue = src.loc[(str(FIXTURES / "offroad_adblue.gml"), "ES.1")]
    assert adblue["status"] == "not recomputed" and "SV560DSJ" in adblue["notes"]
    road = src.loc[(str(FIXTURES / "scenario_livestock_farming_proposed.gml"), "ES.6")]
    assert road["nox_recomputed"] > 0 and road["status"] in ("ok", "differs")
    flags = set(zip(report.flags["file"].map(lambda f: Path(f).name), report.flags["flag"]))
    assert ("industry.gml", "outside_site") in flags
    assert ("industry.gml", "year") in flags
    assert ("road_specific_and_custom.gml", "characteristics") in flags


def _gml(exported, tmp_path, old, new):
    text = exported[0].text
    assert old in text
    p = tmp_path / "variant.gml"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


def test_plausibility_flags_on_edited_export(exported, tmp_path):
    """A 100 m route and a stated emission that does not match its activity are flagged."""
    text = exported[0].text
    head, rest = text.split("<gml:LineString", 1)
    pos = rest.split("<gml:posList>", 1)[1].split("</gml:posList>", 1)[0]
    x, y = pos.split()[:2]
    edited = head + "<gml:LineString" + rest.replace(pos, f"{x} {y} {float(x) + 100:.2f} {y}", 1)
    p = tmp_path / "edited.gml"
    p.write_text(edited, encoding="utf-8")
    report = check_files([p], with_deposition=False, construction_period=(2030, 2031))
    got = set(report.flags["flag"])
    assert {"year", "short_route", "emission"} <= got   # emission: stated for the long route


@needs_fixtures
def test_deposition_on_result_file_and_default_receptors():
    report = check_files([FIXTURES / "test_mixed_features.gml", FIXTURES / "offroad_non_idle.gml"])
    s = report.situations.set_index(report.situations["file"].map(lambda f: Path(f).name))
    mixed = s.loc["test_mixed_features.gml"]
    assert mixed["receptors"] == 5 and mixed["max_file"] == pytest.approx(8546.77 + 968.3)
    assert mixed["max_ours"] > 0 and mixed["ratio_p50"] > 0
    small = s.loc["offroad_non_idle.gml"]
    assert small["receptors"] > 0 and 0 < small["max_ours"] < 1   # 40 kg NOx/yr: well below 1 mol


@needs_fixtures
def test_cli_batch_with_bad_files(tmp_path):
    out = tmp_path / "rapport.xlsx"
    args = ["check-imaer", str(FIXTURES / "offroad_non_idle.gml")] + [
        str(FIXTURES / n) for n in ("invalid_5208_unknown_offroad_code.gml", "invalid_xsd_missing_year.gml",
                                    "invalid_5225_unsupported_srs_epsg4326.gml")] + [
        str(tmp_path / "missing.pdf"), "-o", str(out), "--no-deposition"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "1 situatie gecontroleerd, 4 bestanden niet te lezen" in result.output
    for words in ("Z1980", "regel 69", "imaer:year (het rekenjaar) ontbreekt", "EPSG::4326", "missing.pdf"):
        assert words in result.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["situaties", "bronnen", "signalen", "fouten", "toelichting"]
    assert wb["fouten"].max_row == 6  # labels, keys, four files
    ok = CliRunner().invoke(main, ["check-imaer", str(FIXTURES / "offroad_non_idle.gml"), "--no-deposition"])
    assert ok.exit_code == 0, ok.output
