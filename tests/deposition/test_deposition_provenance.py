"""Deposition outputs record their provenance (package, model data, inputs, settings)."""

import hashlib
import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from stikstofcalc import __version__
from stikstofcalc.cli.main import main
from stikstofcalc.deposition.model import model_info

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(out, *extra):
    return CliRunner().invoke(main, ["deposition", str(EXAMPLES / "sources.csv"),
                                     str(EXAMPLES / "receptors.csv"), "-o", str(out), *extra])


def test_csv_gets_provenance_json(tmp_path):
    out = tmp_path / "dep.csv"
    res = _run(out, "--no-cutoff")
    assert res.exit_code == 0, res.output
    prov = json.loads((tmp_path / "dep.csv.provenance.json").read_text())
    assert prov["tool"] == f"stikstofcalc {__version__}"
    assert prov["model"]["sha256"] == model_info()["sha256"]
    assert "OPS-LT 5.3.1.0" in prov["model"]["source"]
    assert prov["cutoff_m"] is None
    src = str(EXAMPLES / "sources.csv")
    assert prov["inputs"][src] == hashlib.sha256(Path(src).read_bytes()).hexdigest()


def test_xlsx_gets_herkomst_sheet(tmp_path):
    out = tmp_path / "dep.xlsx"
    assert _run(out).exit_code == 0
    sheet = pd.read_excel(out, sheet_name="herkomst")
    assert list(sheet.columns) == ["onderdeel", "waarde", "sleutel"]
    her = sheet.set_index("sleutel")["waarde"]
    label = sheet.set_index("sleutel")["onderdeel"]
    assert her["tool"] == f"stikstofcalc {__version__}" and label["tool"] == "programma"
    assert float(her["cutoff_m"]) == 25000.0 and label["cutoff_m"] == "rekenafstand (m)"
    assert her["model.sha256"] == model_info()["sha256"]
    assert label["model.sha256"] == "rekenmodel: controlegetal (sha256)"
    assert her["allow_extrapolation"] == "nee"
    assert not (tmp_path / "dep.xlsx.provenance.json").exists()
