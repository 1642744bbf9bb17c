"""Find the IMAER GML inside an AERIUS PDF report.

AERIUS Calculator's PDF reports carry the calculation's input as IMAER GML, so the
report can be imported again. Two ways are handled:

1. the GML as text inside the PDF (what the AERIUS QGIS plug-in, opengeogroep
   ``ExtractGmlFromPdfTask``, reads: ``<?xml ...`` up to
   ``</imaer:FeatureCollectionCalculator>`` in a PDF string, newlines escaped as
   ``\\n``); found in the raw bytes and in every Flate-compressed stream;
2. embedded files (``/Type /EmbeddedFile`` streams, the PDF attachment mechanism),
   holding a GML file or a ZIP with GML files (AERIUS 2024 reports, as described by
   this project's research notes).

A small reader of PDF object syntax, no dependency: encrypted PDFs and streams with
filters other than FlateDecode are not read (a clear error says so).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from stikstofcalc.errors import ImaerFileError
from stikstofcalc.limits import Inflater

_STREAM = re.compile(rb"stream\r?\n")
_OBJ = re.compile(rb"\d+\s+\d+\s+obj\b")
_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+\d+\s+R)")
_START = re.compile(rb"<\?xml[^>]*\?>")
_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?FeatureCollectionCalculator>")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f",
            b"(": b"(", b")": b")", b"\\": b"\\"}


def _streams(data: bytes, inflate=None):
    """(dictionary bytes, decoded content) of every stream object that can be decoded.

    ``inflate`` unpacks a Flate stream under a cap (:class:`stikstofcalc.limits.Inflater`).
    """
    inflate = inflate or Inflater(error=ImaerFileError)
    for m in _STREAM.finditer(data):
        head = data[max(0, m.start() - 4096):m.start()]
        objs = list(_OBJ.finditer(head))
        if not objs or not head.rstrip().endswith(b">>"):
            continue
        info = head[objs[-1].end():]
        start = m.end()
        length = _LENGTH.search(info)
        end = start + int(length.group(1)) if length else data.find(b"endstream", start)
        if end < start:
            continue
        raw = data[start:end]
        if b"/Filter" in info:
            if not re.search(rb"/Filter\s*\[?\s*/FlateDecode\s*\]?", info):
                continue
            try:
                raw = inflate(raw)
            except zlib.error:
                continue
        yield info, raw


def _unescape(text: bytes) -> bytes:
    """Undo PDF literal-string escapes (``\\n``, ``\\(``, octal ``\\ddd``) if the text has them."""
    if b"\\n" not in text and b"\\(" not in text and b"\\)" not in text:
        return text

    def sub(m):
        s = m.group(1)
        if s[:1].isdigit():
            return bytes([int(s, 8) & 0xFF])
        return _ESCAPES.get(s, s)

    return re.sub(rb"\\([0-7]{1,3}|[nrtbf()\\])", sub, text)


def _text_gml(blob: bytes):
    for m in _START.finditer(blob):
        end = _END.search(blob, m.end())
        if end is None:
            continue
        yield _unescape(blob[m.start():end.end()])


def _zip_gml(blob: bytes, inflate):
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        for info in zf.infolist():
            if info.filename.lower().endswith(".gml"):
                inflate.allow(info.file_size)  # zipfile stops at the declared size
                yield info.filename, zf.read(info)


def gml_from_pdf(data: bytes, *, name: str = "<pdf>") -> list[tuple[str, bytes]]:
    """All IMAER GML documents in a PDF, as (label, bytes), in order of appearance.

    Parameters
    ----------
    data : bytes
        The PDF file.
    name : str
        File name, used in labels (``report.pdf#1`` or ``report.pdf:situatie.gml``)
        and messages.

    Raises
    ------
    ImaerFileError
        Not a PDF, an encrypted PDF, or no GML found.
    """
    if not data.startswith(b"%PDF"):
        raise ImaerFileError("geen PDF-bestand (geen kop %PDF)", file=name, expected="een AERIUS-PDF-rapport")
    found = []
    inflate = Inflater(file=name, error=ImaerFileError)
    for blob in [data] + [raw for _, raw in _streams(data, inflate)]:
        if blob.startswith(b"PK\x03\x04"):
            try:
                found += [(f"{name}:{fn}", gml) for fn, gml in _zip_gml(blob, inflate)]
            except zipfile.BadZipFile:
                pass
            continue
        found += [(None, gml) for gml in _text_gml(blob)]
    out, seen = [], set()
    for label, gml in found:
        if gml.strip() not in seen:
            seen.add(gml.strip())
            out.append((label or f"{name}#{len(out) + 1}", gml))
    if not out:
        hint = " (de PDF is versleuteld)" if b"/Encrypt" in data else ""
        raise ImaerFileError(f"geen IMAER-GML gevonden in de PDF{hint}", file=name,
                             expected="een PDF-rapport van AERIUS Calculator met de GML als bijlage")
    return out


def make_pdf(attachments=(), *, text_gml=None) -> bytes:
    """A minimal one-page PDF with embedded files and/or GML as a PDF string (for tests).

    Parameters
    ----------
    attachments : iterable of (file name, bytes)
        Embedded as Flate-compressed ``/EmbeddedFile`` streams via ``/Names /EmbeddedFiles``.
    text_gml : bytes, optional
        Written as an escaped literal string in the document information dictionary.
    """
    objs = [b"<< /Type /Catalog /Pages 2 0 R /Names 4 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    names, files = [], []
    for k, (fn, content) in enumerate(attachments):
        body = zlib.compress(content)
        stream_no, spec_no = 5 + 2 * k, 6 + 2 * k
        files.append((stream_no, b"<< /Type /EmbeddedFile /Filter /FlateDecode /Length %d >>\nstream\n"
                      % len(body) + body + b"\nendstream"))
        files.append((spec_no, b"<< /Type /Filespec /F (%s) /EF << /F %d 0 R >> >>"
                      % (fn.encode(), stream_no)))
        names.append(b"(%s) %d 0 R" % (fn.encode(), spec_no))
    objs.append(b"<< /EmbeddedFiles << /Names [" + b" ".join(names) + b"] >> >>")
    objs += [body for _, body in sorted(files)]
    info_no = None
    if text_gml is not None:
        escaped = (text_gml.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
                   .replace(b"\r", b"").replace(b"\n", b"\\n"))
        objs.append(b"<< /Producer (stikstofcalc test) /AeriusGml (" + escaped + b") >>")
        info_no = len(objs)
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    for i, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    trailer = b"<< /Size %d /Root 1 0 R" % (len(objs) + 1)
    trailer += b" /Info %d 0 R >>" % info_no if info_no else b" >>"
    out.write(b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()
