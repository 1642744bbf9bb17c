"""Issue 12 section 3/5: calc on a source list (deposition format, emissions output, IMAER GML),
results per hexagon (CSV, GeoPackage) and AERIUS receptor sets (GML ReceptorPoints, GeoPackage)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main
from stikstofcalc.errors import MultipleInputErrors
from stikstofcalc.io.gpkg import HEX_RADIUS_M, hexagon_centres, hexagon_rings, write_gpkg
from stikstofcalc.geo.receptors import read_receptor_file
from stikstofcalc.assessment.source_list import assess_source_list, read_source_files

ROOT = Path(__file__).resolve().parents[2]
IMAER = ROOT.parent / "shared" / "reference" / "imaer"
if not IMAER.is_dir():
    IMAER = Path("/work/shared/reference/imaer")
needs_imaer = pytest.mark.skipif(not IMAER.is_dir(), reason="../shared/reference/imaer absent")

SRC = ("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,case_id,phase,year,sector_id\n"
       "M1,172240,458930,,,300,0.5,A,realisatie,2027,3220\n"
       "V1,172240,458930,2.5,0,50,1,A,gebruik,2029,3100\n"
       "M1,120000,480000,2.5,0.035,10,0,B,TEMPORARY,2028,3220\n")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_read_source_list_defaults_and_aliases(tmp_path):
    p = tmp_path / "bronnen.csv"
    p.write_text(SRC, encoding="utf-8")
    sl = read_source_files(p)
    t = sl.table
    assert sl.cases == ["A", "B"]
    assert list(t["phase"]) == ["realisatie", "gebruik", "realisatie"]
    assert list(t["year"]) == [2027, 2029, 2028]
    assert t["geometry_wkt"].iloc[0] == "POINT (172240.0 458930.0)"
    assert list(t["heat_given"]) == [False, True, True]
    assert t["height_m"].iloc[0] == 2.5  # sector 3220 default
    # emission-table names (nomenclature.md) are aliases of the deposition format's
    q = tmp_path / "b2.csv"
    q.write_text(SRC.replace("nox_kg_yr", "nox_kg_per_yr").replace("nh3_kg_yr", "nh3_kg_per_yr")
                 .replace(",x,y,", ",x_m,y_m,").replace("case_id", "case"), encoding="utf-8")
    t2 = read_source_files(q).table
    assert t2[["nox_kg_per_yr", "nh3_kg_per_yr", "geometry_wkt", "case"]].equals(
        t[["nox_kg_per_yr", "nh3_kg_per_yr", "geometry_wkt", "case"]])


def test_bad_source_list_names_row_and_column(tmp_path):
    p = tmp_path / "b.csv"
    p.write_text(SRC.replace("realisatie,2027", "bouwen,20x7").replace("300,0.5", "veel,0.5"), encoding="utf-8")
    with pytest.raises(MultipleInputErrors) as e:
        read_source_files(p)
    text = str(e.value)
    assert "phase" in text and "bouwen" in text and "year" in text and "20x7" in text and "nox_kg_yr" in text
    r = run("calc", p)
    assert r.exit_code == 2


def test_coordinates_typed_beside_a_geometry_are_refused(tmp_path):
    """x, y next to geometry_wkt: one rule for both spellings (x, y and the emissions output's
    x_m, y_m) -- a point within the geometry's extent is accepted (the geometry gives the
    location), one outside it or half a point is refused, by calc and deposition alike."""
    poly = '"POLYGON ((172120 458840, 172280 458815, 172295 458905, 172120 458840))"'
    p = tmp_path / "b.csv"
    for names in ("x,y", "x_m,y_m"):
        p.write_text(f"source_id,{names},height_m,heat_mw,nox_kg_yr,nh3_kg_yr,geometry_wkt\n"
                     f"S1,150000,400000,2.5,0,100,1,{poly}\n", encoding="utf-8")
        with pytest.raises(MultipleInputErrors) as e:
            read_source_files(p, default_year=2027)
        assert {x.field for x in e.value.errors} == {"x", "y"} and "niet binnen die geometrie" in str(e.value)
        p.write_text(f"source_id,{names},height_m,heat_mw,nox_kg_yr,nh3_kg_yr,geometry_wkt\n"
                     f"S1,172200,458860,2.5,0,100,1,{poly}\n", encoding="utf-8")
        t = read_source_files(p, default_year=2027).table
        assert len(t) == 1 and t["geometry_wkt"].iloc[0].startswith("POLYGON")
    p.write_text("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,geometry_wkt\n"
                 f"S1,172200,,2.5,0,100,1,{poly}\n", encoding="utf-8")
    with pytest.raises(MultipleInputErrors) as e:
        read_source_files(p, default_year=2027)
    assert {x.field for x in e.value.errors} == {"x"}
    r = run("deposition", p, ROOT / "examples" / "receptors.csv", "-o", tmp_path / "d.csv")
    assert r.exit_code == 2 and "niet binnen die geometrie" in r.output


AERIUS = ROOT.parent / "shared" / "reference" / "aerius_results" / "sources.csv.gz"


@pytest.mark.skipif(not AERIUS.is_file(), reason="../shared/reference/aerius_results absent")
def test_aerius_source_list_is_read_as_is(tmp_path):
    """AERIUS's own source lists carry x, y (a point of the source) beside the geometry."""
    s = pd.read_csv(AERIUS)
    p = tmp_path / "kopros.csv"
    s[s["case"] == "kopros"].to_csv(p, index=False)
    t = read_source_files(p, default_year=2024).table
    assert len(t) == (s["case"] == "kopros").sum()


