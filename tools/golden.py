"""Freeze (or compare) the golden outputs of the shipped examples.

The golden files in ``tests/golden/`` (gzipped JSON) are the JSON results of ``calc`` on every example
project, of ``calc`` on the example source list, of ``emissions`` per example, and of
``deposition`` of the example sources on the example receptors. They pin the behaviour
of the whole chain across refactorings: ``tests/test_golden.py`` recomputes them and
compares every number (relative 1e-9) and every text exactly. Fields that change with
every release or run (package version, data checksums, timings) are dropped.

Freeze after a deliberate change of results (and say why in the commit):
``python tools/golden.py --write``. Compare: ``python tools/golden.py``.
"""
from __future__ import annotations

import gzip
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GOLDEN = ROOT / "tests" / "golden"

#: keys dropped anywhere in the tree: they change per release or per run, not per result
VOLATILE = {"package_version", "version", "checksums", "data_checksums", "elapsed_s",
            "created", "timestamp", "python", "platform"}


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    if isinstance(obj, str):  # paths of the examples, wherever the checkout is
        return obj.replace(str(ROOT), "<repo>")
    return obj


def _run(args, tmp: Path):
    from click.testing import CliRunner

    from stikstofcalc.cli.main import main

    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    if r.exit_code != 0:
        raise RuntimeError(f"stikstofcalc {' '.join(map(str, args))}: exit {r.exit_code}\n{r.output}")
    return r


def _csv_records(path: Path):
    import pandas as pd

    df = pd.read_csv(path, keep_default_na=False)
    return json.loads(df.to_json(orient="records", double_precision=15))


def compute() -> dict[str, object]:
    """name -> JSON-ready object, for every golden output (through the CLI, so that the
    comparison holds across any rearrangement of the modules)."""
    import tempfile

    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for p in sorted(EXAMPLES.glob("*.toml")):
            _run(["calc", p, "-o", tmp / f"{p.stem}.json"], tmp)
            out[f"calc_{p.stem}"] = json.loads((tmp / f"{p.stem}.json").read_text(encoding="utf-8"))
            _run(["emissions", p, "-o", tmp / f"{p.stem}_em.csv"], tmp)
            out[f"emissions_{p.stem}"] = _csv_records(tmp / f"{p.stem}_em.csv")
        _run(["calc", EXAMPLES / "sources.csv", "-o", tmp / "sources.json"], tmp)
        out["calc_sources_csv"] = json.loads((tmp / "sources.json").read_text(encoding="utf-8"))
        _run(["deposition", EXAMPLES / "sources.csv", EXAMPLES / "receptors.csv",
              "-o", tmp / "dep.csv"], tmp)
        out["deposition_examples"] = _csv_records(tmp / "dep.csv")
    return {k: _strip(v) for k, v in out.items()}


def differences(a, b, path="", rtol=1e-9, atol=1e-15) -> list[str]:
    """Human-readable differences between two JSON trees (numbers relative ``rtol``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}: {'missing' if k not in b else 'new'}")
            else:
                out += differences(a[k], b[k], f"{path}/{k}", rtol, atol)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} -> {len(b)}"]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, f"{path}[{i}]", rtol, atol)
        return out
    if isinstance(a, bool) or isinstance(b, bool):  # True is not 1, False is not 0.0
        return [] if type(a) is type(b) and a == b else [f"{path}: {a!r} -> {b!r}"]
    num = (int, float)
    if isinstance(a, num) and isinstance(b, num):
        if math.isclose(a, b, rel_tol=rtol, abs_tol=atol):
            return []
        return [f"{path}: {a!r} -> {b!r}"]
    return [] if a == b else [f"{path}: {a!r} -> {b!r}"]


def load(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    now = compute()
    if "--write" in argv:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for k, v in now.items():
            text = json.dumps(v, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
            with gzip.GzipFile(GOLDEN / f"{k}.json.gz", "wb", mtime=0) as f:
                f.write(text.encode("utf-8"))
        print(f"{len(now)} golden files written to {GOLDEN}")
        return 0
    bad = 0
    for k, v in now.items():
        f = GOLDEN / f"{k}.json.gz"
        if not f.exists():
            print(f"{k}: no golden file")
            bad += 1
            continue
        d = differences(load(f), v)
        if d:
            bad += 1
            print(f"{k}: {len(d)} differences, e.g. " + "; ".join(d[:5]))
    print(f"{len(now) - bad} of {len(now)} golden outputs equal")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
