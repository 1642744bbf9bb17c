"""``stikstofcalc calc``: one project -> verdict per phase and year (thin layer).

Library: :func:`stikstofcalc.assessment.assess_project` computes,
:mod:`stikstofcalc.report` formats and writes. Errors in the input become a message
and exit code 2 (:func:`stikstofcalc.cli.user_errors`).
"""

from __future__ import annotations

import click

from .cli import user_errors
from .cli_options import csv_format_option, guard, overwrite_option
from .cli_maps import map_dir_option, map_option
from .rules import DEFAULT_REGIME, REGIMES


@click.command(name="calc")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("--regime", type=click.Choice(list(REGIMES)), default=DEFAULT_REGIME, show_default=True,
              help="Rules for the verdict; bouwvrijstelling and ondergrens-1mol are for comparison.")
@click.option("--receptors", type=click.Path(dir_okay=False),
              help="Own receptor set (CSV/Excel: receptor_id or x, y or lat, lon; optional KDW, "
                   "background deposition or exceeding). Default: Natura 2000 hexagons within 25 km.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the result to RESULT.json or RESULT.csv (CSV: provenance beside it).")
@click.option("--salderen", "netted", is_flag=True,
              help="Also show the use phase netted against the reference situation (information "
                   "for a permit application; does not change the verdict).")
@click.option("--no-measures", is_flag=True, help="Skip the standard measures.")
@map_option
@map_dir_option
@overwrite_option
@csv_format_option
@user_errors
@guard(inputs=("project", "receptors"), outputs={"output": (".json", ".csv"), "map_path": (".png",)},
       folders=("map_dir",), computes=True)
def calc(project, regime, receptors, output, netted, no_measures, map_path=None, map_dir=None,
         overwrite=False, csv_format="standaard"):
    """Assess PROJECT (.toml): per phase and calendar year, is a permit needed?"""
    from . import report
    from .assessment import assess_project

    if map_path or map_dir:  # fail before computing when matplotlib is missing
        from .maps import require_matplotlib

        require_matplotlib()
    result = assess_project(project, regime=regime, receptors=receptors, netted=netted,
                            measures=not no_measures)
    click.echo(report.format_report(result))
    if output:
        written = report.write_result(result, output, dialect=csv_format)
        click.echo("-> " + ", ".join(str(p) for p in written))
    if map_path or map_dir:
        from .maps import write_deposition_maps

        drawn = write_deposition_maps(project, result, path=map_path, directory=map_dir,
                                      regime=regime, receptors=receptors)
        click.echo("-> " + ", ".join(str(p) for p in drawn))
