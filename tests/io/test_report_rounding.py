"""The report's largest deposition never contradicts its rounded value."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stikstofcalc import rules
from stikstofcalc.io.report import _sig_as_rounded


@pytest.mark.parametrize("value, shown", [(0.0049996, "0,0049996"), (5.74472, "5,7447"),
                                          (0.006688, "0,006688"), (0.0, "0")])
def test_shown_digits_round_as_the_value(value, shown):
    """0.0049996 was shown as 0,005000 beside 'afgerond 0,00'; 5.74472 as 5,745 beside 5,74."""
    assert _sig_as_rounded(value) == shown


@given(st.floats(min_value=1e-6, max_value=1e4, allow_nan=False))
def test_shown_number_rounds_to_the_same_display(value):
    text = _sig_as_rounded(value)
    back = float(text.replace(".", "").replace(",", "."))
    assert rules.format_deposition(back)[0] == rules.format_deposition(value)[0]


@pytest.mark.parametrize("display, shown", [("0,00", "0,00"), ("1403,58", "1.403,58"),
                                            ("1234567,00", "1.234.567,00"), ("-1403,58", "-1.403,58")])
def test_rounded_value_has_the_thousands_of_the_value_beside_it(display, shown):
    """'1.403,6 mol N/ha/jr, afgerond 1403,58' read as two notations (review finding)."""
    from stikstofcalc.errors import nl_display

    assert nl_display(display) == shown


@given(st.floats(min_value=1e-6, max_value=1e7, allow_nan=False))
def test_rounded_display_reads_back_as_the_rounded_value(value):
    from stikstofcalc.errors import nl_display

    display = rules.format_deposition(value)[0]
    assert float(nl_display(display).replace(".", "").replace(",", ".")) == float(display.replace(",", "."))
    assert nl_display(display).replace(".", "") == display


def test_other_regime_threshold_is_not_called_0_00():
    """Under the 1 mol floor the report speaks of that threshold, not of 0,00 (review finding 11)."""
    from click.testing import CliRunner
    from stikstofcalc.cli.main import main

    project = Path(__file__).resolve().parents[2] / "examples" / "dorp_kleine_uitbreiding.toml"
    out = CliRunner().invoke(main, ["calc", str(project), "--regime", "ondergrens-1mol"]).output
    body = out.split("Bronkenmerken")[0]
    assert "0,00" not in body.replace("afgerond 0,", "").replace("0,005 ", "")  # not as the goal
    assert "voor minder dan 1 mol N/ha/jr" in body and "'*' = haalt minder dan 1 mol N/ha/jr" in body
    assert "Ruimte tot de drempel" in body
    default = CliRunner().invoke(main, ["calc", str(project), "--no-measures"]).output
    assert "Ruimte tot 0,00" in default and "emissie moet naar" in default and "voor 0,00" in default


def test_a_regime_not_in_force_says_so_in_the_verdict_itself():
    """Only the header said 'NIET van kracht'; the verdict (also in CSV and batch) read as a
    plain 'geen vergunning nodig' (review)."""
    from stikstofcalc.assessment.core import assess_project

    project = Path(__file__).resolve().parents[2] / "examples" / "utiliteit_distributiecentrum.toml"
    a = assess_project(project, regime="ondergrens-1mol", measures=False)
    assert all("regime 'ondergrens-1mol' is niet van kracht" in r.verdict for r in a.results)
    b = assess_project(project, measures=False)
    assert not any("niet van kracht" in r.verdict for r in b.results)


def test_excel_nl_csv_writes_yes_no_as_ja_nee():
    """calc --csv-format excel-nl wrote True/False where the batch writes ja/nee (review);
    the standard dialect keeps True/False for software."""
    import pandas as pd

    from stikstofcalc.io.atomic import csv_text

    df = pd.DataFrame({"permit_needed": [True, False], "alt": [True, None], "n": [1.5, 2.0], "t": ["a", "b"]})
    nl_text = csv_text(df, dialect="excel-nl")
    assert nl_text.splitlines()[1:] == ["ja;ja;1,5;a", "nee;;2,0;b"]
    assert csv_text(df).splitlines()[1] == "True,True,1.5,a"


@pytest.mark.parametrize("f, shown", [(1.0015, "1,002"), (0.99951, "0,9995"), (1.79, "1,79"), (1.0, "1,00")])
def test_a_margin_near_one_is_not_shown_as_one(f, shown):
    """'factor 1,00 (emissie mag x 1,00 groeien)' for 1.0015 read as no room (review)."""
    from stikstofcalc.io.report import _factor

    assert _factor(f) == shown
