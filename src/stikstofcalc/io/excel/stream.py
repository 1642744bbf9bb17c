"""Fast rows for big sheets: the sheet XML is written directly, column by column.

openpyxl's write-only mode costs about 10 us per cell (one XML element object per
cell), 0.25 ms per ``bronnen`` row; at half a million rows (10,000 cases) that is two
minutes. Here the ``sheetData`` rows of a sheet are rendered from a DataFrame one
column at a time (each distinct text is escaped once) and spliced into the workbook
openpyxl saved, so styles, views, widths and conditional formatting stay openpyxl's:

1. :func:`template_row` appends one row of sample cells with the layout's number
   formats (openpyxl registers the styles and writes their ids);
2. the rows are rendered per chunk of cases with the template row's style id per
   column and spooled compressed (:class:`SheetSpool`); after ``wb.save``,
   :func:`splice_spools` writes the package with the template row replaced by them.

The values are written as openpyxl writes them (``excel_safe``), except that numbers
are written as shortest round-trip text (openpyxl cuts them to 15 significant digits), booleans as ``t="b"``, text as inline strings (control characters
as ``\\xNN``, cut at 32,767 characters, never a formula); empty, NaN and infinite
values leave the cell empty.
"""

from __future__ import annotations

import math
import re
import tempfile
import zipfile
import zlib
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from stikstofcalc.io.excel.cells import excel_safe

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


