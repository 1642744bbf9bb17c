"""Candidate sites: a CSV/Excel list, a GeoJSON of points or polygons, or a grid over a region.

Every site gets an id, RD New coordinates (EPSG:28992, m) and a plan type. Bad rows are
reported all at once, in Dutch, with file, sheet, row, column, value and what was
expected; the valid rows are still computed (the caller decides on the exit code).
"""

from __future__ import annotations

import difflib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc.errors import InputError, MultipleInputErrors, dutch_notation, nl_int, read_reason
from stikstofcalc.emissions.sources import in_netherlands
from stikstofcalc.emissions.project import (LOCATION_AGREEMENT_M, latlon_outside_rd_error, location_apart_error,
                                            location_apart_m)
from stikstofcalc.geo.receptors import wgs84_to_rd
from stikstofcalc.geo.geometry import points_in_polygon
from stikstofcalc.io.text import decode_csv, separator
from stikstofcalc.ranges import RANGES

#: RD New domain and the latitude/longitude box of the project format (``calc``): the one
#: definition in :data:`stikstofcalc.ranges.RANGES` [m, degrees].
RD_X = (RANGES["x"].lo, RANGES["x"].hi)
RD_Y = (RANGES["y"].lo, RANGES["y"].hi)
LAT = (RANGES["lat"].lo, RANGES["lat"].hi)
LON = (RANGES["lon"].lo, RANGES["lon"].hi)
#: Similarity (difflib ratio) from which an unknown column is taken for a misspelt known
#: one and refused ("plan_typ" 0.94); "planstatus" (0.57 to "plan"), "fid" (0.8 to "id") and
#: "locatienaam" (0.78) are other columns [-].
NEAR_MISS = 0.85
#: Largest grid the command builds at once [-] (a province on 250 m is ~80,000).
MAX_GRID_SITES = 2_000_000

_ID = ("locatie", "site_id", "site", "id", "naam", "name", "locatie_id")
_PLAN = ("plantype", "plan_type", "type", "plan")
_X, _Y = ("x", "rd_x", "x_rd"), ("y", "rd_y", "y_rd")
_LAT, _LON = ("lat", "latitude", "breedtegraad"), ("lon", "lng", "longitude", "lengtegraad")


@dataclass
class Sites:
    """Candidate sites (parallel arrays) and the rows that could not be read.

    ``grid`` is ``(x0, y0, step, n_cols, n_rows, col, row)`` for sites on a regular grid
    (GeoTIFF output), else None. ``errors`` lists :class:`InputError` per bad row.
    """

    site_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    plan: np.ndarray
    source: str
    errors: list = field(default_factory=list)
    grid: tuple | None = None
    notes: list = field(default_factory=list)

    def __len__(self):
        return int(self.x.size)


#: The columns read, each with the names it may have (the first is the one documented).
_FIELDS = {"locatie": _ID, "plantype": _PLAN, "x": _X, "y": _Y, "lat": _LAT, "lon": _LON}


def _col(frame, names):
    low = {str(c).strip().lower(): c for c in frame.columns}
    for n in names:
        if n in low:
            return low[n]
    return None


def _check_columns(frame, *, file, sheet) -> list:
    """Refuse a column that names a field twice (``x`` and ``rd_x``) or that nearly names an
    absent one (``plan_typ``: every row would silently get ``--plan-type``), as ``deposition``
    refuses its columns; return a note naming the other columns (not read), as for the
    receptor file."""
    errors, used = [], set()
    for name, aliases in _FIELDS.items():
        hits = [c for c in frame.columns if str(c).strip().lower() in aliases]
        used.update(hits)
        if len(hits) > 1:
            errors.append(InputError(f"kolommen {', '.join(map(repr, map(str, hits)))} betekenen allebei {name}",
                                     file=file, sheet=sheet, row=1, field=str(hits[1]), value=str(hits[1]),
                                     expected=f"één kolom voor {name}"))
    absent = [a for name, aliases in _FIELDS.items() if not any(str(c).strip().lower() in aliases
                                                                 for c in frame.columns) for a in aliases]
    unused = []
    for c in frame.columns:
        if c in used:
            continue
        # only a typo is refused ("plan_typ"); a column that merely starts like one
        # ("planstatus", "plannaam", "fid") is another column, noted as not read
        near = difflib.get_close_matches(str(c).strip().lower(), absent, n=1, cutoff=NEAR_MISS)
        near = near[0] if near else None
        if near is None:
            unused.append(str(c))
            continue
        errors.append(InputError(f"onbekende kolom {str(c)!r} (bedoelt u {near!r}?)", file=file, sheet=sheet,
                                 row=1, field=str(c), value=str(c),
                                 expected=f"de kolommen {', '.join(_FIELDS)} (andere kolommen worden niet gelezen)"))
    if errors:
        raise errors[0] if len(errors) == 1 else MultipleInputErrors(errors, file=file)
    if not unused:
        return []
    return [f"kolom(men) {', '.join(unused)} van het locatiebestand niet gebruikt (gelezen: "
            f"{', '.join(_FIELDS)})"]


