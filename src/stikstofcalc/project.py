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

from .errors import InputError, MultipleInputErrors, StikstofError
from .units import to_magnitude

FLEETS_DEFAULT = "huidig"
YEAR_SPLITS = ("aerius", "kalenderjaar", "een_jaar")
VEHICLE_CLASSES = ("licht", "middelzwaar", "zwaar", "bus")
#: RD New (EPSG:28992) validity domain of the Rijksdriehoeksstelsel [m].
RD_X_RANGE = (-7000.0, 300000.0)
RD_Y_RANGE = (289000.0, 629000.0)
#: Latitude/longitude box around the Netherlands [degrees], for plausibility only.
LAT_RANGE = (50.5, 54.0)
LON_RANGE = (3.0, 7.5)
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


def _quantity(c, table, key, unit, field_, *, required=False, minimum=0.0, strict_min=False):
    """Read ``table[key]`` as a float in ``unit``; None if absent and not required."""
    if key not in table:
        if required:
            c.add(field_, "missing", expected=f"a quantity in {unit}")
        return None
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        c.add(field_, f"{value!r} is not a quantity", value=value, expected=f"a number or text such as '12 {unit}'")
        return None
    try:
        number = to_magnitude(value, unit, field=field_)
    except StikstofError as exc:
        c.add(field_, None, exc=exc)
        return None
    if not math.isfinite(number) or number < minimum or (strict_min and number <= minimum):
        c.add(field_, f"{value!r} is out of range", value=value,
              expected=f"a finite value {'>' if strict_min else '>='} {minimum:g} {unit}")
        return None
    return number


def _choice(c, table, key, allowed, field_, *, default=None, required=False):
    value = table.get(key, default)
    if value is None:
        if required:
            c.add(field_, "missing", expected=f"one of {', '.join(allowed)}")
        return None
    if value not in allowed:
        c.add(field_, f"unknown {key.replace('_', ' ')} {value!r}", value=value,
              expected=f"one of {', '.join(allowed)}")
        return None
    return value


def _fraction(c, table, key, field_, default=0.0):
    if key not in table:
        return default
    value = _quantity(c, table, key, "dimensionless", field_)
    if value is not None and value > 1.0:
        c.add(field_, f"{table[key]!r} is more than 100 %", value=table[key], expected="a share 0..1 or '0 %'..'100 %'")
        return None
    return value


