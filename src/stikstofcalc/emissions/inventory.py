"""Projects -> tidy emission-source table per phase, calendar year and source.

This is the layer-3 chain of the emission side: it expands each project into
activities (:mod:`.construction`, :mod:`.usephase`), spreads the realisation
phase over calendar years, looks up the factors once, and evaluates the pure
models of :mod:`.emissions` on whole columns at once (one call for all rows of
all cases). Every row keeps the key-figure rows (with status) and the project
fields it came from; :func:`explain` prints that trace in plain language.
"""

from __future__ import annotations

import contextlib
import re
import datetime as dt
import gc
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc.errors import StikstofError, dutch_notation
from stikstofcalc.emissions import models as emissions
from stikstofcalc import rules
from stikstofcalc.io.atomic import write_csv_atomic, write_text_atomic  # noqa: F401 (re-exported)
from stikstofcalc.emissions.construction import memo, realisation_activities
from stikstofcalc.geo.geometry import parse_wkt
from stikstofcalc.emissions.project import Project, kengetallen_for, read_project
from stikstofcalc.emissions.sources import (DEFAULT_MACHINERY_HEAT, SMALL_SITE_M2, apply_machinery_heat,
                                           machinery_heat_choice, outline_wkt)
from stikstofcalc.emissions.usephase import use_activities, use_year
from stikstofcalc.units import unit_nl as nl

STAGNATION_ROAD_TYPE = {
    "stad_normaal": "stad_stagnerend", "stad_doorstromend": "stad_stagnerend",
    "stad_stagnerend": "stad_stagnerend", "buitenweg": "buitenweg",
}
"""Road type whose factor applies to the stagnating share (SRM convention; snelweg -> snelweg_file)."""
STATUS_ORDER = ("verified", "reported", "user", "estimate")

COLUMNS = [
    "case", "phase", "year", "source_kind", "category", "label", "component", "sector_id",
    "period_fraction", "fuel_l", "hours_h", "adblue_l", "vehicles_per_year", "route", "road_type",
    "length_m", "stagnation_fraction", "gas_m3", "nox_kg_per_yr", "nh3_kg_per_yr",
    "height_m", "heat_mw", "spread_m", "x_m", "y_m", "geometry_wkt", "basis", "uses_estimate",
    "overridden", "provenance", "inputs", "notes", "edition",
    "factor_nox_per_fuel", "factor_nox_per_hour", "factor_nox_per_adblue", "max_adblue_fuel_ratio",
    "factor_nh3_per_fuel", "factor_nh3_per_hour", "factor_nox_per_vehicle_km",
    "factor_nox_per_vehicle_km_stagnated", "factor_nh3_per_vehicle_km",
    "factor_nh3_per_vehicle_km_stagnated", "factor_year",
]


def stagnation_type(road_type: str) -> str:
    """The road type whose emission factors hold in congestion on ``road_type``."""
    if road_type.startswith("snelweg"):
        return "snelweg_file"
    return STAGNATION_ROAD_TYPE.get(road_type, road_type)


# ----------------------------------------------------------------------------- years


def _spread_over_years(records, project):
    """Realisation records (whole period) -> one record per calendar year it touches.

    The records of a component share its period: the year fractions are computed once
    per distinct period (the model is elementwise, so the numbers are the same).
    """
    if not records:
        return []
    periods = list(dict.fromkeys((r["period_start"], r["period_end"]) for r in records))
    start = np.array([p[0].toordinal() for p in periods], dtype=float)
    end = np.array([p[1].toordinal() for p in periods], dtype=float)
    first = min(p[0] for p in periods).year
    last = max(p[1] - dt.timedelta(days=1) for p in periods).year
    years = np.arange(first, last + 1)
    y0 = np.array([dt.date(int(y), 1, 1).toordinal() for y in years], dtype=float)
    y1 = np.array([dt.date(int(y) + 1, 1, 1).toordinal() for y in years], dtype=float)
    frac = emissions.year_fractions(start, end, y0, y1)
    mode = project.construction.year_split
    if mode == "aerius":  # rule "calendar_year": a phase of at most a year counts in its start year
        phase_end = max(p[1] for p in periods) - dt.timedelta(days=1)
        rule_years, _ = rules.calendar_year_shares(min(p[0] for p in periods), phase_end)
        single = len(rule_years) == 1
    else:
        single = mode == "een_jaar"
    if single:
        frac = np.zeros_like(frac)
        frac[:, 0] = 1.0
    shares = {p: [(int(years[j]), float(frac[i, j])) for j in np.flatnonzero(frac[i] > 0)]
              for i, p in enumerate(periods)}
    note = [f"year_split {mode}: de hele realisatiefase geteld in {years[0]}"] \
        if single and len(years) > 1 else []
    out = []
    for r in records:  # the year records share the activity's lists (never changed in place)
        notes = r["notes"] + note if note else r["notes"]
        for year, f in shares[(r["period_start"], r["period_end"])]:
            out.append({**r, "fuel_l": r["fuel_l"] * f, "hours_h": r["hours_h"] * f,
                        "adblue_l": r["adblue_l"] * f, "movements": r["movements"] * f,
                        "year": year, "period_fraction": f, "notes": notes})
    return out


