"""``stikstofcalc export-imaer`` and ``stikstofcalc check-imaer``: AERIUS interchange.

Thin commands over :mod:`stikstofcalc.io.imaer`; library errors become a message and
exit code 2 (see :func:`stikstofcalc.cli.options.user_errors`).
"""

from __future__ import annotations

import sys

import click

from stikstofcalc.errors import count_nl
from stikstofcalc.cli.options import user_errors
from stikstofcalc.cli.options import guard, overwrite_option
from stikstofcalc.ranges import click_range


@click.command(name="export-imaer")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Map voor de GML-bestanden (wordt zo nodig gemaakt).")
@click.option("--year", type=int, callback=click_range("year"), help="Rekenjaar: alleen dat jaar van de realisatie, en gebruiksfase "
                                       "en referentie voor dat jaar berekend.")
@overwrite_option
@user_errors
@guard(inputs=("project",), folders=("outdir",))
def export_imaer(project, outdir, year, overwrite=False):
    """Schrijf PROJECT (.toml) als IMAER 6.0-GML voor AERIUS Calculator, een bestand per fase en jaar.

    Realisatiefase -> TEMPORARY, gebruiksfase -> PROPOSED, referentie -> REFERENCE.
    PROJECT mag ook een batchwerkmap zijn (.xlsx of .csv, zie ``stikstofcalc template``):
    elke geldige zaak krijgt dan een eigen map in OUTPUT; ongeldige zaken worden genoemd en
    de afsluitcode is 3.
    """
    from stikstofcalc.batch.imaer import write_workbook
    from stikstofcalc.io.imaer.writer import write_project

    if str(project).lower().endswith((".xlsx", ".csv")):
        per_case, problems = write_workbook(project, outdir, year=year)
        n = sum(len(v) for v in per_case.values())
        click.echo(f"{len(per_case)} zaken, {n} GML-bestanden -> {outdir}")
        for p in problems:
            where = ", ".join(f"{k} {p[v]}" for k, v in (("blad", "blad"), ("rij", "rij"), ("kolom", "kolom"))
                              if p[v] is not None)
            click.echo(f"{p['niveau']}: zaak {p['zaak']!r}" + (f" ({where})" if where else "")
                       + f": {p['melding']}", err=True)
        if any(p["niveau"] == "fout" for p in problems):
            sys.exit(3)
        return
    for f in write_project(project, outdir, year=year):
        click.echo(f"{f.situation_type:<9} {f.year}  {count_nl(f.sources, 'bron', 'bronnen')}"
                   + (f", {count_nl(f.skipped, 'rij', 'rijen')} zonder emissie weggelaten" if f.skipped else "")
                   + f"  -> {f.path}")
        for note in f.notes:
            click.echo(f"  let op: {note}", err=True)


def _period(text):
    if text is None:
        return None
    from stikstofcalc.errors import InputError

    from stikstofcalc.ranges import YEAR_RANGE

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


#: AERIUS situation types as the user reads them.
_SITUATION_NL = {"TEMPORARY": "realisatiefase (TEMPORARY)", "PROPOSED": "gebruiksfase (PROPOSED)",
                 "REFERENCE": "referentie (REFERENCE)"}


@click.command(name="check-imaer")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Schrijf de werkmap met het verslag (situaties, bronnen, signalen, fouten) naar deze .xlsx.")
@click.option("--tolerance", type=float, default=0.01, show_default=True, callback=click_range("tolerance"),
              help="Relatief emissieverschil dat wordt gesignaleerd.")
@click.option("--period", help='Bouwperiode in jaren, bv. "2027-2028", om het rekenjaar '
                               "tegen te toetsen.")
@click.option("--min-route", "min_route_m", type=float, default=500.0, show_default=True,
              callback=click_range("min_route"),
              help="Verkeersroutes korter dan dit [m] worden gesignaleerd.")
@click.option("--no-deposition", is_flag=True, help="Zonder depositieberekening.")
@overwrite_option
@user_errors
@guard(inputs=("files",), outputs={"output": (".xlsx",)})
def check_imaer(files, output, tolerance, period, min_route_m, no_deposition, overwrite=False):
    """Controleer AERIUS-bestanden (IMAER-GML, of AERIUS-pdf-rapporten met hun GML).

    Per situatie: opgegeven tegenover herberekende emissies, onze depositie (vergeleken met
    de resultaten in een resultaatbestand) en signalen over aannemelijkheid. Onleesbare
    bestanden worden gemeld en de andere toch gecontroleerd; de afsluitcode is 2 als een
    bestand niet gelukt is.
    """
    from stikstofcalc.io.imaer.check import check_files

    report = check_files(files, tolerance=tolerance, with_deposition=not no_deposition,
                         construction_period=_period(period), min_route_m=min_route_m)

    def num(v, digits=4):
        return f"{v:.{digits}g}".replace(".", ",")

    for _, s in report.situations.iterrows():
        line = (f"{s['file']}: {_SITUATION_NL.get(s['situation_type'], s['situation_type'] or '?')} "
                f"{s['year']}, {count_nl(s['sources'], 'bron', 'bronnen')}, NOx {num(s['nox_stated'])} kg/jr, "
                f"NH3 {num(s['nh3_stated'])} kg/jr, "
                f"{count_nl(s['emission_differences'], 'emissieverschil', 'emissieverschillen')}, "
                f"{count_nl(s['flags'], 'signaal', 'signalen')}")
        if "max_ours" in s and s.get("max_ours") == s.get("max_ours"):
            line += f", hoogste depositie {num(s['max_ours'], 3)} mol N/ha/jr"
            if s.get("max_file") == s.get("max_file") and s.get("max_file") is not None:
                line += f" (bestand: {num(s['max_file'], 3)})"
        click.echo(line)
    for _, f in report.flags.iterrows():
        where = f"bron {f['source']}" if isinstance(f["source"], str) else "situatie"
        click.echo(f"  {f['flag']}: {f['file']} {where}: {f['message']}")
    for _, e in report.errors.iterrows():
        click.echo(f"fout: {e['message']}", err=True)
    if output:
        report.write_excel(output)
        click.echo(f"rapport -> {output}")
    click.echo(f"{count_nl(len(report.situations), 'situatie', 'situaties')} gecontroleerd, "
               f"{count_nl(len(report.errors), 'bestand', 'bestanden')} niet te lezen")
    if report.failed:
        sys.exit(2)
