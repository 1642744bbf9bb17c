"""Batches of cases from a workbook or CSV: validate every row, compute every valid case.

The chain::

    read (excel.reader)  ->  validate: every row of every sheet -> one project document
    per case (the same dict a TOML project file gives, so a case from Excel and the same
    case from TOML give identical results)  ->  compute in chunks (emission sources and
    the assessment per case, cases spread over worker processes)  ->  BatchResult
    (results, sources, problems, echo of the input, provenance)  ->  excel.results

Cell rules (explicit, documented in ``docs/batch.md``; nothing is silently coerced):

- an empty cell or one holding only spaces is "not given" (the default applies);
  leading and trailing spaces of text are dropped;
- quantity columns take a number (read in the column's unit) or text with a unit,
  Dutch or English (``"18 maanden"``, ``"1,2 km"``, ``"25 %"``); ``"2.500"`` is refused as
  ambiguous (:func:`stikstofcalc.units.parse_quantity`); a date or TRUE/FALSE there is
  an error (Excel turns ``1.2`` into a date in some locales);
- whole-number columns (count, year, machine's component number) take a whole number,
  also ``24,0``; ``24,5`` is an error;
- date columns take a date cell, ``2027-03``, ``2027-03-15``, ``15-3-2027`` or ``3-2027``;
- a formula counts with the value Excel cached when it saved the file; a formula
  without a cached value is an error (open and save the file in Excel first).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from stikstofcalc.errors import InputError, MultipleInputErrors, StikstofError
from stikstofcalc.io.excel.reader import NoCachedValue, RawBook, read_book, schema_name
from stikstofcalc.io.excel.schema import CASES_SHEET, RESULT_COLUMNS, SHEET_BY_NAME, Column

#: Cases per work item sent to a worker process [-].
CHUNK_SIZE = 64
#: Batches with fewer cases run in this process (starting workers costs seconds) [-].
PARALLEL_MIN_CASES = 200

PROBLEM_COLUMNS = ["zaak", "blad", "rij", "kolom", "sleutel", "waarde", "melding", "verwacht",
                   "veld", "niveau"]
_ABSENT = object()


# --------------------------------------------------------------------------- problems


def problem(*, case=None, sheet=None, row=None, key=None, value=None, message="",
            expected=None, field_=None, level="fout") -> dict:
    """One row of the ``fouten`` table (Dutch column names, see :data:`PROBLEM_COLUMNS`)."""
    label = None
    schema = None if sheet is None else schema_name(str(sheet))  # invoer -> projecten
    if schema is not None and key is not None and key in SHEET_BY_NAME[schema].keys:
        label = SHEET_BY_NAME[schema].column(key).label
    return {"zaak": case, "blad": sheet, "rij": row, "kolom": label or key, "sleutel": key,
            "waarde": None if value is None or value is _ABSENT else _shown(value),
            "melding": message, "verwacht": expected, "veld": field_, "niveau": level}


def _shown(value):
    if isinstance(value, NoCachedValue):
        return value.formula or "<formule zonder opgeslagen waarde>"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value if isinstance(value, (int, float, str)) else str(value)


# --------------------------------------------------------------------------- cells


_NL_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")
_NL_MONTH = re.compile(r"^(\d{1,2})-(\d{4})$")
_POINT_TEXT = re.compile(r"^\s*(?:LINESTRING\s*\()?\s*(.*?)\s*\)?\s*$", re.IGNORECASE)


class CellError(Exception):
    """A cell that does not fit its column (message, expected)."""

    def __init__(self, message, expected):
        super().__init__(message)
        self.message, self.expected = message, expected


#: A whole number followed by a word ("16 woningen"): the word must be one of the column's
#: own label ("aantal woningen"), else the cell is refused as before.
_COUNTED = re.compile(r"^([+-]?[\d.,]+)\s*([^\W\d_]+)$")


def _whole(value, label: str = ""):
    if isinstance(value, bool):
        raise CellError(f"{value!r} is geen geheel getal", "een geheel getal")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return int(value)
        return value  # the project check names it: "not a whole number"
    from stikstofcalc.units import normalise_number

    text = value.strip()
    m = _COUNTED.match(text)  # "16 woningen" in "aantal woningen": the count, its word as in the label
    if m and m[2].lower() in re.findall(r"[^\W\d_]+", label.lower()):
        text = m[1]
    try:
        literal = normalise_number(text)
    except ValueError as exc:  # ambiguous Dutch/English notation: its reason is Dutch
        raise CellError(f"{text!r} is geen geheel getal ({exc})", "een geheel getal, bijv. 24") from exc
    try:
        number = float(literal)
    except ValueError:  # no number at all ('zestien')
        raise CellError(f"{text!r} is geen geheel getal", "een geheel getal, bijv. 24") from None
    if not math.isfinite(number) or number != int(number):
        raise CellError(f"{text!r} is geen geheel getal", "een geheel getal, bijv. 24")
    return int(number)


def _date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        m = _NL_DATE.match(text)
        if m:
            try:
                return dt.date(int(m[3]), int(m[2]), int(m[1]))
            except ValueError as exc:
                raise CellError(f"{text!r} is geen bestaande datum", "een datum zoals 15-3-2027") from exc
        m = _NL_MONTH.match(text)
        if m:
            return f"{int(m[2]):04d}-{int(m[1]):02d}"
        return text  # ISO forms are checked by the project parser
    raise CellError(f"{value!r} is geen datum", 'een datumcel of tekst zoals "2027-03" of "15-3-2027"')


def _points(value):
    if not isinstance(value, str):
        raise CellError(f"{value!r} is geen lijst van punten", "tekst 'x y; x y; ...' in RD-meters")
    body = _POINT_TEXT.match(value)[1]
    parts = [p for p in re.split(r"[;,]", body) if p.strip()] if ";" in body or "," in body else []
    pts = []
    for p in parts:
        xy = p.split()
        try:
            if len(xy) != 2:
                raise ValueError
            pts.append([float(xy[0]), float(xy[1])])
        except ValueError as exc:
            raise CellError(f"{p.strip()!r} is geen punt 'x y'",
                            "punten 'x y; x y; ...' in RD-meters (decimale punt)") from exc
    if len(pts) < 2 or not all(math.isfinite(c) for pt in pts for c in pt):
        raise CellError("minder dan twee punten", "minstens twee punten 'x y; x y' in RD-meters")
    return pts


def cell_value(raw, column: Column):
    """Convert one raw cell to the value the project document gets (or ``_ABSENT``).

    Raises
    ------
    CellError
        The cell cannot be used in this column (a formula without value, a date where a
        number belongs, ...).
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return _ABSENT
    if isinstance(raw, str) and raw.startswith("=") and len(raw) > 1 and column.kind != "text":
        raw = NoCachedValue(raw)  # the echo of such a cell (text), in a run of a results workbook
    if isinstance(raw, NoCachedValue):
        raise CellError("formule zonder opgeslagen waarde (het bestand is nooit door Excel opgeslagen)",
                        "een waarde, of open de werkmap in Excel en sla hem op, zodat formules een waarde hebben")
    kind = column.kind
    if isinstance(raw, str):
        raw = raw.strip()
    if kind in ("quantity", "count", "year", "number") and isinstance(raw, (dt.date, dt.time)):
        raise CellError(f"een datum ({_shown(raw)}) waar een getal hoort",
                        f"een getal{' in ' + column.unit_nl if column.unit_nl else ''} (controleer de celopmaak)")
    if kind == "quantity":
        if isinstance(raw, float) and not math.isfinite(raw):
            raise CellError(f"{raw!r} is geen eindig getal", "een eindig getal")
        return raw
    if kind in ("count", "year"):
        return _whole(raw, column.label)
    if kind == "date":
        return _date(raw)
    if kind == "points":
        return _points(raw)
    if isinstance(raw, (dt.date, dt.time)):
        raise CellError(f"een datum ({_shown(raw)}) waar tekst hoort", "tekst")
    if isinstance(raw, bool):
        raise CellError(f"{raw!r} waar tekst hoort", "tekst")
    if isinstance(raw, float) and math.isfinite(raw) and raw == int(raw):
        return str(int(raw))  # an id or a name typed as a number: 12 -> "12"
    return str(raw)