def _date(c, value, field_, *, end=False):
    """'2027-03' (month; as end: exclusive end of that month), '2027-03-15' or a TOML date."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1) if end else value
    text = str(value).strip()
    try:
        if len(text) == 7:
            day = dt.date(int(text[:4]), int(text[5:7]), 1)
            if text[4] != "-":
                raise ValueError
            return _add_months(day, 1) if end else day
        day = dt.date.fromisoformat(text)
        return day + dt.timedelta(days=1) if end else day
    except (ValueError, TypeError):
        c.add(field_, f"{value!r} is not a date", value=value, expected='"2027-03" or "2027-03-15"')
        return None


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + (day.month - 1) + months
    return dt.date(total // 12, total % 12 + 1, 1) if day.day == 1 else dt.date(
        total // 12, total % 12 + 1, min(day.day, 28))


def add_duration(start: dt.date, months: float) -> dt.date:
    """Exclusive end date: whole calendar months, then the fraction as days."""
    whole = math.floor(months)
    return _add_months(start, whole) + dt.timedelta(days=round((months - whole) * DAYS_PER_MONTH))


def _points(c, value, field_, minimum):
    ok = isinstance(value, list) and len(value) >= minimum and all(
        isinstance(p, list) and len(p) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in p)
        for p in value)
    if not ok:
        c.add(field_, "not a list of [x, y] points", value=str(value)[:60],
              expected=f"at least {minimum} points [[x, y], ...] in RD metres")
        return None
    return tuple((float(p[0]), float(p[1])) for p in value)


def _polyline_length(points) -> float:
    return float(sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:])))


# ----------------------------------------------------------------------------- sections


def _location(c, data):
    loc = data.get("location")
    if not isinstance(loc, dict):
        c.add("location", "missing", expected="a [location] table with x, y (RD New) or lat, lon")
        return Location()
    x = _quantity(c, loc, "x", "m", "location.x", minimum=-math.inf)
    y = _quantity(c, loc, "y", "m", "location.y", minimum=-math.inf)
    lat = _quantity(c, loc, "lat", "dimensionless", "location.lat", minimum=-math.inf)
    lon = _quantity(c, loc, "lon", "dimensionless", "location.lon", minimum=-math.inf)
    if (x is None) != (y is None) or (lat is None) != (lon is None) or (x is None and lat is None):
        c.add("location", "incomplete", expected="both x and y (RD New, m) or both lat and lon (WGS84)")
    for name, v, rng in (("x", x, RD_X_RANGE), ("y", y, RD_Y_RANGE), ("lat", lat, LAT_RANGE),
                         ("lon", lon, LON_RANGE)):
        if v is not None and not rng[0] <= v <= rng[1]:
            c.add(f"location.{name}", f"{v:g} lies outside the Netherlands", value=v,
                  expected=f"{rng[0]:g} .. {rng[1]:g}" + (" (RD New metres)" if name in "xy" else " (degrees)"))
    outline = _points(c, loc["outline"], "location.outline", 3) if "outline" in loc else None
    return Location(x, y, lat, lon, outline)


def _construction(c, data):
    sec = data.get("construction", {})
    if not isinstance(sec, dict) or "start" not in sec:
        c.add("construction.start", "missing", expected='a start such as "2027-03"')
        return None
    start = _date(c, sec["start"], "construction.start")
    end = None
    if "end" in sec and "duration" in sec:
        c.add("construction", "both end and duration given", expected="either end or duration")
    elif "end" in sec:
        end = _date(c, sec["end"], "construction.end", end=True)
        if start and end and end <= start:
            c.add("construction.end", f"{sec['end']!r} is not after the start {sec['start']!r}",
                  value=sec["end"], expected="an end after the start")
            end = None
    elif "duration" in sec:
        months = _quantity(c, sec, "duration", "month", "construction.duration", strict_min=True)
        if start and months:
            end = add_duration(start, months)
    fleet = sec.get("fleet", FLEETS_DEFAULT)
    split = _choice(c, sec, "year_split", YEAR_SPLITS, "construction.year_split", default="aerius")
    share = _fraction(c, sec, "electric_share", "construction.electric_share")
    if start is None:
        return None
    return Construction(start, end, fleet, share or 0.0, split or "aerius")


def _machines(c, comp, base):
    out = []
    for j, m in enumerate(comp.get("machines", [])):
        f = f"{base}.machines[{j}]"
        if not isinstance(m, dict):
            c.add(f, "not a table", expected="[[components.machines]] with category, fuel, hours")
            continue
        if "category" not in m:
            c.add(f"{f}.category", "missing", expected="an AERIUS machine category")
        fuel = _quantity(c, m, "fuel", "L", f"{f}.fuel")
        hours = _quantity(c, m, "hours", "h", f"{f}.hours")
        adblue = _quantity(c, m, "adblue", "L", f"{f}.adblue")
        power = _quantity(c, m, "power", "kW", f"{f}.power", strict_min=True)
        if fuel is None and hours is None and not any(k in m for k in ("fuel", "hours")):
            c.add(f, "no activity", expected="fuel (L) and/or hours (h)")
        out.append(Machine(str(m.get("name", m.get("category", f"machine {j}"))),
                           str(m.get("category", "")), fuel, hours, adblue, power, f))
    return tuple(out)


def _per_class(c, table, key, unit, field_):
    sec = table.get(key, {})
    if not isinstance(sec, dict):
        c.add(field_, "not a table", expected="a table such as {zwaar = 400, licht = 2000}")
        return {}
    out = {}
    for vc, value in sec.items():
        if vc not in VEHICLE_CLASSES:
            c.add(f"{field_}.{vc}", f"unknown vehicle class {vc!r}", value=vc,
                  expected=f"one of {', '.join(VEHICLE_CLASSES)}")
            continue
        v = _quantity(c, sec, vc, unit, f"{field_}.{vc}")
        if v is not None:
            out[vc] = v
    return out


def _component(c, i, comp):
    f = f"components[{i}]"
    if not isinstance(comp, dict):
        c.add(f, "not a table", expected="[[components]] with type and count or floor_area")
        return None
    ctype = comp.get("type")
    if not ctype:
        c.add(f"{f}.type", "missing", expected="a project type")
    count = area = None
    if "count" in comp:
        value = comp["count"]
        if isinstance(value, bool) or not isinstance(value, int):
            c.add(f"{f}.count", f"{value!r} is not a whole number", value=value,
                  expected="a whole number of homes >= 1")
        elif value < 1:
            c.add(f"{f}.count", f"{value!r} is not a positive count", value=value,
                  expected="a whole number of homes >= 1")
        else:
            count = value
    if "floor_area" in comp or "area" in comp:
        key = "floor_area" if "floor_area" in comp else "area"
        area = _quantity(c, comp, key, "m**2", f"{f}.{key}", strict_min=True)
    gas = _quantity(c, comp, "gas_use", "m**3/year", f"{f}.gas_use")
    return Component(
        index=i, type=str(ctype or ""), count=count, area_m2=area,
        home_type=comp.get("home_type"), function=comp.get("function"),
        urbanisation=comp.get("urbanisation"), gas_m3_per_year=gas,
        machines=_machines(c, comp, f) if "machines" in comp else None,
        construction_traffic=_per_class(c, comp, "construction_traffic", "dimensionless",
                                        f"{f}.construction_traffic"),
        use_traffic_per_day=_per_class(c, comp, "use_traffic", "1/day", f"{f}.use_traffic"),
        label=str(comp.get("name", ctype or f)))


def _routes(c, data, location):
    routes = data.get("routes", [])
    out = []
    for i, r in enumerate(routes):
        f = f"routes[{i}]"
        if not isinstance(r, dict):
            c.add(f, "not a table", expected="[[routes]] with road_type and length or geometry")
            continue
        geometry = _points(c, r["geometry"], f"{f}.geometry", 2) if "geometry" in r else None
        length = _quantity(c, r, "length", "m", f"{f}.length", strict_min=True)
        bearing = _quantity(c, r, "bearing", "dimensionless", f"{f}.bearing", minimum=-360.0)
        if geometry is not None and length is not None:
            c.add(f, "both geometry and length given", expected="either geometry or length (+ bearing)")
        elif geometry is not None:
            length = _polyline_length(geometry)
        elif length is not None and bearing is not None and location.x is not None \
                and location.y is not None:  # half a location is reported by _location
            rad = math.radians(bearing)
            geometry = ((location.x, location.y),
                        (location.x + length * math.sin(rad), location.y + length * math.cos(rad)))
        elif length is None and "length" not in r:
            c.add(f"{f}.length", "missing", expected='a length such as "1,2 km" or a geometry')
        share = _fraction(c, r, "share", f"{f}.share", default=None)
        if share is None and len(routes) == 1 and "share" not in r:
            share = 1.0
        elif share is None and "share" not in r:
            c.add(f"{f}.share", "missing", expected="the share of the project traffic on this route (0..1)")
        stag = _fraction(c, r, "stagnation", f"{f}.stagnation")
        out.append(Route(str(r.get("name", f"route {i + 1}")), str(r.get("road_type", "")),
                         length or 0.0, share or 0.0, stag or 0.0, geometry, bearing))
    if out and not c.errors and abs(sum(r.share for r in out) - 1.0) > 1e-6:
        c.add("routes", f"shares sum to {sum(r.share for r in out):.4g}",
              expected="route shares summing to 1")
    return tuple(out)


def _reference(c, data):
    ref = data.get("reference")
    if ref is None:
        return None
    sources = []
    for i, s in enumerate(ref.get("sources", [])):
        f = f"reference.sources[{i}]"
        nox = _quantity(c, s, "nox", "kg/year", f"{f}.nox") or 0.0
        nh3 = _quantity(c, s, "nh3", "kg/year", f"{f}.nh3") or 0.0
        sid = s.get("sector_id")
        if sid is not None and (isinstance(sid, bool) or not isinstance(sid, int)):
            c.add(f"{f}.sector_id", f"{sid!r} is not an AERIUS sector id", value=sid, expected="an integer such as 4110")
            sid = None
        sources.append(ReferenceSource(
            str(s.get("name", f"reference {i + 1}")), nox, nh3,
            _quantity(c, s, "x", "m", f"{f}.x", minimum=-math.inf),
            _quantity(c, s, "y", "m", f"{f}.y", minimum=-math.inf), sid,
            _quantity(c, s, "height", "m", f"{f}.height"),
            _quantity(c, s, "heat", "MW", f"{f}.heat"),
            _quantity(c, s, "spread", "m", f"{f}.spread")))
    return Reference(str(ref.get("description", "")), tuple(sources))


_TOP_LEVEL = {"name", "kengetallen", "overrides", "location", "construction", "use", "components",
              "routes", "reference", "description", "municipality"}


def parse_project(data: dict, *, file=None, kengetallen=None) -> Project:
    """Validate a parsed TOML document; raise every problem at once.

    Names (project types, categories, road types, ...) are checked against
    ``kengetallen`` (default: the edition the file names, with its overrides).
    """
    name = str(data.get("name", "")).strip() or (Path(file).stem if file else "project")
    c = _Collector(name, file)
    for key in data:
        if key not in _TOP_LEVEL:
            c.add(key, f"unknown field {key!r}", value=key, expected=f"one of {', '.join(sorted(_TOP_LEVEL))}")
    location = _location(c, data)
    construction = _construction(c, data)
    use = data.get("use", {})
    year = use.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100):
        c.add("use.year", f"{year!r} is not a calendar year", value=year, expected="a year such as 2029")
        year = None
    use_phase = UsePhase(year, str(use.get("urbanisation", "matig_stedelijk")))
    comps = data.get("components", [])
    if not comps:
        c.add("components", "missing", expected="at least one [[components]] table")
    components = tuple(x for x in (_component(c, i, comp) for i, comp in enumerate(comps)) if x)
    routes = _routes(c, data, location)
    reference = _reference(c, data)
    overrides = data.get("overrides")
    if overrides is not None and file is not None:
        overrides = str((Path(file).parent / overrides).resolve())
    project = Project(name, location, components, routes, construction, use_phase, reference,
                      data.get("kengetallen"), overrides, None if file is None else str(file), data)
    try:  # names are checked even when other fields have problems: report everything at once
        kg = kengetallen if kengetallen is not None else kengetallen_for(project)
    except StikstofError as exc:
        c.add("kengetallen" if not isinstance(exc, MultipleInputErrors) else "overrides", None, exc=exc)
    else:
        _check_names(c, project, kg)
    if c.errors:
        raise MultipleInputErrors(c.errors, file=file)
    return project


def _check_names(c, project, kg):
    """Check every name in the project against the key-figure edition."""
    types = kg.values("project_types", "project_type")
    categories = kg.values("machinery_factors", "category")
    road_types = kg.values("road_factors_nox", "road_type")
    functions = kg.values("traffic_generation", "function")
    urbanisations = [u for u in kg.values("traffic_generation", "urbanisation") if u != "alle"]
    fleets = kg.values("fleet_mix", "fleet")
    if project.construction and project.construction.fleet not in fleets:
        c.add("construction.fleet", f"unknown fleet {project.construction.fleet!r}",
              value=project.construction.fleet, expected=f"one of {', '.join(fleets)}")
    if project.use.urbanisation not in urbanisations:
        c.add("use.urbanisation", f"unknown urbanisation {project.use.urbanisation!r}",
              value=project.use.urbanisation, expected=f"one of {', '.join(urbanisations)}")
    for comp in project.components:
        f = comp.field
        if comp.type not in types:
            c.add(f"{f}.type", f"unknown project type {comp.type!r}", value=comp.type,
                  expected=f"one of {', '.join(types)}")
            continue
        info = kg.labels("project_types", comp.type)
        basis, stage = info["basis"], info["stage"]
        if basis == "woning" and comp.count is None:
            c.add(f"{f}.count", "missing", expected=f"the number of homes for {comp.type}")
        if basis in ("m2", "ha") and comp.area_m2 is None:
            c.add(f"{f}.floor_area" if basis == "m2" else f"{f}.area", "missing",
                  expected=f"an area for {comp.type}, e.g. " + ('"2000 m2"' if basis == "m2" else '"3 ha"'))
        use_name = comp.home_type if basis == "woning" else comp.function
        if stage == "bouw" and use_name is None and not comp.use_traffic_per_day:
            key = "home_type" if basis == "woning" else "function"
            c.add(f"{f}.{key}", "missing", expected=f"one of {', '.join(functions)} "
                  "(for the use-phase traffic), or an explicit use_traffic table")
        if use_name is not None and use_name not in functions:
            key = "home_type" if basis == "woning" else "function"
            c.add(f"{f}.{key}", f"unknown {key.replace('_', ' ')} {use_name!r}", value=use_name,
                  expected=f"one of {', '.join(functions)}")
        if comp.urbanisation is not None and comp.urbanisation not in urbanisations:
            c.add(f"{f}.urbanisation", f"unknown urbanisation {comp.urbanisation!r}",
                  value=comp.urbanisation, expected=f"one of {', '.join(urbanisations)}")
        for m in comp.machines or ():
            if m.category and m.category not in categories:
                c.add(f"{m.field}.category", f"unknown machine category {m.category!r}",
                      value=m.category, expected=f"one of {', '.join(categories)}")
    for i, r in enumerate(project.routes):
        if r.road_type not in road_types:
            c.add(f"routes[{i}].road_type", f"unknown road type {r.road_type!r}", value=r.road_type,
                  expected=f"one of {', '.join(road_types)}")


def kengetallen_for(project: Project):
    """The key-figure edition a project asks for, with its override file applied."""
    from . import kengetallen

    kg = kengetallen.load(project.edition)
    return kg.with_overrides(project.overrides) if project.overrides else kg


def read_project(path) -> Project:
    """Read and validate a project TOML file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("file not found", file=str(path), expected="an existing project .toml file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", file=str(path),
                         expected="a TOML project file, see docs/project_format.md") from exc
    return parse_project(data, file=str(path))
