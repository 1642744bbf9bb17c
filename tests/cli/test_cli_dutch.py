"""The command line speaks Dutch (issue 13, "The output a person reads").

Every error message starts with ``fout:`` (the library's messages and click's own usage
errors, for every command), and the help of the group and of every command has no English
sentences left (click's frame words such as ``Usage:`` aside).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from stikstofcalc.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def _commands(group=main, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        yield prefix + (name,)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, prefix + (name,))


COMMANDS = list(_commands())
#: English words that do not occur in Dutch help text.
ENGLISH = re.compile(r"\b(the|and|with|this|every|write|also|only|show|skip|per candidate|which|"
                     r"default:|folder|output table|workbook|message)\b", re.I)
#: What click itself adds around our text (not ours to translate here).
CLICK_FRAME = re.compile(r"^(Usage:|Options:|Commands:)|\[default: [^\]]*\]|\[required\]|\[\d.*<=x<=.*\]")


def _help(args):
    r = CliRunner().invoke(main, list(args) + ["--help"])
    assert r.exit_code == 0, r.output
    return r.output


@pytest.mark.parametrize("cmd", [()] + COMMANDS, ids=lambda c: " ".join(c) or "stikstofcalc")
def test_help_is_dutch(cmd):
    text = _help(cmd)
    assert "Toon deze hulp en stop." in text
    english = []
    for line in text.splitlines():
        if line.startswith("Usage:"):
            continue
        body = CLICK_FRAME.sub("", line)
        if re.match(r"^  [a-z-]+  ", body):  # a sub-command's name in the list ('show', 'export')
            body = body.split(None, 1)[1]
        if ENGLISH.search(body):
            english.append(line)
    assert english == [], "\n".join(english)


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_usage_error_starts_with_fout(cmd):
    r = CliRunner().invoke(main, list(cmd) + ["--geen-optie"])
    assert r.exit_code == 2
    assert "fout: " in r.output and "Error:" not in r.output and "error:" not in r.output, r.output
    # one line, as the README promises (click's usage block was four lines, "Usage:" first)
    assert len(r.output.strip().splitlines()) == 1 and "Usage" not in r.output, r.output
    assert "(gebruik: " in r.output and "--help')" in r.output


def test_library_error_starts_with_fout(tmp_path):
    r = CliRunner().invoke(main, ["calc", str(tmp_path / "bestaat_niet.toml")])
    assert r.exit_code == 2
    assert r.output.startswith("fout: ") and "error:" not in r.output.lower(), r.output


def test_bad_option_value_starts_with_fout():
    r = CliRunner().invoke(main, ["check-imaer", "--tolerance", "x", "a.gml"])
    assert r.exit_code == 2 and "fout: " in r.output and "Error:" not in r.output, r.output


@pytest.mark.parametrize("args, dutch", [
    (["calc", "-o"], "optie '-o' heeft een waarde nodig"),
    (["calc", "x.toml", "--regime"], "optie '--regime' heeft een waarde nodig"),
    (["template", "a.xlsx", "b.xlsx"], "onverwacht extra argument: b.xlsx"),
    (["template", "--overwrite=ja", "a.xlsx"], "optie '--overwrite' neemt geen waarde"),
    (["capacity", "--bbox", "170000,448000,172000,450000", "--workers", "abc"], "'abc' is geen geheel getal"),
])
def test_click_usage_errors_are_dutch(args, dutch):
    """click's own texts that name no parameter of ours ("requires an argument", "unexpected
    extra argument", "does not take a value", an IntRange) came through in English."""
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    last = r.output.strip().splitlines()[-1]
    assert last.startswith("fout: ") and dutch in last, r.output
    assert not re.search(r"\b(requires|argument\.|does not|unexpected|not a valid)\b", last), last


def test_python_dash_m():
    env = {"PYTHONPATH": str(ROOT / "src")}
    import os

    r = subprocess.run([sys.executable, "-m", "stikstofcalc", "--help"], capture_output=True, text=True,
                       env={**os.environ, **env}, cwd=ROOT, timeout=120)
    assert r.returncode == 0 and "Usage: stikstofcalc" in r.stdout and "Voortoets" in r.stdout, r.stderr


def test_an_unexpected_error_is_one_dutch_line_with_exit_1(monkeypatch):
    """A bug printed a Python traceback of 40 lines (review); now one 'fout: interne fout'
    line naming the exception, exit 1 (not 2: the input is not at fault); the traceback with
    STIKSTOFCALC_DEBUG=1."""
    from unittest import mock

    from click.testing import CliRunner
    from stikstofcalc.cli.main import main

    project = str(Path(__file__).resolve().parents[2] / "examples" / "dorp_kleine_uitbreiding.toml")
    monkeypatch.delenv("STIKSTOFCALC_DEBUG", raising=False)
    with mock.patch("stikstofcalc.assessment.core.unassessed_maxima", side_effect=TypeError("kapot")):
        res = CliRunner().invoke(main, ["calc", project])
        assert res.exit_code == 1 and "Traceback" not in res.output
        assert res.output.strip().splitlines() == [
            "fout: interne fout (TypeError: kapot); dit is een fout in stikstofcalc, niet in de invoer. Meld "
            "het met de opdracht en de invoerbestanden (de volledige melding: STIKSTOFCALC_DEBUG=1)"]
        monkeypatch.setenv("STIKSTOFCALC_DEBUG", "1")
        res = CliRunner().invoke(main, ["calc", project])
        assert isinstance(res.exception, TypeError)


def test_an_emission_error_names_the_project_file(tmp_path):
    """'fout: zaak "x", veld routes: verkeer maar geen toegangsroute' named no file, unlike
    every other input error (review)."""
    from click.testing import CliRunner
    from stikstofcalc.cli.main import main

    text = (Path(__file__).resolve().parents[2] / "examples" / "dorp_kleine_uitbreiding.toml").read_text("utf-8")
    p = tmp_path / "geen_route.toml"
    p.write_text(re.sub(r"(?ms)^\[\[routes\]\].*?(?=^\[|\Z)", "", text), encoding="utf-8")
    res = CliRunner().invoke(main, ["calc", str(p)])
    assert res.exit_code == 2 and f"bestand {p}, zaak" in res.output and "geen toegangsroute" in res.output


def test_counts_take_the_noun_that_fits():
    from stikstofcalc.errors import count_nl

    assert [count_nl(n, "bron", "bronnen") for n in (0, 1, 2, 1200)] == [
        "0 bronnen", "1 bron", "2 bronnen", "1.200 bronnen"]
