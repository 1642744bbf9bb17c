"""Assess any source list: a sources CSV/Excel or IMAER GML files -> verdict per phase and year.

An omgevingsdienst receives AERIUS files and source lists, not key figures. This module
turns them into the emission tables the assessment works on
(:func:`stikstofcalc.assessment.core._assess_tables_steps`), so they get the full report: the
largest deposition per phase and year, where, hexagons at or above the threshold, the
verdict, the margin, the headroom in kg NOx and NH3 and the effect distance.

Inputs (``docs/assessment.md``, "Source lists"):

- a sources table in the ``deposition`` format (``source_id, x, y, height_m, heat_mw,
  nox_kg_yr, nh3_kg_yr``, optional ``spread_m, area_side_m, x_end, y_end, geometry_wkt,
  case_id``) plus optional ``phase`` (realisatie / gebruik / referentie, or AERIUS's
  TEMPORARY / PROPOSED / REFERENCE), ``year`` and ``sector_id``. The names of the
  ``emissions`` output (``nox_kg_per_yr``, ``nh3_kg_per_yr``, ``x_m``, ``y_m``, ``case``,
  ``docs/nomenclature.md``) are accepted as aliases, so its output feeds this path
  directly. Missing characteristics come from the sector's defaults (machinery heat
  content by the ``--werktuig-warmte`` choice), else 5 m / 0 MW / 2.5 m (noted);
- IMAER GML files (any version the reader takes): each file one situation, TEMPORARY as
  realisatiefase, PROPOSED as gebruiksfase, REFERENCE shown as the reference situation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc.deposition.api import SOURCE_ALIASES, SOURCE_OPTIONAL, SOURCE_REQUIRED, check_tables, number_cells
from stikstofcalc.deposition.arrays import CALIBRATED_RANGES
from stikstofcalc.errors import ImaerFileError, InputError, MultipleInputErrors, RangeError
from stikstofcalc.emissions.sources import (FALLBACK_CHARACTERISTICS, Templates,
    apply_machinery_heat, in_netherlands, machinery_heat_choice, other_machinery_heat)
from stikstofcalc.io.tables import read_table
from stikstofcalc.emissions.inventory import internal_source_kind
from stikstofcalc.kengetallen import load
from stikstofcalc.io.imaer.reader import read_gml
from stikstofcalc.geo.geometry import Elementary, expand, parse_wkt
from stikstofcalc import kengetallen as _kg, ranges, rules
from stikstofcalc.assessment.core import (GEOMETRY_NL, SENSITIVITY, SOURCE_GROUP_PREFIX, assess_tables_steps,
                                          drive)

#: Column aliases -> the ``deposition`` format's name: the emission table's names (the
#: ``deposition`` reader's own :data:`~stikstofcalc.deposition.api.SOURCE_ALIASES`) and Dutch.
ALIASES = {**SOURCE_ALIASES, "case": "case_id", "fase": "phase", "jaar": "year", "sector": "sector_id"}
#: Phase names accepted in a source list (lower case) -> the assessment's phase.
PHASES = {"realisatie": "realisatie", "realisatiefase": "realisatie", "temporary": "realisatie",
          "bouw": "realisatie", "bouwfase": "realisatie",
          "gebruik": "gebruik", "gebruiksfase": "gebruik", "proposed": "gebruik",
          "referentie": "referentie", "referentiesituatie": "referentie", "reference": "referentie"}
#: IMAER situation types -> phase.
SITUATION_PHASE = {"TEMPORARY": "realisatie", "PROPOSED": "gebruik", "REFERENCE": "referentie"}
#: Emission-table columns the assessment reads, with the value of a source-list row.
#: Origin of a characteristic taken from the fallback for a sector without defaults.
FALLBACK_ORIGIN = "terugval (sector 4110)"
_FILL = {"source_kind": "bron", "category": "", "component": None, "hours_h": np.nan,
         "vehicles_per_year": np.nan, "gas_m3": np.nan, "uses_estimate": False, "provenance": ""}


@dataclass
class SourceList:
    """Sources read from a file, as emission-table rows (one case or many).

    Attributes
    ----------
    table : DataFrame
        ``case, source_id, phase, year, sector_id, label, geometry_wkt, height_m, heat_mw,
        spread_m, heat_given, nox_kg_per_yr, nh3_kg_per_yr`` and the emission table's
        columns the assessment reads (``source_kind``, ``category``, ...). ``heat_mw`` is
        NaN where neither the file nor a sector default gives it yet (filled by
        :func:`fill_characteristics`).
    files : list of str
    notes : list of str
    case_notes : dict of case -> list of str
    """

    table: pd.DataFrame
    files: list
    notes: list = field(default_factory=list)
    #: notes of one case only (a case's own sources: "1 bron(nen) zonder height_m ...")
    case_notes: dict = field(default_factory=dict)

    @property
    def cases(self) -> list:
        return list(dict.fromkeys(self.table["case"].tolist()))


#: Columns of which one marks a table as a source list (after the aliases): a table with
#: a source id or a geometry but without an emission column is a source list with a
#: missing column (said so by the reader), not a project file.
SOURCE_MARKERS = frozenset({"source_id", "geometry_wkt", "nox_kg_yr", "nh3_kg_yr"})


def is_source_file(path, *, unreadable: bool = False) -> bool:
    """Whether ``path`` is read by this module (not a project TOML or a batch workbook).

    A CSV or Excel table is one if it has a column of :data:`SOURCE_MARKERS`; one that
    cannot be read as a table at all counts as ``unreadable`` (``calc``, which takes no
    other tables, passes True so that the reader says what is wrong with it)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".gml", ".xml"):
        return True
    if suffix not in (".csv", ".xlsx"):
        return False
    try:
        cols = {ALIASES.get(str(c).strip().lower(), str(c).strip().lower()) for c in read_table(p).columns}
    except InputError:
        return unreadable and p.is_file()
    return bool(SOURCE_MARKERS & cols)