# ----------------------------------------------------------------------------- factors


# The lists of a record (provenance, inputs, notes) may be shared by the records of one
# activity in its calendar years: they are replaced, never changed in place.


def _entry(fig):
    return (fig.row_id, fig.status, fig.overridden)


def _machinery_figures(kg, category):
    """Factor columns and provenance entries of a machinery category (memoised per edition)."""
    def compute():
        values, prov = {}, []
        for q in ("nox_per_fuel", "nox_per_hour", "nox_per_adblue", "max_adblue_fuel_ratio",
                  "nh3_per_fuel", "nh3_per_hour"):
            fig = kg.figure("machinery_factors", category, q, required=False)
            key = q if q == "max_adblue_fuel_ratio" else f"factor_{q}"
            values[key] = fig.value if fig else 0.0
            if fig:
                prov.append(_entry(fig))
        return values, prov
    return memo(kg, ("machinery_factors", category), compute)


def _machinery_factors(rec, kg):
    values, prov = _machinery_figures(kg, rec["category"])
    rec.update(values)
    rec["provenance"] = rec["provenance"] + prov


def _road_figures(kg, rec_year, road, vc, stagnating):
    """(factor year, note or None, factor columns, provenance entries) of one road-traffic row.

    The factors of the tabulated year nearest to ``rec_year``, for free-flowing traffic and,
    when ``stagnating``, for the stagnating share; memoised per edition.
    """
    def compute():
        years = sorted(int(y) for y in _values(kg, "road_factors_nox", "year"))
        year = min(max(rec_year, years[0]), years[-1])
        note = None
        if year != rec_year:
            note = f"wegverkeerfactoren voor {rec_year} niet in de tabel ({years[0]}-{years[-1]}): {year} gebruikt"
        stag = stagnation_type(road)
        values, prov = {}, []
        pairs = (("factor_nox_per_vehicle_km", "road_factors_nox", (year, road, vc), "nox_per_vehicle_km"),
                 ("factor_nh3_per_vehicle_km", "road_factors_nh3", (road, vc), "nh3_per_vehicle_km"))
        for key, table, keys, q in pairs:
            fig = kg.figure(table, keys, q)
            values[key] = fig.value
            prov.append(_entry(fig))
            if stagnating:
                skeys = (year, stag, vc) if table == "road_factors_nox" else (stag, vc)
                sfig = kg.figure(table, skeys, q)
                values[key + "_stagnated"] = sfig.value
                prov.append(_entry(sfig))
            else:
                values[key + "_stagnated"] = fig.value
        return year, note, values, prov
    return memo(kg, ("road_factors", rec_year, road, vc, stagnating), compute)


def _values(kg, table, column):
    return memo(kg, ("values", table, column), lambda: kg.values(table, column))


def _road_factors(rec, kg):
    year, note, values, prov = _road_figures(kg, rec["year"], rec["road_type"], rec["category"],
                                             rec["stagnation_fraction"] > 0)
    if note is not None:
        rec["notes"] = rec["notes"] + [note]
    rec["factor_year"] = year
    rec.update(values)
    rec["provenance"] = rec["provenance"] + prov


