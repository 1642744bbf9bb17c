"""The package's one pint unit registry and the mass -> mol N conversions.

pint is used only at the edges (parsing user input and key-figure tables); the
numerical core works on plain floats in one canonical unit per quantity
(kg/yr, m, MW, mol N/ha/yr), see ``docs/nomenclature.md``.
"""

from __future__ import annotations

import re

import pint
from stikstofcalc.caches import cached, register
from stikstofcalc.errors import UnitError

ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
"""The single unit registry of stikstofcalc. Never create another one."""

# Dutch unit words that users type in spreadsheets and project files.
ureg.define("jaar = year = jr")
ureg.define("maand = month = mnd")
ureg.define("week_nl = week = wk")
ureg.define("dag = day")
ureg.define("uur = hour = u")
# pint already knows liter/litre/L/l; redefining "liter = litre" made the
# registry recurse on compound units such as "g/L", so it is not redefined.
ureg.define("mol_N = mol")

Q_ = ureg.Quantity

#: Molar mass of NO2 [g/mol]; OPS and AERIUS count NOx as NO2 (IUPAC 2021 atomic weights).
MOLAR_MASS_NO2_G_MOL = 46.0055
#: Molar mass of NH3 [g/mol] (IUPAC 2021 atomic weights).
MOLAR_MASS_NH3_G_MOL = 17.0305
#: mol N per kg NOx emitted (as NO2) [mol/kg]: 1000 / 46.0055 = 21.7365 (domain.md 2.2).
MOL_N_PER_KG_NOX = 1000.0 / MOLAR_MASS_NO2_G_MOL
#: mol N per kg NH3 emitted [mol/kg]: 1000 / 17.0305 = 58.7182 (domain.md 2.2).
MOL_N_PER_KG_NH3 = 1000.0 / MOLAR_MASS_NH3_G_MOL


#: Dutch unit words (plurals and spellings) that pint does not know -> pint names.
DUTCH_UNIT_WORDS = {
    "maanden": "month", "maand": "month", "mnd": "month",
    "weken": "week", "week": "week", "wk": "week",
    "dagen": "day", "dag": "day",
    "jaren": "year", "jaar": "year", "jr": "year",
    "uren": "hour", "uur": "hour", "u": "hour",
    "minuten": "minute", "minuut": "minute", "seconden": "second",
    "liters": "liter", "kilometer": "kilometer", "meter": "meter",
    # a Dutch "ton" is 1000 kg (pint's "ton" is the US short ton, 907.185 kg)
    "ton": "tonne", "tonnen": "tonne", "kton": "kilotonne", "Mton": "megatonne",
    # Dutch "gr" is a gram (pint: grain, 64.8 mg); "pk" is the metric horsepower (pint: peck)
    "gr": "gram", "gram": "gram", "pk": "metric_horsepower",
    "graden": "degree", "graad": "degree",
    # capitals as typed in spreadsheets ("12 KM", "3 Ha", "2000 M2"); only spellings with one
    # meaning (MW stays megawatt, mW milliwatt: case matters for pint)
    "KM": "kilometer", "Km": "kilometer", "M": "meter", "HA": "hectare", "Ha": "hectare",
    "MM": "millimeter", "CM": "centimeter", "DM": "decimeter",
    "KG": "kilogram", "Kg": "kilogram", "KW": "kilowatt", "Kw": "kilowatt", "kw": "kilowatt",
    "KWh": "kilowatt_hour", "kwh": "kilowatt_hour", "KWH": "kilowatt_hour", "TON": "tonne", "Ton": "tonne",
    "LITER": "liter", "Liter": "liter", "UUR": "hour", "Uur": "hour", "JAAR": "year", "Jaar": "year",
}
_WORD = re.compile(r"[^\W\d_]+")
_AREA_SUFFIX = re.compile(r"\b(km|hm|dm|cm|mm|m)([23])\b")
_THOUSANDS_ONLY = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+$")
#: Characters a unit may hold: letters, digits (powers), ², ³, spaces, "/", "*", "^", ".",
#: "·", "%", "°", brackets and "-"; anything else (emoji, "#", "=") is not part of a unit.
_ODD_UNIT_CHARACTER = re.compile(r"[^\w\s/*^.·%°()²³µ-]")


class _Unreadable(ValueError):
    """Why a quantity text cannot be read, in Dutch (shown as it is)."""


