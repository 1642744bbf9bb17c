"""A substance that no source emits (NH3-only farms, NOx-only engines) gives exactly 0 for it.

The compiled kernel indexes each substance's tables the same way and does not check bounds:
the stand-in tables of a substance without emission must have the shapes of the real ones,
else the kernel reads past their end and 0 x garbage can be NaN (seen: NaN NOx for the NH3-only
AERIUS case lb_north, now and then, depending on what lay in memory)."""
from __future__ import annotations

import numpy as np
import pytest

from stikstofcalc.deposition import fast
from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays, deposition_arrays


def _sources(nox, nh3):
    n = 6
    return SourceArrays(x=155000.0 + 300.0 * np.arange(n), y=np.full(n, 463000.0), height_m=np.full(n, 5.0),
                        heat_mw=np.zeros(n), nox_kg_yr=np.full(n, nox), nh3_kg_yr=np.full(n, nh3),
                        spread_m=np.full(n, 2.5), area_side_m=np.array([0.0, 1000.0, 250.0, 0.0, 1000.0, 40.0]))


@pytest.mark.parametrize("nox, nh3", [(0.0, 100.0), (100.0, 0.0)])
def test_tables_of_an_absent_substance_have_the_real_shapes(monkeypatch, nox, nh3):
    seen = []
    real = fast._evaluate

    def spy(*args):
        seen.append(args)
        return real(*args)

    monkeypatch.setattr(fast, "_evaluate", spy)
    rec = ReceptorArrays(np.linspace(154000.0, 158000.0, 200), np.full(200, 463400.0))
    res = deposition_arrays(_sources(nox, nh3), rec, method="fast")
    args = seen[0]
    tabs0, tabs1 = args[17:22], args[22:27]  # (emission, lt, lu, ac, taf) per substance
    assert [a.shape for a in tabs0] == [a.shape for a in tabs1]
    zero = res.nox if nox == 0 else res.nh3
    other = res.nh3 if nox == 0 else res.nox
    assert np.all(zero == 0.0) and np.all(np.isfinite(other)) and other.max() > 0


def test_no_emission_at_all_is_zero_everywhere():
    rec = ReceptorArrays(np.linspace(154000.0, 158000.0, 50), np.full(50, 463400.0))
    res = deposition_arrays(_sources(0.0, 0.0), rec, method="fast")
    assert np.all(res.nox == 0.0) and np.all(res.nh3 == 0.0)


def test_a_non_finite_deposition_is_an_error_not_a_number(monkeypatch):
    from stikstofcalc.deposition import engine
    from stikstofcalc.errors import DataError

    def broken(sources, receptors, **kw):
        n = len(receptors.x)
        return np.full(n, np.nan), np.zeros(n)

    monkeypatch.setattr(engine, "evaluate_fast", broken)  # the name the dispatch calls
    rec = ReceptorArrays(np.linspace(154000.0, 158000.0, 5), np.full(5, 463400.0))
    with pytest.raises(DataError, match="geen eindige depositie"):
        deposition_arrays(_sources(1.0, 1.0), rec, method="fast")
