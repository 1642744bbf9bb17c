"""Rules: rounding, threshold, regimes, intern salderen, relevance, calendar years, headroom."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stikstofcalc.errors import InputError
from stikstofcalc.rules import (CUTOFF_M, NEARLY_EXCEEDED_MARGIN_MOL_HA_YR, REGIMES, RULES,
    THRESHOLD_MOL_HA_YR, aerius_round, assess, calendar_year_shares, format_deposition, get_regime,
    group_headroom_factor, headroom_emission, largest_deposition, margin_factor, permit_needed,
    relevant_hexagons)

finite = st.floats(0, 1e4, allow_nan=False)


def test_constants_and_sources():
    assert THRESHOLD_MOL_HA_YR == 0.005 and NEARLY_EXCEEDED_MARGIN_MOL_HA_YR == 70.0
    assert CUTOFF_M == 25_000.0
    for rule in RULES.values():
        assert rule.source and rule.date and rule.status
    assert "ECLI:NL:RVS:2022:3159" in RULES["bouwvrijstelling"].source
    assert "ECLI:NL:RVS:2023:1299" in RULES["cutoff_25km"].source
    assert "18 dec 2024" in RULES["intern_salderen"].date
    for reg in REGIMES.values():
        assert set(reg.rules) <= set(RULES)


# --------------------------------------------------------------------------- rounding

@pytest.mark.parametrize("value, shown", [
    (0.0049999, 0.0), (0.005, 0.01), (0.0149, 0.01), (0.015, 0.02), (0.025, 0.03),
    (0.285, 0.29), (1.005, 1.01), (2.675, 2.68), (12.344, 12.34), (-0.005, -0.01), (0.0, 0.0),
])
def test_aerius_round_half_up(value, shown):
    assert aerius_round(value) == shown


def test_numpy_round_would_be_wrong():
    # the reason for aerius_round: numpy rounds halves to even after scaling
    assert np.round(0.005, 2) == 0.0 and aerius_round(0.005) == 0.01


@settings(max_examples=500)
@given(st.floats(0, 1.0, allow_nan=False))
def test_rounding_agrees_with_threshold(d):
    """'0,00' exactly when no permit is needed: the printed value and the verdict agree."""
    assert (aerius_round(d) == 0.0) == (not permit_needed(d))


@settings(max_examples=300)
@given(finite)
def test_rounding_error_at_most_half_a_unit(d):
    assert abs(aerius_round(d) - d) <= 0.005 + 1e-12
    assert aerius_round(d) == pytest.approx(round(aerius_round(d), 2))


def test_format_dutch():
    assert format_deposition([0.004, 0.005, 12.345]).tolist() == ["0,00", "0,01", "12,35"]


# --------------------------------------------------------------------------- regimes

def test_regimes_by_name():
    assert get_regime().name == "post-porthos" and get_regime(None) is REGIMES["post-porthos"]
    assert get_regime(" Bouwvrijstelling ").construction_exempt
    low = get_regime("ondergrens-1mol")
    assert not low.in_force and low.threshold_mol_ha_yr == 1.0 and "NIET van kracht" in low.note
    bv = get_regime("bouwvrijstelling")
    assert (bv.valid_from, bv.valid_until) == (dt.date(2021, 7, 1), dt.date(2022, 11, 2))
    with pytest.raises(InputError, match="post-porthos of bouwvrijstelling of ondergrens-1mol"):
        get_regime("pas")


def test_verdict_post_porthos():
    d = np.array([[0.001, 0.004, 0.006], [0.0, 0.0049, 0.0]])
    v = assess(d, phase="realisatie")
    assert v.permit_needed.tolist() == [True, False]
    assert v.max_deposition.tolist() == [0.006, 0.0049]
    assert v.max_rounded.tolist() == [0.01, 0.0]
    assert v.index.tolist() == [2, 1] and v.n_hexagons_above.tolist() == [1, 0]
    np.testing.assert_allclose(v.margin_factor, [0.005 / 0.006, 0.005 / 0.0049])


def test_bouwvrijstelling_exempts_only_construction():
    d = np.array([0.5, 0.01])
    assert not assess(d, phase="realisatie", regime="bouwvrijstelling").permit_needed
    assert assess(d, phase="gebruik", regime="bouwvrijstelling").permit_needed
    v = assess(d, phase="realisatie", regime="post-porthos")
    assert v.permit_needed and not v.exempt


def test_ondergrens_regime():
    d = np.array([0.9, 0.3])
    assert not assess(d, phase="gebruik", regime="ondergrens-1mol").permit_needed
    assert assess(d, phase="gebruik").permit_needed
    assert any("NIET van kracht" in n for n in assess(d, phase="gebruik", regime="ondergrens-1mol").notes)


def test_threshold_parameter():
    d = np.array([0.3])
    assert not assess(d, phase="gebruik", threshold=0.5).permit_needed
    assert permit_needed(0.3, threshold=0.3)


def test_phase_name_checked():
    with pytest.raises(InputError, match="realisatie of gebruik"):
        assess([0.1], phase="bouw")


def test_relevant_mask_limits_verdict():
    d = np.array([0.2, 0.001])
    v = assess(d, phase="gebruik", relevant=[False, True])
    assert not v.permit_needed and v.index == 1 and v.max_deposition == 0.001
    v = assess(d, phase="gebruik", relevant=[False, False])
    assert v.index == -1 and v.max_deposition == 0.0 and not v.permit_needed


# --------------------------------------------------------------------------- intern salderen

def test_intern_salderen_does_not_reduce_verdict():
    plan = np.array([0.02, 0.01])
    ref = np.array([0.03, 0.02])
    v = assess(plan, phase="gebruik", reference_deposition=ref, show_netted=True)
    assert v.permit_needed and v.max_deposition == 0.02
    assert v.netted_max == pytest.approx(-0.01)
    assert any("18 december 2024" in n for n in v.notes)
    # without the option the netted difference is not computed
    assert assess(plan, phase="gebruik", reference_deposition=ref).netted_max is None


def test_intern_salderen_under_old_regime():
    plan, ref = np.array([0.02, 0.01]), np.array([0.03, 0.02])
    v = assess(plan, phase="gebruik", regime="bouwvrijstelling", reference_deposition=ref)
    assert not v.permit_needed and v.max_deposition == pytest.approx(-0.01)


# --------------------------------------------------------------------------- headroom

@settings(max_examples=200)
@given(st.floats(1e-4, 10), st.floats(0.1, 1e5))
def test_headroom_scaling_gives_threshold(max_dep, emission):
    """Deposition is linear in emission: the headroom emission lands exactly on 0.005."""
    e = headroom_emission(emission, max_dep)
    assert max_dep * e / emission == pytest.approx(THRESHOLD_MOL_HA_YR, rel=1e-12)
    assert not permit_needed(max_dep * (e * (1 - 1e-9)) / emission)


def test_margin_zero_deposition_is_infinite():
    assert np.isinf(margin_factor(0.0)) and np.isinf(headroom_emission(100.0, 0.0))
    assert margin_factor(0.01) == pytest.approx(0.5)


def test_group_headroom():
    group = np.array([0.001, 0.002, 0.0])
    other = np.array([0.001, 0.0, 0.004])
    s = group_headroom_factor(group, other)
    assert s == pytest.approx(2.5)  # limited by receptor 1: 0.005 / 0.002
    assert np.max(other + s * 0.999999 * group) < THRESHOLD_MOL_HA_YR
    assert group_headroom_factor(group, np.array([0.0, 0.0, 0.006])) == 0.0
    assert np.isinf(group_headroom_factor(np.zeros(3), other))
    # vectorised over cases, and relevance honoured
    s2 = group_headroom_factor(np.stack([group, 2 * group]), other, relevant=[True, False, True])
    np.testing.assert_allclose(s2, [4.0, 2.0])


@settings(max_examples=100)
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=20))
def test_group_headroom_property(pairs):
    g = np.array([p[0] for p in pairs]) * 1e-4
    o = np.array([p[1] for p in pairs]) * 1e-7
    s = group_headroom_factor(g, o)
    if np.isfinite(s) and s > 0:
        assert np.max(o + s * (1 - 1e-9) * g) < THRESHOLD_MOL_HA_YR


# --------------------------------------------------------------------------- relevance

def test_relevance_rule():
    kdw = np.array([714.0, 714.0, 1000.0, np.nan])
    bg = np.array([650.0, 640.0, 2000.0, 100.0])
    assert relevant_hexagons(kdw, bg).tolist() == [True, False, True, True]
    assert relevant_hexagons(kdw, bg, margin=0.0).tolist() == [False, False, True, True]
    assert relevant_hexagons(kdw, bg, [np.nan, 1, 0, np.nan]).tolist() == [True, True, False, True]
    assert relevant_hexagons().all()
    with pytest.raises(InputError, match="achtergronddepositie"):
        relevant_hexagons(kdw=kdw)


# --------------------------------------------------------------------------- calendar years

def test_short_phase_in_one_year():
    years, shares = calendar_year_shares("2026-10-01", "2027-03-31")
    assert years.tolist() == [2026] and shares.tolist() == [1.0]


@pytest.mark.parametrize("start, end, years", [
    ("2027-09-01", "2028-08-31", [2027]),   # 12 months over 29 Feb 2028: 366 days, one year
    ("2028-02-29", "2029-02-28", [2028]),   # starts on 29 February
    ("2026-09-01", "2027-08-31", [2026]),   # 365 days
    ("2027-09-01", "2028-09-01", [2027, 2028]),  # a day more than a year: split
])
def test_twelve_months_are_one_year_also_over_a_leap_day(start, end, years):
    """12 months from September 2027 were split over 2027 and 2028 (366 days), each below
    the threshold, while the same phase a year later was one year and needed a permit."""
    assert calendar_year_shares(start, end)[0].tolist() == years


def test_long_phase_split_per_year():
    years, shares = calendar_year_shares(dt.date(2026, 7, 1), dt.date(2028, 6, 30))
    assert years.tolist() == [2026, 2027, 2028]
    np.testing.assert_allclose(shares, np.array([184, 365, 182]) / 731)
    assert shares.sum() == pytest.approx(1.0)


@settings(max_examples=100)
@given(st.dates(dt.date(2020, 1, 1), dt.date(2040, 1, 1)), st.integers(0, 3000))
def test_year_shares_sum_to_one(start, days):
    years, shares = calendar_year_shares(start, start + dt.timedelta(days=days))
    assert shares.sum() == pytest.approx(1.0) and (shares > 0).all()
    assert years[0] == start.year


def test_bad_dates():
    with pytest.raises(InputError, match="op of na het begin"):
        calendar_year_shares("2027-01-01", "2026-01-01")
    with pytest.raises(InputError, match="start"):
        calendar_year_shares("maart 2026", "2026-12-01")


def test_largest_deposition_empty():
    mx, idx = largest_deposition(np.zeros((2, 0)))
    assert mx.tolist() == [0.0, 0.0] and idx.tolist() == [-1, -1]