# --------------------------------------------------------------------------- cases


@dataclass
class CaseInput:
    """One case as validated: its project document and where each field came from."""

    case_id: str
    row: int
    document: dict
    where: dict
    regime: str | None
    receptor_rows: list = field(default_factory=list)
    project: object = None
    receptors: object = None
    problems: list = field(default_factory=list)
    #: schema sheet -> the sheet's name in the file (``projecten`` is ``invoer`` when a results
    #: workbook is run again): every ``fouten`` row names the sheet as the user sees it
    sheet_names: dict = field(default_factory=dict)

    def locate(self, field_path: str | None):
        sheet, row, key = self._locate(field_path)
        return self.sheet_names.get(sheet, sheet), row, key

    def _locate(self, field_path: str | None):
        """(sheet, row, key) of a project field, by its longest known prefix.

        A field whose cell was left empty is not in ``where`` (only given cells are): its
        column follows from the row of the table that holds it (``construction.start``,
        ``components[0].type`` -> ``component.type`` on projecten, ``type`` on onderdelen),
        so the ``fouten`` row names the empty column too.
        """
        path = field_path or ""
        while path:
            if path in self.where:
                sheet, row, key = self.where[path]
                if key is None:
                    key = _column_of(sheet, path, field_path[len(path):].lstrip("."))
                return sheet, row, key
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return (CASES_SHEET, self.row, _column_of(CASES_SHEET, "", field_path or ""))

    def add_error(self, exc: StikstofError):
        errors = exc.errors if isinstance(exc, MultipleInputErrors) else [exc]
        for e in errors:
            if isinstance(e, MultipleInputErrors):
                self.add_error(e)
                continue
            sheet, row, key = self.locate(getattr(e, "field", None))
            if e.sheet is not None and e.row is not None:  # the error knows its cell
                sheet, row = e.sheet, e.row
            if e.message == "ontbreekt" and any((p["blad"], p["rij"], p["sleutel"]) == (sheet, row, key)
                                                for p in self.problems):
                continue  # the cell was refused already (a text in a number column): one row, not two
            self.problems.append(problem(
                case=self.case_id, sheet=sheet, row=row, key=key, value=e.value,
                message=e.reason(), expected=e.expected, field_=e.field))


#: Project tables written on one row of ``projecten``: path (without index) -> column prefix.
_CASES_PREFIX = {"": "", "location": "location.", "construction": "construction.", "use": "use.",
                 "components": "component.", "routes": "route."}


def _column_of(sheet, table_path: str, rest: str):
    """The column (key) of the field ``rest`` of the table at ``table_path`` given on a row of
    ``sheet``, or None (the field is a whole table, or has no column on that sheet)."""
    if not rest or sheet not in SHEET_BY_NAME:
        return None
    prefix = ""
    if sheet == CASES_SHEET:
        prefix = _CASES_PREFIX.get(re.sub(r"\[\d+\]$", "", table_path))
        if prefix is None:
            return None
    key = prefix + rest
    return key if key in SHEET_BY_NAME[sheet].keys else None


def _row_fields(sheet_name, raw_sheet, cells, row, sink):
    """{key: converted value} of one row; cell problems go to ``sink``."""
    schema = SHEET_BY_NAME[sheet_name]
    out = {}
    unknown = []
    for i, (key, raw) in enumerate(zip(raw_sheet.keys, cells)):
        if key is None:
            if i in raw_sheet.unknown and not raw_sheet.unknown[i][1] and not (
                    raw is None or (isinstance(raw, str) and not raw.strip())):
                unknown.append(i)  # a value in an unknown column would be dropped silently
            continue
        col = schema.column(key)
        try:
            v = cell_value(raw, col)
        except CellError as exc:
            sink.append((key, raw, exc))
            continue
        if v is not _ABSENT:
            out[key] = v
    if unknown:
        from stikstofcalc.io.excel.reader import suggestion

        names = "; ".join(f"{raw_sheet.unknown[i][0]!r}{suggestion(raw_sheet, i)}" for i in unknown[:5])
        more = f" en nog {len(unknown) - 5}" if len(unknown) > 5 else ""
        sink.append((None, cells[unknown[0]], CellError(
            f"waarde in onbekende kolom: {names}{more}",
            "alleen kolommen van de sjabloon (zie toelichting); eigen notities in een kolom "
            "'opmerking ...'")))
    return out


def _nest(target: dict, key: str, value):
    """``construction_traffic.zwaar`` -> target['construction_traffic']['zwaar']."""
    head, _, rest = key.partition(".")
    if rest:
        target.setdefault(head, {})[rest] = value
    else:
        target[head] = value


