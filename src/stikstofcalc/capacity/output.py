"""Outputs of the capacity search and the woondeal sum: workbook, GeoPackage, GeoTIFF, PNG.

All files are written atomically; every output names the method, the plan types'
assumptions, the key-figure edition, the model and the Natura 2000 attribution.
"""

from __future__ import annotations

import json
import math
import os
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc.errors import InputError, nl_int
from stikstofcalc.capacity.geofiles import write_geopackage, write_geotiff
from stikstofcalc.io.atomic import AtomicGroup, save_to, temp_file
from stikstofcalc.io.excel.stream import SheetSpool, sheet_paths, splice_spools, template_row, template_styles
from stikstofcalc.capacity.run import COLUMN_UNITS
from stikstofcalc.geo.receptors import hexagon_vertices
from stikstofcalc.assessment.mapdata import map_extent, nl_num
from stikstofcalc.assessment.core import terrain_phrase
from stikstofcalc.io.excel import cells
from stikstofcalc.io.herkomst import HERKOMST_COLUMNS, herkomst_rows

PLANNING_NOTE = ("Planningsinformatie, geen toestemming: de wettelijke toets (vergunningplicht "
                 "stikstof) blijft per project, met AERIUS Calculator.")
SCREENING_NOTE = ("Voortoets met stikstofcalc (OPS-LT-emulator), geen AERIUS-berekening; standaard receptoren: "
                  "alle hexagons in stikstofgevoelige Natura 2000-gebieden binnen 25 km (kan alleen overschatten).")

#: Capacity classes of the map and their colours (0 red ... large green) [plan units].
CLASSES = (0, 1, 10, 25, 50, 100, 250, 500, 1000)
CLASS_COLOURS = ("#b2182b", "#ef8a62", "#fddbc7", "#fee090", "#d1e5f0", "#92c5de", "#4393c3",
                 "#2166ac", "#053061")


def check_output(path, suffixes, *, inputs=()) -> Path:
    """An output name with one of ``suffixes`` that is not one of the ``inputs``."""
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise InputError(file=str(p), value=p.suffix or "(geen extensie)",
                         expected=f"een bestandsnaam op {' of '.join(suffixes)}")
    for i in inputs:
        if i is not None and Path(i).exists() and p.exists() and os.path.samefile(p, i):
            raise InputError("uitvoer zou een invoerbestand overschrijven", file=str(p),
                             expected="een andere uitvoernaam")
    return p


# --------------------------------------------------------------------------- workbook


#: Sheets with more rows than this are streamed (``excel.stream``: the sheet XML rendered
#: column by column; openpyxl's write-only cells cost ~10 us each) [-].
STREAM_MIN_ROWS = 500


def write_workbook(path, sheets, *, group=None) -> Path:
    """Write DataFrames as sheets with a frozen, bold header row and column widths from the
    content, atomically. Large sheets are streamed (:data:`STREAM_MIN_ROWS`).

    ``sheets``: list of (name, DataFrame). Numbers stay numbers; NaN becomes an empty cell.
    ``group``: an :class:`~stikstofcalc.io.atomic.AtomicGroup` the file joins (renamed into
    place with the other outputs of the run); default: its own.
    """
    if group is None:
        with AtomicGroup() as own:
            write_workbook(path, sheets, group=own)
        return Path(path)
    import zipfile

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    path = Path(path)
    wb = Workbook(write_only=True)
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    streamed = {}
    for name, frame in sheets_within_excel(sheets):
        name = name[:31]
        ws = wb.create_sheet(name)
        ws.freeze_panes = "A2"
        cols = list(frame.columns)
        for j, c in enumerate(cols):
            sample = frame[c].head(200).astype(str).str.len().max() if len(frame) else 0
            w = min(max(len(str(c)) + 2, int(sample if sample == sample else 0) + 2, 8), 60)
            ws.column_dimensions[_letter(j)].width = w
        hdr = []
        for c in cols:
            cell = WriteOnlyCell(ws, value=str(c))
            cell.font, cell.fill = head_font, head_fill
            hdr.append(cell)
        ws.append(hdr)
        if len(frame) > STREAM_MIN_ROWS:
            frame = _plain(frame)
            template_row(ws, [(c, None, "General" if frame[c].dtype.kind in "iuf" else None) for c in cols])
            streamed[name] = frame
            continue
        arrays = [frame[c].to_numpy(object) for c in cols]
        for i in range(len(frame)):  # text that looks like a formula stays text (a site named "=...")
            ws.append([cells.plain_cell(ws, _cell(a[i])) for a in arrays])
    spools = {}
    try:
        tmp = group.path(path)
        if streamed:
            saved = temp_file(path.parent, path.name)
            try:
                save_to(saved, wb.save)
                with zipfile.ZipFile(saved) as z:
                    parts = sheet_paths(z)
                    for name, frame in streamed.items():
                        row, styles, _, _ = template_styles(z.read(parts[name]))
                        spools[name] = SheetSpool(styles, first_row=row, mode="concat", directory=path.parent)
                        spools[name].add(frame)
                splice_spools(saved, spools, tmp)
            finally:
                Path(saved).unlink(missing_ok=True)
        else:
            save_to(tmp, wb.save)
    finally:
        for sp in spools.values():
            sp.close()
    return path


