"""``stikstofcalc export-imaer`` and ``stikstofcalc check-imaer``: AERIUS interchange.

Thin commands over :mod:`stikstofcalc.imaer`; library errors become a message and
exit code 2 (see :func:`stikstofcalc.cli.user_errors`).
"""

from __future__ import annotations

import sys

import click

from .cli import user_errors
from .ranges import click_range


@click.command(name="export-imaer")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Folder for the GML files (created if missing).")
@click.option("--year", type=int, callback=click_range("year"), help="Calculation year: that realisation year only, and the use "
                                       "phase and reference computed for it.")
@user_errors
def export_imaer(project, outdir, year):
    """Write PROJECT (.toml) as IMAER 6.0 GML for AERIUS Calculator, one file per phase and year.

    Realisation phase -> TEMPORARY, use phase -> PROPOSED, reference -> REFERENCE.
    PROJECT may also be a batch workbook (.xlsx or .csv, see ``stikstofcalc template``):
    every valid case then gets its own folder in OUTPUT; invalid cases are listed and the
    exit code is 3.
    """
    from .imaer.writer import write_project, write_workbook

    if str(project).lower().endswith((".xlsx", ".csv")):
        per_case, problems = write_workbook(project, outdir, year=year)
        n = sum(len(v) for v in per_case.values())
        click.echo(f"{len(per_case)} cases, {n} GML files -> {outdir}")
        for p in problems:
            click.echo(f"{p['niveau']}: case {p['zaak']!r} (sheet {p['blad']}, row {p['rij']}, "
                       f"column {p['kolom']}): {p['melding']}", err=True)
        if any(p["niveau"] == "fout" for p in problems):
            sys.exit(3)
        return
    for f in write_project(project, outdir, year=year):
        click.echo(f"{f.situation_type:<9} {f.year}  {f.sources} sources"
                   + (f", {f.skipped} zero-emission rows left out" if f.skipped else "")
                   + f"  -> {f.path}")
        for note in f.notes:
            click.echo(f"  note: {note}", err=True)


def _period(text):
    if text is None:
        return None
    from .errors import InputError

    from .ranges import YEAR_RANGE

    lo, hi = YEAR_RANGE
    expected = f'een periode zoals "2027-2028" of "2027", jaren van {lo} tot en met {hi}, het eerste niet na het laatste'
    parts = text.replace(":", "-").split("-")
    try:
        if len(parts) > 2:
            raise ValueError
        first, last = int(parts[0]), int(parts[-1])
    except ValueError:
        raise InputError(f"{text!r} is geen periode van jaren", field="--period", expected=expected) from None
    if not (lo <= first <= last <= hi):
        raise InputError(f"{text!r} is geen bruikbare periode", field="--period", value=text,
                         expected=expected)
    return first, last


@click.command(name="check-imaer")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the report workbook (situaties, bronnen, signalen, fouten) to this .xlsx.")
@click.option("--tolerance", type=float, default=0.01, show_default=True, callback=click_range("tolerance"),
              help="Relative emission difference that is flagged.")
@click.option("--period", help='Construction period in years, e.g. "2027-2028", to check the '
                               "calculation year against.")
@click.option("--min-route", "min_route_m", type=float, default=500.0, show_default=True,
              callback=click_range("min_route"),
              help="Traffic routes shorter than this [m] are flagged.")
@click.option("--no-deposition", is_flag=True, help="Skip the deposition calculation.")
@user_errors
def check_imaer(files, output, tolerance, period, min_route_m, no_deposition):
    """Re-check AERIUS files (IMAER GML, or AERIUS PDF reports with their GML).

    Per situation: stated vs recomputed emissions, our deposition (compared with the
    file's results in a result file) and plausibility flags. Unreadable files are
    reported and the others still checked; the exit code is 2 if any file failed.
    """
    from .imaer.check import check_files

    report = check_files(files, tolerance=tolerance, with_deposition=not no_deposition,
                         construction_period=_period(period), min_route_m=min_route_m)
    for _, s in report.situations.iterrows():
        line = (f"{s['file']}: {s['situation_type'] or '?'} {s['year']}, {s['sources']} sources, "
                f"NOx {s['nox_stated']:.4g} kg/yr, NH3 {s['nh3_stated']:.4g} kg/yr, "
                f"{s['emission_differences']} emission differences, {s['flags']} flags")
        if "max_ours" in s and s.get("max_ours") == s.get("max_ours"):
            line += f", max deposition {s['max_ours']:.3g} mol/ha/yr"
            if s.get("max_file") == s.get("max_file") and s.get("max_file") is not None:
                line += f" (file: {s['max_file']:.3g})"
        click.echo(line)
    for _, f in report.flags.iterrows():
        where = f["source"] if isinstance(f["source"], str) else "situation"
        click.echo(f"  {f['flag']}: {f['file']} {where}: {f['message']}")
    for _, e in report.errors.iterrows():
        click.echo(f"error: {e['message']}", err=True)
    if output:
        report.write_excel(output)
        click.echo(f"report -> {output}")
    click.echo(f"{len(report.situations)} situation(s) checked, {len(report.errors)} file(s) failed")
    if report.failed:
        sys.exit(2)