class _Builder:
    """Turns the rows of one case (all sheets) into a project document."""

    def __init__(self, case_id, row):
        self.case = CaseInput(case_id, row, {"name": case_id}, {}, None)
        self.comps, self.routes, self.machines = [], [], []
        self.bad_outline = False  # a vertex refused: the outline's own check would only repeat it

    def cell_problems(self, sheet, row, sink):
        for key, raw, exc in sink:
            self.case.problems.append(problem(case=self.case.case_id, sheet=sheet, row=row, key=key,
                                              value=raw, message=exc.message, expected=exc.expected))

    def projecten(self, fields, row):
        doc, where = self.case.document, self.case.where
        where[""] = where["location"] = where["construction"] = where["routes"] = where["components"] = (
            CASES_SHEET, row, None)
        doc.setdefault("location", {})  # empty x and y: "location.x ontbreekt", on its column
        comp, route = {}, {}
        for key, v in fields.items():
            section, _, rest = key.partition(".")
            if key == "case_id":
                continue
            if key == "regime":
                self.case.regime = v
            elif section in ("location", "construction", "use"):
                doc.setdefault(section, {})[rest] = v
                where[key] = (CASES_SHEET, row, key)
            elif section == "component":
                _nest(comp, rest, v)
            elif section == "route":
                route[rest] = v
            else:
                doc[key] = v
                where[key] = (CASES_SHEET, row, key)
        if comp:
            self._component(comp, CASES_SHEET, row, "component.")
        if route:
            self._route(route, CASES_SHEET, row, "route.")

    def _component(self, comp, sheet, row, prefix=""):
        i = len(self.comps)
        self.comps.append(comp)
        self.case.where[f"components[{i}]"] = (sheet, row, None)
        for k, v in comp.items():
            if isinstance(v, dict):
                for vc in v:
                    self.case.where[f"components[{i}].{k}.{vc}"] = (sheet, row, f"{prefix}{k}.{vc}")
            else:
                self.case.where[f"components[{i}].{k}"] = (sheet, row, f"{prefix}{k}")

    def _route(self, route, sheet, row, prefix=""):
        i = len(self.routes)
        self.routes.append(route)
        self.case.where[f"routes[{i}]"] = (sheet, row, None)
        for k in route:
            self.case.where[f"routes[{i}].{k}"] = (sheet, row, f"{prefix}{k}")

    def detail(self, sheet, fields, row, failed=()):
        """The fields of one detail row; ``failed``: its keys whose cell was refused."""
        if sheet == "onderdelen":
            comp = {}
            for k, v in fields.items():
                if k != "case_id":
                    _nest(comp, k, v)
            self._component(comp, sheet, row)
        elif sheet == "routes":
            self._route({k: v for k, v in fields.items() if k != "case_id"}, sheet, row)
        elif sheet == "terrein":
            loc = self.case.document.setdefault("location", {})
            pts = loc.setdefault("outline", [])
            self.case.where.setdefault("location.outline", (sheet, row, None))
            if "x" in fields and "y" in fields:
                # each corner in m here: the outline check would name only the whole outline
                xy = [_in_unit(self.case, sheet, row, k, fields[k], field_="location.outline")
                      for k in ("x", "y")]
                if None in xy:  # named per cell; the outline is then incomplete
                    self.bad_outline = True
                else:
                    pts.append(xy)
            else:  # half a vertex would be dropped silently (a wrong outline)
                self.bad_outline = True
                for key in ("x", "y"):
                    if key not in fields and key not in failed:
                        other = "y" if key == "x" else "x"
                        self.case.problems.append(problem(
                            case=self.case.case_id, sheet=sheet, row=row, key=key, message="ontbreekt",
                            expected=f"{key} naast {other} (RD New, m): elke rij is een hoekpunt",
                            field_="location.outline"))
        elif sheet == "werktuigen":
            self.machines.append((fields, row))
        elif sheet == "receptoren":
            self.case.receptor_rows.append((fields, row))

    def finish(self):
        doc = self.case.document
        for fields, row in self.machines:
            nr = fields.get("component", 1)
            if not isinstance(nr, int) or not 1 <= nr <= max(len(self.comps), 1) or not self.comps:
                self.case.problems.append(problem(
                    case=self.case.case_id, sheet="werktuigen", row=row, key="component", value=nr,
                    message=f"de zaak heeft geen onderdeel met nummer {nr!r}",
                    expected=f"1 tot en met {len(self.comps)} (1 = het onderdeel op projecten, daarna die op onderdelen)"))
                continue
            i = nr - 1
            machines = self.comps[i].setdefault("machines", [])
            j = len(machines)
            machines.append({k: v for k, v in fields.items() if k not in ("case_id", "component")})
            self.case.where[f"components[{i}].machines[{j}]"] = ("werktuigen", row, None)
            for k in machines[-1]:
                self.case.where[f"components[{i}].machines[{j}].{k}"] = ("werktuigen", row, k)
        if self.comps:
            doc["components"] = self.comps
        if self.routes:
            doc["routes"] = self.routes
        if self.bad_outline:
            doc["location"].pop("outline", None)
        outline = doc.get("location", {}).get("outline")
        if outline is not None:
            outline = [[float(p) if isinstance(p, (int, float)) and not isinstance(p, bool) else p
                        for p in pt] for pt in outline]
            doc["location"]["outline"] = [[_as_metres(p) for p in pt] for pt in outline]
        return self.case


def _as_metres(v):
    """Outline vertices: numbers or text with a unit -> metres (the project wants floats)."""
    if isinstance(v, float):
        return v
    from stikstofcalc.units import to_magnitude

    try:
        return to_magnitude(v, "m", field="location.outline")
    except StikstofError:
        return v  # the project parser reports "not a list of [x, y] points"


# --------------------------------------------------------------------------- validation


@dataclass
class Validation:
    """Outcome of :func:`validate_book`: valid cases, every problem, the counts."""

    book: RawBook
    cases: list
    invalid: list
    problems: list
    n_read: int


def _header_problems(book, problems):
    for e in book.problems:
        problems.append(problem(sheet=e.sheet, message=e.message, expected=e.expected))
    for name in book.unknown_sheets:
        problems.append(problem(sheet=name, message="blad niet gebruikt (onbekende naam)", level="waarschuwing",
                                expected=f"een van {', '.join(SHEET_BY_NAME)} (of toelichting)"))
    bad_sheets = set()
    from stikstofcalc.io.excel.reader import suggestion

    for name, sh in book.sheets.items():
        seen = {}
        filled = set()
        if sh.unknown:  # one pass over the rows for all unknown columns (20,000 columns: linear)
            for _, c in sh.rows:
                filled.update(i for i in sh.unknown if i < len(c) and not (
                    c[i] is None or (isinstance(c[i], str) and not c[i].strip())))
        listed = 0
        for i, k in enumerate(sh.keys):
            if k is None:
                if i in filled and listed == 20:
                    listed += 1
                    rest = sum(1 for j in filled if j > i and not sh.unknown[j][1])
                    problems.append(problem(sheet=sh.source_name, row=1, level="fout",
                                            message=f"en nog {rest + 1} onbekende kolommen met waarden",
                                            expected="alleen kolommen van de sjabloon (zie toelichting)"))
                elif i in filled and listed < 20:
                    listed += 1
                    head, note = sh.unknown[i]
                    problems.append(problem(
                        sheet=sh.source_name, row=1, value=head, level="waarschuwing" if note else "fout",
                        message="eigen notitiekolom: bewaard in invoer, niet gebruikt" if note else
                        f"onbekende kolom{suggestion(sh, i)}: de zaken met een waarde erin zijn ongeldig",
                        expected="een kolom van de sjabloon (zie toelichting); eigen notities in een "
                                 "kolom 'opmerking ...'"))
            elif k in seen:
                problems.append(problem(sheet=sh.source_name, row=1, key=k,
                                        message=f"kolom {k!r} komt twee keer voor (kolommen {seen[k] + 1} en {i + 1})",
                                        expected="elke kolom één keer"))
                bad_sheets.add(name)
            else:
                seen[k] = i
    return bad_sheets


def validate_book(book: RawBook, *, regime: str | None = None) -> Validation:
    """Validate every row of every sheet; return the valid cases and every problem.

    Parameters
    ----------
    book : RawBook
        As read by :func:`stikstofcalc.io.excel.reader.read_book`.
    regime : str, keyword-only
        Regime for cases whose ``regime`` cell is empty (default ``post-porthos``).

    Returns
    -------
    Validation
        ``n_read`` (rows on ``projecten``) == ``len(cases) + len(invalid)``.
    """
    g = group_book(book)
    cases, invalid, problems = [], list(g.invalid), list(g.problems)
    for builder in g.builders:
        case = validate_case(builder, regime=regime)
        if case.problems:
            invalid.append((case.case_id, case.row))
            problems.extend(case.problems)
        else:
            cases.append(case)
    return Validation(book, cases, invalid, problems, g.n_read)


