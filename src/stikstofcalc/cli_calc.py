"""``stikstofcalc calc``: one project -> verdict per phase and year (thin layer).

Library: :func:`stikstofcalc.assessment.assess_project` computes,
:mod:`stikstofcalc.report` formats and writes. Errors in the input become a message
and exit code 2 (:func:`stikstofcalc.cli.user_errors`).
"""

from __future__ import annotations

import click

from .cli import user_errors
from .cli_maps import map_dir_option, map_option
from .rules import DEFAULT_REGIME, REGIMES


@click.command(name="calc")
@click.argument("project", nargs=-1, required=True, type=click.Path(dir_okay=False))
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
@click.option("--werktuig-warmte", "machinery_heat", type=click.Choice(["conservatief", "instructie"]),
              default=None, help="Warmte-inhoud van mobiele werktuigen: conservatief = 0 MW (standaard; "
              "zo reproduceert OPS-LT de AERIUS 2024-uitvoer), instructie = 0,02 MW (sector 3210) / "
              "0,035 MW (3220) uit de AERIUS-instructie. Standaard: construction.werktuig_warmte van "
              "het project, anders conservatief. De uitvoer toont ook de andere keuze.")
@click.option("--per-hexagon", "per_hexagon", type=click.Path(dir_okay=False),
              help="Schrijf de depositie per hexagon per fase en jaar naar HEX.csv of HEX.gpkg "
                   "(GeoPackage met hexagonen in EPSG:28992); rekent dan alle hexagons door.")
@map_option
@map_dir_option
@user_errors
def calc(project, regime, receptors, output, netted, no_measures, map_path=None, map_dir=None,
         machinery_heat=None, per_hexagon=None):
    """Assess PROJECT (.toml), or a source list (CSV/Excel in the deposition format, or IMAER
    GML files: TEMPORARY = realisatiefase, PROPOSED = gebruiksfase, REFERENCE = referentie):
    per phase and calendar year, is a permit needed?"""
    from . import report
    from .assessment import assess_project
    from .source_list import is_source_file

    if per_hexagon:
        report.check_hexagon_path(per_hexagon)
    if len(project) > 1 or is_source_file(project[0]):
        return _calc_sources(project, regime, receptors, output, netted, machinery_heat, per_hexagon,
                             map_path or map_dir)
    project = project[0]

    if map_path or map_dir:  # fail before computing when matplotlib is missing
        from .maps import require_matplotlib

        require_matplotlib()
    result = assess_project(project, regime=regime, receptors=receptors, netted=netted,
                            measures=not no_measures, machinery_heat=machinery_heat,
                            per_hexagon=bool(per_hexagon))
    click.echo(report.format_report(result))
    if output:
        written = report.write_result(result, output)
        click.echo("-> " + ", ".join(str(p) for p in written))
    if per_hexagon:
        click.echo("-> " + str(report.write_hexagons([result], per_hexagon)))
    if map_path or map_dir:
        from .maps import write_deposition_maps

        drawn = write_deposition_maps(project, result, path=map_path, directory=map_dir,
                                      regime=regime, receptors=receptors)
        click.echo("-> " + ", ".join(str(p) for p in drawn))


def _calc_sources(files, regime, receptors, output, netted, machinery_heat, per_hexagon, maps):
    """``calc`` on a source list or IMAER files: the full report per case (no measures)."""
    from . import report
    from .errors import InputError
    from .source_list import assess_source_list

    if maps:
        raise InputError("kaarten zijn er alleen voor projectbestanden (.toml)", field="--map",
                         expected="een .toml-project, of laat --map/--map-dir weg")
    results = assess_source_list(files, regime=regime, receptors=receptors, netted=netted,
                                 machinery_heat=machinery_heat, per_hexagon=bool(per_hexagon))
    click.echo("\n\n".join(report.format_report(a) for a in results))
    if output:
        written = report.write_results(results, output)
        click.echo("-> " + ", ".join(str(p) for p in written))
    if per_hexagon:
        click.echo("-> " + str(report.write_hexagons(results, per_hexagon)))
