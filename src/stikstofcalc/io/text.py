"""The text of a CSV file, one rule for every reader (source lists, case workbooks' CSV,
receptors, key-figure overrides, capacity sites).

- UTF-8, with or without byte-order mark: what Excel writes as "CSV UTF-8";
- UTF-16 with byte-order mark: Excel's "Unicode-tekst";
- else Windows-1252: what Dutch Excel writes as "CSV (gescheiden door lijstscheidingsteken)"
  (``é`` is byte 0xE9 there, invalid in UTF-8). Every byte sequence that is not UTF-8 and
  holds none of the five bytes Windows-1252 leaves undefined reads; the few that do are
  refused naming the byte's line.

A project file (TOML) is not read here: TOML is UTF-8 by definition.
"""

from __future__ import annotations

from stikstofcalc.errors import InputError

#: Encodings tried after UTF-8, in order (documented in the module docstring and README).
FALLBACK_ENCODING = "cp1252"


def separator(header_line: str) -> str:
    """The field separator of a CSV from its header line: the most frequent of ``;``, ``,``
    and tab (``;`` on a tie: Dutch Excel), ``,`` when there is none (one column)."""
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def decode_csv(data: bytes, path) -> str:
    """``data`` (the bytes of ``path``) as text by the rules above.

    Raises
    ------
    InputError
        Bytes that none of the encodings reads, or NUL characters (not a text file).
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError("is geen leesbare UTF-16-tekst", file=str(path),
                             expected="een CSV opgeslagen als 'CSV UTF-8'") from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:  # (a UTF-8 BOM with one stray byte later: the BOM is not text)
                text = data.removeprefix(b"\xef\xbb\xbf").decode(FALLBACK_ENCODING)
            except UnicodeDecodeError as exc:
                line = data[:exc.start].count(b"\n") + 1
                raise InputError(f"de tekens zijn niet te lezen (regel {line}: byte 0x{data[exc.start]:02X} is "
                                 "geen UTF-8 en geen Windows-1252)", file=str(path),
                                 expected="een CSV opgeslagen als 'CSV UTF-8 (door komma's gescheiden)'") from None
    if "\x00" in text:
        raise InputError("bevat NUL-tekens: geen tekstbestand (of UTF-16 zonder byte-order-mark)", file=str(path),
                         expected="een CSV-tekstbestand, bijv. opgeslagen als 'CSV UTF-8'")
    return text
