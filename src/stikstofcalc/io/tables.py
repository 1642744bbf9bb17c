"""Files in and out for the deposition engine: CSV and Excel, read faithfully, written atomically.

Reading keeps every cell as the user typed it: CSV cells are read as text (ids such as
``"007"`` stay ``"007"``, numbers are parsed and checked later by :mod:`.api` with row
numbers); Excel cells keep their type (first sheet, header in row 1). Rows keep their
order and spreadsheet row numbers: trailing empty rows are ignored, an empty row in
between is an error. A ``;``-separated CSV (Dutch Excel) is read with decimal commas.

Writing goes to a temporary file in the output's folder and is moved into place with
:func:`os.replace`, so a reader never sees a half-written file; an existing output is
replaced only with ``overwrite=True``, and an input file is never overwritten.
"""

from __future__ import annotations

import hashlib
import io as _io
import json
import os
import re
import sys
import time
import zipfile
from collections import Counter
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc import compiled
from stikstofcalc.errors import InputError, nl_int, read_reason
from stikstofcalc.deposition.api import OUTPUT_COLUMNS, WORKBOOK_TEXT, deposition
from stikstofcalc.io.excel import cells
from stikstofcalc.io.atomic import AtomicGroup, check_output_path, csv_text, restore_frame, write_policy
from stikstofcalc.limits import check_xlsx
from stikstofcalc.io.excel.cells import finish_sheets
from stikstofcalc.io.herkomst import HERKOMST_COLUMNS, herkomst_rows
from stikstofcalc.io.text import decode_csv, separator
from stikstofcalc.deposition.model import model_info
from stikstofcalc._version import __version__

SUFFIXES = (".csv", ".xlsx")


# ----------------------------------------------------------------- reading

