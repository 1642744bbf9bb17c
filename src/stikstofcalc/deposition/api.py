"""Table front end of the deposition engine: validate, expand geometry, call the core.

:func:`deposition` takes a sources table and a receptors table (pandas DataFrames, as
read from CSV or Excel by :mod:`.io`, or built in Python) and returns the receptor table
with three deposition columns [mol N/ha/yr], in input order.

Every problem in both tables is collected before anything is computed and raised at
once as :class:`~stikstofcalc.errors.MultipleInputErrors`; each error names the file
(if known), the row as a spreadsheet shows it (header = row 1, first data row = row 2),
the column, the value and what was expected. Nothing is dropped, clipped, reordered or
silently fixed. Column contract and defaults: ``docs/deposition_io.md``.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stikstofcalc.errors import InputError, MultipleInputErrors, RangeError, closest
from stikstofcalc.geo import geometry as geo
from stikstofcalc.geo.hexgrid import RD_BOUNDS as _RD_BOUNDS, in_rd_bounds
from stikstofcalc.geo.receptors import (RECEPTOR_COLUMNS as _RECEPTOR_NAMES, TERRAIN_COLUMNS as _TERRAIN_COLUMNS,
                                        terrain_violations)
from stikstofcalc.ranges import RANGES
from stikstofcalc.deposition.core import (CALIBRATED_RANGES, DEFAULT_CUTOFF_M, ReceptorArrays, SourceArrays, deposition_arrays)
from stikstofcalc.deposition.arrays import EXTRAPOLATED_NOTE
from stikstofcalc.deposition.model import load_terrain_model, terrain_model_info
from stikstofcalc.deposition.terrain import terrain_info

SOURCE_REQUIRED = ("source_id", "x", "y", "height_m", "heat_mw", "nox_kg_yr", "nh3_kg_yr")
SOURCE_OPTIONAL = ("spread_m", "area_side_m", "x_end", "y_end", "z0_m", "case_id",
                   "geometry_wkt")
#: Other spellings accepted for source columns -> this format's name: the emission table's
#: names (``emissions`` output), so that it feeds ``deposition`` directly (docs/nomenclature.md).
#: (Its ``case`` column, the project name, is not taken as ``case_id``: receptors without
#: ``case_id`` would then not see the sources.)
SOURCE_ALIASES = {"nox_kg_per_yr": "nox_kg_yr", "nh3_kg_per_yr": "nh3_kg_yr", "x_m": "x", "y_m": "y"}
RECEPTOR_REQUIRED = ("receptor_id", "x", "y")
#: receptor land-use percentages of OPS classes 1-9 (override ``landuse`` and the map)
LANDUSE_PCT_COLUMNS = tuple(f"lu_{k}" for k in range(1, 10))
RECEPTOR_OPTIONAL = ("landuse", "case_id", "z0_m") + LANDUSE_PCT_COLUMNS
#: Output columns [mol N/ha/yr], appended to the receptor table in this order.
OUTPUT_COLUMNS = ("deposition_nox_mol_ha_yr", "deposition_nh3_mol_ha_yr",
                  "deposition_total_mol_ha_yr")
#: Added only when values outside the calibrated range were used (allow_extrapolation).
EXTRAPOLATED_COLUMN = "extrapolated"

#: Roughness length when ``z0_m`` is absent or empty [m]: the base value of the OPS
#: reference runs (``docs/engine.md``, "Accuracy") and of the core.
DEFAULT_Z0_M = 0.2
#: Receptor land-use class when ``landuse`` is absent or empty: 0 = from the terrain (with
#: the roughness map: water (6) where the map shows open water, else grass (1); with
#: uniform terrain grass, as in OPS).
DEFAULT_LANDUSE = 0
#: Plausible RD New coordinates [m] (:data:`stikstofcalc.geo.hexgrid.RD_BOUNDS`).
RD_BOUNDS = _RD_BOUNDS
#: At most this many errors are listed per column and kind of problem (then a count).
MAX_ERRORS_PER_KIND = 100

_RD_EXPECTED = "RD New (EPSG:28992) in meter, x van {:g} tot {:g}, y van {:g} tot {:g}".format(
    *RD_BOUNDS["x"], *RD_BOUNDS["y"])


# ----------------------------------------------------------------- collecting

class _Problems:
    """Collects errors for one table; caps the number per (column, problem)."""

    def __init__(self, file, table):
        self.file, self.table, self.errors, self._count = file, table, [], {}

    def add(self, positions, column, values, message, expected, *, cls=InputError, detail=None):
        positions = np.atleast_1d(positions)
        key = (column, message)
        for k, pos in enumerate(positions):
            n = self._count.get(key, 0)
            self._count[key] = n + 1
            if n < MAX_ERRORS_PER_KIND:
                v = _show(values[k] if isinstance(values, (list, np.ndarray)) else values)
                sep = "" if message.startswith(":") else " "
                text = f'"{v}"{sep}{message}' if v != "" else message.lstrip(": ")
                self.errors.append(cls(text, file=self.file, row=int(pos) + 2, field=column,
                                       value=v, expected=expected, detail=detail))

    def table_error(self, message, expected=None, *, field=None, value=None):
        self.errors.append(InputError(message, file=self.file, field=field, value=value,
                                      expected=expected))

    def finish(self):
        self.errors.sort(key=lambda e: -1 if e.row is None else e.row)  # stable: by column
        for (column, message), n in self._count.items():
            if n > MAX_ERRORS_PER_KIND:
                self.errors.append(InputError(
                    f"nog {n - MAX_ERRORS_PER_KIND} rij(en) met hetzelfde probleem: {message.lstrip(': ')}",
                    file=self.file, field=column))
        return self.errors


def _nl(v) -> str:
    """A number as a Dutch reader writes it in a message: ``0.5`` -> ``0,5``."""
    return f"{float(v):g}".replace(".", ",")


def _show(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))
    return v if isinstance(v, str) else str(v)


def _cell_text(col: pd.Series) -> pd.Series:
    """Cells as stripped text; missing (None, NaN, '') -> ''. Integral floats as ints.

    Vectorised for all-text columns (CSV) and numeric columns; cell by cell otherwise.
    """
    if len(col) == 0:
        return col.astype(object)
    kind = pd.api.types.infer_dtype(col, skipna=False)
    if kind == "string":
        return col.str.strip()
    if kind in ("integer", "floating", "mixed-integer-float") and \
            pd.api.types.is_numeric_dtype(col.dtype):
        v = col.to_numpy(dtype=float)
        integral = np.isfinite(v) & (v == np.round(v)) & (np.abs(v) < 2**53)
        text = np.where(np.isnan(v), "", v.astype(str)).astype(object)
        text[integral] = v[integral].astype(np.int64).astype(str)
        return pd.Series(text, index=col.index, dtype=object)
    return col.map(_one_text)


def _one_text(v):
    if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and np.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v).strip()


# ----------------------------------------------------------------- columns

def _check_columns(df, required, optional, problems):
    """Missing, misspelled and duplicate column names; returns False if unusable."""
    cols = [str(c) for c in df.columns]
    ok = True
    counts = collections.Counter(cols)  # linear: 20,000 columns took a minute with list.count
    for c in sorted(c for c, n in counts.items() if n > 1):
        problems.table_error(f"kolom {c!r} komt {counts[c]} keer voor",
                             "elke kolom één keer", field=c)
        ok = False
    known = set(required) | set(optional)
    unknown = [c for c in cols if c not in known]
    for c in required:
        if c in counts:
            continue
        near = _closest(c, unknown)
        hint = f' (bedoelt u {near!r}?)' if near else ""
        problems.table_error(f"verplichte kolom {c!r} ontbreekt{hint}",
                             f"de kolommen {', '.join(required)}", field=c)
        ok = False
    present = set(cols)
    absent = [o for o in optional if o not in present]  # once, not per unknown column
    for c in unknown:  # a misspelled optional column would otherwise be ignored silently
        near = _closest(c, absent, min_prefix=3) if absent else None
        if near:
            problems.table_error(f"onbekende kolom {c!r} (bedoelt u {near!r}?)",
                                 f"een van de optionele kolommen {', '.join(optional)}", field=c)
            ok = False
    return ok


_PERIOD_WORD = {"phase": "fasen", "year": "jaren"}


def _alias_columns(df, problems):
    """Source columns spelled as the emission table spells them (:data:`SOURCE_ALIASES`),
    renamed to this format's names; returns (table, notes).

    So that the ``emissions`` output feeds ``deposition`` as it is: its ``x_m, y_m`` beside a
    geometry are the geometry's centre (not used), a table without ``source_id`` names its
    sources by row, and a table with several phases or calendar years is refused (their sum
    means nothing; ``calc`` assesses a source list per phase and year). Both spellings of one
    quantity is an error.
    """
    cols = [str(c) for c in df.columns]
    rename = {c: SOURCE_ALIASES[c] for c in cols if c in SOURCE_ALIASES}
    for c, target in list(rename.items()):
        if target in cols:
            problems.table_error(f"kolommen {c!r} en {target!r} allebei opgegeven", "een van beide "
                                 "(ze betekenen hetzelfde)", field=c)
            del rename[c]
    notes = []
    periods = [c for c in ("phase", "year") if c in cols]
    if periods and len(df):
        combos = df[periods].astype(str).drop_duplicates()
        if len(combos) > 1:
            shown = ", ".join(" ".join(r) for r in combos.head(4).itertuples(index=False, name=None))
            problems.table_error(
                f"de bronnen horen bij {len(combos)} verschillende "
                f"{'combinaties van fase en jaar' if len(periods) == 2 else _PERIOD_WORD[periods[0]]} "
                f"({shown}{', ...' if len(combos) > 4 else ''}): hun som zegt niets",
                "bronnen van één fase en één jaar (filter de rijen), of reken de lijst per fase en "
                "jaar door met 'stikstofcalc calc BRONNEN'", field=periods[0])
    if "case" in cols and "case_id" not in cols and len(df):
        names = df["case"].astype(str).drop_duplicates()
        if len(names) > 1:
            shown = ", ".join(names.head(4))
            problems.table_error(
                f"de bronnen horen bij {len(names)} verschillende projecten ({shown}"
                f"{', ...' if len(names) > 4 else ''}): hun som zegt niets",
                "de bronnen van één project (filter de rijen), of noem de kolom 'case' "
                "'case_id' en reken elk project apart door met 'stikstofcalc calc BRONNEN'",
                field="case")
    if not rename:
        return df, notes
    out = df.rename(columns=rename)
    out.attrs = dict(df.attrs)
    if "geometry_wkt" in out.columns:
        has = (_cell_text(out["geometry_wkt"]) != "").to_numpy(dtype=bool)
        for c in ("x_m", "y_m"):
            if c in rename and has.any():
                out[rename[c]] = out[rename[c]].astype(object).where(~has, "")
    if "case" in out.columns and "case_id" not in out.columns:  # the project name, one case
        out = out.drop(columns="case")
    if "source_id" not in out.columns:
        out["source_id"] = [f"rij {i + 2}" for i in range(len(out))]
        notes.append("geen kolom source_id: bronnen genoemd naar hun rij (de emissietabel)")
    return out, notes


def _closest(name, candidates, *, min_prefix=1):
    """The candidate that ``name`` most likely misspells (typo, case, unit left off: ``z0``
    for ``z0_m``); the one rule of :func:`stikstofcalc.errors.closest`."""
    return closest(name, candidates, min_prefix=min_prefix)


# ----------------------------------------------------------------- cells

def _numbers(df, column, problems, *, required, unit, expected=None):
    """Parse a number column; returns (values with NaN where empty, empty mask).

    ``required``: True, False, or a boolean mask of the rows that need a value.
    With ``df.attrs["decimal"] == ","`` (a ';'-separated CSV, see :mod:`.io`) text cells
    use a decimal comma; a dot is then accepted as a decimal point only where it cannot
    be a Dutch thousands separator ("2.5" yes, "2.500" is refused as ambiguous).
    """
    n = len(df)
    if column not in df.columns:
        return np.full(n, np.nan), np.ones(n, dtype=bool)
    raw = df[column]
    expected = expected or (f"een getal in {unit}" if unit else "een getal")
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        num = raw.to_numpy(dtype=float)
        empty = np.isnan(num)
        text = None
    else:
        num, empty, text = _parse_text_numbers(raw, column, problems, expected,
                                               decimal=df.attrs.get("decimal", "."))
    p = np.flatnonzero(np.isinf(num))
    problems.add(p, column, num[p], "is geen eindig getal", expected)
    if required is not False:
        p = np.flatnonzero(empty if required is True else empty & required)
        problems.add(p, column, "", "ontbreekt", expected)
    return np.where(np.isfinite(num), num, np.nan), empty


#: ``attrs["decimal"]`` of a table read from a workbook (:mod:`stikstofcalc.io.tables`): its text
#: cells are typed by a person, so a dot or a comma between groups of three digits
#: ("1.500", "1,500") may separate thousands either way and is refused as ambiguous.
WORKBOOK_TEXT = "werkmap"
#: A Dutch number with dot thousands and a decimal comma ("1.000,5"): unambiguous.
_DUTCH_GROUPED = r"[-+]?[1-9]\d{0,2}(\.\d{3})+,\d+"
#: A comma that may separate thousands the English way ("1,500"): ambiguous where a decimal
#: comma is not the file's rule (a text cell of a workbook).
_COMMA_THOUSANDS = r"[-+]?[1-9]\d{0,2}(,\d{3})+"


def number_cells(df: pd.DataFrame, column: str, *, file=None, table: str = "bronnen",
                 expected: str = "een getal") -> np.ndarray:
    """The numbers of one column of a source table by the tables' rules (decimal comma in a
    ';'-separated CSV, Dutch text in a workbook cell), NaN where empty; for columns the
    table check does not read (the activity columns of the ``emissions`` output).

    Raises
    ------
    MultipleInputErrors
        Cells that are no number, naming row, column and value.
    """
    problems = _Problems(file, table)
    num, _ = _numbers(df, column, problems, required=False, unit=None, expected=expected)
    errors = problems.finish()
    if errors:
        raise MultipleInputErrors(errors, file=file)
    return num


def _parse_text_numbers(raw, column, problems, expected, *, decimal):
    text = _cell_text(raw)
    empty = (text == "").to_numpy(dtype=bool)
    spaced = text.str.fullmatch(r"[-+]?\d{1,3}( \d{3})+([.,]\d+)?").to_numpy(dtype=bool)
    p = np.flatnonzero(spaced)
    problems.add(p, column, text.to_numpy()[p], "bevat een spatie (tussen duizendtallen?)",
                 "een getal zonder scheiding van duizendtallen, bijv. 2500 of 2500,5")
    text = text.where(~spaced, "0")  # reported above; a placeholder from here on
    grouped = text.str.fullmatch(_DUTCH_GROUPED).to_numpy(dtype=bool)  # "1.000,5": one reading
    text = text.where(~grouped, text.str.replace(".", "", regex=False))
    if decimal == "," and len(text):
        ambiguous = text.str.fullmatch(r"[-+]?[1-9]\d{0,2}(\.\d{3})+").to_numpy(dtype=bool)
        p = np.flatnonzero(ambiguous)
        problems.add(p, column, text.to_numpy()[p], "is dubbelzinnig (een punt kan duizendtallen scheiden)",
                     "een decimale komma, bijv. 2,5 of 2500")
        text = text.str.replace(r"^([-+]?\d*),(\d+)$", r"\1.\2", regex=True)
        text = text.where(~ambiguous, "0")  # reported above; a placeholder from here on
    elif len(text):  # a comma CSV or a workbook's text cell: a decimal comma as in the batch's cells
        ambiguous = text.str.fullmatch(_COMMA_THOUSANDS).to_numpy(dtype=bool)
        p = np.flatnonzero(ambiguous)
        problems.add(p, column, text.to_numpy()[p], "is dubbelzinnig (een komma kan duizendtallen scheiden)",
                     "een getal als getal in de cel, of een decimale komma met andere cijfers, bijv. 2,5")
        if decimal == WORKBOOK_TEXT:  # typed by a person: "1.500" may be Dutch thousands too
            typed = np.fromiter((isinstance(v, str) for v in raw), bool, len(raw))  # not number cells
            dots = text.str.fullmatch(r"[-+]?[1-9]\d{0,2}(\.\d{3})+").to_numpy(dtype=bool) & ~ambiguous & typed
            p = np.flatnonzero(dots)
            problems.add(p, column, text.to_numpy()[p], "is dubbelzinnig (een punt kan duizendtallen scheiden)",
                         "een getal als getal in de cel, of tekst met een decimale komma, bijv. 2,5 of 2500")
            ambiguous = ambiguous | dots
        text = text.where(ambiguous, text.str.replace(r"^([-+]?\d*),(\d+)$", r"\1.\2", regex=True))
        text = text.where(~ambiguous, "0")
    num = pd.to_numeric(text.where(~empty, None), errors="coerce").to_numpy(dtype=float, copy=True)
    bad = np.flatnonzero(~empty & np.isnan(num))
    if bad.size:
        sub = text.iloc[bad]
        nan_word = sub.str.lower().isin(["nan", "na", "n/a", "-nan", "none", "null"]).to_numpy()
        comma = sub.str.fullmatch(r"[-+]?\d+,\d+").to_numpy(dtype=bool)
        vals = sub.to_numpy()
        formula = sub.str.startswith("=").to_numpy(dtype=bool)  # never computed (io.tables)
        plain = ~nan_word & ~comma & ~formula
        problems.add(bad[plain], column, vals[plain], "is geen getal", expected)
        problems.add(bad[formula], column, vals[formula], "is een formule zonder opgeslagen waarde", expected,
                     detail="open de werkmap in Excel en sla hem op, of typ de waarde in")
        problems.add(bad[comma], column, vals[comma], "is geen getal (decimale komma?)", expected,
                     detail="gebruik een decimale punt, of een CSV-bestand met ';' als scheidingsteken "
                            "en decimale komma's")
        problems.add(bad[nan_word], column, vals[nan_word], "is geen getal (NaN)", expected)
    inf = np.isinf(num)
    num[inf] = np.nan  # reported with the typed text
    p = np.flatnonzero(inf)
    problems.add(p, column, text.to_numpy()[p], "is geen eindig getal", expected)
    return num, empty, text


def _texts(df, column, problems, *, what):
    """A required text column (ids, case ids): stripped text, '' flagged as missing."""
    if column not in df.columns:
        return np.full(len(df), "", dtype=object)
    text = _cell_text(df[column])
    p = np.flatnonzero((text == "").to_numpy())
    problems.add(p, column, "", "ontbreekt", what)
    return text.to_numpy(dtype=object)


def _check_rd(values, column, problems, valid, other=None):
    """RD New plausibility; ``other`` (the y values for x) also flags a lon/lat pair."""
    lo, hi = RD_BOUNDS[column[0]]
    outside = ~((values >= lo) & (values <= hi))
    if other is not None:
        outside |= (np.abs(values) <= 180) & (np.abs(other) <= 180)
    bad = np.flatnonzero(valid & outside)
    degrees = np.abs(values[bad]) <= 180
    for flag, detail in ((degrees, "lijkt op WGS84-graden; reken om naar RD New"),
                         (~degrees, None)):
        problems.add(bad[flag], column, values[bad[flag]], "is geen RD New-coördinaat",
                     _RD_EXPECTED, detail=detail)


def _check_min(values, column, problems, *, lo, strict=False, unit=""):
    bad = values <= lo if strict else values < lo
    p = np.flatnonzero(bad)
    rel = "groter dan" if strict else "van minstens"
    problems.add(p, column, values[p], "is niet positief" if strict else "is negatief",
                 f"een waarde {rel} {lo:g} {unit}".strip())


#: The plausibility range (:data:`stikstofcalc.ranges.RANGES`) of each number column of
#: a source table: a value above it is a typing error (``1e308``), refused also with
#: ``allow_extrapolation`` (which only widens the calibrated ranges below).
_PLAUSIBLE = {"height_m": "height", "heat_mw": "heat", "nox_kg_yr": "emission", "nh3_kg_yr": "emission",
              "spread_m": "spread", "area_side_m": "area_side", "z0_m": "z0"}


def _check_plausible(values, column, name, problems):
    """Flag finite values above the plausibility range ``name``; returns ``values`` with them NaN.

    Only the upper limit is checked here (the lower limits have their own messages); the
    flagged values are set to NaN so that the calibrated-range check does not report the
    same cell twice.
    """
    rng = RANGES[name]
    bad = np.isfinite(values) & (values > rng.hi)
    p = np.flatnonzero(bad)
    problems.add(p, column, values[p], "ligt buiten het toegestane bereik",
                 f"{rng.describe()} ({rng.why})", cls=RangeError)
    return np.where(bad, np.nan, values) if p.size else values


def _check_calibrated(values, column, problems, notes, ids, *, allow_extrapolation,
                      extra_bad=None, extra_text=""):
    lo, hi, unit = CALIBRATED_RANGES[column]
    outside = ~((values >= lo) & (values <= hi)) & np.isfinite(values)
    if extra_bad is not None:
        outside |= extra_bad
    p = np.flatnonzero(outside)
    if p.size == 0:
        return outside
    expected = (f"{_nl(lo)} tot en met {_nl(hi)} {unit}{extra_text}, het kalibratiebereik van "
                "OPS-LT 5.3.1")
    if not allow_extrapolation:
        problems.add(p, column, values[p], "ligt buiten het gekalibreerde bereik", expected,
                     cls=RangeError,
                     detail="om toch te rekenen: --allow-extrapolation op de opdrachtregel, "
                            "of allow_extrapolation=True in Python")
    else:
        shown = ", ".join(f"rij {i + 2} ({ids[i]}): {_nl(values[i])}" for i in p[:5])
        notes.append(f"{EXTRAPOLATED_NOTE} {p.size} {'bron' if p.size == 1 else 'bronnen'} met {column} "
                     f"buiten {expected}: "
                     f"{shown}{' ...' if p.size > 5 else ''}")
    return outside


# ----------------------------------------------------------------- sources

@dataclass
class SourceTable:
    """Validated source rows as arrays in canonical units (one entry per input row)."""

    source_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    height_m: np.ndarray
    heat_mw: np.ndarray
    nox_kg_yr: np.ndarray
    nh3_kg_yr: np.ndarray
    spread_m: np.ndarray
    area_side_m: np.ndarray
    x_end: np.ndarray
    y_end: np.ndarray
    z0_m: np.ndarray
    geometries: list
    case_id: np.ndarray | None
    extrapolated: np.ndarray
    notes: list = field(default_factory=list)

    #: the number columns, in field order [m, m, m, MW, kg/yr, kg/yr, m, m, m, m, m]
    NUMBER_COLUMNS = ("x", "y", "height_m", "heat_mw", "nox_kg_yr", "nh3_kg_yr", "spread_m",
                      "area_side_m", "x_end", "y_end", "z0_m")

    def __len__(self):
        return self.x.shape[0]


@dataclass
class ReceptorTable:
    """Validated receptor rows as arrays (one entry per input row)."""

    receptor_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    landuse: np.ndarray
    case_id: np.ndarray | None
    z0_m: np.ndarray | None = None
    lu_pct: np.ndarray | None = None
    #: rows with their own land use (``landuse`` or ``lu_*``), for the terrain note
    landuse_given: np.ndarray | None = None

    def __len__(self):
        return self.x.shape[0]


def _parse_geometries(df, problems):
    n = len(df)
    geoms = [None] * n
    if "geometry_wkt" not in df.columns:
        return geoms
    text = _cell_text(df["geometry_wkt"]).to_numpy(dtype=object)
    for i in np.flatnonzero(text != ""):
        try:
            geoms[i] = geo.parse_wkt(text[i])
        except InputError as exc:
            shown = text[i] if len(text[i]) <= 60 else text[i][:57] + "..."
            problems.add([i], "geometry_wkt", [shown], ": " + exc.message, exc.expected)
            continue
        _check_geometry_rd(geoms[i], i, problems)
    return geoms


def _geometry_vertices(g) -> np.ndarray:
    """All vertices of a parsed geometry, shape (n, 2)."""
    if g.coords is not None:
        return np.asarray(g.coords, float).reshape(-1, 2)
    return np.concatenate([np.asarray(r, float).reshape(-1, 2) for part in g.polygons for r in part])


def _check_geometry_rd(g, i, problems):
    """The RD New plausibility of :func:`_check_rd` for the vertices of a geometry: a WKT in
    WGS84 degrees or with x and y swapped would otherwise put the source far from any
    Natura 2000 area and give a false 0,00."""
    c = _geometry_vertices(g)
    bad = ~in_rd_bounds(c[:, 0], c[:, 1])
    if not bad.any():
        return
    x, y = c[np.flatnonzero(bad)[0]]
    degrees = abs(x) <= 180 and abs(y) <= 180
    swapped = bool(in_rd_bounds(y, x))
    detail = ("lijkt op WGS84-graden; reken om naar RD New" if degrees
              else "x en y lijken verwisseld" if swapped else None)
    problems.add([i], "geometry_wkt", [f"{x:g} {y:g}"], "is geen RD New-coördinaat", _RD_EXPECTED,
                 detail=detail)


def _parse_sources(df, problems, *, allow_extrapolation):
    """Validate a sources table; returns a SourceTable or None (problems recorded)."""
    df, alias_notes = _alias_columns(df, problems)
    if "geometry_wkt" in df.columns and any(c not in df.columns for c in ("x", "y")):
        # the geometry gives the location: x, y are then needed only on rows without one
        # (checked per row below)
        df = df.assign(**{c: "" for c in ("x", "y") if c not in df.columns})
    usable = _check_columns(df, SOURCE_REQUIRED, SOURCE_OPTIONAL, problems)
    ids = _texts(df, "source_id", problems, what="een bron-id")
    geoms = _parse_geometries(df, problems)
    has_geom = (_cell_text(df["geometry_wkt"]) != "").to_numpy(dtype=bool) \
        if "geometry_wkt" in df.columns else np.zeros(len(df), dtype=bool)
    v, empty = _source_numbers(df, problems, has_geom)
    _check_geometry_rows(has_geom, v, empty, problems, geoms)
    _check_lines(v, empty, has_geom, problems)
    for c, o in (("x", "y"), ("y", None), ("x_end", "y_end"), ("y_end", None)):
        _check_rd(v[c], c, problems, ~empty[c] & np.isfinite(v[c]), v[o] if o else None)
    for c in ("height_m", "heat_mw", "nox_kg_yr", "nh3_kg_yr", "spread_m", "area_side_m"):
        _check_min(v[c], c, problems, lo=0.0, unit=_unit(c))
    _check_min(v["z0_m"], "z0_m", problems, lo=0.0, strict=True, unit="m")
    for c, name in _PLAUSIBLE.items():
        v[c] = _check_plausible(v[c], c, name, problems)
    v["spread_m"] = np.where(empty["spread_m"], 0.0, v["spread_m"])
    v["area_side_m"] = np.where(empty["area_side_m"], 0.0, v["area_side_m"])
    v["z0_m"] = np.where(empty["z0_m"], DEFAULT_Z0_M, v["z0_m"])
    notes = alias_notes
    ext = _source_ranges(v, ids, problems, notes, allow_extrapolation=allow_extrapolation)
    case = _texts(df, "case_id", problems, what="een zaak-id") if "case_id" in df.columns else None
    _check_duplicates(ids, case, "source_id", problems)
    if not usable:
        return None
    return SourceTable(ids, *(v[c] for c in SourceTable.NUMBER_COLUMNS), geoms, case, ext, notes)


def _source_numbers(df, problems, has_geom):
    """Parse every number column of the sources table: (values, empty masks)."""
    v, empty = {}, {}
    for c in SourceTable.NUMBER_COLUMNS:
        required = ~has_geom if c in ("x", "y") else c in SOURCE_REQUIRED
        v[c], empty[c] = _numbers(df, c, problems, required=required, unit=_unit(c))
    return v, empty


def _source_ranges(v, ids, problems, notes, *, allow_extrapolation):
    """Calibrated ranges (RangeError, or notes with extrapolation); True where outside."""
    ext = np.zeros(len(ids), dtype=bool)
    h = v["height_m"]
    if allow_extrapolation:  # the tables run in ln(height): 0 m has no value to extrapolate to
        p = np.flatnonzero(h == 0)
        problems.add(p, "height_m", h[p], "m is ook met --allow-extrapolation niet te berekenen "
                     "(het model rekent met de logaritme van de hoogte)",
                     f"een hoogte groter dan 0 m (de kleinste gekalibreerde is "
                     f"{_nl(CALIBRATED_RANGES['height_m'][0])} m)", cls=RangeError)
        h = np.where(h == 0, np.nan, h)
    for c in ("height_m", "heat_mw", "z0_m", "spread_m", "area_side_m"):
        extra = ((v[c] > h) & (h >= 0)) if c == "spread_m" else None
        val = h if c == "height_m" else v[c]
        ext |= _check_calibrated(np.where(val >= 0, val, np.nan), c, problems, notes, ids,
                                 allow_extrapolation=allow_extrapolation, extra_bad=extra,
                                 extra_text=", en niet meer dan height_m" if c == "spread_m" else "")
    return ext


def _unit(column):
    return {"heat_mw": "MW", "nox_kg_yr": "kg/jaar", "nh3_kg_yr": "kg/jaar"}.get(column, "m")


#: How far [m] a point given beside a geometry may lie outside the geometry's bounding box
#: (rounding of exported coordinates).
GEOMETRY_POINT_TOLERANCE_M = 1.0


def _check_geometry_rows(has_geom, v, empty, problems, geoms):
    """With geometry_wkt the geometry gives the location and the shape. An x, y beside it (the
    emissions output's x_m, y_m, AERIUS's source lists) is accepted when it lies within the
    geometry's extent, and not used; one outside it, or half a point, is refused (which of
    the two is meant?). Side and end must be empty."""
    inside = np.zeros(len(has_geom), dtype=bool)
    both = ~empty["x"] & ~empty["y"]
    for i in np.flatnonzero(has_geom & both):
        g = geoms[i]
        if g is None or not (np.isfinite(v["x"][i]) and np.isfinite(v["y"][i])):
            continue
        c = _geometry_vertices(g)
        t = GEOMETRY_POINT_TOLERANCE_M
        inside[i] = (c[:, 0].min() - t <= v["x"][i] <= c[:, 0].max() + t
                     and c[:, 1].min() - t <= v["y"][i] <= c[:, 1].max() + t)
    for c in ("x", "y"):
        p = np.flatnonzero(has_geom & ~empty[c] & ~inside)
        problems.add(p, c, v[c][p], "is ingevuld naast geometry_wkt en ligt niet binnen die geometrie",
                     "een lege cel, of een punt (x en y) binnen de geometrie (de geometrie geeft "
                     "de ligging en de vorm)")
    for c in ("x_end", "y_end", "area_side_m"):
        clash = has_geom & ~empty[c]
        if c == "area_side_m":
            clash &= v[c] != 0
        p = np.flatnonzero(clash)
        problems.add(p, c, v[c][p], "is ingevuld naast geometry_wkt",
                     "een lege cel (de geometrie geeft de ligging en de vorm)")


def _check_lines(v, empty, has_geom, problems):
    for c, other in (("x_end", "y_end"), ("y_end", "x_end")):
        p = np.flatnonzero(~empty[c] & empty[other] & ~has_geom)
        problems.add(p, other, "", f"ontbreekt ({c} is ingevuld)",
                     "voor een lijnbron zowel x_end als y_end, of geen van beide")
    line = ~empty["x_end"] & ~empty["y_end"] & ~has_geom
    side = np.where(empty["area_side_m"], 0.0, v["area_side_m"])
    p = np.flatnonzero(line & (side > 0))
    problems.add(p, "area_side_m", side[p], "is ingevuld bij een lijnbron (x_end, y_end)",
                 "0 of leeg als x_end en y_end zijn ingevuld")
    zero = line & (v["x_end"] == v["x"]) & (v["y_end"] == v["y"])
    p = np.flatnonzero(zero)
    problems.add(p, "x_end", v["x_end"][p], "geeft een lijn met lengte 0 (x_end, y_end = x, y)",
                 "een eindpunt dat van het beginpunt verschilt")


def _check_duplicates(ids, case, column, problems):
    key = pd.Series(ids) if case is None else pd.Series(case) + "\x00" + pd.Series(ids)
    dup = (key.duplicated(keep="first") & (pd.Series(ids) != "")).to_numpy(dtype=bool)
    if not dup.any():
        return
    first = pd.Series(np.arange(len(key))).groupby(key.to_numpy()).transform("min").to_numpy()
    scope = " binnen de zaak" if case is not None else ""
    for i in np.flatnonzero(dup):
        problems.add([i], column, [ids[i]],
                     f"komt dubbel voor{scope} (eerst in rij {first[i] + 2})",
                     f"een unieke {column}{scope}")


# ----------------------------------------------------------------- receptors

#: Other names of the receptor terrain columns: those of ``calc``'s receptor reader
#: (:data:`stikstofcalc.geo.receptors.RECEPTOR_COLUMNS`, any capitals), so one file means
#: the same in both.
RECEPTOR_ALIASES = {alias: name for name in _TERRAIN_COLUMNS for alias in _RECEPTOR_NAMES[name]}


def _alias_receptors(df, problems):
    """Receptor terrain columns under another name (any capitals) renamed to this format's
    names; a column given under two names is an error (which one would win is not clear)."""
    rename = {}
    for c in df.columns:
        target = RECEPTOR_ALIASES.get(str(c).strip().lower())
        if target is not None and c != target:
            rename[c] = target
    for target in set(rename.values()):
        names = [str(c) for c, t in rename.items() if t == target] + ([target] if target in df.columns else [])
        if len(names) > 1:
            problems.table_error(f"de kolommen {', '.join(map(repr, names))} geven allebei {target}",
                                 f"één kolom {target}", field=target)
            rename = {c: t for c, t in rename.items() if t != target}  # no duplicate columns
    return df.rename(columns=rename) if rename else df


def _parse_receptors(df, problems):
    df = _alias_receptors(df, problems)
    usable = _check_columns(df, RECEPTOR_REQUIRED, RECEPTOR_OPTIONAL, problems)
    clash = [c for c in (*OUTPUT_COLUMNS, EXTRAPOLATED_COLUMN) if c in df.columns]
    for c in clash:
        problems.table_error(f"kolom {c!r} zou door het resultaat worden overschreven",
                             "geen uitvoerkolom in de receptortabel (hernoem of verwijder de kolom)",
                             field=c)
    ids = _texts(df, "receptor_id", problems, what="een receptor-id")
    x, ex = _numbers(df, "x", problems, required=True, unit="m")
    y, ey = _numbers(df, "y", problems, required=True, unit="m")
    _check_rd(x, "x", problems, np.isfinite(x), y)
    _check_rd(y, "y", problems, np.isfinite(y))
    lu, empty = _numbers(df, "landuse", problems, required=False, unit="",
                         expected="een OPS-landgebruiksklasse 1-9")
    z0 = _numbers(df, "z0_m", problems, required=False, unit="m")[0] if "z0_m" in df.columns else None
    pct = None
    if any(c in df.columns for c in LANDUSE_PCT_COLUMNS):
        pct = np.column_stack([_numbers(df, c, problems, required=False, unit="%")[0]
                               for c in LANDUSE_PCT_COLUMNS])
    # the terrain rules of every receptor reader (calc, batch, deposition): one definition
    given_lu = lu if "landuse" in df.columns else None
    bad = np.zeros(len(lu), bool)
    for rule, positions, column, values, message, expected in terrain_violations(z0, given_lu, pct,
                                                                               LANDUSE_PCT_COLUMNS):
        problems.add(positions, column, values, message, expected)
        if rule == "class":
            bad[positions] = True
    landuse = np.where(empty | bad | np.isnan(lu), DEFAULT_LANDUSE, lu).astype(np.int64)
    case = _texts(df, "case_id", problems, what="een zaak-id") if "case_id" in df.columns else None
    _check_duplicates(ids, case, "receptor_id", problems)
    if not usable:
        return None
    own = ~(empty | bad | np.isnan(lu))
    if pct is not None:
        own |= np.isfinite(pct).any(axis=1)
    return ReceptorTable(ids, x, y, landuse, case, z0, pct, own)


def _check_cases(src, rec, sp, rp, notes):
    """case_id in both tables or in neither; every source case must have receptors."""
    if (src.case_id is None) != (rec.case_id is None):
        missing, present = (sp, rp) if src.case_id is None else (rp, sp)
        missing.table_error(
            f"geen kolom case_id, maar de tabel {present.table} heeft die wel", field="case_id",
            expected="case_id in beide tabellen (bronnen werken op de receptoren van dezelfde zaak) "
                     "of in geen van beide")
        return
    if src.case_id is None:
        return
    rec_cases = set(rec.case_id)
    for i in np.flatnonzero(~np.isin(src.case_id, list(rec_cases)) & (src.case_id != "")):
        sp.add([i], "case_id", [src.case_id[i]], "heeft geen receptoren",
               f"een case_id die ook in de tabel {rp.table} voorkomt")
    lonely = sorted(set(rec.case_id) - set(src.case_id) - {""})
    if lonely:
        notes.append(f"{len(lonely)} {'zaak' if len(lonely) == 1 else 'zaken'} met receptoren maar zonder "
                     "bronnen (depositie 0): "
                     + ", ".join(lonely[:10]) + (" ..." if len(lonely) > 10 else ""))


# ----------------------------------------------------------------- public

def check_tables(sources: pd.DataFrame, receptors: pd.DataFrame, *, sources_file=None,
                 receptors_file=None, allow_extrapolation: bool = False):
    """Validate both tables; raise every problem at once.

    Returns
    -------
    (SourceTable, ReceptorTable, notes)

    Raises
    ------
    MultipleInputErrors
        Listing every problem in either table (file, row, column, value, expected).
    """
    sp, rp = _Problems(sources_file, "bronnen"), _Problems(receptors_file, "receptoren")
    src = _parse_sources(sources, sp, allow_extrapolation=allow_extrapolation)
    rec = _parse_receptors(receptors, rp)
    notes = []
    if src is not None and rec is not None:
        _check_cases(src, rec, sp, rp, notes)
    errors = sp.finish() + rp.finish()
    if errors:
        raise MultipleInputErrors(errors)
    return src, rec, src.notes + notes


def to_arrays(src: SourceTable, rec: ReceptorTable, *,
              area_tolerance: float = geo.AREA_TOLERANCE, max_squares: int = geo.MAX_SQUARES):
    """Validated tables -> the core's arrays (geometry expanded, case ids coded).

    Returns
    -------
    (SourceArrays, ReceptorArrays, Elementary)
        The elementary sources and receptors; ``Elementary.parent`` maps each elementary
        source to its row in the sources table.
    """
    el = geo.expand(src.x, src.y, src.area_side_m, src.x_end, src.y_end, src.geometries,
                    area_tolerance=area_tolerance, max_squares=max_squares)
    p = el.parent
    s_case = r_case = None
    if src.case_id is not None and rec.case_id is not None:
        codes, _ = pd.factorize(np.concatenate([src.case_id, rec.case_id]).astype(str))
        s_case, r_case = codes[:len(src)][p], codes[len(src):]
    sa = SourceArrays(x=el.x, y=el.y, height_m=src.height_m[p], heat_mw=src.heat_mw[p],
                      nox_kg_yr=src.nox_kg_yr[p] * el.weight,
                      nh3_kg_yr=src.nh3_kg_yr[p] * el.weight,
                      spread_m=src.spread_m[p], area_side_m=el.area_side_m, x_end=el.x_end,
                      y_end=el.y_end, z0_m=src.z0_m[p], case=s_case)
    ra = ReceptorArrays(x=rec.x, y=rec.y, landuse=rec.landuse, case=r_case, z0_m=rec.z0_m,
                        lu_pct=rec.lu_pct)
    return sa, ra, el


def _cutoff_m(cutoff):
    if cutoff is True:
        return DEFAULT_CUTOFF_M
    if cutoff is False or cutoff is None:
        return None
    value = float(cutoff)
    if not value > 0:
        raise InputError(field="cutoff", value=cutoff, expected="True, False of een afstand > 0 m")
    return value


def deposition(sources: pd.DataFrame, receptors: pd.DataFrame, *, cutoff: bool | float = True,
               allow_extrapolation: bool = False, chunk_pairs: int | None = None,
               area_tolerance: float = geo.AREA_TOLERANCE, sources_file=None,
               receptors_file=None, terrain: str = "map",
               receptor_terrain: str = "hexagon") -> pd.DataFrame:
    """Deposition of a table of sources on a table of receptors [mol N/ha/yr].

    Parameters
    ----------
    sources : DataFrame
        Columns ``source_id, x, y, height_m, heat_mw, nox_kg_yr, nh3_kg_yr`` [m, m, m, MW,
        kg/yr, kg/yr] and optionally ``spread_m`` [m], ``area_side_m`` [m] (square centred
        on x, y), ``x_end, y_end`` [m] (straight line), ``z0_m`` [m] (default 0.2),
        ``case_id``, ``geometry_wkt`` (POINT, LINESTRING, POLYGON, MULTIPOLYGON in RD New).
    receptors : DataFrame
        Columns ``receptor_id, x, y`` [m] and optionally ``landuse`` (OPS class 1-9;
        empty: from the terrain), ``z0_m`` [m] (receptor roughness; empty: from the map),
        ``lu_1`` ... ``lu_9`` (land-use percentages, summing to 100; not on a row that
        gives ``landuse``) and ``case_id``, under ``calc``'s names too (``z0``, ``ruwheid``,
        ``landgebruik``, any capitals); any other columns are passed through.
    cutoff : bool or float, keyword-only
        True: sources act up to 25 km (AERIUS rekenafstand); False: no cut-off; a number:
        that distance [m].
    allow_extrapolation : bool, keyword-only
        Compute with values outside the calibrated range; the result then carries an
        ``extrapolated`` column and notes.
    chunk_pairs : int, keyword-only
        Memory bound passed to the core (source-receptor pairs at once); None = the
        core's default.
    area_tolerance : float, keyword-only
        Polygon coverage tolerance, see :func:`.geometry.polygon_squares`.
    sources_file, receptors_file : str, keyword-only
        File names used in error messages.
    terrain : {"map", "uniform"}, keyword-only
        ``"map"`` (default, as AERIUS): roughness and water along the path and at the
        receptor from the shipped 250 m roughness map (sources' ``z0_m`` not used);
        ``"uniform"``: the sources' ``z0_m`` (default 0.2 m) everywhere, grass receptors
        unless given (the engine before the terrain model).
    receptor_terrain : {"hexagon", "cell"}, keyword-only
        Receptor z0 and water share from the map: mean over 6.25 ha (a 250 m square)
        around the receptor, as AERIUS per hexagon, or the one map cell holding it.

    Returns
    -------
    DataFrame
        A copy of ``receptors`` (all columns, same order and index) plus
        ``deposition_nox_mol_ha_yr``, ``deposition_nh3_mol_ha_yr``,
        ``deposition_total_mol_ha_yr`` [mol N/ha/yr]. ``attrs["notes"]`` lists run notes;
        ``attrs["n_elementary_sources"]`` the number of elementary sources computed.

    Raises
    ------
    MultipleInputErrors
        Every problem in either table, with file, row, column, value and expected.
    """
    cutoff_m = _cutoff_m(cutoff)
    src, rec, notes = check_tables(sources, receptors, sources_file=sources_file,
                                   receptors_file=receptors_file,
                                   allow_extrapolation=allow_extrapolation)
    sa, ra, el = to_arrays(src, rec, area_tolerance=area_tolerance)
    if len(sa) and len(ra):
        kw = {} if chunk_pairs is None else {"chunk_pairs": int(chunk_pairs)}
        res = deposition_arrays(sa, ra, cutoff_m=cutoff_m, allow_extrapolation=allow_extrapolation,
                                terrain=terrain, receptor_terrain=receptor_terrain, **kw)
        nox, nh3, engine_notes = res.nox, res.nh3, list(res.notes)
        if src.extrapolated.any():  # ours name rows; the core's name elementary indices
            engine_notes = [n for n in engine_notes if not n.startswith(EXTRAPOLATED_NOTE)]
    else:
        nox = nh3 = np.zeros(len(ra))
        engine_notes = []
    out = receptors.copy()
    out[OUTPUT_COLUMNS[0]], out[OUTPUT_COLUMNS[1]] = nox, nh3
    out[OUTPUT_COLUMNS[2]] = nox + nh3
    if src.extrapolated.any():
        out[EXTRAPOLATED_COLUMN] = _extrapolated_receptors(src, rec)
    notes = notes + terrain_notes(terrain, receptor_terrain, "z0_m" in sources.columns,
                                  rec)
    out.attrs = {"notes": notes + [n for n in engine_notes if n not in notes],
                 "n_sources": len(src), "n_elementary_sources": len(sa),
                 "cutoff_m": cutoff_m, "terrain": terrain_description(terrain, receptor_terrain)}
    return out


def terrain_description(terrain: str, receptor_terrain: str = "hexagon") -> dict:
    """What terrain a result was computed with (for provenance)."""
    if terrain == "uniform":
        return {"terrain": "uniform", "z0": "the sources' z0_m (default 0.2 m) at source, "
                "along the path and at the receptor", "landuse": "given, else grass (class 1)"}
    return {"terrain": "map", "map": terrain_info(), "terrain_model": terrain_model_info(),
            "receptor": ("z0 and water share: mean over the 250 m square (6.25 ha) around the "
                         "receptor, as AERIUS per hexagon" if receptor_terrain == "hexagon"
                         else "z0 and water of the 250 m map cell holding the receptor"),
            "landuse": "given (lu_1..lu_9, landuse), else from the map: water (class 6) where "
                       "the map z0 <= 1 mm, grass (class 1) elsewhere (no land-use map)"}


def terrain_notes(terrain, receptor_terrain, sources_have_z0, rec) -> list:
    if terrain == "uniform":
        return ["terrein: uniform (overal de z0_m van de bronnen; receptoren in gras tenzij opgegeven)"]
    own = getattr(rec, "landuse_given", None)
    n_own, n = (int(np.sum(own)), len(own)) if own is not None else (0, None)
    if n is not None and n_own == n:
        lu = "landgebruik van de receptoren: opgegeven (bij alle receptoren)"
    else:
        lu = ((f"landgebruik van de receptor: opgegeven bij {n_own} van de {n}; bij de overige, "
               if n_own else "landgebruik van de receptor (niet opgegeven, er is geen "
               "landgebruikskaart): ")
              + "water (klasse 6) waar de kaart open water toont, anders gras")
    out = ["terrein: ruwheidskaart van 250 m z0_jr_250_lgn7 (RIVM, uit LGN7, CC BY-SA 4.0) bij de "
           f"bron, langs elk pad en bij de receptor; {lu}"]
    if sources_have_z0:
        out.append("de z0_m van de bronnen wordt met de ruwheidskaart niet gebruikt (met --terrain "
                   "uniform wel)")
    z0 = getattr(rec, "z0_m", None)
    if z0 is not None:
        out.extend(z0_range_notes(z0, "receptor(en)"))
    return out


def z0_model_range() -> tuple[float, float]:
    """The receptor z0 [m] the terrain model's receptor factor spans (its knots; the map's
    own range): a z0 beyond it is computed at the nearest end."""
    knots = load_terrain_model().TA_Z
    return float(knots[0]), float(knots[-1])


def z0_range_notes(z0, noun: str, *, warning: str = "") -> list:
    """The notes on given receptor z0 values outside :func:`z0_model_range` (``noun``:
    "receptor(en)", "hexagon(s)"); one text for deposition, calc and batch. ``warning``
    starts the note on z0 above the range (the deposition may be too low there); the
    ``deposition`` command adds its own "let op:" to every note."""
    z0 = np.asarray(z0, float)
    lo, hi = z0_model_range()
    above, below = int(np.sum(z0 > hi)), int(np.sum(z0 < lo))
    out = []
    if above:
        out.append(f"{warning}z0_m boven {_nl(hi)} m bij {above} {noun} gerekend als {_nl(hi)} m (het terreinmodel en "
                   "de ruwheidskaart van OPS reiken tot daar); bij een ruwer oppervlak kan de depositie hoger "
                   "zijn dan berekend")
    if below:
        out.append(f"z0_m onder {_nl(lo)} m bij {below} {noun} gerekend als {_nl(lo)} m (de ondergrens van "
                   "het terreinmodel, zoals voor water op de kaart)")
    return out


def _extrapolated_receptors(src, rec):
    """Receptors in a case (or run) that contains a source computed by extrapolation."""
    if src.case_id is None:
        return np.ones(len(rec), dtype=bool)
    return np.isin(rec.case_id, list(set(src.case_id[src.extrapolated])))
