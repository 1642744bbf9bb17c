"""Realisation phase (realisatiefase): project + key figures -> activities, scheduled.

An *activity* is one machine (or fleet share of it), one vehicle class on one
route, for one project component over its construction period. This module
expands a :class:`~stikstofcalc.emissions.project.Project` into activity records with
their whole-period quantities and the key-figure rows they came from; the
inventory then spreads them over calendar years and applies the emission
models. Explicit user input (machines, truck counts) replaces the defaults of
that component.
"""

from __future__ import annotations

import datetime as dt
import weakref

from stikstofcalc.caches import register
from stikstofcalc.errors import InputError
from stikstofcalc.emissions.project import add_duration

SECTOR_MACHINERY = 3220  # AERIUS sector: Mobiele werktuigen, Bouw, Industrie en Delfstoffenwinning
SECTOR_ROAD = 3100  # AERIUS sector: Verkeer, Rijdend verkeer
DIESEL = "DIESEL"  # construction_machinery category resolved by the fleet choice
ELECTRIC = "ELEKTRISCH"


_MEMO: "weakref.WeakKeyDictionary" = register("stikstofcalc.emissions.construction._MEMO", weakref.WeakKeyDictionary())


def memo(kg, key, compute):
    """``compute()`` once per key-figure object and ``key`` (pandas selections, labels).

    The tables of a :class:`~stikstofcalc.kengetallen.Kengetallen` never change after
    loading, so what is derived from them can be kept as long as the object lives.
    A :class:`MemoisedKengetallen` carries its object's store (no weak-reference look-up
    per call: the inventory asks several times per emission row).
    """
    store = kg._memo if isinstance(kg, MemoisedKengetallen) else _store(kg)
    try:
        return store[key]
    except KeyError:
        value = store[key] = compute()
        return value


def _store(kg) -> dict:
    """The memo of a key-figure object (kept as long as the object lives)."""
    kg = getattr(kg, "_kg", kg)
    store = _MEMO.get(kg)
    if store is None:
        store = _MEMO[kg] = {}
    return store


class MemoisedKengetallen:
    """A read-only view of a Kengetallen whose pandas-backed look-ups are memoised.

    ``labels`` and ``values`` filter a pandas table on every call (milliseconds); in a
    batch they are asked the same questions thousands of times. Everything else is the
    wrapped object's (``figure`` and ``has`` are dictionary look-ups already).
    """

    def __init__(self, kg):
        self._kg = getattr(kg, "_kg", kg)
        self._memo = _store(self._kg)

    def __getattr__(self, name):
        return getattr(self._kg, name)

    def __repr__(self):
        return f"<memoised {self._kg!r}>"

    def labels(self, table, keys) -> dict:
        return dict(memo(self._kg, ("labels", table, keys), lambda: self._kg.labels(table, keys)))

    def values(self, table, column) -> list:
        return list(memo(self._kg, ("values", table, column), lambda: self._kg.values(table, column)))


def memoised(kg):
    """``kg`` wrapped in :class:`MemoisedKengetallen` (idempotent)."""
    return kg if isinstance(kg, MemoisedKengetallen) else MemoisedKengetallen(kg)


def label_info(kg, table, keys) -> dict:
    """The label row ``keys`` of key-figure table ``table`` (memoised per edition)."""
    return memo(kg, ("labels", table, keys), lambda: kg.labels(table, keys))


def _type_durations(kg, project_type):
    """(basis, stage, fixed duration figure, duration per unit figure) of a project type.

    Memoised per edition, like every selection below: a batch asks the same question
    for every component of every case.
    """
    def compute():
        info = label_info(kg, "project_types", project_type)
        return (info["basis"], info["stage"],
                kg.figure("project_types", project_type, "duration_fixed"),
                kg.figure("project_types", project_type, "duration_per_unit"))
    return memo(kg, ("durations", project_type), compute)


def _prov(fig, note=None):
    """A provenance entry for a key figure (None-safe)."""
    if fig is None:
        return []
    return [(fig.row_id, fig.status, fig.overridden)]


def unit_size(comp, basis) -> float:
    """Number of homes, or floor/site area [m2], of a component."""
    return float(comp.count) if basis == "woning" else float(comp.area_m2)


