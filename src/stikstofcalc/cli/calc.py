"""``stikstofcalc calc``: one project -> verdict per phase and year (thin layer).

Library: :func:`stikstofcalc.assessment.core.assess_project` computes,
:mod:`stikstofcalc.io.report` formats and writes. Errors in the input become a message
and exit code 2 (:func:`stikstofcalc.cli.options.user_errors`).
"""

from __future__ import annotations

from pathlib import Path

import click

from stikstofcalc.cli.options import user_errors
from stikstofcalc.cli.options import csv_format_option, guard, overwrite_option
from stikstofcalc.cli.maps import map_dir_option, map_option
from stikstofcalc.rules import DEFAULT_REGIME, REGIMES


@click.command(name="calc")
@click.argument("project", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--regime", type=click.Choice(list(REGIMES)), default=DEFAULT_REGIME, show_default=True,
              help="Regels voor het oordeel; bouwvrijstelling en ondergrens-1mol dienen ter vergelijking.")
@click.option("--receptors", type=click.Path(dir_okay=False),
              help="Eigen receptoren (CSV/Excel: receptor_id, of x, y, of lat, lon; eventueel KDW, "
                   "achtergronddepositie of overschrijding, en eigen terrein: z0_m, landuse of "
                   "lu_1..lu_9; of AERIUS-uitvoer: IMAER-GML met ReceptorPoints, GeoPackage met "
                   "receptor_id). Standaard: Natura 2000-hexagons binnen 25 km.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Schrijf het resultaat naar RESULT.json of RESULT.csv (bij CSV de herkomst ernaast).")
@click.option("--salderen", "netted", is_flag=True,
              help="Toon ook de gebruiksfase gesaldeerd met de referentiesituatie (informatie voor "
                   "een vergunningaanvraag; verandert het oordeel niet).")
@click.option("--no-measures", is_flag=True, help="Zonder de standaardmaatregelen.")
@click.option("--werktuig-warmte", "machinery_heat", type=click.Choice(["conservatief", "instructie"]),
              default=None, help="Warmte-inhoud van mobiele werktuigen: conservatief = 0 MW (standaard; "
              "zo reproduceert OPS-LT de AERIUS 2024-uitvoer), instructie = 0,02 MW (sector 3210) / "
              "0,035 MW (3220) uit de AERIUS-instructie. Standaard: construction.werktuig_warmte van "
              "het project, anders conservatief. De uitvoer toont ook de andere keuze.")
@click.option("--per-hexagon", "per_hexagon", type=click.Path(dir_okay=False),
              help="Schrijf de depositie per hexagon per fase en jaar naar HEX.csv of HEX.gpkg "
                   "(GeoPackage met hexagons in EPSG:28992); rekent dan alle hexagons door.")
@map_option
@map_dir_option
@overwrite_option
@csv_format_option
@user_errors
@guard(inputs=("project", "receptors"),
       outputs={"output": (".json", ".csv"), "map_path": (".png",), "per_hexagon": (".csv", ".gpkg")},
       folders=("map_dir",), computes=True)
def calc(project, regime, receptors, output, netted, no_measures, map_path=None, map_dir=None,
         machinery_heat=None, per_hexagon=None, overwrite=False, csv_format="standaard"):
    """Toets PROJECT (.toml), of een bronnenlijst (CSV/Excel in het formaat van deposition, of
    IMAER-GML: TEMPORARY = realisatiefase, PROPOSED = gebruiksfase, REFERENCE = referentie):
    is per fase en kalenderjaar een vergunning nodig?"""
    from stikstofcalc.io import report
    from stikstofcalc.assessment.core import assess_project
    from stikstofcalc.assessment.source_list import is_source_file

    if per_hexagon:
        report.check_hexagon_path(per_hexagon)
    if len(project) > 1 and any(Path(str(f)).suffix.lower() not in (".gml", ".xml") for f in project):
        from stikstofcalc.errors import InputError

        raise InputError("calc rekent één project of één bronnenlijst per keer; alleen IMAER-GML-bestanden "
                         "kunnen samen", field="PROJECT", value=", ".join(map(str, project)),
                         expected="één .toml-, .csv- of .xlsx-bestand, of IMAER-GML-bestanden (meer "
                                  "projecten: stikstofcalc batch)")
    if len(project) > 1 or is_source_file(project[0], unreadable=True):
        return _calc_sources(project, regime, receptors, output, netted, machinery_heat, per_hexagon,
                             map_path or map_dir, csv_format)
    project = project[0]

    if map_path or map_dir:  # fail before computing when matplotlib is missing
        from stikstofcalc.maps.draw import require_matplotlib

        require_matplotlib()
    with _progress_line():
        result = assess_project(project, regime=regime, receptors=receptors, netted=netted,
                                measures=not no_measures, machinery_heat=machinery_heat,
                                per_hexagon=bool(per_hexagon))
    click.echo(report.format_report(result))
    if output:
        written = report.write_result(result, output, dialect=csv_format)
        click.echo("-> " + ", ".join(str(p) for p in written))
    if per_hexagon:
        click.echo("-> " + str(report.write_hexagons([result], per_hexagon, dialect=csv_format)))
    if map_path or map_dir:
        from stikstofcalc.maps.draw import write_deposition_maps

        drawn = write_deposition_maps(project, result, path=map_path, directory=map_dir,
                                      regime=regime, receptors=receptors)
        click.echo("-> " + ", ".join(str(p) for p in drawn))


