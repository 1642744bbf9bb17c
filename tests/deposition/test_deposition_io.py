"""Tables in and out: reading, validation (issue 2, section 4), case isolation, atomic writes.

Library tests without the CLI. No test depends on kernel values: results are only compared
with other results (order, isolation, round trips) or with zero.
"""

import os
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stikstofcalc.deposition import deposition
from stikstofcalc.deposition.api import DEFAULT_Z0_M, OUTPUT_COLUMNS, check_tables
from stikstofcalc.io.tables import deposition_files, read_table, write_table
from stikstofcalc.errors import InputError, MultipleInputErrors, RangeError

SRC = ("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr\n"
       "S1,172000,460000,2.5,0.035,1000,10\n"
       "S2,172100,460050,4,0,200,1\n")
REC = ("receptor_id,x,y,landuse\n"
       "007,173000,460500,4\n"
       "R2,175000,462000,\n"
       "R3,171000,459000,8\n")


def write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def run(tmp_path, src=SRC, rec=REC, **kw):
    s = read_table(write(tmp_path, "sources.csv", src))
    r = read_table(write(tmp_path, "receptors.csv", rec))
    return deposition(s, r, sources_file="sources.csv", receptors_file="receptors.csv", **kw)


def problems(tmp_path, src=SRC, rec=REC, **kw):
    with pytest.raises(MultipleInputErrors) as info:
        run(tmp_path, src, rec, **kw)
    return info.value.errors


def one(errors, field, row=None):
    hits = [e for e in errors if e.field == field and (row is None or e.row == row)]
    assert hits, f"no error for {field} row {row} in {[str(e) for e in errors]}"
    return hits[0]


def replace_cell(text, row, column, value):
    """CSV text with one cell replaced (row as a spreadsheet counts: header = 1)."""
    lines = text.strip("\n").split("\n")
    head = lines[0].split(",")
    cells = lines[row - 1].split(",")
    cells[head.index(column)] = value
    lines[row - 1] = ",".join(cells)
    return "\n".join(lines) + "\n"


def add_column(text, column, values):
    lines = text.strip("\n").split("\n")
    lines = [f"{line},{v}" for line, v in zip(lines, [column, *values], strict=True)]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- happy path

def test_output_is_receptor_table_plus_three_columns(tmp_path):
    out = run(tmp_path)
    assert list(out.columns) == ["receptor_id", "x", "y", "landuse", *OUTPUT_COLUMNS]
    assert out["receptor_id"].tolist() == ["007", "R2", "R3"]  # ids stay text
    assert out["x"].tolist() == ["173000", "175000", "171000"]  # cells echoed as typed
    nox, nh3, total = (out[c] for c in OUTPUT_COLUMNS)
    np.testing.assert_allclose(total, nox + nh3)
    assert out.attrs["n_sources"] == 2 and out.attrs["n_elementary_sources"] == 2


def test_input_order_and_index_preserved(tmp_path):
    base = run(tmp_path)
    lines = REC.strip().split("\n")
    shuffled = "\n".join([lines[0], lines[3], lines[1], lines[2]]) + "\n"
    out = run(tmp_path, rec=shuffled)
    assert out["receptor_id"].tolist() == ["R3", "007", "R2"]
    expect = base.set_index("receptor_id").loc[["R3", "007", "R2"], OUTPUT_COLUMNS[2]]
    np.testing.assert_allclose(out[OUTPUT_COLUMNS[2]], expect, rtol=1e-12)
    rec = pd.DataFrame({"receptor_id": ["a", "b"], "x": [173000.0, 171000.0],
                        "y": [460500.0, 459000.0], "note": ["keep", "me"]}, index=[10, 3])
    src = pd.DataFrame({"source_id": ["S"], "x": [172000], "y": [460000], "height_m": [2.5],
                        "heat_mw": [0.0], "nox_kg_yr": [100.0], "nh3_kg_yr": [1.0]})
    out = deposition(src, rec)
    assert out.index.tolist() == [10, 3] and out["note"].tolist() == ["keep", "me"]


def test_optional_columns_absent_or_empty_mean_defaults(tmp_path):
    full = add_column(add_column(add_column(SRC, "spread_m", ["0", "0"]), "area_side_m", ["", "0"]),
                      "z0_m", [str(DEFAULT_Z0_M), ""])
    rec = REC.replace("R2,175000,462000,", "R2,175000,462000,1")
    a, b = run(tmp_path), run(tmp_path, full, rec)
    np.testing.assert_array_equal(a[OUTPUT_COLUMNS[2]], b[OUTPUT_COLUMNS[2]])