def schedule(project, kg):
    """Construction period of every component: {index: (start, end, provenance)}.

    Preparation components (stage ``voorbereiding``: demolition, site
    preparation) run one after another first; building components then run in
    parallel, each for its own default duration. A project end or duration
    given by the user scales all default durations to fit it.
    """
    prov, parts = {}, []
    for comp in project.components:
        basis, stage, fixed, per = _type_durations(kg, comp.type)
        months = fixed.value + per.value * unit_size(comp, basis)
        parts.append((comp.index, stage, months))
        prov[comp.index] = _prov(fixed) + _prov(per)
    prep = [p for p in parts if p[1] != "bouw"]
    build = [p for p in parts if p[1] == "bouw"]
    total = sum(p[2] for p in prep) + max((p[2] for p in build), default=0.0)
    start = project.construction.start
    user_end = project.construction.end
    default_end = add_duration(start, total)
    scale = ((user_end - start).days / max((default_end - start).days, 1)) if user_end else 1.0
    if user_end and len(parts) == 1:
        prov = {k: [] for k in prov}  # the user's own period fully determines it
    periods, cursor = {}, start
    for index, _, months in prep:
        end = cursor + dt.timedelta(days=(add_duration(start, months) - start).days * scale)
        periods[index] = (cursor, end, prov[index])
        cursor = end
    for index, _, months in build:
        end = cursor + dt.timedelta(days=(add_duration(start, months) - start).days * scale)
        periods[index] = (cursor, min(end, user_end) if user_end else end, prov[index])
    return periods


def _base(project, comp, period, **kw):
    rec = dict(case=project.name, phase="realisatie", component=comp.label,
               component_index=comp.index, period_start=period[0], period_end=period[1],
               fuel_l=0.0, hours_h=0.0, adblue_l=0.0, movements=0.0, gas_m3=0.0,
               route=None, road_type=None, length_m=0.0, stagnation_fraction=0.0,
               provenance=list(period[2]), inputs=[], notes=[])
    rec.update(kw)
    return rec


def _machine_records(project, comp, period, kg, basis):
    """Default machinery of a component, resolved by the fleet choice."""
    size = unit_size(comp, basis)
    cons = project.construction
    out = []
    for machine, category, fuel_fig, hours_fig in _type_machinery(kg, comp.type):
        fuel = fuel_fig.value * size if fuel_fig else 0.0
        hours = hours_fig.value * size if hours_fig else 0.0
        base_prov = _prov(fuel_fig) + _prov(hours_fig)
        if category != DIESEL:
            out.append(_base(project, comp, period, source_kind="machinery", category=category,
                             label=machine, sector_id=SECTOR_MACHINERY, fuel_l=fuel, hours_h=hours,
                             provenance=list(period[2]) + base_prov))
            continue
        for cat, share_fig, typical in _fleet_shares(kg, cons.fleet):
            share = share_fig.value * (1.0 - cons.electric_share)
            out.append(_machine_share(project, comp, period, typical, machine, cat, share, fuel, hours,
                                      base_prov + _prov(share_fig)))
        if cons.electric_share > 0:
            rec = _base(project, comp, period, source_kind="machinery", category=ELECTRIC,
                        label=f"{machine} ({cons.electric_share:.0%} elektrisch)",
                        sector_id=SECTOR_MACHINERY, fuel_l=0.0, hours_h=hours * cons.electric_share,
                        provenance=list(period[2]) + base_prov)
            rec["inputs"].append("construction.electric_share")
            out.append(rec)
    return out


def _type_machines(kg, project_type):
    """(machine, category) of the default machinery of a project type, in table order."""
    def compute():
        table = kg.tables["construction_machinery"]
        rows = table[table["project_type"] == project_type]
        return tuple((machine, grp["category"].iloc[0])
                     for machine, grp in rows.groupby("machine", sort=False))
    return memo(kg, ("machines", project_type), compute)


def _type_machinery(kg, project_type):
    """(machine, category, fuel figure, hours figure) of a project type's default machinery."""
    def compute():
        table = "construction_machinery"
        return tuple((machine, category,
                      kg.figure(table, (project_type, machine), "fuel_per_unit", required=False),
                      kg.figure(table, (project_type, machine), "hours_per_unit", required=False))
                     for machine, category in _type_machines(kg, project_type))
    return memo(kg, ("machinery", project_type), compute)


def _fleet_shares(kg, fleet):
    """(category, share figure, typical AdBlue/fuel ratio figure or None) of a fleet choice."""
    def compute():
        return tuple((cat, kg.figure("fleet_mix", (fleet, cat), "share"),
                      kg.figure("machinery_factors", cat, "typical_adblue_fuel_ratio", required=False))
                     for cat in _fleet_categories(kg, fleet))
    return memo(kg, ("fleet_shares", fleet), compute)


def _fleet_categories(kg, fleet):
    def compute():
        mix = kg.tables["fleet_mix"]
        return tuple(mix[mix["fleet"] == fleet]["category"])
    return memo(kg, ("fleet", fleet), compute)


def _traffic_classes(kg, project_type):
    def compute():
        table = kg.tables["construction_traffic"]
        return tuple(table[table["project_type"] == project_type]["vehicle_class"])
    return memo(kg, ("construction_traffic", project_type), compute)


def _traffic_figures(kg, project_type):
    """(vehicle class, movements per unit figure) of a project type's construction traffic."""
    def compute():
        return tuple((vc, kg.figure("construction_traffic", (project_type, vc), "movements_per_unit"))
                     for vc in _traffic_classes(kg, project_type))
    return memo(kg, ("construction_traffic_figures", project_type), compute)