def read_table(path) -> pd.DataFrame:
    """Read a CSV or .xlsx table (first sheet) without changing any cell.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (UTF-8, UTF-8 with BOM, or Windows-1252; separator ``,``, ``;`` or tab,
        sniffed from the header line) or ``.xlsx``.

    Returns
    -------
    DataFrame
        One row per data row, in file order, index 0..n-1 (spreadsheet row = index + 2).
        CSV cells are strings ("" when empty); Excel cells keep their value (None -> "").
        ``attrs["file"]`` holds the file name, ``attrs["decimal"]`` is ``","`` for a
        ``;``-separated CSV, ``"."`` for another CSV and
        :data:`~stikstofcalc.deposition.api.WORKBOOK_TEXT` for a workbook (text cells typed
        by a person: "1.500" and "1,500" are ambiguous there).

    Raises
    ------
    InputError
        Missing or unreadable file, unsupported format, no header, duplicate or empty
        column names, ragged rows, or an empty row between data rows.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        hint = " (sla het op als .xlsx)" if suffix == ".xls" else ""
        raise InputError(f"onbekend bestandstype {suffix or '(geen extensie)'}{hint}", file=str(path),
                         expected="een .csv- of .xlsx-bestand")
    if not path.is_file():
        raise InputError("bestand niet gevonden" if not path.exists() else "geen bestand", file=str(path))
    if suffix == ".csv":
        (header, rows, decimal), sheet = _read_csv(path), None
    else:
        header, rows, decimal, sheet = _read_xlsx(path)
    df = _frame(header, rows, path)
    df.attrs = {"file": str(path), "decimal": decimal}
    if sheet is not None:  # the sheet read (the first), for the messages
        df.attrs["sheet"] = sheet
    return df


def _read_csv(path):
    text = decode_csv(_read_bytes(path), path)
    if not text.strip():
        raise InputError("het bestand is leeg", file=str(path), expected="een rij met kolomnamen")
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise InputError("de eerste regel is leeg", file=str(path), row=1,
                         expected="de kolomnamen op regel 1 (verwijder de lege regel)")
    sep = separator(first)
    try:
        cells = pd.read_csv(_io.StringIO(text), sep=sep, header=None, dtype=str,
                            na_filter=False, skip_blank_lines=False, quotechar='"')
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            raise InputError(f"{m.group(3)} cellen maar slechts {m.group(1)} kolomnamen",
                             file=str(path), row=int(m.group(2)),
                             expected="een waarde per kolom") from None
        m = re.search(r"EOF inside string starting at row (\d+)", str(exc))
        raise InputError("de CSV is niet te lezen" + (f": een aanhalingsteken (\") vanaf rij {int(m.group(1)) + 1} "
                         "wordt niet gesloten" if m else " als tabel"), file=str(path),
                         expected="een CSV met één kopregel en gesloten aanhalingstekens") from None

    cells = restore_frame(cells)  # text our CSV writer protected against formulas (atomic.defuse)
    header = cells.iloc[0].tolist()
    return header, cells.iloc[1:].reset_index(drop=True), "," if sep == ";" else "."


def _read_bytes(path):
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"het bestand is niet te lezen ({read_reason(exc)})", file=str(path)) from None


def _read_xlsx(path):
    from openpyxl import load_workbook

    check_xlsx(path)  # decompression bombs: refused before anything is unpacked
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise InputError("geen leesbare .xlsx-werkmap", file=str(path),
                         detail="beschadigd, of geen Excel-werkmap") from None
    try:
        title = wb.worksheets[0].title
        rows = [["" if v is None else v for v in r]
                for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()
    _formulas_without_value(path, rows)
    if not rows:
        raise InputError("het eerste blad is leeg", file=str(path), expected="een rij met kolomnamen")
    width = max(len(r) for r in rows)
    header = list(rows[0]) + [""] * (width - len(rows[0]))
    while len(header) > 1 and header[-1] == "":
        header.pop()
    cells = pd.DataFrame([r + [""] * (width - len(r)) for r in rows[1:]], dtype=object,
                         columns=range(width)) if len(rows) > 1 else pd.DataFrame(
                             columns=range(width), dtype=object)
    return [h if isinstance(h, str) else str(h) for h in header], cells, WORKBOOK_TEXT, title


def _formulas_without_value(path, rows):
    """Put the formula text in cells whose formula has no saved value (a workbook written
    by a program, never opened in Excel): the cell then reads as ``=B2*3`` and the check of
    its column says that it is no number, instead of "ontbreekt"."""
    from openpyxl import load_workbook

    if not any(v == "" for r in rows for v in r):
        return
    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        for i, r in enumerate(wb.worksheets[0].iter_rows(values_only=True)):
            if i >= len(rows):
                break
            for j, v in enumerate(r):
                if isinstance(v, str) and v.startswith("=") and j < len(rows[i]) and rows[i][j] == "":
                    rows[i][j] = v
    finally:
        wb.close()


def _frame(header, cells, path):
    """Header + cell frame -> DataFrame; checks names, ragged and empty rows."""
    file = str(path)
    names = [str(h) for h in header]
    if all(h.strip() == "" for h in names):
        raise InputError("geen rij met kolomnamen", file=file, row=1, expected="kolomnamen in rij 1")
    for j, h in enumerate(names):
        if h.strip() == "":
            raise InputError(f"kolom {j + 1} heeft geen naam", file=file, row=1,
                             expected="een naam voor elke kolom")
    dups = sorted(h for h, n in Counter(names).items() if n > 1)  # linear in the columns
    if dups:
        raise InputError(f"dubbele kolomnaam: {', '.join(dups)}", file=file, row=1,
                         expected="elke kolom een keer")
    width = len(names)
    blank = _blank_rows(cells)
    n = len(blank) - int(np.argmax(~blank[::-1])) if (~blank).any() else 0
    cells, blank = cells.iloc[:n], blank[:n]          # trailing empty rows are not data
    if blank.any():
        raise InputError("lege rij tussen de gegevens", file=file, row=int(np.argmax(blank)) + 2,
                         expected="geen lege rijen (verwijder of vul de rij)")
    if cells.shape[1] > width:
        extra = ~_blank_rows(cells.iloc[:, width:])
        if extra.any():
            i = int(np.argmax(extra))
            raise InputError(f"meer cellen dan de {width} kolomnamen", file=file, row=i + 2,
                             expected="een waarde per kolom")
    df = cells.iloc[:, :width].copy()
    df.columns = names
    return df.reset_index(drop=True).astype(object)


def _blank_rows(cells) -> np.ndarray:
    """True for the rows whose cells are all empty or spaces.

    Column by column for ordinary tables; cell by cell when there are more columns than
    rows (20,000 columns cost a minute column by column)."""
    if cells.shape[1] <= max(64, len(cells)):
        blank = np.ones(len(cells), dtype=bool)
        for c in cells.columns:
            blank &= (cells[c].astype(str).str.strip() == "").to_numpy()
        return blank
    return np.array([all(not str(v).strip() for v in row) for row in cells.to_numpy(dtype=object)],
                    dtype=bool)


# ----------------------------------------------------------------- writing

def check_output(path, *, inputs=(), overwrite: bool = False) -> Path:
    """Refuse an output path that is unsupported, an input, or exists (without overwrite)."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(f"onbekend uitvoertype {path.suffix or '(geen extensie)'}", file=str(path),
                         expected="een bestandsnaam op .csv of .xlsx")
    for inp in inputs:
        if _same_file(inp, path):
            raise InputError("de uitvoer zou een invoerbestand overschrijven", file=str(path),
                             expected="een andere uitvoernaam")
    if path.is_dir():
        raise InputError("de uitvoer is een map", file=str(path), expected="een bestandsnaam")
    if path.exists() and not overwrite:
        raise InputError("het uitvoerbestand bestaat al", file=str(path),
                         expected="een nieuwe naam, of --overwrite (overwrite=True) om het te vervangen")
    # a missing folder is made when the output is written, as by every other command; the
    # nearest existing one must be a writable folder (not "afile/out.csv")
    return check_output_path(path, inputs=inputs, overwrite=overwrite)


