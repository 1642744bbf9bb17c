"""Emission models: AERIUS reference values, worked examples and properties."""

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stikstofcalc.emissions import models as emissions
from stikstofcalc import kengetallen
from stikstofcalc.units import to_magnitude

# AERIUS Calculator 2024.0.1 (database 2024_75e59949f9) outputs for off-road sources, read from
# the GML inside AERIUS PDF reports in repo minne4all/DSP-project; transcribed in
# shared/reference/kengetallen_research/aerius2024_offroad_evidence.csv (all 17 rows).
AERIUS_2024_OFFROAD = """category,fuel_l,hours_h,nox_kg,nh3_kg
B4T,1300,,5.2,0.00975
LPG,1000,,4.0,0.0075
B2T,1400,,5.6,0.0105
MUT,,900,108.0,0.792
B4T,1200,,4.8,0.009
MUT,,800,96.0,0.704
LPG,600,,2.4,0.0045
B2T,1100,,4.4,0.00825
ZUT,,1100,220.0,1.617
B2T,1300,,5.2,0.00975
MUT,,1400,168.0,1.232
LPG,1200,,4.8,0.009
LPG,213,,0.852,0.0015975
ZUT,,1400,280.0,2.058
B4T,900,,3.6,0.00675
B2T,1600,,6.4,0.012
MUT,,1100,132.0,0.968
"""


def _factors(kg, categories, quantity):
    return np.array([kg.figure("machinery_factors", c, quantity, required=False).value
                     if kg.has("machinery_factors", c, quantity) else 0.0 for c in categories])


def test_reproduces_aerius_2024_offroad_outputs_exactly():
    """All 17 AERIUS 2024.0.1 outputs, vectorised in one call; tolerance: float rounding only."""
    ref = pd.read_csv(io.StringIO(AERIUS_2024_OFFROAD)).fillna(0.0)
    kg = kengetallen.load()
    cats = ref["category"].tolist()
    nox = emissions.machinery_emission(
        ref["fuel_l"], ref["hours_h"], 0.0, factor_per_fuel=_factors(kg, cats, "nox_per_fuel"),
        factor_per_hour=_factors(kg, cats, "nox_per_hour"))
    nh3 = emissions.machinery_emission(
        ref["fuel_l"], ref["hours_h"], 0.0, factor_per_fuel=_factors(kg, cats, "nh3_per_fuel"),
        factor_per_hour=_factors(kg, cats, "nh3_per_hour"))
    np.testing.assert_allclose(nox, ref["nox_kg"], rtol=1e-12)
    np.testing.assert_allclose(nh3, ref["nh3_kg"], rtol=1e-12)


def test_stage_v_worked_example_59_kg():
    """Research README: 10,000 L diesel, 1,000 h, 600 L AdBlue, Stage V (AUB group D) -> 59 kg NOx.

    33 g/L x 10,000 L + 5 g/h x 1,000 h - 460 g/L x min(600, 0.07 x 10,000) L = 59,000 g.
    """
    kg = kengetallen.load()
    f = {q: kg.figure("machinery_factors", "AUB_D", q).value for q in (
        "nox_per_fuel", "nox_per_hour", "nox_per_adblue", "max_adblue_fuel_ratio")}
    nox = emissions.machinery_emission(10_000, 1_000, 600, factor_per_fuel=f["nox_per_fuel"],
                                       factor_per_hour=f["nox_per_hour"],
                                       factor_per_adblue=f["nox_per_adblue"],
                                       max_adblue_fuel_ratio=f["max_adblue_fuel_ratio"])
    assert nox == pytest.approx(59.0, rel=1e-12)


def test_adblue_changes_stage_v_nox_about_five_fold():
    """domain.md 2.1: AdBlue input changes Stage V NOx about five-fold (typical 6 % vs none)."""
    args = dict(factor_per_fuel=33.0, factor_per_hour=5.0, factor_per_adblue=-460.0,
                max_adblue_fuel_ratio=0.07)
    without = emissions.machinery_emission(10_000, 1_000, 0.0, **args)
    typical = emissions.machinery_emission(10_000, 1_000, 600.0, **args)
    assert 4.0 < without / typical < 7.0


def test_adblue_credit_is_capped_and_emission_clipped_at_zero():
    args = dict(factor_per_fuel=33.0, factor_per_hour=5.0, factor_per_adblue=-460.0,
                max_adblue_fuel_ratio=0.07)
    at_cap = emissions.machinery_emission(1000, 100, 70, **args)
    above_cap = emissions.machinery_emission(1000, 100, 500, **args)
    assert above_cap == pytest.approx(at_cap)
    # a credit larger than the emission cannot make it negative
    assert emissions.machinery_emission(1000, 0, 1000, factor_per_fuel=1.0, factor_per_hour=0.0,
                                        factor_per_adblue=-460.0, max_adblue_fuel_ratio=1.0) == 0.0