def read_source_files(paths, *, default_year: int | None = None) -> SourceList:
    """Read one source table (CSV/Excel) or one or more IMAER GML files.

    Parameters
    ----------
    paths : path or sequence of paths
    default_year : int, optional
        Calendar year of rows without one (default: the current year; noted).

    Raises
    ------
    MultipleInputErrors
        Every problem, with file, row, column, value and what was expected.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    gml = [p for p in paths if Path(p).suffix.lower() in (".gml", ".xml")]
    if gml and len(gml) != len(paths):
        raise InputError("GML-bestanden en een bronnentabel kunnen niet samen", field="FILE",
                         value=", ".join(map(str, paths)), expected="IMAER-GML-bestanden, of één CSV/Excel")
    if gml:
        return _read_imaer(gml)
    if len(paths) != 1:
        raise InputError("maar één bronnentabel per berekening", field="FILE", value=", ".join(map(str, paths)),
                         expected="één CSV- of Excel-bestand (meer zaken: een kolom case_id)")
    return _read_table(paths[0], default_year=default_year)


# --------------------------------------------------------------------------- tables


def _text(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def read_source_table_cases(path, *, default_year=None) -> tuple[SourceList | None, list, list]:
    """A source table whose invalid cases are left out (for ``batch``).

    Returns
    -------
    (SourceList or None, errors, invalid_cases)
        The valid cases; every problem (InputError with row and field); the case ids
        with a problem. Problems that belong to no row (a missing column) make every
        case invalid.
    """
    raw = read_table(path)
    try:
        return _read_frame(raw, str(path), default_year=default_year), [], []
    except MultipleInputErrors as exc:
        errors = list(exc.errors)
    cases = raw_cases(raw, str(path))
    rows = [e.row for e in errors]
    if any(not isinstance(r, int) or not 2 <= r < len(raw) + 2 for r in rows):
        return None, errors, list(dict.fromkeys(cases))
    bad = list(dict.fromkeys(cases[r - 2] for r in rows))
    keep = ~np.isin(cases, bad)
    if not keep.any():
        return None, errors, bad
    part = raw[keep].reset_index(drop=True)
    part.attrs = dict(raw.attrs)
    return _read_frame(part, str(path), default_year=default_year), errors, bad


def _case_spellings(ids, file) -> list:
    """Case ids that differ only in capitals or inner spaces ('Zaak-12', 'zaak-12'): one
    project split in two cases, each below the threshold where together they are not
    (review); refused naming every row of the other spellings, as the batch's workbooks do."""
    spellings: dict = {}
    for i, c in enumerate(ids):
        if c:
            spellings.setdefault(" ".join(c.split()).casefold(), {}).setdefault(c, i)
    out = []
    for i, c in enumerate(ids):  # every row of every spelling: each of those cases is invalid
        group = spellings.get(" ".join(c.split()).casefold(), {}) if c else {}
        if len(group) > 1:
            other = next(o for o in group if o != c)
            out.append(InputError(f"zaak-id {c!r} verschilt alleen in hoofdletters of spaties van {other!r} "
                                  f"(rij {group[other] + 2})", file=file, row=i + 2, field="case_id", value=c,
                                  expected="één schrijfwijze per zaak: de bronnen van één project onder "
                                           "één zaak-id, verschillende projecten onder duidelijk andere"))
    return out


def raw_cases(raw, file):
    col = next((c for c in raw.columns if ALIASES.get(str(c).strip().lower(), str(c).strip().lower()) == "case_id"),
               None)
    if col is None:
        return np.full(len(raw), Path(file).stem, object)
    return np.array([_text(v) or Path(file).stem for v in raw[col]], object)


def _read_table(path, *, default_year=None) -> SourceList:
    return _read_frame(read_table(path), str(path), default_year=default_year)