def _same_file(a, b) -> bool:
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        return os.path.samefile(a, b)  # also hard links and symlinks
    return a.resolve() == b.resolve()


def write_table(df: pd.DataFrame, path, *, overwrite: bool = False, inputs=(),
                notes: list[str] | None = None, provenance: dict | None = None) -> Path:
    """Write a table as CSV or .xlsx, atomically (temporary file + :func:`os.replace`).

    Parameters
    ----------
    df : DataFrame
        Written without its index, columns in order.
    path : str or Path
        ``.csv`` (UTF-8, ``,``-separated, floats at full precision) or ``.xlsx`` (sheet
        ``deposition``, plus a ``notes`` sheet when ``notes`` are given).
    overwrite : bool, keyword-only
        Replace an existing file (never one of ``inputs``).
    inputs : sequence of paths, keyword-only
        Files that must not be overwritten.
    notes : list of str, keyword-only
        Run notes for the xlsx ``notes`` sheet.
    provenance : dict, keyword-only
        Written as a ``herkomst`` sheet (xlsx) or as ``PATH.provenance.json`` beside a
        CSV (also atomically).
    """
    path = check_output(path, inputs=inputs, overwrite=overwrite)
    # the table and its provenance are one unit: both renamed into place, or neither
    with write_policy(inputs=inputs, overwrite=overwrite), AtomicGroup() as group:
        if path.suffix.lower() == ".csv":
            group.write_text(path, csv_text(df))
            if provenance is not None:
                group.write_text(path.with_name(path.name + ".provenance.json"),
                                 json.dumps(provenance, indent=2, ensure_ascii=False))
        else:
            group.write_saved(path, lambda fh: _write_xlsx(df, fh, notes or [], provenance))
    return path


def _write_xlsx(df, fh, notes, provenance=None):
    with pd.ExcelWriter(fh, engine="openpyxl") as xw:
        df.to_excel(xw, sheet_name="deposition", index=False)
        if notes:
            pd.DataFrame({"note": notes}).to_excel(xw, sheet_name="notes", index=False)
        if provenance:
            pd.DataFrame(herkomst_rows(provenance), columns=list(HERKOMST_COLUMNS)).to_excel(
                xw, sheet_name="herkomst", index=False)
        # text stays text (no formulas), widths, frozen header, print set-up; deposition shown
        # with 6 decimals (stored exactly)
        finish_sheets(xw.book, float_formats={"deposition": ("deposition_", "0.000000")})


def deposition_provenance(inputs, *, cutoff_m, allow_extrapolation, notes, terrain=None) -> dict:
    """What produced a deposition output: package and model data versions, inputs, settings."""
    return {
        "tool": f"stikstofcalc {__version__}",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "model": model_info(),
        "engine_path": compiled.path_name(),
        "terrain": terrain,
        "cutoff_m": cutoff_m,
        "allow_extrapolation": allow_extrapolation,
        "inputs": {str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in inputs},
        "notes": list(notes),
        "caveat": "Voortoets met een emulator van OPS-LT 5.3.1, geen AERIUS-berekening; "
                  "nauwkeurigheid in docs/engine.md.",
    }