def _numbers(frame, col, *, file, sheet, errors, label, base=2):
    raw = frame[col]
    out = np.full(len(frame), np.nan)
    for i, v in enumerate(raw.tolist()):
        if isinstance(v, str):
            t = v.strip().replace(" ", "")
            if t.count(",") == 1 and "." not in t:
                t = t.replace(",", ".")
            try:
                out[i] = float(t)
            except ValueError:
                errors.append(InputError(f"{v!r} is geen getal", file=file, sheet=sheet, row=i + base, field=label,
                                         value=v, expected="een getal (RD in m, of graden WGS84)"))
        elif v is None or (isinstance(v, float) and math.isnan(v)):
            errors.append(InputError("leeg", file=file, sheet=sheet, row=i + base, field=label,
                                     expected="een getal"))
        else:
            out[i] = float(v)
    return out


def read_sites(path, *, plan_type: str | None = None, known_plans=None, sheet=None) -> Sites:
    """Read candidate sites from CSV, Excel (``.xlsx``) or GeoJSON.

    Parameters
    ----------
    path : path
        CSV/Excel with columns ``x, y`` (RD New, m) or ``lat, lon`` (WGS84, degrees), and
        optionally ``locatie`` (site id) and ``plantype``; or a GeoJSON FeatureCollection
        of points or polygons (a polygon's site is its centroid; coordinates WGS84 unless
        the file names EPSG:28992 in ``crs``), properties as the columns.
    plan_type : str, keyword-only
        Plan type for rows without one.
    known_plans : iterable of str, keyword-only
        Plan types the caller can compute (rows naming another are errors).
    sheet : str, keyword-only
        Excel sheet (default the first).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("bestand niet gevonden", file=str(path), expected="een bestaand CSV-, Excel- of GeoJSON-bestand")
    suffix = path.suffix.lower()
    sheet_name = None
    notes = []
    if suffix in (".geojson", ".json"):
        frame, rd, notes = _geojson_frame(path)
    elif suffix in (".xlsx", ".xlsm"):
        sheet_name = sheet if sheet is not None else 0
        frame = pd.read_excel(path, sheet_name=sheet_name, dtype=object)
        sheet_name = sheet if sheet is not None else pd.ExcelFile(path).sheet_names[0]
        rd = None
    elif suffix in (".csv", ".txt"):
        text = decode_csv(path.read_bytes(), path)
        if not text.strip():
            raise InputError("het bestand is leeg", file=str(path), expected="een kopregel met de kolomnamen")
        sep = separator(text.splitlines()[0])
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=object)
        rd = None
    else:
        raise InputError(f"bestandstype {suffix or '(geen extensie)'} wordt niet gelezen", file=str(path),
                         value=suffix, expected="een .csv-, .xlsx- of .geojson-bestand")
    file = str(path)
    errors: list = []
    base = 1 if suffix in (".geojson", ".json") else 2  # GeoJSON: feature number; tables: row (header 1)
    notes = notes + _check_columns(frame, file=file, sheet=sheet_name)
    cx, cy, clat, clon = _col(frame, _X), _col(frame, _Y), _col(frame, _LAT), _col(frame, _LON)
    if rd is None:
        rd = cx is not None and cy is not None
        if not rd and (clat is None or clon is None):
            raise InputError("geen coördinaatkolommen", file=file, sheet=sheet_name,
                             value=", ".join(map(str, frame.columns)),
                             expected="kolommen x en y (RD New, m) of lat en lon (WGS84, graden)")
    latlon = None
    if rd:
        x = _numbers(frame, cx, file=file, sheet=sheet_name, errors=errors, label=str(cx), base=base)
        y = _numbers(frame, cy, file=file, sheet=sheet_name, errors=errors, label=str(cy), base=base)
        if clat is not None and clon is not None:  # both: they must name one place (x, y is used)
            latlon = (_numbers(frame, clat, file=file, sheet=sheet_name, errors=[], label=str(clat)),
                      _numbers(frame, clon, file=file, sheet=sheet_name, errors=[], label=str(clon)))
    else:
        lat = _numbers(frame, clat, file=file, sheet=sheet_name, errors=errors, label=str(clat), base=base)
        lon = _numbers(frame, clon, file=file, sheet=sheet_name, errors=errors, label=str(clon), base=base)
        bad = ~((lat >= LAT[0]) & (lat <= LAT[1]) & (lon >= LON[0]) & (lon <= LON[1]))
        for i in np.flatnonzero(bad & np.isfinite(lat) & np.isfinite(lon)):
            errors.append(InputError("buiten Nederland", file=file, sheet=sheet_name, row=int(i) + base,
                                     field=f"{clat}, {clon}", value=f"{_nl(lat[i])}, {_nl(lon[i])}",
                                     expected=_LATLON_EXPECTED))
        x, y = np.full(lat.shape, np.nan), np.full(lat.shape, np.nan)
        fin = np.isfinite(lat) & np.isfinite(lon) & ~bad
        if fin.any():
            x[fin], y[fin] = wgs84_to_rd(lat[fin], lon[fin])
    cid = _col(frame, _ID)
    ids = np.array([f"locatie {i + 1}" for i in range(len(frame))], dtype=object)
    if cid is not None:  # an empty cell keeps its default name (it was 'nan')
        given = [_text(v) for v in frame[cid].tolist()]
        ids = np.array([g if g else d for g, d in zip(given, ids)], dtype=object)
    cplan = _col(frame, _PLAN)
    plans = np.array([plan_type] * len(frame), dtype=object)
    if cplan is not None:
        given = frame[cplan].tolist()
        plans = np.array([str(v).strip() if isinstance(v, str) and v.strip() else plan_type for v in given],
                         dtype=object)
    ok = np.isfinite(x) & np.isfinite(y)
    apart = np.zeros(len(frame))  # x, y given beside lat, lon: how far apart (one array call)
    if latlon is not None:
        both = ok & np.isfinite(latlon[0]) & np.isfinite(latlon[1])
        apart[both] = location_apart_m(x[both], y[both], latlon[0][both], latlon[1][both])
    named = np.zeros(len(frame), bool) if cid is None else np.array([bool(_text(v)) for v in frame[cid].tolist()])
    first: dict = {}
    for i, name in enumerate(ids):  # one row per site and plan type (the docs): the pair is the key
        first.setdefault((name, plans[i]), []).append(i)
    for (name, plan), at in first.items():  # one site twice would be computed twice, under one name
        if len(at) > 1:
            for i in at:
                others = ", ".join(str(j + base) for j in at if j != i)
                what = f"dubbele locatie {name!r}" + (f" met plantype {plan!r}" if plan else "")
                if not named[i]:
                    what += " (de standaardnaam van een rij zonder naam)"
                errors.append(InputError(f"{what} (ook op rij {others})", file=file,
                                         sheet=sheet_name, row=i + base, field=str(cid), value=name,
                                         expected="een unieke naam per locatie en plantype"))
                ok[i] = False
    for i in range(len(frame)):
        if not ok[i]:
            continue
        row = i + base
        if not (RD_X[0] <= x[i] <= RD_X[1] and RD_Y[0] <= y[i] <= RD_Y[1]):
            if rd:
                errors.append(InputError(f"{_nl(x[i])}, {_nl(y[i])} ligt buiten het RD-gebied", file=file,
                                         sheet=sheet_name, row=row, field=f"{cx}, {cy}",
                                         value=f"{_nl(x[i])}, {_nl(y[i])}",
                                         expected=f"{_RD_EXPECTED} (of lat/lon-kolommen voor WGS84)"))
            else:  # name the lat, lon given, not the RD numbers they convert to (as calc)
                message, given, expected = latlon_outside_rd_error(lat[i], lon[i], x[i], y[i])
                errors.append(InputError(message, file=file, sheet=sheet_name, row=row,
                                         field=f"{clat}, {clon}", value=given, expected=expected))
            ok[i] = False
        elif apart[i] > LOCATION_AGREEMENT_M:
            message, expected = location_apart_error(apart[i])
            errors.append(InputError(message, file=file, sheet=sheet_name, row=row,
                                     field=f"{cx}, {cy}, {clat}, {clon}",
                                     value=f"x {_nl(x[i])}, y {_nl(y[i])}; lat {_nl(latlon[0][i])}, "
                                           f"lon {_nl(latlon[1][i])}", expected=expected))
            ok[i] = False
        elif plans[i] is None:
            errors.append(InputError("plantype ontbreekt", file=file, sheet=sheet_name, row=row,
                                     field="plantype", expected="een plantype in de kolom of --plantype"))
            ok[i] = False
        elif known_plans is not None and plans[i] not in known_plans:
            errors.append(InputError(f"onbekend plantype {plans[i]!r}", file=file, sheet=sheet_name, row=row,
                                     field="plantype", value=plans[i],
                                     expected=f"een van {', '.join(sorted(known_plans))}"))
            ok[i] = False

    nl = np.zeros(len(frame), bool)
    nl[ok] = in_netherlands(x[ok], y[ok])
    for i in np.flatnonzero(ok & ~nl):
        errors.append(InputError(f"{nl_int(round(x[i]))}, {nl_int(round(y[i]))} ligt buiten Nederland of in zee",
                                 file=file, sheet=sheet_name, row=int(i) + base,
                                 field="x, y", value=f"{x[i]:.0f}, {y[i]:.0f}",
                                 expected="een locatie op Nederlands land (RD New, m)"))
    ok &= nl
    errors.sort(key=lambda e: (e.row or 0))
    return Sites(ids[ok], x[ok], y[ok], plans[ok], source=file, errors=errors, notes=notes)


def _text(v) -> str:
    """A cell as stripped text; '' for an empty cell (None, NaN)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v == int(v):
        return str(int(v))  # a numbered site read as a float: 12 -> "12"
    return str(v).strip()


