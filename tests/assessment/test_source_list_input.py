"""Bad source lists and receptor files that used to give a false "geen vergunning nodig", no
answer, or a traceback (review of the source-list paths, 2026-12-06): each now gives a
Dutch error naming file, row, field and value (exit 2), or a note in the report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main
from stikstofcalc.errors import InputError, MultipleInputErrors, RangeError
from stikstofcalc.geo.receptors import read_receptor_file
from stikstofcalc.assessment.source_list import check_calibrated, read_source_files

HEADER = "source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr"
OK = "A,172240,458930,2.5,0,100,1"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_geometry_in_degrees_is_refused_not_0_00(tmp_path):
    p = write(tmp_path, "b.csv", "source_id,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,geometry_wkt\n"
                                 "A,2.5,0,100,1,POINT (5.8 52.0)\n")
    r = run("calc", p)
    assert r.exit_code == 2
    assert "WGS84" in r.output and "rij 2" in r.output and "geometry_wkt" in r.output
    assert "geen vergunning nodig" not in r.output


def test_header_only_source_list_is_an_error(tmp_path):
    p = write(tmp_path, "b.csv", HEADER + "\n")
    with pytest.raises(MultipleInputErrors, match="geen bronnen"):
        read_source_files(p)
    r = run("calc", p)
    assert r.exit_code == 2 and "geen bronnen" in r.output


@pytest.mark.parametrize("col, value", [("year", "inf"), ("sector_id", "inf"), ("year", "nan"),
                                        ("sector_id", "-inf")])
def test_infinite_year_or_sector_is_a_named_error(tmp_path, col, value):
    p = write(tmp_path, "b.csv", f"{HEADER},year,sector_id\n{OK},2028,3220\n"
                                 + f"B,172240,458930,2.5,0,100,1,{'2028' if col != 'year' else value},"
                                 + f"{'3220' if col != 'sector_id' else value}\n")
    with pytest.raises(MultipleInputErrors) as e:
        read_source_files(p)
    (err,) = e.value.errors
    assert (err.row, err.field, err.value) == (3, col, value)
    assert run("calc", p).exit_code == 2


def test_out_of_range_source_names_its_row_and_a_batch_keeps_the_other_cases(tmp_path):
    p = write(tmp_path, "b.csv", f"{HEADER},case_id\n{OK},C1\nHOOG,172240,458930,75,0,100,1,C3\n")
    r = run("calc", p)
    assert r.exit_code == 2
    assert "rij 3" in r.output and "height_m" in r.output and "75" in r.output
    assert "bronindex" not in r.output and "AERIUS Calculator" in r.output
    out = tmp_path / "res.xlsx"
    r = run("batch", p, "-o", out)
    assert r.exit_code == 3, r.output  # C1 computed, C3 listed
    book = pd.read_excel(out, sheet_name=None, header=1)
    assert list(book["resultaten"]["case"].unique()) == ["C1"]
    f = book["fouten"]
    assert list(f["zaak"]) == ["C3"] and list(f["rij"]) == [3]


def test_filled_characteristics_outside_the_range_name_the_source():
    t = pd.DataFrame({"source_id": ["f:ES.1", "f:ES.2"], "label": ["Steenfabriek", ""],
                      "height_m": [75.0, 2.5], "heat_mw": [0.0, 2.85], "spread_m": [0.0, 3.0]})
    with pytest.raises(MultipleInputErrors) as e:
        check_calibrated(t, case="X")
    errs = e.value.errors
    assert all(isinstance(x, RangeError) for x in errs)
    assert [(x.field, x.value) for x in errs] == [("height_m", 75.0), ("heat_mw", 2.85), ("spread_m", 3.0)]
    assert "f:ES.1 (Steenfabriek)" in str(errs[0]) and 'zaak "X"' in str(errs[0])
    check_calibrated(t.iloc[:0], case="X")  # nothing to refuse


def test_empty_receptor_file_is_an_error(tmp_path):
    p = write(tmp_path, "r.csv", "receptor_id\n")
    with pytest.raises(InputError, match="geen receptoren"):
        read_receptor_file(p)
    s = write(tmp_path, "b.csv", f"{HEADER}\n{OK}\n")
    r = run("calc", s, "--receptors", p)
    assert r.exit_code == 2 and "geen vergunning nodig" not in r.output


@pytest.mark.parametrize("text, field", [("receptor_id\n45741470\n", "receptor_id"),
                                          ("receptor_id\n99999999999\n", "receptor_id"),
                                          ("receptor_id,x,y\n,270595,1904088\n", "x, y")])
def test_receptors_off_the_dutch_grid_are_refused(tmp_path, text, field):
    p = write(tmp_path, "r.csv", text)
    with pytest.raises(MultipleInputErrors) as e:
        read_receptor_file(p)
    (err,) = e.value.errors
    assert err.row == 2 and err.field == field


def test_a_real_receptor_id_still_reads(tmp_path):
    p = write(tmp_path, "r.csv", "receptor_id\n4706906\n")
    rec = read_receptor_file(p)
    assert rec["x"].iloc[0] == pytest.approx(123279.78, abs=0.01)


def test_receptors_all_beyond_25_km_are_noted(tmp_path):
    s = write(tmp_path, "b.csv", f"{HEADER}\n{OK}\n")
    far = write(tmp_path, "far.csv", "receptor_id\n1\n")
    r = run("calc", s, "--receptors", far)
    assert r.exit_code == 0
    assert "geen van de 1 opgegeven rekenpunten ligt binnen 25 km" in r.output
    near = Path(__file__).resolve().parents[2] / "examples" / "receptors.csv"
    assert "opgegeven rekenpunten ligt binnen" not in run("calc", s, "--receptors", near).output


IMAER = Path(__file__).resolve().parents[3] / "shared" / "reference" / "imaer"
if not IMAER.is_dir():
    IMAER = Path("/work/shared/reference/imaer")
needs_imaer = pytest.mark.skipif(not (IMAER / "offroad_adblue.gml").is_file(),
                                 reason="../shared/reference/imaer absent")


@needs_imaer
def test_the_same_imaer_file_twice_is_refused(tmp_path):
    copy = tmp_path / "kopie.gml"
    copy.write_bytes((IMAER / "offroad_adblue.gml").read_bytes())
    with pytest.raises(MultipleInputErrors, match="dubbel tellen"):
        read_source_files([IMAER / "offroad_adblue.gml", copy])


@needs_imaer
def test_two_situations_of_one_phase_are_summed_with_a_note():
    sl = read_source_files([IMAER / "offroad_adblue.gml", IMAER / "offroad_non_idle.gml"])
    (note,) = [n for n in sl.notes if "samen gerekend" in n]
    assert "2 bestanden" in note and "gebruiksfase" in note and "apart" in note


def test_outputs_with_one_name_are_refused_before_computing(tmp_path):
    s = write(tmp_path, "b.csv", f"{HEADER}\n{OK}\n")
    out = tmp_path / "uit.csv"
    r = run("calc", s, "-o", out, "--per-hexagon", out)
    assert r.exit_code == 2 and "hetzelfde bestand" in r.output
    assert not out.exists() and not list(tmp_path.glob("uit*"))


@pytest.mark.parametrize("text, says", [
    ("", "leeg"),
    ("source_id,x,y,height_m,heat_mw,nox_kg_yr\nA,172240,458930,2.5,0,100\n", "'nh3_kg_yr' ontbreekt"),
    (f"{HEADER}\n{OK}\n,,,,,,\n{OK.replace('A,', 'B,')}\n", "lege rij"),
])
def test_a_broken_source_list_says_what_is_wrong(tmp_path, text, says):
    r = run("calc", write(tmp_path, "b.csv", text))
    assert r.exit_code == 2 and says in r.output
    assert "geen projectbestand" not in r.output


def test_one_source_id_in_several_years_and_phases_of_a_case(tmp_path):
    """Source ids are unique per case, phase and year: one machine over three years keeps
    its id; twice in one phase and year is still refused (with that scope said)."""
    rows = "\n".join(f"A,172240,458930,2.5,0,100,1,C1,{p},{y}"
                     for p, y in (("realisatie", 2027), ("realisatie", 2028), ("gebruik", 2029)))
    p = write(tmp_path, "b.csv", f"{HEADER},case_id,phase,year\n{rows}\n")
    t = read_source_files(p).table
    assert list(t["year"]) == [2027, 2028, 2029] and list(t["source_id"]) == ["A"] * 3
    q = write(tmp_path, "c.csv", f"{HEADER},case_id,phase,year\n{rows}\nA,172240,458930,2.5,0,5,1,C1,gebruik,2029\n")
    with pytest.raises(MultipleInputErrors) as e:
        read_source_files(q)
    (err,) = e.value.errors
    assert err.row == 5 and "zaak, fase en jaar" in str(err)


def test_an_empty_case_id_is_reported_once_with_its_row(tmp_path):
    p = write(tmp_path, "b.csv", f"{HEADER},case_id\n{OK},C1\n{OK.replace('A,', 'B,')},\n")
    with pytest.raises(MultipleInputErrors) as e:
        read_source_files(p)
    assert [(x.row, x.field) for x in e.value.errors] == [(3, "case_id")]


def test_a_formula_without_a_saved_value_is_named(tmp_path):
    """A workbook written by a program (openpyxl) holds formulas without a computed value:
    the cell is named as a formula, not as "ontbreekt"; computed cells read as usual."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER.split(","))
    ws.append(["A", 172240, 458930, 2.5, 0, 100, 1])
    ws.append(["B", 172240, 458930, 2.5, 0, "=F2*2", 1])
    p = tmp_path / "b.xlsx"
    wb.save(p)
    with pytest.raises(MultipleInputErrors) as e:
        read_source_files(p)
    (err,) = e.value.errors
    assert (err.row, err.field, err.value) == (3, "nox_kg_yr", "=F2*2")
    assert "formule" in str(err) and "ontbreekt" not in str(err)
    assert err.sheet == "Sheet" and "blad Sheet, rij 3" in str(err)  # the sheet read is named


