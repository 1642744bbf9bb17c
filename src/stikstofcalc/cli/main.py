"""The ``stikstofcalc`` command line: a thin click layer over the library.

Every command parses its options, calls one library function and turns
:class:`~stikstofcalc.errors.StikstofError` into a message and exit code 2
(bad input) or 1 (other failures). No computation happens here.
"""

from __future__ import annotations

import os
import re
import sys

import click

from stikstofcalc._version import __version__
from stikstofcalc.cli.commands import register
from stikstofcalc.cli.options import ERROR_PREFIX, user_errors  # noqa: F401 (re-exported)


_HELP_NL = "Toon deze hulp en stop."
#: Environment variable that lets an unexpected error show its Python traceback.
DEBUG_VARIABLE = "STIKSTOFCALC_DEBUG"
#: Exit code of an unexpected error (a bug): not 2 (bad input) nor 3 (some rows invalid).
INTERNAL_ERROR_EXIT = 1


class _DutchGroup(click.Group):
    """The ``stikstofcalc`` group: click's own errors (unknown option, bad value) start with
    :data:`ERROR_PREFIX` like the library's, and ``-h/--help`` is explained in Dutch, for
    every command (the one place at the edge)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        self._dutch_help()
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # no command given: the help itself
                click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message(), err=True)
                sys.exit(exc.exit_code)
            # one line, as every error (click's "Usage: ..." block was English and four lines)
            where = ""
            if exc.ctx is not None:
                usage = exc.ctx.get_usage().split(":", 1)[-1].strip().replace("[OPTIONS]", "[OPTIES]")
                where = f" (gebruik: {usage}; zie '{exc.ctx.command_path} --help')"
            click.echo(f"{ERROR_PREFIX} {_dutch_usage(exc)}{where}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"{ERROR_PREFIX} {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Afgebroken.", err=True)
            sys.exit(1)
        except Exception as exc:  # noqa: BLE001 - a bug of ours: one Dutch line, not a traceback
            if os.environ.get(DEBUG_VARIABLE):
                raise
            click.echo(f"{ERROR_PREFIX} interne fout ({type(exc).__name__}: {exc}); dit is een fout in "
                       "stikstofcalc, niet in de invoer. Meld het met de "
                       f"opdracht en de invoerbestanden (de volledige melding: {DEBUG_VARIABLE}=1)", err=True)
            sys.exit(INTERNAL_ERROR_EXIT)
        sys.exit(rv if isinstance(rv, int) else 0)

    def _dutch_help(self):
        todo = [self]
        while todo:
            cmd = todo.pop()
            opt = cmd.get_help_option(click.Context(cmd, help_option_names=["-h", "--help"]))
            if opt is not None:
                opt.help = _HELP_NL
            todo += list(getattr(cmd, "commands", {}).values())


def _dutch_usage(exc) -> str:
    """click's usage errors in Dutch: unknown option, missing or bad value (the detail of a
    bad value is the option's own check, Dutch for every range check of the package)."""
    def hint():
        if exc.param is not None and exc.ctx is not None:
            return exc.param.get_error_hint(exc.ctx)
        h = exc.param_hint
        return " / ".join(h) if isinstance(h, (list, tuple)) else (h or "")

    if isinstance(exc, click.NoSuchOption):
        text = f"onbekende optie {exc.option_name}"
        if exc.possibilities:
            text += " (bedoelt u " + " of ".join(sorted(exc.possibilities)) + "?)"
        return text
    if isinstance(exc, click.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "")
        kind = {"argument": "argument", "option": "optie"}.get(kind, "parameter")
        return f"{kind} {hint()} ontbreekt".replace("  ", " ")
    if isinstance(exc, click.BadParameter):
        detail = exc.message
        for pattern, dutch in _CLICK_NL:
            detail = re.sub(pattern, dutch, detail)
        return f"ongeldige waarde voor {hint()}: {detail}"
    text = exc.format_message()
    for pattern, dutch in _USAGE_NL:
        text = re.sub(pattern, dutch, text)
    return text


#: click's other usage errors (no parameter of the package's own), in Dutch.
_USAGE_NL = [(r"^No such command (.*)\.$", r"onbekende opdracht \1 (zie stikstofcalc --help)"),
             (r"^Option (\S+) requires an argument\.$", r"optie \1 heeft een waarde nodig"),
             (r"^Option (\S+) requires (\d+) arguments\.$", r"optie \1 heeft \2 waarden nodig"),
             (r"^Option (\S+) does not take a value\.$", r"optie \1 neemt geen waarde (alleen de optie zelf)"),
             (r"^Got unexpected extra arguments? \((.*)\)$", r"onverwacht extra argument: \1"),
             (r"^No such option: (\S+)$", r"onbekende optie \1")]


#: click's own texts for a bad value of a typed option, in Dutch.
_CLICK_NL = [(r"^(.*) is not one of (.*)\.$", r"\1 is geen van \2"),
             (r"^(.*) is not a valid float\.$", r"\1 is geen getal"),
             (r"^(.*) is not a valid integer\.$", r"\1 is geen geheel getal"),
             (r"^(.*) is not in the range (.*)\.$", r"\1 ligt niet in het bereik \2"),
             (r"^(.*) is not a valid integer range\.$", r"\1 is geen geheel getal"),
             (r"^(.*) is not a valid float range\.$", r"\1 is geen getal"),
             (r"^(.*) is not a valid boolean\.$", r"\1 is geen ja/nee-waarde"),
             (r"^File (.*) does not exist\.$", r"bestand \1 bestaat niet"),
             (r"^File (.*) is a directory\.$", r"\1 is een map, geen bestand"),
             (r"^Directory (.*) is a file\.$", r"\1 is een bestand, geen map")]


@click.group(cls=_DutchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stikstofcalc", help="Toon de versie en stop.")
def main():
    """Voortoets stikstofdepositie voor bouwprojecten in Nederland.

    Rekent bronnen (of de kengetallen van een project) om naar depositie in
    mol N/ha/jr op receptoren, met een emulator van OPS-LT 5.3.1 die in
    milliseconden rekent. Elke opdracht heeft eigen hulp: stikstofcalc OPDRACHT --help.
    """


register(main)

if __name__ == "__main__":  # pragma: no cover
    main()