def normalise_number(text: str) -> str:
    """Dutch or English number text -> a Python float literal; raise ValueError if ambiguous."""
    if "," in text and "." in text:  # Dutch "10.000,5": dots group thousands
        return text.replace(".", "").replace(",", ".")
    if "," in text:
        if text.count(",") > 1:
            raise ValueError("meer dan één decimale komma")
        return text.replace(",", ".")
    if _THOUSANDS_ONLY.match(text):
        raise ValueError("dubbelzinnig: een punt kan duizendtallen scheiden of decimalen")
    return text


def pint_unit_text(unit_text: str) -> str:
    """A unit as a Dutch user writes it -> pint's spelling: ``per`` for ``/`` ("180 per dag"),
    ``m2``/``m3`` for powers, Dutch words and plurals (:data:`DUTCH_UNIT_WORDS`: "maanden",
    "ton" = 1000 kg, "gr" = gram, "pk" = metric horsepower). The one rule for every unit a
    user types (quantities and key-figure overrides)."""
    unit_text = re.sub(r"\bper\b", "/", str(unit_text))
    unit_text = re.sub(r"\bmol\s*N\b", "mol", unit_text)  # "mol N/ha/jr": mol of nitrogen, not newton
    if unit_text.lstrip().startswith("/"):  # "180 per dag" -> "180 1/day"
        unit_text = "1" + unit_text.lstrip()
    unit_text = re.sub(r"\b(KM|Km|M|DM|CM|MM)([23])\b", lambda m: m[1].lower() + m[2], unit_text)  # "M2"
    unit_text = _AREA_SUFFIX.sub(r"\1**\2", unit_text)
    return _WORD.sub(lambda m: DUTCH_UNIT_WORDS.get(m.group(0), m.group(0)), unit_text)


def parse_quantity(text: str, *, field: str = "value"):
    """Parse a quantity typed by a user, Dutch or English, into a pint Quantity.

    Accepts a decimal comma (``"1,2 km"``), Dutch thousands separators with a
    decimal comma (``"10.000,0 L"``), Dutch unit words and plurals (``"18 maanden"``,
    ``"3 weken"``, ``"2 jaar"``), ``per`` for ``/`` and ``m2``/``m3`` for powers.
    ``"10.000 L"`` is refused as ambiguous rather than silently read as 10 L.
    Raises :class:`stikstofcalc.errors.UnitError` naming ``field``.
    """
    raw = str(text).strip()
    match = re.match(r"^\s*([+-]?[\d.,]+(?:[eE][+-]?\d+)?)\s*(.*)$", raw)
    try:
        if match:
            number, unit_text = normalise_number(match.group(1)), match.group(2)
        else:
            number, unit_text = "1", raw
        if match and unit_text[:1].isdigit():  # "25 000 m2": pint would read 25 x 000 m2 = 0
            raise _Unreadable("een spatie in het getal (als duizendtalscheiding?); schrijf het getal "
                             "zonder spatie, bijv. 25000")
        odd = _ODD_UNIT_CHARACTER.search(unit_text)
        if odd:  # pint skips what it cannot read ("2000 m2 😀" gave 2000 m2): refuse it
            raise _Unreadable(f"onverwacht teken {odd.group(0)!r} in de eenheid")
        unit_text = pint_unit_text(unit_text)
        unit = ureg.parse_expression(unit_text) if unit_text.strip() else ureg.Quantity(1)
        quantity = float(number) * unit
    except Exception as exc:  # pint and float() raise several unrelated types
        raise UnitError(f"{raw!r} is geen getal met een eenheid", field=field, value=raw,
                        expected='een getal met een eenheid, bijv. "18 maanden", "1,2 km", "10000 L"',
                        detail=_reason(exc)) from exc
    check_metric(quantity, raw, field=field)
    return quantity


#: pint's groups of Imperial, US customary and typographic units (mi, ft, in, yd, acre, gal, lb...).
_NON_METRIC_GROUPS = ("USCSLengthInternational", "USCSLengthSurvey", "USCSDryVolume", "USCSLiquidVolume",
                      "USCSVolumeOther", "Avoirdupois", "AvoirdupoisUK", "AvoirdupoisUS", "Troy", "Apothecary",
                      "ImperialVolume", "Printer")
#: Non-metric units that pint defines in metric terms (so not found through their definition).
_NON_METRIC_OTHER = ("nautical_mile", "british_thermal_unit", "degree_Fahrenheit", "degree_Rankine", "grain")
#: What the messages list as accepted.
METRIC_UNITS_NL = ("metrische eenheden, bijv. m, km, m2, ha, L, m3, kg, ton, kW, MW, uur, dag, maand, jaar "
                   "of %")


@cached(maxsize=None)
def _non_metric_names() -> frozenset:
    names = set(_NON_METRIC_OTHER)
    for group in _NON_METRIC_GROUPS:
        names.update(ureg.get_group(group).members)
    return frozenset(names)