@pytest.mark.slow
def test_calc_on_source_list_equals_direct_engine(tmp_path):
    """The realisation of case A is one point of 300 kg NOx: the largest deposition equals the
    engine on the same receptors (linearity path = direct call)."""
    from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays
    from stikstofcalc.geo.receptors import default_receptors

    p = tmp_path / "bronnen.csv"
    p.write_text(SRC, encoding="utf-8")
    a = assess_source_list(p)
    assert [x.case for x in a] == ["A", "B"]
    ra = {(r["phase"], r["year"]): r for r in a[0].results}
    r = ra[("realisatie", 2027)]
    rec = default_receptors(np.array([172240.0]), np.array([458930.0]), np.array([np.nan]), np.array([np.nan]))
    d = deposition_arrays(SourceArrays(x=[172240.0], y=[458930.0], height_m=[2.5], heat_mw=[0.0],
                                       nox_kg_yr=[300.0], nh3_kg_yr=[0.5], spread_m=[1.3]),
                          ReceptorArrays(x=rec["x"].to_numpy(), y=rec["y"].to_numpy())).total
    assert r["max_deposition"] == pytest.approx(float(d.max()), rel=1e-9)
    assert r["sensitivity"]["applies"] and r["sensitivity"]["max_deposition"] < r["max_deposition"]
    assert ra[("gebruik", 2029)]["sensitivity"]["applies"] is False  # heat given in the file
    assert r["headroom"]["nox_kg_per_yr"] == pytest.approx(300.0 * 0.005 / r["max_deposition"])
    out = tmp_path / "r.json"
    res = run("calc", p, "-o", out, "--per-hexagon", tmp_path / "hex.csv")
    assert res.exit_code == 0, res.output
    assert 'voortoets stikstofdepositie "A"' in res.output and '"B"' in res.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["schema"] == "stikstofcalc.calc-cases/1" and len(doc["cases"]) == 2
    hexes = pd.read_csv(tmp_path / "hex.csv")
    sub = hexes[(hexes["case"] == "A") & (hexes["phase"] == "realisatie")]
    assert sub["deposition_total_mol_ha_yr"].max() == pytest.approx(r["max_deposition"], rel=1e-9)
    assert (sub["deposition_total_mol_ha_yr"] >= 0.005).sum() == r["n_hexagons_above"]
    raw = pd.read_csv(tmp_path / "hex.csv", dtype=str)  # centres in cm, as in the JSON (review)
    assert raw["x"].str.fullmatch(r"\d+(\.\d{1,2})?").all() and raw["y"].str.fullmatch(r"\d+(\.\d{1,2})?").all()


@pytest.mark.slow
def test_emissions_output_feeds_calc(tmp_path):
    """`stikstofcalc emissions` output goes straight into calc: same maxima as the project
    where the project's geometry is in the table (a site without outline: a point)."""
    from stikstofcalc.assessment.core import assess_project

    proj = ROOT / "examples" / "dorp_ver_van_natuur.toml"
    out = tmp_path / "emissies.csv"
    r = run("emissions", proj, "-o", out)
    assert r.exit_code == 0, r.output
    a = assess_source_list(out)[0]
    b = assess_project(proj, measures=False)
    got = {(x["phase"], x["year"]): x["max_deposition"] for x in a.results}
    for x in b.results:
        assert got[(x["phase"], x["year"])] == pytest.approx(x["max_deposition"], rel=0.05), x["phase"]