def template_row(ws, layout, *, wrap=(), alignment=None) -> None:
    """Append the style-carrying sample row (replaced by :func:`splice_spools`).

    ``wrap``: keys of text columns whose cells wrap (``alignment``, an openpyxl
    ``Alignment`` with ``wrap_text``); the other cells of the row then get the same
    vertical alignment, so a row grown by :class:`SheetSpool` (``wrap_widths``) reads
    from the top.
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment

    top = Alignment(vertical=alignment.vertical) if alignment is not None else None
    row = []
    for key, _, fmt in layout:
        c = WriteOnlyCell(ws, 0 if fmt else _MARK)
        if fmt:
            c.number_format = fmt
        if alignment is not None:
            c.alignment = alignment if key in wrap else top
        row.append(c)
    ws.append(row)


#: Row height per line of wrapped text [pt] and Excel's largest row height [pt].
LINE_PT, MAX_ROW_PT = 15.0, 409.0


def wrapped_lines(frame: pd.DataFrame, wrap_widths: dict) -> np.ndarray:
    """Lines per row that the wrapped columns need (``wrap_widths``: column index ->
    width [characters]); at least 1. Vectorised over the rows."""
    import textwrap

    lines = np.ones(len(frame))
    for j, width in wrap_widths.items():
        col = frame.iloc[:, j]
        texts = col.where(col.map(lambda v: isinstance(v, str)), "").astype(str)
        codes, uniques = pd.factorize(texts)  # a few distinct texts (verdicts): wrapped once each
        per = np.array([sum(max(1, len(textwrap.wrap(part, max(width - 1, 1)))) for part in u.split("\n"))
                        for u in uniques], float)
        lines = np.maximum(lines, per[codes] if len(per) else 1.0)
    return lines


def _text_tail(value, s: str = "") -> str:
    """Inline-string tail of a text cell (after ``<c r="..."``), as ``excel_safe`` writes it."""
    text = excel_safe(value)[0]
    if not text:  # openpyxl leaves a cell with empty text empty
        return ""
    text = escape(text)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'{s} t="inlineStr"><is><t{space}>{text}</t></is></c>'


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
        # each distinct value (by its bits: -0.0 stays -0.0) rendered once; repr is the
        # cost (0.4 us), and source tables repeat heights, zeros and factors
        vals = np.ascontiguousarray(series.to_numpy(float, na_value=np.nan))
        codes, uniq = pd.factorize(vals.view(np.int64))
        rendered = [f'{s} t="n"><v>{v!r}</v></c>' if math.isfinite(v) else ""
                    for v in uniq.view(np.float64).tolist()]
        return [rendered[c] for c in codes.tolist()]
    if pd.api.types.is_integer_dtype(dtype):
        if isinstance(dtype, np.dtype) and len(series) and int(np.abs(series.to_numpy()).max()) <= 2**53:
            # what _object_tail gives a whole number that Excel holds exactly, without the checks
            return [f'{s} t="n"><v>{v}</v></c>' for v in series.to_numpy().tolist()]
        return [_object_tail(v, s) for v in series.astype(object).tolist()]
    # text and mixed columns: render each distinct value once
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    rendered = [_object_tail(v, s) for v in uniques.tolist()] + [""]
    return [rendered[c] for c in codes.tolist()]


def _object_tail(value, s: str) -> str:
    if value is pd.NA or value is pd.NaT:
        return ""
    v = excel_safe(value)[0]
    if v is None:
        return ""
    if isinstance(v, bool):  # number formats apply to numbers only (as in ``results._rows``)
        return f' t="b"><v>{int(v)}</v></c>'
    if isinstance(v, (int, float)):
        return f'{s} t="n"><v>{v!r}</v></c>'
    if isinstance(v, str):  # the column's style too (wrapped text, alignment)
        return _text_tail(v, s)
    # dates and times: let openpyxl's rules apply (rare in these sheets)
    raise TypeError(f"streamed sheets take numbers, booleans and text, not {type(v).__name__}")


def render_rows(frame: pd.DataFrame, first_row: int, styles: list[str], wrap_widths=None):
    """Yield the ``<row>`` XML of ``frame`` (bytes per block), numbered from ``first_row``.

    ``wrap_widths`` (column index -> width [characters]): rows whose text in those
    columns needs more than one line get the height of its lines (Excel does not grow
    a row for wrapped text a program wrote).
    """
    letters = column_letters(frame.shape[1])
    for start in range(0, len(frame), BLOCK_ROWS):
        part = frame.iloc[start:start + BLOCK_ROWS]
        rows = range(first_row + start, first_row + start + len(part))
        numbers = [f'{r}"' for r in rows]  # the row numbers formatted once for all columns
        cols = []
        for j, (letter, style) in enumerate(zip(letters, styles)):
            tails = _cell_tails(part.iloc[:, j], style)
            head = f'<c r="{letter}'
            cols.append([f"{head}{r}{t}" if t else "" for r, t in zip(numbers, tails)])
        if wrap_widths:
            heights = np.minimum(wrapped_lines(part, wrap_widths) * LINE_PT, MAX_ROW_PT)
            attrs = [f' ht="{h:g}" customHeight="1"' if h > LINE_PT else "" for h in heights.tolist()]
        else:
            attrs = [""] * len(part)
        out = [f'<row r="{r}"{a}>{"".join(cells)}</row>' for r, a, *cells in zip(rows, attrs, *cols)]
        yield "".join(out).encode("utf-8")


def sheet_paths(zf: zipfile.ZipFile) -> dict:
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


# --------------------------------------------------------------------------- spooled rows
#
# The batch renders the rows of ``resultaten`` and ``bronnen`` per chunk while the workers
# compute, compresses them at once (raw deflate, one segment per chunk, each ending on a
# byte boundary with a sync flush, so the segments concatenate into one stream) and
# spools them to a temporary file. When the workbook is saved, each streamed sheet's
# entry is the deflated head (openpyxl's XML up to the template row), the segments and
# the deflated tail, copied without decompressing; the CRC-32 of the whole is combined
# from the parts (:func:`crc32_combine`). The other parts of openpyxl's package are
# copied as they are (:func:`write_zip`).

#: Compression level of the streamed sheets (as before: speed over size).
SPOOL_LEVEL = 1
#: Sizes and offsets, and entries, from which zip64 records are written (the zip format's limits).
ZIP64_LIMIT = 0xFFFFFFFF
ZIP64_COUNT = 0xFFFF
_FULL32, _FULL16 = 0xFFFFFFFF, 0xFFFF  # "see the zip64 record"


def _gf2_times(mat, vec):
    out, i = 0, 0
    while vec:
        if vec & 1:
            out ^= mat[i]
        vec >>= 1
        i += 1
    return out


def _gf2_square(mat):
    return [_gf2_times(mat, m) for m in mat]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of ``A + B`` from ``crc32(A)``, ``crc32(B)`` and ``len(B)`` (zlib's algorithm).

    Appending ``len2`` zero bytes to ``A`` is a linear map on the CRC register
    (powers of the one-zero-bit operator, squared up in GF(2)); ``O(log len2)``.
    """
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << i for i in range(31)]  # one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)  # first pass: one zero byte
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