@dataclass
class Grouped:
    """The rows of a book grouped per case (:func:`group_book`), before the per-case checks."""

    builders: list
    invalid: list
    problems: list
    n_read: int


def group_book(book: RawBook) -> Grouped:
    """Check the headers and group every row of every sheet by case id (cell rules applied).

    The cheap first half of :func:`validate_book`; :func:`validate_case` does the rest
    per case (so the batch can compute the first cases while it checks the later ones).
    """
    problems: list = []
    bad_sheets = _header_problems(book, problems)
    sheet = book.sheets.get(CASES_SHEET)
    if sheet is None or not sheet.header:
        problems.append(problem(sheet=CASES_SHEET, message="blad ontbreekt of is leeg" if sheet is None
                                else "blad heeft geen kopregel",
                                expected="een blad 'projecten' met de kopregels van de sjabloon"))
        return Grouped([], [], problems, 0)
    if "case_id" not in sheet.keys:
        problems.append(problem(sheet=sheet.source_name, row=1, key="case_id",
                                message="geen kolom case_id (zaak-id)", expected="de kopregels van de sjabloon"))
    builders, order, invalid = {}, [], []
    first_row = {}
    names = {n: sh.source_name for n, sh in book.sheets.items()}
    for row, cells in sheet.rows:
        sink = []
        fields = _row_fields(CASES_SHEET, sheet, cells, row, sink)
        cid = fields.get("case_id")
        key = cid if cid is not None else f"(rij {row})"
        if cid is None:
            problems.append(problem(case=key, sheet=sheet.source_name, row=row, key="case_id",
                                    message="zaak-id ontbreekt", expected="een unieke zaak-id op elke rij"))
        elif cid in first_row:
            problems.append(problem(case=cid, sheet=sheet.source_name, row=row, key="case_id", value=cid,
                                    message=f"dubbele zaak-id (ook op rij {first_row[cid]})",
                                    expected="een unieke zaak-id per rij"))
            invalid.append((cid, row))
            if cid in builders:
                builders.pop(cid)
                invalid.append((cid, first_row[cid]))
                problems.append(problem(case=cid, sheet=sheet.source_name, row=first_row[cid], key="case_id",
                                        value=cid, message=f"dubbele zaak-id (ook op rij {row})",
                                        expected="een unieke zaak-id per rij"))
            continue
        if cid is None:
            invalid.append((key, row))
            continue
        first_row[cid] = row
        b = _Builder(cid, row)
        b.case.sheet_names = names
        b.cell_problems(sheet.source_name, row, sink)
        b.projecten(fields, row)
        if CASES_SHEET in bad_sheets:
            b.case.problems.append(problem(case=cid, sheet=sheet.source_name, row=1,
                                           message="de kopregel van het blad is dubbelzinnig", expected="elke kolom één keer"))
        builders[cid] = b
        order.append(cid)
    for name, sh in book.sheets.items():
        if name == CASES_SHEET:
            continue
        for row, cells in sh.rows:
            sink = []
            fields = _row_fields(name, sh, cells, row, sink)
            cid = fields.get("case_id")
            if cid is None or cid not in first_row:
                near = None if cid is None else _near_case(cid, first_row)
                hint = f" (bedoelt u {near!r}?)" if near is not None else ""
                p = problem(case=cid, sheet=sh.source_name, row=row, key="case_id", value=cid,
                            message="zaak-id ontbreekt" if cid is None else
                            f"geen zaak {cid!r} op blad projecten{hint}",
                            expected="de zaak-id van een rij op projecten, letter voor letter")
                if near is not None and near in builders:
                    # the row most likely belongs to that case: computed without it, the case
                    # would lose a part (and could show a false 0,00), so the case is invalid
                    builders[near].case.problems.append({**p, "zaak": near})
                else:
                    problems.append(p)
                continue
            b = builders.get(cid)
            if b is None:  # duplicate id: already invalid
                continue
            b.cell_problems(sh.source_name, row, sink)
            failed = {k for k, _, _ in sink}
            if name in bad_sheets:
                b.case.problems.append(problem(case=cid, sheet=sh.source_name, row=row,
                                               message="de kopregel van het blad is dubbelzinnig",
                                               expected="elke kolom één keer"))
            b.detail(name, fields, row, failed)
    return Grouped([builders[cid] for cid in order if cid in builders], invalid, problems, len(sheet.rows))


def _near_case(cid, first_row):
    """The case id on projecten that ``cid`` most likely misspells (other capitals, spaces,
    a typo), or None."""
    from stikstofcalc.errors import closest

    norm = " ".join(str(cid).split()).casefold()
    for c in first_row:
        if " ".join(str(c).split()).casefold() == norm:
            return c
    return closest(cid, list(first_row))


def validate_case(builder, *, regime: str | None = None) -> CaseInput:
    """The per-case half of :func:`validate_book`: project document, regime, project
    checks (memoised key figures), own receptors. Problems in ``case.problems``."""
    from stikstofcalc.emissions.construction import memoised
    from stikstofcalc.emissions.project import parse_project
    from stikstofcalc.rules import DEFAULT_REGIME, REGIMES
    from stikstofcalc.emissions.sources import check_site

    case = builder.finish()
    cid = case.case_id
    case.regime = case.regime or regime or DEFAULT_REGIME
    if case.regime not in REGIMES:
        case.problems.append(problem(case=cid, sheet=CASES_SHEET, row=case.row, key="regime",
                                     value=case.regime, message=f"onbekend regime {case.regime!r}",
                                     expected=f"een van {', '.join(REGIMES)}"))
    try:
        # memoised name lists and labels: parse_project checks every name of every case
        kg = memoised(_kengetallen(case.document.get("kengetallen")))
        case.project = parse_project(case.document, kengetallen=kg)
        if case.project.location.x is not None:
            check_site(case.project)
    except StikstofError as exc:
        case.add_error(exc)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not stop the batch
        case.problems.append(problem(case=cid, sheet=CASES_SHEET, row=case.row,
                                     message=f"interne fout bij het valideren: {type(exc).__name__}: {exc}",
                                     expected="meld dit, met de invoerrij, bij de beheerder van stikstofcalc"))
    if case.receptor_rows:
        case.receptors = _case_receptors(case)
    return case


#: The name of the default key-figure edition, found once per process: finding it scans
#: the data folder (0.3 ms, for every case that names none); ``kengetallen.load`` caches
#: the edition itself.
_DEFAULT_EDITION: list = []


def _kengetallen(edition):
    from stikstofcalc import kengetallen

    try:
        if edition is None:
            if not _DEFAULT_EDITION:
                _DEFAULT_EDITION.append(kengetallen.default_edition())
            edition = _DEFAULT_EDITION[0]
        return kengetallen.load(edition)
    except StikstofError as exc:
        raise InputError(f"onbekende kengetallen-editie {edition!r}", field="kengetallen", value=edition,
                         expected=f"een van {', '.join(kengetallen.editions())}") from exc