def _read_frame(raw, file, *, default_year=None) -> SourceList:
    attrs = dict(raw.attrs)
    errors, notes = [], []
    rename = {}
    cols = [str(c) for c in raw.columns]
    for c in cols:
        key = c.strip().lower()
        target = ALIASES.get(key, key)
        if target != c:
            if target in cols:
                errors.append(InputError(f"kolommen {c!r} en {target!r} allebei opgegeven", file=file,
                                         field=c, expected="een van beide (ze betekenen hetzelfde)"))
            rename[c] = target
    df = raw.rename(columns=rename)
    df.attrs = attrs
    n = len(df)
    if n == 0:  # a header only: no answer would be given (nor a wrong 0,00)
        raise MultipleInputErrors([InputError("de bronnenlijst heeft geen bronnen (alleen een kopregel)",
                                              file=file, expected="minstens één rij met een bron")], file=file)
    if "source_id" not in df:  # the emissions output has no source id: the row number
        df["source_id"] = [f"rij {i + 2}" for i in range(n)]
        notes.append("geen kolom source_id: bronnen genoemd naar hun rij")
    # geometry gives the location: an x, y beside it (the emissions output's x_m, y_m, AERIUS's
    # source lists) is accepted within the geometry's extent and refused outside it, by the
    # table check of `deposition` (deposition.api._check_geometry_rows)
    sector = _ints(df, "sector_id", file, errors)
    phase = _phases(df, file, errors, notes)
    year = _years(df, file, errors, default_year, notes)
    heat_given = np.array([_text(v) != "" for v in df["heat_mw"]], bool) if "heat_mw" in df else np.zeros(n, bool)
    filled = _fill_defaults(df, sector, attrs.get("decimal", "."))
    keep = [c for c in df.columns if c in SOURCE_REQUIRED or c in SOURCE_OPTIONAL]
    dep = df[keep].copy()
    dep.attrs = attrs
    # source ids are unique per case, phase and year (one machine over several years keeps
    # its id): the table check sees that triple as its case, with one stand-in receptor
    # each (only the sources are validated here); an empty case_id is reported here, once
    given = [_text(v) for v in dep["case_id"]] if "case_id" in dep else [""] * n
    for i in (k for k, c in enumerate(given) if c == "" and "case_id" in dep):
        errors.append(InputError("ontbreekt", file=file, row=i + 2, field="case_id", expected="een zaak-id"))
    errors.extend(_case_spellings(given, file))
    dep["case_id"] = [f"{c}\x1f{p}\x1f{y}" for c, p, y in zip(given, phase, year)]
    cases = list(dict.fromkeys(dep["case_id"]))
    receptor = pd.DataFrame({"receptor_id": [f"r{i}" for i in range(len(cases))],
                             "x": ["155000"] * len(cases), "y": ["463000"] * len(cases),
                             "case_id": cases})
    try:  # the calibrated ranges here, per row (the engine would refuse them later by index)
        src, _, _ = check_tables(dep, receptor, sources_file=file, allow_extrapolation=False)
    except MultipleInputErrors as exc:
        errors.extend(_range_error_here(e) for e in exc.errors)
        src = None
    activity = {}  # the emissions output's activity columns, read by the file's number rules
    for c in ("hours_h", "vehicles_per_year", "gas_m3"):
        if c in df:
            frame = pd.DataFrame({c: df[c].to_numpy(object)})
            frame.attrs = attrs
            try:
                activity[c] = number_cells(frame, c, file=file, expected="een getal (activiteit)")
            except MultipleInputErrors as exc:  # with the others: the batch drops only those cases
                errors.extend(exc.errors)
    if errors:
        sheet = attrs.get("sheet")
        raise MultipleInputErrors([_on_sheet(e, sheet) for e in errors] if sheet else errors, file=file)
    case = raw_cases(df, file)
    wkt = [_geometry_text(src, i, _text(df["geometry_wkt"].iloc[i]) if "geometry_wkt" in df else "")
           for i in range(n)]
    label = (df["label"].map(_text).to_numpy(object) if "label" in df
             else np.asarray(src.source_id, object))
    table = pd.DataFrame({
        "case": case, "source_id": np.asarray(src.source_id, object), "phase": phase, "year": year,
        "sector_id": sector, "label": label, "geometry_wkt": wkt,
        "height_m": src.height_m, "spread_m": src.spread_m,
        # an empty heat cell held a placeholder for the checks: the sector default (or the
        # machinery choice) is filled in by fill_characteristics, as for IMAER sources
        "heat_mw": np.where(heat_given, np.asarray(src.heat_mw, float), np.nan),
        "heat_given": heat_given, "nox_kg_per_yr": src.nox_kg_yr, "nh3_kg_per_yr": src.nh3_kg_yr})
    for col in ("height_m", "spread_m"):  # where the read filled a cell from the sector
        origin = np.full(n, "", object)
        for i, c, sec in filled:
            if c == col:
                origin[i] = f"sector {sec}" if sec is not None else FALLBACK_ORIGIN
        table[f"_origin_{col}"] = origin
    for c, v in _FILL.items():  # the emissions output's own columns are kept
        if c in df and c not in ("uses_estimate",):
            table[c] = df[c].map(lambda x: x if _text(x) != "" else v).to_numpy(object)
        else:
            table[c] = v
    if "uses_estimate" in df:
        table["uses_estimate"] = [(_text(v).lower() in ("true", "1", "ja", "waar")) for v in df["uses_estimate"]]
    for c in ("hours_h", "vehicles_per_year", "gas_m3"):
        table[c] = activity[c] if c in activity else pd.to_numeric(table[c], errors="coerce")
    table["uses_estimate"] = table["uses_estimate"].astype(bool)
    if "source_kind" in df:  # emissions output: machinery keeps its kind (group names, sensitivity)

        table["source_kind"] = table["source_kind"].map(internal_source_kind)  # "werktuig" as well
        table["heat_given"] &= table["source_kind"].to_numpy(object) != "machinery"
    case_notes = {c: _filled_notes([f for f in filled if case[f[0]] == c]) for c in dict.fromkeys(case)}
    return SourceList(table, [file], notes + src.notes, {c: v for c, v in case_notes.items() if v})


#: What a user can do with a source outside the calibrated range (calc and batch compute
#: only within it; the `deposition` command has --allow-extrapolation for exploring).
OUT_OF_RANGE_ADVICE = ("stikstofcalc rekent een voortoets alleen binnen dit bereik; reken deze bron "
                       "door in AERIUS Calculator")


def _on_sheet(e, sheet):
    """``e`` with the sheet it was found on (an Excel source list), if it names a row."""
    if e.sheet is not None or e.row is None:
        return e
    return type(e)(e.message, file=e.file, case=e.case, sheet=sheet, row=e.row, field=e.field,
                   value=e.value, expected=e.expected, detail=e.detail)


def _range_error_here(e):
    """A calibrated-range error of the table check, with advice that fits calc and batch;
    a duplicate id, with the scope it has here (case, phase and year)."""
    if e.field == "source_id" and "binnen de zaak" in (e.message or ""):
        scope = "binnen dezelfde zaak, fase en jaar"
        return InputError(e.message.replace("binnen de zaak", scope), file=e.file, row=e.row, field=e.field,
                          value=e.value, expected=f"een unieke source_id {scope}")
    if not isinstance(e, RangeError):
        return e
    return RangeError(e.message, file=e.file, case=e.case, sheet=e.sheet, row=e.row, field=e.field,
                      value=e.value, expected=e.expected, detail=OUT_OF_RANGE_ADVICE)