def _heating_figures(kg, category):
    """Model inputs and provenance entries of a heating category (memoised per edition)."""
    def compute():
        if category == "gasketel":
            energy = kg.figure("heating_factors", "gasketel", "gas_energy_content")
            nox = kg.figure("heating_factors", "gasketel", "nox_per_energy")
            return {"_gas_energy": energy.value, "_nox_per_energy": nox.value}, [_entry(energy), _entry(nox)]
        figs = (kg.figure("heating_factors", "gasloos", "nox_per_unit"),
                kg.figure("heating_factors", "gasloos", "nh3_per_unit"))
        return {}, [_entry(f) for f in figs]
    return memo(kg, ("heating_factors", category == "gasketel"), compute)


def _heating_factors(rec, kg):
    values, prov = _heating_figures(kg, rec["category"])
    rec.update(values)
    rec["provenance"] = rec["provenance"] + prov


def _sector_figures(kg, sid):
    """(column, figure or None) of the source characteristics of a sector (memoised per edition)."""
    def compute():
        return tuple((key, kg.figure("source_characteristics", sid, q, required=False) if sid else None)
                     for key, q in (("height_m", "height"), ("heat_mw", "heat_content"), ("spread_m", "spread")))
    return memo(kg, ("source_characteristics", sid), compute)


def _sector_defaults(kg, sid):
    """Columns and provenance entries of a sector's characteristics (memoised per edition)."""
    def compute():
        figs = _sector_figures(kg, sid)
        return {key: fig.value if fig else np.nan for key, fig in figs}, [_entry(f) for _, f in figs if f]
    return memo(kg, ("source_characteristics_defaults", sid), compute)


def _characteristics(rec, kg):
    if "height_m" not in rec and "heat_mw" not in rec and "spread_m" not in rec:  # none given
        values, prov = _sector_defaults(kg, rec.get("sector_id"))
        rec.update(values)
        rec["provenance"] = rec["provenance"] + prov
        return
    for key, fig in _sector_figures(kg, rec.get("sector_id")):
        if rec.get(key) is not None and not (isinstance(rec[key], float) and np.isnan(rec[key])):
            continue
        rec[key] = fig.value if fig else np.nan
        if fig:
            rec["provenance"] = rec["provenance"] + [_entry(fig)]


# ----------------------------------------------------------------------------- geometry


def _site_wkt(location) -> str | None:
    """The site outline as a WKT polygon when machinery is modelled as an area source.

    The same rule as :func:`stikstofcalc.emissions.sources.row_keys`: an outline of at least
    :data:`~stikstofcalc.emissions.sources.SMALL_SITE_M2` is an area source; a smaller site
    (or none) is a point at the location.
    """
    if not location.outline:
        return None
    wkt = outline_wkt(location.outline)
    return wkt if parse_wkt(wkt).area_m2 >= SMALL_SITE_M2 else None


def _wkt(project, rec, site=None):
    """Geometry of one emission row (RD New WKT) as the deposition models it, or None.

    Route traffic: the route's polyline (None for a length and a bearing; the line is
    built in :mod:`.sources`); machinery: ``site`` (:func:`_site_wkt`) when given;
    everything else, and machinery on a small site: a point at ``x_m``, ``y_m`` (else
    at the location).
    """
    if rec["route"] is not None:
        route = next(r for r in project.routes if r.name == rec["route"])
        if route.geometry:
            return "LINESTRING (" + ", ".join(f"{x:.2f} {y:.2f}" for x, y in route.geometry) + ")"
        return None
    if site is not None and rec["source_kind"] == "machinery":
        return site
    if rec.get("x_m") is not None:
        return f"POINT ({rec['x_m']:.2f} {rec['y_m']:.2f})"
    loc = project.location  # a reference source without its own x, y
    if loc.x is not None:
        return f"POINT ({loc.x:.2f} {loc.y:.2f})"
    return None


# ----------------------------------------------------------------------------- assembly