def _machine_share(project, comp, period, typical, machine, cat, share, fuel, hours, prov):
    fuel_share = fuel * share
    rec = _base(project, comp, period, source_kind="machinery", category=cat,
                label=f"{machine} ({share:.0%} {cat})", sector_id=SECTOR_MACHINERY,
                fuel_l=fuel_share, hours_h=hours * share,
                adblue_l=typical.value * fuel_share if typical else 0.0,
                provenance=list(period[2]) + prov + _prov(typical))
    return rec


def _user_machine_records(project, comp, period, kg):
    """Machines the user listed: their own activity wins over every default."""
    out = []
    for m in comp.machines:
        fuel, hours, prov, inputs = m.fuel_l, m.hours_h, [], [m.field]
        if (fuel is None or hours is None) and m.power_kw is not None:
            a = kg.figure("fuel_use", "aub_generiek", "fuel_per_hour_per_power")
            b = kg.figure("fuel_use", "aub_generiek", "fuel_per_hour_base")
            rate = a.value * m.power_kw + b.value
            fuel = hours * rate if fuel is None and hours is not None else fuel
            hours = fuel / rate if hours is None and fuel is not None else hours
            prov += _prov(a) + _prov(b)
        needs_fuel = any(kg.has("machinery_factors", m.category, q) and
                         kg.figure("machinery_factors", m.category, q).value != 0
                         for q in ("nox_per_fuel", "nh3_per_fuel"))
        needs_hours = any(kg.has("machinery_factors", m.category, q) and
                          kg.figure("machinery_factors", m.category, q).value != 0
                          for q in ("nox_per_hour", "nh3_per_hour"))
        if needs_fuel and fuel is None:
            raise InputError(f"categorie {m.category} heeft het brandstofverbruik nodig", case=project.name,
                             field=f"{m.field}.fuel", expected="fuel (L), of hours en power (kW)")
        if needs_hours and hours is None:
            raise InputError(f"categorie {m.category} heeft de draaiuren nodig", case=project.name,
                             field=f"{m.field}.hours", expected="hours (uur), of fuel en power (kW)")
        adblue = m.adblue_l
        if adblue is None:
            typical = kg.figure("machinery_factors", m.category, "typical_adblue_fuel_ratio",
                                required=False)
            adblue = typical.value * (fuel or 0.0) if typical else 0.0
            prov += _prov(typical)
        rec = _base(project, comp, period, source_kind="machinery", category=m.category,
                    label=m.name, sector_id=SECTOR_MACHINERY, fuel_l=fuel or 0.0,
                    hours_h=hours or 0.0, adblue_l=adblue, provenance=list(period[2]) + prov)
        rec["inputs"] = inputs
        out.append(rec)
    return out


def _traffic_records(project, comp, period, kg, basis):
    """Construction traffic per vehicle class and route (explicit counts win)."""
    per_class = {}
    for vc, fig in _traffic_figures(kg, comp.type):
        per_class[vc] = (fig.value * unit_size(comp, basis), _prov(fig), [])
    for vc, value in comp.construction_traffic.items():
        per_class[vc] = (value, [], [f"{comp.field}.construction_traffic.{vc}"])
    return route_records(project, per_class, lambda **kw: _base(project, comp, period, **kw),
                         "construction_traffic", f"{comp.field}.construction_traffic")


def route_records(project, per_class, make, kind, field):
    """Split movements per vehicle class over the project's routes."""
    out = []
    total = sum(v[0] for v in per_class.values())
    if total > 0 and not project.routes:
        raise InputError("verkeer maar geen toegangsroute", case=project.name, field="routes",
                         expected="minstens één tabel [[routes]] (road_type, length of geometry, share)")
    for vc, (movements, prov, inputs) in per_class.items():
        for i, route in enumerate(project.routes):
            rec = make(source_kind=kind, category=vc, label=f"{vc} via {route.name}",
                       sector_id=SECTOR_ROAD, movements=movements * route.share, route=route.name,
                       road_type=route.road_type, length_m=route.length_m,
                       stagnation_fraction=route.stagnation_fraction)
            rec["provenance"] += prov
            rec["inputs"] += inputs + [f"routes[{i}]"]
            out.append(rec)
    return out


def realisation_activities(project, kg):
    """All realisation-phase activity records of one project (whole-period quantities)."""
    periods = schedule(project, kg)
    out = []
    for comp in project.components:
        basis = label_info(kg, "project_types", comp.type)["basis"]
        period = periods[comp.index]
        if comp.machines is not None:
            out += _user_machine_records(project, comp, period, kg)
        else:
            out += _machine_records(project, comp, period, kg, basis)
        out += _traffic_records(project, comp, period, kg, basis)
    return out
