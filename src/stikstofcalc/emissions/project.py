"""The project file: parse and validate one project (TOML) into plain, canonical values.

The format is documented in ``docs/project_format.md``; examples are in
``examples/*.toml``. Every problem is collected and raised together as
:class:`~stikstofcalc.errors.MultipleInputErrors`, each naming the case, the
field (``components[2].count``), the value and what was expected. Quantities
may be written with units, Dutch or English (``"18 maanden"``, ``"1,2 km"``);
plain numbers are read in the unit the field's documentation names.

Fields used later by the assessment step (location, site outline, route
geometry, reference situation) are parsed and validated here and carried
through unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stikstofcalc import kengetallen, ranges
from stikstofcalc.errors import InputError, MultipleInputErrors, StikstofError, dutch_notation, hint, nl_int, read_reason, toml_reason
from stikstofcalc.units import expected_quantity, to_magnitude, unit_nl
from stikstofcalc.geo.geometry import parse_wkt
from stikstofcalc.geo.receptors import wgs84_to_rd

FLEETS_DEFAULT = "huidig"
YEAR_SPLITS = ("aerius", "kalenderjaar", "een_jaar")
VEHICLE_CLASSES = ("licht", "middelzwaar", "zwaar", "bus")
#: RD New (EPSG:28992) validity domain of the Rijksdriehoeksstelsel [m] and the
#: latitude/longitude box around the Netherlands [degrees]: the ranges that ``location``
#: is checked against (:data:`stikstofcalc.ranges.RANGES`, shared with ``capacity``).
RD_X_RANGE = (ranges.RANGES["x"].lo, ranges.RANGES["x"].hi)
RD_Y_RANGE = (ranges.RANGES["y"].lo, ranges.RANGES["y"].hi)
LAT_RANGE = (ranges.RANGES["lat"].lo, ranges.RANGES["lat"].hi)
LON_RANGE = (ranges.RANGES["lon"].lo, ranges.RANGES["lon"].hi)
DAYS_PER_MONTH = 30.4375  # pint's month (365.25 / 12 days), for fractional months only


@dataclass(frozen=True)
class Location:
    """Project location: RD New x, y [m] or WGS84 lat, lon [deg]; optional site outline."""

    x: float | None = None
    y: float | None = None
    lat: float | None = None
    lon: float | None = None
    outline: tuple | None = None


@dataclass(frozen=True)
class Route:
    """Access route along which project traffic is modelled until it merges into general traffic."""

    name: str
    road_type: str
    length_m: float
    share: float
    stagnation_fraction: float = 0.0
    geometry: tuple | None = None
    bearing_deg: float | None = None


@dataclass(frozen=True)
class Machine:
    """A machine the user lists: AERIUS category and activity for the whole construction."""

    name: str
    category: str
    fuel_l: float | None
    hours_h: float | None
    adblue_l: float | None
    power_kw: float | None
    field: str


@dataclass(frozen=True)
class Component:
    """One part of the project (a project type with a size), with optional explicit inputs."""

    index: int
    type: str
    count: int | None
    area_m2: float | None
    home_type: str | None
    function: str | None
    urbanisation: str | None
    gas_m3_per_year: float | None
    machines: tuple | None
    construction_traffic: dict
    use_traffic_per_day: dict
    label: str

    @property
    def field(self) -> str:
        return f"components[{self.index}]"


@dataclass(frozen=True)
class Construction:
    """Realisation phase settings: period, fleet choice, year split."""

    start: dt.date
    end: dt.date | None
    fleet: str = FLEETS_DEFAULT
    electric_share: float = 0.0
    year_split: str = "aerius"


@dataclass(frozen=True)
class UsePhase:
    """Use phase settings: calculation year and urbanisation degree."""

    year: int | None
    urbanisation: str


@dataclass(frozen=True)
class ReferenceSource:
    """One source of the reference situation (carried through for netting, not computed)."""

    name: str
    nox_kg_per_yr: float
    nh3_kg_per_yr: float
    x: float | None
    y: float | None
    sector_id: int | None
    height_m: float | None
    heat_mw: float | None
    spread_m: float | None


@dataclass(frozen=True)
class Reference:
    """Reference situation (existing, permitted activity): description and sources."""

    description: str
    sources: tuple


@dataclass(frozen=True)
class Project:
    """One validated project (a *case*)."""

    name: str
    location: Location
    components: tuple
    routes: tuple
    construction: Construction
    use: UsePhase
    reference: Reference | None = None
    edition: str | None = None
    overrides: str | None = None
    file: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)


# ----------------------------------------------------------------------------- keys

#: The keys allowed in every table of a project document, by level (``[]``: each entry of
#: an array of tables). A key that is not listed is an error ("bedoelt u ...?"): a typo
#: must never silently drop an input and let a default take its place. The workbook's
#: sheets map their columns onto the same keys (:mod:`stikstofcalc.io.excel.schema`).
KEYS = {
    "": ("name", "description", "municipality", "kengetallen", "overrides", "location",
         "construction", "use", "components", "routes", "reference"),
    "location": ("x", "y", "lat", "lon", "outline"),
    "construction": ("start", "end", "duration", "fleet", "electric_share", "year_split", "werktuig_warmte"),
    "use": ("year", "urbanisation"),
    "components[]": ("name", "type", "count", "floor_area", "area", "home_type", "function",
                     "urbanisation", "gas_use", "machines", "construction_traffic", "use_traffic"),
    "components[].machines[]": ("name", "category", "fuel", "hours", "adblue", "power"),
    "routes[]": ("name", "road_type", "length", "bearing", "share", "stagnation", "geometry"),
    "reference": ("description", "sources"),
    "reference.sources[]": ("name", "nox", "nh3", "x", "y", "sector_id", "height", "heat", "spread"),
}
_TOP_LEVEL = set(KEYS[""])

#: Dutch words (the workbook's labels) users type as keys -> the key they mean.
KEY_ALIASES = {
    "naam": "name", "omschrijving": "description", "gemeente": "municipality",
    "editie": "kengetallen", "locatie": "location", "bouw": "construction", "gebruik": "use",
    "onderdelen": "components", "onderdeel": "components", "referentie": "reference",
    "begin": "start", "start_bouw": "start", "einde": "end", "einde_bouw": "end",
    "bouwduur": "duration", "duur": "duration", "vloot": "fleet", "materieel": "fleet",
    "aandeel_elektrisch": "electric_share", "elektrisch": "electric_share",
    "jaar": "year", "rekenjaar": "year", "stedelijkheid": "urbanisation", "projecttype": "type",
    "soort": "type", "aantal": "count", "aantal_woningen": "count", "bvo": "floor_area",
    "vloeroppervlak": "floor_area", "oppervlak": "area", "terreinoppervlak": "area",
    "woningtype": "home_type", "functie": "function", "gasverbruik": "gas_use",
    "aardgasverbruik": "gas_use", "werktuigen": "machines", "bouwverkeer": "construction_traffic",
    "verkeer": "use_traffic", "categorie": "category", "brandstof": "fuel", "draaiuren": "hours",
    "uren": "hours", "vermogen": "power", "wegtype": "road_type", "lengte": "length",
    "routelengte": "length", "richting": "bearing", "aandeel": "share", "stagnatie": "stagnation",
    "geometrie": "geometry", "bronnen": "sources", "hoogte": "height", "warmte": "heat",
    "spreiding": "spread", "sector": "sector_id", "contour": "outline",
}


# ----------------------------------------------------------------------------- helpers


class _Collector:
    def __init__(self, case, file):
        self.case, self.file, self.errors = case, file, []

    def add(self, field_, message, value=None, expected=None, exc=None):
        if isinstance(exc, MultipleInputErrors):
            self.errors.extend(exc.errors)
            return
        if isinstance(exc, StikstofError):
            exc.case, exc.file, exc.field = self.case, self.file, field_
            exc.args = (exc._compose(),)
            self.errors.append(exc)
            return
        self.errors.append(InputError(message, case=self.case, file=self.file, field=field_,
                                      value=value, expected=expected))


def _keys(c, table, level, prefix):
    """Report every key of ``table`` that level ``level`` of :data:`KEYS` does not know."""
    allowed = KEYS[level]
    for key in table:
        if key not in allowed:
            where = f"{prefix}.{key}" if prefix else str(key)
            c.add(where, f"onbekend veld {str(key)!r}{hint(key, allowed, aliases=KEY_ALIASES)}",
                  value=key, expected=f"een van {', '.join(allowed)}")


def _table(c, value, field_, what):
    """``value`` if it is a table, else None (reported)."""
    if isinstance(value, dict):
        return value
    c.add(field_, f"{_short(value)} is geen tabel", value=_short(value), expected=what)
    return None


def _array(c, value, field_, what):
    """``value`` if it is a list (an array of tables), else [] (reported)."""
    if isinstance(value, list):
        return value
    c.add(field_, f"{_short(value)} is geen lijst van tabellen", value=_short(value), expected=what)
    return []


def _short(value):
    """The value as the user wrote it (TOML notation for dates), shortened."""
    text = value.isoformat() if isinstance(value, (dt.date, dt.time)) else repr(value)
    if isinstance(value, bool):
        text = "true" if value else "false"  # as TOML writes it, not Python's True
    return text if len(text) <= 60 else text[:57] + "..."


def _text(c, table, key, field_, *, default=None):
    """``table[key]`` as text (stripped), ``default`` if absent; a number, date, list ... is reported."""
    if key not in table:
        return default
    value = table[key]
    if isinstance(value, str):
        return value.strip()
    c.add(field_, f"{_short(value)} is geen tekst", value=_short(value), expected="tekst tussen aanhalingstekens")
    return None


def _quantity(c, table, key, unit, field_, rng, *, required=False):
    """Read ``table[key]`` as a float in ``unit`` inside range ``rng`` (:data:`~.ranges.RANGES`).

    None if absent (reported when ``required``) or invalid (reported).
    """
    if key not in table:
        if required:
            c.add(field_, "ontbreekt", expected=expected_quantity(unit))
        return None
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        typed = unit_nl(unit).replace("\u00b2", "2").replace("\u00b3", "3")  # as typed: '12 m2'
        c.add(field_, f"{_short(value)} is geen hoeveelheid", value=_short(value),
              expected="een getal" if unit == "dimensionless" else f"een getal of tekst zoals '12 {typed}'")
        return None
    try:
        number = to_magnitude(value, unit, field=field_)
        return ranges.check(rng, number, field=field_, shown=value)
    except StikstofError as exc:
        c.add(field_, None, exc=exc)
        return None
    except (OverflowError, ValueError):  # "1e999" and other numbers float() cannot hold
        c.add(field_, f"{_short(value)} is geen bruikbaar getal", value=_short(value),
              expected=ranges.RANGES[rng].describe(), exc=None)
        return None


def _choice(c, table, key, allowed, field_, *, default=None, required=False):
    value = _text(c, table, key, field_, default=default) if key in table else default
    if value is None:
        if required and key not in table:
            c.add(field_, "ontbreekt", expected=f"een van {', '.join(allowed)}")
        return None
    if value not in allowed:
        c.add(field_, f"onbekende waarde {value!r}{hint(value, allowed)}", value=value,
              expected=f"een van {', '.join(allowed)}")
        return None
    return value


def _fraction(c, table, key, field_, default=0.0):
    if key not in table:
        return default
    return _quantity(c, table, key, "dimensionless", field_, "share")


def _date(c, value, field_, *, end=False):
    """'2027-03' (month; as end: exclusive end of that month), '2027-03-15' or a TOML date."""
    lo, hi = ranges.YEAR_RANGE
    expected = f'"2027-03" of "2027-03-15", een jaar van {lo} tot en met {hi}'
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day, month_only = value, False
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 7:
                if text[4] != "-":
                    raise ValueError
                day, month_only = dt.date(int(text[:4]), int(text[5:7]), 1), True
            else:
                day, month_only = dt.date.fromisoformat(text), False
        except (ValueError, TypeError):
            c.add(field_, f"{_short(value)} is geen datum", value=_short(value), expected=expected)
            return None
    else:
        c.add(field_, f"{_short(value)} is geen datum", value=_short(value), expected=expected)
        return None
    if not lo <= day.year <= hi:
        c.add(field_, f"{_short(value)} ligt buiten het toegestane bereik", value=_short(value),
              expected=expected)
        return None
    if not end:
        return day
    return _add_months(day, 1) if month_only else day + dt.timedelta(days=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + (day.month - 1) + months
    return dt.date(total // 12, total % 12 + 1, 1) if day.day == 1 else dt.date(
        total // 12, total % 12 + 1, min(day.day, 28))


def add_duration(start: dt.date, months: float) -> dt.date:
    """Exclusive end date: whole calendar months, then the fraction as days."""
    whole = math.floor(months)
    return _add_months(start, whole) + dt.timedelta(days=round((months - whole) * DAYS_PER_MONTH))


def _points(c, value, field_, minimum):
    """A list of [x, y] points in the RD domain, at least ``minimum``, at most MAX_POINTS."""
    expected = (f"{minimum} tot {ranges.MAX_POINTS} punten [[x, y], ...] in RD-meters "
                f"(x {RD_X_RANGE[0]:g}..{RD_X_RANGE[1]:g}, y {RD_Y_RANGE[0]:g}..{RD_Y_RANGE[1]:g})")
    ok = isinstance(value, list) and minimum <= len(value) <= ranges.MAX_POINTS and all(
        isinstance(p, list) and len(p) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in p)
        and ranges.RANGES["x"].contains(p[0]) and ranges.RANGES["y"].contains(p[1])
        for p in value)
    if not ok:
        n = f" ({len(value)} punten)" if isinstance(value, list) else ""
        c.add(field_, f"geen bruikbare lijst van [x, y]-punten{n}", value=str(value)[:60], expected=expected)
        return None
    return tuple((float(p[0]), float(p[1])) for p in value)


def _polyline_length(points) -> float:
    return float(sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:])))


# ----------------------------------------------------------------------------- sections


#: Largest distance [m] between a location's x, y and its lat, lon when both are given (the
#: WGS84 -> RD New conversion is exact to well under a metre; a site is hundreds of metres).
LOCATION_AGREEMENT_M = 100.0


def _location(c, data):
    if "location" not in data:
        c.add("location", "ontbreekt", expected="een tabel [location] met x, y (RD New) of lat, lon")
        return Location()
    loc = _table(c, data["location"], "location", "een tabel [location] met x, y (RD New) of lat, lon")
    if loc is None:
        return Location()
    _keys(c, loc, "location", "location")
    if _degrees_as_xy(c, loc):
        return Location()
    x = _quantity(c, loc, "x", "m", "location.x", "x")
    y = _quantity(c, loc, "y", "m", "location.y", "y")
    lat = _quantity(c, loc, "lat", "dimensionless", "location.lat", "lat")
    lon = _quantity(c, loc, "lon", "dimensionless", "location.lon", "lon")
    _missing_halves(c, loc, "location", (("x", "y", "RD New, m"), ("lat", "lon", "WGS84")))
    if x is None and y is None and lat is not None and lon is not None:
        x, y = _wgs84_to_rd(c, lat, lon)  # every later step works in RD New
    elif None not in (x, y, lat, lon):  # both given: they must name one place (x, y is used)
        gx, _ = _wgs84_to_rd(c, lat, lon)
        apart = float(location_apart_m(x, y, lat, lon))
        if gx is not None and apart > LOCATION_AGREEMENT_M:
            message, expected = location_apart_error(apart)
            c.add("location", message, value=f"x {x:g}, y {y:g}; lat {lat:g}, lon {lon:g}", expected=expected)
    outline = _points(c, loc["outline"], "location.outline", 3) if "outline" in loc else None
    if outline:  # a valid simple polygon for every command (emissions, export-imaer, calc)
        ring = list(outline) + ([outline[0]] if tuple(outline[0]) != tuple(outline[-1]) else [])
        try:
            parse_wkt("POLYGON ((" + ", ".join(f"{px!r} {py!r}" for px, py in ring) + "))")
        except StikstofError as exc:
            exc.message = f"de omtrek van het terrein is geen geldige veelhoek: {exc.message or exc}"
            exc.value = _short(loc["outline"])
            c.add("location.outline", None, exc=exc)
    return Location(x, y, lat, lon, outline)


def _degrees_as_xy(c, loc) -> bool:
    """x, y that are WGS84 degrees (x 5,9 and y 52,1, or swapped): one error saying so and
    naming lat, lon, instead of a range error on y alone (x 5,9 m lies inside RD New)."""
    try:
        x, y = (float(str(loc[k]).strip().replace(",", ".")) for k in ("x", "y"))
    except (KeyError, ValueError, TypeError):
        return False
    lat, lon = ranges.RANGES["lat"], ranges.RANGES["lon"]
    for la, lo in ((y, x), (x, y)):
        if lat.contains(la) and lon.contains(lo):
            given = f"x {dutch_notation(f'{x:g}')}, y {dutch_notation(f'{y:g}')}"
            c.add("location", f"{given} lijken WGS84-graden, geen RD New-meters", value=given,
                  expected=f"lat = {dutch_notation(f'{la:g}')} en lon = {dutch_notation(f'{lo:g}')} "
                  "(WGS84), of x en y in RD New (m, bijv. x 155000, y 463000)")
            return True
    return False


def location_apart_m(x, y, lat, lon) -> np.ndarray:
    """Distance [m] between x, y (RD New) and lat, lon (WGS84) given for one place, vectorised:
    more than :data:`LOCATION_AGREEMENT_M` and they name two places."""
    gx, gy = wgs84_to_rd(np.asarray(lat, float), np.asarray(lon, float))
    return np.hypot(gx - np.asarray(x, float), gy - np.asarray(y, float))


def location_apart_error(apart_m: float) -> tuple[str, str]:
    """(message, expected) for x, y and lat, lon ``apart_m`` apart (``calc`` and ``capacity``)."""
    return (f"x, y en lat, lon liggen {dutch_notation(f'{apart_m / 1000:.1f}')} km uit elkaar",
            "x en y (RD New) óf lat en lon (WGS84), of beide voor dezelfde plek")


def latlon_outside_rd_error(lat, lon, x, y) -> tuple[str, str, str]:
    """(message, value, expected) for a lat, lon whose RD New point x, y lies outside RD New:
    names the place as given, not the converted numbers only (``calc`` and ``capacity``)."""
    rx, ry = ranges.RANGES["x"], ranges.RANGES["y"]
    given = f"lat {dutch_notation(f'{lat:g}')}, lon {dutch_notation(f'{lon:g}')}"
    return (f"{given} ligt buiten het gebied van RD New (omgerekend x {nl_int(x)}, y {nl_int(y)} m)", given,
            f"een plek in Nederland: in RD New x van {nl_int(rx.lo)} tot {nl_int(rx.hi)} m en "
            f"y van {nl_int(ry.lo)} tot {nl_int(ry.hi)} m ({rx.why})")


def _missing_halves(c, table, f, pairs):
    """Each coordinate pair of ``table`` complete or absent, and at least one pair given; an
    error names the missing field itself (``location.y``: the batch's ``fouten`` then names
    its column), not the whole table."""
    either = " of ".join(f"{a} en {b} ({what})" for a, b, what in pairs)
    halves = [(a, b, what) for a, b, what in pairs if (a in table) != (b in table)]
    for a, b, what in halves:
        have, lack = (a, b) if a in table else (b, a)
        c.add(f"{f}.{lack}", "ontbreekt", expected=f"{lack} naast {have} ({what})")
    if not halves and not any(a in table for a, _, _ in pairs):
        c.add(f"{f}.{pairs[0][0]}", "ontbreekt", expected=either)


def _wgs84_to_rd(c, lat, lon):
    try:
        x, y = wgs84_to_rd(lat, lon)
    except StikstofError as exc:
        c.add("location", None, exc=exc)
        return None, None
    x, y = float(x), float(y)
    if not (ranges.RANGES["x"].contains(x) and ranges.RANGES["y"].contains(y)):
        message, given, expected = latlon_outside_rd_error(lat, lon, x, y)
        c.add("location", message, value=given, expected=expected)
        return None, None
    return x, y


def _construction(c, data):
    sec = _table(c, data.get("construction", {}), "construction",
                 'een tabel [construction] met start en duration of end')
    if sec is None:
        return None
    _keys(c, sec, "construction", "construction")
    if "start" not in sec:
        c.add("construction.start", "ontbreekt", expected='een start zoals "2027-03"')
        return None
    start = _date(c, sec["start"], "construction.start")
    end = None
    if "end" in sec and "duration" in sec:
        c.add("construction", "zowel end als duration gegeven", expected="end of duration, niet beide")
    elif "end" in sec:
        end = _date(c, sec["end"], "construction.end", end=True)
        if start and end and end <= start:
            c.add("construction.end", f"{sec['end']!r} ligt niet na de start {sec['start']!r}",
                  value=sec["end"], expected="een einde na de start")
            end = None
    elif "duration" in sec:
        months = _quantity(c, sec, "duration", "month", "construction.duration", "duration")
        if start and months:
            end = add_duration(start, months)
            if end <= start:  # "10 minuten": shorter than a day (the end is exclusive here)
                c.add("construction.duration", f"{sec['duration']!r} is korter dan een dag", value=sec["duration"],
                      expected='een bouwduur zoals "10 maanden" of "6 weken"')
                end = None
    fleet = _text(c, sec, "fleet", "construction.fleet", default=FLEETS_DEFAULT)
    split = _choice(c, sec, "year_split", YEAR_SPLITS, "construction.year_split", default="aerius")
    share = _fraction(c, sec, "electric_share", "construction.electric_share")
    if start is None:
        return None
    return Construction(start, end, fleet or FLEETS_DEFAULT, share or 0.0, split or "aerius")


def _use(c, data):
    use = _table(c, data.get("use", {}), "use", "een tabel [use] met year en/of urbanisation")
    if use is None:
        return UsePhase(None, "matig_stedelijk")
    _keys(c, use, "use", "use")
    year = use.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)
                             or not ranges.RANGES["year"].contains(year)):
        lo, hi = ranges.YEAR_RANGE
        c.add("use.year", f"{_short(year)} is geen geldig kalenderjaar", value=_short(year),
              expected=f"een jaar van {lo} tot en met {hi}, zoals 2029")
        year = None
    return UsePhase(year, _text(c, use, "urbanisation", "use.urbanisation", default="matig_stedelijk")
                    or "matig_stedelijk")


def _machines(c, comp, base):
    out = []
    for j, m in enumerate(_array(c, comp["machines"], f"{base}.machines",
                                 "[[components.machines]] met category, fuel, hours")):
        f = f"{base}.machines[{j}]"
        if not isinstance(m, dict):
            c.add(f, "geen tabel", expected="[[components.machines]] met category, fuel, hours")
            continue
        _keys(c, m, "components[].machines[]", f)
        if "category" not in m:
            c.add(f"{f}.category", "ontbreekt", expected="een AERIUS-werktuigcategorie")
        category = _text(c, m, "category", f"{f}.category", default="")
        fuel = _quantity(c, m, "fuel", "L", f"{f}.fuel", "fuel")
        hours = _quantity(c, m, "hours", "h", f"{f}.hours", "hours")
        adblue = _quantity(c, m, "adblue", "L", f"{f}.adblue", "adblue")
        power = _quantity(c, m, "power", "kW", f"{f}.power", "power")
        if fuel is None and hours is None and not any(k in m for k in ("fuel", "hours")):
            c.add(f, "geen activiteit", expected="fuel (L) en/of hours (uur)")
        name = _text(c, m, "name", f"{f}.name") or category or f"machine {j}"
        out.append(Machine(name, category or "", fuel, hours, adblue, power, f))
    return tuple(out)


def _per_class(c, table, key, unit, field_, rng):
    if key not in table:
        return {}
    sec = _table(c, table[key], field_, "een tabel zoals {zwaar = 400, licht = 2000}")
    if sec is None:
        return {}
    out = {}
    for vc in sec:
        if vc not in VEHICLE_CLASSES:
            c.add(f"{field_}.{vc}", f"onbekende voertuigklasse {vc!r}{hint(vc, VEHICLE_CLASSES)}", value=vc,
                  expected=f"een van {', '.join(VEHICLE_CLASSES)}")
            continue
        v = _quantity(c, sec, vc, unit, f"{field_}.{vc}", rng)
        if v is not None:
            out[vc] = v
    return out


def _component(c, i, comp):
    f = f"components[{i}]"
    if not isinstance(comp, dict):
        c.add(f, "geen tabel", expected="[[components]] met type en count of floor_area")
        return None
    _keys(c, comp, "components[]", f)
    ctype = _text(c, comp, "type", f"{f}.type")
    if "type" not in comp:
        c.add(f"{f}.type", "ontbreekt", expected="een projecttype")
    count = area = None
    if "count" in comp:
        value = comp["count"]
        if isinstance(value, bool) or not isinstance(value, int):
            c.add(f"{f}.count", f"{_short(value)} is geen geheel getal", value=_short(value),
                  expected=ranges.RANGES["count"].describe())
        elif not ranges.RANGES["count"].contains(value):
            c.add(f"{f}.count", f"{value!r} ligt buiten het toegestane bereik", value=value,
                  expected=ranges.RANGES["count"].describe())
        else:
            count = value
    if "floor_area" in comp:
        area = _quantity(c, comp, "floor_area", "m**2", f"{f}.floor_area", "floor_area")
    if "area" in comp:
        site = _quantity(c, comp, "area", "m**2", f"{f}.area", "site_area")
        area = site if area is None else area
    gas = _quantity(c, comp, "gas_use", "m**3/year", f"{f}.gas_use", "gas_use")
    return Component(
        index=i, type=ctype or "", count=count, area_m2=area,
        home_type=_text(c, comp, "home_type", f"{f}.home_type"),
        function=_text(c, comp, "function", f"{f}.function"),
        urbanisation=_text(c, comp, "urbanisation", f"{f}.urbanisation"), gas_m3_per_year=gas,
        machines=_machines(c, comp, f) if "machines" in comp else None,
        construction_traffic=_per_class(c, comp, "construction_traffic", "dimensionless",
                                        f"{f}.construction_traffic", "movements"),
        use_traffic_per_day=_per_class(c, comp, "use_traffic", "1/day", f"{f}.use_traffic",
                                       "movements_per_day"),
        label=_text(c, comp, "name", f"{f}.name") or ctype or f)


def _routes(c, data, location):
    routes = _array(c, data.get("routes", []), "routes", "[[routes]] met road_type en length of geometry")
    out = []
    for i, r in enumerate(routes):
        f = f"routes[{i}]"
        if not isinstance(r, dict):
            c.add(f, "geen tabel", expected="[[routes]] met road_type en length of geometry")
            continue
        _keys(c, r, "routes[]", f)
        geometry = _points(c, r["geometry"], f"{f}.geometry", 2) if "geometry" in r else None
        length = _quantity(c, r, "length", "m", f"{f}.length", "route_length")
        bearing = _quantity(c, r, "bearing", "dimensionless", f"{f}.bearing", "bearing")
        if "geometry" in r and "length" in r:
            c.add(f, "zowel geometry als length gegeven", expected="geometry of length (+ bearing), niet beide")
        elif geometry is not None:
            length = _polyline_length(geometry)
            if length <= 0:
                c.add(f"{f}.geometry", "de lijn heeft lengte 0", expected="minstens twee verschillende punten")
        elif length is not None and bearing is not None and location.x is not None \
                and location.y is not None:  # half a location is reported by _location
            rad = math.radians(bearing)
            geometry = ((location.x, location.y),
                        (location.x + length * math.sin(rad), location.y + length * math.cos(rad)))
        elif "length" not in r and "geometry" not in r:
            c.add(f"{f}.length", "ontbreekt", expected='een lengte zoals "1,2 km" of een geometry')
        share = _fraction(c, r, "share", f"{f}.share", default=None)
        if share is None and len(routes) == 1 and "share" not in r:
            share = 1.0
        elif share is None and "share" not in r:
            c.add(f"{f}.share", "ontbreekt", expected="het aandeel van het projectverkeer op deze route (0..1)")
        stag = _fraction(c, r, "stagnation", f"{f}.stagnation")
        out.append(Route(_text(c, r, "name", f"{f}.name") or f"route {i + 1}",
                         _text(c, r, "road_type", f"{f}.road_type", default="") or "",
                         length or 0.0, share or 0.0, stag or 0.0, geometry, bearing))
    if out and not c.errors and abs(sum(r.share for r in out) - 1.0) > 1e-6:
        total = dutch_notation(f"{sum(r.share for r in out):.4g}")
        # named on the share field, so the batch's fouten names its column (aandeel verkeer)
        c.add(f"routes[{len(out) - 1}].share",
              f"de aandelen van de routes tellen op tot {total}", expected="aandelen van de routes die samen 1 zijn")
    return tuple(out)


def _reference(c, data):
    if "reference" not in data:
        return None
    ref = _table(c, data["reference"], "reference", "een tabel [reference] met description en sources")
    if ref is None:
        return None
    _keys(c, ref, "reference", "reference")
    sources = []
    for i, s in enumerate(_array(c, ref.get("sources", []), "reference.sources",
                                 "[[reference.sources]] met nox, nh3, x, y")):
        f = f"reference.sources[{i}]"
        if not isinstance(s, dict):
            c.add(f, "geen tabel", expected="[[reference.sources]] met nox, nh3, x, y")
            continue
        _keys(c, s, "reference.sources[]", f)
        nox = _quantity(c, s, "nox", "kg/year", f"{f}.nox", "emission") or 0.0
        nh3 = _quantity(c, s, "nh3", "kg/year", f"{f}.nh3", "emission") or 0.0
        sid = s.get("sector_id")
        if sid is not None and (isinstance(sid, bool) or not isinstance(sid, int) or not 0 < sid < 100000):
            c.add(f"{f}.sector_id", f"{_short(sid)} is geen AERIUS-sectornummer", value=_short(sid),
                  expected="een geheel getal zoals 4110")
            sid = None
        x = _quantity(c, s, "x", "m", f"{f}.x", "x")
        y = _quantity(c, s, "y", "m", f"{f}.y", "y")
        if ("x" in s) != ("y" in s):
            lack, have = ("y", "x") if "x" in s else ("x", "y")
            c.add(f"{f}.{lack}", "ontbreekt", expected=f"{lack} naast {have} (RD New, m), of geen van "
                  "beide (de projectlocatie)")
        sources.append(ReferenceSource(
            _text(c, s, "name", f"{f}.name") or f"reference {i + 1}", nox, nh3, x, y, sid,
            _quantity(c, s, "height", "m", f"{f}.height", "height"),
            _quantity(c, s, "heat", "MW", f"{f}.heat", "heat"),
            _quantity(c, s, "spread", "m", f"{f}.spread", "spread")))
    return Reference(_text(c, ref, "description", "reference.description", default="") or "", tuple(sources))


def parse_project(data: dict, *, file=None, kengetallen=None) -> Project:
    """Validate a parsed TOML document; raise every problem at once.

    Names (project types, categories, road types, ...) are checked against
    ``kengetallen`` (default: the edition the file names, with its overrides).
    """
    raw_name = data.get("name", "")
    name = (raw_name.strip() if isinstance(raw_name, str) else "") or (Path(file).stem if file else "project")
    c = _Collector(name, file)
    _keys(c, data, "", "")
    _text(c, data, "name", "name")
    _text(c, data, "description", "description")
    _text(c, data, "municipality", "municipality")
    edition = _text(c, data, "kengetallen", "kengetallen")
    location = _location(c, data)
    construction = _construction(c, data)
    use_phase = _use(c, data)
    if construction is not None and use_phase.year is not None and use_phase.year < construction.start.year:
        c.add("use.year", f"{use_phase.year} ligt voor het begin van de bouw ({construction.start:%Y-%m})",
              value=use_phase.year, expected=f"het eerste jaar van gebruik: {construction.start.year} of later")
    if "components" not in data or data["components"] == []:
        c.add("components", "ontbreekt", expected="minstens één tabel [[components]]")
    comps = _array(c, data.get("components", []), "components", "minstens één tabel [[components]]")
    components = tuple(x for x in (_component(c, i, comp) for i, comp in enumerate(comps)) if x)
    routes = _routes(c, data, location)
    reference = _reference(c, data)
    overrides = _text(c, data, "overrides", "overrides")
    if overrides == "":
        c.add("overrides", "lege bestandsnaam", value="", expected="het pad van een CSV- of Excel-bestand")
        overrides = None
    if overrides is not None and file is not None:
        overrides = str((Path(file).parent / overrides).resolve())
    project = Project(name, location, components, routes, construction, use_phase, reference,
                      edition, overrides, None if file is None else str(file), data)
    if not any(e.field == "overrides" for e in c.errors):
        try:  # names are checked even when other fields have problems: report everything at once
            kg = kengetallen if kengetallen is not None else kengetallen_for(project)
        except StikstofError as exc:
            c.add("kengetallen" if not isinstance(exc, MultipleInputErrors) else "overrides", None, exc=exc)
        else:
            _check_names(c, project, kg)
    if c.errors:
        raise MultipleInputErrors(c.errors, file=file)
    return project


def use_names(kg, basis: str) -> list[str]:
    """The home types (basis ``woning``) or functions (``m2``) of the traffic generation table.

    Each component type decides by its basis which list is valid: a home component takes
    a home type, a building component a function; the other list is never offered.
    """
    tg = kg.tables["traffic_generation"]
    return list(dict.fromkeys(tg.loc[tg["basis"] == basis, "function"]))


#: Per basis of a project type: the size key, the key naming the use-phase traffic.
_SIZE_KEY = {"woning": "count", "m2": "floor_area", "ha": "area"}
_USE_KEY = {"woning": "home_type", "m2": "function"}


def _check_names(c, project, kg):
    """Check every name in the project against the key-figure edition."""
    types = kg.values("project_types", "project_type")
    categories = kg.values("machinery_factors", "category")
    road_types = kg.values("road_factors_nox", "road_type")
    urbanisations = [u for u in kg.values("traffic_generation", "urbanisation") if u != "alle"]
    fleets = kg.values("fleet_mix", "fleet")
    if project.construction and project.construction.fleet not in fleets:
        c.add("construction.fleet", f"onbekende vloot {project.construction.fleet!r}"
              f"{hint(project.construction.fleet, fleets)}",
              value=project.construction.fleet, expected=f"een van {', '.join(fleets)}")
    if project.use.urbanisation not in urbanisations:
        c.add("use.urbanisation", f"onbekende stedelijkheid {project.use.urbanisation!r}"
              f"{hint(project.use.urbanisation, urbanisations)}",
              value=project.use.urbanisation, expected=f"een van {', '.join(urbanisations)}")
    raw = project.raw.get("components") if isinstance(project.raw.get("components"), list) else []
    for comp in project.components:
        f = comp.field
        given = raw[comp.index] if comp.index < len(raw) and isinstance(raw[comp.index], dict) else {}
        if comp.type not in types:
            if comp.type:
                c.add(f"{f}.type", f"onbekend projecttype {comp.type!r}{hint(comp.type, types)}",
                      value=comp.type, expected=f"een van {', '.join(types)}")
            continue
        info = kg.labels("project_types", comp.type)
        basis, stage = info["basis"], info["stage"]
        size_key = _SIZE_KEY.get(basis)
        for key in _SIZE_KEY.values():  # a size the type does not use would be ignored silently
            if key in given and key != size_key:
                c.add(f"{f}.{key}", f"{key} hoort niet bij projecttype {comp.type}", value=given[key],
                      expected=f"{size_key} voor {comp.type}")
        if size_key in given:
            pass  # its value was checked (or reported) while parsing
        elif basis == "woning":
            c.add(f"{f}.count", "ontbreekt", expected=f"het aantal woningen voor {comp.type}")
        elif size_key:
            c.add(f"{f}.{size_key}", "ontbreekt",
                  expected=f"een oppervlak voor {comp.type}, bijv. " + ('"2000 m2"' if basis == "m2" else '"3 ha"'))
        use_key = _USE_KEY.get(basis) if stage == "bouw" else None
        for key in ("home_type", "function", "use_traffic", "gas_use"):
            if key in given and (use_key is None or key in _USE_KEY.values() and key != use_key):
                why = (f"{comp.type} heeft geen gebruiksfase" if use_key is None
                       else f"gebruik {use_key} bij {comp.type}")
                c.add(f"{f}.{key}", f"{key} hoort niet bij projecttype {comp.type} ({why})",
                      value=given[key], expected=f"{use_key} voor {comp.type}" if use_key else "het veld weglaten")
        if use_key is not None:
            names = use_names(kg, basis)
            use_name = comp.home_type if basis == "woning" else comp.function
            if use_key not in given and not comp.use_traffic_per_day:
                c.add(f"{f}.{use_key}", "ontbreekt", expected=f"een van {', '.join(names)} "
                      "(voor het verkeer in de gebruiksfase), of een tabel use_traffic")
            elif use_name is not None and use_name not in names:
                what = "onbekend woningtype" if basis == "woning" else "onbekende functie"
                c.add(f"{f}.{use_key}", f"{what} {use_name!r} voor {comp.type}"
                      f"{hint(use_name, names)}", value=use_name, expected=f"een van {', '.join(names)}")
        if comp.urbanisation is not None and comp.urbanisation not in urbanisations:
            c.add(f"{f}.urbanisation", f"onbekende stedelijkheid {comp.urbanisation!r}"
                  f"{hint(comp.urbanisation, urbanisations)}",
                  value=comp.urbanisation, expected=f"een van {', '.join(urbanisations)}")
        for m in comp.machines or ():
            if m.category and m.category not in categories:
                c.add(f"{m.field}.category", f"onbekende werktuigcategorie {m.category!r}"
                      f"{hint(m.category, categories)}",
                      value=m.category, expected=f"een van {', '.join(categories)}")
    for i, r in enumerate(project.routes):
        if not r.road_type:
            c.add(f"routes[{i}].road_type", "ontbreekt", expected=f"een van {', '.join(road_types)}")
        elif r.road_type not in road_types:
            c.add(f"routes[{i}].road_type", f"onbekend wegtype {r.road_type!r}{hint(r.road_type, road_types)}",
                  value=r.road_type, expected=f"een van {', '.join(road_types)}")


def kengetallen_for(project: Project):
    """The key-figure edition a project asks for, with its override file applied."""
    kg = kengetallen.load(project.edition)
    return kg.with_overrides(project.overrides) if project.overrides else kg


#: File types that are not project files, and the command that reads them.
_OTHER_FILES = {".xlsx": "een werkmap (Excel)", ".xlsm": "een werkmap (Excel)", ".xls": "een werkmap (Excel)",
                ".csv": "een CSV-tabel", ".gml": "een IMAER-bestand", ".pdf": "een PDF"}


def read_project(path) -> Project:
    """Read and validate a project TOML file (UTF-8)."""
    path = Path(path)
    expected = "een projectbestand (.toml, UTF-8), zie docs/project_format.md"
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError("bestand niet gevonden", file=str(path), expected="een bestaand projectbestand (.toml)") from exc
    except IsADirectoryError as exc:
        raise InputError("is een map, geen bestand", file=str(path), expected=expected) from exc
    except OSError as exc:
        raise InputError(f"kan niet worden gelezen ({read_reason(exc)})", file=str(path),
                         expected=expected) from exc
    kind = _OTHER_FILES.get(path.suffix.lower())
    if kind is None and data[:4] == b"PK\x03\x04":
        kind = "een zip-bestand (een werkmap?)"
    if kind is not None:
        hint_ = ("; voor een werkmap of CSV met zaken: stikstofcalc batch" if "werkmap" in kind or "CSV" in kind
                 else "; voor AERIUS-bestanden: stikstofcalc check-imaer" if kind.startswith("een IMAER") or
                 kind == "een PDF" else "")
        raise InputError(f"dit is {kind}, geen projectbestand{hint_}", file=str(path), expected=expected)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"is geen UTF-8-tekst (byte {exc.start + 1}: 0x{data[exc.start]:02X}); "
                         "sla het bestand op als UTF-8", file=str(path), expected=expected) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"geen geldige TOML ({toml_reason(exc)})", file=str(path), expected=expected) from None
    return parse_project(doc, file=str(path))
