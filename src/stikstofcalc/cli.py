"""The ``stikstofcalc`` command line: a thin click layer over the library.

Every command parses its options, calls one library function and turns
:class:`~stikstofcalc.errors.StikstofError` into a message and exit code 2
(bad input) or 1 (other failures). No computation happens here.
"""

from __future__ import annotations

import functools
import sys

import click

from . import __version__
from .errors import StikstofError


def user_errors(func):
    """Turn library errors into a clean message and a non-zero exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except StikstofError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stikstofcalc")
def main():
    """Nitrogen-deposition prechecks for Dutch building projects.

    Turns sources (or project key figures) into deposition in mol N/ha/yr on
    receptors, with an OPS-LT 5.3.1 emulator that runs in milliseconds.
    """


def _register():
    from .cli_commands import register

    register(main)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