def test_case_isolation(tmp_path):
    """A source of case A does not change receptors of case B."""
    rec = add_column(REC.replace("R3,", "R1,"), "case_id", ["A", "B", "B"])
    rec += "007,173000,460500,4,B\n"  # same receptor id in another case is fine
    src_b = add_column(SRC.split("\n")[0] + "\n" + SRC.split("\n")[2] + "\n", "case_id", ["B"])
    src_ab = src_b + "S1,172000,460000,2.5,0.035,1000,10,A\n"
    only_b, both = run(tmp_path, src_b, rec), run(tmp_path, src_ab, rec)
    is_b = (both["case_id"] == "B").to_numpy()
    total = OUTPUT_COLUMNS[2]
    np.testing.assert_array_equal(both.loc[is_b, total], only_b.loc[is_b, total])
    assert (only_b.loc[~is_b, OUTPUT_COLUMNS[2]] == 0).all()
    assert (both.loc[~is_b, OUTPUT_COLUMNS[2]] != 0).all()
    # the same receptor in case A and case B gets different deposition
    assert both[OUTPUT_COLUMNS[2]].iloc[0] != both[OUTPUT_COLUMNS[2]].iloc[3]


def test_receptor_case_without_sources_is_a_note(tmp_path):
    rec = add_column(REC, "case_id", ["A", "A", "C"])
    out = run(tmp_path, add_column(SRC, "case_id", ["A", "A"]), rec)
    assert out[OUTPUT_COLUMNS[2]].iloc[2] == 0
    assert any("zonder bronnen" in n and "C" in n for n in out.attrs["notes"])


def test_geometry_sources(tmp_path):
    lines = SRC.strip().split("\n")
    src = "\n".join([lines[0] + ",geometry_wkt", lines[1] + ",", lines[2] + ","]) + "\n"
    src += ('P1,,,2.5,0.035,500,1,"POLYGON ((172000 460000, 172100 460000, 172100 460080, '
            '172000 460000))"\n'
            'L1,,,2.5,0,50,1,"LINESTRING (172000 460000, 172500 460000, 172500 460400)"\n'
            'Q1,,,2.5,0,50,1,POINT (172200 460100)\n')
    out = run(tmp_path, src)
    assert out.attrs["n_sources"] == 5 and out.attrs["n_elementary_sources"] > 6


def test_notes_and_extrapolated_column(tmp_path):
    src = replace_cell(SRC, 2, "height_m", "45")
    with pytest.raises(MultipleInputErrors) as info:
        run(tmp_path, src)
    err = one(info.value.errors, "height_m", 2)
    assert isinstance(err, RangeError) and "45" in str(err) and "0,5 tot en met 40 m" in str(err)
    assert "allow-extrapolation" in str(err)
    out = run(tmp_path, src, allow_extrapolation=True)
    assert out["extrapolated"].tolist() == [True, True, True]
    assert any("GEËXTRAPOLEERD" in n and "height_m" in n and "rij 2" in n for n in out.attrs["notes"])
    assert "extrapolated" not in run(tmp_path).columns


# ----------------------------------------------------------------- bad input (section 4)

def test_missing_and_misspelled_columns(tmp_path):
    src = SRC.replace("height_m", "heigth_m").replace("nh3_kg_yr", "nh3")
    src = add_column(src, "spread", ["1", "1"])
    errs = problems(tmp_path, src, REC.replace("receptor_id", "Receptor_ID"))
    e = one(errs, "height_m")
    assert "ontbreekt" in str(e) and "heigth_m" in str(e) and e.file == "sources.csv"
    assert "'nh3'" in str(one(errs, "nh3_kg_yr"))
    assert "spread_m" in str(one(errs, "spread"))
    r = one(errs, "receptor_id")
    assert r.file == "receptors.csv" and "Receptor_ID" in str(r)