def _ints(df, col, file, errors):
    out = np.zeros(len(df), np.int64)
    if col not in df:
        return out
    for i, v in enumerate(df[col].tolist()):
        t = _text(v)
        if t == "":
            continue
        try:
            f = float(t.replace(",", "."))
            if not np.isfinite(f) or f != int(f) or f < 0:
                raise ValueError
            out[i] = int(f)
        except (ValueError, OverflowError):
            errors.append(InputError(f"sector {t!r} is geen AERIUS-sectornummer", file=file, row=i + 2,
                                     field=col, value=t, expected="een geheel getal zoals 3220"))
    return out


#: Note on the phase a source list without one gets (the conservative one: it is never exempt).
_PHASE_DEFAULT_NOTE = ("beoordeeld als gebruiksfase (die is nooit vrijgesteld); geef phase = realisatie "
                       "voor de bronnen van de bouw")


def _phases(df, file, errors, notes):
    n = len(df)
    if "phase" not in df:
        notes.append(f"geen kolom phase: alle bronnen {_PHASE_DEFAULT_NOTE}")
        return np.full(n, "gebruik", object)
    out = np.empty(n, object)
    empty = 0
    for i, v in enumerate(df["phase"].tolist()):
        t = _text(v).lower()
        if t == "":
            out[i] = "gebruik"
            empty += 1
        elif t in PHASES:
            out[i] = PHASES[t]
        else:
            errors.append(InputError(f"onbekende fase {v!r}", file=file, row=i + 2, field="phase", value=v,
                                     expected="realisatie, gebruik of referentie (of TEMPORARY, PROPOSED, "
                                              "REFERENCE)"))
            out[i] = "gebruik"
    if empty:
        notes.append(f"{empty} bron(nen) zonder fase: {_PHASE_DEFAULT_NOTE}")
    return out


def _years(df, file, errors, default_year, notes):
    n = len(df)
    default = int(default_year or dt.date.today().year)
    if "year" not in df:
        notes.append(f"geen kolom year: alle bronnen in rekenjaar {default}")
        return np.full(n, default, np.int64)
    out = np.full(n, default, np.int64)
    missing = 0
    for i, v in enumerate(df["year"].tolist()):
        t = _text(v)
        if t == "":
            missing += 1
            continue
        rng = ranges.RANGES["year"]
        try:
            f = float(t.replace(",", "."))
            if not np.isfinite(f) or f != int(f):
                raise ValueError
        except (ValueError, OverflowError):
            errors.append(InputError(f"{t!r} is geen kalenderjaar", file=file, row=i + 2, field="year",
                                     value=t, expected=f"{rng.describe()}, bijv. 2028"))
            continue
        try:
            out[i] = int(ranges.check("year", f, field="year", shown=int(f)))
        except RangeError as exc:  # the one range message, with where it was found
            exc.file, exc.row = file, i + 2
            errors.append(exc)
    if missing:
        notes.append(f"{missing} bron(nen) zonder jaar: rekenjaar {default}")
    return out


def _fill_defaults(df, sector, decimal) -> list:
    """Empty ``height_m``/``spread_m`` cells from the sector's defaults (text, as typed);
    ``heat_mw`` empty: a placeholder 0 (the real value is set by :func:`fill_characteristics`).
    Returns the cells filled, ``(row, column, sector or None for the fallback)``, for the
    notes of each case (:func:`_filled_notes`: the docs promise "noted")."""
    kg = load()
    n = len(df)
    filled = []
    for col, q, fallback in (("height_m", "height", FALLBACK_CHARACTERISTICS[0]),
                             ("heat_mw", None, 0.0),
                             ("spread_m", "spread", None)):
        if col not in df:
            if col == "spread_m":
                df[col] = [""] * n
            else:
                df[col] = [""] * n
        vals = df[col].tolist()
        for i in range(n):
            if _text(vals[i]) != "":
                continue
            fig = kg.figure("source_characteristics", int(sector[i]), q, required=False) if q else None
            v = fig.value if fig is not None else fallback
            if v is None:  # spread: sector default or the fallback's, at most the height
                v = FALLBACK_CHARACTERISTICS[2]
            if q is not None:
                filled.append((i, col, int(sector[i]) if fig is not None else None))
            text = repr(float(v))
            vals[i] = text.replace(".", ",") if decimal == "," else text
        df[col] = vals
    return filled


def _filled_notes(filled) -> list:
    """The notes on the cells :func:`_fill_defaults` filled (of one case): per column and
    sector the sources that got the sector's value, and the sources that got the fallback."""
    notes = []
    word = {"height_m": "hoogte", "spread_m": "spreiding"}
    fallback = {"height_m": FALLBACK_CHARACTERISTICS[0], "spread_m": FALLBACK_CHARACTERISTICS[2]}
    by: dict = {}
    for i, col, sec in filled:
        by.setdefault((col, sec), set()).add(i)
    for (col, sec), rows in by.items():
        if sec is not None:
            notes.append(f"{len(rows)} bron(nen) zonder {col}: de {word[col]} van sector {sec} uit de kengetallen")
        else:
            notes.append(f"{len(rows)} bron(nen) zonder {col} in een sector zonder standaard: {word[col]} "
                         f"{_nl_number(fallback[col])} m aangenomen (AERIUS-standaard van sector 4110)")
    return notes


