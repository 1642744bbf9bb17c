"""Emission models: activity x factor -> NOx and NH3 in kg/yr (pure, vectorised).

Every function takes plain floats or numpy arrays in the canonical units of
``docs/nomenclature.md``, broadcasts its inputs and returns arrays. No pint, no
pandas, no key-figure look-ups: the caller passes the numbers in.

References
----------
.. [1] TNO 2021 R12305, emission factors for mobile machinery, "AUB" method
   (fuel, operating hours, AdBlue), as implemented in AERIUS Calculator 2021+.
.. [2] Ministerie van LVVN, "Gegevensinvoer voor AERIUS Calculator 2024"
   (September 2024), par. 8.1.1 (AdBlue caps), par. 8.4 (fuel per hour).
.. [3] aerius/IMAER-java, SRMRoadEmissionsCalculator: E = EF x vehicles x length / 1e6.
"""

from __future__ import annotations

import numpy as np

KG_PER_G = 1e-3
"""Unit definition: kilograms per gram."""
KM_PER_M = 1e-3
"""Unit definition: kilometres per metre."""
G_PER_MG = 1e-3
"""Unit definition: grams per milligram."""


def machinery_emission(fuel_l, operating_hours_h, adblue_l, *, factor_per_fuel,
                       factor_per_hour, factor_per_adblue=0.0, max_adblue_fuel_ratio=0.0):
    """Emission of mobile machinery by the AERIUS AUB method.

    Parameters
    ----------
    fuel_l : array_like
        Fuel used in the period [L/yr] (diesel, petrol or LPG).
    operating_hours_h : array_like
        Operating hours in the period [h/yr].
    adblue_l : array_like
        AdBlue used in the period [L/yr].
    factor_per_fuel : array_like
        Emission per litre of fuel [g/L].
    factor_per_hour : array_like
        Emission per operating hour [g/h].
    factor_per_adblue : array_like, default 0
        Emission per litre of AdBlue [g/L]; negative for SCR machines (credit).
    max_adblue_fuel_ratio : array_like, default 0
        Largest AdBlue volume AERIUS credits, as a share of the fuel volume [-].

    Returns
    -------
    numpy.ndarray
        Emission [kg/yr], never negative.

    Notes
    -----
    .. math:: E = \\max(0,\\ f_b B + f_u U + f_a \\min(A,\\ r_{max} B)) / 1000

    with fuel *B*, hours *U*, AdBlue *A* [1]_ [2]_. For NH3 pass the NH3
    factors and zero AdBlue factor. Stage V example (research README):
    10,000 L, 1,000 h, 600 L AdBlue with 33 g/L, 5 g/h, -460 g/L, cap 0.07
    gives 59 kg NOx.
    """
    fuel = np.asarray(fuel_l, dtype=float)
    hours = np.asarray(operating_hours_h, dtype=float)
    adblue = np.asarray(adblue_l, dtype=float)
    credited = np.minimum(adblue, np.asarray(max_adblue_fuel_ratio, dtype=float) * fuel)
    grams = (np.asarray(factor_per_fuel, dtype=float) * fuel
             + np.asarray(factor_per_hour, dtype=float) * hours
             + np.asarray(factor_per_adblue, dtype=float) * credited)
    return np.maximum(grams, 0.0) * KG_PER_G


def fuel_per_hour(rated_power_kw, *, fuel_per_hour_per_power, fuel_per_hour_base):
    """Average fuel use per operating hour from rated power (TNO AUB relation).

    Parameters
    ----------
    rated_power_kw : array_like
        Rated engine power P_max [kW].
    fuel_per_hour_per_power : array_like
        Slope a [L/h/kW] (0.095 in LVVN 2024 par. 8.4).
    fuel_per_hour_base : array_like
        Intercept b [L/h] (0.54 in LVVN 2024 par. 8.4).

    Returns
    -------
    numpy.ndarray
        Fuel use [L/h]: ``a * P_max + b`` [2]_.
    """
    power = np.asarray(rated_power_kw, dtype=float)
    return np.asarray(fuel_per_hour_per_power, dtype=float) * power + np.asarray(
        fuel_per_hour_base, dtype=float)


def road_emission(vehicles_per_year, length_m, factor_per_vehicle_km, *,
                  stagnated_factor_per_vehicle_km=None, stagnation_fraction=0.0):
    """Emission of road traffic on a road section (AERIUS SRM method).

    Parameters
    ----------
    vehicles_per_year : array_like
        Vehicles passing the section in the period [1/yr] (one movement = one pass).
    length_m : array_like
        Length of the section [m].
    factor_per_vehicle_km : array_like
        Emission factor for free-flowing traffic [g/km] (per vehicle).
    stagnated_factor_per_vehicle_km : array_like, optional
        Emission factor for stagnating traffic [g/km]; default: the free-flow factor.
    stagnation_fraction : array_like, default 0
        Share of the vehicle-kilometres in stagnation [-], 0..1.

    Returns
    -------
    numpy.ndarray
        Emission [kg/yr].

    Notes
    -----
    .. math:: E = n \\cdot L/1000 \\cdot ((1-s) EF + s EF_{stag}) / 1000

    equal to AERIUS's ``EF[g/km] * vehicles/yr * length[m] / 1e6`` [3]_.
    """
    free = np.asarray(factor_per_vehicle_km, dtype=float)
    stag = free if stagnated_factor_per_vehicle_km is None else np.asarray(
        stagnated_factor_per_vehicle_km, dtype=float)
    share = np.asarray(stagnation_fraction, dtype=float)
    factor = (1.0 - share) * free + share * stag
    return (np.asarray(vehicles_per_year, dtype=float) * np.asarray(length_m, dtype=float)
            * KM_PER_M * factor * KG_PER_G)


def combustion_emission(gas_volume_m3, *, gas_energy_content_kwh_m3, factor_per_energy_g_kwh):
    """NOx of gas-fired heating from gas volume, energy content and factor per energy.

    Parameters
    ----------
    gas_volume_m3 : array_like
        Natural gas burnt in the period [m3/yr] (normal cubic metres).
    gas_energy_content_kwh_m3 : array_like
        Energy content (gross calorific value) [kWh/m3].
    factor_per_energy_g_kwh : array_like
        Emission per unit of fuel energy [g/kWh].

    Returns
    -------
    numpy.ndarray
        Emission [kg/yr]: ``V * H * f / 1000``.
    """
    return (np.asarray(gas_volume_m3, dtype=float) * np.asarray(gas_energy_content_kwh_m3, dtype=float)
            * np.asarray(factor_per_energy_g_kwh, dtype=float) * KG_PER_G)


def year_fractions(start_day, end_day, year_start_days, year_end_days):
    """Share of each activity's period that falls in each calendar year.

    Parameters
    ----------
    start_day, end_day : array_like, shape (n,)
        Start and (exclusive) end of each period [days since an epoch].
    year_start_days, year_end_days : array_like, shape (m,)
        1 January of each year and of the next [days since the same epoch].

    Returns
    -------
    numpy.ndarray, shape (n, m)
        Fractions [-]; each row sums to 1 for a period of positive length.

    Notes
    -----
    Uniform spreading in time: the overlap of the period with the year
    divided by the length of the period.
    """
    start = np.asarray(start_day, dtype=float)[:, None]
    end = np.asarray(end_day, dtype=float)[:, None]
    overlap = np.clip(np.minimum(end, np.asarray(year_end_days, dtype=float)[None, :])
                      - np.maximum(start, np.asarray(year_start_days, dtype=float)[None, :]), 0.0, None)
    length = np.maximum(end - start, np.finfo(float).tiny)
    return overlap / length
