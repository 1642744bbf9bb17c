"""``stikstofcalc template`` and ``stikstofcalc batch``: thin click layers.

Library: :mod:`stikstofcalc.io.excel.template` writes the template,
:func:`stikstofcalc.batch.run.run_batch` reads, validates and computes, and writes the results
workbook per chunk while computing (:class:`stikstofcalc.io.excel.results.ResultsWriter`).

Exit codes of ``batch``: 0 every case computed; 3 results written but some rows or
cases have errors (see sheet ``fouten``); 2 nothing written (input unreadable, output
exists without ``--overwrite``, output = input).
"""

from __future__ import annotations

import shlex
import sys

import click

from stikstofcalc.cli.options import user_errors
from stikstofcalc.cli.options import guard, overwrite_option
from stikstofcalc.rules import DEFAULT_REGIME, REGIMES

#: Show a progress bar from this many cases on (and only on a terminal).
PROGRESS_MIN_CASES = 50
EXIT_SOME_INVALID = 3


@click.command(name="template")
@click.argument("output", type=click.Path(dir_okay=False))
@overwrite_option
@user_errors
@guard(outputs={"output": (".xlsx",)})
def template(output, overwrite):
    """Schrijf een lege werkmap voor zaken (OUTPUT.xlsx) met keuzelijsten, uitleg en twee voorbeelden."""
    from stikstofcalc.io.excel.template import write_template

    path = write_template(output, overwrite=overwrite)
    click.echo(f"-> {path} (vul 'projecten' in; uitleg op 'toelichting')")


class _Progress:
    """A click progress bar on stderr, shown only on a terminal and for long batches."""

    def __init__(self):
        self.bar = None

    def __call__(self, done=0, *, total=None):
        if total is not None:
            if total >= PROGRESS_MIN_CASES and sys.stderr.isatty():
                self.bar = click.progressbar(length=total, label="zaken", file=sys.stderr)
                self.bar.__enter__()
            return
        if self.bar is not None:
            self.bar.update(done)

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.command(name="batch")
@click.argument("cases", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Werkmap met resultaten RESULTS.xlsx (resultaten, bronnen, fouten, invoer, herkomst).")
@click.option("--regime", type=click.Choice(list(REGIMES)), default=None,
              help=f"Regime voor zaken met een lege cel 'regime' [standaard: {DEFAULT_REGIME}].")
@overwrite_option
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None,
              help="Aantal werkprocessen (standaard: alle processoren vanaf 200 zaken, anders 1).")
@click.option("--map-dir", type=click.Path(file_okay=False), default=None,
              help="Teken ook per zaak, fase en jaar een depositiekaart in DIR (PNG). "
                   "Nodig: pip install 'stikstofcalc[maps]'.")
@user_errors
@guard(inputs=("cases",), outputs={"output": (".xlsx",)}, folders=("map_dir",), computes=True)
def batch(cases, output, regime, overwrite, jobs, map_dir=None):
    """Bereken elke zaak van CASES (.xlsx van 'stikstofcalc template', of .csv)."""
    from pathlib import Path

    from stikstofcalc.batch.run import run_batch

    out = Path(output)  # checked before computing (cli_options.guard)
    from stikstofcalc.assessment.source_list import is_source_file

    if is_source_file(cases):  # a source list with case_id (issue 12): its own, simpler path
        return _batch_sources(cases, out, regime, overwrite, map_dir)
    if map_dir:  # fail before computing when matplotlib is missing
        from stikstofcalc.maps.draw import require_matplotlib

        require_matplotlib()
    progress = _Progress()
    try:
        # the rows of each chunk are written while the workers compute the next ones
        result = run_batch(cases, regime=regime, jobs=jobs, progress=progress, output=out,
                           overwrite=overwrite,
                           command=" ".join(shlex.quote(a) for a in ["stikstofcalc"] + sys.argv[1:]))
    finally:
        progress.close()
    click.echo(result.summary())
    click.echo(f"-> {out}")
    if map_dir:
        from stikstofcalc.maps.draw import write_batch_maps

        drawn, failed = write_batch_maps(cases, map_dir, regime=regime, book=result.book)
        click.echo(f"-> {len(drawn)} kaarten in {map_dir}"
                   + "".join(f"\n   zaak {c}: {msg}" for c, msg in failed))
    if result.counts["errors"]:
        sys.exit(EXIT_SOME_INVALID)


def _batch_sources(cases, out, regime, overwrite, map_dir):
    """``batch`` on a source list: every valid case assessed, every problem in ``fouten``."""
    from stikstofcalc.batch.run import run_source_batch
    from stikstofcalc.errors import InputError

    if map_dir:
        raise InputError("kaarten zijn er alleen voor projecten", field="--map-dir",
                         expected="een werkmap met projecten, of laat --map-dir weg")
    result = run_source_batch(cases, regime=regime, output=out, overwrite=overwrite,
                              command=" ".join(shlex.quote(a) for a in ["stikstofcalc"] + sys.argv[1:]))
    click.echo(result.summary())
    click.echo(f"-> {out}")
    if result.counts["errors"]:
        sys.exit(EXIT_SOME_INVALID)