def _geometry_text(src, i, given):
    if given:
        return given
    x, y = float(src.x[i]), float(src.y[i])
    if np.isfinite(src.x_end[i]):
        return f"LINESTRING ({x!r} {y!r}, {float(src.x_end[i])!r} {float(src.y_end[i])!r})"
    a = float(src.area_side_m[i])
    if a > 0:
        h = a / 2
        ring = [(x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h), (x - h, y - h)]
        return "POLYGON ((" + ", ".join(f"{p!r} {q!r}" for p, q in ring) + "))"
    return f"POINT ({x!r} {y!r})"


# --------------------------------------------------------------------------- IMAER


def _read_imaer(paths) -> SourceList:
    rows, errors, notes, files = [], [], [], []
    case = None
    seen = {}
    for path in paths:
        files.append(str(path))
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest() if Path(path).is_file() else None
        if digest is not None and digest in seen:  # the same sources twice would be added up
            errors.append(InputError(f"hetzelfde bestand als {seen[digest]} (de bronnen zouden dubbel tellen)",
                                     file=str(path), field="FILE", value=str(path),
                                     expected="elk IMAER-bestand één keer"))
            continue
        if digest is not None:
            seen[digest] = str(path)
        try:
            sit = read_gml(path)
        except ImaerFileError as exc:
            errors.append(exc)
            continue
        st = (sit.situation_type or "").upper()
        phase = SITUATION_PHASE.get(st)
        if phase is None:
            errors.append(InputError(f"situatietype {sit.situation_type!r} wordt niet beoordeeld",
                                     file=str(path), field="situationType", value=sit.situation_type,
                                     expected="TEMPORARY (realisatiefase), PROPOSED (gebruiksfase) of "
                                              "REFERENCE (referentie)"))
            continue
        case = case or sit.project_name or Path(path).stem
        for s in sit.sources:
            if s.nox <= 0 and s.nh3 <= 0:
                continue
            parts, part_notes = _source_parts(s)
            notes.extend(f"{Path(path).name}: {n}" for n in part_notes)
            for suffix, label, (h, q, sp), (nox, nh3) in parts:
                rows.append({"case": case, "source_id": f"{Path(path).stem}:{s.gml_id}{suffix}",
                             "phase": phase, "year": int(sit.year), "sector_id": int(s.sector_id or 0),
                             "label": label, "geometry_wkt": s.wkt,
                             "height_m": np.nan if h is None else float(h),
                             "heat_mw": np.nan if q is None else float(q),
                             "spread_m": np.nan if sp is None else float(sp),
                             "heat_given": q is not None,
                             "nox_kg_per_yr": nox, "nh3_kg_per_yr": nh3,
                             "provenance": f"IMAER {sit.version} {Path(path).name} {s.gml_id}{suffix} "
                                           f"({sit.situation_type}, {sit.aerius_version or 'AERIUS ?'})"})
        notes.append(f"{Path(path).name}: {sit.situation_type} {sit.year} -> {phase}, "
                     f"{len(sit.sources)} bron(nen)")
    if errors:
        raise MultipleInputErrors(errors)
    _note_summed_situations(rows, notes)
    table = pd.DataFrame(rows, columns=["case", "source_id", "phase", "year", "sector_id", "label",
                                        "geometry_wkt", "height_m", "heat_mw", "spread_m", "heat_given",
                                        "nox_kg_per_yr", "nh3_kg_per_yr", "provenance"])
    for c, v in _FILL.items():
        if c not in table:
            table[c] = v
    table["heat_given"] = table["heat_given"].astype(bool)
    return SourceList(table, files, notes)


def _source_parts(s) -> tuple[list, list]:
    """The rows one IMAER source gives: ``(suffix, label, (height, heat, spread), (nox, nh3))``.

    A Custom machine (``CustomOffRoadMobileSource``) that states its own characteristics is a
    source of its own with those characteristics and its own emission, as the file defines
    it; the rest of the source (Standard machines, Custom ones without characteristics)
    keeps the source's characteristics (or the sector defaults) and the source's emission
    minus the split-off machines'. Before, a mixed source took the source's (or the sector's)
    characteristics for all of its emission, and a source of only Custom machines the first
    machine's, so a machine's own height and heat were dropped without a word.
    """
    label = s.label or s.gml_id
    own = [m for m in s.machines if m.kind == "custom"
           and (m.height_m is not None or m.heat_mw is not None or m.spread_m is not None)]
    whole = [("", label, (s.height_m, s.heat_mw, s.spread_m), (s.nox, s.nh3))]
    if not own:
        return whole, []
    parts, notes = [], []
    nox, nh3 = s.nox, s.nh3
    for k, m in enumerate(own, 1):
        m_nox, m_nh3 = float(m.emissions.get("NOX", 0.0)), float(m.emissions.get("NH3", 0.0))
        nox, nh3 = nox - m_nox, nh3 - m_nh3
        if m_nox <= 0 and m_nh3 <= 0:
            continue
        name = m.description or f"werktuig {k}"
        parts.append((f"#werktuig{k}", f"{label} - {name}", (m.height_m, m.heat_mw, m.spread_m),
                      (m_nox, m_nh3)))
    tol = 1e-6 * max(abs(s.nox), abs(s.nh3), 1.0)
    if nox < -tol or nh3 < -tol:
        notes.append(f"let op: bron {label} ({s.gml_id}): de eigen werktuigen stoten samen meer uit dan "
                     f"de bron (NOx {_nl_number(s.nox - nox)} tegen {_nl_number(s.nox)} kg/jaar); de "
                     "uitstoot van de eigen werktuigen is gebruikt, de rest van de bron telt niet mee")
    nox, nh3 = max(nox, 0.0) if nox > tol else 0.0, max(nh3, 0.0) if nh3 > tol else 0.0
    if nox > 0 or nh3 > 0:
        parts.insert(0, ("", label, (s.height_m, s.heat_mw, s.spread_m), (nox, nh3)))
    if len(parts) > 1 or parts and parts[0][0]:
        notes.append(f"bron {label} ({s.gml_id}): {len(own)} eigen werktuig(en) met eigen bronkenmerken "
                     "apart gerekend met die kenmerken (hoogte, warmte-inhoud, spreiding uit het bestand)"
                     + ("; de rest van de bron met de kenmerken van de bron of de sector"
                        if parts and not parts[0][0] else ""))
    return parts or whole, notes


