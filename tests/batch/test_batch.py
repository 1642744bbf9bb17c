"""Batch library: Excel == TOML, invoer round trip, cell rules, error locations, counts."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from stikstofcalc.batch import run as batch
from stikstofcalc.assessment.core import assess_project
from stikstofcalc.io.excel.reader import NO_CACHED_VALUE, read_book
from stikstofcalc.io.excel.results import write_results
from stikstofcalc.io.excel.schema import PROJECTEN, Column
from stikstofcalc.io.excel.template import write_template

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch")
    tpl = tmp / "zaken.xlsx"
    write_template(tpl)
    digest = hashlib.sha256(tpl.read_bytes()).hexdigest()
    res = batch.run_batch(tpl)
    out = write_results(res, tmp / "resultaten.xlsx")
    return tpl, digest, res, out


def test_template_examples_equal_toml(run):
    """The two example rows are the TOML examples: identical results (Excel == TOML)."""
    _, _, res, _ = run
    assert res.counts["read"] == 2 and res.counts["valid"] == 2 and res.counts["errors"] == 0
    for toml, case in (("dorp_kleine_uitbreiding.toml", "Dorpsrand Oost (24 woningen)"),
                       ("utiliteit_distributiecentrum.toml", "Distributiecentrum Harselaar-Zuid")):
        a = assess_project(EXAMPLES / toml, measures=False)
        got = res.results[res.results["case"] == case]
        assert list(got["year"]) == [r["year"] for r in a.results]
        assert list(got["max_deposition"]) == [r["max_deposition"] for r in a.results]
        assert list(got["n_hexagons_above"]) == [r["n_hexagons_above"] for r in a.results]
        assert list(got["receptor_id"]) == [r["receptor_id"] for r in a.results]


def test_input_unchanged_and_output_refused(run, tmp_path):
    tpl, digest, res, out = run
    assert hashlib.sha256(tpl.read_bytes()).hexdigest() == digest
    with pytest.raises(batch.InputError, match="bestaat al"):
        write_results(res, out)
    with pytest.raises(batch.InputError, match="invoerbestand"):
        write_results(res, tpl, overwrite=True)


def test_results_workbook_layout(run):
    _, _, res, out = run
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:5] == ["resultaten", "bronnen", "fouten", "invoer", "invoer_onderdelen"]
    assert "herkomst" in wb.sheetnames
    ws = wb["resultaten"]
    assert ws.freeze_panes == "B3" and ws.conditional_formatting
    keys = [c.value for c in ws[2]]
    assert keys[:4] == ["case", "phase", "year", "verdict"]
    j = keys.index("max_deposition") + 1
    assert ws.cell(3, j).number_format == "0.000000"
    assert len(list(ws.iter_rows(min_row=3))) == len(res.results)
    herk = {r[2]: r[1] for r in wb["herkomst"].iter_rows(min_row=2, values_only=True)}
    assert herk["kengetallen.edition"] and herk["input_sha256"] and "OPS" in herk["model"]
    assert len(list(wb["bronnen"].iter_rows(min_row=3))) == len(res.sources)


def test_rerun_invoer_gives_identical_results(run):
    _, _, res, out = run
    again = batch.run_batch(out)
    pd.testing.assert_frame_equal(again.results.drop(columns="notes"), res.results.drop(columns="notes"))
    assert again.counts["read"] == res.counts["read"]


# ---------------------------------------------------------------- cell rules


Q = Column("q", "q (m)", "quantity", "m")
N = Column("n", "n", "count")
D = Column("d", "d", "date")


@pytest.mark.parametrize("raw, col, expected", [
    (None, Q, batch._ABSENT), ("  ", Q, batch._ABSENT), (12, Q, 12), ("1,2 km", Q, "1,2 km"),
    (24.0, N, 24), ("24", N, 24), ("24,0", N, 24), (24.5, N, 24.5),
    (dt.datetime(2027, 3, 1), D, dt.date(2027, 3, 1)), ("15-3-2027", D, dt.date(2027, 3, 15)),
    ("3-2027", D, "2027-03"), ("2027-03", D, "2027-03"), (12.0, Column("i", "i", "id"), "12"),
])
def test_cell_rules(raw, col, expected):
    assert batch.cell_value(raw, col) == expected


@pytest.mark.parametrize("raw, col", [
    (dt.datetime(2027, 1, 2), Q), ("24,5", N), ("2.500", N), (NO_CACHED_VALUE, Q), (True, N),
    (5, D), ("31-2-2027", D), (float("inf"), Q),
])
def test_cell_errors(raw, col):
    with pytest.raises(batch.CellError):
        batch.cell_value(raw, col)


# ---------------------------------------------------------------- validation


def _book(tmp_path, projecten, **detail):
    from stikstofcalc.io.excel.schema import SHEET_BY_NAME

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in {"projecten": projecten, **detail}.items():
        sheet = SHEET_BY_NAME[name]
        ws = wb.create_sheet(name)
        ws.append([c.label for c in sheet.columns])
        ws.append(sheet.keys)
        for r in rows:
            ws.append([r.get(k) for k in sheet.keys])
    path = tmp_path / "in.xlsx"
    wb.save(path)
    return path


BASE = {"case_id": "A", "location.x": 201500, "location.y": 455200, "construction.start": "2027-03",
        "construction.duration": "10 maanden", "component.type": "grondgebonden_woningen",
        "component.count": 16, "component.home_type": "tussen_hoek", "route.road_type": "stad_normaal",
        "route.length": "0,9 km", "route.bearing": 200}


def test_errors_name_sheet_row_and_column(tmp_path):
    rows = [BASE, {**BASE, "case_id": "B", "component.count": "veel"},
            {**BASE, "case_id": "C", "route.length": "2.500"}, {**BASE, "case_id": "A"},
            {**BASE, "case_id": None, "description": "geen id"}]
    path = _book(tmp_path, rows, onderdelen=[{"case_id": "B", "type": "sloop", "floor_area": "-3 m2"},
                                             {"case_id": "X", "type": "sloop"}])
    v = batch.validate_book(read_book(path))
    p = pd.DataFrame(v.problems)
    assert v.n_read == 5 and len(v.cases) + len(v.invalid) == v.n_read and len(v.cases) == 0
    b = p[p["zaak"] == "B"]
    assert {(r.blad, r.rij, r.sleutel) for r in b.itertuples()} >= {
        ("projecten", 4, "component.count"), ("onderdelen", 3, "floor_area")}
    c = p[p["zaak"] == "C"].iloc[0]
    assert (c["rij"], c["sleutel"], c["waarde"]) == (5, "route.length", "2.500")
    assert set(p.loc[p["zaak"] == "A", "rij"]) == {3, 6}
    assert ((p["blad"] == "onderdelen") & (p["rij"] == 4)).any()  # orphan row X
    assert ((p["rij"] == 7) & (p["sleutel"] == "case_id")).any()


def test_machines_and_outline_map_onto_project(tmp_path):
    path = _book(tmp_path, [BASE],
                 werktuigen=[{"case_id": "A", "component": 1, "category": "AUB_D", "fuel": "1000 L",
                              "hours": 100},
                             {"case_id": "A", "component": 3, "category": "AUB_D", "hours": 10}],
                 terrein=[{"case_id": "A", "x": 201400, "y": 455100}, {"case_id": "A", "x": 201600, "y": 455100},
                          {"case_id": "A", "x": 201600, "y": 455300}])
    v = batch.validate_book(read_book(path))
    assert [p["sleutel"] for p in v.problems] == ["component"]
    path = _book(tmp_path, [BASE],
                 werktuigen=[{"case_id": "A", "category": "AUB_D", "fuel": "1000 L", "hours": 100}],
                 terrein=[{"case_id": "A", "x": 201400, "y": 455100}, {"case_id": "A", "x": 201600, "y": 455100},
                          {"case_id": "A", "x": 201600, "y": 455300}])
    v = batch.validate_book(read_book(path))
    assert not v.problems, v.problems
    proj = v.cases[0].project
    assert proj.components[0].machines[0].fuel_l == 1000.0
    assert len(proj.location.outline) == 3


def test_own_receptors_on_the_receptoren_sheet(tmp_path):
    """Rows on `receptoren` are the case's own receptors (any row crashed the batch with a
    TypeError); the result equals calc with the same receptors as a file."""
    rec = [{"case_id": "A", "x": 201900, "y": 455600, "kdw": 1000, "background_deposition": 1200},
           {"case_id": "A", "x": 203000, "y": 456000, "kdw": 700, "background_deposition": 1500}]
    path = _book(tmp_path, [BASE, {**BASE, "case_id": "B"}], receptoren=rec)
    res = batch.run_batch(path, jobs=1)
    assert not len(res.problems), res.problems
    r = res.results
    a, b = r[r["case"] == "A"], r[r["case"] == "B"]
    assert set(zip(a["x"], a["y"])) <= {(201900.0, 455600.0), (203000.0, 456000.0)}
    assert not set(zip(b["x"], b["y"])) & {(201900.0, 455600.0), (203000.0, 456000.0)}
    assert (a["max_deposition"] > 0).all()
    csv = tmp_path / "rec.csv"
    pd.DataFrame([{k: v for k, v in x.items() if k != "case_id"} for x in rec]).to_csv(csv, index=False)
    proj = batch.validate_book(read_book(path)).cases[0].project
    ref = assess_project(proj, receptors=csv, measures=False).to_dict()["results"]
    assert sorted(a["max_deposition"]) == pytest.approx(sorted(x["max_deposition"] for x in ref), rel=1e-9)


def test_receptor_terrain_on_the_receptoren_sheet(tmp_path):
    """z0_m and landuse on `receptoren` are the hexagons' own terrain, as in a receptor file
    for calc; a bad z0_m makes that case invalid with sheet, row and field."""
    rec = [{"case_id": "A", "x": 201900, "y": 455600, "z0_m": 1.5, "landuse": 4},
           {"case_id": "A", "x": 203000, "y": 456000}]
    path = _book(tmp_path, [BASE], receptoren=rec)
    res = batch.run_batch(path, jobs=1)
    assert not len(res.problems), res.problems
    csv = tmp_path / "rec.csv"
    pd.DataFrame([{k: v for k, v in x.items() if k != "case_id"} for x in rec]).to_csv(csv, index=False)
    proj = batch.validate_book(read_book(path)).cases[0].project
    ref = assess_project(proj, receptors=csv, measures=False).to_dict()["results"]
    plain = pd.DataFrame([{"x": x["x"], "y": x["y"]} for x in rec])
    plain.to_csv(tmp_path / "plain.csv", index=False)
    flat = assess_project(proj, receptors=tmp_path / "plain.csv", measures=False).to_dict()["results"]
    got = sorted(res.results["max_deposition"])
    assert got == pytest.approx(sorted(x["max_deposition"] for x in ref), rel=1e-9)
    assert res.results["notes"].str.contains("terrein uit het receptorbestand: eigen ruwheid (z0_m) bij 1",
                                             regex=False).all()
    assert got != pytest.approx(sorted(x["max_deposition"] for x in flat), rel=1e-3)
    bad = _book(tmp_path, [BASE], receptoren=[{**rec[0], "z0_m": 0}])
    v = batch.validate_book(read_book(bad))
    (p,) = [p for p in v.problems if p["sleutel"] == "z0_m"]
    assert p["blad"] == "receptoren" and p["rij"] == 3 and p["zaak"] == "A"  # label row, key row, data


def test_receptoren_sheet_units_percentages_and_sheet_rows(tmp_path):
    """'0,5 m' in a z0 cell reads as 0.5 m (as units on the other sheets); lu_1..lu_9 are read;
    a hexagon given two terrains names the sheet's rows, not those of an internal file."""
    rec = [{"case_id": "A", "x": 201900, "y": 455600, "z0_m": "50 cm", "lu_1": 40, "lu_4": 60},
           {"case_id": "A", "x": 203000, "y": 456000}]
    path = _book(tmp_path, [BASE], receptoren=rec)
    v = batch.validate_book(read_book(path))
    assert not v.problems, v.problems
    r = v.cases[0].receptors
    assert r["z0_m"].tolist()[0] == 0.5 and r["lu_4"].tolist()[0] == 60
    twice = [{"case_id": "A", "x": 201900, "y": 455600, "z0_m": 0.3},
             {"case_id": "A", "x": 201905, "y": 455605, "z0_m": 1.2}]
    v = batch.validate_book(read_book(_book(tmp_path, [BASE], receptoren=[rec[1]] + twice)))
    (p,) = v.problems
    assert p["blad"] == "receptoren" and p["rij"] == 4 and "de rijen 4, 5" in p["melding"], p
    v = batch.validate_book(read_book(_book(tmp_path, [BASE], receptoren=[{**rec[1], "z0_m": "2 mi"}])))
    (p,) = v.problems
    assert p["rij"] == 3 and p["sleutel"] == "z0_m" and "metrisch" in p["melding"] + p["verwacht"], p


