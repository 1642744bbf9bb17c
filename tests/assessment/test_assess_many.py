"""The batch path (assess_many, compute_chunk) equals the per-case path (assess_project).

Random realistic cases from ``stikstofcalc.batch.synthetic``, as the batch benchmark uses
(mixed sizes, all over the Netherlands). Tolerance: 1e-9 relative on deposition and emission, exact on verdicts,
receptors, counts and text. ``STIKSTOFCALC_EQ_CASES=300 pytest tests/assessment/test_assess_many.py``
runs a few hundred cases (default 24, to keep the suite fast).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stikstofcalc.batch import run as batch
from stikstofcalc.assessment.many import assess_many, emission_tables
from stikstofcalc.io.excel.reader import read_book

N_CASES = int(os.environ.get("STIKSTOFCALC_EQ_CASES", "24"))
ROOT = Path(__file__).resolve().parents[2]


def _bench():
    from stikstofcalc.batch import synthetic

    return synthetic


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    bench = _bench()
    rows, extra = bench.make_cases(N_CASES, seed=777)
    path = tmp_path_factory.mktemp("many") / "cases.xlsx"
    bench.write_workbook(path, rows, extra)
    v = batch.validate_book(read_book(path))
    assert not v.problems and len(v.cases) == N_CASES
    return v.cases


def _same(a, b, key):
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return a == b or (pd.isna(a) and pd.isna(b)) if not isinstance(a, (list, dict)) else a == b


def test_batch_rows_equal_per_case(cases):
    chunk = batch.compute_chunk([(c.case_id, c.project, c.regime, c.receptors, c.row, c.where)
                                 for c in cases])
    assert not chunk["problems"] and not chunk["failed"]
    fast = chunk["results"]
    ref, ref_sources = [], []
    for c in cases:
        table, a, _, _ = batch.assess_one(c.project, regime=c.regime)
        ref += batch.result_rows(a)
        ref_sources.append(table[batch.SOURCE_COLUMNS])
    assert len(fast) == len(ref)
    for f, r in zip(fast, ref):
        assert f.keys() == r.keys()
        for k in r:
            assert _same(f[k], r[k], k), (r["case"], r["phase"], r["year"], k, f[k], r[k])
    rs = pd.concat(ref_sources, ignore_index=True)
    pd.testing.assert_frame_equal(chunk["sources"], rs, check_dtype=False, rtol=1e-12)


def test_emission_tables_equal_single_calls(cases):
    from stikstofcalc.emissions import inventory
    from stikstofcalc.emissions.project import kengetallen_for

    projects = [c.project for c in cases[:12]]
    kgs = [kengetallen_for(p) for p in projects]
    many = emission_tables(projects, kgs)
    for p, kg, t in zip(projects, kgs, many):
        one = inventory.emission_sources(p, kengetallen=kg)
        pd.testing.assert_frame_equal(t, one, check_dtype=False)


def test_one_bad_case_does_not_stop_the_others(cases):
    import dataclasses

    good = cases[0].project
    bad = dataclasses.replace(good, name="kapot", routes=())  # traffic but no route
    out = assess_many([good, bad, cases[1].project])
    assert out[0].error is None and out[2].error is None and out[1].error is not None
    assert "route" in str(out[1].error)
    assert np.isfinite(out[0].assessment.results[0]["max_deposition"])
