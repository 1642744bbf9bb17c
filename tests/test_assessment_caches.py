"""Per-worker caches of the assessment give the numbers of a fresh computation.

The kernel envelope assembles the model's ring tables from cached parts
(``assessment._source_tables``); these tests compare it, bit for bit, with the
envelope computed straight from :func:`stikstofcalc.deposition.model.source_tables`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from stikstofcalc import assessment as A
from stikstofcalc.deposition import model as M
from stikstofcalc.sources import DEFAULT_Z0_M, build_templates


def _fresh_envelope(templates, *, landuse=1):
    """The envelope as computed before the caches (model tables per call)."""
    m = M.load_model()
    e = templates.elementary
    t = e.parent
    n_t = len(templates)
    values, a_in, a_out = [], [], []
    for s in (0, 1):
        logtab, lutab = M.source_tables(m, s, templates.height_m[t], templates.heat_mw[t],
                                        np.full(len(e), DEFAULT_Z0_M), templates.spread_m[t], e.x, e.y)
        k = np.exp(logtab.max(axis=2))
        lu = np.exp(lutab[:, landuse - 1, :])
        per = np.maximum(k[:, :-1], k[:, 1:]) * np.maximum(lu[:, :-1], lu[:, 1:])
        per = np.maximum.accumulate(per[:, ::-1], axis=1)[:, ::-1]
        tab = np.zeros((n_t, per.shape[1]))
        np.maximum.at(tab, t, per)
        values.append(tab)
        ac_all, ac_out = 1.0, 1.0
        if m.AC is not None:
            ac = np.exp(m.AC[s])
            ac_all = float(ac.max())
            ac_out = float(ac[..., np.searchsorted(m.AC_U, np.log(2.0) - 1e-9):].max())
        has_sq = np.zeros(n_t, bool)
        has_sq[t[e.area_side_m > 0]] = True
        a_in.append(np.where(has_sq, ac_all, 1.0))
        a_out.append(np.where(has_sq, ac_out, 1.0))
    value = np.stack(values, axis=1).reshape(2 * n_t, -1)
    return A.Envelope(value, m.log_d0, m.dlog, np.stack(a_in, 1).ravel(), np.stack(a_out, 1).ravel())


def _random_templates(rng, n):
    x0, y0 = float(rng.uniform(20_000, 270_000)), float(rng.uniform(310_000, 600_000))
    keys = []
    for _ in range(n):
        h = float(rng.choice([0.5, 1.0, 2.5, 4.0, 11.0, 37.5]) if rng.random() < 0.7 else rng.uniform(0.3, 60))
        q = float(rng.choice([0.0, 0.0, 0.035, 0.4]) if rng.random() < 0.8 else rng.uniform(0, 3))
        sp = min(float(rng.choice([0.0, 1.0, 2.5]) if rng.random() < 0.8 else rng.uniform(0, 10)), h)
        kind = rng.integers(3)
        if kind == 0:
            wkt = f"POINT ({x0 + float(rng.uniform(-3e3, 3e3))!r} {y0 + float(rng.uniform(-3e3, 3e3))!r})"
        elif kind == 1:
            pts = np.cumsum(rng.uniform(-1500, 1500, (rng.integers(2, 6), 2)), axis=0) + [x0, y0]
            wkt = "LINESTRING (" + ", ".join(f"{float(a)!r} {float(b)!r}" for a, b in pts) + ")"
        else:
            w, d = (float(v) for v in rng.uniform(60, 400, 2))
            wkt = (f"POLYGON (({x0!r} {y0!r}, {x0 + w!r} {y0!r}, {x0 + w!r} {y0 + d!r}, "
                   f"{x0!r} {y0 + d!r}, {x0!r} {y0!r}))")
        keys.append((wkt, h, q, sp))
    return build_templates(keys)


@pytest.mark.parametrize("seed", range(6))
def test_cached_envelope_equals_fresh(seed):
    """Envelope from the cached kernel parts == from the model's tables, exactly, twice over."""
    rng = np.random.default_rng(seed)
    tpl = _random_templates(rng, int(rng.integers(1, 9)))
    fresh = _fresh_envelope(tpl)
    for _ in range(2):  # the second call hits the caches
        env = A.envelope(tpl)
        for f in ("value", "area_in", "area_out"):
            assert np.array_equal(getattr(env, f), getattr(fresh, f)), f
        assert (env.log_d0, env.dlog) == (fresh.log_d0, fresh.dlog)


def test_cached_envelope_many_elementary_sources_and_landuse():
    """Many elementary sources per template (as ``maps`` moves a layout over sites), land use 3."""
    rng = np.random.default_rng(11)
    tpl = _random_templates(rng, 4)
    e = tpl.elementary
    reps = 40
    shift = np.repeat(rng.uniform(-40_000, 40_000, (reps, 2)), len(e), axis=0)
    el = replace(e, x=np.tile(e.x, reps) + shift[:, 0], y=np.tile(e.y, reps) + shift[:, 1],
                 area_side_m=np.tile(e.area_side_m, reps), x_end=np.tile(e.x_end, reps) + shift[:, 0],
                 y_end=np.tile(e.y_end, reps) + shift[:, 1], weight=np.tile(e.weight, reps),
                 parent=np.tile(e.parent, reps))
    moved = replace(tpl, elementary=el)
    for lu in (1, 3):
        env, fresh = A.envelope(moved, landuse=lu), _fresh_envelope(moved, landuse=lu)
        assert np.array_equal(env.value, fresh.value)


def test_kernel_cache_is_bounded(monkeypatch):
    """The cache of kernel parts never grows beyond its limit."""
    monkeypatch.setattr(A, "ENVELOPE_CACHE_SIZE", 8)
    monkeypatch.setattr(A, "_KERNEL_PARTS", {})
    rng = np.random.default_rng(3)
    for _ in range(6):
        tpl = _random_templates(rng, 5)
        assert np.array_equal(A.envelope(tpl).value, _fresh_envelope(tpl).value)
        assert len(A._KERNEL_PARTS) <= 8