def _calc_sources(files, regime, receptors, output, netted, machinery_heat, per_hexagon, maps,
                  csv_format="standaard"):
    """``calc`` on a source list or IMAER files: the full report per case (no measures)."""
    from stikstofcalc.io import report
    from stikstofcalc.errors import InputError
    from stikstofcalc.assessment.source_list import assess_source_list

    if maps:
        raise InputError("kaarten zijn er alleen voor projectbestanden (.toml)", field="--map",
                         expected="een .toml-project, of laat --map/--map-dir weg")
    with _progress_line():
        results = assess_source_list(files, regime=regime, receptors=receptors, netted=netted,
                                     machinery_heat=machinery_heat, per_hexagon=bool(per_hexagon))
    click.echo("\n\n".join(report.format_report(a) for a in results))
    if output:
        written = report.write_results(results, output, dialect=csv_format)
        click.echo("-> " + ", ".join(str(p) for p in written))
    if per_hexagon:
        click.echo("-> " + str(report.write_hexagons(results, per_hexagon, dialect=csv_format)))


#: Show the progress line for engine rounds that last longer than this [s].
PROGRESS_AFTER_S = 2.0


class ProgressLine:
    """How far a long engine round is, on one line of stderr (rewritten in place): hexagons
    done of the round, per cent, time left at the rate so far. Only on a terminal; rounds
    that end within :data:`PROGRESS_AFTER_S` show nothing."""

    def __init__(self, stream, clock=None):
        import time

        self.stream = stream
        self.clock = clock or time.monotonic
        self.start = self.clock()
        self.shown = False
        self.first = None  # (time, done) of the round's first part: it also builds the tables
        self.step_label, self.step_start, self.step_shown = None, None, False

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        elapsed = now - self.start
        if done >= total:
            if self.shown:
                self.stream.write(f"\r  rekenen: {_n(total)} hexagons in {_dur(elapsed)}" + " " * 24 + "\n")
                self.stream.flush()
            self.start, self.shown, self.first = now, False, None
            return
        if self.first is None:
            self.first = (now, done)
        if elapsed < PROGRESS_AFTER_S:
            return
        t1, d1 = self.first
        # the time left at the rate of the parts after the first (the first one also builds
        # the sources' tables, which the others reuse)
        left = f", nog ongeveer {_dur((now - t1) * (total - done) / (done - d1))}" if done > d1 else ""
        self.stream.write(f"\r  rekenen: {_n(done)} van {_n(total)} hexagons ({100 * done // total} %)"
                          f"{left}   ")
        self.stream.flush()
        self.shown = True

    def step(self, label: str, done: int, total: int) -> None:
        """A preparation step (``label``: "rekentabellen NOx en NH3", ...) of a large source list:
        ``done`` of ``total`` source elements; shown as the rounds are, after
        :data:`PROGRESS_AFTER_S`, with the time left at the rate so far."""
        now = self.clock()
        if done == 0 or label != self.step_label:
            self.step_label, self.step_start, self.step_shown = label, now, False
            if done == 0:
                return
        elapsed = now - self.step_start
        if done >= total:
            if self.step_shown:
                self.stream.write(f"\r  {label}: {_n(total)} bronelementen in {_dur(elapsed)}"
                                  + " " * 24 + "\n")
                self.stream.flush()
            self.step_label, self.step_shown = None, False
            if self.first is None:  # no part of a round heard yet: the round's time starts now
                self.start = now  # (the step had its own line)
            return
        if elapsed < PROGRESS_AFTER_S:
            return
        left = _dur(elapsed * (total - done) / done)
        self.stream.write(f"\r  {label}: {_n(done)} van {_n(total)} bronelementen "
                          f"({100 * done // total} %), nog ongeveer {left}   ")
        self.stream.flush()
        self.step_shown = True


def _n(v: int) -> str:
    from stikstofcalc.errors import nl_int

    return nl_int(v)


def _dur(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60} min {s % 60} s" if s >= 60 else f"{s} s"


def _progress_line():
    """The progress line on an interactive stderr, else nothing."""
    import contextlib
    import sys

    from stikstofcalc.assessment.core import reporting_progress

    if not sys.stderr.isatty():
        return contextlib.nullcontext()
    return reporting_progress(ProgressLine(sys.stderr))