@cached(maxsize=None)
def is_non_metric(name: str) -> bool:
    """Whether the pint unit ``name`` is (or is defined through) an Imperial or US customary
    unit: ``mile``, ``square_foot``, ``mile_per_hour`` (mile / hour), ``horsepower`` (foot...)."""
    try:
        base = ureg.parse_unit_name(ureg.get_name(name))[0][1]
    except Exception:  # noqa: BLE001 - a dimension such as '[length]'
        return False
    if base in _non_metric_names():
        return True
    definition = getattr(ureg, "_units", {}).get(base)
    reference = getattr(definition, "reference", None) or {}
    return any(not str(k).startswith("[") and k != base and is_non_metric(str(k)) for k in reference)


def check_metric(quantity, text, *, field: str = "value") -> None:
    """Refuse a quantity (or unit) in Imperial or US customary units (``"5 mi"``, ``"ft"``,
    ``"2 acre"``): in a Dutch project file they are a mistake, not a choice. Raises
    :class:`UnitError` naming ``field``, the unit and the units accepted."""
    bad = non_metric_units(quantity)
    if bad:
        raise UnitError(f"{text!r}: {', '.join(bad)} is geen metrische eenheid", field=field, value=text,
                        expected=METRIC_UNITS_NL)


def non_metric_units(quantity) -> list[str]:
    """The symbols (``mi``, ``ft``) of the Imperial or US customary units of a pint
    Quantity or Unit; empty for a metric one."""
    units = getattr(quantity, "_units", None) or {}
    return [_symbol(u) for u in units if is_non_metric(u)]


def _symbol(name: str) -> str:
    try:
        return ureg.get_symbol(name)
    except Exception:  # noqa: BLE001
        return name


def _reason(exc) -> str:
    """Why a text is no quantity, in Dutch and without Python internals."""
    if isinstance(exc, pint.errors.UndefinedUnitError):
        names = ", ".join(repr(u) for u in getattr(exc, "unit_names", ()) or ())
        return f"onbekende eenheid {names}".strip()
    text = str(exc)
    if isinstance(exc, _Unreadable):
        return text
    if isinstance(exc, ValueError) and ("dubbelzinnig" in text or "komma" in text):
        return text
    if "not defined in the unit registry" in text:
        word = text.split("'")[1] if "'" in text else text
        return f"onbekende eenheid {word!r}"
    if "could not convert" in text or "invalid literal" in text:
        return "geen getal"
    return "niet te lezen als getal met eenheid"


#: Text -> magnitude of the conversions done so far, per target unit (successes only;
#: errors are raised afresh, naming their field). Parsing with pint costs about 0.1 ms;
#: a batch's cells repeat a few dozen texts. Bounded: emptied when full.
_MAGNITUDES: dict = register("stikstofcalc.units._MAGNITUDES", {})
_MAGNITUDES_MAX = 4096


def _remember(text: str, unit: str, magnitude: float) -> float:
    if len(_MAGNITUDES) >= _MAGNITUDES_MAX:
        _MAGNITUDES.clear()
    _MAGNITUDES[(text, unit)] = magnitude
    return magnitude


def to_magnitude(value, unit: str, *, field: str = "value") -> float:
    """Convert a number or Quantity (or a string such as ``"18 maanden"``) to ``unit``.

    Plain numbers are taken to be in ``unit`` already. Strings are read with
    :func:`parse_quantity` (decimal comma, Dutch unit words). Raises
    :class:`stikstofcalc.errors.UnitError` naming ``field`` on a wrong dimension.
    """
    if isinstance(value, str):
        hit = _MAGNITUDES.get((value, unit))
        if hit is not None:  # the same text in the same unit (a batch repeats "18 maanden")
            return hit
        return _remember(value, unit, _convert(value, unit, field))
    return _convert(value, unit, field)


def _convert(value, unit, field) -> float:
    """:func:`to_magnitude` without the memo."""
    given = value
    if isinstance(value, str):
        value = parse_quantity(value, field=field)
        if value.unitless and value.units == ureg.dimensionless:
            return float(value.magnitude)  # a bare number, like a plain float
    if isinstance(value, pint.Quantity):
        try:
            return float(value.to(unit).magnitude)
        except pint.DimensionalityError as exc:
            shown = given if isinstance(given, str) else str(value)
            raise UnitError(f"{shown!r} heeft de verkeerde eenheid", field=field, value=shown,
                            expected=expected_quantity(unit),
                            detail=f"het is {dimension_nl(value.dimensionality)}") from exc
    return float(value)