@needs_imaer
def test_imaer_situations_become_phases():
    files = [IMAER / f"situation_type_{s}.gml" for s in ("temporary", "proposed", "reference")]
    sl = read_source_files(files)
    assert sorted(sl.table["phase"]) == ["gebruik", "realisatie", "referentie"]
    assert (sl.table["year"] == 2013).all() and (sl.table["nox_kg_per_yr"] == 20000).all()
    assert sl.table["heat_mw"].iloc[0] == pytest.approx(2.85, abs=0.01)
    off = read_source_files([IMAER / "offroad_adblue.gml"]).table
    assert not off["heat_given"].any() and (off["phase"] == "gebruik").all()


@needs_imaer
def test_imaer_bad_situation_type_and_mixing(tmp_path):
    text = (IMAER / "situation_type_proposed.gml").read_text(encoding="utf-8")
    bad = tmp_path / "x.gml"
    bad.write_text(text.replace(">PROPOSED<", ">OFF_SITE_REDUCTION<"), encoding="utf-8")
    with pytest.raises(MultipleInputErrors, match="OFF_SITE_REDUCTION"):
        read_source_files([bad])
    csv = tmp_path / "b.csv"
    csv.write_text(SRC, encoding="utf-8")
    r = run("calc", bad, csv)
    assert r.exit_code == 2


def test_hexagon_geometry_matches_aerius_ids():
    # ids next to each other in a row are 3 r apart; the hexagon has 1 ha
    x, y = hexagon_centres([4439600, 4439601])
    assert x[1] - x[0] == pytest.approx(3 * HEX_RADIUS_M)
    ring = hexagon_rings(x[:1], y[:1])[0]
    area = 0.5 * abs(np.dot(ring[:-1, 0], ring[1:, 1]) - np.dot(ring[1:, 0], ring[:-1, 1]))
    assert area == pytest.approx(10_000.0, rel=1e-5)


def test_geopackage_required_tables_and_roundtrip(tmp_path):
    ids = np.array([4439600, 4439601, 4441129])
    x, y = hexagon_centres(ids)
    frame = pd.DataFrame({"receptor_id": ids, "x": x, "y": y, "phase": ["realisatie"] * 3,
                          "deposition_total_mol_ha_yr": [0.1, 0.0, np.nan], "relevant": [True, False, True]})
    p = write_gpkg(frame, tmp_path / "h.gpkg")
    con = sqlite3.connect(p)
    assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"gpkg_spatial_ref_sys", "gpkg_contents", "gpkg_geometry_columns", "depositie"} <= tables
    srs = {r[0] for r in con.execute("SELECT srs_id FROM gpkg_spatial_ref_sys")}
    assert {-1, 0, 4326, 28992} <= srs
    assert con.execute("SELECT geometry_type_name, srs_id FROM gpkg_geometry_columns").fetchone() == ("POLYGON", 28992)
    blob = con.execute("SELECT geom FROM depositie WHERE fid = 1").fetchone()[0]
    assert blob[:2] == b"GP" and len(blob) == 8 + 32 + 9 + 4 + 7 * 16
    con.close()
    back = read_receptor_file(p)
    assert list(back["receptor_id"]) == list(ids)
    if shutil.which("ogrinfo"):
        info = subprocess.run(["ogrinfo", "-so", str(p), "depositie"], capture_output=True, text=True, timeout=60)
        assert info.returncode == 0 and "Feature Count: 3" in info.stdout and "Polygon" in info.stdout


@needs_imaer
def test_receptors_from_imaer_result_file():
    rec = read_receptor_file(IMAER / "test_mixed_features.gml")
    assert list(rec["receptor_id"]) == [1]
    x, y = hexagon_centres([1])
    assert (rec["x"].iloc[0], rec["y"].iloc[0]) == pytest.approx((x[0], y[0]))


def test_per_hexagon_bad_name_refused_before_computing(tmp_path):
    r = run("calc", ROOT / "examples" / "dorp_ver_van_natuur.toml", "--per-hexagon", tmp_path / "h.shp")
    assert r.exit_code == 2 and ".gpkg" in r.output
    assert not (tmp_path / "h.shp").exists()


def test_batch_on_source_list(tmp_path):
    p = tmp_path / "bronnen.csv"
    p.write_text(SRC + "X1,120000,480000,2.5,0.035,veel,0,C,TEMPORARY,2028,3220\n", encoding="utf-8")
    out = tmp_path / "res.xlsx"
    r = run("batch", p, "-o", out)
    assert r.exit_code == 3, r.output  # results written, one case invalid
    assert "2 berekend, 1 ongeldig" in r.output
    book = pd.read_excel(out, sheet_name=None, header=1)
    assert {"resultaten", "bronnen", "fouten", "herkomst"} <= set(book)
    res = book["resultaten"]
    assert list(res["case"]) == ["A", "A", "B"]
    for c in ("borderline", "alt_heat_max_deposition", "alt_heat_verdict_differs"):
        assert c in res
    f = book["fouten"]
    assert list(f["zaak"]) == ["C"] and list(f["rij"]) == [5] and list(f["waarde"]) == ["veel"]
    # the same numbers as calc on the valid cases
    q = tmp_path / "ok.csv"
    q.write_text(SRC, encoding="utf-8")
    direct = [r["max_deposition"] for x in assess_source_list(q) for r in x.results]
    np.testing.assert_allclose(res["max_deposition"].to_numpy(float), direct, rtol=1e-9)
    r2 = run("batch", p, "-o", out)
    assert r2.exit_code == 2  # exists: refused, nothing written


