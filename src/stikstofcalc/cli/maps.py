"""``stikstofcalc headroom-map``: a thin click layer over :mod:`stikstofcalc.maps.draw`.

The deposition maps hang on ``calc --map/--map-dir`` and ``batch --map-dir``; this
module holds the stand-alone headroom map and the shared map options.
"""

from __future__ import annotations

import click

from stikstofcalc.cli.options import user_errors
from stikstofcalc.cli.options import guard, overwrite_option
from stikstofcalc.rules import DEFAULT_REGIME, REGIMES

#: ``--map`` and ``--map-dir`` for ``calc``.
map_option = click.option(
    "--map", "map_path", type=click.Path(dir_okay=False),
    help="Teken ook de depositiekaart (PNG, A4 liggend) van de fase en het jaar met de grootste "
         "depositie. Nodig: pip install 'stikstofcalc[maps]'.")
map_dir_option = click.option(
    "--map-dir", type=click.Path(file_okay=False),
    help="Teken ook per fase en jaar een depositiekaart in DIR (PNG). "
         "Nodig: pip install 'stikstofcalc[maps]'.")


def _metres(ctx, param, value):
    from stikstofcalc.errors import StikstofError
    from stikstofcalc.units import to_magnitude

    try:
        return None if value is None else to_magnitude(value, "m", field=f"--{param.name}")
    except StikstofError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command(name="headroom-map")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="De kaart, OUT.png (A4 liggend).")
@click.option("--radius", default="10 km", show_default=True, callback=_metres,
              help='Kandidaatlocaties binnen deze afstand van de projectlocatie (bv. "10km", "5 km").')
@click.option("--step", default="1 km", show_default=True, callback=_metres,
              help='Afstand tussen de kandidaatlocaties (bv. "1km", "500 m").')
@click.option("--unit", type=click.Choice(["woningen", "nox"]), default=None,
              help="Ruimte in woningen (standaard als het project woningen heeft) of kg NOx/jr.")
@click.option("--phase", type=click.Choice(["realisatie", "gebruik"]), default=None,
              help="Alleen deze fase (standaard: elke fase en elk jaar moet 0,00 geven).")
@click.option("--regime", type=click.Choice(list(REGIMES)), default=DEFAULT_REGIME, show_default=True,
              help="Regels voor het oordeel (drempel).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False),
              help="Schrijf het raster ook naar CSV (een rij per kandidaatlocatie).")
@click.option("--dpi", type=click.IntRange(50, 600), default=150, show_default=True,
              help="Resolutie van de kaart [punten per inch].")
@overwrite_option
@user_errors
@guard(inputs=("project",), outputs={"output": (".png",), "csv_path": (".csv",)}, computes=True)
def headroom_map(project, output, radius, step, unit, phase, regime, csv_path, dpi, overwrite=False):
    """Kaart van de grootste projectomvang die nog 0,00 geeft rond de locatie van PROJECT."""
    from stikstofcalc.maps import draw as maps

    maps.require_matplotlib()
    written = maps.write_headroom_map(project, output, csv=csv_path, dpi=dpi, radius_m=radius,
                                      step_m=step, unit=unit, phase=phase, regime=regime)
    click.echo("-> " + ", ".join(str(p) for p in written))