_PHASE_NAME = {"gebruik": "gebruiksfase", "realisatie": "realisatiefase", "referentie": "referentiesituatie"}


def _note_summed_situations(rows, notes):
    """Say so when several files give sources of the same phase and year: they are added
    up as one situation (often they are alternatives, each to be checked on its own)."""
    by = {}
    for r in rows:
        by.setdefault((r["phase"], r["year"]), set()).add(r["source_id"].split(":", 1)[0])
    for (phase, year), stems in by.items():
        if len(stems) > 1:
            notes.append(f"let op: de bronnen van {len(stems)} bestanden ({', '.join(sorted(stems))}) zijn "
                         f"samen gerekend als één {_PHASE_NAME.get(phase, phase)} {year}; zijn het varianten, reken ze dan "
                         "elk apart door")


# --------------------------------------------------------------------------- characteristics


def fill_characteristics(table: pd.DataFrame, kg, machinery_heat: str) -> tuple[pd.DataFrame, list]:
    """Missing characteristics from the sector defaults; machinery heat by ``machinery_heat``.

    Returns
    -------
    (DataFrame, notes)
        ``height_m``, ``heat_mw``, ``spread_m`` filled [m, MW, m] (spread at most the
        height); ``_machinery_heat`` marks the rows whose heat content follows the choice
        (a sector with an instruction-table value and no heat content in the file).
    """
    t = table.copy()
    notes = []
    sid = t["sector_id"].to_numpy(np.int64)
    out = {c: t[c].to_numpy(float).copy() for c in ("height_m", "heat_mw", "spread_m")}
    origin = {c: np.where(np.isnan(v), "", "bestand").astype(object) for c, v in out.items()}
    for c, o in origin.items():  # cells the reading filled from the sector defaults
        if f"_origin_{c}" in t:
            read = t[f"_origin_{c}"].to_numpy(object)
            o[read != ""] = read[read != ""]
    eligible = np.zeros(len(t), bool)
    fallback = 0
    for s in dict.fromkeys(sid.tolist()):
        rows = sid == s
        has = kg.has("source_characteristics", int(s), "height")
        if has and kg.has("source_characteristics", int(s), "heat_content_instruction"):
            eligible |= rows & ~t["heat_given"].to_numpy(bool)
        for col, q, fb in (("height_m", "height", FALLBACK_CHARACTERISTICS[0]),
                           ("heat_mw", "heat_content", FALLBACK_CHARACTERISTICS[1]),
                           ("spread_m", "spread", FALLBACK_CHARACTERISTICS[2])):
            miss = rows & np.isnan(out[col])
            if not miss.any():
                continue
            fig = kg.figure("source_characteristics", int(s), q, required=False)
            out[col][miss] = fig.value if fig is not None else fb
            origin[col][miss] = f"sector {int(s)}" if fig is not None else FALLBACK_ORIGIN
            fallback += int(miss.sum()) if fig is None else 0
    if fallback:
        notes.append("bronnen zonder kenmerken in een sector zonder standaard: hoogte 5 m, warmte 0 MW, "
                     "spreiding 2,5 m aangenomen (AERIUS-standaard van sector 4110)")
    for col, v in out.items():
        t[col] = v
    t["spread_m"] = np.minimum(t["spread_m"].to_numpy(float), t["height_m"].to_numpy(float))
    t["_machinery_heat"] = eligible
    if "source_kind" in t:
        t["_machinery_heat"] |= t["source_kind"].to_numpy(object) == "machinery"
    origin["heat_mw"][t["_machinery_heat"].to_numpy(bool)] = "--werktuig-warmte"
    for col, o in origin.items():
        t[f"_origin_{col}"] = o
    kept = rows_with_own_heat(t, kg)
    if kept.any():
        secs = sorted(set(sid[kept].tolist()))
        notes.append(f"{int(kept.sum())} bron(nen) mobiele werktuigen (sector {', '.join(map(str, secs))}) met "
                     "een warmte-inhoud uit het bestand: daar gelden --werktuig-warmte en de "
                     "gevoeligheid voor de warmte-inhoud niet")
    return apply_source_heat(t, kg, machinery_heat), notes


def rows_with_own_heat(t: pd.DataFrame, kg) -> np.ndarray:
    """Rows of a machinery sector (one with an instruction heat content) whose heat the file gives."""
    sid = t["sector_id"].to_numpy(np.int64)
    machinery = np.array([kg.has("source_characteristics", int(s), "heat_content_instruction")
                          for s in sid], bool) if len(t) else np.zeros(0, bool)
    return machinery & (t["_origin_heat_mw"].to_numpy(object) == "bestand")


