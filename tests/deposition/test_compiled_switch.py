"""The one switch between the compiled kernels and the numpy path (stikstofcalc.compiled)."""
from __future__ import annotations

import numpy as np
import pytest

from stikstofcalc import compiled
from stikstofcalc.assessment import core as A
from stikstofcalc.deposition import fast, model
from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays
from stikstofcalc.emissions import sources as S
from stikstofcalc.geo import receptors


@pytest.mark.parametrize("value, on", [(None, True), ("", True), ("0", True), ("1", False),
                                       ("ja", False), (" 1 ", False)])
def test_switch_reads_the_environment(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv(compiled.ENV, raising=False)
    else:
        monkeypatch.setenv(compiled.ENV, value)
    assert compiled.enabled() is on
    assert compiled.path_name() == ("numba (fast)" if on else "numpy (reference)")


def _boom(*a, **k):
    raise AssertionError("a compiled kernel ran on the numpy path")


def test_numpy_path_runs_no_compiled_kernel_and_gives_the_same_numbers(monkeypatch):
    src = SourceArrays(x=[155000.0, 155300.0], y=[463000.0, 463100.0], height_m=[4.0, 1.0],
                       heat_mw=[0.0, 0.1], nox_kg_yr=[100.0, 20.0], nh3_kg_yr=[5.0, 2.0],
                       area_side_m=[0.0, 100.0])
    rec = ReceptorArrays(np.linspace(154000.0, 160000.0, 40), np.full(40, 464000.0), landuse=3)
    fast_r = deposition_arrays(src, rec, terrain="uniform")
    monkeypatch.setenv(compiled.ENV, "1")
    from stikstofcalc.deposition import engine

    monkeypatch.setattr(engine, "evaluate_fast", _boom)  # the name the dispatch calls
    from stikstofcalc.deposition import terrain

    for name in ("_trajectory_nb", "_node_terrain_nb", "_disk_range_nb"):
        monkeypatch.setattr(terrain, name, _boom)
    monkeypatch.setattr(fast, "_fine_tables", _boom)
    ref = deposition_arrays(src, rec, terrain="uniform")
    # the fast path's quadrature and tables differ from the reference within the bound
    # of tests/deposition/test_engine.py::test_fast_path_matches_reference (3.5 %)
    np.testing.assert_allclose(ref.nox, fast_r.nox, rtol=0.035, atol=0)
    np.testing.assert_allclose(ref.nh3, fast_r.nh3, rtol=0.035, atol=0)
    # with the map as well: only the numpy kernels ran (checked by the patches above)
    deposition_arrays(src, rec)


def test_the_switch_wins_over_method_fast(monkeypatch):
    """STIKSTOFCALC_NUMPY=1 with method="fast": the numpy reference runs, not a mix."""
    from stikstofcalc.deposition import engine

    src = SourceArrays(x=[155000.0], y=[463000.0], height_m=[4.0], heat_mw=[0.0], nox_kg_yr=[100.0],
                       nh3_kg_yr=[5.0])
    rec = ReceptorArrays(np.linspace(154000.0, 160000.0, 10), np.full(10, 464000.0), landuse=3)
    ref = deposition_arrays(src, rec, terrain="uniform", method="reference")
    monkeypatch.setenv(compiled.ENV, "1")
    monkeypatch.setattr(engine, "evaluate_fast", _boom)
    got = deposition_arrays(src, rec, terrain="uniform", method="fast")
    np.testing.assert_array_equal(got.nox, ref.nox)
    with pytest.raises(ValueError, match="method 'snel'"):
        deposition_arrays(src, rec, method="snel")


def test_every_kernel_has_its_numpy_counterpart_behind_the_switch(monkeypatch):
    monkeypatch.setenv(compiled.ENV, "1")
    assert receptors._kernels() is None
    assert S._in_outline_kernel() is None
    from stikstofcalc.assessment import _search_nb

    monkeypatch.setattr(_search_nb, "top_k_mask", _boom)
    b = np.random.default_rng(1).random((3, 50))
    mask = A.seed_mask(b, 4)
    assert mask.sum() >= 4 and mask[np.argmax(b, axis=1)].all()
    m = model.load_model()
    h, hc, z0 = np.array([2.5, 10.0]), np.array([0.0, 0.2]), np.array([0.1, 0.3])
    on_numpy = model.base_table(m, 0, h, hc, z0)
    monkeypatch.delenv(compiled.ENV)
    np.testing.assert_allclose(model.base_table(m, 0, h, hc, z0), on_numpy, rtol=1e-12)


def test_provenance_names_the_path(monkeypatch, tmp_path):
    from stikstofcalc.io.tables import deposition_provenance

    monkeypatch.setenv(compiled.ENV, "1")
    p = deposition_provenance([], cutoff_m=25000.0, allow_extrapolation=False, notes=[])
    assert p["engine_path"] == "numpy (reference)"
    monkeypatch.delenv(compiled.ENV)
    p = deposition_provenance([], cutoff_m=25000.0, allow_extrapolation=False, notes=[])
    assert p["engine_path"] == "numba (fast)"


def test_compile_notice_is_silent_on_the_numpy_path(monkeypatch, capsys):
    from stikstofcalc.cli import options

    monkeypatch.setattr(options, "_kernel_cached", lambda: False)
    monkeypatch.setenv(compiled.ENV, "1")
    assert options.compile_notice() is False
    monkeypatch.delenv(compiled.ENV)
    assert options.compile_notice() is True
    assert "gecompileerd" in capsys.readouterr().err


def test_importing_the_switch_does_not_load_numba():
    import subprocess
    import sys

    code = "import sys, stikstofcalc.compiled as c; c.enabled(); print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