@pytest.mark.parametrize("column, value, fragment", [
    ("x", "abc", "is geen getal"),
    ("height_m", "2.5 m", "is geen getal"),
    ("nox_kg_yr", "1,500", "dubbelzinnig (een komma kan duizendtallen scheiden)"),
    ("nox_kg_yr", "1 000", "bevat een spatie"),
    ("x", "nan", "NaN"),
    ("y", "inf", "geen eindig getal"),
    ("x", "-inf", "geen eindig getal"),
    ("x", "", "ontbreekt"),
    ("heat_mw", "", "ontbreekt"),
])
def test_text_nan_inf_and_missing_numbers(tmp_path, column, value, fragment):
    """(review: '1 000' was 'geen getal' without saying why)"""
    src = replace_cell(SRC, 3, column, f'"{value}"' if "," in value else value)
    e = one(problems(tmp_path, src), column, 3)
    assert fragment in str(e) and e.file == "sources.csv" and e.row == 3
    assert "rij 3" in str(e) and f"veld {column}" in str(e)
    if value:
        assert e.value == value and f'"{value}"' in str(e)


def test_nan_coordinates_in_a_python_table():
    rec = pd.DataFrame({"receptor_id": ["a", "b"], "x": [173000.0, np.nan],
                        "y": [460000.0, np.inf]})
    src = pd.DataFrame({"source_id": ["S"], "x": [172000], "y": [460000], "height_m": [2.5],
                        "heat_mw": [0.0], "nox_kg_yr": [100.0], "nh3_kg_yr": [1.0]})
    with pytest.raises(MultipleInputErrors) as info:
        deposition(src, rec)
    assert one(info.value.errors, "x", 3).message == "ontbreekt"
    assert "geen eindig getal" in str(one(info.value.errors, "y", 3))


@pytest.mark.parametrize("column", ["nox_kg_yr", "nh3_kg_yr"])
def test_negative_emission(tmp_path, column):
    e = one(problems(tmp_path, replace_cell(SRC, 2, column, "-5")), column, 2)
    assert "negatief" in str(e) and e.value == "-5"


@pytest.mark.parametrize("column, value, where", [
    ("height_m", "0.2", "0,5 tot en met 40 m"),
    ("height_m", "41", "0,5 tot en met 40 m"),
    ("heat_mw", "2", "0 tot en met 1,5 MW"),
    ("z0_m", "3", "0,03 tot en met 2 m"),
    ("z0_m", "0.01", "0,03 tot en met 2 m"),
    ("area_side_m", "2500", "0 tot en met 2000 m"),
    ("spread_m", "3", "niet meer dan height_m"),
])
def test_outside_calibrated_range(tmp_path, column, value, where):
    src = SRC if column in SRC else add_column(SRC, column, ["", ""])
    e = one(problems(tmp_path, replace_cell(src, 2, column, value)), column, 2)
    assert isinstance(e, RangeError) and where in str(e) and e.value == value
    out = run(tmp_path, replace_cell(src, 2, column, value), allow_extrapolation=True)
    assert out["extrapolated"].all()


@pytest.mark.parametrize("column, value, fragment", [
    ("height_m", "-1", "negatief"), ("z0_m", "0", "niet positief"), ("spread_m", "-1", "negatief"),
    # height 0 gave numpy warnings and "interne fout": the tables run in ln(height)
    ("height_m", "0", "logaritme van de hoogte"),
])
def test_impossible_values_refused_even_with_extrapolation(tmp_path, column, value, fragment):
    src = SRC if column in SRC else add_column(SRC, column, ["", ""])
    with pytest.raises(MultipleInputErrors) as info:
        run(tmp_path, replace_cell(src, 2, column, value), allow_extrapolation=True)
    assert fragment in str(one(info.value.errors, column, 2))


@pytest.mark.parametrize("value", ["0", "10", "2.5", "bos"])
def test_unknown_landuse(tmp_path, value):
    e = one(problems(tmp_path, rec=replace_cell(REC, 3, "landuse", value)), "landuse", 3)
    assert e.file == "receptors.csv" and e.value == value
    assert "1-9" in str(e) or "geen getal" in str(e)


def test_duplicate_ids(tmp_path):
    src = replace_cell(SRC, 3, "source_id", "S1")
    rec = replace_cell(REC, 4, "receptor_id", "007")
    errs = problems(tmp_path, src, rec)
    s, r = one(errs, "source_id", 3), one(errs, "receptor_id", 4)
    assert "dubbel" in str(s) and "rij 2" in str(s) and s.value == "S1"
    assert "dubbel" in str(r) and r.value == "007"