def test_missing_and_empty_sheets(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "iets anders"
    wb.create_sheet("projecten")
    path = tmp_path / "leeg.xlsx"
    wb.save(path)
    v = batch.validate_book(read_book(path))
    assert v.n_read == 0 and v.problems
    wb.remove(wb["projecten"])
    wb.save(path)
    v = batch.validate_book(read_book(path))
    assert any("ontbreekt" in p["melding"] for p in v.problems)


def test_csv_semicolon_dutch(tmp_path):
    keys = ["case_id", "location.x", "location.y", "construction.start", "construction.duration",
            "component.type", "component.count", "component.home_type", "route.road_type", "route.length",
            "route.bearing", "opmerking"]
    vals = ["A", "201500", "455200", "1-3-2027", "10 maanden", "grondgebonden_woningen", "16",
            "tussen_hoek", "stad_normaal", "0,9 km", "200", "eigen kolom"]
    path = tmp_path / "z.csv"
    path.write_text(";".join(keys) + "\n" + ";".join(vals) + "\n", encoding="utf-8-sig")
    v = batch.validate_book(read_book(path))
    assert len(v.cases) == 1 and [p["niveau"] for p in v.problems] == ["waarschuwing"]
    p = v.cases[0].project
    assert p.construction.start == dt.date(2027, 3, 1) and p.routes[0].length_m == 900.0


def test_formula_without_cached_value(tmp_path):
    path = _book(tmp_path, [{**BASE, "component.count": "=10+6"}])
    v = batch.validate_book(read_book(path))
    assert len(v.invalid) == 1
    assert v.problems[0]["sleutel"] == "component.count" and "formule" in v.problems[0]["melding"]


def test_label_only_header(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "projecten"
    ws.append([PROJECTEN.column(k).label for k in BASE])
    ws.append(list(BASE.values()))
    path = tmp_path / "labels.xlsx"
    wb.save(path)
    v = batch.validate_book(read_book(path))
    assert len(v.cases) == 1 and not v.problems


def test_half_a_location_is_reported_not_a_crash(tmp_path):
    """x filled, y empty (with a route by length and bearing): "location incomplete" in fouten,
    not an internal TypeError in the route builder."""
    from stikstofcalc.errors import InputError
    from stikstofcalc.emissions.project import parse_project

    doc = {"name": "half", "location": {"x": 201500},
           "construction": {"start": "2027-03", "duration": "10 maanden"},
           "components": [{"type": "grondgebonden_woningen", "count": 16, "home_type": "tussen_hoek"}],
           "routes": [{"road_type": "stad_normaal", "length": "0,9 km", "bearing": 200}]}
    with pytest.raises(InputError) as exc:
        parse_project(doc)
    assert "veld location.y: ontbreekt; verwacht: y naast x" in str(exc.value)
    assert "TypeError" not in str(exc.value)
    path = _book(tmp_path, [{**BASE, "location.y": None}])
    v = batch.validate_book(read_book(path))
    assert not v.cases and len(v.invalid) == 1
    (p,) = v.problems
    assert (p["veld"], p["melding"], p["rij"], p["kolom"]) == ("location.y", "ontbreekt", 3, "y (RD, m)")
    assert "interne fout" not in p["melding"]


@pytest.mark.parametrize("sheet, row, key, label, veld", [
    ("projecten", {"location.x": None}, "location.x", "x (RD, m)", "location.x"),
    ("projecten", {"location.x": None, "location.y": None}, "location.x", "x (RD, m)", "location.x"),
    ("projecten", {"construction.start": None}, "construction.start", "start bouw (jjjj-mm of datum)",
     "construction.start"),
    ("projecten", {"component.type": None}, "component.type", "projecttype", "components[0].type"),
    ("projecten", {"component.count": None}, "component.count", "aantal woningen", "components[0].count"),
    ("projecten", {"route.length": None}, "route.length", "routelengte (m)", "routes[0].length"),
    ("projecten", {"route.road_type": None}, "route.road_type", "wegtype", "routes[0].road_type"),
    ("onderdelen", {"case_id": "A", "count": 3}, "type", "projecttype", "components[1].type"),
    ("werktuigen", {"case_id": "A", "hours": 10}, "category", "AERIUS-categorie",
     "components[0].machines[0].category"),
    ("routes", {"case_id": "A", "road_type": "stad_normaal", "share": 0.5}, "length", "routelengte (m)",
     "routes[1].length"),
    ("terrein", {"case_id": "A", "y": 455100}, "x", "x (RD, m)", "location.outline"),
    ("receptoren", {"case_id": "A", "y": 455600, "kdw": 1000, "background_deposition": 1200}, "x",
     "x (RD, m)", None),
])
def test_every_empty_required_cell_is_named_in_fouten(tmp_path, sheet, row, key, label, veld):
    """An empty required cell gives a ``fouten`` row naming its sheet, row, column (label and
    key) and project field: an empty x had no column, an empty x on terrein dropped the vertex."""
    if sheet == "projecten":
        path = _book(tmp_path, [{**BASE, **row}])
    else:
        base = {**BASE, "route.share": 0.5} if sheet == "routes" else BASE
        path = _book(tmp_path, [base], **{sheet: [row]})
    v = batch.validate_book(read_book(path))
    assert not v.cases
    hits = [p for p in v.problems if p["sleutel"] == key and p["blad"] == sheet]
    assert hits, v.problems
    p = hits[0]
    assert (p["rij"], p["kolom"], p["melding"], p["veld"], p["zaak"]) == (3, label, "ontbreekt", veld, "A")
    assert all(p["kolom"] is not None for p in v.problems), v.problems


def test_empty_x_in_the_fouten_sheet_of_the_workbook(tmp_path):
    """The results workbook's ``fouten`` sheet itself names the empty x's column."""
    path = _book(tmp_path, [{**BASE, "location.x": None}, {**BASE, "case_id": "B"}])
    res = batch.run_batch(path, jobs=1)
    out = write_results(res, tmp_path / "uit.xlsx")
    rows = list(openpyxl.load_workbook(out)["fouten"].iter_rows(min_row=3, values_only=True))
    assert rows == [("A", "projecten", 3, "x (RD, m)", "location.x", None, "ontbreekt",
                     "x naast y (RD New, m)", "location.x", "fout")]


def test_an_empty_x_in_a_source_list_names_its_column_and_field(tmp_path):
    path = tmp_path / "bronnen.csv"
    path.write_text("case_id,source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr\n"
                    "A,S1,,458930,2.5,0.035,180,0.3\nB,S1,172240,458930,2.5,0.035,180,0.3\n")
    res = batch.run_source_batch(path)
    (p,) = res.problems.to_dict("records")
    assert (p["zaak"], p["rij"], p["kolom"], p["sleutel"], p["veld"], p["melding"]) == (
        "A", 2, "x", "x", "x", "ontbreekt")


def test_streamed_sheets_keep_every_value(run, tmp_path):
    """``resultaten`` and ``bronnen`` are written as XML directly (excel.stream): every
    number exactly (shortest round trip), text escaped, formats per column, empty cells."""
    import dataclasses

    _, _, res, _ = run
    src = res.sources.copy()
    src.loc[0, "notes"] = "a < b & c > d \x01 =SUM(A1)"
    src.loc[1, "label"] = "  spaties  "
    src.loc[0, "nox_kg_per_yr"] = float("nan")
    src.loc[1, "nox_kg_per_yr"] = 0.1 + 0.2
    out = write_results(dataclasses.replace(res, sources=src), tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(out)["bronnen"]
    keys = [c.value for c in ws[2]]
    rows = list(ws.iter_rows(min_row=3))
    assert len(rows) == len(src)
    assert rows[0][keys.index("notes")].value == "a < b & c > d \\x01 =SUM(A1)"
    assert rows[1][keys.index("label")].value == "  spaties  "
    assert rows[0][keys.index("nox_kg_per_yr")].value is None
    assert rows[1][keys.index("nox_kg_per_yr")].value == 0.1 + 0.2
    assert rows[1][keys.index("nox_kg_per_yr")].number_format == "#,##0.000"
    assert rows[2][keys.index("case")].value == src["case"].iloc[2]
    for k in ("height_m", "fuel_l", "year"):
        got = [r[keys.index(k)].value for r in rows[2:]]
        assert got == src[k].iloc[2:].tolist()
    assert rows[2][keys.index("uses_estimate")].value in ("ja", "nee")


def test_herkomst_records_the_engine_path(run):
    """README: the provenance says which engine path ran (numba or the numpy reference)."""
    _, _, _, out = run
    rows = {k: v for _, v, k in openpyxl.load_workbook(out)["herkomst"].iter_rows(min_row=2, values_only=True)}
    assert rows["engine_path"] == "numba (fast)"


def test_herkomst_is_in_dutch_with_the_keys_beside(run):
    """The herkomst sheet was English (package, created, method: "per chunk of cases ...",
    rules: "A largest increase ..."): now a Dutch label per row, the value, and the key of the
    provenance JSON; names of tables and files stay as they are."""
    from stikstofcalc.io.herkomst import LABELS_NL

    _, _, _, out = run
    ws = openpyxl.load_workbook(out)["herkomst"]
    head, *rows = list(ws.iter_rows(values_only=True))
    assert head == ("onderdeel", "waarde", "sleutel")
    by_key = {k: (label, v) for label, v, k in rows}
    assert by_key["package"][0] == "programma"
    assert by_key["aantallen.read"] == ("aantallen: gelezen", 2)
    assert by_key["kengetallen.edition"][0] == "kengetallen: editie"
    assert by_key["kengetallen.hashes.sources"][0] == "kengetallen: controlegetal (sha256): sources"
    assert by_key["regime_default.in_force"] == ("standaardregime: van kracht", "ja")
    assert by_key["method"][0] == "methode" and by_key["method"][1].startswith("per blok van zaken: ")
    label, rule = by_key["regime_default.rules.threshold"]
    assert label == "standaardregime: regels: drempel"
    assert rule.startswith("Een grootste toename onder 0,005 mol/ha/jr op een relevante hexagon")
    english = {"package", "created", "command", "method", "rules", "threshold", "note", "edition", "model"}
    for label, _, key in rows:  # every part of every label is Dutch or a name
        assert not set(label.split(": ")) & english, (label, key)
        assert all(p in LABELS_NL for p in key.split(".")[:1]), key  # top level: all labelled


def test_a_failure_while_filling_the_workbook_leaves_no_open_sheets(run, tmp_path, monkeypatch):
    """The workbook is discarded whatever fails after it is taken, not only the save: no
    "Exception ignored" per unclosed sheet later, no output file."""
    import gc
    import sys

    from stikstofcalc.io.excel import results as R

    _, _, res, _ = run
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    def broken(*a, **k):
        raise RuntimeError("kapot")

    monkeypatch.setattr(R, "_verdict_formatting", broken)
    with pytest.raises(RuntimeError, match="kapot"):
        write_results(res, tmp_path / "r.xlsx")
    gc.collect()
    assert unraisable == [] and not (tmp_path / "r.xlsx").exists()


def test_a_detail_row_whose_case_id_differs_in_capitals_invalidates_that_case(tmp_path):
    """A part typed under 'a' while the case is 'A' belongs to A: computed without it, A
    would lose its part (and could show a false 0,00), so A is invalid, with a hint."""
    path = _book(tmp_path, [{**BASE, "case_id": "Dorpsrand Oost"}, {**BASE, "case_id": "B"}],
                 onderdelen=[{"case_id": "dorpsrand  oost", "type": "sloop", "floor_area": "3000 m2"}])
    v = batch.validate_book(read_book(path))
    assert [c.case_id for c in v.cases if not [p for p in c.problems if p["niveau"] == "fout"]] == ["B"]
    p = pd.DataFrame(v.problems)
    row = p[(p["blad"] == "onderdelen") & (p["rij"] == 3)].iloc[0]
    assert row["zaak"] == "Dorpsrand Oost" and "bedoelt u 'Dorpsrand Oost'" in row["melding"]


@pytest.mark.parametrize("x, needle", [("201400 ft", "ft is geen metrische eenheid"),
                                       ("201.400", "dubbelzinnig")])
def test_terrein_cell_with_a_bad_unit_names_the_cell(tmp_path, x, needle):
    """'201400 ft' (or an ambiguous '201.400') on terrein: one fouten row naming the sheet, row
    and key of the cell; it was a row without column whose value was the whole outline."""
    corners = [{"case_id": "A", "x": 201400, "y": 455100}, {"case_id": "A", "x": x, "y": 455100},
               {"case_id": "A", "x": 201600, "y": 455300}]
    v = batch.validate_book(read_book(_book(tmp_path, [BASE], terrein=corners)))
    (p,) = v.problems
    assert (p["blad"], p["rij"], p["sleutel"], p["waarde"]) == ("terrein", 4, "x", x)
    assert needle in p["melding"] + p["verwacht"], p
    ok = [{**c, "x": "201,5 km"} if i == 1 else c for i, c in enumerate(corners)]
    v = batch.validate_book(read_book(_book(tmp_path, [BASE], terrein=ok)))
    assert not v.problems and v.cases[0].project.location.outline[1][0] == 201500.0


def test_count_cells_with_their_word_and_one_row_per_bad_cell(tmp_path):
    """'16 woningen' in 'aantal woningen' is 16 (the word of the label); a count that is no number
    gives one fouten row for its cell (it gave a second 'ontbreekt' row for the same column)."""
    v = batch.validate_book(read_book(_book(tmp_path, [{**BASE, "component.count": "16 woningen"}])))
    assert not v.problems, v.problems
    assert v.cases[0].project.components[0].count == 16
    v = batch.validate_book(read_book(_book(tmp_path, [{**BASE, "component.count": "zestien"}])))
    (p,) = v.problems
    assert p["sleutel"] == "component.count" and "geen geheel getal" in p["melding"]


def test_receptoren_kdw_with_its_unit(tmp_path):
    """'1500 mol/ha/jr' in the KDW column (the unit of its own label) is 1500; it was refused as
    'verkeerde eenheid ... een getal zonder eenheid'."""
    rec = [{"case_id": "A", "x": 201900, "y": 455600, "kdw": "1500 mol/ha/jr", "background_deposition": "1.600,5"}]
    v = batch.validate_book(read_book(_book(tmp_path, [BASE], receptoren=rec)))
    assert not v.problems, v.problems
    r = v.cases[0].receptors
    assert r["kdw"].tolist() == [1500.0] and r["background_deposition"].tolist() == [1600.5]


def test_count_word_must_be_the_columns_own():
    """'16 woningen' reads in 'aantal woningen', but '16 machines' there, or '4 stuks' as a
    land-use class, is refused (no silent coercion)."""
    from stikstofcalc.batch.run import CellError, _whole

    assert _whole("16 woningen", "aantal woningen") == 16
    for text, label in (("16 machines", "aantal woningen"), ("4 stuks", "landgebruiksklasse (OPS 1-9)")):
        with pytest.raises(CellError):
            _whole(text, label)


def test_rerunning_a_results_workbook_reports_the_same_problems(tmp_path):
    """Invalid cases echoed in 'invoer' keep their cells: a re-run of the results workbook
    names the same problems (melding, kolom, rij) as the first run, only the sheet is
    'invoer'; a formula without stored value comes back as its text, not as a formula."""
    rows = [BASE, {**BASE, "case_id": "E", "component.count": "24,5"},
            {**BASE, "case_id": "F", "component.count": dt.datetime(2027, 3, 1)},
            {**BASE, "case_id": "K", "component.count": "=10*13"}]
    path = _book(tmp_path, rows, onderdelen=[{"case_id": "K", "type": "sloop", "floor_area": "300 m2"}])
    first = batch.run_batch(path)
    out = write_results(first, tmp_path / "r1.xlsx")
    again = batch.run_batch(out)
    cols = ["zaak", "rij", "kolom", "sleutel", "melding"]
    assert len(first.problems) == 3
    pd.testing.assert_frame_equal(again.problems[cols].reset_index(drop=True),
                                  first.problems[cols].reset_index(drop=True))
    assert set(first.problems["blad"]) == {"projecten"} and set(again.problems["blad"]) == {"invoer"}
    assert again.counts["invalid"] == first.counts["invalid"] == 3
    cells = [c for row in openpyxl.load_workbook(out)["invoer"].iter_rows() for c in row
             if c.value == "=10*13"]
    assert len(cells) == 1 and cells[0].data_type == "s"
