"""``stikstofcalc export-imaer`` and ``stikstofcalc check-imaer``: AERIUS interchange.

Thin commands over :mod:`stikstofcalc.imaer`; library errors become a message and
exit code 2 (see :func:`stikstofcalc.cli.user_errors`).
"""

from __future__ import annotations

import sys

import click

from .cli import user_errors


@click.command(name="export-imaer")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Folder for the GML files (created if missing).")
@click.option("--year", type=int, help="Calculation year: that realisation year only, and the use "
                                       "phase and reference computed for it.")
@user_errors
def export_imaer(project, outdir, year):
    """Write PROJECT (.toml) as IMAER 6.0 GML for AERIUS Calculator, one file per phase and year.

    Realisation phase -> TEMPORARY, use phase -> PROPOSED, reference -> REFERENCE.
    """
    from .imaer.writer import write_project

    for f in write_project(project, outdir, year=year):
        click.echo(f"{f.situation_type:<9} {f.year}  {f.sources} sources"
                   + (f", {f.skipped} zero-emission rows left out" if f.skipped else "")
                   + f"  -> {f.path}")
        for note in f.notes:
            click.echo(f"  note: {note}", err=True)
