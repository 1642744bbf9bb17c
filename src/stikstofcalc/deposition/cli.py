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

from ..cli import user_errors
from ..cli_options import guard, overwrite_option


@click.command()
@click.argument("sources", type=click.Path(dir_okay=False))
@click.argument("receptors", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Output table (.csv or .xlsx): the receptors plus deposition columns.")
@click.option("--no-cutoff", is_flag=True,
              help="Let every source act on every receptor (default: up to 25 km, as AERIUS).")
@click.option("--allow-extrapolation", is_flag=True,
              help="Compute with heights, heat, z0, spread or area sides outside the calibrated "
                   "range; the output then has an 'extrapolated' column.")
@click.option("--terrain", type=click.Choice(["map", "uniform"]), default="map", show_default=True,
              help="map: the 250 m roughness map at the source, along each path and at the "
                   "receptor (as AERIUS); uniform: the sources' z0_m everywhere (grass receptors).")
@click.option("--receptor-terrain", type=click.Choice(["hexagon", "cell"]), default="hexagon",
              show_default=True,
              help="Receptor z0/water from the map: mean over 6.25 ha around it (AERIUS hexagon) "
                   "or the one 250 m cell holding it.")
@overwrite_option
@user_errors
@guard(inputs=("sources", "receptors"), outputs={"output": (".csv", ".xlsx")}, computes=True)
def deposition(sources, receptors, output, no_cutoff, allow_extrapolation, overwrite, terrain,
               receptor_terrain):
    """Deposition of SOURCES on RECEPTORS in mol N/ha/yr.

    SOURCES and RECEPTORS are .csv or .xlsx tables (columns in docs/deposition_io.md);
    the output has the receptor columns, in input order, plus
    deposition_nox_mol_ha_yr, deposition_nh3_mol_ha_yr and deposition_total_mol_ha_yr.
    """
    from .io import deposition_files

    run = deposition_files(sources, receptors, output, cutoff=not no_cutoff,
                           allow_extrapolation=allow_extrapolation, overwrite=overwrite,
                           terrain=terrain, receptor_terrain=receptor_terrain)
    for note in run.notes:
        click.echo(f"let op: {note}", err=True)
    where = f" op rekenpunt {run.max_receptor_id}" if run.max_receptor_id is not None else ""
    top = f"{run.max_total_mol_ha_yr:.4g}".replace(".", ",")
    click.echo(f"{run.n_sources} bronnen ({run.n_elementary_sources} deelbronnen), "
               f"{run.n_receptors} rekenpunten; hoogste totale depositie "
               f"{top} mol N/ha/jaar{where}; {run.seconds:.2f} s -> {run.output}")