def test_case_id_in_one_file_only(tmp_path):
    errs = problems(tmp_path, add_column(SRC, "case_id", ["A", "A"]), REC)
    e = one(errs, "case_id")
    assert e.file == "receptors.csv" and "de tabel bronnen heeft die wel" in str(e)
    errs = problems(tmp_path, SRC, add_column(REC, "case_id", ["A", "A", "A"]))
    assert one(errs, "case_id").file == "sources.csv"


def test_source_case_without_receptors(tmp_path):
    errs = problems(tmp_path, add_column(SRC, "case_id", ["A", "Nord"]),
                    add_column(REC, "case_id", ["A", "A", "Noord"]))
    e = one(errs, "case_id", 3)
    assert "geen receptoren" in str(e)


def test_empty_case_id(tmp_path):
    errs = problems(tmp_path, add_column(SRC, "case_id", ["A", ""]),
                    add_column(REC, "case_id", ["A"] * 3))
    assert one(errs, "case_id", 3).message == "ontbreekt"


def test_line_columns(tmp_path):
    src = add_column(SRC, "x_end", ["173000", "172100"])
    src = add_column(add_column(src, "y_end", ["", "460050"]), "area_side_m", ["", ""])
    errs = problems(tmp_path, src)
    assert "x_end is ingevuld" in str(one(errs, "y_end", 2))
    assert "lengte 0" in str(one(errs, "x_end", 3))
    src2 = replace_cell(replace_cell(src, 2, "y_end", "460000"), 2, "area_side_m", "10")
    assert "lijnbron" in str(one(problems(tmp_path, src2), "area_side_m", 2))


def test_wgs84_and_swapped_coordinates(tmp_path):
    rec = replace_cell(replace_cell(REC, 2, "x", "5.8"), 2, "y", "52.1")
    rec = replace_cell(replace_cell(rec, 3, "x", "462000"), 3, "y", "175000")
    errs = problems(tmp_path, rec=rec)
    assert "WGS84" in str(one(errs, "x", 2)) and "RD New" in str(one(errs, "y", 2))
    assert "RD New" in str(one(errs, "x", 3))


def test_wgs84_and_swapped_coordinates_in_a_geometry(tmp_path):
    """The RD New check covers the vertices of geometry_wkt as it does x and y: a point in
    degrees, a polygon with x and y swapped, a line with one vertex far off."""
    header = "source_id,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,geometry_wkt"
    rows = ['S1,2.5,0,10,1,POINT (5.8 52.1)',
            'S2,2.5,0,10,1,"POLYGON ((460000 172000, 460100 172000, 460100 172100, 460000 172100, '
            '460000 172000))"',
            'S3,2.5,0,10,1,"LINESTRING (172000 460000, 172100 4600000)"',
            'S4,2.5,0,10,1,POINT (172000 460000)']
    errs = problems(tmp_path, "\n".join([header, *rows]) + "\n")
    assert "WGS84" in str(one(errs, "geometry_wkt", 2))
    assert "verwisseld" in str(one(errs, "geometry_wkt", 3))
    assert "172100 4.6e+06" in str(one(errs, "geometry_wkt", 4))
    assert not [e for e in errs if e.row == 5]  # a point in RD New passes


def test_geometry_problems(tmp_path):
    lines = SRC.strip().split("\n")
    src = "\n".join([lines[0] + ",geometry_wkt",
                     lines[1] + ',"POLYGON ((172000 460000, 172100 460000, 172100 460080))"',
                     ",".join(["S2", "", ""] + lines[2].split(",")[3:])
                     + ',"LINESTRING (172000 460000, 172000 460000)"']) + "\n"
    errs = problems(tmp_path, src)
    assert "niet gesloten" in str(one(errs, "geometry_wkt", 2))
    assert "ingevuld naast geometry_wkt" in str(one(errs, "x", 2))
    assert "lengte 0" in str(one(errs, "geometry_wkt", 3))


def test_output_column_clash(tmp_path):
    e = one(problems(tmp_path, rec=add_column(REC, "deposition_total_mol_ha_yr", ["1", "2", "3"])),
            "deposition_total_mol_ha_yr")
    assert "overschreven" in str(e)