def _geojson_frame(path):
    """GeoJSON features -> a frame with x, y (or lat, lon) and the properties."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"geen geldige JSON (regel {exc.lineno}, kolom {exc.colno})", file=str(path)) from None
    crs = json.dumps(data.get("crs", "")).upper()
    rd = "28992" in crs
    rows, notes, n_poly = [], [], 0
    for i, f in enumerate(data.get("features", []) if isinstance(data, dict) else []):
        g = (f or {}).get("geometry") or {}
        props = dict((f or {}).get("properties") or {})
        kind, coords = g.get("type"), g.get("coordinates")
        if kind == "Point":
            px, py = coords[0], coords[1]
        elif kind in ("Polygon", "MultiPolygon"):
            rings = [coords[0]] if kind == "Polygon" else [p[0] for p in coords]
            px, py = _centroid(rings)
            n_poly += 1
        else:
            raise InputError("geometrie niet ondersteund", file=str(path), row=i + 1, field="geometry.type",
                             value=kind, expected="Point, Polygon of MultiPolygon")
        props.pop("x", None), props.pop("y", None), props.pop("lat", None), props.pop("lon", None)
        rows.append({**props, **({"x": px, "y": py} if rd else {"lat": py, "lon": px})})
    if not rows:
        raise InputError("geen features", file=str(path), expected="een GeoJSON FeatureCollection met punten of vlakken")
    if n_poly:
        notes.append(f"{n_poly} vlak(ken): de locatie is het zwaartepunt van het vlak (het plan als punt)")
    return pd.DataFrame(rows), rd, notes


def _centroid(rings):
    """Area-weighted centroid of outer rings (shoelace) [same units as the input]."""
    a_sum = cx = cy = 0.0
    for r in rings:
        p = np.asarray(r, float)[:, :2]
        x, y = p[:, 0], p[:, 1]
        x1, y1 = np.roll(x, -1), np.roll(y, -1)
        cross = x * y1 - x1 * y
        a = cross.sum() / 2
        if a == 0:
            continue
        a_sum += a
        cx += ((x + x1) * cross).sum() / 6
        cy += ((y + y1) * cross).sum() / 6
    if a_sum == 0:
        p = np.asarray(rings[0], float)
        return float(p[:, 0].mean()), float(p[:, 1].mean())
    return cx / a_sum, cy / a_sum


def grid_sites(bbox, step_m: float, *, plan_type: str, region=None) -> Sites:
    """Sites at the centres of a square grid over a bounding box (RD New, m).

    Parameters
    ----------
    bbox : (xmin, ymin, xmax, ymax)
        [m], RD New.
    step_m : float
        Cell size [m].
    plan_type : str
    region : list of rings, keyword-only
        Keep only cells whose centre lies inside these polygons (RD New, m).

    Cells on the sea or abroad (the coarse national outline, ``sources.in_netherlands``)
    are left out and counted in ``notes``.
    """
    xmin, ymin, xmax, ymax = (float(v) for v in bbox)
    if not (step_m > 0 and xmax > xmin and ymax > ymin):
        raise InputError(field="--bbox, --step", value=f"{bbox}, {step_m:g} m",
                         expected="xmin < xmax, ymin < ymax (RD, m) en een stap > 0")
    if not (RD_X[0] <= xmin and xmax <= RD_X[1] and RD_Y[0] <= ymin and ymax <= RD_Y[1]):
        raise InputError("buiten het RD-gebied", field="--bbox", value=f"{bbox}", expected=_RD_EXPECTED)
    nx = int(math.floor((xmax - xmin) / step_m + 1e-9))
    ny = int(math.floor((ymax - ymin) / step_m + 1e-9))
    if nx * ny > MAX_GRID_SITES:
        raise InputError(f"te veel rastercellen: {nl_int(nx * ny)} bij een stap van {_nl(step_m)} m", field="--step",
                         value=f"{_nl(step_m)} m ({nl_int(nx * ny)} cellen)",
                         expected=f"hoogstens {nl_int(MAX_GRID_SITES)} cellen: een grotere stap of een kleiner gebied")
    col, row = np.meshgrid(np.arange(nx), np.arange(ny))
    col, row = col.ravel(), row.ravel()
    x = xmin + (col + 0.5) * step_m
    y = ymax - (row + 0.5) * step_m
    keep = in_netherlands(x, y) if x.size else np.zeros(0, bool)
    notes = []
    if region is not None:
        inside = points_in_polygon(x, y, [np.asarray(r, float) for r in region], boundary=True)
        notes.append(f"{int((~inside).sum())} rastercel(len) buiten het gebied weggelaten")
        keep &= inside
    n_out = int((~keep).sum()) - (int((~inside).sum()) if region is not None else 0)
    if n_out > 0:
        notes.append(f"{n_out} rastercel(len) buiten Nederland of in zee weggelaten")
    ids = np.array([f"r{r}k{c}" for r, c in zip(row[keep], col[keep])], dtype=object)
    return Sites(ids, x[keep], y[keep], np.array([plan_type] * int(keep.sum()), dtype=object),
                 source=f"raster {_nl(step_m)} m over x {xmin:.0f}-{xmax:.0f}, y {ymin:.0f}-{ymax:.0f}",
                 grid=(xmin, ymax, float(step_m), nx, ny, col[keep], row[keep]), notes=notes)


def read_region(path) -> tuple[tuple, list]:
    """Bounding box and outer rings (RD New, m) of the polygons in a GeoJSON file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        why = (f"geen geldige JSON, regel {exc.lineno}, kolom {exc.colno}" if isinstance(exc, json.JSONDecodeError)
               else read_reason(exc))
        raise InputError(f"niet leesbaar ({why})", file=str(path), expected="een GeoJSON-bestand met vlakken") from None
    rd = "28992" in json.dumps(data.get("crs", "")).upper()
    rings = []
    feats = data.get("features", [data] if data.get("type") in ("Polygon", "MultiPolygon", "Feature") else [])
    for f in feats:
        g = f.get("geometry", f) if isinstance(f, dict) else {}
        if g.get("type") == "Polygon":
            rings.append(g["coordinates"][0])
        elif g.get("type") == "MultiPolygon":
            rings += [p[0] for p in g["coordinates"]]
    if not rings:
        raise InputError("geen vlakken", file=str(path), expected="een GeoJSON met Polygon of MultiPolygon")
    out = []
    for r in rings:
        p = np.asarray(r, float)[:, :2]
        if not rd:
            px, py = wgs84_to_rd(p[:, 1], p[:, 0])
            p = np.column_stack([px, py])
        out.append(p)
    allp = np.concatenate(out)
    return (float(allp[:, 0].min()), float(allp[:, 1].min()), float(allp[:, 0].max()),
            float(allp[:, 1].max())), out


def _nl(v) -> str:
    """A number in Dutch notation: ``-8.000,5``, ``1.000.000``, ``53,95``."""
    return dutch_notation(f"{float(v):,.10g}")


#: What the site checks expect (the bounds above, in Dutch notation).
_RD_EXPECTED = (f"RD New in m: x {nl_int(RD_X[0])}..{nl_int(RD_X[1])}, "
                f"y {nl_int(RD_Y[0])}..{nl_int(RD_Y[1])}")
_LATLON_EXPECTED = (f"WGS84 in Nederland: lat {_nl(LAT[0])}-{_nl(LAT[1])} en lon {_nl(LON[0])}-{_nl(LON[1])} "
                    "graden (als voor calc)")
