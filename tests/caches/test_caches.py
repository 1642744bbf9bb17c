"""One registry of caches (issue 14): every cache in src registers, clear_caches empties all."""

from __future__ import annotations

import ast
from pathlib import Path

import stikstofcalc
from stikstofcalc import caches

SRC = Path(__file__).resolve().parents[2] / "src" / "stikstofcalc"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _unregistered():
    """lru_cache decorators and module-level dict caches that bypass stikstofcalc.caches."""
    found = []
    for path in SRC.rglob("*.py"):
        if path.name == "caches.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for d in node.decorator_list:
                    text = ast.unparse(d)
                    if "lru_cache" in text or text in ("cache", "functools.cache"):
                        found.append(f"{path.relative_to(SRC)}:{node.lineno} @{text}")
        for node in tree.body:  # module level: NAME = {} / dict() / WeakKeyDictionary()
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            if value is None:
                continue
            text = ast.unparse(value)
            target = ast.unparse(node.targets[0] if isinstance(node, ast.Assign) else node.target)
            if target.isupper() or target.startswith("_"):
                if text in ("{}", "dict()") or text.endswith("WeakKeyDictionary()") or text == "OrderedDict()":
                    found.append(f"{path.relative_to(SRC)}:{node.lineno} {target} = {text}")
    return found


def test_every_cache_registers():
    assert _unregistered() == []


def test_the_check_finds_an_unregistered_cache(tmp_path, monkeypatch):
    bad = SRC / "_tmp_unregistered_cache_for_test.py"
    bad.write_text("import functools\n_SEEN = {}\n@functools.lru_cache(maxsize=2)\ndef f(x):\n    return x\n")
    try:
        found = _unregistered()
    finally:
        bad.unlink()
    assert len(found) == 2 and all("_tmp_unregistered_cache_for_test.py" in f for f in found)


def test_clear_caches_empties_every_cache_and_results_stay_equal():
    from stikstofcalc.assessment.core import assess_project

    a = assess_project(EXAMPLES / "dorp_kleine_uitbreiding.toml", measures=False).to_dict()["results"]
    filled = {k: v for k, v in caches.cache_sizes().items() if v}
    assert len(filled) >= 5, filled  # model, terrain, receptors, kengetallen, kernel parts, ...
    names = stikstofcalc.clear_caches()
    assert set(filled) <= set(names)
    assert not any(caches.cache_sizes().values())
    b = assess_project(EXAMPLES / "dorp_kleine_uitbreiding.toml", measures=False).to_dict()["results"]
    assert [r["max_deposition"] for r in a] == [r["max_deposition"] for r in b]  # rebuilt from the files
    assert all(r["max_deposition"] > 0 for r in a)


def test_register_refuses_what_cannot_be_cleared():
    import pytest

    with pytest.raises(TypeError):
        caches.register("x", object())
