"""Fixtures shared by the test modules.

``engine_path``: runs a test on the compiled (numba) path and on the numpy path, switched
the one way the package offers (the environment variable of :mod:`stikstofcalc.compiled`),
with every registered cache emptied on the way in and out so that no table built on one
path is reused on the other. Use it in tests of the engine and the search that must hold
on both paths: ``def test_x(engine_path): ...`` or
``pytestmark = pytest.mark.usefixtures("engine_path")``.
"""
from __future__ import annotations

import pytest

from stikstofcalc import compiled
from stikstofcalc.caches import clear_caches


@pytest.fixture(params=["numba", "numpy"])
def engine_path(request, monkeypatch):
    """``"numba"`` or ``"numpy"``: the path the test runs on (:mod:`stikstofcalc.compiled`)."""
    clear_caches()
    if request.param == "numpy":
        monkeypatch.setenv(compiled.ENV, "1")
    else:
        monkeypatch.delenv(compiled.ENV, raising=False)
    assert compiled.enabled() == (request.param == "numba")
    yield request.param
    monkeypatch.delenv(compiled.ENV, raising=False)
    clear_caches()