def test_receptor_columns_not_read_are_named(tmp_path):
    """id, xx, yy: the id is read, xx and yy are not; the report says so."""
    s = write(tmp_path, "b.csv", f"{HEADER}\n{OK}\n")
    rec = write(tmp_path, "r.csv", "id,xx,yy\n4439600,172000,459000\n")
    assert read_receptor_file(rec).attrs["unused_columns"] == ["xx", "yy"]
    r = run("calc", s, "--receptors", rec)
    assert r.exit_code == 0 and "kolom(men) xx, yy van het receptorbestand niet gebruikt" in r.output
    ok = write(tmp_path, "ok.csv", "receptor_id\n4439600\n")
    assert "niet gebruikt" not in run("calc", s, "--receptors", ok).output


def test_calc_of_two_project_files_says_to_use_batch():
    ex = Path(__file__).resolve().parents[2] / "examples"
    r = run("calc", ex / "dorp_kleine_uitbreiding.toml", ex / "dorp_ver_van_natuur.toml")
    assert r.exit_code == 2 and "stikstofcalc batch" in r.output and "bronnentabel" not in r.output


def test_empty_height_and_spread_are_noted(tmp_path):
    """An empty height_m or spread_m takes the sector's default, or 5 m / 2.5 m without one:
    noted per case, as the docs say (it was filled silently); a case whose sources give their
    height gets no such note."""
    from stikstofcalc.assessment.source_list import assess_source_list

    s = write(tmp_path, "b.csv", "case_id,source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,spread_m,sector_id\n"
                                 "K1,A,172240,458930,,0,100,1,1,3220\nK1,B,172300,458930,,0,100,1,,\n"
                                 "K2,C,172400,458930,3,0,100,1,1,3220\n")
    sl = read_source_files(s)
    assert sl.case_notes == {"K1": [
        "1 bron(nen) zonder height_m: de hoogte van sector 3220 uit de kengetallen",
        "1 bron(nen) zonder height_m in een sector zonder standaard: hoogte 5 m aangenomen (AERIUS-standaard "
        "van sector 4110)",
        "1 bron(nen) zonder spread_m in een sector zonder standaard: spreiding 2,5 m aangenomen (AERIUS-standaard "
        "van sector 4110)"]}
    a = {x.case: x for x in assess_source_list(s, sensitivity=False)}
    assert any("zonder height_m" in n for n in a["K1"].notes)
    assert not any("zonder height_m" in n for n in a["K2"].notes)
    r = run("calc", write(tmp_path, "one.csv", "source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,sector_id\n"
                                               "A,172240,458930,,0,100,1,3220\n"))
    assert r.exit_code == 0 and "zonder height_m: de hoogte van sector 3220" in r.output


