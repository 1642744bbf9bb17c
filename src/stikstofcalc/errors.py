"""One error hierarchy for stikstofcalc.

Every user-facing error derives from :class:`StikstofError` and, where it fits, from
the matching builtin (``ValueError``, ``KeyError``...). Errors carry their context
as fields (file, case, sheet, row, field, value, expected) so that a batch can
report them in a table, and they survive pickling (multiprocessing).
"""

from __future__ import annotations

import math

_FIELDS = ("file", "case", "sheet", "row", "field", "value", "expected", "detail")


class StikstofError(Exception):
    """Root of all stikstofcalc errors.

    Parameters are all optional and keyword-only; the message is built from them:
    ``file SOURCES.csv, case "Noord" (sheet projecten, row 14), field bouwduur:
    "achttien" is not valid; expected e.g. "18 maanden"``.
    """

    def __init__(self, message: str | None = None, *, file=None, case=None, sheet=None,
                 row=None, field=None, value=None, expected=None, detail=None):
        self.file, self.case, self.sheet, self.row = file, case, sheet, row
        self.field, self.value, self.expected, self.detail = field, value, expected, detail
        self.message = message
        super().__init__(self._compose())

    def __str__(self) -> str:
        # composed when shown: a caller may add where it happened (the file of a project
        # whose emissions failed) after the error was raised
        return self._compose()

    def _compose(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"bestand {self.file}")
        if self.case is not None:
            where.append(f'zaak "{self.case}"')
        loc = []
        if self.sheet is not None:
            loc.append(f"blad {self.sheet}")
        if self.row is not None:
            loc.append(f"rij {self.row}")
        head = ", ".join(where)
        if loc:
            head = f"{head} ({', '.join(loc)})" if head else ", ".join(loc)
        if self.field is not None:
            head = f"{head}, veld {self.field}" if head else f"veld {self.field}"
        body = self.message
        if body is None:
            body = "ongeldige waarde" if self.value is None else f"{self.value!r} is niet geldig"
        return self._finish(head, body)

    def _finish(self, head: str, body: str) -> str:
        """``head: body; expected ... (detail)``, the common tail of every message."""
        text = f"{head}: {body}" if head else body
        if self.expected is not None:
            text += f"; verwacht: {self.expected}"
        if self.detail:
            text += f" ({self.detail})"
        return text

    def reason(self) -> str:
        """The message without where (file, case, row, field) and without ``expected``:
        for a table whose other columns hold those (the batch's ``fouten`` sheet)."""
        body = self.message
        if body is None:
            body = "ongeldige waarde" if self.value is None else f"{self.value!r} is niet geldig"
        return f"{body} ({self.detail})" if self.detail else body

    def as_record(self) -> dict:
        """The error as a flat dict (for an error table)."""
        rec = {k: getattr(self, k) for k in _FIELDS}
        rec["message"] = str(self)
        return rec

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, {k: getattr(self, k) for k in _FIELDS}))


def _rebuild(cls, message, fields):
    return cls(message, **fields)


class InputError(StikstofError, ValueError):
    """Invalid user input: a missing column, text where a number belongs, a bad value."""


class UnitError(InputError):
    """A quantity has the wrong dimension or cannot be parsed."""


class RangeError(InputError):
    """A value lies outside the range the model is calibrated for."""


class DataError(StikstofError, RuntimeError):
    """Shipped or user-supplied reference data (key figures, model tables) are inconsistent."""


def _summary(errors, what: str, shown: int = 50) -> str:
    """One message listing the first ``shown`` of several errors."""
    lines = [str(e) for e in errors[:shown]]
    msg = f"{len(errors)} {'probleem' if len(errors) == 1 else 'problemen'} in {what}:\n  " + "\n  ".join(lines)
    if len(errors) > len(lines):
        msg += f"\n  ... en nog {len(errors) - len(lines)}"
    return msg


class MultipleInputErrors(InputError):
    """Several input problems found at once; ``errors`` lists them all."""

    def __init__(self, errors, *, file=None):
        self.errors = list(errors)
        super().__init__(_summary(self.errors, "de invoer"), file=None)
        self.file = file

    def _compose(self) -> str:  # the list itself names where each problem is
        return _summary(self.errors, "de invoer")

    def __reduce__(self):
        return (MultipleInputErrors, (self.errors,), {"file": self.file})


class MultipleDataErrors(DataError):
    """Several problems in shipped reference data at once; ``errors`` lists them all."""

    def __init__(self, errors, *, file=None):
        self.errors = list(errors)
        super().__init__(_summary(self.errors, "de referentiegegevens"))
        self.file = file

    def _compose(self) -> str:
        return _summary(self.errors, "de referentiegegevens")

    def __reduce__(self):
        return (MultipleDataErrors, (self.errors,), {"file": self.file})


