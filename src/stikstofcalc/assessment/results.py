"""Typed, frozen results of an assessment: one :class:`PhaseResult` per phase and year.

:func:`stikstofcalc.assessment.core.assess_project` returns these in
``Assessment.results``. Every field is an attribute with a type (``r.max_deposition``);
``to_dict()`` gives the JSON of schema ``stikstofcalc.calc/1`` exactly as before (same
keys, same order; the golden outputs in ``tests/golden`` are compared against it). For
callers of 0.1 the records also read like the dicts they replace (``r["max_deposition"]``,
``r.get("headroom")``, ``r.items()``), read-only. Field meanings: ``docs/assessment.md``;
names: ``docs/nomenclature.md``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

__all__ = ["DominantSource", "Headroom", "Sensitivity", "PhaseResult"]


def _plain(value):
    """A field value as JSON-ready Python: records to dicts, tuples to lists."""
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


class _Record(Mapping):
    """Read-only mapping access to a frozen record's present fields, in field order."""

    def _present(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self))

    def __getitem__(self, key):
        if key not in self._present():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(self._present())

    def __len__(self) -> int:
        return len(self._present())

    def to_dict(self) -> dict:
        """JSON-ready dict (nested records as dicts, tuples as lists)."""
        return {name: _plain(getattr(self, name)) for name in self._present()}


@dataclass(frozen=True)
class DominantSource(_Record):
    """A source group's share of the largest deposition."""

    source: str
    deposition: float  # mol N/ha/yr at the hexagon with the largest deposition
    share: float  # of the largest deposition [-]



@dataclass(frozen=True)
class Headroom(_Record):
    """How much more the project, or its dominant source group, may emit and keep 0,00.

    The activity fields (``source`` ... ``source_nh3_kg_per_yr``) are there only when
    the phase deposits anything (``unit`` is then a text, maybe empty); ``factor`` and
    the scaled emissions always.
    """

    factor: float  # margin factor on all emissions of the phase [-] (inf: no deposition)
    nox_kg_per_yr: float | None  # NOx the phase may emit with every source scaled [kg/yr]
    nh3_kg_per_yr: float | None
    source: str | None = None  # dominant source group (None for a source list)
    unit: str | None = None  # its activity unit (machine-uren, voertuigbewegingen, m3 aardgas)
    current: float | None = None  # its activity now, in ``unit``
    allowed_all_scaled: float | None = None  # its activity with every source scaled
    source_factor: float | None = None  # factor on this group alone, the others fixed
    allowed_source_only: float | None = None
    source_nox_kg_per_yr: float | None = None
    source_nh3_kg_per_yr: float | None = None


    _ACTIVITY = ("source", "unit", "current", "allowed_all_scaled", "source_factor",
                 "allowed_source_only", "source_nox_kg_per_yr", "source_nh3_kg_per_yr")

    def _present(self) -> tuple[str, ...]:
        tail = ("factor", "nox_kg_per_yr", "nh3_kg_per_yr")
        return (self._ACTIVITY + tail) if self.unit is not None else tail


@dataclass(frozen=True)
class Sensitivity(_Record):
    """The largest deposition with the other heat content of mobile machinery (issue 12)."""

    machinery_heat: str  # heat content used (conservatief / instructie)
    alternative: str  # the other one
    applies: bool  # False: no machinery in this phase and year, the same numbers
    max_deposition: float  # mol N/ha/yr
    max_rounded: float
    max_display: str
    permit_needed: bool
    verdict_differs: bool



@dataclass(frozen=True)
class Unassessed(_Record):
    """The areas the shipped data lacks, near the sources (:mod:`stikstofcalc.geo.unassessed`):
    the largest deposition on their coarse envelope (an estimate; qualifies the verdict only)."""

    areas: str  # "Waddenzee (1) en Noordzeekustzone (7)"
    max_deposition: float  # mol N/ha/yr, on the envelope's points within 25 km
    x: float  # the point of that largest value, RD New [m]
    y: float
    distance_m: float  # nearest source to the envelope [m] (0: a source inside it)


@dataclass(frozen=True)
class PhaseResult(_Record):
    """The verdict of one phase in one calendar year, with margin and headroom."""

    phase: str  # realisatie / gebruik
    phase_label: str
    year: int
    nox_kg_per_yr: float
    nh3_kg_per_yr: float
    max_deposition: float  # largest deposition over the relevant hexagons [mol N/ha/yr]
    max_rounded: float  # rounded as AERIUS rounds it
    max_display: str  # as AERIUS shows it ("0,00", "0,01", ...)
    receptor_id: int | None  # hexagon of the largest deposition
    x: float | None  # its centre, RD New [m]
    y: float | None
    area_name: str | None
    n2k_number: int | None
    n_hexagons_above: int  # relevant hexagons at or above the threshold
    hectares_above: float  # ha (one hexagon is 1 ha)
    permit_needed: bool
    exempt: bool
    verdict: str  # Dutch text, with the grensgeval and sensitivity remarks
    threshold: float  # mol N/ha/yr
    margin_factor: float  # factor on all emissions that keeps 0,00 [-]
    effect_distance_m: float  # m
    netted_max: float | None  # largest netted deposition (shown only) [mol N/ha/yr]
    dominant_sources: tuple[DominantSource, ...]
    headroom: Headroom
    notes: tuple[str, ...]
    uses_estimate: bool  # the emissions rest on key figures of status estimate
    borderline: bool  # within the measured model uncertainty of the threshold
    borderline_band: tuple[float, float]  # mol N/ha/yr
    sensitivity: Sensitivity | None = None  # with the other machinery heat content
    unassessed: Unassessed | None = None  # areas the data lacks, within 25 km of a source

    def _present(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self)
                     if f.name not in ("sensitivity", "unassessed") or getattr(self, f.name) is not None)

    @classmethod
    def from_dict(cls, d: Mapping) -> PhaseResult:
        """From the dict the assessment builds (the keys of :meth:`to_dict`)."""
        sens = d.get("sensitivity")
        return cls(
            **{k: d[k] for k in _SCALARS},
            year=int(d["year"]),
            dominant_sources=tuple(DominantSource(**s) for s in d["dominant_sources"]),
            headroom=Headroom(**d["headroom"]),
            notes=tuple(d["notes"]),
            borderline_band=tuple(d["borderline_band"]),
            sensitivity=None if sens is None else Sensitivity(**sens),
            unassessed=None if d.get("unassessed") is None else Unassessed(**d["unassessed"]),
        )


_SCALARS = tuple(f.name for f in fields(PhaseResult)
                 if f.name not in ("year", "dominant_sources", "headroom", "notes", "borderline_band",
                                   "sensitivity", "unassessed"))
