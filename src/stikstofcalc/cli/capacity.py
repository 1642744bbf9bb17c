"""``stikstofcalc capacity`` and ``stikstofcalc woondeal``: thin click layers over
:mod:`stikstofcalc.capacity` (``docs/capacity.md``).

Exit codes: 0 everything computed; 3 some input rows invalid (listed in ``fouten`` and on
stderr), the rest computed; 2 nothing written (bad options, no valid site or project, an
output that exists without ``--overwrite`` or would replace an input).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from stikstofcalc.cli.options import user_errors
from stikstofcalc.cli.options import guard, overwrite_option
from stikstofcalc.rules import DEFAULT_REGIME, REGIMES

EXIT_SOME_INVALID = 3


def _metres(ctx, param, value):
    from stikstofcalc.errors import StikstofError
    from stikstofcalc.units import to_magnitude

    try:
        return None if value is None else to_magnitude(value, "m", field=f"--{param.name}")
    except StikstofError as exc:
        raise click.BadParameter(str(exc)) from exc


def _bbox(ctx, param, value):
    if value is None:
        return None
    parts = [p for p in value.replace(";", ",").split(",") if p.strip()]
    try:
        v = [float(p) for p in parts]
    except ValueError:
        v = []
    if len(v) != 4:
        raise click.BadParameter(f"{value!r}: verwacht xmin,ymin,xmax,ymax in RD (m), bv. 160000,435000,200000,465000")
    return tuple(v)


def _outputs(paths, inputs, overwrite):
    """Fail before computing: an existing output without --overwrite, or an output that is an input."""
    from stikstofcalc.errors import InputError

    for p in paths:
        if p is None:
            continue
        out = Path(p)
        for i in inputs:
            if i is not None and Path(i).resolve() == out.resolve():
                raise InputError("de uitvoer zou een invoerbestand vervangen", file=str(out),
                                 expected="een andere uitvoernaam; invoer wordt nooit veranderd")
        if out.exists() and not overwrite:
            raise InputError("bestaat al", file=str(out), expected="een andere naam, of --overwrite")


def _command() -> str:
    return " ".join(shlex.quote(a) for a in ["stikstofcalc"] + sys.argv[1:])


def _report_errors(errors):
    for e in errors[:50]:
        click.echo(f"fout: {e}", err=True)
    if len(errors) > 50:
        click.echo(f"... en nog {len(errors) - 50} fouten (zie het blad fouten)", err=True)


@click.command(name="capacity")
@click.argument("sites", required=False, type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Werkmap met resultaten OUT.xlsx (capaciteit, fouten, toelichting, herkomst).")
@click.option("--plan-type", "plan_type", default="grondgebonden", show_default=True,
              help="grondgebonden | gestapeld | utiliteit, of een planbestand (.toml met [capacity]); "
                   "voor locaties zonder kolom plantype.")
@click.option("--bbox", callback=_bbox, default=None,
              help="In plaats van SITES: een raster over dit gebied, xmin,ymin,xmax,ymax in RD (m).")
@click.option("--region", type=click.Path(dir_okay=False), default=None,
              help="In plaats van SITES: een raster over de vlakken van deze GeoJSON (gemeente, provincie).")
@click.option("--step", default="250 m", show_default=True, callback=_metres,
              help='Rasterstap voor --bbox/--region (bv. "250 m", "1 km").')
@click.option("--overrides", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Eigen kengetallen (CSV/Excel) voor elk plantype.")
@click.option("--regime", type=click.Choice(list(REGIMES)), default=DEFAULT_REGIME, show_default=True,
              help="Regels voor het oordeel (drempel).")
@click.option("--gpkg", type=click.Path(dir_okay=False), default=None,
              help="Schrijf ook een GeoPackage (laag locaties: punten met de capaciteit, EPSG:28992).")
@click.option("--geotiff", type=click.Path(dir_okay=False), default=None,
              help="Schrijf de capaciteit ook als GeoTIFF (alleen bij rasterinvoer).")
@click.option("--map", "map_path", type=click.Path(dir_okay=False), default=None,
              help="Teken ook een kaart (PNG: capaciteitsklassen, grenzen van Natura 2000). Nodig: stikstofcalc[maps].")
@click.option("--dask", "use_dask", is_flag=True, help="Reken de blokken op een lokaal Dask-cluster.")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Werkers van het lokale Dask-cluster [standaard: 2].")
@click.option("--scheduler", default=None, help="Adres van een Dask-scheduler, bv. tcp://10.0.0.5:8786.")
@click.option("--chunk-size", type=click.IntRange(1, 100_000), default=256, show_default=True,
              help="Locaties per rekenblok.")
@click.option("--quiet", is_flag=True, help="Geen voortgang op stderr.")
@overwrite_option
@user_errors
@guard(inputs=("sites", "region", "overrides", "plan_type"),
       outputs={"output": (".xlsx",), "gpkg": (".gpkg",), "geotiff": (".tif", ".tiff"), "map_path": (".png",)},
       computes=True)
def capacity(sites, output, plan_type, bbox, region, step, overrides, regime, gpkg, geotiff, map_path,
             use_dask, workers, scheduler, chunk_size, quiet, overwrite):
    """Per kandidaatlocatie: hoeveel woningen (of m²) passen terwijl elke fase 0,00 blijft."""
    from stikstofcalc import capacity as cap
    from stikstofcalc.capacity import output as out
    from stikstofcalc.errors import InputError

    if (sites is None) == (bbox is None and region is None) or (bbox is not None and region is not None):
        raise InputError(field="SITES, --bbox, --region", expected="precies een van: een locatiebestand, --bbox of --region")
    out.check_output(output, (".xlsx",))
    if gpkg:
        out.check_output(gpkg, (".gpkg",))
    if geotiff:
        out.check_output(geotiff, (".tif", ".tiff"))
        if sites is not None:
            raise InputError(field="--geotiff", expected="rasterinvoer (--bbox of --region); bij een lijst: --gpkg")
    if map_path:
        out.check_output(map_path, (".png",))
        from stikstofcalc.maps.draw import require_matplotlib

        require_matplotlib()
    if use_dask or scheduler:
        from stikstofcalc.capacity.distributed import require_dask

        require_dask()
    _outputs([output, gpkg, geotiff, map_path], [sites, region, overrides, plan_type], overwrite)
    plans = {}
    shipped = set(cap.PLAN_TYPES)
    default = cap.load_plan_type(plan_type, overrides=overrides)
    plans[default.name] = default
    if sites is not None:
        s = cap.read_sites(sites, plan_type=default.name, known_plans=shipped | {default.name})
        for note in s.notes:  # columns not read, polygons as their centroid (also in toelichting)
            click.echo(f"let op: {note}", err=True)
        for n in set(s.plan.tolist()) - set(plans):
            plans[n] = cap.load_plan_type(n, overrides=overrides)
    else:
        rings = None
        if region is not None:
            bbox, rings = cap.read_region(region)
        s = cap.grid_sites(bbox, step, plan_type=default.name, region=rings)
    if s.errors:
        _report_errors(s.errors)
    if not len(s):
        raise InputError("geen geldige locatie", file=sites, expected="ten minste een locatie op Nederlands land")
    progress = cap.Progress(len(s), enabled=not quiet)
    res = cap.compute_capacity(s, plans=plans, regime=regime, chunk_size=chunk_size, progress=progress,
                               scheduler=scheduler, workers=workers, dask=use_dask)
    from stikstofcalc.io.atomic import AtomicGroup

    with AtomicGroup() as group:  # every output of the run, or none (a write error: exit 2)
        written = [out.capacity_workbook(res, output, command=_command(), group=group)]
        if gpkg:
            written.append(out.capacity_geopackage(res, gpkg, group=group))
        if geotiff:
            written.append(out.capacity_geotiff(res, geotiff, group=group))
        if map_path:
            written.append(out.capacity_png(res, map_path, group=group))
    f = res.to_frame()
    c = f["capaciteit"]
    t = out.thousands
    click.echo(f"{t(len(f))} locaties in {res.seconds:.1f} s ({t(len(f) / max(res.seconds, 1e-9))} per s); ".replace(
        ".", ",", 1) + f"capaciteit 0: {t((c == 0).sum())}, mediaan {t(c.median()) if c.notna().any() else '-'}, "
               f"tot het maximum: {t(f['tot_maximum'].sum())}")
    click.echo("-> " + ", ".join(str(p) for p in written))
    if s.errors:
        sys.exit(EXIT_SOME_INVALID)


@click.command(name="woondeal")
@click.argument("projects", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Werkmap OUT.xlsx (projecten, cumulatief, aandelen, som_per_hexagon, toelichting, herkomst).")
@click.option("--regime", type=click.Choice(list(REGIMES)), default=DEFAULT_REGIME, show_default=True,
              help="Regels voor het oordeel (drempel).")
@click.option("--gpkg", type=click.Path(dir_okay=False), default=None,
              help="Schrijf ook een GeoPackage: hexagons met de opgetelde depositie per jaar (vlakken, "
                   "EPSG:28992) en de projecten (punten).")
@click.option("--quiet", is_flag=True, help="Geen voortgang op stderr.")
@overwrite_option
@user_errors
@guard(inputs=("projects",), outputs={"output": (".xlsx",), "gpkg": (".gpkg",)}, computes=True)
def woondeal(projects, output, regime, gpkg, quiet, overwrite):
    """Tel de depositie van de geplande PROJECTS (TOML-bestanden of een batchwerkmap) op per hexagon en jaar.

    Planningsinformatie: de wettelijke toets blijft per project.
    """
    from stikstofcalc.capacity import output as out
    from stikstofcalc.capacity.run import Progress
    from stikstofcalc.capacity.woondeal import read_projects, woondeal_sum
    from stikstofcalc.errors import InputError

    out.check_output(output, (".xlsx",))
    if gpkg:
        out.check_output(gpkg, (".gpkg",))
    _outputs([output, gpkg], list(projects), overwrite)
    ps, problems = read_projects(projects, regime=regime)
    if problems:
        _report_errors(problems)
    if not ps:
        raise InputError("geen geldig project", expected="ten minste een geldig project")
    res = woondeal_sum(ps, regime=regime, progress=Progress(len(ps), label="woondeal", enabled=not quiet,
                                                                unit="projecten"))
    res.errors = problems
    from stikstofcalc.io.atomic import AtomicGroup

    with AtomicGroup() as group:  # the workbook and the GeoPackage together, or neither
        written = [write_woondeal_workbook(res, output, group=group)]
        if gpkg:
            written.append(write_woondeal_geopackage(res, gpkg, group=group))
    n = int(res.cumulative.sum())
    t = out.thousands
    click.echo(f"{len(ps)} projecten, {t(res.total.shape[1])} hexagons, jaren {', '.join(map(str, res.years))}; "
               f"hexagonjaren waar alleen de optelling de drempel haalt: {t(n)}")
    click.echo(out.PLANNING_NOTE)
    click.echo("-> " + ", ".join(str(p) for p in written))
    if problems:
        sys.exit(EXIT_SOME_INVALID)


def write_woondeal_workbook(res, path, *, group=None):
    import pandas as pd

    from stikstofcalc.capacity import output as out
    from stikstofcalc.capacity.woondeal import SHARE_FLOOR, SUM_SHEET_FRACTION

    thr = str(res.threshold).replace(".", ",")
    expl = pd.DataFrame({"toelichting": [
        out.PLANNING_NOTE, out.SCREENING_NOTE,
        f"Drempel {thr} mol N/ha/jr (regime {res.regime}).",
        "projecten: per project de hoogste depositie per fase (alle hexagons berekend), het eigen oordeel en zijn "
        "aandeel in de som op de cumulatieve hexagonjaren.",
        "cumulatief: hexagon en jaar waar de som van de projecten de drempel haalt terwijl elk project daar "
        "afzonderlijk onder de drempel blijft.",
        f"aandelen: per cumulatief hexagonjaar elk project met ten minste {SHARE_FLOOR:.0%} van de som.",
        f"som_per_hexagon: elk hexagonjaar met een som van ten minste {SUM_SHEET_FRACTION:g} x de drempel; "
        "de GeoPackage (--gpkg) heeft de som per jaar op elke hexagon.",
        "De som telt per kalenderjaar de realisatie- en gebruiksfase van alle projecten in dat jaar op."]})
    summ = res.sum_frame()
    cum = summ[summ["alleen_door_optelling"]].drop(columns=["alleen_door_optelling"])
    prov = pd.DataFrame(out.provenance_rows({**res.provenance, "command": _command()}))
    sheets = [("projecten", res.summary), ("cumulatief", cum), ("aandelen", res.shares_frame()),
              ("som_per_hexagon", summ.head(1_000_000)), ("fouten", out.errors_frame(res.errors)),
              ("toelichting", expl), ("herkomst", prov)]
    return out.write_workbook(path, sheets, group=group)


def write_woondeal_geopackage(res, path, *, group=None):
    import pandas as pd

    from stikstofcalc.capacity import output as out
    from stikstofcalc.capacity.geofiles import write_geopackage

    keep = res.total.max(axis=0) >= 0.01 * res.threshold
    cols = {"receptor_id": res.receptor_id[keep],
            "gebied": [res.area_names.get(int(n), "") for n in res.n2k_number[keep]]}
    for i, y in enumerate(res.years):
        cols[f"som_{y}"] = res.total[i, keep]
        cols[f"hoogste_enkel_{y}"] = res.single_max[i, keep]
        cols[f"cumulatief_{y}"] = res.cumulative[i, keep]
    cols["som_hoogste_jaar"] = res.total[:, keep].max(axis=0)
    hexes = out.hexagon_layer(res.receptor_id[keep], pd.DataFrame(cols), name="hexagons",
                              description="som van de depositie van de projecten per jaar [mol N/ha/jr]; "
                                          + out.PLANNING_NOTE)
    pts = res.summary[["x", "y"]].to_numpy(float)
    proj = ("projecten", "POINT", pts, res.summary.drop(columns=["x", "y"]).assign(
        x=pts[:, 0], y=pts[:, 1]), "projecten van de woondeal")
    return write_geopackage(path, [hexes, proj], group=group)
