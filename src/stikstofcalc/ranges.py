"""One range for every number a user gives: project fields, workbook cells and command options.

A value outside its range is refused with a :class:`~stikstofcalc.errors.RangeError`
naming the field, the value and the range; nothing is clipped or ignored. The ranges
are plausibility limits of stikstofcalc (not key figures): they keep typing errors
(``1e308``, ``700000 maanden``, a negative length, ``nan``) from reaching the model,
where they would change a verdict or end in an overflow. Each limit names its unit
and why it was chosen; ``docs/project_format.md`` lists them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stikstofcalc.errors import RangeError, nl_int

#: Allowed calendar years of every date and year the user gives [year].
YEAR_RANGE = (2000, 2100)


@dataclass(frozen=True)
class Range:
    """Allowed values ``lo .. hi`` in ``unit`` (``lo`` itself excluded when ``lo_open``)."""

    lo: float
    hi: float
    unit: str
    why: str
    lo_open: bool = False

    def contains(self, value) -> bool:
        if isinstance(value, bool):
            return False
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            return False
        if not math.isfinite(v):
            return False
        return (v > self.lo if self.lo_open else v >= self.lo) and v <= self.hi

    def describe(self) -> str:
        if self.unit == "year":  # a calendar year has no thousands dot ("2.000" read as 2)
            return f"een kalenderjaar van {self.lo:g} tot en met {self.hi:g}"
        lo = "meer dan" if self.lo_open else "van"
        unit = _DUTCH_UNITS.get(self.unit, self.unit)
        return f"een eindig getal {lo} {_fmt(self.lo)} tot en met {_fmt(self.hi)}{' ' + unit if unit else ''}"


_DUTCH_UNITS = {"month": "maanden", "m**2": "m²", "m**3/year": "m³/jaar", "L": "liter", "h": "uur",
                "kW": "kW", "m": "m", "1/day": "per dag", "kg/year": "kg/jaar", "MW": "MW",
                "dimensionless": "", "year": "", "degree": "graden", "homes": "woningen",
                "movements": "bewegingen", "km/h": "km/uur", "mol/ha/yr": "mol N/ha/jr"}


def _fmt(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return nl_int(v)
    return f"{v:g}".replace(".", ",")


#: Every range, by the name of the quantity. Fields name their range in
#: :data:`FIELD_RANGES` (project format) and in the command-line options.
RANGES = {
    "year": Range(*YEAR_RANGE, "year", "rekenjaren van AERIUS liggen tussen 2000 en 2100"),
    "count": Range(1, 100_000, "homes", "het grootste Nederlandse bouwplan telt enkele tienduizenden woningen"),
    "floor_area": Range(0, 10_000_000, "m**2", "10 km² bvo: ruim boven elk gebouw", lo_open=True),
    "site_area": Range(0, 100_000_000, "m**2", "100 km² (10.000 ha): ruim boven elk bouwterrein",
                       lo_open=True),
    "duration": Range(0, 240, "month", "een realisatiefase van meer dan 20 jaar is geen bouwproject",
                      lo_open=True),
    "gas_use": Range(0, 100_000_000, "m**3/year", "100 miljoen m³/jaar: het verbruik van een grote stad"),
    "fuel": Range(0, 100_000_000, "L", "100 miljoen liter: ruim boven het verbruik van elke bouw"),
    "hours": Range(0, 10_000_000, "h", "10 miljoen draaiuren: ruim boven elke bouw"),
    "adblue": Range(0, 10_000_000, "L", "10 miljoen liter AdBlue: ruim boven elke bouw"),
    "power": Range(0, 10_000, "kW", "10 MW: ruim boven het grootste mobiele werktuig", lo_open=True),
    "movements": Range(0, 100_000_000, "movements", "100 miljoen bewegingen in de hele bouw"),
    "movements_per_day": Range(0, 1_000_000, "1/day", "een miljoen bewegingen per dag: meer dan de drukste "
                               "snelweg"),
    "route_length": Range(10, 100_000, "m", "korter dan 10 m is een tikfout (een getal zonder eenheid is "
                          "in meter; bedoeld: km?), na 100 km is verkeer lang opgegaan in het heersende "
                          "verkeersbeeld"),
    "bearing": Range(-360, 360, "degree", "een kompasrichting in graden"),
    "share": Range(0, 1, "dimensionless", "een aandeel ligt tussen 0 en 1 (0 % en 100 %)"),
    "emission": Range(0, 100_000_000, "kg/year", "100 miljoen kg/jaar: meer dan de grootste Nederlandse bron"),
    "height": Range(0, 1000, "m", "1 km: boven elke schoorsteen"),
    "heat": Range(0, 10_000, "MW", "10 GW warmte: boven elke bron"),
    "spread": Range(0, 1000, "m", "1 km spreiding van de uitworphoogte"),
    "area_side": Range(0, 10_000, "m", "een vlakbron van 10 km bij 10 km (100 km²): ruim boven elk "
                       "bouwterrein"),
    "z0": Range(0, 10, "m", "de ruwste terreinen (steden, bos) hebben een ruwheid van 1 tot 3 m",
                lo_open=True),
    "x": Range(-7000, 300000, "m", "geldigheidsgebied van RD New (EPSG:28992)"),
    "y": Range(289000, 629000, "m", "geldigheidsgebied van RD New (EPSG:28992)"),
    "lat": Range(50.5, 54.0, "degree", "Nederland ligt tussen 50,5 en 54 graden noorderbreedte"),
    "lon": Range(3.0, 7.5, "degree", "Nederland ligt tussen 3 en 7,5 graden oosterlengte"),
    # IMAER files (check-imaer): per time unit / factors / results
    "vehicles": Range(0, 1e9, "dimensionless", "een miljard voertuigen per tijdseenheid"),
    "speed": Range(0, 300, "km/h", "een maximumsnelheid in km/uur"),
    "factor": Range(0, 1e9, "dimensionless", "een emissiefactor"),
    "deposition": Range(-1e7, 1e7, "mol/ha/yr", "10 miljoen mol N/ha/jr"),
    # receptor files: a habitat's critical deposition value and the background there
    "kdw": Range(0, 10_000, "mol/ha/yr", "de KDW's van de habitattypen liggen onder 2.500 mol N/ha/jr "
                 "(van Dobben e.a. 2012; niet stikstofgevoelig: > 2.400); 10.000 of meer is een tikfout",
                 lo_open=True),
    "background_deposition": Range(0, 100_000, "mol/ha/yr", "de achtergronddepositie in Nederland ligt "
                                   "onder 10.000 mol N/ha/jr; 100.000 of meer is een tikfout"),
    # command-line options
    "tolerance": Range(0, 10, "dimensionless", "een relatief verschil: 0,01 = 1 %; boven 1000 % zegt het niets"),
    "min_route": Range(0, 100_000, "m", "100 km: langer is geen toegangsroute"),
}

#: Most points of a site outline or a route geometry: the self-intersection check of a
#: ring grows with the square of its vertices (CHANGELOG.md, issue 13).
MAX_POINTS = 2000


def check(name: str, value, *, field: str | None = None, shown=None) -> float:
    """``value`` as a float if it lies in range ``name``; else raise RangeError."""
    rng = RANGES[name]
    if not rng.contains(value):
        raise RangeError(f"{value if shown is None else shown!r} ligt buiten het toegestane bereik",
                         field=field or name, value=value if shown is None else shown,
                         expected=f"{rng.describe()} ({rng.why})")
    return float(value)


def click_range(name: str):
    """A click callback checking an option against range ``name`` (exit code 2 when outside)."""
    def callback(ctx, param, value):
        import click

        if value is None:
            return None
        try:
            check(name, value, field=param.opts[-1])
        except RangeError as exc:
            raise click.BadParameter(f"{value!r} ligt buiten het toegestane bereik; verwacht "
                                     f"{exc.expected}") from None
        return value
    return callback
