"""Read a case workbook (.xlsx) or CSV into raw rows: cells verbatim, with their row numbers.

Nothing is interpreted here (no units, no dates parsed): :mod:`stikstofcalc.batch.run`
does that with explicit rules. What this module guarantees:

- every non-empty row of every sheet is returned with its sheet row number;
- formulas are read as the value Excel cached when it last saved the file, never
  evaluated; a formula without a cached value becomes a :class:`NoCachedValue` holding its
  formula text (the batch reports it, and writes the text back in its ``invoer`` echo);
- header rows are recognised: row 1 Dutch labels and row 2 canonical keys (the
  template), or a single header row of keys or labels (CSV, own workbooks);
- a results workbook is accepted as input: its ``invoer`` sheets are read as the
  case sheets (``invoer`` -> ``projecten``, ``invoer_routes`` -> ``routes``, ...);
- CSV: UTF-8 (with or without BOM), separator ``;`` when the header line holds one,
  else ``,``; it is always the ``projecten`` sheet.
"""

from __future__ import annotations

import csv
import io
import zipfile
from itertools import zip_longest
from dataclasses import dataclass, field
from pathlib import Path

from stikstofcalc.caches import cached
from stikstofcalc.errors import InputError, closest, read_reason
from stikstofcalc.io.excel.schema import CASES_SHEET, SHEET_BY_NAME
from stikstofcalc.io.text import decode_csv, separator
from stikstofcalc.limits import check_xlsx

#: Marker for a formula cell whose workbook holds no cached value.
class NoCachedValue:
    """A formula cell whose workbook holds no cached value; ``formula`` is its text (``=10*13``),
    so the ``invoer`` echo keeps it (as text) and a run of that echo gives the same message."""

    __slots__ = ("formula",)

    def __init__(self, formula: str = ""):
        self.formula = formula

    def __repr__(self):
        return f"<formule zonder waarde{': ' + self.formula if self.formula else ''}>"


#: The marker without formula text (compare with ``isinstance(v, NoCachedValue)``).
NO_CACHED_VALUE = NoCachedValue()
#: Prefix of the sheets of a results workbook that echo the input.
INVOER_PREFIX = "invoer"
#: Sheets that are read without comment and not used: the template's and a results workbook's own.
IGNORED_SHEETS = {"toelichting", "lijsten", "resultaten", "bronnen", "fouten", "herkomst"}
#: A column whose header starts with one of these is the user's own note: kept in ``invoer``,
#: never used, reported once as a warning. Every other unknown column is an error.
COMMENT_PREFIXES = ("#", "opmerking", "notitie", "commentaar", "toelichting", "note", "comment")
#: Most columns a sheet may have (Excel's limit: the batch echoes every input column in ``invoer``).
MAX_COLUMNS = 16384


@dataclass
class RawSheet:
    """One sheet as read.

    Attributes
    ----------
    name : sheet name in the case schema (``projecten``, ``routes``, ...)
    source_name : the sheet's name in the file
    header : header cells as given (list of lists: one or two header rows)
    keys : canonical key per column (None where unrecognised)
    rows : list of (row number, list of cell values), empty rows left out
    unknown : {column index: (header text, is a note column)} of the columns whose header
        names no key
    """

    name: str
    source_name: str
    header: list
    keys: list
    rows: list = field(default_factory=list)
    unknown: dict = field(default_factory=dict)


@dataclass
class RawBook:
    """All sheets read from one file, plus problems with the file's structure."""

    path: str
    sheets: dict
    problems: list = field(default_factory=list)
    unknown_sheets: list = field(default_factory=list)


