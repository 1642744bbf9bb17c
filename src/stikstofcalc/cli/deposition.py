"""``stikstofcalc deposition``: a thin command over :func:`.io.deposition_files`.

Contract (fixed; other tools call it)::

    stikstofcalc deposition SOURCES.csv RECEPTORS.csv -o OUT.csv [--no-cutoff]
                            [--allow-extrapolation] [--overwrite]
                            [--terrain map|uniform] [--receptor-terrain hexagon|cell]

Exit codes: 0 success; 2 bad input or usage (message on stderr, no traceback; the
output file is not written). An existing output is refused unless ``--overwrite``;
an input file is never overwritten.
"""

from __future__ import annotations

import click

from stikstofcalc.cli.options import user_errors
from stikstofcalc.cli.options import guard, overwrite_option


@click.command()
@click.argument("sources", type=click.Path(dir_okay=False))
@click.argument("receptors", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Uitvoertabel (.csv of .xlsx): de receptoren met de depositiekolommen.")
@click.option("--no-cutoff", is_flag=True,
              help="Elke bron op elke receptor laten werken (standaard: tot 25 km, zoals AERIUS).")
@click.option("--allow-extrapolation", is_flag=True,
              help="Ook rekenen met hoogte, warmte, z0, spreiding of zijden buiten het gekalibreerde "
                   "bereik; de uitvoer krijgt dan een kolom 'extrapolated'.")
@click.option("--terrain", type=click.Choice(["map", "uniform"]), default="map", show_default=True,
              help="map: de ruwheidskaart (250 m) bij de bron, langs elk pad en bij de receptor "
                   "(zoals AERIUS); uniform: overal de z0_m van de bronnen (receptoren in gras).")
@click.option("--receptor-terrain", type=click.Choice(["hexagon", "cell"]), default="hexagon",
              show_default=True,
              help="z0/water van de receptor uit de kaart: gemiddeld over 6,25 ha eromheen (AERIUS-hexagon) "
                   "of de ene cel van 250 m waarin hij ligt.")
@overwrite_option
@user_errors
@guard(inputs=("sources", "receptors"), outputs={"output": (".csv", ".xlsx")}, computes=True)
def deposition(sources, receptors, output, no_cutoff, allow_extrapolation, overwrite, terrain,
               receptor_terrain):
    """Depositie van SOURCES (bronnen) op RECEPTORS in mol N/ha/jr.

    SOURCES en RECEPTORS zijn tabellen (.csv of .xlsx; kolommen in docs/deposition_io.md);
    de uitvoer heeft de kolommen van de receptoren, in de volgorde van de invoer, plus
    deposition_nox_mol_ha_yr, deposition_nh3_mol_ha_yr en deposition_total_mol_ha_yr.
    """
    from stikstofcalc.io.tables import deposition_files

    run = deposition_files(sources, receptors, output, cutoff=not no_cutoff,
                           allow_extrapolation=allow_extrapolation, overwrite=overwrite,
                           terrain=terrain, receptor_terrain=receptor_terrain)
    for note in run.notes:
        click.echo(f"let op: {note}", err=True)
    where = f" op rekenpunt {run.max_receptor_id}" if run.max_receptor_id is not None else ""
    top = f"{run.max_total_mol_ha_yr:.4g}".replace(".", ",")
    seconds = f"{run.seconds:.2f}".replace(".", ",")
    click.echo(f"{run.n_sources} bronnen ({run.n_elementary_sources} deelbronnen), "
               f"{run.n_receptors} rekenpunten; hoogste totale depositie "
               f"{top} mol N/ha/jr{where}; {seconds} s -> {run.output}")
