"""What a person reads after a bad input is Dutch (issue 13, "The output a person reads").

The messages of ``test_cli_dutch.py`` one step further: not the help and the ``fout:``
prefix, but the text of the errors, notes and the batch's ``fouten`` sheet for a handful
of bad inputs (a sources table with a negative, a non-number and WGS84 degrees; a height
outside the calibrated range, with and without ``--allow-extrapolation``; a batch with a
count in words, a location in the sea and a row for an unknown case; units of the wrong
dimension in a project file; a receptor file saved as Windows-1252; a zip where a GML
belongs; a route without geometry for AERIUS). Every output must be free of English and
of Python internals, and end with the documented exit code.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: English (and Python internals) that leaked into messages before issue 13.
ENGLISH = [r"\bis not\b", r"\bmust\b", r"could not convert", r"codec", r"\bthe\b", r"\bexpected\b",
           r"\*\*", r"\[length\]", r"\[mass\]", r"\bnegative\b", r"\bmissing\b", r"\bwould\b",
           r"\bmore row", r"EXTRAPOLATED", r"source\(s\)", r"\bcalibrat", r"\blies outside\b",
           r"\bwell-formed\b", r"\bneeds a\b", r"\bnumber\b", r"\bunreadable\b", r"\bkg/yr\b",
           r"\bterrain:", r"\broughness\b", r"\bboundaries\b", r"\bdid you mean\b", r"\bsheet\b",
           r"Traceback", r"Error\b"]

SOURCES = ("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr\n"
           "S1,172240,458930,-2.5,0.035,180,0.3\n"   # negative height
           "S2,172240,abc,2.5,0.035,180,0.3\n"       # text where a number belongs
           "S3,5.1,52.1,2.5,0.035,180,0.3\n"         # WGS84 degrees, not RD New
           "S4,172240,458930,2.5,0.035,1,0 kg\n")    # a unit typed in a number column
HIGH = "source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr\nS1,172240,458930,200,0.035,180,0.3\n"
CASES = ("case_id,location.x,location.y,construction.start,construction.duration,component.type,"
         "component.count,component.home_type,route.road_type,route.length,route.bearing\n"
         "b,201500,455200,2027-03,10 maanden,grondgebonden_woningen,zestien,tussen_hoek,stad_normaal,900,200\n"
         "z,20000,600000,2027-03,10 maanden,grondgebonden_woningen,16,tussen_hoek,stad_normaal,900,200\n")
PROJECT = """name = "Hal met verkeerde eenheden"
[location]
x = 173000
y = 462000
[construction]
start = "2028-01"
end = "2029-06"
[[components]]
name = "hal"
type = "utiliteitsbouw"
floor_area = "3000 kg"
function = "bedrijfshal_logistiek"
[[components.machines]]
name = "kraan"
category = "AUB_D"
hours = "600 m2"
[[routes]]
name = "naar de A1"
road_type = "buitenweg"
length = "2,4 km2"
bearing = 160
"""


def _english(text):
    return [m.group(0) for pattern in ENGLISH for m in [re.search(pattern, text)] if m]


def _workbook_with_unknown_case(path):
    """The template, both cases invalid (a count in words, a location in the sea) plus a row
    on ``onderdelen`` for a case that is not on ``projecten``."""
    from stikstofcalc.io.excel.template import write_template

    wb = openpyxl.load_workbook(write_template(path))
    ws = wb["projecten"]
    keys = {ws.cell(2, j).value: j for j in range(1, ws.max_column + 1)}
    for row in (3, 4):
        ws.cell(row, keys["location.x"], 20000)
        ws.cell(row, keys["location.y"], 600000)
    ws = wb["onderdelen"]
    keys = {ws.cell(2, j).value: j for j in range(1, ws.max_column + 1)}
    ws.cell(3, keys["count"], "zestien")
    ws.cell(ws.max_row + 1, keys["case_id"], "X")
    ws.cell(ws.max_row, keys["type"], "grondgebonden_woningen")
    ws.cell(ws.max_row, keys["count"], 4)
    wb.save(path)
    return path


def _inputs(tmp):
    shutil.copy(EXAMPLES / "receptors.csv", tmp / "r.csv")
    (tmp / "s.csv").write_text(SOURCES, encoding="utf-8")
    (tmp / "hoog.csv").write_text(HIGH, encoding="utf-8")
    (tmp / "zaken.csv").write_text(CASES, encoding="utf-8")
    (tmp / "project.toml").write_text(PROJECT, encoding="utf-8")
    (tmp / "rec_cp1252.csv").write_bytes("receptor_id,x,y,naam\n4574147,172508.78,457501.93,Veluwe café\n"
                                         .encode("cp1252"))
    with zipfile.ZipFile(tmp / "aerius.zip", "w") as z:
        z.writestr("a.gml", "<x/>")
    with zipfile.ZipFile(tmp / "bronnen.xlsx", "w") as z:  # a workbook's first part, as Excel writes it
        z.writestr("xl/workbook.xml", "<workbook/>")
    text = (EXAMPLES / "dorp_kleine_uitbreiding.toml").read_text(encoding="utf-8")
    (tmp / "zonder_richting.toml").write_text(re.sub(r"(?m)^bearing = .*\n", "", text), encoding="utf-8")
    _workbook_with_unknown_case(tmp / "zaken.xlsx")


#: name -> (arguments, exit code, words the output must hold); paths relative to the inputs.
RUNS = {
    "deposition": (["deposition", "s.csv", "r.csv", "-o", "d.csv"], 2,
                   ['"-2.5" is negatief', '"abc" is geen getal', "WGS84", "kg/jaar"]),
    "buiten-kalibratie": (["deposition", "hoog.csv", "r.csv", "-o", "d.csv"], 2,
                          ["ligt buiten het gekalibreerde bereik", "--allow-extrapolation"]),
    "extrapolatie": (["deposition", "hoog.csv", "r.csv", "-o", "d.csv", "--allow-extrapolation"], 0,
                     ["let op: GEËXTRAPOLEERD: 1 bron met height_m", "let op: terrein: ruwheidskaart"]),
    "batch-csv": (["batch", "zaken.csv", "-o", "uit.xlsx"], 3, ["2 ongeldig"]),
    "batch-werkmap": (["batch", "zaken.xlsx", "-o", "uit2.xlsx"], 3, ["ongeldig"]),
    "eenheden": (["calc", "project.toml"], 2, ["een hoeveelheid in m² (het is een massa)",
                                               "een hoeveelheid in m (het is een oppervlakte)"]),
    "cp1252": (["calc", str(EXAMPLES / "dorp_kleine_uitbreiding.toml"), "--receptors", "rec_cp1252.csv"], 0,
               ["1 hexagons, 1 tellen mee"]),  # Windows-1252 from Dutch Excel reads (stikstofcalc.io.text)
    "zip": (["check-imaer", "aerius.zip", "--no-deposition"], 2, ["zip-bestand"]),
    "xlsx": (["check-imaer", "bronnen.xlsx", "--no-deposition"], 2, ["Excel-werkmap", "stikstofcalc calc"]),
    "route": (["export-imaer", "zonder_richting.toml", "-o", "gml"], 2, ["heeft geen geometrie"]),
}
#: The batch's ``fouten`` sheet: (output, words its messages must hold).
FOUTEN = {"batch-csv": ("uit.xlsx", ["'zestien' is geen geheel getal", "ligt buiten Nederland of in zee"]),
          "batch-werkmap": ("uit2.xlsx", ["'zestien' is geen geheel getal", "geen zaak 'X' op blad projecten"])}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("invoer")
    _inputs(tmp)
    return tmp


@pytest.mark.parametrize("name", sorted(RUNS))
def test_messages_are_dutch(inputs, name, monkeypatch):
    args, code, words = RUNS[name]
    monkeypatch.chdir(inputs)
    r = CliRunner().invoke(main, args)
    assert r.exit_code == code, r.output
    assert not (r.exception and not isinstance(r.exception, SystemExit)), r.output
    text = r.output.replace(str(inputs), "")
    assert _english(text) == [], text
    assert [w for w in words if w not in text] == [], text
    if name in FOUTEN:
        out, expected = FOUTEN[name]
        ws = openpyxl.load_workbook(inputs / out)["fouten"]
        keys = [c.value for c in ws[2]]
        cells = [str(row[keys.index(k)]) for row in ws.iter_rows(min_row=3, values_only=True)
                 for k in ("melding", "verwacht") if row[keys.index(k)] is not None]
        sheet = "\n".join(cells)
        assert _english(sheet) == [], sheet
        assert [w for w in expected if w not in sheet] == [], sheet
