"""Decompression bombs are refused with a Dutch message before anything is unpacked.

A 1.5 kB PDF made ``check-imaer`` use 900 MB, a 330 kB xlsx made ``batch`` use 700 MB
(issue 13). The caps are module constants of :mod:`stikstofcalc.limits`; the bombs here
are small (tens of MB unpacked) and the caps lowered to match, so the tests are fast and
the process's peak memory shows that nothing was unpacked.
"""

from __future__ import annotations

import resource
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from stikstofcalc import limits
from stikstofcalc.cli.main import main


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"uncaught {type(r.exception).__name__}: {r.exception}\n{r.output}")
    return r


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def xlsx_bomb(path: Path, *, unpacked_mb: int = 40, part: str = "xl/worksheets/sheet1.xml") -> Path:
    """A workbook whose ``part`` unpacks to ``unpacked_mb`` MB of whitespace (about 1000:1)."""
    from stikstofcalc.io.excel.template import write_template

    write_template(path)
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    head = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    parts[part] = head + b" " * (unpacked_mb * 2**20) + b"</sheetData></worksheet>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    return path


@pytest.fixture
def low_caps(monkeypatch):
    monkeypatch.setattr(limits, "MAX_XLSX_PART", 16 * 2**20)
    monkeypatch.setattr(limits, "MAX_PDF_STREAM", 4 * 2**20)
    monkeypatch.setattr(limits, "RATIO_FROM", 1 * 2**20)


def test_xlsx_bomb_is_refused_by_batch(tmp_path, low_caps):
    bomb = xlsx_bomb(tmp_path / "bom.xlsx")
    assert bomb.stat().st_size < 200_000
    r = run("batch", bomb, "-o", tmp_path / "uit.xlsx")
    assert r.exit_code == 2, r.output
    assert "te groot om veilig te lezen" in r.output and "sheet1.xml" in r.output
    assert not (tmp_path / "uit.xlsx").exists()


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
def test_xlsx_bomb_is_refused_by_every_reader(tmp_path, part):
    """Default caps: a ratio above 50:1 in a part over 8 MB, or shared strings over 64 MB."""
    from stikstofcalc.errors import InputError

    bomb = xlsx_bomb(tmp_path / "bom.xlsx", unpacked_mb=70, part=part)
    before = _peak_mb()
    with pytest.raises(InputError, match="te groot"):
        limits.check_xlsx(bomb)
    from stikstofcalc.io.tables import read_table
    from stikstofcalc.io.excel.reader import read_book

    for read in (read_book, read_table):
        with pytest.raises(InputError, match="te groot"):
            read(bomb)
    assert _peak_mb() - before < 60  # nothing was unpacked


def test_honest_workbooks_pass(tmp_path):
    from stikstofcalc.io.excel.template import write_template

    limits.check_xlsx(write_template(tmp_path / "t.xlsx"))


def _pdf_bomb(unpacked_mb: int) -> bytes:
    from stikstofcalc.io.imaer.pdf import make_pdf

    pdf = make_pdf(text_gml=b'<?xml version="1.0"?><imaer:FeatureCollectionCalculator>'
                   b'</imaer:FeatureCollectionCalculator>')
    body = zlib.compress(b"\0" * (unpacked_mb * 2**20), 9)
    obj = (b"99 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body)) + body + \
        b"\nendstream\nendobj\n"
    return pdf.replace(b"%%EOF", obj + b"%%EOF")


def test_pdf_bomb_is_refused_by_check_imaer(tmp_path):
    bomb = tmp_path / "rapport.pdf"
    bomb.write_bytes(_pdf_bomb(80))  # about 80 kB
    assert bomb.stat().st_size < 150_000
    before = _peak_mb()
    r = run("check-imaer", bomb, "--no-deposition")
    assert r.exit_code == 2, r.output
    assert "te groot om veilig te lezen" in r.output
    assert _peak_mb() - before < 60  # stopped at the cap, the 80 MB were never held


def test_pdf_streams_below_the_cap_are_read(tmp_path, low_caps):
    from stikstofcalc.io.imaer.pdf import gml_from_pdf

    found = gml_from_pdf(_pdf_bomb(1), name="r.pdf")
    assert found and found[0][1].startswith(b"<?xml")


def _repetitive_workbook(path: Path, *, unpacked_mb: int, every: int) -> tuple[Path, float]:
    """A receptor table of ``unpacked_mb`` MB whose rows repeat, one in ``every`` different:
    it packs at ``ratio`` (returned), far above honest workbooks (3:1 to 10:1)."""
    import random

    rnd = random.Random(1)
    head = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            b'<row><c t="inlineStr"><is><t>receptor_id</t></is></c><c t="inlineStr"><is><t>x</t></is></c>'
            b'<c t="inlineStr"><is><t>y</t></is></c></row>')
    fixed = b'<row><c t="inlineStr"><is><t>r</t></is></c><c><v>172508.78</v></c><c><v>457501.93</v></c></row>'
    rows, size, i = [head], len(head), 0
    while size < unpacked_mb * 2**20:
        row = fixed if i % every else (b'<row><c t="inlineStr"><is><t>r%d</t></is></c><c><v>%.2f</v></c>'
                                       b'<c><v>%.2f</v></c></row>' % (i, 172000 + rnd.random() * 1000,
                                                                     457000 + rnd.random() * 1000))
        rows.append(row)
        size, i = size + len(row), i + 1
    rows.append(b"</sheetData></worksheet>")
    data = b"".join(rows)
    minimal = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                               b'2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
                               b'openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                               b'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
                               b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
                               b'sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
                               b'"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                               b'</Types>',
        "_rels/.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
                       b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                       b'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                       b'</Relationships>',
        "xl/workbook.xml": b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                           b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
                           b'officeDocument/2006/relationships"><sheets><sheet name="receptors" sheetId="1" '
                           b'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                                      b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                                      b'Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                                      b'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                                      b'</Relationships>',
        "xl/worksheets/sheet1.xml": data}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for n, d in minimal.items():
            zf.writestr(n, d)
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    return path, info.file_size / info.compress_size


def test_repetitive_workbook_is_refused_before_reading(tmp_path):
    """A sheet packed about 100:1 (between the old cap of 200:1 and the cap of 50:1) was read
    for minutes; it is refused from the zip directory, before anything is unpacked."""
    from stikstofcalc.errors import InputError

    book, ratio = _repetitive_workbook(tmp_path / "rec.xlsx", unpacked_mb=12, every=80)
    assert 50 < ratio < 200, ratio
    with pytest.raises(InputError, match="te groot om veilig te lezen"):
        limits.check_xlsx(book)
    r = run("deposition", Path(__file__).parents[2] / "examples" / "sources.csv", book, "-o", tmp_path / "d.csv")
    assert r.exit_code == 2 and "te groot om veilig te lezen" in r.output, r.output
