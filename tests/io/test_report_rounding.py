"""The report's largest deposition never contradicts its rounded value."""

from __future__ import annotations

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
