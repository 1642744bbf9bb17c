"""``stikstofcalc deposition`` (placeholder: filled in by the I/O work)."""

import click


@click.command()
def deposition():
    """Deposition of SOURCES on RECEPTORS (mol N/ha/yr)."""
    raise click.ClickException("not implemented yet")
