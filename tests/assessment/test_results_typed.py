"""Typed, frozen phase results (assessment.results.PhaseResult) with today's JSON."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from stikstofcalc.assessment.core import assess_project
from stikstofcalc.assessment.results import DominantSource, Headroom, PhaseResult, Sensitivity
from stikstofcalc.io.report import to_json

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: the keys of a phase result in schema stikstofcalc.calc/1, in their order (docs/assessment.md)
KEYS = ["phase", "phase_label", "year", "nox_kg_per_yr", "nh3_kg_per_yr", "max_deposition",
        "max_rounded", "max_display", "receptor_id", "x", "y", "area_name", "n2k_number",
        "n_hexagons_above", "hectares_above", "permit_needed", "exempt", "verdict", "threshold",
        "margin_factor", "effect_distance_m", "netted_max", "dominant_sources", "headroom", "notes",
        "uses_estimate", "borderline", "borderline_band", "sensitivity"]
HEADROOM = ["source", "unit", "current", "allowed_all_scaled", "source_factor", "allowed_source_only",
            "source_nox_kg_per_yr", "source_nh3_kg_per_yr", "factor", "nox_kg_per_yr", "nh3_kg_per_yr"]


@pytest.fixture(scope="module")
def wijk():
    return assess_project(EXAMPLES / "wijk_300_woningen_veluwe.toml")


def test_results_are_typed_and_frozen(wijk):
    assert wijk.results and all(isinstance(r, PhaseResult) for r in wijk.results)
    r = wijk.results[0]
    assert isinstance(r.headroom, Headroom) and isinstance(r.sensitivity, Sensitivity)
    assert all(isinstance(d, DominantSource) for d in r.dominant_sources)
    assert isinstance(r.year, int) and isinstance(r.max_deposition, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.max_deposition = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.headroom.factor = 1.0
    with pytest.raises(TypeError):
        r["verdict"] = "x"  # read-only mapping access


def test_to_dict_keeps_the_schema_keys_in_order(wijk):
    d = wijk.to_dict()["results"][0]
    assert list(d) == KEYS
    assert list(d["headroom"]) == HEADROOM
    assert isinstance(d["borderline_band"], list) and isinstance(d["notes"], list)
    assert isinstance(d["dominant_sources"], list) and isinstance(d["dominant_sources"][0], dict)
    assert json.loads(to_json(wijk))["results"][0]["verdict"] == wijk.results[0].verdict


def test_mapping_access_reads_like_the_old_dicts(wijk):
    r = wijk.results[0]
    assert r["max_deposition"] == r.max_deposition
    assert r.get("headroom")["factor"] == r.headroom.factor
    assert r.get("no_such_field") is None
    assert list(r.keys()) == KEYS and len(r) == len(KEYS)
    assert r["dominant_sources"][0]["share"] == r.dominant_sources[0].share
    with pytest.raises(KeyError):
        r["no_such_field"]


def test_round_trip_and_optional_parts(wijk):
    r = wijk.results[0]
    assert PhaseResult.from_dict(r.to_dict()) == r
    bare = dataclasses.replace(r, sensitivity=None)
    assert "sensitivity" not in bare and "sensitivity" not in bare.to_dict()
    h = Headroom(factor=float("inf"), nox_kg_per_yr=None, nh3_kg_per_yr=None)
    assert list(h.to_dict()) == ["factor", "nox_kg_per_yr", "nh3_kg_per_yr"]


def test_no_deposition_gives_a_headroom_without_activity(tmp_path):
    far = tmp_path / "far.csv"  # one receptor 40 km east of the village: beyond 25 km
    far.write_text("x,y\n212400,406800\n", encoding="utf-8")
    a = assess_project(EXAMPLES / "dorp_ver_van_natuur.toml", receptors=far)
    assert [r.max_deposition for r in a.results] == [0.0, 0.0]
    for r in a.results:
        assert r.headroom.unit is None and "unit" not in r.headroom
        assert list(r.to_dict()["headroom"]) == ["factor", "nox_kg_per_yr", "nh3_kg_per_yr"]
        assert r.dominant_sources == ()


def test_a_source_list_result_has_no_nan_and_survives_pickling():
    """A source list has no activity units: its headroom's activity fields are None, not NaN
    (NaN != NaN made a pickled or JSON-read copy unequal to the result itself)."""
    import math
    import pickle

    from stikstofcalc.assessment.source_list import assess_source_list

    (a,) = assess_source_list(EXAMPLES / "sources.csv")
    assert a.results
    for r in a.results:
        assert r.headroom.unit == "" and r.headroom.current is None
        assert r.headroom.allowed_all_scaled is None and r.headroom.allowed_source_only is None
        assert pickle.loads(pickle.dumps(r)) == r
        assert PhaseResult.from_dict(json.loads(json.dumps(r.to_dict()))) == r

        def floats(o):
            if isinstance(o, dict):
                return [x for v in o.values() for x in floats(v)]
            if isinstance(o, list):
                return [x for v in o for x in floats(v)]
            return [o] if isinstance(o, float) else []
        assert not any(math.isnan(x) for x in floats(r.to_dict()))
