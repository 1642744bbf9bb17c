"""Fast path internals: spatial receptor order, block skipping at the cut-off and the
compiled table assembly give the same numbers as the plain computations."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from stikstofcalc.deposition import model as M  # noqa: E402
from stikstofcalc.deposition.core import ReceptorArrays, SourceArrays  # noqa: E402
from stikstofcalc.deposition.engine import evaluate  # noqa: E402
from stikstofcalc.deposition.fast import spatial_order  # noqa: E402


def _mixed(seed, nr):
    rng = np.random.default_rng(seed)
    ns = 9
    kind = np.arange(ns) % 3
    x = 155000 + rng.uniform(-3000, 3000, ns)
    y = 463000 + rng.uniform(-3000, 3000, ns)
    src = SourceArrays(x=x, y=y, height_m=rng.uniform(1, 20, ns), heat_mw=rng.choice([0, 0.035, 0.4], ns),
                       nox_kg_yr=rng.uniform(1, 500, ns), nh3_kg_yr=rng.uniform(1, 50, ns),
                       area_side_m=np.where(kind == 1, rng.uniform(50, 900, ns), 0.0),
                       x_end=np.where(kind == 2, x + rng.uniform(-2000, 2000, ns), np.nan),
                       y_end=np.where(kind == 2, y + rng.uniform(-2000, 2000, ns), np.nan),
                       z0_m=rng.uniform(0.03, 2.0, ns))
    # receptors from the sources out to beyond the cut-off, many close to 25 km
    r = np.concatenate([rng.uniform(0, 30000, nr // 2), rng.uniform(23000, 27500, nr - nr // 2)])
    a = rng.uniform(0, 2 * np.pi, nr)
    rcp = ReceptorArrays(x=155000 + r * np.sin(a), y=463000 + r * np.cos(a),
                         landuse=rng.integers(1, 10, nr))
    return src, rcp


@pytest.mark.parametrize("seed", [1, 2])
def test_blocks_give_the_per_receptor_values(seed):
    """Thousands of receptors in one call (spatial blocks, whole blocks skipped beyond
    25 km) against the same receptors one call each (no blocks): identical."""
    src, rcp = _mixed(seed, 5000)
    kw = dict(cutoff_m=25000.0, allow_extrapolation=False, chunk_pairs=4_000_000, method="fast")
    whole = evaluate(src, rcp, **kw)
    pick = np.random.default_rng(seed).choice(len(rcp), 150, replace=False)
    one = [evaluate(src, ReceptorArrays(x=rcp.x[[i]], y=rcp.y[[i]], landuse=rcp.landuse[[i]]), **kw)
           for i in pick]
    np.testing.assert_allclose(whole.nox[pick], [o.nox[0] for o in one], rtol=1e-12, atol=0)
    np.testing.assert_allclose(whole.nh3[pick], [o.nh3[0] for o in one], rtol=1e-12, atol=0)
    # and some of them lie beyond the cut-off of every source (block skipping is exercised)
    assert (whole.total == 0).any() and (whole.total > 0).sum() > 1000


def test_spatial_order_is_a_permutation_grouped_by_case():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 3e5, 2000), rng.uniform(3e5, 6e5, 2000)
    group = rng.integers(0, 7, 2000)
    p = spatial_order(x, y, group)
    assert np.array_equal(np.sort(p), np.arange(2000))
    assert (np.diff(group[p]) >= 0).all()  # cases stay contiguous
    # neighbours in the order are near in space (Z order of 250 m cells)
    q = spatial_order(x, y)
    step = np.hypot(np.diff(x[q]), np.diff(y[q]))
    rand = np.hypot(np.diff(x), np.diff(y))
    assert np.median(step) < 0.2 * np.median(rand)


def test_spatial_order_single_key_equals_lexsort_and_small_groups_keep_order(monkeypatch):
    import stikstofcalc.deposition.fast as F

    rng = np.random.default_rng(6)
    x, y = rng.uniform(0, 3e5, 3000), rng.uniform(3e5, 6e5, 3000)
    cells = (F._spread_bits(((x - x.min()) / F.ORDER_CELL_M).astype(np.uint64))
             | (F._spread_bits(((y - y.min()) / F.ORDER_CELL_M).astype(np.uint64)) << np.uint64(1)))
    for group in (rng.integers(0, 7, 3000) * 1000, np.sort(rng.integers(0, 7, 3000)) * 1000):
        monkeypatch.setattr(F, "ORDER_MIN_PER_GROUP", 0)  # always order
        assert np.array_equal(F.spatial_order(x, y, group), np.lexsort((cells, group)))
    # grouped (ascending) with few receptors per group: their own order
    monkeypatch.setattr(F, "ORDER_MIN_PER_GROUP", 1000)
    assert np.array_equal(F.spatial_order(x, y, np.sort(rng.integers(0, 7, 3000))), np.arange(3000))
    # not grouped: always ordered, cases contiguous
    g = rng.integers(0, 7, 3000)
    assert (np.diff(g[F.spatial_order(x, y, g)]) >= 0).all()


@pytest.mark.parametrize("substance", [0, 1])
def test_compiled_base_tables_equal_numpy(substance):
    m = M.load_model()
    rng = np.random.default_rng(substance)
    n = 300
    h = np.exp(rng.uniform(np.log(0.5), np.log(40), n))
    hc = np.where(rng.random(n) < 0.4, 0.0, rng.uniform(0, 1.5, n))
    z0 = np.exp(rng.uniform(np.log(0.03), np.log(2.0), n))
    h[:4], hc[:4], z0[:4] = [0.5, 40.0, 48.0, 0.3], [0.0, 1.5, 1.8, 0.0], [0.03, 2.0, 2.5, 0.02]
    np.testing.assert_allclose(M.base_table(m, substance, h, hc, z0),
                               M._base_table_numpy(m, substance, h, hc, z0), rtol=0, atol=1e-12)


@pytest.mark.parametrize("terrain", ["uniform", "map"])
def test_table_cache_gives_the_values_of_fresh_tables(terrain):
    """Within table_cache() a second call reuses the first call's source tables (and adds
    new sources' tables): every value equals a call without the cache."""
    import stikstofcalc.deposition.fast as F

    src, rcp = _mixed(3, 3000)
    kw = dict(cutoff_m=25000.0, allow_extrapolation=False, chunk_pairs=4_000_000, method="fast",
              terrain=terrain)
    half = len(src.x) // 2
    first = SourceArrays(**{k: (v[:half] if isinstance(v, np.ndarray) and v.shape == src.x.shape else v)
                            for k, v in vars(src).items()})
    ref_all, ref_half = evaluate(src, rcp, **kw), evaluate(first, rcp, **kw)
    with F.table_cache():
        got_half = evaluate(first, rcp, **kw)  # fills the store
        got_all = evaluate(src, rcp, **kw)  # half from the store, half new
        store = next(iter(F._TABLE_CACHE.get().values()))
        assert store.n >= 2  # tables were kept
    assert F._TABLE_CACHE.get() is None  # closed
    for got, ref in ((got_half, ref_half), (got_all, ref_all)):
        if kw.get("terrain") == "uniform":
            np.testing.assert_array_equal(got.nox, ref.nox)
            np.testing.assert_array_equal(got.nh3, ref.nh3)
        else:
            # roughness map (default): measured 2026-12-03, 6 of 3000 values differ by 1 ulp
            # (max rel 4.8e-16) between cached and fresh tables; cause not yet identified (open
            # item, docs/engine.md). rtol 1e-14 admits float rounding only, never a physics change.
            np.testing.assert_allclose(got.nox, ref.nox, rtol=1e-14, atol=0)
            np.testing.assert_allclose(got.nh3, ref.nh3, rtol=1e-14, atol=0)