class ImaerFileError(InputError):
    """An IMAER GML file (or AERIUS PDF) that cannot be read.

    ``row`` holds the line number and ``field`` the element (``imaer:year``), so the
    message reads ``file a.gml, line 12, element imaer:Emission: ...``.
    """

    def _compose(self) -> str:
        head = ", ".join(p for p in (
            None if self.file is None else f"bestand {self.file}",
            None if self.row is None else f"regel {self.row}",
            None if self.field is None else f"element {self.field}") if p)
        return self._finish(head, self.message or "kan niet worden gelezen")


class OutputError(StikstofError):
    """An output cannot be written (full or read-only disk, a file where a folder belongs)."""


def dutch_notation(text: str) -> str:
    """A number formatted the English way (``f"{x:,.2f}"``: ``12,345.67``) in Dutch notation
    (``12.345,67``): the one place the separators are swapped, for every message and output."""
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def nl_int(n) -> str:
    """A whole number with dot thousands (``77.473``)."""
    return f"{int(n):,}".replace(",", ".")


def nl_num(value, sig: int = 3) -> str:
    """A number with a Dutch decimal comma: enough decimals for ``sig`` significant digits."""
    if value is None or not math.isfinite(value):
        return "-"
    if value == 0:
        return "0"
    digits = max(0, sig - 1 - int(math.floor(math.log10(abs(value)))))
    s = dutch_notation(f"{value:,.{digits}f}")
    if "," in s:
        s = s.rstrip("0").rstrip(",")
    return s


def count_nl(n, one: str, many: str) -> str:
    """``n`` with the noun that fits it: ``1 bron``, ``2 bronnen``, ``0 signalen``."""
    return f"{nl_int(n)} {one if n == 1 else many}"


def nl_display(display: str) -> str:
    """A deposition as AERIUS rounds and prints it (``"1403,58"``) with dot thousands
    (``"1.403,58"``), so that it reads as the unrounded number shown beside it."""
    whole, sep, frac = display.partition(",")
    sign, digits = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
    return sign + nl_int(digits) + sep + frac if digits.isdigit() else display


def read_reason(exc: OSError) -> str:
    """Why a file cannot be read (an ``OSError``), in Dutch: ``strerror`` is English."""
    import errno

    reasons = {errno.ENOENT: "bestand niet gevonden", errno.EACCES: "geen leesrechten",
               errno.EPERM: "geen leesrechten", errno.EISDIR: "dit is een map, geen bestand",
               errno.EIO: "leesfout van de schijf", errno.ENAMETOOLONG: "de bestandsnaam is te lang",
               errno.ELOOP: "te veel symbolische koppelingen", errno.ENOTDIR: "een deel van het pad is geen map",
               errno.EMFILE: "te veel open bestanden", errno.ENXIO: "het apparaat bestaat niet"}
    return reasons.get(getattr(exc, "errno", None), "leesfout")


#: ``tomllib``'s messages (English) in Dutch; others become "fout in de opbouw".
_TOML_REASONS = {"Invalid value": "ongeldige waarde; staat tekst tussen aanhalingstekens?",
                 "Expected '=' after a key in a key/value pair": "'=' ontbreekt na een sleutel",
                 "Cannot overwrite a value": "een sleutel staat er twee keer",
                 "Unterminated string": "tekst zonder sluitend aanhalingsteken",
                 "Unclosed array": "lijst zonder sluitend ']'", "Invalid statement": "ongeldige regel",
                 "Expected newline or end of document after a statement": "onverwachte tekst na een waarde"}


def toml_reason(exc) -> str:
    """Why ``tomllib`` refused a file (a ``TOMLDecodeError``), in Dutch, with line and column."""
    import re

    text = str(exc)
    m = re.search(r"\(at line (\d+), column (\d+)\)", text)
    reason = _TOML_REASONS.get(text.split(" (at ")[0].strip(), "fout in de opbouw")
    return f"regel {m[1]}, kolom {m[2]}: {reason}" if m else reason


def closest(name, candidates, *, aliases=None, min_prefix: int = 3):
    """The candidate that ``name`` most likely misspells (typo, case, unit left off), or None.

    ``aliases`` maps other words (Dutch labels: ``aantal`` -> ``count``) to candidates.
    Used for every "bedoelt u ...?" hint: unknown keys in project files, unknown columns
    in workbooks and tables.
    """
    import difflib

    key = str(name).strip().lower().replace(" ", "_").replace("-", "_")
    if not key:
        return None
    low = {str(c).strip().lower(): c for c in candidates}
    if aliases and key in aliases and aliases[key] in candidates:
        return aliases[key]
    if key in low:
        return low[key]
    m = difflib.get_close_matches(key, list(low), n=1, cutoff=0.75)
    if m:
        return low[m[0]]
    for c in sorted(low, key=len):
        short, long_ = sorted((key, c), key=len)
        if long_.startswith(short + "_") or (len(short) >= min_prefix and long_.startswith(short)):
            return low[c]  # "z0" for "z0_m": the unit left off
    return None


def hint(name, candidates, **kw) -> str:
    """`` (bedoelt u 'x'?)`` for the closest candidate, else an empty string."""
    near = closest(name, candidates, **kw)
    return f" (bedoelt u {near!r}?)" if near is not None else ""
