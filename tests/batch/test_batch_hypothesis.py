"""Hypothesis-generated workbooks and CSVs: no crash, every invalid row in fouten, counts reconcile.

The assessment is replaced by a stub here (its equality with the single-case result is
tested in test_batch.py); these tests exercise reading, validation and writing.
"""

from __future__ import annotations

import datetime as dt
import types

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stikstofcalc.batch import run as batch
from stikstofcalc.io.excel.reader import read_book
from stikstofcalc.io.excel.results import write_results
from stikstofcalc.io.excel.schema import ONDERDELEN, PROJECTEN

GOOD = {"location.x": 150000, "location.y": 450000, "construction.start": "2027-03",
        "construction.duration": "12 maanden", "component.type": "grondgebonden_woningen",
        "component.count": 20, "component.home_type": "tussen_hoek", "route.road_type": "stad_normaal",
        "route.length": "1 km", "route.bearing": 90}

_TEXT = st.characters(blacklist_categories=("Cc", "Cs"))  # openpyxl cannot write control chars
weird = st.one_of(
    st.none(), st.text(_TEXT, max_size=30), st.text(_TEXT, min_size=1000, max_size=1500),
    st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
    st.just("=1+1"), st.just("2.500"), st.just("18 maanden"), st.just("1,2 km"), st.just("ü漢字🙂"),
)
case_ids = st.sampled_from(["A", "B", "C", "Ω", "12", None])


@st.composite
def rows(draw):
    out = []
    for _ in range(draw(st.integers(0, 6))):
        row = dict(GOOD) if draw(st.booleans()) else {}
        row["case_id"] = draw(case_ids)
        for key in draw(st.lists(st.sampled_from(PROJECTEN.keys[1:]), max_size=4)):
            row[key] = draw(weird)
        out.append(row)
    return out


def _fake_assess(project, *, regime, receptors=None, kengetallen=None):
    res = {"phase": "gebruik", "year": 2030, "verdict": "geen vergunning nodig", "permit_needed": False,
           "exempt": False, "max_deposition": 0.001, "max_rounded": 0.0, "max_display": "0,00",
           "threshold": 0.005, "n_hexagons_above": 0, "hectares_above": 0.0, "margin_factor": 5.0,
           "effect_distance_m": 100.0, "nox_kg_per_yr": 1.0, "nh3_kg_per_yr": 0.1, "uses_estimate": True}
    a = types.SimpleNamespace(case=project.name, results=[res], notes=[],
                              regime=types.SimpleNamespace(name=regime))
    return pd.DataFrame(columns=batch.SOURCE_COLUMNS), a, 0.0, 0.0


def _write(path, projecten, extra, *, merge, second_header, extra_col, sheet_missing):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if not sheet_missing:
        ws = wb.create_sheet("projecten")
        ws.append([c.label for c in PROJECTEN.columns] + (["eigen notitie"] if extra_col else []))
        if second_header:
            ws.append(PROJECTEN.keys)
        for r in projecten:
            ws.append([r.get(k) for k in PROJECTEN.keys] + (["x"] if extra_col else []))
        if merge and len(projecten) >= 2:
            start = 3 if second_header else 2
            ws.merge_cells(f"A{start}:A{start + 1}")
    ws = wb.create_sheet("onderdelen")
    if extra is not None:
        ws.append(ONDERDELEN.keys)
        for r in extra:
            ws.append([r.get(k) for k in ONDERDELEN.keys])
    wb.save(path)


def _check(path, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "assess_one", _fake_assess)
    book = read_book(path)
    res = batch.run_batch(path, book=book, jobs=1)
    c = res.counts
    assert c["read"] == c["valid"] + c["invalid"]
    p = res.problems
    errors = p[p["niveau"] == "fout"]
    invalid_rows = set(errors.loc[errors["blad"] == "projecten", "rij"].dropna())
    # every invalid case has a problem row naming it; valid cases have results
    computed = set(res.results["case"])
    assert len(computed) == c["valid"]
    for case in set(errors["zaak"].dropna()):
        assert case not in computed or case in set(p.loc[p["blad"] != "projecten", "zaak"]) is False
    assert all(isinstance(r, (int, float)) for r in invalid_rows)
    cell_errors = errors[errors["sleutel"].notna() & (errors["blad"] == "projecten")]
    assert cell_errors["rij"].notna().all()
    out = tmp_path / "r.xlsx"
    write_results(res, out, overwrite=True)
    wb = openpyxl.load_workbook(out, read_only=True)
    assert {"resultaten", "bronnen", "fouten", "herkomst"} <= set(wb.sheetnames)
    wb.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(projecten=rows(), extra=st.one_of(st.none(), st.lists(st.fixed_dictionaries(
    {"case_id": case_ids, "type": st.sampled_from(["sloop", "utiliteitsbouw", "x"]), "floor_area": weird}),
    max_size=3)), merge=st.booleans(), second_header=st.booleans(), extra_col=st.booleans(),
    sheet_missing=st.booleans())
def test_random_workbooks(tmp_path, monkeypatch, projecten, extra, merge, second_header, extra_col,
                          sheet_missing):
    path = tmp_path / "in.xlsx"
    _write(path, projecten, extra, merge=merge, second_header=second_header, extra_col=extra_col,
           sheet_missing=sheet_missing)
    _check(path, tmp_path, monkeypatch)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(projecten=rows(), sep=st.sampled_from([";", ","]), ctrl=st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=5))
def test_random_csv(tmp_path, monkeypatch, projecten, sep, ctrl):
    """(A CSV with NUL characters is refused as a whole: tests/io/test_inputs_workbook.py.)"""
    import csv

    path = tmp_path / "in.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=sep)
        w.writerow(PROJECTEN.keys)
        for r in projecten:
            w.writerow(["" if r.get(k) is None else str(r.get(k)) for k in PROJECTEN.keys] + [ctrl])
    _check(path, tmp_path, monkeypatch)


def test_invoer_round_trip_of_weird_cells(tmp_path, monkeypatch):
    """What was read is echoed: re-reading invoer gives the same rows (control chars aside)."""
    monkeypatch.setattr(batch, "assess_one", _fake_assess)
    rows_ = [dict(GOOD, case_id="A", description="ü漢字🙂 " * 100), dict(GOOD, case_id="B", municipality=12.5),
             dict(GOOD, case_id="C", **{"construction.start": dt.datetime(2027, 5, 1)})]
    path = tmp_path / "in.xlsx"
    _write(path, rows_, [], merge=False, second_header=True, extra_col=True, sheet_missing=False)
    res = batch.run_batch(path, jobs=1)
    out = tmp_path / "r.xlsx"
    write_results(res, out)
    a, b = read_book(path).sheets["projecten"], read_book(out).sheets["projecten"]
    assert [r[1] for r in a.rows] == [r[1] for r in b.rows] and a.keys == b.keys
    assert batch.run_batch(out, jobs=1).counts == res.counts
