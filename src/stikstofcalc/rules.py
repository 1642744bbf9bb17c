"""The rules that turn deposition into a verdict, each with its legal source and date.

Pure functions over arrays (deposition in mol N/ha/yr, emission in kg/yr); no I/O, no
pandas. The rules (``docs/rules.md``, with their legal sources):

- threshold: the largest increase on a relevant hexagon below 0.005 mol/ha/yr shows as
  "0,00" in AERIUS and needs no permit for nitrogen (:data:`THRESHOLD_MOL_HA_YR`);
- rounding: AERIUS shows 2 decimals, half rounded up (:func:`aerius_round`);
- phases: realisation and use phase are assessed separately, each against 0,00;
- calendar year: deposition per calendar year from the emission of that year
  (:func:`calendar_year_shares`);
- 25 km per source (:data:`CUTOFF_M`);
- regimes by name (:data:`REGIMES`): ``post-porthos`` (default), ``bouwvrijstelling``,
  ``ondergrens-1mol`` (not in force);
- intern salderen: a reference situation does not reduce the verdict since 18 Dec 2024;
  the netted difference can be shown (:func:`assess`, ``show_netted``);
- relevance: with KDW and background given, only hexagons with background above
  KDW - 70 mol/ha/yr count (:func:`relevant_hexagons`).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np

from stikstofcalc.conventions import CALCULATION_DISTANCE_M
from stikstofcalc.errors import InputError


@dataclass(frozen=True)
class Rule:
    """One rule with its source. ``content`` in Dutch (shown in ``herkomst``); ``source`` is a
    citation; ``status``: verified / reported / estimate / not in force."""

    name: str
    content: str
    source: str
    date: str
    status: str


#: The rule register, printed with every verdict (``docs/rules.md`` gives the reasoning).
RULES: dict[str, Rule] = {r.name: r for r in (
    Rule("threshold", "Een grootste toename onder 0,005 mol/ha/jr op een relevante hexagon wordt "
         "getoond als 0,00 en vraagt geen vergunning voor stikstof.",
         "weergave van resultaten in AERIUS Calculator (2 decimalen); praktijk van de bevoegde gezagen; "
         "docs/rules.md", "sinds AERIUS 2019 (16 sep 2019)", "reported"),
    Rule("rounding", "Depositie wordt getoond met 2 decimalen; een half rondt naar boven af (0,005 -> 0,01).",
         "AERIUS: 'geen resultaten boven 0,00' betekent geen hexagon met een bijdrage >= 0,005 "
         "mol/ha/jr (Dirkzwager, Stikstof stappenplan, stap 1, over AERIUS 2019)",
         "vanaf AERIUS 2019", "reported"),
    Rule("phases", "Realisatiefase (tijdelijk) en gebruiksfase (blijvend) worden apart berekend en "
         "beoordeeld, elk tegen 0,00.",
         "ABRvS 2 nov 2022, ECLI:NL:RVS:2022:3159 (Porthos); docs/rules.md",
         "2 nov 2022", "reported"),
    Rule("calendar_year", "Depositie wordt per kalenderjaar berekend uit de emissie van dat jaar; "
         "een fase langer dan een jaar wordt per kalenderjaar gesplitst, een kortere "
         "geheel in één jaar ingevoerd.", "AERIUS-methode (invoer in kg/jr); docs/rules.md",
         "vanaf AERIUS 2019", "method verified, practice estimate"),
    Rule("cutoff_25km", "Depositie wordt berekend tot 25 km van elke bron.",
         "AERIUS-release van 20 jan 2022; bevestigd door ABRvS 5 apr 2023, ECLI:NL:RVS:2023:1299",
         "20 jan 2022", "reported"),
    Rule("bouwvrijstelling", "Bouw-, sloop- en aanlegwerkzaamheden waren vanaf 1 juli 2021 "
         "vrijgesteld (art. 2.9a Wet natuurbescherming); buiten toepassing gelaten door de "
         "Porthos-uitspraak.",
         "Wet stikstofreductie en natuurverbetering (art. 2.9a Wnb); ABRvS 2 Nov 2022, "
         "ECLI:NL:RVS:2022:3159", "1 jul 2021 - 2 nov 2022", "verified"),
    Rule("intern_salderen", "Een referentiesituatie (het huidige vergunde gebruik) mag niet meer "
         "tegen het plan worden weggestreept om de vergunningplicht te vermijden; binnen een "
         "vergunningbeoordeling telt salderen nog wel.", "uitspraken van de ABRvS van 18 dec 2024 (docs/rules.md)",
         "18 dec 2024", "reported"),
    Rule("ondergrens_1mol", "Voorgestelde rekenkundige ondergrens van 1 mol/ha/jr; de Raad van State "
         "noemde die juridisch kwetsbaar (mei 2025). Niet van kracht.",
         "voorstel van het kabinet; advies van de Raad van State mei 2025 (docs/rules.md)",
         "voorstel, status open", "not in force"),
    Rule("relevance", "Alleen hexagons met stikstofgevoelige habitat waarvan de achtergronddepositie "
         "boven KDW - 70 mol/ha/jr ligt ((bijna) overbelast) tellen mee voor het oordeel.",
         "AERIUS open data, veld 'exceeding' = totale depositie > KDW - 70 "
         "(docs/receptors.md)",
         "AERIUS 2025 open data", "reported"),
)}

#: Threshold [mol N/ha/yr]: a largest increase below this shows as 0,00 (rule "threshold").
THRESHOLD_MOL_HA_YR = 0.005
#: Decimals AERIUS shows for deposition (rule "rounding").
DISPLAY_DECIMALS = 2
#: KDW margin for "nearly overloaded" [mol N/ha/yr] (rule "relevance").
NEARLY_EXCEEDED_MARGIN_MOL_HA_YR = 70.0
#: Calculation distance per source [m] (rule "cutoff_25km"); the engine's cut-off.
CUTOFF_M = CALCULATION_DISTANCE_M
#: Phase names: realisation (construction) and use.
PHASES = ("realisatie", "gebruik")

_PORTHOS = _dt.date(2022, 11, 2)
_SALDEREN = _dt.date(2024, 12, 18)


@dataclass(frozen=True)
class Regime:
    """A set of rules under which a verdict is given.

    Attributes
    ----------
    name : str
    threshold_mol_ha_yr : float
        Permit needed when the largest relevant deposition is at or above this [mol N/ha/yr].
    construction_exempt : bool
        The realisation phase needs no permit (bouwvrijstelling).
    netting_avoids_permit : bool
        A reference situation (intern salderen) may be netted to avoid the permit obligation.
    in_force : bool
        False for proposals; outputs must say so.
    valid_from, valid_until : datetime.date or None
        Period in which the regime applied (None: open).
    rules : tuple of str
        Keys of :data:`RULES` that define the regime.
    """

    name: str
    description: str
    threshold_mol_ha_yr: float
    construction_exempt: bool
    netting_avoids_permit: bool
    in_force: bool
    valid_from: _dt.date | None
    valid_until: _dt.date | None
    rules: tuple[str, ...] = field(default=())

    @property
    def note(self) -> str:
        """A sentence for reports on the status of the regime."""
        if not self.in_force:
            return f"regime {self.name!r} is NIET van kracht: {self.description}"
        start, end = self.valid_from, self.valid_until
        span = (f"van {_nl_date(start)} tot {_nl_date(end)}" if start and end else
                f"sinds {_nl_date(start)}" if start else f"tot {_nl_date(end)}" if end else "zonder einddatum")
        return f"regime {self.name!r} ({span}): {self.description}"


_MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
              "oktober", "november", "december")


def _nl_date(d) -> str:
    """``2024-12-18`` -> ``18 december 2024``."""
    return f"{d.day} {_MONTHS_NL[d.month - 1]} {d.year}"


#: The selectable regimes; ``post-porthos`` is the default.
REGIMES: dict[str, Regime] = {r.name: r for r in (
    Regime("post-porthos", "huidige regels: beide fasen tellen, drempel 0,00; intern salderen "
           "voorkomt geen vergunningplicht (sinds 18 december 2024)", THRESHOLD_MOL_HA_YR, False, False, True, _PORTHOS,
           None, ("threshold", "rounding", "phases", "calendar_year", "cutoff_25km",
                  "intern_salderen", "relevance")),
    Regime("bouwvrijstelling", "realisatiefase vrijgesteld (art. 2.9a "
           "Wnb), intern salderen nog toegestaan; om oude besluiten te vergelijken",
           THRESHOLD_MOL_HA_YR, True, True, True, _dt.date(2021, 7, 1), _PORTHOS,
           ("threshold", "rounding", "cutoff_25km", "bouwvrijstelling", "relevance")),
    Regime("ondergrens-1mol", "voorgestelde rekenkundige ondergrens van 1 mol N/ha/jr (status open; "
           "door de Raad van State juridisch kwetsbaar genoemd, mei 2025)", 1.0, False, False,
           False, None, None, ("ondergrens_1mol", "rounding", "phases", "calendar_year",
                               "cutoff_25km", "intern_salderen", "relevance")),
)}
DEFAULT_REGIME = "post-porthos"


def get_regime(name: str | Regime | None = None) -> Regime:
    """The regime of that name (default ``post-porthos``); InputError names the choices."""
    if isinstance(name, Regime):
        return name
    key = DEFAULT_REGIME if name is None else str(name).strip().lower()
    if key not in REGIMES:
        raise InputError(f"onbekend regime {name!r}", field="regime", value=name, expected=" of ".join(REGIMES))
    return REGIMES[key]


# --------------------------------------------------------------------------- rounding


def aerius_round(deposition, decimals: int = DISPLAY_DECIMALS) -> np.ndarray:
    """Round deposition as AERIUS shows it: ``decimals`` places, halves away from zero.

    Parameters
    ----------
    deposition : array_like of float
        Deposition [mol N/ha/yr].
    decimals : int
        Number of decimals (AERIUS: 2).

    Returns
    -------
    ndarray of float
        Rounded deposition [mol N/ha/yr].

    Notes
    -----
    A value ``d >= 0`` rounds up to ``k / 10**decimals`` exactly when ``d`` is at or above
    the double nearest to the decimal midpoint ``(k - 0.5) / 10**decimals``. So
    ``aerius_round(d) > 0`` exactly when ``d >= THRESHOLD_MOL_HA_YR``, and rounding and
    verdict never disagree. ``numpy.round`` rounds halves to even *after* scaling
    (``np.round(0.005, 2) == 0.0``, ``np.round(0.025, 2) == 0.02``) and would print 0,00 for
    an increase of 0.005, contradicting the documented AERIUS behaviour. Negative values
    (netted differences) are rounded symmetrically (half away from zero, as Java's
    ``RoundingMode.HALF_UP``). AERIUS's own code was not read; the choice rests on the
    documented "no hexagon with a contribution >= 0.005" wording (see rule "rounding").
    """
    d = np.asarray(deposition, dtype=float)
    s = 10.0 ** decimals
    a = np.abs(d)
    k = np.floor(a * s + 0.5)
    k = np.where(a < (k - 0.5) / s, k - 1, k)   # scaled product rounded up across a midpoint
    k = np.where(a >= (k + 0.5) / s, k + 1, k)  # ... or down
    return np.copysign(k / s, d)


def format_deposition(deposition, decimals: int = DISPLAY_DECIMALS) -> np.ndarray:
    """Deposition as AERIUS prints it, Dutch decimal comma (``"0,00"``)."""
    r = np.atleast_1d(aerius_round(deposition, decimals))
    return np.array([f"{v:.{decimals}f}".replace(".", ",") for v in r.ravel()]).reshape(r.shape)


# --------------------------------------------------------------------------- verdict


#: Verdict of a phase without any hexagon within the calculation distance.
NO_AREA_VERDICT = "geen Natura 2000-gebied binnen 25 km: geen depositie, geen vergunning nodig"
#: Verdict of a phase whose hexagons (a receptor file's) are all not relevant (not (nearly)
#: overloaded): their deposition does not count.
NO_RELEVANT_VERDICT = ("geen vergunning nodig voor stikstof: geen van de rekenpunten is een relevante "
                       "((bijna) overbelaste) hexagon, dus geen depositie telt mee")


def permit_needed(max_deposition, *, threshold: float = THRESHOLD_MOL_HA_YR) -> np.ndarray:
    """Whether the largest relevant deposition needs a permit for nitrogen.

    Parameters
    ----------
    max_deposition : array_like of float
        Largest deposition increase on a relevant hexagon [mol N/ha/yr].
    threshold : float, keyword-only
        [mol N/ha/yr]; 0.005 (prints 0,01) under current rules.

    Returns
    -------
    ndarray of bool
        ``max_deposition >= threshold``.
    """
    return np.asarray(max_deposition, dtype=float) >= threshold


def margin_factor(max_deposition, *, threshold: float = THRESHOLD_MOL_HA_YR) -> np.ndarray:
    """Factor between threshold and largest deposition: ``threshold / max_deposition``.

    Above 1: the emission may grow by this factor and still give 0,00 (exclusive bound);
    below 1: it must shrink to this fraction. ``inf`` where the deposition is 0 or less.
    Since deposition is linear in emission (OPS), this is also the headroom factor.
    """
    d = np.asarray(max_deposition, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(d > 0, threshold / np.where(d > 0, d, 1.0), np.inf)


def headroom_emission(emission_kg_yr, max_deposition, *,
                      threshold: float = THRESHOLD_MOL_HA_YR) -> np.ndarray:
    """Largest emission that still gives 0,00, scaling all sources together [kg/yr].

    Parameters
    ----------
    emission_kg_yr : array_like of float
        Current emission (NOx, NH3, or both broadcast) [kg/yr].
    max_deposition : array_like of float
        Largest relevant deposition it causes [mol N/ha/yr].

    Returns
    -------
    ndarray of float
        ``emission * threshold / max_deposition`` [kg/yr]; ``inf`` for no deposition.

    Notes
    -----
    Deposition is linear in emission for fixed source characteristics, so scaling every
    emission by ``f`` scales every receptor's deposition by ``f``. The bound is a supremum:
    exactly this emission gives the threshold (0,01), anything below gives 0,00.
    """
    return np.asarray(emission_kg_yr, dtype=float) * margin_factor(max_deposition, threshold=threshold)


def group_headroom_factor(group_deposition, other_deposition=0.0, *,
                          threshold: float = THRESHOLD_MOL_HA_YR, relevant=None) -> np.ndarray:
    """Largest factor for one source group's emission with the others unchanged.

    Parameters
    ----------
    group_deposition : array_like, shape (..., n_receptors)
        Deposition of the group at its current emission [mol N/ha/yr].
    other_deposition : array_like, broadcastable
        Deposition of all other sources of the phase [mol N/ha/yr].
    threshold : float, keyword-only
    relevant : array_like of bool, optional
        Receptors that count (default all).

    Returns
    -------
    ndarray
        ``s`` such that ``max(other + s' * group) < threshold`` for every ``s' < s``:
        ``min over receptors with group > 0 of (threshold - other) / group``; 0 when the
        other sources alone reach the threshold; ``inf`` when the group adds nothing.
    """
    g = np.asarray(group_deposition, dtype=float)
    o = np.broadcast_to(np.asarray(other_deposition, dtype=float), g.shape)
    rel = np.ones(g.shape, dtype=bool) if relevant is None else np.broadcast_to(relevant, g.shape)
    room = threshold - o
    with np.errstate(over="ignore"):
        s = np.where(rel & (g > 0), np.maximum(room, 0.0) / np.where(g > 0, g, 1.0), np.inf)
    blocked = np.any(rel & (room <= 0), axis=-1)
    return np.where(blocked, 0.0, np.min(s, axis=-1, initial=np.inf))


def relevant_hexagons(kdw=None, background=None, exceeding=None, *,
                      margin: float = NEARLY_EXCEEDED_MARGIN_MOL_HA_YR) -> np.ndarray:
    """Which hexagons count for the verdict ((nearly) overloaded nitrogen-sensitive habitat).

    Parameters
    ----------
    kdw : array_like of float, optional
        Critical deposition value (KDW) of the hexagon [mol N/ha/yr] (lowest of its habitats).
    background : array_like of float, optional
        Background (total) deposition [mol N/ha/yr].
    exceeding : array_like of bool or float, optional
        A given "exceeding" flag; used where it is not NaN, else the KDW rule.
    margin : float, keyword-only
        "Nearly" overloaded margin [mol N/ha/yr] (70, rule "relevance").

    Returns
    -------
    ndarray of bool
        ``background > kdw - margin``; the flag where given; True where nothing is known.

    Raises
    ------
    InputError
        If ``kdw`` is given without ``background`` (or the reverse).
    """
    if (kdw is None) != (background is None):
        raise InputError("ontbreekt", field="kdw" if background is None else "background_deposition",
                         expected="KDW en achtergronddepositie samen")
    arrays = [np.asarray(a, dtype=float) for a in (kdw, background, exceeding) if a is not None]
    if not arrays:
        return np.ones((), dtype=bool)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    out = np.ones(shape, dtype=bool)
    if kdw is not None:
        k, b = np.asarray(kdw, dtype=float), np.asarray(background, dtype=float)
        known = ~(np.isnan(k) | np.isnan(b))
        out = np.where(known, b > k - margin, out)
    if exceeding is not None:
        e = np.asarray(exceeding, dtype=float)
        out = np.where(np.isnan(e), out, e != 0)
    return np.asarray(out, dtype=bool)


# --------------------------------------------------------------------------- years


def calendar_year_shares(start, end) -> tuple[np.ndarray, np.ndarray]:
    """Share of a phase's emission that falls in each calendar year.

    Parameters
    ----------
    start, end : datetime.date or ISO string
        First and last day of the phase (inclusive).

    Returns
    -------
    years : ndarray of int
    shares : ndarray of float
        Fraction of the phase's total emission in each year (sum 1). Multiply a phase's
        total emission [kg] by the share to get the emission of that year [kg/yr].

    Notes
    -----
    A phase of at most one year (it ends before the same date a year later: 12 calendar
    months, also over a 29 February) is entered whole in its start year (one AERIUS
    calculation with the whole emission as kg/yr; the start year is the conservative
    choice as emission factors fall over time). A longer phase is split pro rata by days
    per calendar year. Rule "calendar_year" (method verified, practice estimate).
    """
    s, e = _date(start, "start"), _date(end, "end")
    if e < s:
        raise InputError(f"{str(e)!r} ligt voor het begin", field="end", value=str(e),
                         expected=f"een datum op of na het begin {s}")
    days = (e - s).days + 1
    try:
        a_year_on = s.replace(year=s.year + 1)
    except ValueError:  # 29 February: a year on is 1 March
        a_year_on = _dt.date(s.year + 1, 3, 1)
    if e < a_year_on:  # "een kortere geheel in één jaar": 366 days over a 29 February too
        return np.array([s.year]), np.array([1.0])
    years = np.arange(s.year, e.year + 1)
    first = np.array([max(s, _dt.date(int(y), 1, 1)).toordinal() for y in years])
    last = np.array([min(e, _dt.date(int(y), 12, 31)).toordinal() for y in years])
    return years, (last - first + 1) / days


def _date(value, name) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise InputError(field=name, value=value, expected="een datum zoals 2026-03-01") from exc


# --------------------------------------------------------------------------- assessment


@dataclass(frozen=True)
class Verdict:
    """Verdict for one phase and year (or, with array fields, for many).

    All deposition fields in mol N/ha/yr. ``index`` is the position of the largest
    relevant deposition in the receptor axis (-1 when no receptor counts).
    """

    phase: str
    regime: str
    max_deposition: np.ndarray
    max_rounded: np.ndarray
    index: np.ndarray
    n_hexagons_above: np.ndarray
    permit_needed: np.ndarray
    exempt: bool
    margin_factor: np.ndarray
    threshold: float
    netted_max: np.ndarray | None
    notes: tuple[str, ...]


def largest_deposition(deposition, relevant=None) -> tuple[np.ndarray, np.ndarray]:
    """Largest deposition over relevant receptors (last axis) and its position.

    Returns ``(max, index)``; ``max`` is 0.0 and ``index`` -1 where no receptor counts.
    """
    d = np.asarray(deposition, dtype=float)
    if relevant is not None:
        d = np.where(np.broadcast_to(relevant, d.shape), d, -np.inf)
    if d.shape[-1] == 0:
        return np.zeros(d.shape[:-1]), np.full(d.shape[:-1], -1)
    idx = np.argmax(d, axis=-1)
    mx = np.take_along_axis(d, idx[..., None], axis=-1)[..., 0]
    none = ~np.isfinite(mx)
    return np.where(none, 0.0, mx), np.where(none, -1, idx)


def assess(deposition, *, phase: str, regime: str | Regime | None = None, relevant=None,
           reference_deposition=None, show_netted: bool = False,
           threshold: float | None = None) -> Verdict:
    """Verdict for one phase (per calendar year: call once per year or stack years).

    Parameters
    ----------
    deposition : array_like, shape (..., n_receptors)
        Deposition of the plan situation of this phase [mol N/ha/yr].
    phase : {"realisatie", "gebruik"}, keyword-only
    regime : str or Regime, keyword-only
        Default ``post-porthos``.
    relevant : array_like of bool, optional
        Receptors that count (:func:`relevant_hexagons`); default all.
    reference_deposition : array_like, optional
        Deposition of the reference situation (current use) [mol N/ha/yr].
    show_netted : bool, keyword-only
        Also compute the largest netted increase ``plan - reference`` (for a permit
        application). Under post-Porthos rules it never changes the verdict.
    threshold : float, optional
        Override the regime's threshold [mol N/ha/yr].

    Returns
    -------
    Verdict
    """
    reg = get_regime(regime)
    if phase not in PHASES:
        raise InputError(field="phase", value=phase, expected=" of ".join(PHASES))
    thr = reg.threshold_mol_ha_yr if threshold is None else float(threshold)
    d = np.asarray(deposition, dtype=float)
    rel = None if relevant is None else np.broadcast_to(np.asarray(relevant, dtype=bool), d.shape)
    notes = [reg.note]
    netted = None
    if reference_deposition is not None and (show_netted or reg.netting_avoids_permit):
        diff = d - np.asarray(reference_deposition, dtype=float)
        netted, _ = largest_deposition(diff, rel)
    basis = d
    if netted is not None and reg.netting_avoids_permit:
        basis = d - np.asarray(reference_deposition, dtype=float)
        notes.append("intern salderen toegepast: oordeel op plan min referentie (toegestaan "
                     "vóór 18 december 2024)")
    elif netted is not None:
        notes.append("gesaldeerd verschil ter informatie; sinds 18 december 2024 voorkomt intern "
                     "salderen de vergunningplicht niet")
    mx, idx = largest_deposition(basis, rel)
    above = (basis >= thr) if rel is None else ((basis >= thr) & rel)
    exempt = reg.construction_exempt and phase == "realisatie"
    if exempt:
        notes.append("realisatiefase vrijgesteld onder de bouwvrijstelling (art. 2.9a Wnb)")
    need = permit_needed(mx, threshold=thr) & (not exempt)
    return Verdict(phase=phase, regime=reg.name, max_deposition=mx, max_rounded=aerius_round(mx),
                   index=idx, n_hexagons_above=np.sum(above, axis=-1), permit_needed=need,
                   exempt=exempt, margin_factor=margin_factor(mx, threshold=thr), threshold=thr,
                   netted_max=netted, notes=tuple(notes))
