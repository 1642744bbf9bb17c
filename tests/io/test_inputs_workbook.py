"""Issue 13, input half, workbooks and CSVs: unknown columns, home types per type, CSV traps.

Each test failed on the code before the fix: a value in an unknown column (``aantal`` on
``onderdelen``) was dropped with a warning and a default used; the dropdown of home types
was a guess from the urbanisation column; a CSV whose header is on line 2, a Latin-1 CSV,
a workbook renamed .csv or 20,000 extra columns ended in a traceback or took minutes.
"""

from __future__ import annotations

import time

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc.batch import run as batch
from stikstofcalc.errors import InputError
from stikstofcalc.io.excel.reader import MAX_COLUMNS, read_book
from stikstofcalc.io.excel.schema import SHEET_BY_NAME, choice_lists

BASE = {"case_id": "A", "location.x": 201500, "location.y": 455200, "construction.start": "2027-03",
        "construction.duration": "10 maanden", "component.type": "grondgebonden_woningen",
        "component.count": 16, "component.home_type": "tussen_hoek", "route.road_type": "stad_normaal",
        "route.length": "0,9 km", "route.bearing": 200}


def book(tmp_path, projecten, extra=None, **detail):
    """A workbook with the template's two header rows; ``extra`` {sheet: {header: [values per row]}}."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in {"projecten": projecten, **detail}.items():
        sheet = SHEET_BY_NAME[name]
        add = (extra or {}).get(name, {})
        ws = wb.create_sheet(name)
        ws.append([c.label for c in sheet.columns] + list(add))
        ws.append(sheet.keys + list(add))
        for i, r in enumerate(rows):
            ws.append([r.get(k) for k in sheet.keys] + [v[i] for v in add.values()])
    path = tmp_path / "in.xlsx"
    wb.save(path)
    return path


def validate(path):
    v = batch.validate_book(read_book(path))
    return v, pd.DataFrame(v.problems)


def test_value_in_an_unknown_detail_column_invalidates_the_case_with_a_suggestion(tmp_path):
    path = book(tmp_path, [BASE, {**BASE, "case_id": "B"}], extra={"onderdelen": {"aantal": [12, None]}},
                onderdelen=[{"case_id": "A", "type": "grondgebonden_woningen", "home_type": "vrijstaand"},
                            {"case_id": "B", "type": "grondgebonden_woningen", "count": 4,
                             "home_type": "vrijstaand"}])
    v, p = validate(path)
    assert [c.case_id for c in v.cases] == ["B"]  # B left the unknown cell empty
    row = p[(p["zaak"] == "A") & (p["blad"] == "onderdelen")].iloc[0]
    assert row["rij"] == 3 and "onbekende kolom" in row["melding"] and "bedoelt u 'count'" in row["melding"]
    head = p[p["zaak"].isna() & (p["blad"] == "onderdelen")].iloc[0]
    assert head["niveau"] == "fout" and "bedoelt u 'count' (aantal woningen)?" in head["melding"]


def test_a_misspelt_column_on_projecten_is_an_error_not_a_warning(tmp_path):
    path = book(tmp_path, [BASE], extra={"projecten": {"construction.duraton": ["14 maanden"]}})
    v, p = validate(path)
    assert not v.cases
    assert p["melding"].str.contains("bedoelt u 'construction.duration'").any()


def test_a_note_column_stays_a_warning(tmp_path):
    path = book(tmp_path, [BASE], extra={"projecten": {"opmerking intern": ["bellen met gemeente"]}})
    v, p = validate(path)
    assert len(v.cases) == 1 and list(p["niveau"]) == ["waarschuwing"]


def test_home_type_kantoor_in_a_workbook_is_refused(tmp_path):
    v, p = validate(book(tmp_path, [{**BASE, "component.home_type": "kantoor"}]))
    assert not v.cases
    (msg,) = p.loc[p["sleutel"] == "component.home_type", "melding"]
    assert "onbekend woningtype 'kantoor'" in msg


def test_dropdown_lists_come_from_the_basis_of_the_traffic_table():
    from stikstofcalc import kengetallen

    lists = choice_lists(kengetallen.load())
    assert "kantoor" in lists["function"] and "kantoor" not in lists["home_type"]
    assert "tussen_hoek" in lists["home_type"] and "tussen_hoek" not in lists["function"]


# --------------------------------------------------------------------- CSV traps


HEADER = ",".join(BASE)
ROW = ",".join(str(v).replace(",", ".") if k != "route.length" else "900 m" for k, v in BASE.items())


def test_csv_with_an_empty_first_line_reads_the_header_on_line_2(tmp_path):
    path = tmp_path / "z.csv"
    path.write_text("\n" + HEADER + "\n" + ROW + "\n", encoding="utf-8")
    v, p = validate(path)
    assert len(v.cases) == 1, p.to_dict("records")


@pytest.mark.parametrize("data, words", [
    (b"naam;plaats\nD\x81rp;x\n", r"regel 2: byte 0x81 is geen UTF-8 en geen Windows-1252"),
    (b"PK\x03\x04" + b"\0" * 40, "werkmap"),
    (b"a,b\n\x00\x00,1\n", "NUL"),
])
def test_unreadable_csvs_are_clear_errors(tmp_path, data, words):
    path = tmp_path / "z.csv"
    path.write_bytes(data)
    with pytest.raises(InputError, match=words):
        read_book(path)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-8-sig"])
def test_a_csv_from_dutch_excel_reads_in_its_encoding(tmp_path, encoding):
    """Excel's 'CSV (gescheiden door lijstscheidingsteken)' is Windows-1252: it was refused
    ('byte 160') by the batch while source lists read it; one rule now (io.text)."""
    path = tmp_path / "z.csv"
    path.write_bytes((HEADER + ",description\n" + ROW + ",Dörp café\n").encode(encoding))
    v, p = validate(path)
    assert len(v.cases) == 1, p.to_dict("records")
    sheet = read_book(path).sheets["projecten"]
    assert sheet.rows[0][1][sheet.keys.index("description")] == "Dörp café"


def test_a_csv_wider_than_excel_is_refused(tmp_path):
    path = tmp_path / "z.csv"
    path.write_text(HEADER + "," + ",".join(f"x{i}" for i in range(MAX_COLUMNS)) + "\n" + ROW + "\n")
    with pytest.raises(InputError, match="hoogstens 16384 kolommen"):
        read_book(path)


def test_many_unknown_columns_are_checked_in_linear_time(tmp_path):
    """16,000 extra columns: one pass over the rows, not one per column (was > 1 minute for 20,000)."""
    n = MAX_COLUMNS - len(BASE)
    path = tmp_path / "z.csv"
    path.write_text(HEADER + "," + ",".join(f"x{i}" for i in range(n)) + "\n"
                    + ROW + "," + ",".join("1" for _ in range(n)) + "\n")
    t0 = time.perf_counter()
    v, p = validate(path)
    assert time.perf_counter() - t0 < 20  # a bound against the quadratic path, not a benchmark
    assert not v.cases and len(p) < n  # one row problem listing the first columns, not 16,000


def test_batch_with_every_case_invalid_prints_no_exception_ignored(tmp_path, monkeypatch):
    """The early-started results workbook was dropped unclosed: nine "Exception ignored" at exit."""
    import gc
    import sys

    from stikstofcalc.cli.main import main

    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    path = tmp_path / "z.csv"
    path.write_text("case_id,construction.start\nA,2027-03\nB,2027-04\n")
    r = CliRunner().invoke(main, ["batch", str(path), "-o", str(tmp_path / "uit.xlsx")])
    gc.collect()
    assert r.exit_code == 3 and "Traceback" not in r.output
    assert not unraisable, [str(u.exc_value) for u in unraisable]


def test_separator_rule_is_one_for_every_reader():
    """Excel's 'Unicode-tekst' is UTF-16 with tabs: the batch, sites and overrides readers
    only knew ';' and ',' (review); one rule now (io.text.separator)."""
    from stikstofcalc.io.text import separator

    assert [separator(h) for h in ("a;b;c", "a,b,c", "a\tb\tc", "a", "a;b,c", "a,b;c,d")] == [
        ";", ",", "\t", ",", ";", ","]


def test_a_tab_separated_utf16_case_file_reads(tmp_path):
    path = tmp_path / "z.csv"
    path.write_bytes((HEADER.replace(",", "\t") + "\n" + ROW.replace(",", "\t") + "\n").encode("utf-16"))
    v, p = validate(path)
    assert len(v.cases) == 1, p.to_dict("records")


def test_a_bom_before_a_windows_1252_byte_is_not_part_of_the_first_column(tmp_path):
    from stikstofcalc.io.tables import read_table

    path = tmp_path / "s.csv"
    path.write_bytes("\ufeffsource_id,x,y\nA,1,2\n".encode() + b"B\xe9,3,4\n")
    assert list(read_table(path).columns) == ["source_id", "x", "y"]


def test_an_empty_sites_file_is_an_input_error(tmp_path):
    """It was 'interne fout (IndexError ...)', exit 1 (review)."""
    from click.testing import CliRunner

    from stikstofcalc.cli.main import main

    path = tmp_path / "e.csv"
    path.write_text("", encoding="utf-8")
    res = CliRunner().invoke(main, ["capacity", str(path), "-o", str(tmp_path / "o.xlsx")])
    assert res.exit_code == 2 and "het bestand is leeg" in res.output and "interne fout" not in res.output
