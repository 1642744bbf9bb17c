"""Use phase (gebruiksfase): traffic generation and heating of the finished project.

Homes: motor-vehicle movements per home per average weekday by home type and
urbanisation degree; non-residential functions: per 100 m2 floor area. Both
are turned into vehicles per year with AERIUS's 365 days. New buildings are
gasless (zero on-site NOx, LVVN 2024 par. 10.1) unless the user gives a gas
use, which is then burnt in a gas boiler. Explicit use traffic per vehicle
class replaces the generated traffic of that class.
"""

from __future__ import annotations

import datetime as dt

from stikstofcalc.emissions.construction import label_info, memo, route_records, unit_size

SECTOR_HOMES = 8200  # AERIUS sector: Wonen en werken, Woningen
SECTOR_OFFICES_SHOPS = 8640  # AERIUS sector: Wonen en werken, Kantoren en winkels


def _prov(fig):
    return [] if fig is None else [(fig.row_id, fig.status, fig.overridden)]


def use_year(project, construction_end) -> int:
    """First calendar year of use: the user's, else the year after construction ends.

    ``construction_end`` is the exclusive end date of the realisation phase.
    """
    if project.use.year is not None:
        return project.use.year
    last_day = construction_end - dt.timedelta(days=1)
    return last_day.year + 1


def _generation_figures(kg, name, urb):
    """Movements per unit figure and (vehicle class, share figure) of a home type or function.

    The figure of the urbanisation degree, else of ``alle``; memoised per edition (the
    vehicle classes are a pandas selection).
    """
    def compute():
        key = (name, urb) if kg.has("traffic_generation", (name, urb), "movements_per_unit") else (name, "alle")
        gen = kg.figure("traffic_generation", key, "movements_per_unit")
        shares = kg.tables["traffic_vehicle_shares"]
        return gen, tuple((vc, kg.figure("traffic_vehicle_shares", (name, vc), "share"))
                          for vc in shares[shares["function"] == name]["vehicle_class"])
    return memo(kg, ("generation", name, urb), compute)


def _generation(project, comp, kg, basis):
    """Movements per day per vehicle class: {class: (per_day, provenance, inputs)}."""
    name = comp.home_type if basis == "woning" else comp.function
    out = {}
    if name is not None:
        gen, shares = _generation_figures(kg, name, comp.urbanisation or project.use.urbanisation)
        per_day = gen.value * unit_size(comp, basis)
        for vc, share in shares:
            if share.value > 0:
                out[vc] = (per_day * share.value, _prov(gen) + _prov(share), [])
    for vc, value in comp.use_traffic_per_day.items():
        out[vc] = (value, [], [f"{comp.field}.use_traffic.{vc}"])
    return out


def use_activities(project, kg, year):
    """All use-phase activity records of one project (quantities per year)."""
    days = kg.figure("general", "aerius", "days_per_year")
    out = []
    for comp in project.components:
        info = label_info(kg, "project_types", comp.type)
        basis, stage = info["basis"], info["stage"]
        if stage != "bouw":
            continue

        def make(**kw):
            rec = dict(case=project.name, phase="gebruik", year=year, component=comp.label,
                       component_index=comp.index, fuel_l=0.0, hours_h=0.0, adblue_l=0.0,
                       movements=0.0, gas_m3=0.0, route=None, road_type=None, length_m=0.0,
                       stagnation_fraction=0.0, provenance=_prov(days), inputs=[], notes=[])
            rec.update(kw)
            return rec

        per_class = {vc: (v * days.value, p, i) for vc, (v, p, i) in _generation(project, comp, kg, basis).items()}
        out += route_records(project, per_class, make, "use_traffic", f"{comp.field}.use_traffic")
        out.append(_heating(comp, kg, basis, make))
    return out


def _heating(comp, kg, basis, make):
    sector = SECTOR_HOMES if basis == "woning" else SECTOR_OFFICES_SHOPS
    if comp.gas_m3_per_year:
        rec = make(source_kind="heating", category="gasketel", label="gas boiler", sector_id=sector,
                   gas_m3=comp.gas_m3_per_year)
        rec["inputs"].append(f"{comp.field}.gas_use")
        rec["provenance"] = []
        return rec
    rec = make(source_kind="heating", category="gasloos", label="gasless (no on-site combustion)",
               sector_id=sector)
    rec["provenance"] = []
    return rec