def characteristics_used(table: pd.DataFrame) -> list[dict]:
    """The characteristics a source list was computed with, grouped: per sector and set of
    values, the count of sources, their emission and where each value came from
    (``bestand``, ``sector N``, ``--werktuig-warmte``, ``terugval (sector 4110)``)."""
    cols = ["sector_id", "height_m", "heat_mw", "spread_m", "_origin_height_m", "_origin_heat_mw",
            "_origin_spread_m"]
    t = table.copy()
    t["spread_m"] = np.minimum(t["spread_m"].to_numpy(float), t["height_m"].to_numpy(float))
    g = t.groupby(cols, sort=True, dropna=False).agg(
        sources=("sector_id", "size"), nox_kg_per_yr=("nox_kg_per_yr", "sum"),
        nh3_kg_per_yr=("nh3_kg_per_yr", "sum")).reset_index()
    return [{"sector_id": int(r["sector_id"]) if int(r["sector_id"]) else None,
             **{c: float(r[c]) for c in ("height_m", "heat_mw", "spread_m")},
             "origin": {c: str(r[f"_origin_{c}"]) for c in ("height_m", "heat_mw", "spread_m")},
             "sources": int(r["sources"]), "nox_kg_per_yr": float(r["nox_kg_per_yr"]),
             "nh3_kg_per_yr": float(r["nh3_kg_per_yr"])} for r in g.to_dict("records")]


def apply_source_heat(t: pd.DataFrame, kg, choice: str) -> pd.DataFrame:
    """:func:`stikstofcalc.emissions.sources.apply_machinery_heat` on the rows marked ``_machinery_heat``."""
    kind = t["source_kind"].copy()
    t2 = t.copy()
    t2["source_kind"] = np.where(t["_machinery_heat"].to_numpy(bool), "machinery", "_other")
    out = apply_machinery_heat(t2, kg, choice)
    if out is t2:
        return t
    out["source_kind"] = kind.to_numpy(object)
    return out


def row_keys(table: pd.DataFrame) -> list:
    """Template key ``(geometry_wkt, height_m, heat_mw, spread_m)`` of every row."""
    return list(zip(table["geometry_wkt"].tolist(), table["height_m"].astype(float).tolist(),
                    table["heat_mw"].astype(float).tolist(),
                    np.minimum(table["spread_m"].to_numpy(float), table["height_m"].to_numpy(float)).tolist()))


# --------------------------------------------------------------------------- many sources

#: Above this many sources in a case, sources with the same phase, year, characteristics and
#: kind of geometry share one source template per substance (weights = their share of the
#: group's NOx or NH3), so a list of thousands of sources costs a few templates instead of one
#: each (memory and time of the unit deposition scale with the templates). The deposition is
#: the same (linear in emission); dominant sources and headroom are then per group. An
#: estimate: below it, per-source results are worth the cost.
MERGE_SOURCES_ABOVE = 200


def merged_tables(tables: dict) -> tuple[dict, dict, object]:
    """Group the rows of every table into per-substance templates (see :data:`MERGE_SOURCES_ABOVE`).

    Returns
    -------
    (tables, keys, Templates)
        One row per group and substance (``nox`` row: the group's NOx, ``nh3`` row: its NH3),
        their template keys, and the templates built from all tables' groups.
    """
    geoms: dict = {}
    out_tables, out_keys, groups = {}, {}, {}
    for name, t in tables.items():
        kind = []
        for w in t["geometry_wkt"].tolist():
            if w not in geoms:
                geoms[w] = parse_wkt(w)
            kind.append(geoms[w].kind)
        h, q, sp = (t[c].to_numpy(float) for c in ("height_m", "heat_mw", "spread_m"))
        sp = np.minimum(sp, h)
        gk = list(zip(t["phase"].tolist(), t["year"].tolist(), h.tolist(), q.tolist(), sp.tolist(), kind))
        rows = []
        keys = []
        by = {}
        for i, k in enumerate(gk):
            by.setdefault(k, []).append(i)
        for k, idx in by.items():
            sub = t.iloc[idx]
            for sub_name, col in (("nox", "nox_kg_per_yr"), ("nh3", "nh3_kg_per_yr")):
                total = float(sub[col].sum())
                if total <= 0:
                    continue
                gkey = (f"bronnen:{k[5]}:{k[0]}:{k[1]}:{sub_name}:{hash(tuple(sub['geometry_wkt']))}",
                        k[2], k[3], k[4])
                shares = (sub[col].to_numpy(float) / total)
                groups.setdefault(gkey, (list(sub["geometry_wkt"]), shares))
                row = sub.iloc[0].to_dict()
                row.update(label=f"{SOURCE_GROUP_PREFIX}{len(idx)} bronnen ({GEOMETRY_NL.get(k[5], k[5])}, "
                                 f"{k[2]:g} m, {k[3]:g} MW)",
                           nox_kg_per_yr=total if sub_name == "nox" else 0.0,
                           nh3_kg_per_yr=total if sub_name == "nh3" else 0.0,
                           uses_estimate=bool(sub["uses_estimate"].any()), source_kind="bron")
                rows.append(row)
                keys.append(gkey)
        out_tables[name] = pd.DataFrame(rows, columns=list(t.columns))
        out_keys[name] = keys
    uniq = list(groups)
    parts, bbox, labels = [], np.zeros((len(uniq), 4)), []
    for g, key in enumerate(uniq):
        wkts, shares = groups[key]
        gs = [geoms[w] for w in wkts]
        n = len(gs)
        nan = np.full(n, np.nan)
        el = expand(nan, nan, np.zeros(n), nan, nan, gs)
        parts.append((el.x, el.y, el.area_side_m, el.x_end, el.y_end, el.weight * shares[el.parent],
                      np.full(len(el.x), g, np.int64)))
        b = np.array([gg.bounds for gg in gs])
        bbox[g] = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
        labels.append(f"{n} bronnen ({len(el.x)} elementair)")
    cols = [np.concatenate(c) for c in zip(*parts)] if parts else [np.zeros(0)] * 6 + [np.zeros(0, np.int64)]
    el = Elementary(*cols)
    arr = np.array([k[1:] for k in uniq], dtype=float).reshape(len(uniq), 3)
    tp = Templates(uniq, labels, arr[:, 0], arr[:, 1], arr[:, 2], el, bbox,
                   ["bronnen met gelijke fase, jaar, kenmerken en soort geometrie samen gerekend "
                    f"(meer dan {MERGE_SOURCES_ABOVE} bronnen; dominante bronnen per groep)"])
    return out_tables, out_keys, tp