def _in_unit(case, sheet, row, key, value, *, field_=None):
    """A quantity cell of a detail sheet whose rows the project parser does not convert
    (terrein corners, receptoren): text ("0,5 m", "1.600,5", "50 cm") in the column's unit
    (:func:`stikstofcalc.units.to_magnitude`, the rule of every quantity typed), numbers and
    other columns as they are; None, with a problem naming the cell, when it cannot be read."""
    from stikstofcalc.units import to_magnitude

    column = SHEET_BY_NAME[sheet].column(key)
    if not isinstance(value, str) or column.kind != "quantity" or not column.unit:
        return value
    try:
        return to_magnitude(value, column.unit, field=key)
    except StikstofError as e:
        case.problems.append(problem(case=case.case_id, sheet=sheet, row=row, key=key, value=value,
                                     message=e.reason(), expected=e.expected, field_=field_))
        return None


_RECEPTOR_COLUMNS = ("receptor_id", "x", "y", "kdw", "background_deposition", "z0_m", "landuse",
                     *(f"lu_{k}" for k in range(1, 10)))


def _case_receptors(case):
    """The case's own receptor rows, validated by :func:`stikstofcalc.geo.receptors.read_receptor_file`
    (with the sheet's row numbers); a text cell ("0,5 m", "1.600,5") is converted first, as on
    the other sheets."""
    from stikstofcalc.geo.receptors import read_receptor_file

    rows = [dict(f) for f, _ in case.receptor_rows]  # (fields, sheet row)
    sheet_rows = [r for _, r in case.receptor_rows]
    given = {c for c in _RECEPTOR_COLUMNS if any(c in r for r in rows)}
    if given & {"x", "y"}:  # x and y as a pair: an x left empty on every row is named as such
        given |= {"x", "y"}
    cols = [c for c in _RECEPTOR_COLUMNS if c in given]
    bad = False
    for r, row in zip(rows, sheet_rows):
        for c in cols:
            if r.get(c) is not None:
                r[c] = _in_unit(case, "receptoren", row, c, r[c])
                bad |= r[c] is None  # refused, and named in case.problems
    if bad:
        return None
    frame = pd.DataFrame([[r.get(c) for c in cols] for r in rows], columns=cols)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "receptoren.csv"
        frame.to_csv(path, index=False)
        try:
            return read_receptor_file(path, row_numbers=sheet_rows)
        except StikstofError as exc:
            errors = exc.errors if isinstance(exc, MultipleInputErrors) else [exc]
            for e in errors:
                case.problems.append(problem(case=case.case_id, sheet="receptoren",
                                             row=e.row if isinstance(e.row, int) else None,
                                             key=e.field, value=e.value, message=e.reason(),
                                             expected=e.expected))
            return None


# --------------------------------------------------------------------------- compute

#: Columns of the ``bronnen`` table (from the emission-source table of the inventory).
SOURCE_COLUMNS = ["case", "phase", "year", "source_kind", "category", "label", "component",
                  "sector_id", "fuel_l", "hours_h", "adblue_l", "vehicles_per_year", "route",
                  "road_type", "length_m", "nox_kg_per_yr", "nh3_kg_per_yr", "height_m", "heat_mw",
                  "spread_m", "basis", "uses_estimate", "overridden", "provenance", "inputs", "notes",
                  "edition"]


def check_columns(r) -> dict:
    """Grensgeval and machinery heat sensitivity columns (issue 12; assessment._check_columns)."""
    from stikstofcalc.assessment.core import check_columns as cols

    return cols(r)


def result_rows(assessment) -> list[dict]:
    """Flat rows (one per phase and calendar year) of an Assessment, for ``resultaten``."""
    out = []
    for r in assessment.results:
        head = r.get("headroom") or {}
        dom = r.get("dominant_sources") or []
        out.append({
            "case": assessment.case, "phase": r["phase"], "year": r["year"],
            "verdict": r["verdict"], "permit_needed": r["permit_needed"], "exempt": r["exempt"],
            "max_deposition": r["max_deposition"], "max_rounded": r["max_rounded"],
            "max_display": r["max_display"], "threshold": r["threshold"],
            "area_name": r.get("area_name"), "n2k_number": r.get("n2k_number"),
            "receptor_id": r.get("receptor_id"), "x": r.get("x"), "y": r.get("y"),
            "n_hexagons_above": r["n_hexagons_above"], "hectares_above": r["hectares_above"],
            "margin_factor": r["margin_factor"],
            "headroom_nox_kg_per_yr": head.get("nox_kg_per_yr"),
            "headroom_nh3_kg_per_yr": head.get("nh3_kg_per_yr"),
            "dominant_source": dom[0]["source"] if dom else None,
            "dominant_share": dom[0]["share"] if dom else None,
            "headroom_current": head.get("current"),
            "headroom_allowed_source_only": head.get("allowed_source_only"),
            "headroom_unit": head.get("unit"),
            "effect_distance_m": r["effect_distance_m"],
            "nox_kg_per_yr": r["nox_kg_per_yr"], "nh3_kg_per_yr": r["nh3_kg_per_yr"],
            "regime": assessment.regime.name, "uses_estimate": r["uses_estimate"],
            "notes": "; ".join(dict.fromkeys(list(r.get("notes", [])) + list(assessment.notes)
                                             + list((assessment.receptors or {}).get("terrain_notes", [])))),
            **check_columns(r),
        })
    return out


def assess_one(project, *, regime, receptors=None, kengetallen=None):
    """One case: (emission-source table, Assessment, seconds emissions, seconds assessment).

    The per-case reference path; the batch computes chunks with
    :func:`stikstofcalc.assessment.many.assess_many` (same results)."""
    from stikstofcalc.emissions import inventory
    from stikstofcalc.assessment.core import assess_project

    t0 = time.perf_counter()
    table = inventory.emission_sources(project, kengetallen=kengetallen)
    t1 = time.perf_counter()
    a = assess_project(project, regime=regime, receptors=receptors, measures=False,
                       kengetallen=kengetallen,
                       plan=table if project.location.x is not None else None)
    return table, a, t1 - t0, time.perf_counter() - t1


def compute_chunk(payload) -> dict:
    """Compute a list of cases ``[(case_id, project, regime, receptors, row, where), ...]``.

    Runs in a worker process (picklable input and output), through
    :func:`stikstofcalc.assessment.many.assess_many` (emission tables of the whole
    chunk at once). A case whose computation raises an input error (e.g. a site
    outside the Netherlands after converting lat/lon) becomes problems; an unexpected
    error becomes an ``interne fout`` problem for that case only.
    """
    from stikstofcalc.assessment.many import assess_many

    results, sources, problems, failed = [], [], [], []
    timings = {"emissions_s": 0.0, "deposition_s": 0.0}
    outcomes = assess_many([p[1] for p in payload], regime=[p[2] for p in payload],
                           receptors=[p[3] for p in payload], provenance=False, timings=timings)
    for (case_id, project, regime, receptors, row, where), o in zip(payload, outcomes):
        if isinstance(o.error, StikstofError):
            c = CaseInput(case_id, row, {}, where, regime)
            c.add_error(o.error)
            problems.extend(c.problems)
            failed.append(case_id)
            continue
        if o.error is not None:
            exc = o.error
            problems.append(problem(case=case_id, sheet=CASES_SHEET, row=row,
                                    message=f"interne fout: {type(exc).__name__}: {exc}",
                                    expected="meld dit, met de invoerrij, bij de beheerder van stikstofcalc",
                                    field_=o.trace[-500:]))
            failed.append(case_id)
            continue
        results.extend(result_rows(o.assessment))
        sources.append(o.table)
    # one concatenation, then the columns (64 column selections cost 6x as much)
    sources = pd.concat(sources, ignore_index=True)[SOURCE_COLUMNS] if sources else None
    return {"results": results, "sources": sources,
            "problems": problems, "failed": failed, **timings}


