"""Caps on what a compressed input may unpack to (decompression bombs).

An .xlsx workbook is a zip of XML parts and a PDF holds deflated streams; a few
kilobytes can unpack to gigabytes (deflate reaches about 1000:1). Before anything is
unpacked, :func:`check_xlsx` reads the zip directory (the sizes the reader is held to:
Python's zipfile stops at the declared size and checks the CRC) and refuses a part that
is implausibly large or compressed; :func:`inflate` unpacks a PDF stream with a cap.
Honest files stay far below the caps: the 10,000-case benchmark workbook unpacks to
about 20 MB, with a ratio below 20:1 per part.
"""

from __future__ import annotations

import zipfile
import zlib

from stikstofcalc.errors import InputError, nl_int

#: Largest unpacked size of one part of a workbook [bytes].
MAX_XLSX_PART = 512 * 2**20
#: Largest unpacked size of the shared-strings part (read into memory whole) [bytes].
MAX_XLSX_STRINGS = 64 * 2**20
#: Largest unpacked size of all parts together [bytes].
MAX_XLSX_TOTAL = 1024 * 2**20
#: Largest compression ratio of a part above :data:`RATIO_FROM` [-]. Workbooks written
#: by Excel, LibreOffice and stikstofcalc compress their sheets 3:1 to 10:1 (the
#: 77,473-site capacity workbook: 5.8:1); a cap of 200 let a packed 200 MB sheet through to a
#: slow, memory-hungry refusal (measured in CHANGELOG.md, issue 13).
MAX_RATIO = 50
#: Parts smaller than this [bytes] are not held to :data:`MAX_RATIO`.
RATIO_FROM = 8 * 2**20
#: Largest unpacked size of one PDF stream [bytes], and of all streams of a file.
MAX_PDF_STREAM = 64 * 2**20
MAX_PDF_TOTAL = 256 * 2**20


def _mb(n: int) -> str:
    return f"{nl_int(round(n / 2**20))} MB"


def check_xlsx(source, *, file=None) -> None:
    """Refuse a workbook whose parts would unpack to too much (see the module caps).

    Parameters
    ----------
    source : path or file-like
        The .xlsx file (or its bytes in a ``BytesIO``).
    file : str, optional
        Name for the message (default: ``source``).

    Raises
    ------
    InputError
        A part over :data:`MAX_XLSX_PART` (or :data:`MAX_XLSX_STRINGS`), all parts over
        :data:`MAX_XLSX_TOTAL`, or a large part compressed more than :data:`MAX_RATIO`:1.
        Not a zip: nothing is raised here (the reader reports it).
    """
    name = str(file if file is not None else source)
    try:
        with zipfile.ZipFile(source) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    total = 0
    for info in infos:
        size, packed = info.file_size, max(info.compress_size, 1)
        total += size
        cap = MAX_XLSX_STRINGS if info.filename.lower().endswith("sharedstrings.xml") else MAX_XLSX_PART
        if size > cap or (size > RATIO_FROM and size / packed > MAX_RATIO):
            raise InputError(f"deel {info.filename} pakt uit tot {_mb(size)} (gecomprimeerd {_mb(packed)}): "
                             "te groot om veilig te lezen", file=name,
                             expected=f"een werkmap waarvan elk deel uitpakt tot minder dan {_mb(cap)} "
                                      f"(en hoogstens {MAX_RATIO}:1 gecomprimeerd)")
    if total > MAX_XLSX_TOTAL:
        raise InputError(f"pakt uit tot {_mb(total)}: te groot om veilig te lezen", file=name,
                         expected=f"een werkmap die uitpakt tot minder dan {_mb(MAX_XLSX_TOTAL)}")


class Inflater:
    """Unpacks the deflated streams of one file, each and all together under a cap."""

    def __init__(self, *, file=None, per_stream: int | None = None, total: int | None = None,
                 error=InputError):
        self.file, self.error, self.used = file, error, 0
        self.per_stream = MAX_PDF_STREAM if per_stream is None else per_stream
        self.total = MAX_PDF_TOTAL if total is None else total

    def _refuse(self, *, total: bool = False):
        what = (f"de gecomprimeerde delen pakken samen uit tot meer dan {_mb(self.total)}" if total else
                f"een gecomprimeerd deel pakt uit tot meer dan {_mb(self.per_stream)}")
        return self.error(f"{what}: te groot om veilig te lezen",
                          file=self.file, expected="een AERIUS-rapport (PDF) van normale omvang")

    def allow(self, size: int) -> None:
        """Count ``size`` unpacked bytes (a zip member whose size is known); refuse above the caps."""
        if size > self.per_stream or self.used + size > self.total:
            raise self._refuse(total=size <= self.per_stream)
        self.used += size

    def __call__(self, raw: bytes) -> bytes:
        """``raw`` unpacked; :class:`InputError` when it would exceed a cap; ``zlib.error`` if broken."""
        d = zlib.decompressobj()
        limit = min(self.per_stream, self.total - self.used) + 1
        out = d.decompress(raw, limit)
        if len(out) >= limit or d.unconsumed_tail:
            raise self._refuse(total=len(out) <= self.per_stream)
        self.used += len(out)
        return out
