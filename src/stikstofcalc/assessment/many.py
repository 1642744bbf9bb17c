"""Many cases at once: the emission inventory of a whole chunk in one pass, then the assessment.

:func:`assess_many` is the batch's entry point (``batch.compute_chunk``). It gives the
same results as :func:`stikstofcalc.assessment.core.assess_project` per case (a test checks
a few hundred random cases to 1e-9 relative on deposition and exactly on verdicts):

1. key figures: one :class:`~stikstofcalc.emissions.construction.MemoisedKengetallen` per edition,
   so the pandas selections (machines per project type, fleet mix, labels, road-factor
   years) are made once per edition, not once per component;
2. emissions: one :func:`stikstofcalc.emissions.inventory.emission_sources` call per edition for
   all cases of the chunk (the emission models run on whole columns; the table is
   assembled and sorted once), split per case afterwards;
3. assessment: :func:`~stikstofcalc.assessment.core.assess_project` with the case's table
   (``plan=``), so nothing is computed twice.

4. the searches of all cases run in lock step (:func:`_drive_all`): each round's
   hexagon requests of every case go to the engine in one call with case codes, and
   the rounds share the sources' kernel tables (``deposition.fast.table_cache``).

The kernel envelopes of a chunk come from one pass (:func:`~stikstofcalc.assessment.core.envelope_many`).
What is still per case (see ``docs/batch.md``, "Speed"): receptor selection, the bounds,
the phase results and the headroom iterations (apart from their engine calls).
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass

import pandas as pd

from stikstofcalc.errors import StikstofError
from stikstofcalc.emissions.construction import memoised
from stikstofcalc.emissions.project import kengetallen_for
from stikstofcalc.emissions import inventory
from stikstofcalc.assessment.core import (EnvelopeRequest, assess_project_steps, envelope_many,
                                          take_surface, unit_deposition_many)
from stikstofcalc.deposition.fast import table_cache


@dataclass
class CaseOutcome:
    """One case of :func:`assess_many`: its emission table and Assessment, or its error."""

    table: pd.DataFrame | None
    assessment: object | None
    error: BaseException | None = None
    trace: str = ""


def _key_figures(projects, kengetallen):
    """Memoised key figures per project (one wrapper per distinct edition object).

    The edition and override file a project names are loaded once per call (finding
    the default edition reads the data folder; an override file is read and hashed).
    """
    wrappers, out, loaded = {}, [], {}
    for p in projects:
        kg = kengetallen if kengetallen is not None else loaded.get((p.edition, p.overrides))
        if kg is None:
            try:
                kg = loaded[(p.edition, p.overrides)] = kengetallen_for(p)
            except StikstofError as exc:
                out.append(exc)
                continue
        key = id(getattr(kg, "_kg", kg))
        if key not in wrappers:
            wrappers[key] = memoised(kg)
        out.append(wrappers[key])
    return out


def emission_tables(projects, kgs) -> list:
    """Emission-source table of every project (a DataFrame, or the error it raised).

    Projects sharing a key-figure object go through one
    :func:`~stikstofcalc.emissions.inventory.emission_sources` call; a group with a failing
    project (or with duplicate case names) falls back to one call per project, so one
    bad case never costs the others theirs.
    """
    out: list = [None] * len(projects)
    groups: dict = {}
    for i, (p, kg) in enumerate(zip(projects, kgs)):
        if isinstance(kg, BaseException):
            out[i] = kg
        else:
            groups.setdefault(id(kg), (kg, []))[1].append(i)
    for kg, idx in groups.values():
        names = [projects[i].name for i in idx]
        table = None
        if len(set(names)) == len(names):
            try:
                table = inventory.emission_sources([projects[i] for i in idx], kengetallen=kg)
            except Exception:  # noqa: BLE001 - find the failing case(s) one by one
                table = None
        if table is None:
            for i in idx:
                try:
                    out[i] = inventory.emission_sources(projects[i], kengetallen=kg)
                except Exception as exc:  # noqa: BLE001 - reported per case by the caller
                    exc.trace = traceback.format_exc(limit=3)
                    out[i] = exc
            continue
        provenance = table.attrs.pop("provenance")
        table.attrs = {}  # pandas deep-copies attrs on every operation: keep them off the big table
        rows = table.groupby("case", sort=False).indices
        for i, name in zip(idx, names):
            at = rows.get(name, ())
            if len(at) and at[-1] - at[0] + 1 == len(at):  # the table is sorted by case: a slice
                part = table.iloc[at[0]:at[-1] + 1]
            else:
                part = table.iloc[at] if len(at) else table.iloc[:0]
            part.index = pd.RangeIndex(len(part))  # as reset_index(drop=True), without its copy
            part.attrs = {"provenance": {name: provenance[name]}}
            out[i] = part
    return out


def assess_many(projects, *, regime=None, receptors=None, kengetallen=None, measures: bool = False,
                provenance: bool = True, timings: dict | None = None) -> list[CaseOutcome]:
    """Assess many projects: emission tables for all at once, then each case's verdicts.

    Parameters
    ----------
    projects : sequence of Project
        Validated projects (RD or WGS84 locations).
    regime : str, Regime or sequence of them, keyword-only
        One regime for all, or one per project.
    receptors : sequence or None, keyword-only
        Per project: its own receptor table or None (default Natura 2000 hexagons).
    kengetallen : Kengetallen, keyword-only
        Key figures for every project; default: the edition each project names.
    measures : bool, keyword-only
        Also compute the standard measures (slow; the batch does not).
    provenance : bool, keyword-only
        Fill each ``Assessment.provenance`` (the batch does not: its provenance is
        recorded once per workbook).
    timings : dict, keyword-only
        Receives ``emissions_s`` and ``deposition_s`` (seconds in this process).

    Returns
    -------
    list of CaseOutcome
        In project order; a case that raised an input error carries it in ``error``
        (the others are unaffected); ``trace`` holds the traceback of an unexpected error.
    """
    projects = list(projects)
    n = len(projects)
    regimes = list(regime) if isinstance(regime, (list, tuple)) else [regime] * n
    recs = list(receptors) if receptors is not None else [None] * n
    t0 = time.perf_counter()
    kgs = _key_figures(projects, kengetallen)
    # the table of a WGS84 project is computed by assess_project on its RD version
    rd = [p.location.x is not None for p in projects]
    tables = emission_tables(projects, kgs)
    t1 = time.perf_counter()
    out: list = [None] * n
    steps = {}
    for i, (p, kg, table, is_rd, reg, rec) in enumerate(zip(projects, kgs, tables, rd, regimes, recs)):
        if isinstance(table, BaseException):
            out[i] = CaseOutcome(None, None, table, getattr(table, "trace", ""))
            continue
        out[i] = CaseOutcome(table, None)
        steps[i] = assess_project_steps(p, regime=reg, receptors=rec, measures=measures, kengetallen=kg,
                                        plan=table if is_rd else None, provenance=provenance)

    with table_cache():  # a chunk's rounds of engine calls share the sources' kernel tables
        _drive_all(steps, out)
    if timings is not None:
        timings["emissions_s"] = timings.get("emissions_s", 0.0) + t1 - t0
        timings["deposition_s"] = timings.get("deposition_s", 0.0) + time.perf_counter() - t1
    return out


def _drive_all(steps: dict, out: list) -> None:
    """Run the assessment generators of many cases in lock step.

    Each round collects the pending hexagon requests of every case and answers them
    with one :func:`~stikstofcalc.assessment.core.unit_deposition_many` call (one engine
    call for the chunk instead of a few per case); each case's search then decides its
    next request from its own values only, so every case gets exactly the numbers of
    :func:`~stikstofcalc.assessment.core.assess_project`. The kernel envelopes the cases ask
    for first (:class:`~stikstofcalc.assessment.core.EnvelopeRequest`) come from one
    :func:`~stikstofcalc.assessment.core.envelope_many` call. A case that raises is recorded
    in ``out`` and leaves the round; the others go on.
    """
    pending = {}

    def advance(i, value=None, first=False):
        try:
            pending[i] = next(steps[i]) if first else steps[i].send(value)
        except StopIteration as stop:
            pending.pop(i, None)
            out[i].assessment = stop.value
        except Exception as exc:  # noqa: BLE001 - one bad case must not stop the others
            pending.pop(i, None)
            out[i].error, out[i].trace = exc, traceback.format_exc(limit=3)

    for i in steps:
        advance(i, first=True)
    while pending:
        envs = [(i, s) for i, (s, _) in pending.items() if isinstance(s, EnvelopeRequest)]
        if envs:  # the kernel envelopes of the chunk in one pass (the first round)
            try:
                values = envelope_many([s.templates for _, s in envs])
            except Exception:  # noqa: BLE001 - find the failing case(s) one by one
                values = [None] * len(envs)
            for (i, s), env in zip(envs, values):
                if env is None:
                    try:
                        env = s.evaluate(None)
                    except Exception as exc:  # noqa: BLE001 - as if raised in the case's generator
                        pending.pop(i, None)
                        out[i].error, out[i].trace = exc, traceback.format_exc(limit=3)
                        continue
                advance(i, env)
            continue
        batch = [(i, s, idx) for i, (s, idx) in pending.items() if s.points is not None]
        other = [(i, s, idx) for i, (s, idx) in pending.items() if s.points is None]
        values = unit_deposition_many([(s.points[0], s.points[1][idx], s.points[2][idx],
                                        take_surface(s.points[3] if len(s.points) > 3 else None, idx))
                                       for _, s, idx in batch])
        for (i, _, _), v in zip(batch, values):
            advance(i, v)
        for i, s, idx in other:
            advance(i, s.evaluate(idx))
