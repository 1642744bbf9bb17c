"""Per-worker caches of the assessment give the numbers of a fresh computation.

The kernel envelope assembles the model's ring tables from cached parts
(``assessment._source_tables``); these tests compare it, bit for bit, with the
envelope computed straight from :func:`stikstofcalc.deposition.model.source_tables`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from stikstofcalc.assessment import core as A
from stikstofcalc.deposition import model as M
from stikstofcalc.emissions.sources import DEFAULT_Z0_M, build_templates


@pytest.fixture(autouse=True)
def _uniform_terrain(monkeypatch):
    """These tests check the uniform-terrain envelope and its caches against the model's own
    tables; with the roughness map the bound is assessment._source_tables_map_bound (tested
    in test_assessment.py: true bound on sampled hexagons, pruned == brute force)."""
    import functools

    monkeypatch.setattr(A, "deposition_arrays", functools.partial(A.deposition_arrays, terrain="uniform"))


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
    """Envelope from the cached kernel parts == from the model's tables, exactly, twice over.

    The cached parts serve the uniform-terrain envelope (with the roughness map the bound is
    assessment._source_tables_map_bound, tested in test_assessment.py), so uniform here."""
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


def _full_pass_search(weights, bounds, exact, relevant, count_level, seed=A.SEED_PER_SCENARIO):
    """The pruned search and the headroom loop as before the pools: every pass over every hexagon."""
    w = np.asarray(weights, float)
    n = bounds.shape[1]
    b = w @ bounds
    b[:, ~relevant] = -np.inf
    done = np.zeros(n, bool)
    first = A.seed_mask(b, min(seed, n))  # the seeds as the search takes them (see below)
    done |= first & relevant
    rounds = 1
    while True:
        sel = done & relevant
        mx = (w @ exact[:, sel]).max(axis=1) if sel.any() else np.zeros(w.shape[0])
        level = np.minimum(mx, count_level)
        cand = ~done & np.any((b >= level[:, None]) & (b > 0), axis=0)
        if not cand.any():
            break
        done |= cand
        rounds += 1
    return done, rounds


def _full_pass_headroom(done, bounds, exact, relevant, group_w, other_w, threshold):
    from stikstofcalc import rules

    gb, ob = group_w @ bounds, other_w @ bounds
    done = done.copy()
    while True:
        sel = done & relevant
        s = float(rules.group_headroom_factor(group_w @ exact[:, sel], other_w @ exact[:, sel],
                                              threshold=threshold))
        if s == 0.0:
            return s, done
        with np.errstate(invalid="ignore"):
            reach = ob + (gb * s if np.isfinite(s) else np.where(gb > 0, np.inf, 0.0))
        cand = ~done & relevant & (reach >= threshold)
        if not cand.any():
            return s, done
        done |= cand


@pytest.mark.parametrize("seed", range(5))
def test_candidate_pools_evaluate_the_same_hexagons(seed):
    """Pruned search and headroom with candidate pools == one full pass per round (ties included)."""
    rng = np.random.default_rng(seed)
    n = 4000
    exact = rng.lognormal(-7, 2, size=(6, n))
    # bounds on a few distinct levels (as from the ring tables): many ties
    bounds = np.round(exact * rng.uniform(1.0, 4.0, size=exact.shape), 4) + exact
    relevant = rng.random(n) < 0.9
    w = rng.uniform(0, 3, size=(3, 6))
    count = np.array([0.02, np.inf, 0.05])
    ref_done, ref_rounds = _full_pass_search(w, bounds, exact, relevant, count)
    s = A.pruned_search(w, bounds, lambda idx: exact[:, idx], relevant=relevant, count_level=count)
    assert np.array_equal(s.done, ref_done)
    assert s.evaluations == ref_rounds
    gw = w[0] * (rng.random(6) < 0.5)
    for thr in (0.005, 0.05, 5.0):
        ref_s, ref_hdone = _full_pass_headroom(s.done, bounds, exact, relevant, gw, w[0] - gw, thr)
        got = A.group_headroom(s, gw, w[0] - gw, threshold=thr)
        assert got == ref_s
        assert np.array_equal(s.done, ref_hdone)


def test_envelope_many_equals_one_by_one():
    """The chunk's envelopes in one pass == each case's envelope alone, bit for bit."""
    rng = np.random.default_rng(21)
    sets = [_random_templates(rng, int(rng.integers(1, 7))) for _ in range(30)]
    together = A.envelope_many(sets)
    assert len(together) == len(sets)
    for tpl, env in zip(sets, together):
        alone, fresh = A.envelope(tpl), _fresh_envelope(tpl)
        for f in ("value", "area_in", "area_out"):
            assert np.array_equal(getattr(env, f), getattr(alone, f)), f
            assert np.array_equal(getattr(env, f), getattr(fresh, f)), f


def test_envelope_request_is_answered_by_drive():
    """drive() answers the envelope request of the steps with the case's own envelope."""
    tpl = _random_templates(np.random.default_rng(5), 3)

    def steps():
        env = yield (A.EnvelopeRequest(tpl), None)
        return env

    env = A.drive(steps())
    assert np.array_equal(env.value, _fresh_envelope(tpl).value)


@pytest.mark.parametrize("seed", range(4))
def test_upper_bounds_equal_envelope_lookup(seed):
    """upper_bounds (one ring lookup per geometry) == Envelope.at per field, exactly."""
    rng = np.random.default_rng(100 + seed)
    tpl = _random_templates(rng, int(rng.integers(2, 8)))
    e = tpl.elementary
    r = np.concatenate([rng.uniform(0, 500, 300), np.geomspace(500, 27_000, 700)])
    ang = rng.uniform(0, 2 * np.pi, r.size)
    x, y = float(e.x[0]) + r * np.sin(ang), float(e.y[0]) + r * np.cos(ang)
    env = A.envelope(tpl)
    d, inside = A.template_distances(tpl, x, y)
    ref = env.at(np.repeat(d, 2, axis=0), inside=np.repeat(inside, 2, axis=0))
    assert np.array_equal(A.upper_bounds(tpl, x, y, env), ref)


@pytest.mark.parametrize("seed", range(4))
def test_compiled_seed_mask_is_a_top_k(seed):
    """The heap's seeds: the numpy version's where values are distinct, and with ties a
    valid top k per row (k hexagons, none left out larger than one taken)."""
    rng = np.random.default_rng(seed)
    b = rng.lognormal(-5, 2, size=(4, 3000))
    b[:, rng.random(3000) < 0.1] = -np.inf  # hexagons that do not count
    for k in (1, 48, 3000):
        assert np.array_equal(A.seed_mask(b, k), A.seed_mask(b, k, compiled=False))
    tied = np.round(b, 1)  # many equal values
    for row in tied:
        got = A.seed_mask(row[None, :], 48)
        assert got.sum() == 48
        assert row[got].min() >= row[~got].max()
