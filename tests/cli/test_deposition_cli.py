"""``stikstofcalc deposition`` with CliRunner: exit codes, messages, files (no kernel values)."""

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main
from stikstofcalc.deposition.api import OUTPUT_COLUMNS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SRC = ("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr\n"
       "S1,172000,460000,2.5,0.035,1000,10\n")
REC = ("receptor_id,x,y\n"
       "007,173000,460500\n"
       "far,172000,487000\n")  # 27 km north: beyond the 25 km cut-off


def invoke(*args):
    return CliRunner().invoke(main, ["deposition", *map(str, args)])


@pytest.fixture
def files(tmp_path):
    (tmp_path / "s.csv").write_text(SRC)
    (tmp_path / "r.csv").write_text(REC)
    return tmp_path / "s.csv", tmp_path / "r.csv", tmp_path / "out.csv"


def test_shipped_examples(tmp_path):
    out = tmp_path / "deposition.csv"
    res = invoke(EXAMPLES / "sources.csv", EXAMPLES / "receptors.csv", "-o", out)
    assert res.exit_code == 0, res.output
    assert "5 bronnen" in res.stdout and "200 rekenpunten" in res.stdout
    assert "mol N/ha/jr" in res.stdout
    assert re.search(r"; \d+,\d\d s -> ", res.stdout)  # Dutch decimals also for the time (review)
    df = pd.read_csv(out, dtype=str)
    rec = pd.read_csv(EXAMPLES / "receptors.csv", dtype=str)
    assert list(df.columns) == [*rec.columns, *OUTPUT_COLUMNS]
    assert df["receptor_id"].tolist() == rec["receptor_id"].tolist()
    assert (df[OUTPUT_COLUMNS[2]].astype(float) > 0).all()


def test_cutoff_and_no_cutoff(files):
    s, r, out = files
    assert invoke(s, r, "-o", out).exit_code == 0
    with_cut = pd.read_csv(out, dtype={"receptor_id": str})
    assert with_cut.loc[1, OUTPUT_COLUMNS[2]] == 0.0 and with_cut.loc[0, OUTPUT_COLUMNS[2]] > 0
    res = invoke(s, r, "-o", out, "--no-cutoff", "--overwrite")
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out).loc[1, OUTPUT_COLUMNS[2]] != 0.0


def test_ids_and_order_survive(files):
    s, r, out = files
    invoke(s, r, "-o", out)
    assert out.read_text().splitlines()[1].startswith("007,173000,460500,")


def test_existing_output_needs_overwrite(files):
    s, r, out = files
    out.write_text("keep me\n")
    res = invoke(s, r, "-o", out)
    assert res.exit_code == 2
    assert "bestaat al" in res.stderr and "--overwrite" in res.stderr and "Traceback" not in res.output
    assert out.read_text() == "keep me\n"
    assert invoke(s, r, "-o", out, "--overwrite").exit_code == 0
    assert out.read_text().startswith("receptor_id,")


def test_never_overwrites_an_input(files):
    s, r, _ = files
    res = invoke(s, r, "-o", r, "--overwrite")
    assert res.exit_code == 2 and "invoerbestand" in res.stderr
    assert r.read_text() == REC


def test_bad_input_message_and_exit_code(files):
    s, r, out = files
    s.write_text(SRC.replace("1000", "veel").replace("2.5", "50"))
    r.write_text(REC + "007,1,2\n")
    res = invoke(s, r, "-o", out)
    assert res.exit_code == 2 and "Traceback" not in res.output
    err = res.stderr
    assert err.startswith("fout: 5 problemen")
    assert 's.csv (rij 2), veld nox_kg_yr: "veel" is geen getal' in err
    assert "veld height_m" in err and "gekalibreerde bereik" in err
    assert "r.csv (rij 4), veld receptor_id" in err and "dubbel" in err
    assert not out.exists()


def test_allow_extrapolation(files):
    s, r, out = files
    s.write_text(SRC.replace("2.5", "50"))
    res = invoke(s, r, "-o", out, "--allow-extrapolation")
    assert res.exit_code == 0, res.output
    assert "GEËXTRAPOLEERD" in res.stderr
    assert pd.read_csv(out)["extrapolated"].all()


def test_xlsx_in_and_out(files, tmp_path):
    s, r, _ = files
    pd.read_csv(r, dtype=str).to_excel(tmp_path / "r.xlsx", index=False)
    out = tmp_path / "out.xlsx"
    res = invoke(s, tmp_path / "r.xlsx", "-o", out)
    assert res.exit_code == 0, res.output
    df = pd.read_excel(out, dtype={"receptor_id": str})
    assert df["receptor_id"].tolist() == ["007", "far"]
    assert df["x"].tolist() == [173000, 172000]  # numbers again in Excel


@pytest.mark.parametrize("args, fragment", [
    (["missing.csv", "r.csv", "-o", "o.csv"], "niet gevonden"),
    (["s.csv", "r.csv", "-o", "o.txt"], "onbekend uitvoertype"),
    (["s.csv", "r.csv", "-o", "s.csv/o.csv"], "is een bestand, geen map"),
])
def test_file_errors(files, args, fragment):
    base = files[0].parent
    res = invoke(*[a if a.startswith("-") else base / a for a in args])
    assert res.exit_code == 2 and fragment in res.stderr and "Traceback" not in res.output


def test_missing_output_folder_is_made_as_by_every_command(files):
    s, r, _ = files
    out = s.parent / "new" / "sub" / "o.csv"
    res = invoke(s, r, "-o", out)
    assert res.exit_code == 0, res.output
    assert out.is_file() and (out.parent / "o.csv.provenance.json").is_file()


def test_usage_errors():
    assert invoke("a.csv", "b.csv").exit_code == 2  # -o is required
    res = CliRunner().invoke(main, ["deposition", "--help"])
    assert res.exit_code == 0 and "--no-cutoff" in res.output and "--overwrite" in res.output


def test_land_use_note_says_whether_the_receptors_gave_their_own(tmp_path):
    rec = pd.read_csv(EXAMPLES / "receptors.csv")
    all_own = invoke(EXAMPLES / "sources.csv", EXAMPLES / "receptors.csv", "-o", tmp_path / "a.csv")
    assert "landgebruik van de receptoren: opgegeven (bij alle receptoren)" in all_own.stderr
    assert "anders gras" not in all_own.stderr
    rec.loc[:9, "landuse"] = None
    rec.to_csv(tmp_path / "half.csv", index=False)
    half = invoke(EXAMPLES / "sources.csv", tmp_path / "half.csv", "-o", tmp_path / "b.csv")
    assert f"opgegeven bij {len(rec) - 10} van de {len(rec)}; bij de overige, water" in half.stderr
