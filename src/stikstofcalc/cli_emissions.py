"""``stikstofcalc emissions`` and ``stikstofcalc kengetallen list|show|export``.

Thin commands over :mod:`.inventory` and :mod:`.kengetallen`; library errors
become a message and exit code 2 (see :func:`stikstofcalc.cli.user_errors`).
Files are written atomically (temporary file + rename).
"""

from __future__ import annotations

import json

import click

from .cli import user_errors
from .cli_options import csv_format_option, guard, overwrite_option


@click.command()
@click.argument("projects", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the emission-source table to this CSV (default: CSV on stdout). "
                   "A provenance file OUTPUT.provenance.json is written beside it.")
@click.option("--explain", "explain_", is_flag=True,
              help="Print the plain-language trace of every number (to stderr with no -o).")
@click.option("--case", help="Explain only this case (default: every case).")
@click.option("--overrides", type=click.Path(dir_okay=False),
              help="CSV or Excel file of key figures replacing or extending the edition for this run.")
@click.option("--edition", help="kengetallen edition (default: the project's, else the newest).")
@overwrite_option
@csv_format_option
@user_errors
@guard(inputs=("projects", "overrides"), outputs={"output": (".csv",)})
def emissions(projects, output, explain_, case, overrides, edition, overwrite=False,
              csv_format="standaard"):
    """Emission sources (NOx, NH3 kg/yr per phase, year and source) of PROJECTS (.toml)."""
    from . import inventory, kengetallen
    from .project import kengetallen_for, read_project

    parsed = [read_project(p) for p in projects]
    tables = []
    for project in parsed:
        kg = kengetallen.load(edition) if edition else kengetallen_for(project)
        if overrides:
            kg = kg.with_overrides(overrides)
        tables.append(inventory.emission_sources(project, kengetallen=kg))
    table = tables[0] if len(tables) == 1 else _concat(tables)
    summary = inventory.totals(table).to_string(index=False, float_format=lambda v: f"{v:.4g}")
    if output:
        from .atomic import AtomicGroup

        with AtomicGroup() as group:  # the table and its provenance: one unit
            group.write_csv(output, table, dialect="excel-nl" if csv_format == "excel-nl" else "standard")
            group.write_text(f"{output}.provenance.json",
                             json.dumps(table.attrs["provenance"], indent=2, default=str))
        click.echo(summary)
        click.echo(f"{len(table)} bronnen -> {output}")
    else:
        from .atomic import csv_text

        click.echo(csv_text(table, dialect="excel-nl" if csv_format == "excel-nl" else "standard"), nl=False)
        click.echo(summary, err=True)
    if table["uses_estimate"].any():
        click.echo("let op: de uitkomst steunt op GESCHATTE kengetallen (kolom uses_estimate); "
                   "een voortoets, geen vergunningberekening", err=True)
    overridden = sum(len(p["overrides"]) for p in table.attrs["provenance"].values())
    if overridden:
        click.echo(f"let op: {overridden} kengetal-rij(en) overschreven (zie herkomst)", err=True)
    if explain_:
        cases = [case] if case else list(dict.fromkeys(table["case"]))
        text = "\n\n".join(inventory.explain(table, c) for c in cases)
        click.echo(text, err=not output)


def _concat(tables):
    import pandas as pd

    out = pd.concat(tables, ignore_index=True)
    out.attrs["provenance"] = {k: v for t in tables for k, v in t.attrs["provenance"].items()}
    return out


@click.group(name="kengetallen")
def kengetallen_group():
    """Inspect and export the key-figure tables (kengetallen)."""


@kengetallen_group.command(name="list")
@click.option("--edition", help="Edition (default: the newest).")
@click.option("--overrides", type=click.Path(dir_okay=False), help="Apply this override file first.")
@user_errors
def list_tables(edition, overrides):
    """List the tables of an edition with row counts per status and hashes."""
    from . import kengetallen

    kg = kengetallen.load(edition)
    if overrides:
        kg = kg.with_overrides(overrides)
    click.echo(f"edition {kg.edition} (available: {', '.join(kengetallen.editions())})")
    click.echo(kengetallen.summary(kg).to_string(index=False))


@kengetallen_group.command(name="show")
@click.argument("name")
@click.option("--edition", help="Edition (default: the newest).")
@click.option("--status", type=click.Choice(["verified", "reported", "estimate", "user"]),
              help="Only rows with this status.")
@click.option("--overrides", type=click.Path(dir_okay=False), help="Apply this override file first.")
@user_errors
def show_table(name, edition, status, overrides):
    """Print table NAME (as given in the file, with status and source), or 'sources'."""
    from . import kengetallen
    from .errors import InputError

    kg = kengetallen.load(edition)
    if overrides:
        kg = kg.with_overrides(overrides)
    if name == "sources":
        click.echo(kg.sources.to_csv(index=False, lineterminator="\n"), nl=False)
        return
    if name not in kg.tables:
        raise InputError(f"unknown table {name!r}", field="NAME", value=name,
                         expected=f"one of {', '.join(kg.tables)}, sources")
    spec = kengetallen.SCHEMA[name]
    frame = kg.tables[name]
    if status:
        frame = frame[frame["status"] == status]
    cols = list(spec.keys) + list(spec.labels) + [
        "quantity", "value_as_given", "unit_as_given", "value", "unit", "status", "source_id",
        "source_locator", "overridden"]
    click.echo(frame[cols].rename(columns={"value": "canonical_value", "unit": "canonical_unit",
                                           "value_as_given": "value", "unit_as_given": "unit"})
               .to_csv(index=False, lineterminator="\n"), nl=False)


@kengetallen_group.command(name="export")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--edition", help="Edition (default: the newest).")
@click.option("--overrides", type=click.Path(dir_okay=False), help="Apply this override file first.")
@overwrite_option
@user_errors
@guard(inputs=("overrides",), folders=("directory",))
def export_tables(directory, edition, overrides, overwrite=False):
    """Write every table of an edition (overrides applied) as CSV into DIRECTORY."""
    from . import kengetallen

    kg = kengetallen.load(edition)
    if overrides:
        kg = kg.with_overrides(overrides)
    written = kengetallen.export(kg, directory)
    click.echo(f"{len(written)} bestanden van editie {kg.edition} -> {directory}")
