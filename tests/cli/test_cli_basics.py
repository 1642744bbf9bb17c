"""CLI basics: version and help (exit codes)."""

from click.testing import CliRunner

from stikstofcalc import __version__
from stikstofcalc.cli.main import main


def test_version():
    res = CliRunner().invoke(main, ["--version"])
    assert res.exit_code == 0
    assert __version__ in res.output


def test_help_lists_commands():
    res = CliRunner().invoke(main, ["--help"])
    assert res.exit_code == 0
    assert "deposition" in res.output


def test_unknown_command_fails():
    res = CliRunner().invoke(main, ["no-such-command"])
    assert res.exit_code != 0
