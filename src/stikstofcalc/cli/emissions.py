"""``stikstofcalc emissions`` and ``stikstofcalc kengetallen list|show|export``.

Thin commands over :mod:`.inventory` and :mod:`.kengetallen`; library errors
become a message and exit code 2 (see :func:`stikstofcalc.cli.options.user_errors`).
Files are written atomically (temporary file + rename).
"""

from __future__ import annotations

import json

import click

from stikstofcalc.cli.options import user_errors
from stikstofcalc.cli.options import csv_format_option, guard, overwrite_option


@click.command()
@click.argument("projects", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Schrijf de tabel met emissiebronnen naar deze CSV (standaard: CSV op stdout); "
                   "ernaast komt het herkomstbestand OUTPUT.provenance.json.")
@click.option("--explain", "explain_", is_flag=True,
              help="Toon de herleiding van elk getal in gewone taal (naar stderr zonder -o).")
@click.option("--case", help="Licht alleen deze zaak toe (standaard: elke zaak).")
@click.option("--overrides", type=click.Path(dir_okay=False),
              help="CSV- of Excel-bestand met kengetallen die de editie voor deze run vervangen of aanvullen.")
@click.option("--edition", help="Editie van de kengetallen (standaard: die van het project, anders de nieuwste).")
@overwrite_option
@csv_format_option
@user_errors
@guard(inputs=("projects", "overrides"), outputs={"output": (".csv",)})
def emissions(projects, output, explain_, case, overrides, edition, overwrite=False,
              csv_format="standaard"):
    """Emissiebronnen (NOx, NH3 in kg/jr per fase, jaar en bron) van PROJECTS (.toml)."""
    from stikstofcalc.emissions import inventory
    from stikstofcalc import kengetallen
    from stikstofcalc.emissions.project import kengetallen_for, read_project

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
        from stikstofcalc.io.atomic import AtomicGroup

        with AtomicGroup() as group:  # the table and its provenance: one unit
            group.write_csv(output, table, dialect="excel-nl" if csv_format == "excel-nl" else "standard")
            group.write_text(f"{output}.provenance.json",
                             json.dumps(table.attrs["provenance"], indent=2, default=str))
        click.echo(summary)
        click.echo(f"{len(table)} bronnen -> {output}")
    else:
        from stikstofcalc.io.atomic import csv_text

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
    """Tabellen met kengetallen bekijken en exporteren."""


@kengetallen_group.command(name="list")
@click.option("--edition", help="Editie (standaard: de nieuwste).")
@click.option("--overrides", type=click.Path(dir_okay=False), help="Pas eerst dit bestand met eigen kengetallen toe.")
@user_errors
def list_tables(edition, overrides):
    """Toon de tabellen van een editie met het aantal rijen per status en de controlegetallen."""
    from stikstofcalc import kengetallen

    kg = kengetallen.load(edition)
    if overrides:
        kg = kg.with_overrides(overrides)
    click.echo(f"editie {kg.edition} (beschikbaar: {', '.join(kengetallen.editions())})")
    click.echo(kengetallen.summary(kg).to_string(index=False))


@kengetallen_group.command(name="show")
@click.argument("name")
@click.option("--edition", help="Editie (standaard: de nieuwste).")
@click.option("--status", type=click.Choice(["verified", "reported", "estimate", "user"]),
              help="Alleen rijen met deze status.")
@click.option("--overrides", type=click.Path(dir_okay=False), help="Pas eerst dit bestand met eigen kengetallen toe.")
@user_errors
def show_table(name, edition, status, overrides):
    """Toon tabel NAME (zoals in het bestand, met status en bron), of 'sources' (de bronnen)."""
    from stikstofcalc import kengetallen
    from stikstofcalc.errors import InputError

    kg = kengetallen.load(edition)
    if overrides:
        kg = kg.with_overrides(overrides)
    if name == "sources":
        click.echo(kg.sources.to_csv(index=False, lineterminator="\n"), nl=False)
        return
    if name not in kg.tables:
        raise InputError(f"onbekende tabel {name!r}", field="NAME", value=name,
                         expected=f"een van {', '.join(kg.tables)}, sources")
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
@click.option("--edition", help="Editie (standaard: de nieuwste).")
@click.option("--overrides", type=click.Path(dir_okay=False), help="Pas eerst dit bestand met eigen kengetallen toe.")
@overwrite_option
@user_errors
@guard(inputs=("overrides",), folders=("directory",))
def export_tables(directory, edition, overrides, overwrite=False):
    """Schrijf elke tabel van een editie (eigen kengetallen toegepast) als CSV in DIRECTORY."""
    from stikstofcalc import kengetallen

    kg = kengetallen.load(edition)
    if overrides:
        kg = kg.with_overrides(overrides)
    written = kengetallen.export(kg, directory)
    click.echo(f"{len(written)} bestanden van editie {kg.edition} -> {directory}")