def _empty(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _match_keys(cells, schema_sheet):
    """Canonical key per header cell: by key or by Dutch label (None if unknown)."""
    by_key = {c.key: c.key for c in schema_sheet.columns}
    by_label = {c.label.strip().lower(): c.key for c in schema_sheet.columns}
    out = []
    for v in cells:
        text = "" if v is None else str(v).strip()
        out.append(by_key.get(text) or by_label.get(text.lower()))
    return out


def split_header(name, source_name, rows) -> RawSheet:
    """Find the header rows of a sheet (list of (row, cells)) and return a RawSheet."""
    schema_sheet = SHEET_BY_NAME[name]
    if not rows:
        return RawSheet(name, source_name, [], [])
    first = rows[0][1]
    keys1 = _match_keys(first, schema_sheet)
    header, body = [first], rows[1:]
    keys = keys1
    if len(rows) > 1 and rows[0][0] == 1 and rows[1][0] == 2:
        keys2 = _match_keys(rows[1][1], schema_sheet)
        texts2 = [str(v).strip() for v in rows[1][1] if not _empty(v)]
        if texts2 and sum(k is not None for k in keys2) >= max(1, len(texts2) // 2):
            header, body = [first, rows[1][1]], rows[2:]
            keys = [k2 or k1 for k1, k2 in zip_longest(keys1, keys2)]
    width = max([len(h) for h in header] + [len(r[1]) for r in body] + [0])
    keys = list(keys) + [None] * (width - len(keys))
    body = [(n, list(c) + [None] * (width - len(c))) for n, c in body]
    return RawSheet(name, source_name, header, keys, body, _unknown(header, keys, schema_sheet))


def _unknown(header, keys, schema_sheet) -> dict:
    """The columns whose header names no key: {index: (header text, is a note column)}."""
    out = {}
    for i, k in enumerate(keys):
        if k is not None:
            continue
        text = " / ".join(str(h[i]).strip() for h in header if i < len(h) and not _empty(h[i]))
        if text:
            out[i] = (text, text.lower().startswith(COMMENT_PREFIXES))
    return out


@cached(maxsize=16)
def _names(sheet_name: str) -> dict:
    """Key, Dutch label and the key's last part (``count``) -> key, for the hints."""
    names = {}
    for c in SHEET_BY_NAME[sheet_name].columns:
        for alias in (c.key, c.label, c.key.rsplit(".", 1)[-1]):
            names.setdefault(alias.strip().lower(), c.key)
    return names


def suggestion(raw_sheet: RawSheet, i: int) -> str:
    """`` (bedoelt u 'key' (label)?)`` for unknown column ``i``, else '' (computed when asked:
    a sheet may have thousands of unknown columns)."""
    text, note = raw_sheet.unknown.get(i, ("", True))
    if note:
        return ""
    names = _names(raw_sheet.name)
    near = closest(text.split(" / ")[0], list(names))
    if near is None:
        return ""
    key = names[near.lower()]
    label = SHEET_BY_NAME[raw_sheet.name].column(key).label
    return f" (bedoelt u {key!r} ({label})?)"


def _trim(cells):
    cells = list(cells)
    while cells and _empty(cells[-1]):
        cells.pop()
    return cells


def _sheet_rows(ws, formulas=None):
    out = []
    for n, cells in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = _trim(cells)
        if formulas is not None:
            for col, text in formulas.get(n, {}).items():
                if col < len(cells) and cells[col] is None:
                    cells[col] = NoCachedValue(text)
                elif col >= len(cells):
                    cells += [None] * (col - len(cells)) + [NoCachedValue(text)]
        if any(not _empty(v) for v in cells):
            out.append((n, cells))
    return out


def _has_formula(zf, name, block: int = 2**20) -> bool:
    """Whether a sheet part holds ``<f``; read in blocks (bounded memory, see :mod:`..limits`)."""
    with zf.open(name) as fh:
        tail = b""
        while chunk := fh.read(block):
            if b"<f" in tail + chunk:
                return True
            tail = chunk[-1:]
    return False


def _formula_cells(path, sheet_names) -> dict:
    """{sheet: {row: [col, ...]}} of formula cells (only read when the file has formulas)."""
    with zipfile.ZipFile(path) as zf:
        has = any(_has_formula(zf, n) for n in zf.namelist()
                  if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    if not has:
        return {}
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        found = {}
        for name in sheet_names:
            per = {}
            for n, cells in enumerate(wb[name].iter_rows(values_only=True), start=1):
                cols = {i: v for i, v in enumerate(cells) if isinstance(v, str) and v.startswith("=")}
                if cols:
                    per[n] = cols
            found[name] = per
        return found
    finally:
        wb.close()


def schema_name(sheet_title: str, titles=()) -> str | None:
    """Schema sheet a file sheet stands for (results workbooks: invoer -> projecten,
    invoer_onderdelen -> onderdelen), or None; ``titles``: the file's other sheets (an
    ``invoer`` beside a ``projecten`` sheet is the echo, not the input)."""
    t = sheet_title.strip().lower()
    if t in SHEET_BY_NAME:
        return t
    if CASES_SHEET not in {x.strip().lower() for x in titles} and t.startswith(INVOER_PREFIX):
        rest = t[len(INVOER_PREFIX):].lstrip("_")
        return CASES_SHEET if rest == "" else (rest if rest in SHEET_BY_NAME else None)
    return None


def read_xlsx(path) -> RawBook:
    """Read every case sheet of a workbook (cached formula values, never evaluated)."""
    import openpyxl

    path = Path(path)
    check_xlsx(path)  # decompression bombs: refused before anything is unpacked
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise InputError("kan niet worden gelezen als Excel-werkmap", file=str(path),
                         expected="een .xlsx-bestand (Excel 2007 of later) of een .csv-bestand",
                         detail="beschadigd, of geen Excel-werkmap") from None
    try:
        titles = wb.sheetnames
        wanted = {t: schema_name(t, titles) for t in titles}
        formulas = _formula_cells(path, [t for t, s in wanted.items() if s])
        book = RawBook(str(path), {})
        for title, name in wanted.items():
            if name is None:
                if title.strip().lower() not in IGNORED_SHEETS:
                    book.unknown_sheets.append(title)
                continue
            if name in book.sheets:
                book.problems.append(InputError(
                    f"blad {title!r} staat voor {name!r}, dat al is gelezen uit "
                    f"{book.sheets[name].source_name!r}", sheet=title,
                    expected="één blad per soort"))
                continue
            rows = _sheet_rows(wb[title], formulas.get(title))
            book.sheets[name] = split_header(name, title, rows)
        return book
    finally:
        wb.close()


def read_csv(path) -> RawBook:
    """Read a CSV as the ``projecten`` sheet (UTF-8; ``;`` or ``,`` separated)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"kan niet worden gelezen ({read_reason(exc)})", file=str(path),
                         expected="een leesbaar .csv-bestand") from None
    if data[:4] == b"PK\x03\x04":
        raise InputError("dit is een werkmap (zip), geen CSV", file=str(path),
                         expected="de werkmap met de extensie .xlsx, of een CSV-tekstbestand")
    text = decode_csv(data, path)
    first_line = next((line for line in text.splitlines() if line.strip()), "")  # the header line
    delimiter = separator(first_line)
    rows = []
    try:
        for n, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            if len(cells) > MAX_COLUMNS:
                raise InputError(f"rij {n} heeft {len(cells)} kolommen", file=str(path), row=n,
                                 expected=f"hoogstens {MAX_COLUMNS} kolommen (de grens van Excel)")
            cells = _trim([c if c.strip() else None for c in cells])
            if cells:
                rows.append((n, cells))
    except csv.Error as exc:
        why = "een cel is te groot" if "field larger" in str(exc) else "fout in de opbouw"
        raise InputError(f"geen leesbare CSV ({why})", file=str(path),
                         expected="een CSV-tekstbestand") from None
    return RawBook(str(path), {CASES_SHEET: split_header(CASES_SHEET, path.name, rows)})


def read_book(path) -> RawBook:
    """Read a case workbook (.xlsx/.xlsm) or CSV; raise InputError if it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise InputError("bestand niet gevonden", file=str(path), expected="een bestaand .xlsx- of .csv-bestand")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    if suffix in (".csv", ".txt"):
        return read_csv(path)
    raise InputError(f"bestandstype {suffix!r} wordt niet gelezen", file=str(path),
                     expected="een .xlsx-werkmap of een .csv-bestand")