@dataclass
class BatchResult:
    """Everything the results workbook shows."""

    results: pd.DataFrame
    sources: pd.DataFrame
    problems: pd.DataFrame
    book: RawBook
    provenance: dict
    counts: dict
    timings: dict

    def summary(self) -> str:
        """One line: cases, valid, invalid, permit needed."""
        c = self.counts
        return (f"{c['read']} zaken gelezen: {c['computed']} berekend, {c['invalid']} ongeldig; "
                f"vergunning nodig: {c['permit_needed']}, geen vergunning nodig: {c['no_permit']}"
                + (f"; grensgeval (reken door in AERIUS Calculator): {c['borderline']}"
                   if c.get("borderline") else "")
                + f"; {c['problems']} meldingen in 'fouten'")


def compute_cases(cases, *, jobs: int | None = None, chunk_size: int = CHUNK_SIZE, progress=None):
    """Compute validated cases in chunks, over ``jobs`` worker processes.

    Parameters
    ----------
    cases : list of CaseInput
    jobs : int, keyword-only
        Worker processes; default: 1 below :data:`PARALLEL_MIN_CASES` cases, else the
        number of CPUs (at most 8).
    chunk_size : int, keyword-only
        Cases per work item; memory stays bounded by ``jobs * chunk_size`` cases.
    progress : callable, keyword-only
        Called with the number of cases finished after each chunk.

    Returns
    -------
    list of dict
        One :func:`compute_chunk` output per chunk, in case order.
    """
    out = []
    with _Chunks(len(cases), jobs=jobs, chunk_size=chunk_size) as pool:
        for c in cases:
            for ch, res in pool.add(c):
                out.append(res)
                if progress:
                    progress(len(ch))
        for ch, res in pool.drain():
            out.append(res)
            if progress:
                progress(len(ch))
    return out


#: Thread-pool settings of a worker process: one compute thread each, since the workers
#: already fill the cores. numba's pool and OpenBLAS's (numpy's ``W @ U``) of N threads
#: per worker spin while they wait and fight the other workers for the cores (measured in
#: docs/batch.md: three times slower with the pools).
WORKER_THREADS = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                  "MKL_NUM_THREADS": "1"}


#: Cyclic-GC thresholds while a batch runs (generation 0, 1, 2) [allocations, collections].
#: Python's default (700, 10, 10) collects every few hundred new containers; a chunk makes
#: hundreds of thousands of short-lived dicts and lists that reference counting frees
#: anyway. Measured in a worker: collector time 0.57 -> 0.26 s per 640 cases.
BATCH_GC_THRESHOLD = (50_000, 20, 100)


def _worker_init():
    """Initialise a worker process: single-threaded numba, OpenMP and BLAS; the modules
    and their data loaded, then frozen out of the cyclic collector, which runs less often.

    The environment variables reach numba if it is not loaded yet; BLAS is loaded
    already (numpy came with this module), so its pool is limited at run time with
    threadpoolctl."""
    import gc
    import sys

    from threadpoolctl import threadpool_limits

    env = dict(WORKER_THREADS)
    if "numba" in sys.modules:  # loaded by the main module's imports: limit it as far as it goes
        import numba

        # numba read NUMBA_NUM_THREADS when it loaded; a changed value makes its next
        # compilation fail ("once the threads have been launched"): leave it as it is
        env.pop("NUMBA_NUM_THREADS")
        numba.set_num_threads(1)
    os.environ.update(env)
    threadpool_limits(limits=1)
    from stikstofcalc.assessment import many as assessment_many  # noqa: F401 - loaded before the freeze
    from stikstofcalc.emissions import inventory  # noqa: F401 - loaded before the freeze
    from stikstofcalc.deposition import fast  # noqa: F401

    gc.freeze()  # what is loaded now lives as long as the worker: never scan it
    gc.set_threshold(*BATCH_GC_THRESHOLD)


_GC_STATE = {"depth": 0, "threshold": None, "freeze": False}
_GC_LOCK = threading.Lock()


class _BatchGC:
    """In this process, while a batch runs: what exists already (the workbook read, the
    modules) frozen out of the cyclic collector and the thresholds of BATCH_GC_THRESHOLD;
    both undone afterwards (main-process collector time about 7 % of its CPU otherwise).

    Batches that overlap (nested, or in threads) share one setting: the first to start
    applies it, the last to finish restores it. A caller that froze objects itself keeps
    its frozen set as it is (unfreeze would release its objects too): then only the
    thresholds change."""

    def __enter__(self):
        import gc

        with _GC_LOCK:
            if _GC_STATE["depth"] == 0:
                _GC_STATE["threshold"] = gc.get_threshold()
                _GC_STATE["freeze"] = gc.get_freeze_count() == 0
                if _GC_STATE["freeze"]:
                    gc.freeze()
                gc.set_threshold(*BATCH_GC_THRESHOLD)
            _GC_STATE["depth"] += 1
        return self

    def __exit__(self, *exc):
        import gc

        with _GC_LOCK:
            _GC_STATE["depth"] -= 1
            if _GC_STATE["depth"] == 0:
                gc.set_threshold(*_GC_STATE["threshold"])
                if _GC_STATE["freeze"]:
                    gc.unfreeze()
        return False


