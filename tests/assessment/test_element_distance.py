"""The near-source distance test (``element_distance(..., within=)``, a k-d tree search)
against the full distance matrix."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stikstofcalc.assessment import core as A


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), within=st.sampled_from([0.0, 20.0, 62.0403, 500.0]))
def test_element_distance_within_is_exact_where_it_matters(seed, within):
    """The k-d tree search (``within``) equals the full distance matrix wherever the
    distance is at most ``within`` and says "farther" elsewhere: points, squares up to
    900 m and polylines, receptors all around them."""
    from stikstofcalc.emissions.sources import build_templates

    rng = np.random.default_rng(seed)
    keys = []
    for i in range(12):
        x, y = rng.uniform(0, 2000, 2)
        if i % 3 == 0:
            w = f"POINT ({x} {y})"
        elif i % 3 == 1:
            a = rng.uniform(5, 900)
            w = f"POLYGON (({x} {y}, {x + a} {y}, {x + a} {y + a}, {x} {y + a}, {x} {y}))"
        else:
            w = f"LINESTRING ({x} {y}, {x + rng.uniform(-900, 900)} {y + rng.uniform(-900, 900)})"
        keys.append((w, 5.0, 0.0, 2.5))
    t = build_templates(keys)
    px, py = rng.uniform(-300, 2300, (2, 3000))
    full = A.element_distance(t, px, py)
    got = A.element_distance(t, px, py, within=within)
    m = full <= within
    np.testing.assert_allclose(got[m], full[m], rtol=0, atol=1e-9)
    assert np.all(got[~m] > within)


def test_points_in_blocks_give_the_same_distances(monkeypatch):
    """The points are searched in blocks (``_WITHIN_BLOCK``, which bounds the memory of
    the candidate pairs): blocks of 7 points, of 1,000 and all at once give the same
    distances, each point its own (block edges fall inside the point set)."""
    from stikstofcalc.emissions.sources import build_templates

    rng = np.random.default_rng(3)
    keys = [(f"POLYGON (({x} {y}, {x + 400} {y}, {x + 400} {y + 400}, {x} {y + 400}, {x} {y}))",
             5.0, 0.0, 2.5) for x, y in rng.uniform(0, 2000, (6, 2))]
    keys += [(f"POINT ({x} {y})", 5.0, 0.0, 2.5) for x, y in rng.uniform(0, 2000, (6, 2))]
    t = build_templates(keys)
    px, py = rng.uniform(-300, 2300, (2, 2503))
    full = A.element_distance(t, px, py)
    got = {}
    for block in (7, 1000, 10_000):
        monkeypatch.setattr(A, "_WITHIN_BLOCK", block)
        got[block] = A.element_distance(t, px, py, within=20.0)
    np.testing.assert_array_equal(got[7], got[10_000])
    np.testing.assert_array_equal(got[1000], got[10_000])
    m = full <= 20.0
    assert m.sum() > 50  # the test sees near points
    np.testing.assert_allclose(got[7][m], full[m], rtol=0, atol=1e-9)
