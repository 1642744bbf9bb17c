"""Waddenzee and Noordzeekustzone are not in the shipped data: near them a "geen vergunning
nodig" is a grensgeval, with the estimate on their envelope (review: a source in the
Waddenzee itself was "geen vergunning nodig", its largest value on Duinen Ameland)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stikstofcalc.assessment.source_list import assess_source_list
from stikstofcalc.geo import unassessed

HEAD = "source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr,phase,year\n"


def _assess(tmp_path, x, y, nox, **kw):
    path = tmp_path / "s.csv"
    path.write_text(HEAD + f"A,{x},{y},2.5,0,{nox},0,realisatie,2027\n", encoding="utf-8")
    return assess_source_list([path], **kw)[0].results[0]


@pytest.mark.parametrize("x, y, inside", [
    (165000, 595000, True),    # Waddenzee between Terschelling and the Frisian coast
    (100000, 540000, True),    # Noordzeekustzone off Callantsoog
    (201500, 455200, False),   # Veluwe
    (157500, 570000, False),   # Friesland inland of the dike
])
def test_envelope_holds_the_two_areas(x, y, inside):
    assert bool(unassessed.inside([x], [y])[0]) is inside
    assert bool(unassessed.distance_to_envelope([x], [y])[0] == 0) is inside


def test_far_from_the_coast_nothing_is_computed():
    px, py = unassessed.candidate_points(np.array([201500.0]), np.array([455200.0]), 25_000.0)
    assert px.size == 0 and py.size == 0


def test_candidate_points_lie_within_reach():
    x, y = np.array([157500.0]), np.array([576500.0])  # Harlingen, on the dike
    px, py = unassessed.candidate_points(x, y, 25_000.0)
    d = np.hypot(px - x[0], py - y[0])
    assert px.size > 100 and d.max() <= 25_000.0 and d.min() < 1_000.0


def test_a_source_in_the_waddenzee_is_a_grensgeval(tmp_path):
    r = _assess(tmp_path, 168000, 592000, 500)
    assert not r.permit_needed and r.max_deposition < 0.005  # the shipped areas: far away
    assert r.borderline and "Waddenzee (1) en Noordzeekustzone (7)" in r.verdict
    assert r.unassessed.distance_m == 0 and r.unassessed.max_deposition > 0.005
    assert r.to_dict()["unassessed"]["areas"].startswith("Waddenzee")


def test_a_small_source_near_the_coast_is_not_a_grensgeval(tmp_path):
    """0.5 kg NOx a few km inland: its effect distance at the band's lower edge does not reach
    the envelope, so nothing is computed there (the reach bound) and the verdict stands."""
    r = _assess(tmp_path, 160000, 560000, 0.5)
    assert r.unassessed is None
    assert not r.borderline and "grensgeval" not in r.verdict


def test_the_reach_bound_loses_no_grensgeval(tmp_path, monkeypatch):
    """With the full 25 km the small source's envelope maximum stays below the band too: the
    bound (effect distance at 0,00373) only skips points that cannot reach it."""
    import numpy as np

    from stikstofcalc.assessment import core

    path = tmp_path / "s.csv"
    path.write_text(HEAD + "A,160000,560000,2.5,0,0.5,0,realisatie,2027\n", encoding="utf-8")
    orig = core.unassessed_maxima
    seen = []

    def full(templates, W, rows, *, reach_m=25_000.0):
        got = orig(templates, W, rows, reach_m=25_000.0)
        seen.append(got)
        return got
    monkeypatch.setattr(core, "unassessed_maxima", full)
    assess_source_list([path])
    assert seen and seen[0] is not None
    assert max(v[0] for v in seen[0].values()) < 0.00373 and np.isfinite(list(seen[0].values())[0][0])


def test_a_permit_verdict_is_not_changed(tmp_path):
    r = _assess(tmp_path, 157500, 576500, 50_000)
    assert r.permit_needed and not r.verdict.startswith("grensgeval")


def test_far_from_the_coast_there_is_no_field(tmp_path):
    r = _assess(tmp_path, 201500, 455200, 50)
    assert r.unassessed is None and "unassessed" not in r.to_dict()


def test_own_receptors_are_not_qualified(tmp_path):
    rec = tmp_path / "r.csv"
    rec.write_text("receptor_id,x,y\n8414971,168000,592500\n", encoding="utf-8")
    r = _assess(tmp_path, 168000, 592000, 500, receptors=rec)
    assert r.unassessed is None


def test_measures_near_the_areas_are_not_marked_as_reaching_0_00():
    """A measure at 0,00 on the shipped areas while the envelope gets more than the band's
    lower edge is a grensgeval ('?'), not '*' (haalt 0,00)."""
    import dataclasses

    from stikstofcalc.assessment.core import assess_project
    from stikstofcalc.emissions.project import read_project

    root = Path(__file__).resolve().parents[2]
    p = read_project(root / "examples" / "dorp_kleine_uitbreiding.toml")
    loc = dataclasses.replace(p.location, x=158500.0, y=575500.0, outline=None, lat=None, lon=None)
    p = dataclasses.replace(p, location=loc, routes=tuple(dataclasses.replace(r, geometry=None) for r in p.routes))
    a = assess_project(p)
    flagged = [m for m in a.measures if m["borderline"] and not m["permit_needed"]]
    assert flagged and all(m["max_deposition"] < 0.00373 for m in flagged)  # only the envelope flags them