class _Chunks:
    """Cases in, computed chunks out, in case order: work items of ``chunk_size`` cases
    sent to worker processes as soon as they are full (or computed here with one job).

    :meth:`add` and :meth:`drain` yield ``(payload, compute_chunk output)`` of the
    chunks finished so far, oldest first; the caller keeps up, so at most the chunks in
    flight are held.
    """

    def __init__(self, n_cases: int, *, jobs: int | None, chunk_size: int):
        if jobs is None:
            jobs = 1 if n_cases < PARALLEL_MIN_CASES else min(os.cpu_count() or 1, 8)
        self.parallel = jobs > 1 and n_cases > chunk_size
        self.jobs, self.chunk_size = jobs, chunk_size
        self.pending, self.futures, self.executor, self.closing = [], [], None, None
        self.first = None  # perf_counter of the first work item

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.closing is not None:
            self.closing.join()
        elif self.executor is not None:
            self.executor.shutdown(wait=exc[0] is None, cancel_futures=exc[0] is not None)
        return False

    def release(self):
        """Shut the workers down in the background (all chunks received); joined on exit."""
        if self.executor is not None and self.closing is None:
            import threading

            self.closing = threading.Thread(target=self.executor.shutdown, name="stikstofcalc-pool-exit")
            self.closing.start()

    def add(self, case):
        self.pending.append((case.case_id, case.project, case.regime, case.receptors, case.row, case.where))
        if len(self.pending) < self.chunk_size:
            return self._done(block=False)
        return self._send()

    def _send(self):
        chunk, self.pending = self.pending, []
        if self.first is None:
            self.first = time.perf_counter()
        if not self.parallel:
            return [(chunk, compute_chunk(chunk))]
        if self.executor is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            self.executor = ProcessPoolExecutor(max_workers=self.jobs, mp_context=mp.get_context("spawn"),
                                                initializer=_worker_init)
        self.futures.append((chunk, self.executor.submit(compute_chunk, chunk)))
        return self._done(block=False)

    def _done(self, *, block: bool):
        out = []
        while self.futures and (block or self.futures[0][1].done()):
            chunk, fut = self.futures.pop(0)
            out.append((chunk, fut.result()))
        return out

    def drain(self):
        """Send the last (partial) chunk; yield every chunk still to come, in order."""
        if self.pending:
            yield from self._send()
        while self.futures:
            chunk, fut = self.futures.pop(0)
            yield chunk, fut.result()


def _file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_batch(path, *, regime: str | None = None, jobs: int | None = None, progress=None,
              command: str | None = None, book: RawBook | None = None, output=None,
              overwrite: bool = False) -> BatchResult:
    """Read, validate and compute a case workbook or CSV; with ``output``, write the
    results workbook while computing.

    The cases are checked one by one (:func:`group_book`, then :func:`validate_case`)
    and sent to the workers in chunks as soon as a chunk is full, so validation overlaps
    the computation. With ``output`` the rows of every finished chunk go straight to a
    :class:`~stikstofcalc.io.excel.results.ResultsWriter` (rendered, compressed, spooled to
    a temporary file next to ``output``) while the workers compute the next ones; after
    the last chunk only the small sheets and the copy of the spooled rows remain. The
    rows are then not kept: ``results`` and ``sources`` of the returned BatchResult are
    None.

    Parameters
    ----------
    path : str or Path
        ``.xlsx`` (template or the ``invoer`` of a results workbook) or ``.csv``.
    regime : str, keyword-only
        Regime for cases without one (default ``post-porthos``).
    jobs : int, keyword-only
        Worker processes (:func:`compute_cases`; the default counts the case rows).
    progress : callable, keyword-only
        ``progress(total=n)`` once (n case rows to check), then ``progress(k)`` per chunk
        computed and per case found invalid.
    command : str, keyword-only
        Command line recorded in ``herkomst``.
    book : RawBook, keyword-only
        The input, if already read.
    output : str or Path, keyword-only
        Results workbook to write (atomically; checked before anything is computed).
    overwrite : bool, keyword-only
        Replace ``output`` if it exists.

    Returns
    -------
    BatchResult
        ``timings``: ``read_s``; ``validate_s`` (checking the cases, in this process,
        overlapped with the computation); ``compute_wall_s`` (first chunk sent to last
        chunk received); ``emissions_s``, ``deposition_s`` (CPU in the workers, summed);
        with ``output`` also ``write_rows_s`` (rendering and spooling the rows, in this
        process, overlapped with the computation). The time after the last chunk (the
        small sheets, the copy into the package) is not in the workbook it writes.
    """
    timings = {}
    writer = None
    t = time.perf_counter()
    book = read_book(path) if book is None else book
    timings["read_s"] = time.perf_counter() - t
    if output is not None:
        from stikstofcalc.io.excel.results import ResultsWriter

        writer = ResultsWriter(output, overwrite=overwrite, input_path=book.path)
    try:
        with _BatchGC():
            return _run(path, book, writer, regime=regime, jobs=jobs, progress=progress, command=command,
                        timings=timings)
    finally:
        if writer is not None:
            writer.close()


class _Collect:
    """What the batch keeps of the finished chunks: problems, failed cases, the permit
    verdict per computed case, and the rows (only without a writer)."""

    def __init__(self, writer, progress):
        self.writer, self.progress = writer, progress
        self.problems, self.failed, self.kept, self.permit, self.borderline = [], [], [], {}, set()
        self.write_s = self.emissions_s = self.deposition_s = 0.0

    def __call__(self, done):
        for ch, c in done:
            self.emissions_s += c["emissions_s"]
            self.deposition_s += c["deposition_s"]
            self.problems.extend(c["problems"])
            self.failed.extend(c["failed"])
            for r in c["results"]:
                v = r["permit_needed"]
                known = v is not None and not (isinstance(v, float) and math.isnan(v))  # any() skips NA
                self.permit[r["case"]] = self.permit.get(r["case"], False) or (known and bool(v))
                if r.get("borderline") is True:
                    self.borderline.add(r["case"])
            if self.writer is not None:
                t = time.perf_counter()
                self.writer.add(c["results"], c["sources"])
                self.write_s += time.perf_counter() - t
            else:
                self.kept.append(c)
            if self.progress:
                self.progress(len(ch))


def _run(path, book, writer, *, regime, jobs, progress, command, timings):
    t = time.perf_counter()
    g = group_book(book)
    validate_s = time.perf_counter() - t
    if progress:
        progress(total=len(g.builders))
    invalid, problems, n_valid = list(g.invalid), list(g.problems), 0
    take = _Collect(writer, progress)
    with _Chunks(len(g.builders), jobs=jobs, chunk_size=CHUNK_SIZE) as pool:
        for builder in g.builders:  # check a case, send its chunk when full; take what is done
            t = time.perf_counter()
            case = validate_case(builder, regime=regime)
            validate_s += time.perf_counter() - t
            if case.problems:
                invalid.append((case.case_id, case.row))
                problems.extend(case.problems)
                if progress:
                    progress(1)
                continue
            n_valid += 1
            take(pool.add(case))
        timings["validate_s"] = validate_s
        prov = batch_provenance(path, regime=regime, command=command)
        if writer is not None:  # the invoer echo while the workers compute
            t = time.perf_counter()
            writer.prepare(book)
            take.write_s += time.perf_counter() - t
        take(pool.drain())
        timings["compute_wall_s"] = time.perf_counter() - pool.first if pool.first is not None else 0.0
        pool.release()  # the workers exit while the workbook is finished
        timings["emissions_s"] = take.emissions_s
        timings["deposition_s"] = take.deposition_s
        if writer is not None:
            timings["write_rows_s"] = take.write_s
        problems += take.problems
        invalid += take.failed
        if writer is None:
            results = pd.DataFrame([r for c in take.kept for r in c["results"]], columns=RESULT_COLUMNS)
            srcs = [c["sources"] for c in take.kept if c["sources"] is not None]
            sources = pd.concat(srcs, ignore_index=True) if srcs else pd.DataFrame(columns=SOURCE_COLUMNS)
        else:
            results = sources = None
        n_permit = sum(take.permit.values())
        counts = {"read": g.n_read, "valid": n_valid - len(take.failed), "computed": len(take.permit),
                  "invalid": len(invalid), "permit_needed": n_permit,
                  "no_permit": len(take.permit) - n_permit, "borderline": len(take.borderline),
                  "problems": len(problems), "errors": sum(p["niveau"] == "fout" for p in problems)}
        out = BatchResult(results, sources, pd.DataFrame(problems, columns=PROBLEM_COLUMNS), book, prov,
                          counts, timings)
        if writer is not None:
            writer.finish(out)
    return out