CAPS = """case_id,source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,phase,year
Zaak-12,A,172240,458930,2.5,0,17,0,realisatie,2027
zaak-12,B,172240,458930,2.5,0,17,0,realisatie,2027
Zaak-13,C,172240,458930,2.5,0,1,0,realisatie,2027
"""


@pytest.mark.parametrize("year, words", [
    ("1990", "1990 ligt buiten het toegestane bereik; verwacht: een kalenderjaar van 2000 tot en met 2100"),
    ("twee", "'twee' is geen kalenderjaar; verwacht: een kalenderjaar van 2000 tot en met 2100, bijv. 2028"),
])
def test_a_year_out_of_range_names_the_range(tmp_path, year, words):
    """'1990' was 'geen kalenderjaar' without the range; GML said '2.000 tot en met 2.100'."""
    path = tmp_path / "s.csv"
    path.write_text(CAPS.splitlines()[0] + f"\nA,A,172240,458930,2.5,0,17,0,realisatie,{year}\n", encoding="utf-8")
    with pytest.raises(MultipleInputErrors, match=words):
        read_source_files([path])


def test_case_ids_differing_only_in_capitals_are_refused(tmp_path):
    """'Zaak-12' and 'zaak-12' were two cases at 0,0029 each, 'geen vergunning nodig', where
    the one project of 34 kg gives 0,0058 (review)."""
    path = tmp_path / "s.csv"
    path.write_text(CAPS, encoding="utf-8")
    with pytest.raises(MultipleInputErrors) as info:
        read_source_files([path])
    rows = sorted(e.row for e in info.value.errors)
    assert rows == [2, 3] and all(e.field == "case_id" for e in info.value.errors)
    assert "verschilt alleen in hoofdletters" in str(info.value)
    out = tmp_path / "b.xlsx"
    res = CliRunner().invoke(main, ["batch", str(path), "-o", str(out)])
    assert res.exit_code == 3 and "1 berekend, 2 ongeldig" in res.output  # Zaak-13 only


def test_a_bad_activity_cell_invalidates_its_case_only(tmp_path):
    """An activity cell ('veel' draaiuren) beside an error in another case aborted the whole
    batch naming the wrong row (review); it is now one of the case errors, with its row."""
    from stikstofcalc.assessment.source_list import read_source_table_cases

    p = tmp_path / "s.csv"
    p.write_text("case_id,source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,year,hours_h\n"
                 "A,s1,155000,463000,3,0,10,0,2027,10\nA,s2,155000,463100,3,0,10,0,1800,10\n"
                 "B,s3,156000,463000,3,0,10,0,2027,10\nC,s4,157000,463000,3,0,10,0,2027,10\n"
                 "C,s5,157000,463100,3,0,10,0,2027,veel\n", encoding="utf-8")
    good, errors, invalid = read_source_table_cases(p)
    assert good.table["case"].tolist() == ["B"] and sorted(invalid) == ["A", "C"]
    assert [(e.row, e.field) for e in errors] == [(3, "year"), (6, "hours_h")]