def _reference_records(project, year):
    out = []
    if project.reference is None:
        return out
    for i, s in enumerate(project.reference.sources):
        out.append(dict(case=project.name, phase="referentie", year=year, source_kind="reference",
                        category="reference", label=s.name, component=None, sector_id=s.sector_id,
                        fuel_l=0.0, hours_h=0.0, adblue_l=0.0, movements=0.0, gas_m3=0.0,
                        route=None, road_type=None, length_m=0.0, stagnation_fraction=0.0,
                        _nox=s.nox_kg_per_yr, _nh3=s.nh3_kg_per_yr, x_m=s.x, y_m=s.y,
                        height_m=s.height_m, heat_mw=s.heat_mw, spread_m=s.spread_m,
                        provenance=[], inputs=[f"reference.sources[{i}]"],
                        notes=["referentiesituatie: overgenomen, niet berekend"]))
    return out


def project_records(project, kg):
    """All activity records of one project, per year, with factors looked up.

    Machinery (realisation phase only) gets its factors and source characteristics
    once per activity, before the activity is spread over calendar years: neither
    depends on the year. Road factors do, so traffic gets them per year.
    """
    realisation = realisation_activities(project, kg)
    end = max((r["period_end"] for r in realisation), default=project.construction.start)
    year = use_year(project, end)
    for rec in realisation:
        if rec["source_kind"] == "machinery":
            _machinery_factors(rec, kg)
            _characteristics(rec, kg)
    records = _spread_over_years(realisation, project) + use_activities(project, kg, year)
    for rec in records:
        rec.setdefault("period_fraction", 1.0)
        kind = rec["source_kind"]
        if kind in ("construction_traffic", "use_traffic"):
            _road_factors(rec, kg)
        elif kind == "heating":
            _heating_factors(rec, kg)
    records += _reference_records(project, year)
    site = _site_wkt(project.location)
    x, y, edition = project.location.x, project.location.y, kg.edition
    geometry = {}  # of a project row: by route and whether it is machinery
    for rec in records:
        if rec["source_kind"] != "machinery":
            _characteristics(rec, kg)
        if rec["source_kind"] != "reference":
            rec["x_m"], rec["y_m"] = x, y
            key = (rec["route"], rec["source_kind"] == "machinery")
            if key not in geometry:
                geometry[key] = _wkt(project, rec, site)
            rec["geometry_wkt"] = geometry[key]
        else:
            rec["geometry_wkt"] = _wkt(project, rec, site)
        rec["edition"] = edition
    return records


def _col(frame, name):
    return frame[name].fillna(0.0).to_numpy(dtype=float) if name in frame else np.zeros(len(frame))


def compute(frame: pd.DataFrame) -> pd.DataFrame:
    """Evaluate the emission models on all rows at once (NOx and NH3 in kg/yr)."""
    c = {k: _col(frame, k) for k in (
        "fuel_l", "hours_h", "adblue_l", "movements", "length_m", "stagnation_fraction", "gas_m3",
        "factor_nox_per_fuel", "factor_nox_per_hour", "factor_nox_per_adblue",
        "max_adblue_fuel_ratio", "factor_nh3_per_fuel", "factor_nh3_per_hour",
        "factor_nox_per_vehicle_km", "factor_nox_per_vehicle_km_stagnated",
        "factor_nh3_per_vehicle_km", "factor_nh3_per_vehicle_km_stagnated",
        "_gas_energy", "_nox_per_energy", "_nox", "_nh3")}
    nox = (emissions.machinery_emission(
        c["fuel_l"], c["hours_h"], c["adblue_l"], factor_per_fuel=c["factor_nox_per_fuel"],
        factor_per_hour=c["factor_nox_per_hour"], factor_per_adblue=c["factor_nox_per_adblue"],
        max_adblue_fuel_ratio=c["max_adblue_fuel_ratio"])
        + emissions.road_emission(
            c["movements"], c["length_m"], c["factor_nox_per_vehicle_km"],
            stagnated_factor_per_vehicle_km=c["factor_nox_per_vehicle_km_stagnated"],
            stagnation_fraction=c["stagnation_fraction"])
        + emissions.combustion_emission(c["gas_m3"], gas_energy_content_kwh_m3=c["_gas_energy"],
                                        factor_per_energy_g_kwh=c["_nox_per_energy"])
        + c["_nox"])
    nh3 = (emissions.machinery_emission(
        c["fuel_l"], c["hours_h"], 0.0, factor_per_fuel=c["factor_nh3_per_fuel"],
        factor_per_hour=c["factor_nh3_per_hour"])
        + emissions.road_emission(
            c["movements"], c["length_m"], c["factor_nh3_per_vehicle_km"],
            stagnated_factor_per_vehicle_km=c["factor_nh3_per_vehicle_km_stagnated"],
            stagnation_fraction=c["stagnation_fraction"])
        + c["_nh3"])
    out = frame.copy()
    out["nox_kg_per_yr"], out["nh3_kg_per_yr"] = nox, nh3
    return out


