"""Results written per chunk while computing == the whole-table writer; spool, zip and CRC parts."""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from stikstofcalc.batch import run as batch
from stikstofcalc.io.excel import stream
from stikstofcalc.io.excel.results import write_results

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    from stikstofcalc.batch import synthetic

    return synthetic


def _parts(path):
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        return [i.filename for i in z.infolist()], {i.filename: z.read(i.filename) for i in z.infolist()}


def _herkomst(path):
    wb = openpyxl.load_workbook(path)
    return {k: v for _, v, k in wb["herkomst"].iter_rows(min_row=2, values_only=True)
            if not k.startswith("tijden_s") and k != "created"}


@pytest.fixture(scope="module")
def cases_book(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stream")
    bench = _bench()
    cases, extra = bench.make_cases(14, seed=7)
    cases[3]["location.x"] = None  # invalid: half a location
    path = tmp / "cases.xlsx"
    bench.write_workbook(path, cases, extra)
    return path


def test_streamed_equals_whole_table(cases_book, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "CHUNK_SIZE", 4)  # several chunks, a partial last one
    streamed = tmp_path / "streamed.xlsx"
    res = batch.run_batch(cases_book, jobs=1, output=streamed)
    assert res.results is None and res.counts["invalid"] == 1 and res.counts["computed"] == 13
    assert "write_rows_s" in res.timings
    whole = batch.run_batch(cases_book, jobs=1)
    assert whole.counts == res.counts
    ref = write_results(whole, tmp_path / "whole.xlsx")
    names_a, a = _parts(streamed)
    names_b, b = _parts(ref)
    assert names_a == names_b
    herkomst = f"xl/worksheets/sheet{len([n for n in names_a if n.startswith('xl/worksheets/')])}.xml"
    differ = [n for n in names_a if a[n] != b[n] and n not in ("docProps/core.xml", herkomst)]
    assert differ == []
    assert _herkomst(streamed) == _herkomst(ref)
    assert sorted(os.listdir(tmp_path)) == ["streamed.xlsx", "whole.xlsx"]  # no spool or temp left


def test_bronnen_beyond_one_sheet_continue_on_the_next(cases_book, tmp_path, monkeypatch):
    """More source rows than an Excel sheet holds (about 20,000 cases) continue on bronnen_2,
    bronnen_3, ...: every row kept, in order, each sheet within the limit (the limit is
    lowered here to 2 header rows + 40 data rows)."""
    from stikstofcalc.io.excel import cells, results

    monkeypatch.setattr(batch, "CHUNK_SIZE", 4)
    one = tmp_path / "one.xlsx"
    batch.run_batch(cases_book, jobs=1, output=one)
    monkeypatch.setattr(cells, "EXCEL_ROWS", 42)
    split = tmp_path / "split.xlsx"
    batch.run_batch(cases_book, jobs=1, output=split)

    def rows(path):
        wb = openpyxl.load_workbook(path, read_only=True)
        names = [n for n in wb.sheetnames if n.startswith("bronnen")]
        return names, {n: [r for r in wb[n].iter_rows(min_row=3, values_only=True)] for n in names}, \
            {n: list(wb[n].iter_rows(max_row=2, values_only=True)) for n in names}

    names1, rows1, head1 = rows(one)
    names2, rows2, head2 = rows(split)
    total = len(rows1["bronnen"])
    assert names1 == ["bronnen"] and total > 80
    assert names2 == results.source_sheet_names(-(-total // 40)) and len(names2) >= 3
    assert all(len(rows2[n]) == 40 for n in names2[:-1]) and 0 < len(rows2[names2[-1]]) <= 40
    assert sum((rows2[n] for n in names2), []) == rows1["bronnen"]  # nothing lost, same order
    assert all(head2[n] == head1["bronnen"] for n in names2)  # every sheet has the two header rows
    _parts(split)  # a sound zip


def test_output_checked_before_computing(cases_book, tmp_path):
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"x")
    with pytest.raises(batch.InputError, match="bestaat al"):
        batch.run_batch(cases_book, jobs=1, output=out)
    with pytest.raises(batch.InputError, match="invoerbestand"):
        batch.run_batch(cases_book, jobs=1, output=cases_book, overwrite=True)
    assert out.read_bytes() == b"x"


def _spooled(spool):
    raw = b"".join(_segment(spool, s) for s in spool.segments())
    return zlib.decompressobj(-15).decompress(raw + zlib.compress(b"", 1)[2:-4])


def _segment(spool, seg):
    spool.file.seek(seg.offset)
    return spool.file.read(seg.size)


@pytest.mark.parametrize("mode", ["records", "concat"])
def test_chunk_typed_otherwise_is_rerendered(mode):
    """An all-whole-number chunk of a column that is float in the whole table: ``5.0``."""
    cols = ["case", "n", "flag", "x"]
    chunks = [[("a", 5, True, 1.5), ("b", 7, False, 2.0)], [("c", np.nan, True, np.nan)],
              [("d", 2**40, True, 3.0)]]
    frames = [pd.DataFrame.from_records(c, columns=cols) for c in chunks]
    if mode == "records":
        whole = pd.DataFrame.from_records([r for c in chunks for r in c], columns=cols)
    else:
        whole = pd.concat(frames, ignore_index=True)
    assert whole["n"].dtype == float and frames[0]["n"].dtype == np.int64
    styles = ["", "3", "", "4"]
    one = stream.SheetSpool(styles, first_row=3, mode=mode)
    one.add(whole, list(whole.itertuples(index=False, name=None)))
    per_chunk = stream.SheetSpool(styles, first_row=3, mode=mode)
    for f, c in zip(frames, chunks):
        per_chunk.add(f, c)
    want, got = _spooled(one), _spooled(per_chunk)
    assert b'<c r="B3" s="3" t="n"><v>5.0</v></c>' in want
    assert got == want
    segs = per_chunk.segments()
    crc = segs[0].crc
    for s in segs[1:]:
        crc = stream.crc32_combine(crc, s.crc, s.length)
    assert crc == zlib.crc32(want)


def test_crc32_combine():
    rng = np.random.default_rng(1)
    for n in (0, 1, 5, 64, 1000, 70_000):
        a, b = rng.bytes(int(rng.integers(0, 500))), rng.bytes(n)
        assert stream.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_zip64_records(cases_book, tmp_path, monkeypatch):
    """Sizes, offsets and counts past the zip limits (lowered here) give zip64 records."""
    res = batch.run_batch(cases_book, jobs=1)
    ref = write_results(res, tmp_path / "ref.xlsx")
    monkeypatch.setattr(stream, "ZIP64_LIMIT", 2_000)
    monkeypatch.setattr(stream, "ZIP64_COUNT", 5)
    big = write_results(res, tmp_path / "big.xlsx")
    names_a, a = _parts(big)
    names_b, b = _parts(ref)
    assert names_a == names_b
    assert all(a[n] == b[n] for n in names_a if n != "docProps/core.xml")
    with zipfile.ZipFile(big) as z:
        assert any(i.file_size > 2_000 for i in z.infolist())
    assert openpyxl.load_workbook(big)["bronnen"].max_row == len(res.sources) + 2


def test_batch_leaves_the_garbage_collector_as_it_was(cases_book, tmp_path):
    """run_batch freezes and retunes the cyclic collector while it runs, and undoes both,
    also when it fails (the output exists already)."""
    import gc

    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    seen = {}

    def progress(done=0, *, total=None):
        seen.setdefault("threshold", gc.get_threshold())
        seen.setdefault("frozen", gc.get_freeze_count())

    batch.run_batch(cases_book, jobs=1, output=tmp_path / "r.xlsx", progress=progress)
    assert seen["threshold"] == batch.BATCH_GC_THRESHOLD and seen["frozen"] > frozen  # it did apply
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen
    with pytest.raises(batch.InputError, match="bestaat al"):
        batch.run_batch(cases_book, jobs=1, output=tmp_path / "r.xlsx")
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen
    # a caller's own frozen objects stay frozen
    gc.freeze()
    try:
        mine = gc.get_freeze_count()
        batch.run_batch(cases_book, jobs=1, output=tmp_path / "r2.xlsx")
        assert gc.get_freeze_count() > 0.9 * mine and gc.get_threshold() == before  # not released (0)
    finally:
        gc.unfreeze()


def _worker_state():
    import gc
    import os

    import numba
    from threadpoolctl import threadpool_info

    return {"numba": numba.get_num_threads(), "env": os.environ.get("NUMBA_NUM_THREADS"),
            "blas": sorted({p["num_threads"] for p in threadpool_info()}),
            "frozen": gc.get_freeze_count(), "threshold": gc.get_threshold()}


def test_worker_processes_are_single_threaded():
    """Batch workers fill the cores themselves: one numba/BLAS thread each (pools of N
    threads per worker made 2,000 cases take 57 s instead of 16 s), modules frozen."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=batch._worker_init) as ex:
        state = ex.submit(_worker_state).result(timeout=120)
    assert state["numba"] == 1 and state["env"] == "1"
    assert state["blas"] in ([], [1])
    assert state["frozen"] > 10_000 and state["threshold"] == batch.BATCH_GC_THRESHOLD


def test_worker_init_after_numba_was_loaded(tmp_path):
    """A worker whose main module loaded numba already (a user's script importing the
    engine) can still compile after _worker_init, also with a cold numba cache: numba's
    thread count is limited without changing NUMBA_NUM_THREADS under it."""
    import os
    import subprocess
    import sys

    code = ("import numba\n"
            "from stikstofcalc.batch.run import _worker_init\n"
            "_worker_init()\n"
            "@numba.njit\n"
            "def f(x):\n"
            "    return x + 1\n"
            "print(f(1), numba.get_num_threads())\n")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    env.pop("NUMBA_NUM_THREADS", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["2", "1"]


def test_overlapping_batches_restore_the_collector_once():
    """Batches that overlap (threads) and finish out of order leave the collector as it was."""
    import gc

    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    a, b = batch._BatchGC(), batch._BatchGC()
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)
    assert gc.get_threshold() == batch.BATCH_GC_THRESHOLD  # b still runs
    b.__exit__(None, None, None)
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen
