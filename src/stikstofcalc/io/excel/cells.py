"""Cells and sheets of the workbooks the tool writes: safe cell values (no formula the
tool did not write, no illegal characters, Excel's cell limit), column widths from the
content, wrapped text with row heights and print set-up.

Bottom layer of :mod:`stikstofcalc.io.excel`: used by the results writers, the streamed
sheets and ``deposition``'s .xlsx output alike (openpyxl only).
"""

from __future__ import annotations

import datetime as dt
import math
import re

from stikstofcalc.io.excel.reader import NoCachedValue

EXCEL_CELL_MAX = 32_767
#: The size of one Excel sheet: rows (the header rows included) and columns [-].
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384


def continued_sheet_name(name: str, k: int) -> str:
    """The ``k``-th sheet of a table longer than one sheet: ``name``, ``name_2``, ...
    (within Excel's 31 characters)."""
    return name if k == 1 else f"{name[:31 - len(str(k)) - 1]}_{k}"
#: characters XML 1.0 (and so an .xlsx file) cannot hold: C0 controls but tab, newline and
#: carriage return; UTF-16 surrogates; U+FFFE and U+FFFF
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escaped(m) -> str:
    """An illegal character as its escape: \\x01, \\ufffe."""
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def excel_safe(value):
    """A value openpyxl can write and Excel can open; (value, changed)."""
    if isinstance(value, NoCachedValue):  # its formula as text (plain_cell keeps it text)
        return (value.formula or None, False)
    if value is None:
        return (None, False)
    if isinstance(value, bool):
        return value, False
    if isinstance(value, float):
        return (value, False) if math.isfinite(value) else (None, not math.isnan(value))
    if isinstance(value, (int, dt.datetime, dt.date, dt.time)):
        if isinstance(value, int) and abs(value) > 2**53:
            return str(value), True
        return value, False
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        return excel_safe(value.item())
    text = str(value)
    changed = False
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub(_escaped, text)
        changed = True
    if len(text) > EXCEL_CELL_MAX:
        text = text[:EXCEL_CELL_MAX]
        changed = True
    return text, changed


def text_cell(ws, value, *, font=None, number_format=None):
    """A write-only cell for ``value`` that is never a formula.

    openpyxl takes any text starting with ``=`` for a formula; the cell is typed as text
    instead (``t="s"``), so the value is kept exactly (the ``invoer`` sheets re-run to the
    same results) and no spreadsheet evaluates it. ``+``, ``-`` and ``@`` are text in
    an .xlsx file anyway (only CSV needs a prefix, see :func:`stikstofcalc.io.atomic.defuse`).
    """
    from openpyxl.cell import WriteOnlyCell

    c = WriteOnlyCell(ws, value)
    if c.data_type == "f":
        c.data_type = "s"
    if font is not None:
        c.font = font
    if number_format is not None:
        c.number_format = number_format
    return c


def plain_cell(ws, value):
    """``value`` as appended to a write-only sheet (a text cell if it looks like a formula)."""
    if isinstance(value, str) and value.startswith("=") and len(value) > 1:
        return text_cell(ws, value)
    return value


#: Column widths [characters] of long text columns (write-only sheets get no content-based widths).
WIDE = {"melding": 70, "verwacht": 40, "waarde": 24, "zaak": 28, "kolom": 22, "sleutel": 22, "veld": 24,
        "case": 28, "phase": 14, "verdict": 36, "notes": 40, "provenance": 40, "inputs": 40, "label": 30,
        "area_name": 28, "dominant_source": 28, "component": 20, "category": 14, "regime": 14}


#: Column-width characters that fit on one A4 landscape page at a readable scale (about 65 %).
PAGE_CHARS = 190


def print_setup(ws, widths=(), *, title_rows: str | None = "1:2") -> None:
    """A4 landscape, narrow margins, fit to the page width, header rows on every page.

    ``widths``: the column widths [characters]; a sheet wider than :data:`PAGE_CHARS`
    is fitted to as many pages side by side as keep the text readable (with column A
    repeated on each), never shrunk to an unreadable single page.
    """
    ws.page_setup.paperSize = 9  # A4 (ECMA-376 paper size code)
    ws.page_setup.orientation = "landscape"
    pages = max(1, math.ceil(sum(widths) / PAGE_CHARS)) if widths else 1
    ws.page_setup.fitToWidth = pages
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    if title_rows:
        ws.print_title_rows = title_rows
    if pages > 1:
        ws.print_title_cols = "A:A"


def row_heights(ws, widths: dict, *, first_row: int = 1, line_pt: float = 15.0) -> None:
    """Heights of rows with wrapped text (normal-mode sheets): lines needed x ``line_pt``.

    ``widths``: column number -> width [characters]. Excel does not grow a row for wrapped
    text that was written by a program, so the height is set from the text length.
    """
    for row in ws.iter_rows(min_row=first_row):
        lines = 1
        for c in row:
            if isinstance(c.value, str) and c.alignment is not None and c.alignment.wrap_text:
                w = max(widths.get(c.column, 10) - 1, 1)
                lines = max(lines, sum(max(1, math.ceil(len(part) / w)) for part in c.value.split("\n")))
        if lines > 1:
            ws.row_dimensions[row[0].row].height = lines * line_pt


def finish_sheets(wb, *, header_rows: int = 1, max_width: int = 60, only=None, skip=(),
                  float_formats: dict | None = None) -> None:
    """Make a workbook written in normal mode (pandas ``to_excel``) fit to read and print.

    Per sheet: text that looks like a formula stays text (``t="s"``); column widths from
    the content (at most ``max_width`` characters; longer text wraps, rows grow); a bold,
    frozen header; print set-up fit to the page width. ``float_formats``: sheet name ->
    (column-name prefix, number format) for the numbers of those columns (display only:
    the stored value is exact).
    """
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wrap = Alignment(wrap_text=True, vertical="top")
    key_font = Font(italic=True, color="808080", size=8)
    for ws in wb.worksheets:
        if (only is not None and ws.title not in only) or ws.title in skip:
            continue
        widths: dict[int, int] = {}
        prefix, fmt = (float_formats or {}).get(ws.title, (None, None))
        formatted = {c.column for c in ws[1] if prefix and str(c.value or "").startswith(prefix)}
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if v is None:
                    continue
                if c.data_type == "f":
                    c.data_type = "s"
                if c.column in formatted and isinstance(v, float) and c.row > header_rows:
                    c.number_format = fmt
                    v = round(v, 6)
                n = max((len(part) for part in str(v).split("\n")), default=0) if isinstance(v, str) \
                    else len(f"{v:.10g}" if isinstance(v, float) else str(v))
                if c.row == 1:  # the label row wraps: it does not set the width alone
                    n = min(n, 16)
                widths[c.column] = max(widths.get(c.column, 0), n)
                if isinstance(v, str) and len(v) > max_width:
                    c.alignment = wrap
        final = {col: min(max(n + 2, 8), max_width) for col, n in widths.items()}
        for col, w in final.items():
            ws.column_dimensions[get_column_letter(col)].width = w
        for c in ws[1]:
            c.font, c.alignment = Font(bold=True), wrap
        for r in range(2, header_rows + 1):  # the key rows below the labels
            for c in ws[r]:
                c.font = key_font
        row_heights(ws, final)
        ws.freeze_panes = ws.cell(header_rows + 1, 1)
        print_setup(ws, list(final.values()), title_rows=f"1:{header_rows}")