def test_all_problems_reported_at_once(tmp_path):
    src = replace_cell(replace_cell(SRC, 2, "x", "abc"), 3, "nh3_kg_yr", "-1")
    rec = replace_cell(REC, 4, "landuse", "12")
    errs = problems(tmp_path, src, rec)
    assert {(e.file, e.row, e.field) for e in errs} >= {
        ("sources.csv", 2, "x"), ("sources.csv", 3, "nh3_kg_yr"), ("receptors.csv", 4, "landuse")}


def test_many_errors_are_capped_with_a_count():
    n = 250
    rec = pd.DataFrame({"receptor_id": [f"r{i}" for i in range(n)], "x": ["x"] * n,
                        "y": [460000] * n})
    src = pd.DataFrame({"source_id": ["S"], "x": [172000], "y": [460000], "height_m": [2.5],
                        "heat_mw": [0.0], "nox_kg_yr": [100.0], "nh3_kg_yr": [1.0]})
    with pytest.raises(MultipleInputErrors) as info:
        deposition(src, rec)
    errs = info.value.errors
    assert len(errs) == 101 and "nog 150 rij(en)" in str(errs[-1])


def test_errors_pickle(tmp_path):
    errs = problems(tmp_path, replace_cell(SRC, 2, "x", "abc"))
    again = pickle.loads(pickle.dumps(MultipleInputErrors(errs)))
    assert str(again.errors[0]) == str(errs[0])


# ----------------------------------------------------------------- reading

def test_read_keeps_cells_as_typed(tmp_path):
    df = read_table(write(tmp_path, "r.csv", "receptor_id,x,y\n007,1.50,2\n"))
    assert df.to_dict("list") == {"receptor_id": ["007"], "x": ["1.50"], "y": ["2"]}


def test_semicolon_csv_with_decimal_commas(tmp_path):
    src = SRC.replace(",", ";").replace("2.5", "2,5").replace("0.035", "0,035")
    rec = REC.replace(",", ";")
    a, b = run(tmp_path), run(tmp_path, src, rec)
    np.testing.assert_array_equal(a[OUTPUT_COLUMNS[2]], b[OUTPUT_COLUMNS[2]])
    e = one(problems(tmp_path, src.replace("1000", "1.000"), rec), "nox_kg_yr", 2)
    assert "dubbelzinnig" in str(e)


def test_bom_and_windows_encoding(tmp_path):
    rec = REC.replace("R2", "Rë")
    for enc in ("utf-8-sig", "cp1252"):
        df = read_table(write(tmp_path, "r.csv", rec, encoding=enc))
        assert list(df.columns)[0] == "receptor_id" and df["receptor_id"][1] == "Rë"


def test_blank_rows(tmp_path):
    df = read_table(write(tmp_path, "r.csv", REC + "\n,,,\n\n"))
    assert len(df) == 3  # trailing empty rows are not data
    with pytest.raises(InputError) as info:
        read_table(write(tmp_path, "r.csv", REC.replace("R2,", "\nR2,")))
    assert info.value.row == 3 and "lege rij" in str(info.value)


@pytest.mark.parametrize("text, fragment", [
    ("", "leeg"),
    ("receptor_id,x,x\n1,2,3\n", "dubbele kolomnaam"),
    ("receptor_id,,y\n1,2,3\n", "geen naam"),
    ("receptor_id,x,y\n1,2,3,4\n", "slechts 3 kolomnamen"),
])
def test_malformed_files(tmp_path, text, fragment):
    with pytest.raises(InputError, match=fragment):
        read_table(write(tmp_path, "r.csv", text))


def test_unreadable_paths(tmp_path):
    with pytest.raises(InputError, match="niet gevonden"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="sla het op als .xlsx"):
        read_table(write(tmp_path, "old.xls", "x"))
    with pytest.raises(InputError, match="geen leesbare .xlsx"):
        read_table(write(tmp_path, "bad.xlsx", "not a zip"))


def test_xlsx_round_trip(tmp_path):
    out = run(tmp_path)
    path = write_table(out, tmp_path / "out.xlsx", notes=["a note"])
    back = read_table(path)
    assert list(back.columns) == list(out.columns)
    assert back["receptor_id"].tolist() == ["007", "R2", "R3"]
    np.testing.assert_allclose(back[OUTPUT_COLUMNS[2]].astype(float), out[OUTPUT_COLUMNS[2]],
                               rtol=1e-15)
    assert pd.read_excel(path, sheet_name="notes")["note"].tolist() == ["a note"]


