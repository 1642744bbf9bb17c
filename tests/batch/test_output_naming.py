"""One naming across outputs (issue 12 section 3, docs/nomenclature.md; review finding 10):
the batch workbook's `resultaten` and `bronnen` and calc's CSV use the same keys and values."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
from click.testing import CliRunner

from stikstofcalc.cli.main import main
from stikstofcalc.io.atomic import csv_text

ROOT = Path(__file__).resolve().parents[2]
SRC = ("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,case_id,phase,year,sector_id\n"
       "M1,172240,458930,,,300,0.5,A,realisatie,2027,3220\n"
       "V1,172240,458930,2.5,0,50,1,A,gebruik,2029,\n")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _sheet(path, name) -> pd.DataFrame:
    ws = openpyxl.load_workbook(path)[name]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    width = max(len(r) for r in rows)
    rows = [r + [None] * (width - len(r)) for r in rows]
    return pd.DataFrame(rows[2:], columns=rows[1]).dropna(how="all")


def test_batch_sheets_and_calc_csv_share_names_and_values(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text(SRC, encoding="utf-8")
    assert run("batch", src, "-o", tmp_path / "r.xlsx").exit_code == 0
    res, bron = _sheet(tmp_path / "r.xlsx", "resultaten"), _sheet(tmp_path / "r.xlsx", "bronnen")
    assert set(res["phase"]) == set(bron["phase"]) == {"realisatie", "gebruik"}
    for c in ("permit_needed", "exempt", "uses_estimate", "borderline", "alt_heat_permit_needed",
              "alt_heat_verdict_differs"):
        assert set(res[c].dropna()) <= {"ja", "nee"}, (c, set(res[c]))
    # a source without a sector has an empty sector cell, not the non-existent sector 0
    assert bron.loc[bron["label"] == "V1", "sector_id"].isna().all()
    assert (bron.loc[bron["label"] == "M1", "sector_id"] == 3220).all()
    r = run("calc", src, "--no-measures", "-o", tmp_path / "c.csv")
    assert r.exit_code == 0, r.output
    calc = pd.read_csv(tmp_path / "c.csv")
    headroom = [c for c in res.columns if str(c).startswith("headroom_")]
    assert headroom and set(headroom) <= set(calc.columns)
    assert set(calc["phase"]) == {"realisatie", "gebruik"}


def test_counts_and_ids_are_written_as_whole_numbers():
    frame = pd.DataFrame({"n2k_number": [57.0, None], "n_hexagons_above": [2528.0, 3.0],
                          "receptor_id": [4760709.0, None], "max_deposition": [2.0, 0.5]})
    text = csv_text(frame)
    assert text.splitlines()[1:] == ["57,2528,4760709,2.0", ",3,,0.5"]
    assert csv_text(frame, dialect="excel-nl").splitlines()[1] == "57;2528;4760709;2,0"


def test_batch_summary_counts_borderline_cases(tmp_path):
    """A case whose largest deposition lies in the grensgeval band is counted in the summary
    and in herkomst (review: the summary left them out)."""
    s = pd.read_csv(ROOT / "examples" / "sources.csv")
    scale = 0.0045 / 0.11832897236026534  # examples/sources.csv gives 0.1183 (golden calc_sources_csv)
    near = s.assign(nox_kg_yr=s["nox_kg_yr"] * scale, nh3_kg_yr=s["nh3_kg_yr"] * scale, case_id="dicht")
    far = s.assign(case_id="ver")
    pd.concat([near, far]).to_csv(tmp_path / "s.csv", index=False)
    r = run("batch", tmp_path / "s.csv", "-o", tmp_path / "r.xlsx")
    assert r.exit_code == 0, r.output
    assert "geen vergunning nodig: 1; grensgeval (reken door in AERIUS Calculator): 1" in r.output
    res = _sheet(tmp_path / "r.xlsx", "resultaten")
    assert res.loc[res["case"] == "dicht", "borderline"].tolist() == ["ja"]