#: Unit words as a Dutch reader writes them.
_UNIT_WORDS_NL = {"year": "jaar", "yr": "jaar", "day": "dag", "month": "maand", "hour": "uur", "h": "uur",
                  "week": "week",
                  "minute": "minuut", "second": "s", "dimensionless": "-", "": "-"}
_SUPERSCRIPTS = {"2": "\u00b2", "3": "\u00b3"}


def unit_nl(unit: str) -> str:
    """A pint unit text in Dutch notation: ``m**2`` -> ``m²``, ``m**3/year`` -> ``m³/jaar``,
    ``1/day`` -> ``per dag``, ``dimensionless`` -> ``-`` (for labels and explanations)."""
    text = str(unit).strip()
    if text in _UNIT_WORDS_NL:
        return _UNIT_WORDS_NL[text]
    text = re.sub(r"\*\*\s*([23])\b", lambda m: _SUPERSCRIPTS[m.group(1)], text)
    text = re.sub(r"\^([23])\b", lambda m: _SUPERSCRIPTS[m.group(1)], text)
    text = re.sub(r"[A-Za-z_]+", lambda m: _UNIT_WORDS_NL.get(m.group(0), m.group(0)), text)
    text = text.replace(" * ", "\u00b7")
    return re.sub(r"^1\s*/\s*", "per ", text)


#: Units a message names in the plural (``een hoeveelheid in maanden``), as ranges.py does.
_PLURAL_NL = {"month": "maanden", "L": "liter", "h": "uur", "year": "jaren", "day": "dagen", "week": "weken",
              "mol/ha/yr": "mol N/ha/jr"}


def expected_quantity(unit: str) -> str:
    """What a quantity in ``unit`` is, for "verwacht: ...": ``m**2`` -> ``een hoeveelheid in m²``,
    ``month`` -> ``... in maanden``, ``1/day`` -> ``een aantal per dag``."""
    if unit in ("", "dimensionless"):
        return "een getal zonder eenheid (of %)"
    words = _PLURAL_NL.get(unit) or unit_nl(unit)
    return f"een aantal {words}" if words.startswith("per ") else f"een hoeveelheid in {words}"


#: Dimensions (pint's ``[length] ** 2``) in words, for "het is een oppervlakte".
_DIMENSIONS_NL = {
    (): "een getal zonder eenheid", (("[length]", 1),): "een lengte",
    (("[length]", 2),): "een oppervlakte", (("[length]", 3),): "een volume",
    (("[mass]", 1),): "een massa", (("[time]", 1),): "een tijdsduur",
    (("[time]", -1),): "een aantal per tijdseenheid", (("[mass]", 1), ("[time]", -1)): "een massa per tijdseenheid",
    (("[length]", 3), ("[time]", -1)): "een volume per tijdseenheid",
    (("[length]", 1), ("[time]", -1)): "een snelheid", (("[temperature]", 1),): "een temperatuur",
    (("[length]", 2), ("[mass]", 1), ("[time]", -3)): "een vermogen",
    (("[length]", 2), ("[mass]", 1), ("[time]", -2)): "een energie",
    (("[length]", -3), ("[mass]", 1)): "een massa per volume", (("[substance]", 1),): "een stofhoeveelheid (mol)",
}
_DIMENSION_WORDS_NL = {"[length]": "lengte", "[mass]": "massa", "[time]": "tijd", "[temperature]": "temperatuur",
                       "[substance]": "stofhoeveelheid", "[current]": "stroomsterkte",
                       "[luminosity]": "lichtsterkte", "[currency]": "geld"}
_POWERS = {1: "", 2: "\u00b2", 3: "\u00b3"}


def dimension_nl(dimensionality) -> str:
    """A pint dimensionality in Dutch words: ``[length] ** 2`` -> ``een oppervlakte``,
    ``[mass]`` -> ``een massa``; otherwise ``een grootheid in massa/tijd²`` (for messages)."""
    dims = tuple(sorted((str(k), int(v) if float(v).is_integer() else float(v))
                        for k, v in dict(dimensionality).items() if v))
    if dims in _DIMENSIONS_NL:
        return _DIMENSIONS_NL[dims]

    def part(k, v):
        return _DIMENSION_WORDS_NL.get(k, k.strip("[]")) + _POWERS.get(abs(v), f"^{abs(v):g}")

    up = "\u00b7".join(part(k, v) for k, v in dims if v > 0) or "1"
    down = "\u00b7".join(part(k, v) for k, v in dims if v < 0)
    return f"een grootheid in {up}/{down}" if down else f"een grootheid in {up}"