def test_xlsx_inputs_give_the_same_result(tmp_path):
    s = read_table(write(tmp_path, "s.csv", SRC))
    r = read_table(write(tmp_path, "r.csv", REC))
    typed_s = s.copy()
    for c in ("x", "y", "height_m", "heat_mw", "nox_kg_yr", "nh3_kg_yr"):
        typed_s[c] = pd.to_numeric(typed_s[c])  # numbers as Excel stores them
    write_table(typed_s, tmp_path / "s.xlsx")
    write_table(r, tmp_path / "r.xlsx")
    a = deposition(s, r)
    b = deposition(read_table(tmp_path / "s.xlsx"), read_table(tmp_path / "r.xlsx"))
    np.testing.assert_array_equal(a[OUTPUT_COLUMNS[2]], b[OUTPUT_COLUMNS[2]])


# ----------------------------------------------------------------- writing

def test_write_is_atomic_and_never_overwrites(tmp_path):
    out = run(tmp_path)
    target = write_table(out, tmp_path / "out.csv")
    first = target.read_bytes()
    with pytest.raises(InputError, match="bestaat al"):
        write_table(out.head(1), target)
    assert target.read_bytes() == first
    write_table(out.head(1), target, overwrite=True)
    assert len(pd.read_csv(target)) == 1
    src = tmp_path / "sources.csv"
    with pytest.raises(InputError, match="invoerbestand overschrijven"):
        write_table(out, src, overwrite=True, inputs=[src])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "receptors.csv", "sources.csv"]


def test_failed_write_leaves_old_output_and_no_temp_file(tmp_path, monkeypatch):
    target = write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.csv")
    before = target.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(RuntimeError):
        write_table(pd.DataFrame({"a": [2]}), target, overwrite=True)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_written_file_has_normal_permissions(tmp_path):
    target = write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.csv")
    mask = os.umask(0)
    os.umask(mask)
    assert (target.stat().st_mode & 0o777) == (0o666 & ~mask)


def test_deposition_files_checks_output_before_computing(tmp_path):
    s, r = write(tmp_path, "s.csv", SRC), write(tmp_path, "r.csv", REC)
    run1 = deposition_files(s, r, tmp_path / "o.csv")
    assert run1.n_sources == 2 and run1.n_receptors == 3
    assert run1.max_receptor_id in {"007", "R2", "R3"}
    with pytest.raises(InputError, match="bestaat al"):
        deposition_files(s, r, tmp_path / "o.csv")
    with pytest.raises(InputError, match="invoerbestand overschrijven"):
        deposition_files(s, r, r, overwrite=True)
    with pytest.raises(InputError, match="geen gegevensrijen"):
        deposition_files(s, write(tmp_path, "e.csv", "receptor_id,x,y\n"), tmp_path / "o2.csv")
    assert not (tmp_path / "o2.csv").exists()


def test_check_tables_is_usable_on_its_own():
    src = pd.DataFrame({"source_id": ["S"], "x": [172000], "y": [460000], "height_m": [2.5],
                        "heat_mw": [0.0], "nox_kg_yr": [100.0], "nh3_kg_yr": [1.0]})
    rec = pd.DataFrame({"receptor_id": [1], "x": [173000], "y": [460000]})
    s, r, notes = check_tables(src, rec)
    # land use 0 = from the terrain (roughness map by default: water where it shows water,
    # else grass; issue 11); it was 1 (grass) before the terrain model
    assert s.z0_m.tolist() == [DEFAULT_Z0_M] and r.landuse.tolist() == [0]
    assert r.receptor_id.tolist() == ["1"] and notes == []


# ----------------------------------------------------------------- wiring and round trips