PHASE_ORDER = {"realisatie": 0, "gebruik": 1, "referentie": 2}
"""Row order within a case: phase, then calendar year (then the order of the activities)."""
_FRAME_COLUMNS = [c for c in COLUMNS if c not in ("nox_kg_per_yr", "nh3_kg_per_yr", "vehicles_per_year")] + [
    "movements", "_gas_energy", "_nox_per_energy", "_nox", "_nh3"]
"""Columns taken from the records: the table's, and the model inputs that are not shown."""


def _texts(records) -> None:
    """Provenance, inputs and notes of every record as text; the status summary (in place).

    ``basis`` is the weakest status of the key figures used (else ``input`` for a row
    of the user's own numbers, else ``verified``); ``uses_estimate`` and ``overridden``
    whether any of them is an estimate or an override. The rows of a chunk share a few
    dozen distinct provenance lists, so each is rendered once.
    """
    seen, same = {}, {}  # by content; by identity of a (shared) list
    for rec in records:
        hit = same.get(id(rec["provenance"]))
        if hit is not None and hit[0] is rec["provenance"]:
            done = hit[1]
        else:
            done = _provenance_text(rec["provenance"], seen)
            same[id(rec["provenance"])] = (rec["provenance"], done)
        worst, estimate, overridden, text = done
        rec["basis"] = worst if worst is not None else "input" if rec["inputs"] else "verified"
        rec["uses_estimate"], rec["overridden"], rec["provenance"] = estimate, overridden, text
        rec["inputs"] = "; ".join(dict.fromkeys(rec["inputs"])) if rec["inputs"] else ""
        rec["notes"] = "; ".join(dict.fromkeys(rec["notes"])) if rec["notes"] else ""


def _provenance_text(prov, seen):
    """(weakest status or None, any estimate, any override, text) of a provenance list."""
    prov = tuple(prov)
    done = seen.get(prov)
    if done is None:
        statuses = {p[1] for p in prov}
        worst = next((st for st in reversed(STATUS_ORDER) if st in statuses), None)
        text = "; ".join(dict.fromkeys(f"{rid} [{st}{', override' if ov else ''}]" for rid, st, ov in prov))
        done = seen[prov] = (worst, "estimate" in statuses, any(x[2] for x in prov), text)
    return done