# ----------------------------------------------------------------- the file job

@dataclass
class RunSummary:
    """What :func:`deposition_files` did (for the CLI's summary line)."""

    output: Path
    n_sources: int
    n_elementary_sources: int
    n_receptors: int
    max_total_mol_ha_yr: float
    max_receptor_id: str | None
    seconds: float
    notes: list[str] = field(default_factory=list)


def deposition_files(sources_path, receptors_path, output_path, *, cutoff=True,
                     allow_extrapolation: bool = False, overwrite: bool = False,
                     chunk_pairs: int | None = None, terrain: str = "map",
                     receptor_terrain: str = "hexagon") -> RunSummary:
    """Read SOURCES and RECEPTORS files, compute deposition, write OUTPUT atomically.

    The output is checked before anything is computed (type, not an input, exists
    only with ``overwrite``). Parameters as in :func:`.api.deposition`; file formats in
    ``docs/deposition_io.md``.

    Returns
    -------
    RunSummary
    """
    t0 = time.perf_counter()
    inputs = (sources_path, receptors_path)
    check_output(output_path, inputs=inputs, overwrite=overwrite)
    sources, receptors = read_table(sources_path), read_table(receptors_path)
    for df, name in ((sources, "sources"), (receptors, "receptors")):
        if len(df) == 0:
            what = {"sources": "bronnen", "receptors": "receptoren"}[name]
            raise InputError(f"het bestand met {what} heeft geen gegevensrijen", file=df.attrs["file"],
                             expected="ten minste een rij onder de kolomnamen")
    if str(output_path).lower().endswith(".xlsx"):
        _fits_a_sheet(receptors, len(OUTPUT_COLUMNS), output_path)
    out = deposition(sources, receptors, cutoff=cutoff, allow_extrapolation=allow_extrapolation,
                     chunk_pairs=chunk_pairs, sources_file=sources.attrs["file"],
                     receptors_file=receptors.attrs["file"], terrain=terrain,
                     receptor_terrain=receptor_terrain)
    notes = list(out.attrs.get("notes", []))
    if str(output_path).lower().endswith(".xlsx"):
        out = _numbers_for_excel(out, ("x", "y", "landuse"))
    prov = deposition_provenance(inputs, cutoff_m=out.attrs.get("cutoff_m"),
                                 allow_extrapolation=allow_extrapolation, notes=notes,
                                 terrain=out.attrs.get("terrain"))
    path = write_table(out, output_path, overwrite=overwrite, inputs=inputs, notes=notes,
                       provenance=prov)
    total = out[OUTPUT_COLUMNS[2]].to_numpy(dtype=float)
    k = int(np.argmax(total)) if len(total) else None
    return RunSummary(path, len(sources), int(out.attrs.get("n_elementary_sources", 0)),
                      len(out), float(total[k]) if k is not None else 0.0,
                      None if k is None else str(out["receptor_id"].iloc[k]),
                      time.perf_counter() - t0, notes)


def _fits_a_sheet(receptors, added: int, output_path) -> None:
    """Refuse, before computing, an .xlsx output that Excel cannot hold in one sheet."""
    rows, cols = len(receptors) + 1, receptors.shape[1] + added
    if rows > cells.EXCEL_ROWS or cols > cells.EXCEL_COLUMNS:
        raise InputError(f"de uitvoer krijgt {nl_int(rows - 1)} {'rij' if rows == 2 else 'rijen'} en {nl_int(cols)} "
                         "kolommen: te groot voor een "
                         "Excel-werkblad", file=str(output_path),
                         expected=f"hoogstens {nl_int(cells.EXCEL_ROWS - 1)} receptoren en {nl_int(cells.EXCEL_COLUMNS)} kolommen "
                                  "in .xlsx, of uitvoer naar .csv")


def _numbers_for_excel(df, columns):
    """Validated number columns read as CSV text become numbers in an .xlsx output."""
    df = df.copy()
    for c in columns:
        if c in df.columns:
            num = pd.to_numeric(df[c].replace("", None), errors="coerce")
            if num.notna().sum() == (df[c].astype(str).str.strip() != "").sum():
                df[c] = num.astype(object).where(num.notna(), "")
    return df