def test_polygon_wiring_matches_its_squares(tmp_path):
    """The table front end hands the core exactly the polygon's squares and shares."""
    from stikstofcalc.geo import geometry as geo
    from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays

    wkt = "POLYGON ((172000 460000, 172300 460050, 172250 460200, 172000 460000))"
    src = pd.DataFrame({"source_id": ["P"], "x": [""], "y": [""], "height_m": [2.5],
                        "heat_mw": [0.035], "nox_kg_yr": [800.0], "nh3_kg_yr": [3.0],
                        "spread_m": [1.3], "geometry_wkt": [wkt]})
    rec = pd.DataFrame({"receptor_id": ["in", "near", "far"], "x": [172150, 172400, 175000],
                        "y": [460080, 460100, 462000]})
    out = deposition(src, rec)
    x, y, side, w = geo.polygon_squares(geo.parse_wkt(wkt))
    res = deposition_arrays(SourceArrays(x, y, 2.5, 0.035, 800.0 * w, 3.0 * w, spread_m=1.3,
                                         area_side_m=side),
                            ReceptorArrays(rec["x"], rec["y"]))
    np.testing.assert_allclose(out[OUTPUT_COLUMNS[2]], res.total, rtol=1e-12)
    assert out.attrs["n_elementary_sources"] == len(x)


ID_TEXT = st.text(alphabet="abcXYZ0123456789 -_.,;'\"é", min_size=1, max_size=12).filter(
    lambda s: s.strip() != "")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(ID_TEXT, min_size=1, max_size=8, unique=True),
       suffix=st.sampled_from([".csv", ".xlsx"]))
def test_text_cells_round_trip(tmp_path, ids, suffix):
    df = pd.DataFrame({"receptor_id": ids, "x": ["173000"] * len(ids),
                       "y": ["460000.5"] * len(ids)})
    path = write_table(df, tmp_path / f"t{suffix}", overwrite=True)
    back = read_table(path)
    assert back["receptor_id"].tolist() == ids
    assert back.columns.tolist() == df.columns.tolist()


@pytest.mark.parametrize("column, value", [
    ("nox_kg_yr", "1e308"), ("nh3_kg_yr", "2e8"), ("height_m", "5000"), ("heat_mw", "1e6"),
    ("spread_m", "2000"), ("area_side_m", "50000"), ("z0_m", "40"),
])
def test_typing_errors_refused_even_with_extrapolation(tmp_path, column, value):
    """A value beyond the plausibility range (stikstofcalc.ranges) is refused, also with
    allow_extrapolation (1e308 kg/yr gave a deposition of 9e303 with exit code 0), and the
    cell is reported once (not also as outside the calibrated range)."""
    src = SRC if column in SRC else add_column(SRC, column, ["", ""])
    with pytest.raises(MultipleInputErrors) as info:
        run(tmp_path, replace_cell(src, 2, column, value), allow_extrapolation=True)
    hits = [e for e in info.value.errors if e.field == column and e.row == 2]
    assert len(hits) == 1 and isinstance(hits[0], RangeError), [str(e) for e in info.value.errors]
    assert "buiten het toegestane bereik" in str(hits[0])
    assert len(str(hits[0])) < 300  # the value shown as 1e+308, not as 309 digits


def test_geometry_with_too_many_vertices_is_refused(tmp_path):
    """20,000 vertices took 2.5 GB (a line) or 13 s (a polygon): capped at ranges.MAX_POINTS."""
    from stikstofcalc.ranges import MAX_POINTS

    n = MAX_POINTS + 1
    line = "LINESTRING (" + ", ".join(f"{172000 + i} {460000 + i % 2}" for i in range(n)) + ")"
    src = ("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,geometry_wkt\n"
           f'L1,,,2.5,0,100,1,"{line}"\n')
    e = one(problems(tmp_path, src=src), "geometry_wkt", 2)
    assert f"{n:,}".replace(",", ".") in str(e) and "hoogstens" in str(e)
    ok = "LINESTRING (" + ", ".join(f"{172000 + i} {460000 + i % 2}" for i in range(50)) + ")"
    out = run(tmp_path, src=src.replace(line, ok))
    assert (out["deposition_total_mol_ha_yr"] > 0).all()


def test_xlsx_output_too_large_for_a_sheet_is_refused_before_computing(tmp_path, monkeypatch):
    """More receptor columns (or rows) than an Excel sheet holds: a message before computing,
    not openpyxl's "This sheet is too large!" traceback after it."""
    from stikstofcalc.io import tables
    from stikstofcalc.io.excel import cells

    monkeypatch.setattr(cells, "EXCEL_COLUMNS", 6)  # the receptor table has 4 columns, + 3 results
    s, r = write(tmp_path, "s.csv", SRC), write(tmp_path, "r.csv", REC)
    called = []
    monkeypatch.setattr(tables, "deposition", lambda *a, **k: called.append(1))
    with pytest.raises(InputError, match="te groot voor een Excel-werkblad"):
        deposition_files(s, r, tmp_path / "out.xlsx")
    assert not called and not (tmp_path / "out.xlsx").exists()
    monkeypatch.setattr(cells, "EXCEL_COLUMNS", 7)
    monkeypatch.setattr(cells, "EXCEL_ROWS", 3)  # 3 receptors + the header
    with pytest.raises(InputError, match="te groot voor een Excel-werkblad"):
        deposition_files(s, r, tmp_path / "out.xlsx")