def _frame(records) -> pd.DataFrame:
    """The records, in table order (case, phase, year; stable), as one DataFrame."""
    records = sorted(records, key=lambda r: (r["case"], PHASE_ORDER[r["phase"]], r["year"]))
    _texts(records)
    return pd.DataFrame.from_records(records, columns=_FRAME_COLUMNS)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Vehicles per year, nullable sector ids, the fixed column order (of :func:`compute`'s copy)."""
    frame["vehicles_per_year"] = frame["movements"]
    frame["sector_id"] = frame["sector_id"].astype("Int64")
    frame["year"] = frame["year"].astype(int)
    return frame[COLUMNS]


def emission_sources(projects, *, kengetallen=None) -> pd.DataFrame:
    """The tidy emission-source table of one project or many.

    Parameters
    ----------
    projects : Project, path or sequence of them
        Validated projects (:func:`~stikstofcalc.emissions.project.read_project`) or TOML paths.
    kengetallen : Kengetallen, optional
        Key figures to use for every project; default: the edition (and
        override file) each project names.

    Returns
    -------
    pandas.DataFrame
        One row per case, phase, calendar year and source; columns in
        :data:`COLUMNS`. ``attrs["provenance"]`` holds, per case, the
        edition, table hashes and the overridden rows.
    """
    if isinstance(projects, (Project, str, Path)):
        projects = [projects]
    projects = [p if isinstance(p, Project) else read_project(p) for p in projects]
    records, provenance, heat = [], {}, {}
    with _no_cyclic_gc():
        for project in projects:
            kg = kengetallen if kengetallen is not None else kengetallen_for(project)
            # the project's construction.werktuig_warmte (refused here when unknown): the
            # emissions output, the IMAER export and the batch's bronnen use it as calc does
            choice = machinery_heat_choice(None, project)
            if choice != DEFAULT_MACHINERY_HEAT:
                heat[project.name] = (choice, kg)
            try:
                records += project_records(project, kg)
            except StikstofError as exc:  # every error of a project names its file, as the read's
                for e in getattr(exc, "errors", None) or [exc]:
                    if e.file is None:
                        e.file = project.file
                raise
            provenance[project.name] = kg.provenance()
        frame = _frame(records)
        del records  # freed here, before the collector is back
    frame = _finish(compute(frame))
    for name, (choice, kg) in heat.items():
        rows = (frame["case"] == name).to_numpy()
        part = apply_machinery_heat(frame.loc[rows], kg, choice)
        if part is not frame.loc[rows]:
            frame.loc[rows, ["heat_mw", "provenance"]] = part[["heat_mw", "provenance"]].to_numpy()
    frame.attrs["provenance"] = provenance
    return frame


@contextlib.contextmanager
def _no_cyclic_gc():
    """No cyclic garbage collection while the records of a chunk are built.

    The records are thousands of small dicts and lists, all freed by reference counting
    once the table is built; left on, the collector promotes them and then sweeps the
    whole heap for them (about a quarter of the inventory's time in a batch worker).
    A collector the caller turned off stays off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def totals(table: pd.DataFrame) -> pd.DataFrame:
    """NOx and NH3 per case, phase and year [kg/yr], with whether estimates were used."""
    return (table.groupby(["case", "phase", "year"], sort=False)
            .agg(nox_kg_per_yr=("nox_kg_per_yr", "sum"), nh3_kg_per_yr=("nh3_kg_per_yr", "sum"),
                 sources=("nox_kg_per_yr", "size"), uses_estimate=("uses_estimate", "any"))
            .reset_index())


# ----------------------------------------------------------------------------- explain


#: Source kinds as ``--explain`` names them.
_KIND_NL = {"machinery": "werktuig", "construction_traffic": "bouwverkeer", "use_traffic": "verkeer gebruiksfase",
            "heating": "verwarming", "custom": "eigen bron", "reference": "referentie"}
#: The one table of Dutch labels for the internal values of an emission-source table
#: (``source_kind``; the few internal English source labels). The code keeps the internal
#: values; user outputs show these (:func:`dutch_sources`), readers accept both.
SOURCE_KIND_NL = _KIND_NL
SOURCE_LABEL_NL = {"gas boiler": "gasketel", "gasless (no on-site combustion)": "gasloos (geen verbranding op de locatie)"}


def dutch_sources(table):
    """A copy of an emission-source table as a person reads it: ``source_kind`` and the
    internal English labels in Dutch (:data:`SOURCE_KIND_NL`, :data:`SOURCE_LABEL_NL`)."""
    out = table.copy()
    for col, names in (("source_kind", SOURCE_KIND_NL), ("label", SOURCE_LABEL_NL)):
        if col in out:
            out[col] = out[col].map(lambda v, names=names: names.get(v, v) if isinstance(v, str) else v)
    return out


def internal_source_kind(value):
    """The internal ``source_kind`` of a Dutch label (``werktuig`` -> ``machinery``), else ``value``."""
    back = {nl: kind for kind, nl in SOURCE_KIND_NL.items()}
    return back.get(value, value) if isinstance(value, str) else value


def unit_nl(unit):
    return nl(unit)


def _fmt(x, unit=""):
    """A number in Dutch notation (``1.234,5``, 4 significant digits) with its unit."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    text = f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"
    text = dutch_notation(text)
    return f"{text} {unit}".strip()


def _formula(row) -> str:
    kind = row["source_kind"]
    if kind == "machinery":
        parts = []
        if row["factor_nox_per_fuel"]:
            parts.append(f"{_fmt(row['factor_nox_per_fuel'], 'g/L')} x {_fmt(row['fuel_l'], 'L')}")
        if row["factor_nox_per_hour"]:
            parts.append(f"{_fmt(row['factor_nox_per_hour'], 'g/uur')} x {_fmt(row['hours_h'], 'uur')}")
        if row["factor_nox_per_adblue"]:
            parts.append(f"{_fmt(row['factor_nox_per_adblue'], 'g/L')} x min({_fmt(row['adblue_l'], 'L')} AdBlue, "
                         f"{_fmt(row['max_adblue_fuel_ratio'])} x {_fmt(row['fuel_l'], 'L')})")
        text = " + ".join(parts) if parts else "0"
        return "NOx = " + re.sub(r"\+ -(?=\d)", "- ", text) + " (niet onder 0)"  # "+ -460" reads "- 460"
    if kind in ("construction_traffic", "use_traffic"):
        stag = f", {row['stagnation_fraction']:.0%} stagnerend" if row["stagnation_fraction"] else ""
        return (f"NOx = {_fmt(row['vehicles_per_year'])} voertuigbewegingen/jaar x {_fmt(row['length_m'], 'm')} x "
                f"{_fmt(row['factor_nox_per_vehicle_km'], 'g/km')} ({row['road_type']}, "
                f"{int(row['factor_year'])}{stag}); NH3 met {_fmt(row['factor_nh3_per_vehicle_km'], 'g/km')}")
    if kind == "heating":
        return ("gasketel: gasvolume x energie-inhoud x NOx per energie" if row["category"] == "gasketel"
                else "gasloos gebouw: geen verbranding op de locatie")
    return "opgegeven door de gebruiker"


def explain(table: pd.DataFrame, case: str | None = None) -> str:
    """A plain-language trace of every number for one case (default: the first)."""
    case = case if case is not None else table["case"].iloc[0]
    rows = table[table["case"] == case]
    prov = table.attrs.get("provenance", {}).get(case, {})
    lines = [f'Zaak "{case}"', f"  kengetallen editie {prov.get('edition', rows['edition'].iloc[0])}"]
    for name, digest in sorted(prov.get("hashes", {}).items()):
        lines.append(f"    {name}: sha256 {digest[:16]}")
    for o in prov.get("overrides", []):
        old = "nieuwe rij" if o["old_value"] is None else f"was {_fmt(o['old_value'])}"
        lines.append(f"  OVERRIDE {o['row_id']} = {_fmt(o['new_value'])} {unit_nl(o['unit'])} ({old}; "
                     f"{o['file']} regel {o['line']})")
    if rows["uses_estimate"].any():
        lines.append("  LET OP: deze uitkomst steunt op GESCHATTE kengetallen (hieronder [estimate]); "
                     "een voortoets, geen vergunningberekening.")
    for (phase, year), grp in rows.groupby(["phase", "year"], sort=False):
        lines.append("")
        lines.append(f"{phase} {year}: NOx {_fmt(grp['nox_kg_per_yr'].sum(), 'kg/jaar')}, "
                     f"NH3 {_fmt(grp['nh3_kg_per_yr'].sum(), 'kg/jaar')}"
                     + ("  [steunt op schattingen]" if grp["uses_estimate"].any() else ""))
        for _, r in grp.iterrows():
            share = f", {r['period_fraction']:.0%} van zijn periode" if phase == "realisatie" else ""
            lines.append(f"  - {_KIND_NL.get(r['source_kind'], r['source_kind'])} {r['category']}: {r['label']} "
                         f"[{r['component'] if isinstance(r['component'], str) else '-'}{share}]")
            lines.append(f"      NOx {_fmt(r['nox_kg_per_yr'], 'kg/jaar')}, NH3 {_fmt(r['nh3_kg_per_yr'], 'kg/jaar')}; "
                         f"sector {r['sector_id']}: hoogte {_fmt(r['height_m'], 'm')}, warmte "
                         f"{_fmt(r['heat_mw'], 'MW')}, spreiding {_fmt(r['spread_m'], 'm')}")
            lines.append(f"      {_formula(r)}")
            if r["provenance"]:
                lines.append(f"      kengetallen: {r['provenance']}")
            if r["inputs"]:
                lines.append(f"      uw invoer: {r['inputs']}")
            if r["notes"]:
                lines.append(f"      opmerking: {r['notes']}")
    return "\n".join(lines)
