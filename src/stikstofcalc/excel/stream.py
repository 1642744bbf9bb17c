"""Fast rows for big sheets: the sheet XML is written directly, column by column.

openpyxl's write-only mode costs about 10 us per cell (one XML element object per
cell), 0.25 ms per ``bronnen`` row; at half a million rows (10,000 cases) that is two
minutes. Here the ``sheetData`` rows of a sheet are rendered from a DataFrame one
column at a time (each distinct text is escaped once) and spliced into the workbook
openpyxl saved, so styles, views, widths and conditional formatting stay openpyxl's:

1. :func:`template_row` appends one row of sample cells with the layout's number
   formats (openpyxl registers the styles and writes their ids);
2. after ``wb.save``, :func:`splice_rows` replaces that row with the rendered rows
   (cells carry the template row's style id per column).

The values are written as openpyxl writes them (``excel_safe``), except that numbers
are written as shortest round-trip text (openpyxl cuts them to 15 significant digits), booleans as ``t="b"``, text as inline strings (control characters
as ``\\xNN``, cut at 32,767 characters, never a formula); empty, NaN and infinite
values leave the cell empty.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

#: Rows rendered and written per block (memory bound) [-].
BLOCK_ROWS = 2_000
#: Marker value of the template row's text cells.
_MARK = "\u2063stikstofcalc-template\u2063"
_ROW = re.compile(rb'<row r="(\d+)"[^>]*>(.*?)</row>', re.S)
_CELL_STYLE = re.compile(rb'<c r="([A-Z]+)\d+"(?: s="(\d+)")?')


def column_letters(n: int) -> list[str]:
    """Excel column letters of the first ``n`` columns."""
    from openpyxl.utils import get_column_letter

    return [get_column_letter(i) for i in range(1, n + 1)]


def template_row(ws, layout) -> None:
    """Append the style-carrying sample row (replaced by :func:`splice_rows`)."""
    from openpyxl.cell import WriteOnlyCell

    row = []
    for _, _, fmt in layout:
        c = WriteOnlyCell(ws, 0 if fmt else _MARK)
        if fmt:
            c.number_format = fmt
        row.append(c)
    ws.append(row)


def _text_tail(value) -> str:
    """Inline-string tail of a text cell (after ``<c r="..."``), as ``excel_safe`` writes it."""
    from .results import excel_safe

    text = excel_safe(value)[0]
    if not text:  # openpyxl leaves a cell with empty text empty
        return ""
    text = escape(text)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f' t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _number_text(v) -> str:
    return repr(v) if math.isfinite(v) else ""


def _cell_tails(series: pd.Series, style: str) -> list[str]:
    """Per row the cell's XML after ``<c r="A1"`` ('' for an empty cell)."""
    s = f' s="{style}"' if style else ""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) and series.notna().all():
        return [' t="b"><v>1</v></c>' if v else ' t="b"><v>0</v></c>'
                for v in series.to_numpy(bool).tolist()]
    if pd.api.types.is_float_dtype(dtype):
        vals = series.to_numpy(float, na_value=np.nan).tolist()
        return [f'{s} t="n"><v>{v!r}</v></c>' if math.isfinite(v) else "" for v in vals]
    if pd.api.types.is_integer_dtype(dtype):
        return [_object_tail(v, s) for v in series.astype(object).tolist()]
    # text and mixed columns: render each distinct value once
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    rendered = [_object_tail(v, s) for v in uniques.tolist()] + [""]
    return [rendered[c] for c in codes.tolist()]


def _object_tail(value, s: str) -> str:
    from .results import excel_safe

    if value is pd.NA or value is pd.NaT:
        return ""
    v = excel_safe(value)[0]
    if v is None:
        return ""
    if isinstance(v, bool):  # number formats apply to numbers only (as in ``results._rows``)
        return f' t="b"><v>{int(v)}</v></c>'
    if isinstance(v, (int, float)):
        return f'{s} t="n"><v>{v!r}</v></c>'
    if isinstance(v, str):
        return _text_tail(v)
    # dates and times: let openpyxl's rules apply (rare in these sheets)
    raise TypeError(f"streamed sheets take numbers, booleans and text, not {type(v).__name__}")


def render_rows(frame: pd.DataFrame, first_row: int, styles: list[str]):
    """Yield the ``<row>`` XML of ``frame`` (bytes per block), numbered from ``first_row``."""
    letters = column_letters(frame.shape[1])
    for start in range(0, len(frame), BLOCK_ROWS):
        part = frame.iloc[start:start + BLOCK_ROWS]
        rows = range(first_row + start, first_row + start + len(part))
        cols = []
        for j, (letter, style) in enumerate(zip(letters, styles)):
            tails = _cell_tails(part.iloc[:, j], style)
            cols.append([f'<c r="{letter}{r}"{t}' if t else "" for r, t in zip(rows, tails)])
        out = [f'<row r="{r}">{"".join(cells)}</row>' for r, *cells in zip(rows, *cols)]
        yield "".join(out).encode("utf-8")


def _sheet_paths(zf: zipfile.ZipFile) -> dict:
    """Sheet name -> part name inside the package."""
    wb = zf.read("xl/workbook.xml").decode("utf-8")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    target = {m[1]: m[2] for m in re.finditer(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
    for m in re.finditer(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels):
        target[m[2]] = m[1]
    out = {}
    for m in re.finditer(r'<sheet [^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', wb):
        t = target[m[2]].lstrip("/")
        out[_unescape(m[1])] = t if t.startswith("xl/") else f"xl/{t}"
    return out


def _unescape(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})


def splice_rows(path, frames: dict) -> None:
    """Replace each sheet's template row by the rows of its DataFrame, in place.

    Parameters
    ----------
    path : str or Path
        The saved workbook (written by openpyxl with :func:`template_row` rows).
    frames : dict
        Sheet name -> DataFrame in the sheet's column order.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    import os

    os.close(fd)
    try:
        with zipfile.ZipFile(path) as src, \
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
            parts = _sheet_paths(src)
            wanted = {parts[name]: frame for name, frame in frames.items()}
            for info in src.infolist():
                data = src.read(info.filename)
                if info.filename not in wanted:
                    dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
                    continue
                _write_sheet(dst, info.filename, data, wanted[info.filename])
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_sheet(dst, name, data, frame):
    mark = escape(_MARK).encode("utf-8")
    template = next(m for m in _ROW.finditer(data) if mark in m[2])
    styles = {m[1].decode(): (m[2] or b"").decode() for m in _CELL_STYLE.finditer(template[2])}
    letters = column_letters(frame.shape[1])
    first = int(template[1])
    with dst.open(name, "w", force_zip64=True) as fh:
        fh.write(data[:template.start()])
        for block in render_rows(frame, first, [styles.get(c, "") for c in letters]):
            fh.write(block)
        fh.write(data[template.end():])