def test_merged_templates_give_the_same_deposition(tmp_path, monkeypatch):
    """Many sources share templates per (phase, year, characteristics, geometry kind): the same
    largest deposition and hexagon count as one template per source (linearity)."""
    import stikstofcalc.assessment.source_list as sl_mod

    rows = ["source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,phase,year,sector_id,area_side_m"]
    rng = np.random.default_rng(1)
    for i in range(12):
        x, y = 172000 + rng.uniform(-800, 800), 458900 + rng.uniform(-800, 800)
        side = 50 if i % 3 == 0 else ""
        rows.append(f"S{i},{x:.1f},{y:.1f},2.5,0,{rng.uniform(10, 300):.1f},{rng.uniform(0, 5):.2f},"
                    f"{'realisatie' if i % 2 else 'gebruik'},2027,3220,{side}")
    p = tmp_path / "veel.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    one = assess_source_list(p, sensitivity=False)[0]
    monkeypatch.setattr(sl_mod, "MERGE_SOURCES_ABOVE", 2)
    merged = assess_source_list(p, sensitivity=False)[0]
    assert any("samen gerekend" in n for n in merged.notes)
    # the group reads as a group in the report ("groep van 4 bronnen (punt, 2.5 m, 0 MW)")
    names = [d["source"] for r in merged.results for d in r["dominant_sources"]]
    assert names and all(n.startswith("groep van ") and " bronnen (" in n for n in names)
    assert any("(punt," in n or "(vlak," in n for n in names)
    for a, b in zip(one.results, merged.results):
        assert (a["phase"], a["year"]) == (b["phase"], b["year"])
        assert b["max_deposition"] == pytest.approx(a["max_deposition"], rel=1e-9)
        assert b["n_hexagons_above"] == a["n_hexagons_above"]
        assert b["receptor_id"] == a["receptor_id"]
        assert b["headroom"]["nox_kg_per_yr"] == pytest.approx(a["headroom"]["nox_kg_per_yr"], rel=1e-9)


def test_a_search_builds_each_source_table_once(tmp_path, monkeypatch):
    """The rounds of a case's search share the kernel tables (``drive`` opens a table
    cache): no source's table is built twice for a substance. Without it lb_north's
    21,012 distinct sources had their tables built in each of 4 rounds (8 x 8 s)."""
    import stikstofcalc.deposition.fast as F

    built = {0: [], 1: []}
    real = F.build_tables

    def counting(m, substances, uniq, terrain="uniform"):
        for s in substances:
            built[s] += [r.tobytes() for r in np.ascontiguousarray(uniq, dtype=float)]
        return real(m, substances, uniq, terrain)

    monkeypatch.setattr(F, "build_tables", counting)
    p = tmp_path / "bronnen.csv"
    p.write_text(SRC, encoding="utf-8")
    a = assess_source_list(p)
    assert a[0].results[0]["max_deposition"] > 0.005  # a real search (several rounds)
    for s in (0, 1):
        assert built[s] and len(built[s]) == len(set(built[s]))


def test_excel_nl_emissions_output_gives_the_same_headroom(tmp_path):
    """The activity columns of `emissions --csv-format excel-nl` ('504,0') were read as
    nothing: 'nu 0 machine-uren ... hoogstens 0' (review). Both CSV formats now agree."""
    from click.testing import CliRunner

    from stikstofcalc.assessment.source_list import assess_source_list
    from stikstofcalc.cli.main import main

    project = str(Path(__file__).resolve().parents[2] / "examples" / "dorp_ver_van_natuur.toml")
    heads = []
    for fmt in ("standaard", "excel-nl"):
        out = tmp_path / f"em_{fmt}.csv"
        res = CliRunner().invoke(main, ["emissions", project, "-o", str(out), "--csv-format", fmt])
        assert res.exit_code == 0, res.output
        r = assess_source_list([out])[0].results[0]
        heads.append((r.headroom.current, r.headroom.allowed_source_only, r.max_deposition))
    assert heads[0] == pytest.approx(heads[1], rel=1e-9) and heads[0][0] > 0
