"""The golden outputs of the shipped examples (tools/golden.py; tests/golden/, frozen before the
issue-14 restructure and re-frozen only with a deliberate change of results): every number
within relative 1e-9, every text exactly."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("golden_tool", ROOT / "tools" / "golden.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)
NAMES = sorted(p.name.removesuffix(".json.gz") for p in golden.GOLDEN.glob("*.json.gz"))


@pytest.fixture(scope="module")
def now():
    return golden.compute()


@pytest.mark.slow
def test_every_output_has_a_golden_file(now):
    assert len(NAMES) == 12 and sorted(now) == NAMES


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_output_equals_its_golden_file(now, name):
    diff = golden.differences(golden.load(golden.GOLDEN / f"{name}.json.gz"), now[name])
    assert not diff, f"{len(diff)} differences, e.g. " + "; ".join(diff[:5])


def test_the_comparison_can_fail():
    a = {"x": [1.0, {"t": "a"}]}
    assert golden.differences(a, {"x": [1.0 + 1e-6, {"t": "a"}]})
    assert golden.differences(a, {"x": [1.0, {"t": "b"}]})
    assert not golden.differences(a, {"x": [1.0 + 1e-12, {"t": "a"}]})
    assert golden.differences({"p": True}, {"p": 1}) and golden.differences({"p": 0.0}, {"p": False})
    assert not golden.differences({"p": True}, {"p": True})