def _plain(frame) -> pd.DataFrame:
    """Columns as float / int / text (booleans as "waar"/"onwaar" text would change meaning:
    kept as numbers 1/0 in streamed sheets)."""
    out = {}
    for c in frame.columns:
        s = frame[c]
        if s.dtype.kind == "b":
            s = s.astype(np.int64)
        elif s.dtype.kind not in "iuf":
            s = s.astype(object).where(s.notna(), None)
        out[c] = s.reset_index(drop=True)
    return pd.DataFrame(out)


def _letter(j: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(j + 1)


def _cell(v):
    if v is None:
        return None
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return v


def provenance_rows(prov) -> list:
    """The ``herkomst`` rows (Dutch label, value, key) of a provenance dict
    (:func:`stikstofcalc.io.herkomst.herkomst_rows`), as records for a frame."""
    return [dict(zip(HERKOMST_COLUMNS, r)) for r in herkomst_rows(prov)]


def errors_frame(errors) -> pd.DataFrame:
    return pd.DataFrame([{"bestand": e.file, "blad": e.sheet, "rij": e.row, "kolom": e.field,
                          "waarde": None if e.value is None else str(e.value), "melding": str(e)}
                         for e in errors], columns=["bestand", "blad", "rij", "kolom", "waarde", "melding"])


def capacity_workbook(res, path, *, command: str = "", group=None) -> Path:
    """The capacity results workbook: ``capaciteit``, ``fouten``, ``toelichting``, ``herkomst``."""
    frame = res.to_frame()
    expl = [{"kolom": k, "eenheid": u, "betekenis": m} for k, (u, m) in COLUMN_UNITS.items()]
    expl += [{"kolom": "", "eenheid": "", "betekenis": t} for t in _method_lines(res)]
    prov = provenance_rows({**res.provenance, "command": command, "rekentijd_s": round(res.seconds, 2)})
    return write_workbook(path, [("capaciteit", frame), ("fouten", errors_frame(res.sites.errors)),
                                 ("toelichting", pd.DataFrame(expl)), ("herkomst", pd.DataFrame(prov))],
                          group=group)


def _method_lines(res) -> list:
    lines = [PLANNING_NOTE, SCREENING_NOTE,
             f"Drempel: {str(res.threshold).replace('.', ',')} mol N/ha/jr (regime {res.regime}): "
             "onder de drempel toont AERIUS 0,00.",
             "Capaciteit n: het plan van n eenheden op de locatie geeft in elke fase en elk kalenderjaar "
             "< drempel; het plan van n + 1 (stap) geeft in een fase en jaar >= drempel (beide exact "
             "doorgerekend; gelijk aan stikstofcalc calc op dat plan).",
             "De kengetallen zijn niet lineair in de omvang (de standaard bouwduur groeit mee en spreidt de "
             "emissie over meer kalenderjaren; het gebruiksjaar schuift op): elke omvang is exact doorgerekend. "
             "Omdat het gebruiksjaar later wordt bij een grotere omvang kan een nog groter plan soms weer 0,00 "
             "geven; de capaciteit is de eerste grens vanaf 0."]
    for name, p in res.plans.items():
        lines.append(f"Plantype {name}: {p.label}; bestand {p.file}; omvang in {p.unit} (stap {p.step}, "
                     f"maximum {p.maximum}); verkeer als punt op de locatie (richting van de ontsluiting onbekend).")
    lines += list(res.notes)
    return lines


# --------------------------------------------------------------------------- GeoPackage / GeoTIFF


def capacity_geopackage(res, path, *, hexagons=None, group=None) -> Path:
    """Sites as points with their capacity (layer ``locaties``); optional hexagon polygons."""
    f = res.to_frame()
    layers = [("locaties", "POINT", f[["x", "y"]].to_numpy(float), f,
               "capaciteit per locatie (stikstofcalc capacity); " + PLANNING_NOTE)]
    if hexagons is not None:
        layers.append(hexagons)
    return write_geopackage(path, layers, group=group)


def capacity_raster(res) -> tuple:
    """Capacity on the grid (rows north to south) and the grid's corner and step.

    Cells without a site are NaN; "unlimited" (no hexagon within 25 km) and ">= maximum"
    hold the plan type's maximum.
    """
    g = res.sites.grid
    if g is None:
        raise InputError("een GeoTIFF kan alleen bij een raster (--bbox/--region met --step)",
                         field="--geotiff", expected="rasterinvoer, of laat --geotiff weg")
    x0, y0, step, nx, ny, col, row = g
    f = res.to_frame()
    mx = np.array([res.plans[p].maximum for p in f["plantype"]], float)
    v = np.where(f["capaciteit"].isna() | f["tot_maximum"], mx, f["capaciteit"].to_numpy(float))
    a = np.full((ny, nx), np.nan, np.float32)
    a[row, col] = v
    return a, x0, y0, step


def capacity_geotiff(res, path, *, group=None) -> Path:
    a, x0, y0, step = capacity_raster(res)
    return write_geotiff(path, a, x0=x0, y0=y0, step=step, nodata=-9999.0,
                         description="capaciteit (woningen of m2) tot 0,00 - stikstofcalc", group=group)


def hexagon_layer(receptor_id, frame, name="hexagons", description="") -> tuple:
    """A POLYGON layer of AERIUS hexagons (the real hexagon shapes)."""
    v = hexagon_vertices(np.asarray(receptor_id, np.int64))
    return (name, "POLYGON", list(v), frame, description)


# --------------------------------------------------------------------------- PNG map


def _class_of(v, mx):
    """Class index of capacities ``v`` (NaN/unlimited -> the top class)."""
    v = np.asarray(v, float)
    k = np.searchsorted(np.asarray(CLASSES, float), np.where(np.isnan(v), np.inf, v), side="right") - 1
    return np.clip(k, 0, len(CLASSES) - 1)


def plot_capacity_map(res, *, title=None, dpi: int = 150, figsize=None):
    """Capacity classes on the grid (squares) or at the sites (dots), Natura 2000 outlines above."""
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    from stikstofcalc.maps import draw as maps

    figsize = figsize or maps.A4_LANDSCAPE_IN
    fig = maps.new_figure(figsize, dpi)
    ax = fig.add_axes(maps.MAP_AXES)
    f = res.to_frame()
    x, y = f["x"].to_numpy(float), f["y"].to_numpy(float)
    g = res.sites.grid
    half = (g[2] / 2) if g is not None else 0.0
    aspect = (maps.MAP_AXES[2] * figsize[0]) / (maps.MAP_AXES[3] * figsize[1])
    pts = np.column_stack([np.r_[x - half, x + half], np.r_[y - half, y + half]])
    extent = map_extent(pts, aspect=aspect)
    maps.km_axes(ax, extent)
    cap = np.where(f["tot_maximum"] | f["capaciteit"].isna(), np.inf, f["capaciteit"].to_numpy(float))
    k = _class_of(cap, None)
    cmap = ListedColormap(CLASS_COLOURS)
    norm = BoundaryNorm(np.arange(len(CLASSES) + 1) - 0.5, cmap.N)
    if g is not None:
        s = g[2] / 2
        cells = np.stack([np.column_stack([x - s, y - s]), np.column_stack([x + s, y - s]),
                          np.column_stack([x + s, y + s]), np.column_stack([x - s, y + s])], axis=1)
        coll = PolyCollection(cells, array=k, cmap=cmap, norm=norm, edgecolors="face", linewidths=0.2,
                              zorder=0.5, gid="capacity")
        ax.add_collection(coll)
    else:
        coll = ax.scatter(x, y, c=k, cmap=cmap, norm=norm, s=36, edgecolors="black", linewidths=0.4,
                          zorder=3, gid="capacity")
    maps.draw_natura2000(ax, extent, fill=False)
    for c in ax.collections:  # the outlines above the grid, thicker
        if c.get_gid() == "natura2000":
            c.set_zorder(2.5)
            c.set_linewidth(1.3)
            c.set_edgecolor("#00441b")
    maps.scale_bar_and_north(ax, extent)
    units = sorted({res.plans[p].unit for p in f["plantype"]})
    unit = units[0] if len(units) == 1 else "eenheden"
    labels = [f"0 {unit}: ook 1 geeft geen 0,00"] + [
        f"{nl_num(CLASSES[i], 6)}-{nl_num(CLASSES[i + 1] - 1, 6)}" for i in range(1, len(CLASSES) - 1)] + [
        f">= {nl_num(CLASSES[-1], 6)} (of tot het maximum / onbeperkt)"]
    handles = [Patch(fc=c, ec="#888888", label=lab) for c, lab in zip(CLASS_COLOURS, labels)]
    handles.append(Patch(fc="none", ec="#00441b", lw=1.3, label="Natura 2000-gebied (grens)"))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.70, 0.88), fontsize=8.5, frameon=False,
               title=f"Capaciteit tot 0,00 ({unit})", title_fontsize=9.5, alignment="left")
    plans = ", ".join(res.plans[p].label for p in sorted(set(f["plantype"])))
    fig.text(0.06, 0.955, title or "Ruimte voor bouwen tot 0,00 mol N/ha/jr", fontsize=15, fontweight="bold",
             va="bottom")
    fig.text(0.06, 0.915, f"{plans}; {thousands(len(f))} locaties", fontsize=11, va="bottom")
    n0 = int((cap == 0).sum())
    med = np.nanmedian(np.where(np.isfinite(cap), cap, np.nan)) if np.isfinite(cap).any() else float("nan")
    txt = (f"Per locatie de grootste omvang waarbij realisatie- en gebruiksfase in elk jaar 0,00 geven "
           f"(het plantype verschoven naar de locatie). Locaties met 0: {thousands(n0)}; mediaan: "
           f"{nl_num(med, 4)} {unit}. {PLANNING_NOTE} Geen achtergrondkaart: alleen de meegeleverde "
           f"Natura 2000-grenzen.")
    fig.text(0.70, 0.40, "\n".join(textwrap.wrap(txt, 46)), fontsize=8.5, va="top", linespacing=1.4)

    foot = (f"stikstofcalc {res.provenance.get('version', '')} - {SCREENING_NOTE} Drempel "
            f"{nl_num(res.threshold)} mol N/ha/jr (regime {res.regime}). Kengetallen: "
            + "; ".join(f"{n} editie {v['kengetallen'].get('edition', '')}" for n, v in res.provenance.get(
                "plans", {}).items()) + f". {terrain_phrase()} {res.provenance.get('natura2000', '')}")
    fig.text(0.06, 0.012, "\n".join(textwrap.wrap(foot, 200)), fontsize=5.8, color="#444444", va="bottom",
             linespacing=1.3)
    return fig


def sheets_within_excel(sheets, *, header_rows: int = 1):
    """``(name, frame)`` pairs with every frame longer than an Excel sheet cut into
    ``name``, ``name_2``, ... (a country at 100 m has millions of sites)."""
    room = cells.EXCEL_ROWS - header_rows
    for name, frame in sheets:
        if len(frame) <= room:
            yield name, frame
            continue
        for k, start in enumerate(range(0, len(frame), room), start=1):
            yield cells.continued_sheet_name(name, k), frame.iloc[start:start + room].reset_index(drop=True)


thousands = nl_int  # the name used in this package


def capacity_png(res, path, *, dpi: int = 150, title=None, group=None) -> Path:
    from stikstofcalc.maps import draw as maps

    maps.require_matplotlib()
    return maps.save_figure(plot_capacity_map(res, dpi=dpi, title=title), path, dpi, group=group)