def test_geometry_column_makes_x_y_columns_optional():
    """A source list with geometry_wkt needs no x, y columns (AERIUS exports have none); a
    row without a geometry still needs its x and y, named by row."""
    rec = pd.DataFrame({"receptor_id": ["r"], "x": [172400.0], "y": [407800.0]})
    src = pd.DataFrame({"source_id": ["a", "b"], "height_m": [5.0, 5.0], "heat_mw": [0.0, 0.0],
                        "nox_kg_yr": [0.0, 0.0], "nh3_kg_yr": [100.0, 100.0],
                        "geometry_wkt": ["POINT (172400 406800)",
                                         "POLYGON ((172000 406000, 172100 406000, 172100 406100, "
                                         "172000 406100, 172000 406000))"]})
    s, _, _ = check_tables(src, rec)
    assert len(s.source_id) == 2
    out = deposition(src, rec)
    assert out["deposition_total_mol_ha_yr"].iloc[0] > 0
    src.loc[1, "geometry_wkt"] = ""
    with pytest.raises(MultipleInputErrors) as e:
        check_tables(src, rec, sources_file="bronnen.csv")
    text = str(e.value)
    assert "rij 3" in text and "veld x" in text and "veld y" in text


@pytest.mark.parametrize("cell, decimal, value", [
    ("1.000,5", ",", 1000.5), ("12.345.678,25", ",", 12345678.25), ("1.000,5", ".", 1000.5),
    ("5,5", ".", 5.5), ("2,5", ",", 2.5), ("2.5", ",", 2.5), ("5,5", "werkmap", 5.5),
    ("2.5", "werkmap", 2.5), ("1.000,5", "werkmap", 1000.5), ("1.500", ".", 1.5),
])
def test_dutch_number_text_reads_where_it_has_one_reading(cell, decimal, value):
    """'1.000,5' (Excel NL with thousands on) and a text '5,5' in a workbook cell were refused
    while the batch's cells read them (review)."""
    from stikstofcalc.deposition.api import number_cells

    df = pd.DataFrame({"nox_kg_yr": [cell]})
    df.attrs["decimal"] = decimal
    assert number_cells(df, "nox_kg_yr")[0] == pytest.approx(value)


@pytest.mark.parametrize("cell, decimal, words", [
    ("1.000", ",", "dubbelzinnig"), ("1,500", ".", "dubbelzinnig"), ("1 000", ",", "spatie"),
    ("1,5,3", ".", "geen getal"), ("1.500", "werkmap", r"dubbelzinnig \(een punt"),
    ("1,500", "werkmap", r"dubbelzinnig \(een komma"),
])
def test_number_text_with_two_readings_is_refused(cell, decimal, words):
    from stikstofcalc.deposition.api import number_cells

    df = pd.DataFrame({"nox_kg_yr": [cell]})
    df.attrs["decimal"] = decimal
    with pytest.raises(MultipleInputErrors, match=words):
        number_cells(df, "nox_kg_yr", file="s.csv")


def test_number_cells_of_a_workbook_are_never_ambiguous():
    """12.345 as a number cell (in a column with an empty cell, so held as objects) is the
    number; only the text "12.345" is ambiguous."""
    from stikstofcalc.deposition.api import WORKBOOK_TEXT, number_cells

    df = pd.DataFrame({"nox_kg_yr": [12.345, None, 1.125]}, dtype=object)
    df.attrs["decimal"] = WORKBOOK_TEXT
    got = number_cells(df, "nox_kg_yr")
    assert got[0] == 12.345 and np.isnan(got[1]) and got[2] == 1.125
    df = pd.DataFrame({"nox_kg_yr": ["12.345"]})
    df.attrs["decimal"] = WORKBOOK_TEXT
    with pytest.raises(MultipleInputErrors, match="dubbelzinnig"):
        number_cells(df, "nox_kg_yr")