def _terrain_text() -> str:
    """The terrain of the batch's engine calls, in one line (own receptor terrain per case: its
    result rows' notes)."""
    from stikstofcalc.assessment.core import terrain_phrase

    return (terrain_phrase() + " Eigen terrein van rekenpunten (blad receptoren: z0_m, landuse, "
            "lu_1..lu_9) gaat voor; de resultaatrij van de zaak noemt het.")


def batch_provenance(path, *, regime, command, chunks=None) -> dict:
    """What the ``herkomst`` sheet records: versions, editions and hashes, model, rules, input."""
    from stikstofcalc import compiled, kengetallen, rules
    from stikstofcalc._version import __version__
    from stikstofcalc.deposition.model import load_model
    from stikstofcalc.geo.natura2000 import ATTRIBUTION_NL as ATTRIBUTION, data_checksums

    kg = kengetallen.load()
    reg = rules.get_regime(regime)
    return {
        "package": f"stikstofcalc {__version__}",
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command or "",
        "input": str(path), "input_sha256": _file_sha256(path) if path and Path(path).is_file() else "",
        "kengetallen": kg.provenance(),
        "model": load_model().provenance,
        "terrain": _terrain_text(),
        "engine_path": compiled.path_name(),
        "natura2000": {"attribution": ATTRIBUTION, "checksums": data_checksums()},
        "regime_default": {"name": reg.name, "threshold_mol_ha_yr": reg.threshold_mol_ha_yr,
                           "in_force": reg.in_force, "note": reg.note,
                           "rules": {k: f"{rules.RULES[k].content} ({rules.RULES[k].source}, "
                                        f"{rules.RULES[k].date}, {rules.RULES[k].status})" for k in reg.rules}},
        "method": "per blok van zaken: emissiebronnen uit de kengetallen (inventaris, één doorgang "
                  "per blok: assessment.many.assess_many); per zaak: depositie per bronsjabloon en "
                  "gesnoeid zoeken over de hexagons (assessment.assess_project_steps, zonder "
                  "maatregelen; de zoektochten van een blok lopen gelijk op, één aanroep van de "
                  "rekenkern per ronde, dezelfde waarden als per zaak); rekenpunten: de Natura "
                  "2000-hexagons binnen 25 km, tenzij de zaak eigen rekenpunten geeft",
        **_verdict_check_provenance(kg, reg),
    }


def _verdict_check_provenance(kg, reg) -> dict:
    """Machinery heat content, characteristics per sector and the grensgeval band (issue 12)."""
    from stikstofcalc.assessment.core import verdict_provenance, borderline_band
    from stikstofcalc.emissions.sources import DEFAULT_MACHINERY_HEAT

    out = verdict_provenance(kg, DEFAULT_MACHINERY_HEAT, borderline_band(kg, reg.threshold_mol_ha_yr))
    out["machinery_heat"]["note"] += ("; per zaak te kiezen in de kolom construction.werktuig_warmte "
                                      "(resultaten: machinery_heat)")
    return out


# --------------------------------------------------------------------------- source lists (issue 12)


def run_source_batch(path, *, regime: str | None = None, output=None, overwrite: bool = False,
                     command: str | None = None, machinery_heat=None) -> BatchResult:
    """``batch`` on a source list (CSV/Excel in the ``deposition`` format with ``case_id``).

    Every valid case is assessed (:func:`stikstofcalc.assessment.source_list.assess_source_list`);
    every problem is a row of ``fouten`` and its case is left out. The results workbook
    has ``resultaten`` (the same columns as for projects), ``bronnen`` (the sources with
    the characteristics used), ``fouten`` and ``herkomst``; there is no ``invoer`` echo
    (the source list itself is the input).
    """
    from stikstofcalc import rules
    from stikstofcalc.io.excel.results import write_results
    from stikstofcalc.assessment.source_list import (assess_source_list, fill_characteristics,
        read_source_table_cases)
    from stikstofcalc.emissions.sources import machinery_heat_choice

    t0 = time.perf_counter()
    sl, errors, invalid = read_source_table_cases(path)
    problems = [problem(case=None, sheet=Path(str(path)).name, row=e.row, key=e.field, value=e.value,
                        message=e.message or str(e), expected=e.expected, field_=e.field) for e in errors]
    if problems:  # name the case of each row
        from stikstofcalc.io.tables import read_table
        from stikstofcalc.assessment.source_list import raw_cases

        cases = raw_cases(read_table(path), str(path))
        for p, e in zip(problems, errors):
            p["zaak"] = cases[e.row - 2] if isinstance(e.row, int) and 2 <= e.row < len(cases) + 2 else None
    results, srcs = [], []
    permit = borderline = 0
    n_cases = 0
    if sl is not None:
        from stikstofcalc import kengetallen

        kg = kengetallen.load()
        heat = machinery_heat_choice(machinery_heat)
        assessments = assess_source_list(sl, regime=regime, machinery_heat=heat, provenance=False)
        for a in assessments:
            rows = result_rows(a)
            results.extend(rows)
            permit += any(r["permit_needed"] for r in rows)
            borderline += any(r.get("borderline") is True for r in rows)
        n_cases = len(assessments)
        t, _ = fill_characteristics(sl.table, kg, heat)
        srcs.append(t.rename(columns={"source_id": "label_id"}))
    sources = pd.DataFrame(columns=SOURCE_COLUMNS)
    if srcs:
        t = srcs[0]
        sources = pd.DataFrame({c: (t[c] if c in t else None) for c in SOURCE_COLUMNS})
        sources["label"] = t["label"].where(t["label"].astype(str) != "", t["label_id"])
        sources["basis"] = "bronnenlijst"
        sources["overridden"] = False
        sources["edition"] = None
    reg = rules.get_regime(regime)
    prov = batch_provenance(path, regime=reg.name, command=command)
    prov["method"] = ("bronnenlijst: per zaak de bronnen zoals opgegeven (lege kenmerken uit de standaardwaarden "
                      "per sector), depositie per bronsjabloon en gesnoeid zoeken over de hexagons "
                      "(source_list.assess_source_list)")
    counts = {"read": n_cases + len(invalid), "valid": n_cases, "computed": n_cases, "invalid": len(invalid),
              "permit_needed": permit, "no_permit": n_cases - permit, "borderline": borderline,
              "problems": len(problems),
              "errors": len(problems)}
    out = BatchResult(pd.DataFrame(results, columns=RESULT_COLUMNS), sources,
                      pd.DataFrame(problems, columns=PROBLEM_COLUMNS), RawBook(str(path), {}), prov, counts,
                      {"total_s": time.perf_counter() - t0})
    if output is not None:
        write_results(out, output, overwrite=overwrite)
    return out
