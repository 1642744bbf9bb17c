"""Issue 12 (review findings 3 and 4): a Custom machine's own characteristics in an IMAER
off-road source are used, per machine; and the report and provenance show the
characteristics a source list was computed with and where each value came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stikstofcalc.assessment.source_list import _source_parts, read_source_files
from stikstofcalc.cli.main import main
from stikstofcalc.io.imaer.model import Machine, Source

ROOT = Path(__file__).resolve().parents[2]
DC = ROOT / "examples" / "utiliteit_distributiecentrum.toml"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _source(machines, nox=100.0, nh3=1.0, **kw):
    return Source(gml_id="ES.8", feature="OffRoadMobileSourceEmissionSource", sector_id=3220,
                  label="Rondrij terrein", wkt="POINT (150000 450000)",
                  emissions={"NOX": nox, "NH3": nh3}, machines=machines, **kw)


def _custom(nox, nh3=0.0, h=None, q=None, sp=None, name="eigen werktuig"):
    return Machine("custom", None, name, emissions={"NOX": nox, "NH3": nh3}, height_m=h, heat_mw=q, spread_m=sp)


STANDARD = Machine("standard", "SII75560DSN", "kraan", fuel_l=1000.0, hours_h=100.0)


def test_mixed_source_splits_the_custom_machine_with_its_own_characteristics():
    parts, notes = _source_parts(_source([_custom(80.0, 0.2, 20.0, 0.5, 2.0), STANDARD]))
    assert [p[0] for p in parts] == ["", "#werktuig1"]
    rest, own = parts
    assert rest[2] == (None, None, None)            # the rest: sector defaults later
    assert own[2] == (20.0, 0.5, 2.0)               # the machine's own, as the file gives them
    assert own[3] == (80.0, 0.2) and rest[3] == pytest.approx((20.0, 0.8))
    assert "1 eigen werktuig(en) met eigen bronkenmerken apart gerekend" in notes[0]


def test_emission_is_conserved_and_plain_sources_are_untouched():
    for machines in ([_custom(30.0, 0.0, 3.0, 0.0, 1.0), _custom(70.0, 1.0, 6.0, 0.1, 2.0)],
                     [_custom(10.0, 0.1, 4.0), _custom(5.0), STANDARD]):
        parts, _ = _source_parts(_source(machines))
        assert sum(p[3][0] for p in parts) == pytest.approx(100.0)
        assert sum(p[3][1] for p in parts) == pytest.approx(1.0)
    # only Custom machines, each with its own characteristics: no rest row, two sources
    parts, _ = _source_parts(_source([_custom(30.0, 0.0, 3.0, 0.0, 1.0), _custom(70.0, 1.0, 6.0, 0.1, 2.0)]))
    assert [p[2] for p in parts] == [(3.0, 0.0, 1.0), (6.0, 0.1, 2.0)]
    # no own characteristics: one row with the source's
    parts, notes = _source_parts(_source([_custom(10.0), STANDARD], height_m=4.0))
    assert len(parts) == 1 and parts[0][2] == (4.0, None, None) and parts[0][3] == (100.0, 1.0) and not notes


def test_machines_stating_more_than_the_source_are_noted():
    parts, notes = _source_parts(_source([_custom(150.0, 1.0, 3.0, 0.0, 1.0)]))
    assert [p[3] for p in parts] == [(150.0, 1.0)]
    assert any("stoten samen meer uit dan de bron" in n for n in notes)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    out = tmp_path_factory.mktemp("exp")
    r = run("export-imaer", DC, "-o", out)
    assert r.exit_code == 0, r.output
    return next(out.glob("*realisatie_2028.gml"))


def test_export_mixed_source_reads_back_per_machine(export, tmp_path):
    t = read_source_files([export]).table
    es2 = t[t["source_id"].str.contains(":ES.2")]
    assert len(es2) == 3 and es2["source_id"].str.endswith("#werktuig1").sum() == 1
    own = es2[es2["heat_given"]]
    assert (own["heat_mw"] == 0.0).all() and (own["height_m"] == 2.5).all()
    # the machine's heat in the file is the one computed: 0.5 MW in the file gives 0.5 MW
    text = export.read_text(encoding="utf-8")
    first = text.index("<imaer:CustomOffRoadMobileSource>", text.index('gml:id="ES.2"'))
    cut = text.index("<imaer:value>0.0</imaer:value>", first)
    hot = tmp_path / "hot.gml"
    hot.write_text(text[:cut] + "<imaer:value>0.5</imaer:value>" + text[cut + 30:], encoding="utf-8")
    t2 = read_source_files([hot]).table
    assert t2.loc[t2["source_id"].str.endswith("ES.2#werktuig1"), "heat_mw"].tolist() == [0.5]


def test_report_shows_the_characteristics_used_and_their_origin(export, tmp_path):
    out = tmp_path / "r.json"
    r = run("calc", export, "--no-measures", "--werktuig-warmte", "instructie", "-o", out)
    assert r.exit_code == 0, r.output
    assert "Bronkenmerken zoals gerekend" in r.output
    assert "0,000 MW (bestand)" in r.output and "0,035 MW (--werktuig-warmte)" in r.output
    assert "daar gelden --werktuig-warmte en de gevoeligheid voor de warmte-inhoud niet" in r.output
    used = json.loads(out.read_text())["provenance"]["source_characteristics_used"]
    t = read_source_files([export]).table
    assert sum(u["sources"] for u in used) == len(t)
    assert sum(u["nox_kg_per_yr"] for u in used) == pytest.approx(t["nox_kg_per_yr"].sum())
    given = [u for u in used if u["origin"]["heat_mw"] == "bestand"]
    assert given and all(u["heat_mw"] == 0.0 for u in given)


def test_source_list_heat_from_the_file_is_reported_as_used(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,sector_id,phase\n"
                   "S1,172240,458930,2.5,0.035,1000,1,3220,realisatie\n"
                   "S2,172240,458930,,,500,1,3220,realisatie\n", encoding="utf-8")
    r = run("calc", src, "--no-measures")
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.output.splitlines() if ln.startswith("  3220, 1 bron(nen)")]
    assert any("0,035 MW (bestand)" in ln for ln in lines), r.output
    assert any("0,000 MW (--werktuig-warmte)" in ln and "2,5 m (sector 3220)" in ln for ln in lines)


def test_out_of_range_heat_of_a_custom_machine_is_refused(export, tmp_path):
    text = export.read_text(encoding="utf-8")
    first = text.index("<imaer:CustomOffRoadMobileSource>", text.index('gml:id="ES.2"'))
    cut = text.index("<imaer:value>0.0</imaer:value>", first)
    hot = tmp_path / "hot.gml"
    hot.write_text(text[:cut] + "<imaer:value>100.0</imaer:value>" + text[cut + 30:], encoding="utf-8")
    r = CliRunner().invoke(main, ["calc", str(hot), "--no-measures"])
    assert r.exit_code == 2
    assert "ES.2#werktuig1" in r.output and "100 MW ligt buiten het gekalibreerde bereik" in r.output


def test_files_read_in_any_order_give_phases_in_order(export):
    files = sorted(export.parent.glob("*.gml"), reverse=True)  # gebruik 2030 first
    r = run("calc", *files, "--no-measures")
    assert r.exit_code == 0, r.output
    heads = [ln.split("  ")[0] for ln in r.output.splitlines() if ln.startswith(("Realisatiefase", "Gebruiksfase"))]
    assert heads == ["Realisatiefase 2028", "Realisatiefase 2029", "Gebruiksfase 2030"]


def test_source_list_without_phase_says_it_is_assessed_as_use_phase(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,phase\n"
                   "S1,172240,458930,2.5,0,100,1,\nS2,172240,458930,2.5,0,100,1,realisatie\n", encoding="utf-8")
    notes = read_source_files([src], default_year=2027).notes
    assert any(n.startswith("1 bron(nen) zonder fase: beoordeeld als gebruiksfase") for n in notes)
    src.write_text("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr\nS1,172240,458930,2.5,0,100,1\n",
                   encoding="utf-8")
    assert any(n.startswith("geen kolom phase") for n in read_source_files([src], default_year=2027).notes)


def test_sources_outside_the_netherlands_are_pointed_out(tmp_path):
    """A typo in a coordinate puts a source at sea, and the verdict would be a quiet 0,00."""
    src = tmp_path / "s.csv"
    src.write_text("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,phase\n"
                   "P1,-40000,690000,2.5,0,180,0.3,realisatie\n"
                   "P2,172240,458930,2.5,0,1,0,realisatie\n", encoding="utf-8")
    r = run("calc", src, "--no-measures")
    assert r.exit_code == 0, r.output
    assert "let op: 1 bron(nen) liggen buiten Nederland of in zee (bijv. P1 op x -40000, y 690000)" in r.output
    src.write_text("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,phase\n"
                   "P2,172240,458930,2.5,0,1,0,realisatie\n", encoding="utf-8")
    assert "buiten Nederland" not in run("calc", src, "--no-measures").output