class _Segment:
    """One compressed piece of a streamed sheet: where in the spool, CRC-32, sizes."""

    __slots__ = ("crc", "length", "offset", "size")

    def __init__(self, offset, size, crc, length):
        self.offset, self.size, self.crc, self.length = offset, size, crc, length


def deflate_segment(data: bytes, *, final: bool = False) -> bytes:
    """Raw deflate of ``data`` ending on a byte boundary (sync flush) or, ``final``, the end."""
    co = zlib.compressobj(SPOOL_LEVEL, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


class SheetSpool:
    """The rendered rows of one streamed sheet, compressed, in a temporary file.

    Parameters
    ----------
    styles : list of str
        Style id per column (of the template row, see :func:`template_styles`).
    first_row : int
        Sheet row of the first data row.
    mode : {"concat", "records"}
        How the one-frame writer would have typed each column from all rows: ``concat``
        (``pandas.concat`` of the chunk frames, the ``bronnen`` table) or ``records``
        (one DataFrame from all row dicts, the ``resultaten`` table). A whole-number
        column of one chunk can be a float column of the whole (a missing value in
        another chunk); :meth:`finish` re-renders those cells (``5`` -> ``5.0``) so the
        sheet is the one the single-frame writer gives.
    """

    def __init__(self, styles, *, first_row: int, mode: str, directory=None, wrap_widths=None):
        self.styles = list(styles)
        self.wrap_widths = dict(wrap_widths or {})  # column index -> width: rows grow (render_rows)
        self.letters = column_letters(len(self.styles))
        self.next_row = first_row
        self.mode = mode
        self.file = tempfile.TemporaryFile(dir=directory, prefix=".stikstofcalc-spool-")  # noqa: SIM115 - closed by close()
        self.chunks: list[dict] = []
        self.rows = 0

    def add(self, frame: pd.DataFrame, records=None) -> None:
        """Render, compress and spool the rows of ``frame`` (columns in sheet order).

        ``records`` (mode ``records``): the row tuples the frame was made from (their
        value types decide the whole column's type).
        """
        if not len(frame):
            return
        co = zlib.compressobj(SPOOL_LEVEL, zlib.DEFLATED, -15)
        crc, length, offset = 0, 0, self.file.seek(0, 2)
        size = 0
        for block in render_rows(frame, self.next_row, self.styles, self.wrap_widths):
            crc = zlib.crc32(block, crc)
            length += len(block)
            out = co.compress(block)
            size += len(out)
            self.file.write(out)
        out = co.flush(zlib.Z_SYNC_FLUSH)
        size += len(out)
        self.file.write(out)
        whole = {}
        for j, col in enumerate(frame.columns):
            s = frame.iloc[:, j]
            if _whole_number_kind(s.dtype):  # may be re-rendered when the whole is typed
                whole[j] = s.reset_index(drop=True)
        self.chunks.append({"segment": _Segment(offset, size, crc, length), "first_row": self.next_row,
                            "dtypes": list(frame.dtypes), "whole": whole,
                            "probe": self._probe(frame, records)})
        self.next_row += len(frame)
        self.rows += len(frame)

    def _probe(self, frame, records):
        """Per column what decides its type in the whole table (see ``mode``)."""
        if self.mode == "concat":
            # rows holding a value and a missing one of every column (if any), as one small
            # frame: its columns have the chunk's dtypes and are all-missing exactly where
            # the chunk's are, which is all pandas.concat looks at to type the whole
            na = frame.isna().to_numpy()
            has_value, has_na = ~na.all(axis=0), na.any(axis=0)
            rows = np.union1d(na.argmin(axis=0)[has_value], na.argmax(axis=0)[has_na])
            return frame.take(rows).reset_index(drop=True)
        reps = [{} for _ in range(frame.shape[1])]
        for rec in records:
            for j, v in enumerate(rec):
                reps[j].setdefault(_type_key(v), v)
        return [list(r.values()) for r in reps]

    def _whole_dtypes(self):
        """Type of each column in the single-frame table of all chunks."""
        if self.mode == "concat":
            return list(pd.concat([c["probe"] for c in self.chunks], ignore_index=True).dtypes)
        out = []
        for j in range(len(self.styles)):
            values = [v for c in self.chunks for v in c["probe"][j]]
            out.append(pd.DataFrame([(v,) for v in values], columns=["v"])["v"].dtype)
        return out

    def segments(self) -> list:
        """The compressed segments in row order, after re-rendering whole-number columns
        typed otherwise in the whole table (rare: e.g. ``receptor_id`` of a chunk whose
        cases all have a receptor, in a batch where one has none)."""
        if len(self.chunks) > 1:
            whole = self._whole_dtypes()
            for c in self.chunks:
                fix = {j: s for j, s in c["whole"].items() if c["dtypes"][j] != whole[j]}
                if fix:
                    self._rerender(c, {j: (s, whole[j]) for j, s in fix.items()})
        return [c["segment"] for c in self.chunks]

    def _rerender(self, chunk, columns) -> None:
        seg = chunk["segment"]
        self.file.seek(seg.offset)
        xml = zlib.decompressobj(-15).decompress(self.file.read(seg.size))
        for j, (s, dtype) in columns.items():
            style = self.styles[j]
            old, new = _cell_tails(s, style), _cell_tails(s.astype(dtype), style)
            if old == new:
                continue
            letter = self.letters[j]
            first = chunk["first_row"]
            pattern = re.compile(rb'<c r="' + letter.encode() + rb'(\d+)"[^>]*><v>[^<]*</v></c>')

            def cell(m, new=new, letter=letter, first=first):
                t = new[int(m[1]) - first]
                return f'<c r="{letter}{int(m[1])}"{t}'.encode() if t else b""

            xml = pattern.sub(cell, xml)
        data = deflate_segment(xml)
        offset = self.file.seek(0, 2)
        self.file.write(data)
        chunk["segment"] = _Segment(offset, len(data), zlib.crc32(xml), len(xml))

    def copy_segment(self, seg, out) -> None:
        """Write the compressed bytes of ``seg`` to the file object ``out``."""
        self.file.seek(seg.offset)
        left = seg.size
        while left:
            block = self.file.read(min(left, 1 << 20))
            out.write(block)
            left -= len(block)

    def close(self) -> None:
        self.file.close()


def _whole_number_kind(dtype) -> bool:
    """Integer and boolean columns (numpy or nullable): their cells read differently as floats."""
    return pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def _type_key(v):
    """What a value contributes to pandas' type inference of its column."""
    if isinstance(v, float):
        return (type(v), math.isnan(v))
    if isinstance(v, int) and not isinstance(v, bool):
        return (type(v), v < 0, v > 2**63 - 1)
    return (type(v),)


def template_styles(data: bytes) -> tuple[int, list[str], int, int]:
    """(row number, style id per column, start, end) of the template row in a sheet's XML."""
    mark = escape(_MARK).encode("utf-8")
    template = next(m for m in _ROW.finditer(data) if mark in m[2])
    styles = {m[1].decode(): (m[2] or b"").decode() for m in _CELL_STYLE.finditer(template[2])}
    n = len(_CELL_STYLE.findall(template[2]))
    return int(template[1]), [styles.get(c, "") for c in column_letters(n)], template.start(), template.end()


# --------------------------------------------------------------------------- zip


def _raw_entry(path, info):
    """The stored (compressed) bytes of one entry of a zip file."""
    import struct

    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        head = fh.read(30)
        n, x = struct.unpack("<HH", head[26:30])
        fh.seek(info.header_offset + 30 + n + x)
        return fh.read(info.compress_size)


def write_zip(out, entries) -> None:
    """Write a zip file from entries whose compressed bytes are given.

    Parameters
    ----------
    out : binary file object
        Written from its current position (0).
    entries : iterable of dict
        ``name``, ``date_time``, ``external_attr``, ``crc``, ``length`` (uncompressed),
        ``size`` (compressed), ``method`` (``zipfile.ZIP_DEFLATED`` or stored) and
        ``write(out)`` writing the ``size`` compressed bytes. Zip64 records where a size,
        an offset or the count needs them.
    """
    import struct

    central = []
    for e in entries:
        name = e["name"].encode("utf-8")
        flags = 0 if e["name"].isascii() else 0x800
        y, mo, d, h, mi, s = e["date_time"]
        dos_time, dos_date = (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d
        offset = out.tell()
        big = e["length"] >= ZIP64_LIMIT or e["size"] >= ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, e["length"], e["size"]) if big else b""
        version = 45 if big else 20
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, version, flags, e["method"], dos_time, dos_date,
                              e["crc"], _FULL32 if big else e["size"], _FULL32 if big else e["length"],
                              len(name), len(extra)))
        out.write(name + extra)
        written = out.tell()
        e["write"](out)
        if out.tell() - written != e["size"]:
            raise RuntimeError(f"zip entry {e['name']}: wrote {out.tell() - written} bytes, not {e['size']}")
        central.append((e, name, flags, dos_time, dos_date, offset))
    start = out.tell()
    for e, name, flags, dos_time, dos_date, offset in central:
        big = e["length"] >= ZIP64_LIMIT or e["size"] >= ZIP64_LIMIT or offset >= ZIP64_LIMIT
        extra = struct.pack("<HHQQQ", 1, 24, e["length"], e["size"], offset) if big else b""
        version = 45 if big else 20
        cut = (lambda v: _FULL32) if big else (lambda v: v)
        out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | version, version, flags, e["method"],
                              dos_time, dos_date, e["crc"], cut(e["size"]), cut(e["length"]), len(name),
                              len(extra), 0, 0, 0, e["external_attr"], cut(offset)))
        out.write(name + extra)
    end = out.tell()
    n, size = len(central), end - start
    if n >= ZIP64_COUNT or size >= ZIP64_LIMIT or start >= ZIP64_LIMIT:
        out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, n, n, size, start))
        out.write(struct.pack("<IIQI", 0x07064B50, 0, end, 1))
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, _FULL16), min(n, _FULL16),
                              min(size, _FULL32), min(start, _FULL32), 0))
    else:
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, size, start, 0))


