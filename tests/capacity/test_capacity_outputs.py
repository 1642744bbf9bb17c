"""Capacity and woondeal outputs: CLI exit codes, workbook, GeoPackage, GeoTIFF, PNG, Dask.

The GeoPackage and GeoTIFF are checked table by table / tag by tag here, and with GDAL's
``ogrinfo``/``gdalinfo`` when they are installed. The Dask run on a LocalCluster
(in-process workers) must equal the local run exactly.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
import subprocess

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc.assessment.core import assess_project
from stikstofcalc.capacity import compute_capacity, grid_sites
from stikstofcalc.capacity.geofiles import read_geotiff_values, write_geotiff
from stikstofcalc.capacity.woondeal import read_projects, woondeal_sum
from stikstofcalc.cli.main import main

BBOX = "170000,448000,172000,450000"  # 2 x 2 km south-west of Ede, 1 km step: 4 sites


def _run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def small():
    return compute_capacity(grid_sites((170000, 448000, 172000, 450000), 1000, plan_type="grondgebonden"))


@pytest.mark.slow
def test_cli_capacity_grid_writes_every_output(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "c.xlsx"
    r = _run(["capacity", "--bbox", BBOX, "--step", "1 km", "-o", str(out), "--gpkg", str(tmp_path / "c.gpkg"),
              "--geotiff", str(tmp_path / "c.tif"), "--map", str(tmp_path / "c.png"), "--quiet"])
    assert r.exit_code == 0, r.output
    book = pd.read_excel(out, sheet_name=None)
    assert set(book) == {"capaciteit", "fouten", "toelichting", "herkomst"}
    cap = book["capaciteit"]
    assert len(cap) == 4 and cap["eenheid"].eq("woningen").all()
    assert any("Planningsinformatie" in str(v) for v in book["toelichting"]["betekenis"])
    her = book["herkomst"]
    assert list(her.columns) == ["onderdeel", "waarde", "sleutel"]
    labels = dict(zip(her["sleutel"], her["onderdeel"]))
    assert (labels["command"], labels["rekentijd_s"], labels["threshold_mol_ha_yr"]) == (
        "opdracht", "rekentijd (s)", "drempel (mol N/ha/jr)")
    from openpyxl import load_workbook

    ws = load_workbook(out, read_only=False)["capaciteit"]
    assert ws.freeze_panes == "A2"
    # GeoPackage: the required tables and one point per site with the capacity
    con = sqlite3.connect(tmp_path / "c.gpkg")
    assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    assert con.execute("SELECT srs_id FROM gpkg_contents WHERE table_name='locaties'").fetchone()[0] == 28992
    assert con.execute("SELECT geometry_type_name FROM gpkg_geometry_columns").fetchone()[0] == "POINT"
    rows = con.execute("SELECT geom, capaciteit, x, y FROM locaties ORDER BY fid").fetchall()
    assert [r[1] for r in rows] == cap["capaciteit"].tolist()
    g = rows[0][0]
    assert g[:2] == b"GP" and struct.unpack_from("<i", g, 4)[0] == 28992
    assert struct.unpack_from("<dd", g, 8 + 5) == (rows[0][2], rows[0][3])
    # GeoTIFF: values on the grid, north row first
    a = read_geotiff_values(tmp_path / "c.tif")
    assert a.shape == (2, 2)
    assert a.ravel().tolist() == cap["capaciteit"].astype(np.float32).tolist()
    from PIL import Image

    assert Image.open(tmp_path / "c.png").size == (1753, 1240)
    if shutil.which("ogrinfo"):
        info = subprocess.run(["ogrinfo", "-so", "-al", str(tmp_path / "c.gpkg")], capture_output=True, text=True)
        assert "Feature Count: 4" in info.stdout and "RD New" in info.stdout
    if shutil.which("gdalinfo"):
        info = subprocess.run(["gdalinfo", str(tmp_path / "c.tif")], capture_output=True, text=True).stdout
        assert "Origin = (170000.000000000000000,450000.000000000000000)" in info
        assert 'ID["EPSG",28992]' in info


def test_cli_capacity_bad_input(tmp_path):
    out = tmp_path / "c.xlsx"
    r = _run(["capacity", "-o", str(out)])
    assert r.exit_code == 2 and "precies een van" in r.output
    r = _run(["capacity", "--bbox", "1,2,3", "-o", str(out)])
    assert r.exit_code == 2
    p = tmp_path / "s.csv"
    p.write_text("x,y\nabc,1\n", encoding="utf-8")
    r = _run(["capacity", str(p), "-o", str(out), "--quiet"])
    assert r.exit_code == 2 and "geen getal" in r.output and not out.exists()
    r = _run(["capacity", str(p), "-o", str(p.with_suffix(".png"))])
    assert r.exit_code == 2 and ".xlsx" in r.output
    out.write_text("x")
    r = _run(["capacity", "--bbox", BBOX, "-o", str(out)])
    assert r.exit_code == 2 and "bestaat al" in r.output and out.read_text() == "x"
    r = _run(["capacity", str(p), "--bbox", BBOX, "-o", str(tmp_path / "d.xlsx")])
    assert r.exit_code == 2


@pytest.mark.slow
def test_cli_capacity_list_with_invalid_rows_exit_3(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("locatie;x;y;plantype\nEde;172500;452500;gestapeld\nzee;20000;560000;\n", encoding="utf-8")
    out = tmp_path / "c.xlsx"
    r = _run(["capacity", str(p), "-o", str(out), "--quiet"])
    assert r.exit_code == 3, r.output
    book = pd.read_excel(out, sheet_name=None)
    assert book["capaciteit"]["locatie"].tolist() == ["Ede"]
    assert book["capaciteit"]["plantype"].tolist() == ["gestapeld"]
    assert book["fouten"]["rij"].tolist() == [3]


def test_cli_capacity_misspelled_column_exit_2(tmp_path):
    """A misspelled column: exit 2, the suggestion on stderr, nothing written."""
    p = tmp_path / "locaties.csv"
    p.write_text("locatie;x;y;plan_typ\nEde;172500;452500;utiliteit\n", encoding="utf-8")
    out = tmp_path / "c.xlsx"
    r = CliRunner().invoke(main, ["capacity", str(p), "-o", str(out), "--quiet"])
    assert r.exit_code == 2, r.output
    assert "onbekende kolom 'plan_typ' (bedoelt u 'plan_type'?)" in r.output and not out.exists()


def test_geotiff_roundtrip_and_nodata(tmp_path):
    a = np.array([[1.5, np.nan], [3.0, 4.0]])
    write_geotiff(tmp_path / "t.tif", a, x0=1000.0, y0=2000.0, step=10.0)
    b = read_geotiff_values(tmp_path / "t.tif")
    assert b.tolist() == [[1.5, -9999.0], [3.0, 4.0]]


def test_capacity_map_footnote_names_the_terrain(small):
    pytest.importorskip("matplotlib")
    from stikstofcalc.capacity.output import plot_capacity_map

    fig = plot_capacity_map(small)
    texts = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "ruwheidskaart" in texts and "CC BY-SA 4.0" in texts and "Drempel" in texts


@pytest.mark.slow
def test_dask_local_cluster_equals_local(small):
    dd = pytest.importorskip("dask.distributed")
    s = small.sites
    with dd.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            dd.Client(cl) as client:
        r = compute_capacity(s, client=client, chunk_size=1)  # one task per site
    a, b = small.to_frame(), r.to_frame()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_woondeal_sum_equals_per_project_deposition():
    names = ["examples/wijk_300_woningen_veluwe.toml", "examples/utiliteit_distributiecentrum.toml",
             "examples/dorp_ver_van_natuur.toml"]
    ps, problems = read_projects(names)
    assert not problems
    r = woondeal_sum(ps)
    # each project's largest deposition per phase equals the assessment's (all hexagons evaluated)
    for (name, p), row in zip(ps, r.summary.itertuples()):
        a = assess_project(p, measures=False)
        for phase, col in (("realisatie", "hoogste_realisatie"), ("gebruik", "hoogste_gebruik")):
            calc = max(x["max_deposition"] for x in a.results if x["phase"] == phase)
            assert getattr(row, col) == pytest.approx(calc, rel=1e-9)
    # the sum is the sum, the cumulative hexagons are below the threshold for each project alone
    for i, yr in enumerate(r.years):
        parts = [p[yr] for p in r.per_project if yr in p]
        assert np.allclose(r.total[i], np.sum(parts, axis=0), rtol=1e-12, atol=0)
        cum = r.cumulative[i]
        assert (r.total[i][cum] >= 0.005).all()
        assert all((q[cum] < 0.005).all() for q in parts)
    assert r.cumulative.any()
    sh = r.shares_frame()
    tot = sh.groupby(["jaar", "receptor_id"])["aandeel"].sum()
    assert (tot <= 1 + 1e-12).all() and (tot > 0.9).all()


@pytest.mark.slow
def test_cli_woondeal(tmp_path):
    out = tmp_path / "w.xlsx"
    r = _run(["woondeal", "examples/wijk_300_woningen_veluwe.toml", "examples/dorp_ver_van_natuur.toml",
              "-o", str(out), "--gpkg", str(tmp_path / "w.gpkg"), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "Planningsinformatie" in r.output
    book = pd.read_excel(out, sheet_name=None)
    assert {"projecten", "cumulatief", "aandelen", "som_per_hexagon", "toelichting", "herkomst"} <= set(book)
    assert len(book["projecten"]) == 2
    con = sqlite3.connect(tmp_path / "w.gpkg")
    kinds = dict(con.execute("SELECT table_name, geometry_type_name FROM gpkg_geometry_columns").fetchall())
    assert kinds == {"hexagons": "POLYGON", "projecten": "POINT"}
    n = con.execute("SELECT count(*) FROM hexagons").fetchone()[0]
    assert n > 0
    r2 = _run(["woondeal", "examples/wijk_300_woningen_veluwe.toml", "-o", str(out)])
    assert r2.exit_code == 2 and "bestaat al" in r2.output


def test_capacity_and_woondeal_never_write_over_an_input(tmp_path):
    """The common output guard (cli_options.guard): an input reached through a hard link is
    refused even with --overwrite, before anything is computed (exit 2, input unchanged)."""
    import os

    project = tmp_path / "p.toml"
    shutil.copy("examples/dorp_ver_van_natuur.toml", project)
    before = project.read_bytes()
    link = tmp_path / "w.xlsx"
    os.link(project, link)
    r = _run(["woondeal", str(project), "-o", str(link), "--overwrite", "--quiet"])
    assert r.exit_code == 2, r.output
    assert "invoer" in r.output and project.read_bytes() == before
    sites = tmp_path / "s.csv"
    sites.write_text("x,y\n172500,452500\n", encoding="utf-8")
    r = _run(["capacity", str(sites), "-o", str(tmp_path / "c.xlsx"), "--gpkg", str(sites), "--overwrite"])
    assert r.exit_code == 2 and "invoerbestand" in r.output and sites.read_text(encoding="utf-8").startswith("x,y")
    assert not (tmp_path / "c.xlsx").exists()


@pytest.mark.parametrize("stream_from", [5, 10_000])  # streamed sheets and ordinary ones
def test_workbook_sheets_longer_than_excel_continue_on_the_next(tmp_path, monkeypatch, stream_from):
    import openpyxl

    from stikstofcalc.capacity import output
    from stikstofcalc.io.excel import cells

    monkeypatch.setattr(cells, "EXCEL_ROWS", 11)  # a header and 10 rows per sheet
    monkeypatch.setattr(output, "STREAM_MIN_ROWS", stream_from)
    frame = pd.DataFrame({"site_id": [f"s{i}" for i in range(25)], "capaciteit": np.arange(25.0)})
    output.write_workbook(tmp_path / "c.xlsx", [("capaciteit", frame), ("fouten", frame.head(0))])
    wb = openpyxl.load_workbook(tmp_path / "c.xlsx")
    assert wb.sheetnames == ["capaciteit", "capaciteit_2", "capaciteit_3", "fouten"]
    rows = [r for n in wb.sheetnames[:3] for r in wb[n].iter_rows(min_row=2, values_only=True)]
    assert rows == list(frame.itertuples(index=False, name=None))
    assert all(wb[n].max_row <= 11 for n in wb.sheetnames)


def test_capacity_provenance_records_the_engine_path(small):
    assert small.provenance["engine_path"] == "numba (fast)"


def test_a_site_name_that_looks_like_a_formula_is_text(tmp_path):
    """A site named '=HYPERLINK(...)' was written as a live formula in 'capaciteit'."""
    import openpyxl

    p = tmp_path / "l.csv"
    p.write_text('locatie,x,y\n"=HYPERLINK(""http://x"",""klik"")",201500,455200\n', encoding="utf-8")
    out = tmp_path / "cap.xlsx"
    r = CliRunner().invoke(main, ["capacity", str(p), "-o", str(out)])
    assert r.exit_code == 0, r.output
    c = openpyxl.load_workbook(out)["capaciteit"]["A2"]
    assert c.data_type == "s" and c.value == '=HYPERLINK("http://x","klik")'


def test_woondeal_on_a_workbook_with_an_invalid_case(tmp_path):
    """A batch workbook with an invalid case: woondeal sums the valid ones and lists the other
    in fouten (exit 3); it crashed ('dict' object has no attribute 'file') and wrote nothing."""
    import openpyxl

    book = tmp_path / "b.xlsx"
    assert CliRunner().invoke(main, ["template", str(book)]).exit_code == 0
    wb = openpyxl.load_workbook(book)
    ws = wb["projecten"]
    keys = [c.value for c in ws[2]]
    ws.cell(4, keys.index("location.x") + 1).value = None  # the second example case
    wb.save(book)
    out = tmp_path / "wd.xlsx"
    r = CliRunner().invoke(main, ["woondeal", str(book), "-o", str(out), "--quiet"])
    assert r.exit_code == 3, r.output
    assert "veld x (RD, m): ontbreekt" in r.output and "Traceback" not in r.output
    f = pd.read_excel(out, sheet_name="fouten")
    assert f["kolom"].tolist() == ["x (RD, m)"] and f["rij"].tolist() == [4]