# --------------------------------------------------------------------------- assessment


def check_calibrated(table: pd.DataFrame, case=None) -> None:
    """Refuse sources whose characteristics (as given or filled from the sector defaults)
    lie outside the engine's calibrated range, naming each source (id, label) and the
    value: an IMAER file of industry (a 75 m stack) reached the engine and was refused
    there as "bronindex 189".

    Raises
    ------
    MultipleInputErrors
        Of :class:`~stikstofcalc.errors.RangeError`, one per source and characteristic.
    """
    errors = []
    h = table["height_m"].to_numpy(float)
    for col in ("height_m", "heat_mw", "spread_m"):
        lo, hi, unit = CALIBRATED_RANGES[col]
        v = table[col].to_numpy(float)
        bad = ~((v >= lo) & (v <= hi))
        if col == "spread_m":
            bad |= v > h
        for i in np.flatnonzero(bad):
            sid, label = _text(table["source_id"].iloc[i]), _text(table["label"].iloc[i])
            who = sid if label in ("", sid) else f"{sid} ({label})"
            errors.append(RangeError(
                f"bron {who}: {col} {_nl_number(v[i])} {unit} ligt buiten het gekalibreerde bereik",
                case=None if case is None else str(case), field=col, value=float(v[i]),
                expected=(f"{_nl_number(lo)} tot en met {_nl_number(hi)} {unit}"
                          + (", en niet meer dan height_m" if col == "spread_m" else "")
                          + ", het kalibratiebereik van OPS-LT 5.3.1"),
                detail=OUT_OF_RANGE_ADVICE))
    if errors:
        raise MultipleInputErrors(errors)


def _nl_number(v: float) -> str:
    return f"{v:g}".replace(".", ",")


_FIRST_POINT = re.compile(r"\(+\s*([-+]?[\d.eE+-]+)\s+([-+]?[\d.eE+-]+)")


def _abroad_notes(part: pd.DataFrame) -> list:
    """A note on sources whose (first) point lies outside the Netherlands or at sea: a typo in
    a coordinate ("172.240" for 172240) puts a source far from any Natura 2000 area, and the
    verdict would be a quiet 0,00 (project locations are refused there; a source list may hold
    a ship or a source across the border, so here it is a warning)."""
    pts = [_FIRST_POINT.search(str(w)) for w in part["geometry_wkt"]]
    ok = [m is not None for m in pts]
    if not any(ok):
        return []
    x = np.array([float(m.group(1)) if m else np.nan for m in pts])
    y = np.array([float(m.group(2)) if m else np.nan for m in pts])
    has = np.isfinite(x) & np.isfinite(y)
    out = np.zeros(len(x), bool)
    out[has] = ~in_netherlands(x[has], y[has])
    if not out.any():
        return []
    i = int(np.flatnonzero(out)[0])
    return [f"let op: {int(out.sum())} bron(nen) liggen buiten Nederland of in zee (bijv. "
            f"{part['source_id'].iloc[i]} op x {_nl_number(x[i])}, y {_nl_number(y[i])}): controleer de "
            "coördinaten (RD New, in meter); een bron ver van Natura 2000 geeft 0,00"]


def assess_source_list(sources, *, regime=None, receptors=None, receptor_margin=None, prune: bool = True,
                       machinery_heat=None, sensitivity: bool = True, kengetallen=None,
                       provenance: bool = True, netted: bool = False, per_hexagon: bool = False) -> list:
    """Assess every case of a source list (:func:`read_source_files`, or paths).

    Returns
    -------
    list of Assessment
        One per case, in file order; the same fields as a project's
        (:func:`stikstofcalc.assessment.core.assess_project`), without the standard measures.
    """
    sl = sources if isinstance(sources, SourceList) else read_source_files(sources)
    kg = kengetallen if kengetallen is not None else _kg.load()
    reg = rules.get_regime(regime)
    heat = machinery_heat_choice(machinery_heat)
    alt_heat = other_machinery_heat(heat)
    out = []
    for case in sl.cases:
        part = sl.table[sl.table["case"] == case].reset_index(drop=True)
        plan, notes = fill_characteristics(part, kg, heat)
        notes += _abroad_notes(part)
        check_calibrated(plan, case)
        tables = {"plan": plan}
        if sensitivity:
            alt = apply_source_heat(plan, kg, alt_heat)
            if alt is not plan:
                tables[SENSITIVITY] = alt
        templates = None
        if len(part) > MERGE_SOURCES_ABOVE:
            tables, keys, templates = merged_tables(tables)
        else:
            keys = {name: row_keys(t) for name, t in tables.items()}
        extra = ([f"bronnen uit {', '.join(Path(f).name for f in sl.files)}"] + list(sl.notes)
                 + list(sl.case_notes.get(case, [])) + notes)
        a = drive(assess_tables_steps(
            str(case), tables, keys, reg=reg, kg=kg, receptors=receptors, receptor_margin=receptor_margin,
            prune=prune, netted=netted, sensitivity=sensitivity, heat=heat, alt_heat=alt_heat,
            provenance=provenance, site_notes=lambda extra=extra: extra, per_hexagon=per_hexagon,
            templates=templates))
        if a.provenance is not None:
            a.provenance["source_files"] = list(sl.files)
            a.provenance["source_characteristics_used"] = characteristics_used(plan)
        out.append(a)
    return out