def splice_spools(path, spools: dict, out_path) -> None:
    """Write ``out_path``: the workbook at ``path`` with each sheet's template row replaced
    by the spooled rows of ``spools`` (sheet name -> :class:`SheetSpool`); the other parts
    are copied as stored."""
    with zipfile.ZipFile(path) as src:
        parts = sheet_paths(src)
        wanted = {parts[name]: spool for name, spool in spools.items()}
        infos = src.infolist()
        entries = []
        for info in infos:
            spool = wanted.get(info.filename)
            if spool is None:
                entries.append({"name": info.filename, "date_time": info.date_time,
                                "external_attr": info.external_attr, "crc": info.CRC,
                                "length": info.file_size, "size": info.compress_size,
                                "method": info.compress_type,
                                "write": lambda out, info=info: out.write(_raw_entry(path, info))})
                continue
            data = src.read(info.filename)
            row, styles, start, end = template_styles(data)
            if row != spool.next_row - spool.rows or styles != spool.styles:
                raise RuntimeError(f"streamed sheet {info.filename}: template row {row} {styles} is not "
                                   f"the one the rows were rendered for ({spool.styles})")
            head, tail = deflate_segment(data[:start]), deflate_segment(data[end:], final=True)
            segs = spool.segments()
            crc, length = zlib.crc32(data[:start]), start
            for s in segs:
                crc, length = crc32_combine(crc, s.crc, s.length), length + s.length
            crc = crc32_combine(crc, zlib.crc32(data[end:]), len(data) - end)
            length += len(data) - end

            def write(out, head=head, tail=tail, segs=segs, spool=spool):
                out.write(head)
                for s in segs:
                    spool.copy_segment(s, out)
                out.write(tail)

            entries.append({"name": info.filename, "date_time": (1980, 1, 1, 0, 0, 0),
                            "external_attr": 0o600 << 16, "crc": crc, "length": length,
                            "size": len(head) + sum(s.size for s in segs) + len(tail),
                            "method": zipfile.ZIP_DEFLATED, "write": write})
        with open(out_path, "wb") as out:
            write_zip(out, entries)