def test_table_cache_belongs_to_its_thread():
    """A cache opened in one thread is not seen in another, and closes with its context
    even when contexts of different threads close out of order."""
    import threading

    import stikstofcalc.deposition.fast as F

    opened, seen = threading.Event(), {}
    done = threading.Event()

    def other():
        with F.table_cache():
            seen["inside"] = F._TABLE_CACHE.get() is not None
            opened.set()
            done.wait(10)
        seen["after"] = F._TABLE_CACHE.get()

    t = threading.Thread(target=other)
    with F.table_cache():
        t.start()
        opened.wait(10)
        seen["mine"] = F._TABLE_CACHE.get()
    assert F._TABLE_CACHE.get() is None  # closed here while the other thread's is still open
    done.set()
    t.join(10)
    assert seen["inside"] and seen["after"] is None and seen["mine"] is not None


@pytest.mark.parametrize("n", [0, 1, 2047, 2048, 2049, 200_000, 1_000_000])
def test_block_order_is_a_permutation_that_spreads_the_blocks(n):
    """The threads' block order visits every block once, and each half of it (one thread's
    share with two threads) holds blocks from both halves of the receptor set."""
    from stikstofcalc.deposition.fast import BLOCK, block_order

    b = block_order(n)
    nb = (n + BLOCK - 1) // BLOCK
    assert b.dtype == np.int64 and np.array_equal(np.sort(b), np.arange(nb))
    if nb >= 8:
        first = b[: nb // 2]
        assert 0.3 < np.mean(first < nb // 2) < 0.7


def test_map_tables_in_parts_equal_one_part(monkeypatch):
    """Map-mode tables built a few sources at a time (``fast.TABLE_CHUNK``) and the pruned
    search's bound in parts (``assessment.core.BOUND_CHUNK``) give exactly the numbers of
    one part: each source's table depends only on that source."""
    from stikstofcalc.assessment import core as A
    from stikstofcalc.deposition import fast

    src, rcp = _mixed(3, 400)
    kw = dict(cutoff_m=25000.0, allow_extrapolation=False, chunk_pairs=4_000_000, method="fast",
              terrain="map")
    whole = evaluate(src, rcp, **kw)
    m = M.load_model()
    cols = (src.height_m, src.heat_mw, np.full(9, 1.3), src.x, src.y, src.x_end, src.y_end,
            src.area_side_m)
    b_whole = A._map_bound_parts(m, 1, *cols)
    monkeypatch.setattr(fast, "TABLE_CHUNK", 2)
    monkeypatch.setattr(A, "BOUND_CHUNK", 4)
    parted = evaluate(src, rcp, **kw)
    np.testing.assert_array_equal(np.asarray(parted.nox), np.asarray(whole.nox))
    np.testing.assert_array_equal(np.asarray(parted.nh3), np.asarray(whole.nh3))
    for a, b in zip(A._map_bound_parts(m, 1, *cols), b_whole):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("terrain", ["map", "uniform"])
def test_block_passes_equal_the_one_loop_path(monkeypatch, terrain):
    """The three passes over a block (point sources, and squares and segments seen as one
    point) give the one-loop path's numbers: points, squares and segments from next to the
    receptors out to beyond 25 km, one-class receptors, with the roughness map and
    without; and blocks holding a few receptors with a land-use mixture (they take the
    passes with weight 0, then their value from all their classes)."""
    import stikstofcalc.deposition.fast as F
    from stikstofcalc.deposition.core import deposition_arrays

    src, rcp = _mixed(3, 6000)
    pct = np.zeros((len(rcp), 9))
    pct[np.arange(len(rcp)), rcp.landuse - 1] = 100.0
    pct[:40, 0], pct[:40, 3] = 60.0, 40.0  # mixtures, spread over the blocks
    rcp_mixed = ReceptorArrays(x=rcp.x, y=rcp.y, landuse=rcp.landuse, lu_pct=pct)
    for r in (rcp, rcp_mixed):
        got = deposition_arrays(src, r, terrain=terrain)
        monkeypatch.setattr(F, "BLOCK_PASSES", False)
        want = deposition_arrays(src, r, terrain=terrain)
        monkeypatch.setattr(F, "BLOCK_PASSES", True)
        np.testing.assert_allclose(got.nox, want.nox, rtol=1e-12, atol=0)
        np.testing.assert_allclose(got.nh3, want.nh3, rtol=1e-12, atol=0)
        assert (got.total > 0).sum() > 3000 and (got.total == 0).any()


@pytest.mark.parametrize("clamp", [False, True])
def test_compiled_node_axis_equals_searchsorted(monkeypatch, clamp):
    """The compiled node look-up (``_tables_nb.axis``, used from AXIS_COMPILED_MIN values
    on) gives numpy's index and fraction bitwise: values between, on and beyond the nodes,
    infinities and NaN, in the shapes the tables use."""
    rng = np.random.default_rng(11)
    for nodes in (np.log(M.load_model().Z), np.log(M.load_terrain_model().TA_Z), np.array([0.0, 1.0])):
        v = rng.uniform(nodes[0] - 2, nodes[-1] + 2, (70, 30, 36))
        v.flat[:len(nodes)] = nodes  # exactly on every node
        v.flat[-4:] = [np.inf, -np.inf, np.nan, nodes[-1]]
        monkeypatch.setattr(M, "AXIS_COMPILED_MIN", 10 ** 12)
        want = M._axis(nodes, v, clamp=clamp)
        monkeypatch.setattr(M, "AXIS_COMPILED_MIN", 1)
        got = M._axis(nodes, v, clamp=clamp)
        assert got[0].shape == v.shape and got[0].dtype == want[0].dtype
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])  # NaN where numpy gives NaN
