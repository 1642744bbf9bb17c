"""The progress line of a long ``calc`` (stderr, only on a terminal) and the partial engine
rounds behind it (the same numbers as one round)."""

from __future__ import annotations

import io
from pathlib import Path

from stikstofcalc.assessment import core as A
from stikstofcalc.cli.calc import PROGRESS_AFTER_S, ProgressLine

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_progress_line_shows_long_rounds_only():
    clock, out = _Clock(), io.StringIO()
    p = ProgressLine(out, clock)
    clock.t = PROGRESS_AFTER_S / 2
    p(2000, 4000)
    p(4000, 4000)  # a short round: nothing at all
    assert out.getvalue() == ""
    clock.t += 3 * PROGRESS_AFTER_S  # the first part, with the tables: no rate yet
    p(2000, 8000)
    line = out.getvalue()
    assert "2.000 van 8.000 hexagons (25 %)" in line and "nog" not in line
    clock.t += 10  # the next part: 2,000 hexagons in 10 s, 4,000 left -> 20 s
    p(4000, 8000)
    line = out.getvalue()
    assert "4.000 van 8.000 hexagons (50 %), nog ongeveer 20 s" in line
    assert "\n" not in line  # rewritten in place
    clock.t += 60
    p(8000, 8000)
    assert out.getvalue().endswith("\n") and "8.000 hexagons in 1 min" in out.getvalue()


def test_partial_rounds_give_the_same_assessment():
    """With a listener the search computes its rounds in parts of PROGRESS_PART hexagons;
    the results equal those of one call per round, and the listener hears every part."""
    f = EXAMPLES / "twee_natura2000_gebieden.toml"
    plain = A.assess_project(f, measures=False)
    heard = []
    with A.reporting_progress(lambda done, total: heard.append((done, total))):
        parted = A.assess_project(f, measures=False)
    assert [r.to_dict() for r in parted.results] == [r.to_dict() for r in plain.results]
    assert heard and all(0 < d <= t for d, t in heard)
    assert any(d == t for d, t in heard) and any(d < t for d, t in heard)


def test_calc_without_a_terminal_prints_no_progress():
    from click.testing import CliRunner

    from stikstofcalc.cli.main import main

    r = CliRunner().invoke(main, ["calc", str(EXAMPLES / "dorp_ver_van_natuur.toml"), "--no-measures"])
    assert r.exit_code == 0, r.output
    assert "rekenen:" not in r.output


def test_progress_line_shows_long_preparation_steps():
    """The tables and search bounds of a large source list (tens of seconds before the
    first hexagon) get their own line, with the time left at the rate so far."""
    clock, out = _Clock(), io.StringIO()
    p = ProgressLine(out, clock)
    p.step("rekentabellen NOx", 0, 4096)
    clock.t += PROGRESS_AFTER_S / 2
    p.step("rekentabellen NOx", 2048, 4096)
    p.step("rekentabellen NOx", 4096, 4096)  # a short step: nothing
    assert out.getvalue() == ""
    p.step("zoekgrenzen NH3", 0, 6144)
    clock.t += 3 * PROGRESS_AFTER_S
    p.step("zoekgrenzen NH3", 2048, 6144)  # 2,048 in 6 s, 4,096 left -> 12 s
    assert "zoekgrenzen NH3: 2.048 van 6.144 bronelementen (33 %), nog ongeveer 12 s" in out.getvalue()
    clock.t += 3 * PROGRESS_AFTER_S
    p.step("zoekgrenzen NH3", 6144, 6144)
    assert out.getvalue().endswith("\n") and "zoekgrenzen NH3: 6.144 bronelementen in 12 s" in out.getvalue()
    # the round after it counts its own time, not the steps'
    clock.t += 3 * PROGRESS_AFTER_S
    p(2000, 8000)
    clock.t += 10
    p(8000, 8000)
    assert out.getvalue().endswith("8.000 hexagons in 16 s" + " " * 24 + "\n")


def test_large_source_lists_report_their_preparation(monkeypatch):
    """A listener with a ``step`` method hears the map-mode tables and the search bound
    built in parts (parts made small here), from 0 to the whole, per substance."""
    import stikstofcalc.deposition.fast as F

    monkeypatch.setattr(F, "TABLE_CHUNK", 2)
    monkeypatch.setattr(A, "BOUND_CHUNK", 2)

    class Listener:
        def __init__(self):
            self.steps = []

        def __call__(self, done, total):
            pass

        def step(self, label, done, total):
            self.steps.append((label, done, total))

    heard = Listener()
    f = EXAMPLES / "twee_natura2000_gebieden.toml"
    plain = A.assess_project(f, measures=False)
    with A.reporting_progress(heard):
        parted = A.assess_project(f, measures=False)
    assert [r.to_dict() for r in parted.results] == [r.to_dict() for r in plain.results]
    labels = {s[0] for s in heard.steps}
    assert {"rekentabellen NOx en NH3", "zoekgrenzen NOx", "zoekgrenzen NH3"} <= labels
    for label in labels:
        seq = [(d, t) for lab, d, t in heard.steps if lab == label]
        assert seq[0][0] == 0 and seq[-1][0] == seq[-1][1]
        assert all(b[0] >= a[0] or b[0] == 0 for a, b in zip(seq, seq[1:]))
