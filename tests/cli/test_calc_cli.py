"""``stikstofcalc calc``: exit codes, report content, JSON/CSV output (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ALL = sorted(EXAMPLES.glob("*.toml"))
VER = EXAMPLES / "dorp_ver_van_natuur.toml"
TWEE = EXAMPLES / "twee_natura2000_gebieden.toml"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_issue_scenarios_exist():
    names = {p.name for p in ALL}
    assert {"dorp_ver_van_natuur.toml", "wijk_300_woningen_veluwe.toml",
            "utiliteit_distributiecentrum.toml", "twee_natura2000_gebieden.toml"} <= names


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_every_example_runs(path):
    r = run("calc", path, "--no-measures")
    assert r.exit_code == 0, r.output
    assert "Hoogste depositie" in r.output and "Oordeel" in r.output


def test_report_content_far_village():
    r = run("calc", VER)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "VERGUNNINGPLICHTIG" not in out
    for text in ("Realisatiefase 2027", "Gebruiksfase", "afgerond 0,00",
                 "geen vergunning nodig", "Effectafstand", "Marge: factor", "Dominante bronnen",
                 "machine-uren per jaar", "Standaardmaatregelen", "Stage V", "volledig elektrisch",
                 "bouwverkeer gehalveerd", "start een jaar later", "benadering voor een",
                 "Waddenzee", "CC BY 4.0", "GESCHATTE kengetallen"):
        assert text in out, text


def test_report_permit_case_and_json(tmp_path):
    out = tmp_path / "r.json"
    r = run("calc", TWEE, "-o", out, "--salderen")
    assert r.exit_code == 0, r.output
    assert "VERGUNNINGPLICHTIG" in r.output and "Binnenveld" in r.output
    assert "Referentiesituatie" in r.output and "Gesaldeerd" in r.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) == {"schema", "case", "regime", "results", "measures", "reference",
                         "receptors", "notes", "provenance"}
    assert data["schema"] == "stikstofcalc.calc/1"
    res = data["results"][0]
    for key in ("phase", "year", "max_deposition", "max_rounded", "max_display", "area_name",
                "receptor_id", "x", "y", "n_hexagons_above", "hectares_above", "permit_needed",
                "verdict", "margin_factor", "dominant_sources", "headroom", "effect_distance_m"):
        assert key in res, key
    for key in ("factor", "nox_kg_per_yr", "nh3_kg_per_yr", "source", "unit", "current",
                "allowed_all_scaled", "allowed_source_only"):
        assert key in res["headroom"], key
    prov = data["provenance"]
    for key in ("version", "kengetallen", "model", "natura2000", "regime", "receptors",
                "uses_estimate", "estimates_used"):
        assert key in prov, key
    assert prov["kengetallen"]["edition"] and prov["kengetallen"]["hashes"]
    assert "OPS-LT" in prov["model"]
    assert any("voortoets" in n for n in prov["receptors"])
    assert {m["measure"] for m in data["measures"]} == {"stage_v", "elektrisch", "bouwverkeer_half",
                                                        "later_starten"}


def test_csv_output_with_provenance(tmp_path):
    out = tmp_path / "r.csv"
    r = run("calc", VER, "-o", out, "--regime", "ondergrens-1mol")
    assert r.exit_code == 0, r.output
    assert "NIET van kracht" in r.output
    frame = pd.read_csv(out)
    assert {"plan", "stage_v"} <= set(frame["measure"])
    assert {"case", "phase", "year", "max_deposition", "permit_needed"} <= set(frame.columns)
    side = json.loads((tmp_path / "r.csv.provenance.json").read_text(encoding="utf-8"))
    assert side["provenance"]["regime"]["name"] == "ondergrens-1mol"
    assert not list(tmp_path.glob(".*.tmp"))


def test_bad_input_exit_codes(tmp_path):
    r = run("calc", tmp_path / "missing.toml")
    assert r.exit_code == 2 and "bestand niet gevonden" in r.output and "Traceback" not in r.output
    bad = tmp_path / "sea.toml"
    bad.write_text(VER.read_text(encoding="utf-8").replace("x = 172400", "x = 50000")
                   .replace("y = 406800", "y = 480000"), encoding="utf-8")
    r = run("calc", bad)
    assert r.exit_code == 2 and "location" in r.output and "sea" in r.output
    r = run("calc", VER, "--regime", "nonsense")
    assert r.exit_code == 2
    r = run("calc", VER, "--no-measures", "-o", tmp_path / "r.txt")
    assert r.exit_code == 2 and "--output" in r.output and ".json of .csv" in r.output
    rec = tmp_path / "rec.csv"
    rec.write_text("gebied\nVeluwe\n", encoding="utf-8")
    r = run("calc", VER, "--receptors", rec)
    assert r.exit_code == 2 and "receptor_id" in r.output


def test_excel_nl_applies_to_the_per_hexagon_csv(tmp_path):
    out, hexes = tmp_path / "v.csv", tmp_path / "v_hex.csv"
    r = run("calc", VER, "--no-measures", "-o", out, "--per-hexagon", hexes, "--csv-format", "excel-nl")
    assert r.exit_code == 0, r.output
    head = hexes.read_text(encoding="utf-8-sig").splitlines()[:2]
    assert head[0].startswith("case;phase;year;receptor_id") and "," in head[1].split(";")[4]
    back = pd.read_csv(hexes, sep=";", decimal=",", encoding="utf-8-sig")
    std = tmp_path / "s_hex.csv"
    assert run("calc", VER, "--no-measures", "--per-hexagon", std).exit_code == 0
    assert back["deposition_total_mol_ha_yr"].tolist() == pd.read_csv(std)["deposition_total_mol_ha_yr"].tolist()