@settings(max_examples=60, deadline=None)
@given(fuel=st.floats(0, 1e6), hours=st.floats(0, 1e5), k=st.floats(0, 100))
def test_machinery_is_linear_without_credit_and_never_negative(fuel, hours, k):
    one = emissions.machinery_emission(fuel, hours, 0.0, factor_per_fuel=20.0, factor_per_hour=5.0)
    scaled = emissions.machinery_emission(k * fuel, k * hours, 0.0, factor_per_fuel=20.0,
                                          factor_per_hour=5.0)
    assert one >= 0.0
    assert scaled == pytest.approx(k * one, rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(fuel=st.floats(0, 1e6), hours=st.floats(0, 1e5), adblue=st.floats(0, 1e5),
       k=st.floats(0.01, 100))
def test_scr_machinery_scales_with_the_whole_activity(fuel, hours, adblue, k):
    """Splitting a construction period over years never changes the total (cap is proportional)."""
    args = dict(factor_per_fuel=33.0, factor_per_hour=5.0, factor_per_adblue=-460.0,
                max_adblue_fuel_ratio=0.07)
    one = emissions.machinery_emission(fuel, hours, adblue, **args)
    scaled = emissions.machinery_emission(k * fuel, k * hours, k * adblue, **args)
    assert one >= 0.0
    assert scaled == pytest.approx(k * one, rel=1e-9, abs=1e-6)


def test_road_emission_is_the_aerius_formula():
    """IMAER-java SRMRoadEmissionsCalculator: kg/yr = EF[g/km] x vehicles/yr x length[m] / 1e6."""
    vehicles, length, ef = 365 * 200, 1800.0, 4.4918
    assert emissions.road_emission(vehicles, length, ef) == pytest.approx(ef * vehicles * length / 1e6,
                                                                          rel=1e-12)


def test_road_stagnation_interpolates_between_factors():
    free, stag = 0.15, 0.19
    e = emissions.road_emission([1e5] * 3, 1000.0, free, stagnated_factor_per_vehicle_km=stag,
                                stagnation_fraction=[0.0, 0.5, 1.0])
    np.testing.assert_allclose(e, [1e5 * free / 1e3, 1e5 * 0.17 / 1e3, 1e5 * stag / 1e3])


@settings(max_examples=40, deadline=None)
@given(a=st.floats(0, 1e6), b=st.floats(0, 1e6), length=st.floats(1, 2e4))
def test_road_emission_is_additive_over_vehicles(a, b, length):
    ea, eb = emissions.road_emission(a, length, 2.0), emissions.road_emission(b, length, 2.0)
    assert emissions.road_emission(a + b, length, 2.0) == pytest.approx(ea + eb, rel=1e-9, abs=1e-12)


def test_fuel_per_hour_relation_lvvn_2024():
    """LVVN 2024 par. 8.4: B = 0.095 Pmax + 0.54 L/h; 250 kW -> 24.29 L/h."""
    kg = kengetallen.load()
    rate = emissions.fuel_per_hour(
        250.0, fuel_per_hour_per_power=kg.figure("fuel_use", "aub_generiek", "fuel_per_hour_per_power").value,
        fuel_per_hour_base=kg.figure("fuel_use", "aub_generiek", "fuel_per_hour_base").value)
    assert rate == pytest.approx(24.29, rel=1e-12)


def test_gas_boiler_emission():
    """56 mg/kWh x 35.17 MJ/m3 (= 9.7694 kWh/m3) x 1000 m3 = 0.5471 kg NOx."""
    e = emissions.combustion_emission(1000.0, gas_energy_content_kwh_m3=35.17 / 3.6,
                                      factor_per_energy_g_kwh=0.056)
    assert e == pytest.approx(0.54709, rel=1e-4)


@settings(max_examples=50, deadline=None)
@given(start=st.integers(0, 3000), length=st.integers(1, 2000))
def test_year_fractions_sum_to_one(start, length):
    years = np.arange(2020, 2040)
    y0 = np.array([np.datetime64(f"{y}-01-01").astype(int) for y in years], dtype=float)
    y1 = np.array([np.datetime64(f"{y + 1}-01-01").astype(int) for y in years], dtype=float)
    s = float(np.datetime64("2021-01-01").astype(int) + start)
    frac = emissions.year_fractions([s], [s + length], y0, y1)
    assert frac.sum() == pytest.approx(1.0)
    assert (frac >= 0).all()


def test_unit_invariance_at_the_edge():
    """The same fuel typed three ways gives the same emission (pint converts once, at entry)."""
    fuels = [to_magnitude(v, "L") for v in ("10.000,0 L", "10 m**3", "10000 liters")]
    out = emissions.machinery_emission(fuels, 0.0, 0.0, factor_per_fuel=4.0, factor_per_hour=0.0)
    np.testing.assert_allclose(out, 40.0)
