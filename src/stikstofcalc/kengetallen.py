"""Find, load, validate and cache the key-figure tables (``kengetallen``).

The tables live in the repository folder ``kengetallen/<edition>/`` and are
shipped inside the wheel as ``stikstofcalc/kengetallen/<edition>/`` (hatch
force-include). Each table is in long format, one number per row::

    keys..., [labels...], quantity, value, unit, source_id, source_locator, status, note

``unit`` is any pint expression (``g/L``, ``1/day/(100 m**2)``); on loading every
value is converted once to the canonical unit of its quantity (:data:`SCHEMA`), so
the numerical core sees plain floats. ``source_id`` points into ``sources.csv``
(full citation, edition, address, date). ``status`` is ``verified``, ``reported``
or ``estimate`` (see ``docs/kengetallen.md``).

The loader reports every problem at once, each with file, line and column.
A user may override or extend rows for one run with a CSV or Excel file
(:meth:`Kengetallen.with_overrides`); the result lists which rows changed.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc.caches import cached, register
from stikstofcalc.ranges import YEAR_RANGE
from stikstofcalc.io.text import decode_csv, separator
from stikstofcalc.errors import (DataError, InputError, MultipleDataErrors, MultipleInputErrors,
    UnitError, dutch_notation, hint, read_reason)
from stikstofcalc.units import (METRIC_UNITS_NL, dimension_nl, non_metric_units, normalise_number,
                               pint_unit_text, unit_nl, ureg)
from stikstofcalc.io.atomic import AtomicGroup
from stikstofcalc.limits import check_xlsx

STATUSES = ("verified", "reported", "estimate")
"""Statuses of shipped rows, strongest first."""
OVERRIDE_STATUSES = STATUSES + ("user",)
"""Statuses allowed in a user's override file (``user`` is the default there)."""
STANDARD_COLUMNS = ("quantity", "value", "unit", "source_id", "source_locator", "status", "note")
BASES = {"woning": "", "m2": "m**2", "ha": "m**2"}
"""Project bases of per-unit key figures -> the area unit the canonical unit is divided by."""


@dataclass(frozen=True)
class TableSpec:
    """Layout of one key-figure table: key columns, label columns, quantities.

    ``quantities`` maps each allowed quantity to its canonical unit. With
    ``per_basis`` the table has a ``basis`` label; for basis ``m2`` or ``ha`` the
    canonical unit of the ``*_per_unit`` quantities is divided by m**2 (figures
    per floor or site area instead of per home).
    """

    keys: tuple[str, ...]
    quantities: dict
    labels: tuple[str, ...] = ()
    per_basis: bool = False
    description: str = ""


SCHEMA: dict[str, TableSpec] = {
    "machinery_factors": TableSpec(
        ("category",),
        {"nox_per_fuel": "g/L", "nh3_per_fuel": "g/L", "nox_per_hour": "g/h",
         "nh3_per_hour": "g/h", "nox_per_adblue": "g/L",
         "max_adblue_fuel_ratio": "dimensionless", "typical_adblue_fuel_ratio": "dimensionless"},
        labels=("description",), description="AERIUS-factoren van mobiele werktuigen (AUB-methode)"),
    "fuel_use": TableSpec(
        ("relation",), {"fuel_per_hour_per_power": "L/h/kW", "fuel_per_hour_base": "L/h"},
        description="brandstofverbruik per draaiuur uit het nominale vermogen (TNO AUB)"),
    "road_factors_nox": TableSpec(
        ("year", "road_type", "vehicle_class"), {"nox_per_vehicle_km": "g/km"},
        description="NOx van wegverkeer per voertuigkilometer naar jaar, wegtype en voertuigklasse"),
    "road_factors_nh3": TableSpec(
        ("road_type", "vehicle_class"), {"nh3_per_vehicle_km": "g/km"},
        description="NH3 van wegverkeer per voertuigkilometer naar wegtype en voertuigklasse"),
    "source_characteristics": TableSpec(
        ("sector_id",), {"height": "m", "heat_content": "MW", "heat_content_instruction": "MW",
                         "spread": "m"},
        labels=("sector_name",), description="AERIUS-standaardbronkenmerken per sector"),
    "general": TableSpec(("name",), {"days_per_year": "day/year",
                                     "borderline_factor": "dimensionless"},
                         description="afspraken (AERIUS-dagen per jaar)"),
    "project_types": TableSpec(
        ("project_type",), {"duration_fixed": "month", "duration_per_unit": "month"},
        labels=("basis", "stage"), per_basis=True,
        description="projecttypen van de bouw: basis, fase, standaardduur"),
    "construction_machinery": TableSpec(
        ("project_type", "machine"), {"fuel_per_unit": "L", "hours_per_unit": "h"},
        labels=("basis", "category"), per_basis=True,
        description="standaardwerktuigen van de bouw per eenheid van een projecttype"),
    "construction_traffic": TableSpec(
        ("project_type", "vehicle_class"), {"movements_per_unit": "dimensionless"},
        labels=("basis",), per_basis=True,
        description="bouwverkeersbewegingen per eenheid van een projecttype"),
    "fleet_mix": TableSpec(("fleet", "category"), {"share": "dimensionless"},
                           description="keuzes voor de dieselvloot als aandelen van AUB-categorieën"),
    "traffic_generation": TableSpec(
        ("function", "urbanisation"), {"movements_per_unit": "1/day"},
        labels=("basis",), per_basis=True,
        description="verkeersgeneratie in de gebruiksfase per woning of per vloeroppervlak"),
    "traffic_vehicle_shares": TableSpec(
        ("function", "vehicle_class"), {"share": "dimensionless"},
        description="aandelen per voertuigklasse van het verkeer in de gebruiksfase per functie"),
    "heating_factors": TableSpec(
        ("appliance",), {"nox_per_unit": "kg/year", "nh3_per_unit": "kg/year",
                         "nox_per_energy": "g/kWh", "gas_energy_content": "kWh/m**3"},
        description="emissies van verwarming (gasloze woningen, cv-ketels)"),
}
SOURCES_COLUMNS = ("source_id", "citation", "publisher", "edition", "date", "url", "copy_read",
                   "licence_note")
_EDITION = re.compile(r"^\d{4}\.\d+$")
#: validated override results by (base figures, file path, file hash), oldest first
_OVERRIDE_CACHE: dict = register("stikstofcalc.kengetallen._OVERRIDE_CACHE", {})
_OVERRIDE_CACHE_SIZE = 16


@dataclass(frozen=True)
class Figure:
    """One key figure: canonical value with its status and row id (for provenance)."""

    value: float
    unit: str
    status: str
    row_id: str
    overridden: bool = False


@dataclass(frozen=True)
class Override:
    """One row a user's override file replaced or added."""

    row_id: str
    action: str  # "replaced" or "added"
    old_value: float | None
    new_value: float
    unit: str
    file: str
    line: int


def canonical_unit(table: str, quantity: str, basis: str | None = None) -> str:
    """Canonical unit of ``quantity`` in ``table`` (divided by m**2 for area bases)."""
    unit = SCHEMA[table].quantities[quantity]
    per_unit = SCHEMA[table].per_basis and quantity.endswith("_per_unit")
    area = BASES.get(basis or "woning", "") if per_unit else ""
    if not area:
        return unit
    return f"({unit})/{area}" if "/" in unit else f"{unit}/{area}"


def row_id(table: str, keys, quantity: str) -> str:
    """Stable identifier of a row: ``table:key1/key2/quantity``."""
    return f"{table}:{'/'.join(str(k) for k in keys)}/{quantity}"


# ----------------------------------------------------------------------------- locating


def data_root():
    """The folder holding the editions: inside the installed package, else the repo root."""
    packaged = importlib.resources.files("stikstofcalc") / "kengetallen"
    if packaged.is_dir():
        return packaged
    repo = Path(__file__).resolve().parents[2] / "kengetallen"
    if repo.is_dir():
        return repo
    raise DataError("de map kengetallen staat niet in het pakket of in de repository",
                    expected="stikstofcalc/kengetallen/<editie>/ (wheel) of kengetallen/ (checkout)")


def editions() -> list[str]:
    """Names of the available editions, oldest first."""
    names = [p.name for p in data_root().iterdir() if p.is_dir() and _EDITION.match(p.name)]
    return sorted(names, key=lambda n: tuple(int(x) for x in n.split(".")))


def default_edition() -> str:
    """The newest edition."""
    found = editions()
    if not found:
        raise DataError("geen editie van de kengetallen gevonden", expected="een map zoals kengetallen/2026.1")
    return found[-1]


def file_hash(data: bytes) -> str:
    """SHA-256 of a table file with line endings normalised to LF (stable across checkouts)."""
    return hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()


# ----------------------------------------------------------------------------- validating


@dataclass
class _Problems:
    """Collects problems; ``user`` selects input errors (override files) over data errors."""

    user: bool = False
    items: list = field(default_factory=list)

    def add(self, message, *, file, row=None, column=None, value=None, expected=None,
            sheet=None, unit_problem=False):
        if self.user:
            cls = UnitError if unit_problem else InputError
        else:
            cls = DataError
        self.items.append(cls(message, file=file, sheet=sheet, row=row, field=column, value=value,
                              expected=expected))

    def raise_if_any(self, file=None):
        if self.items:
            if self.user:
                raise MultipleInputErrors(self.items, file=file)
            raise MultipleDataErrors(self.items, file=file)


def _convert(value_text, unit_text, target):
    """value [unit] -> float in ``target``; raises ValueError/pint errors.

    pint is asked once per distinct (unit, target) pair (:func:`_unit_factor`); the
    tables use a few dozen units over some 800 rows. Offset units (none in the
    shipped tables) are converted exactly, row by row.
    """
    number = float(str(value_text).strip().replace(",", "."))
    unit_text = str(unit_text).strip()
    factor = _unit_factor(unit_text, target)
    if factor is None:
        return _convert_exact(number, unit_text, target)
    return number * factor


def _convert_exact(number, unit_text, target):
    quantity = number * ureg.parse_expression(unit_text)
    if not hasattr(quantity, "to"):
        quantity = ureg.Quantity(quantity)
    return float(quantity.to(target).magnitude)


@cached(maxsize=1024)
def _unit_factor(unit_text, target):
    """Multiplicative factor [target / unit], or None for an offset unit (degC).

    Raises pint's errors for an unknown unit or a wrong dimension (not cached).
    """
    if _convert_exact(0.0, unit_text, target) != 0.0:
        return None
    return _convert_exact(1.0, unit_text, target)


@cached(maxsize=1024)
def _non_metric(unit_text) -> str:
    """The Imperial or US customary units of a unit text (``gal``, ``lb/mi``), or ''
    (the rule of :func:`stikstofcalc.units.check_metric` for every quantity a user types)."""
    try:
        return ", ".join(non_metric_units(ureg.parse_expression(unit_text)))
    except Exception:  # noqa: BLE001 - an unknown unit: reported where it is converted
        return ""


#: Key figures that may be negative (AdBlue lowers the NOx of SCR engines).
NEGATIVE_ALLOWED = {("machinery_factors", "nox_per_adblue")}
#: Largest key figure in its canonical unit: a plausibility limit, far above every shipped value.
MAX_FIGURE = 1e9


def value_range(table: str, quantity: str) -> tuple[float, float]:
    """Allowed values of a key figure in its canonical unit (shares 0..1, days 1..366)."""
    if quantity == "share":
        return 0.0, 1.0
    if quantity == "days_per_year":
        return 1.0, 366.0
    return (-MAX_FIGURE if (table, quantity) in NEGATIVE_ALLOWED else 0.0), MAX_FIGURE


def _validate_rows(name, frame, *, file, problems, source_ids, user=False, sheet=None):
    """Check one table's rows; return a clean DataFrame (canonical values) of the good rows."""
    spec = SCHEMA[name]
    required = list(spec.keys) + ([] if user else list(spec.labels)) + (
        ["quantity", "value", "unit"] if user else list(STANDARD_COLUMNS))
    missing = [c for c in required if c not in frame.columns]
    for col in missing:
        problems.add("kolom ontbreekt", file=file, sheet=sheet, column=col,
                     expected=f"de kolommen {', '.join(required)}")
    if not any("source" in c for c in frame.columns):
        problems.add("geen bronkolom", file=file, sheet=sheet, column="source_id",
                     expected="een kolom met 'source' in de naam")
    if missing:
        return None
    allowed_status = OVERRIDE_STATUSES if user else STATUSES
    out, seen = [], {}
    for i, rec in zip(frame.index, _records(frame)):
        line = int(i) + 2  # header is line 1; the frame index is the 0-based data row
        ok = True

        def bad(msg, col, value=None, expected=None, unit_problem=False):
            nonlocal ok
            ok = False
            problems.add(msg, file=file, sheet=sheet, row=line, column=col, value=value,
                         expected=expected, unit_problem=unit_problem)

        keys = tuple(str(rec.get(k, "")).strip() for k in spec.keys)
        for k, v in zip(spec.keys, keys):
            if not v:
                bad("lege sleutel", k, expected="een waarde")
            elif k == "year" and not (v.isdigit() and YEAR_RANGE[0] <= int(v) <= YEAR_RANGE[1]):
                bad(f"{v!r} is geen jaar", k, v, f"een jaar van {YEAR_RANGE[0]} tot en met {YEAR_RANGE[1]}")
        quantity = str(rec.get("quantity", "")).strip()
        if quantity not in spec.quantities:
            bad(f"onbekende grootheid {quantity!r}{hint(quantity, spec.quantities)}", "quantity",
                expected=f"een van {', '.join(spec.quantities)}")
        basis = str(rec.get("basis", "")).strip() or None
        if spec.per_basis and basis is not None and basis not in BASES:
            bad(f"onbekende basis {basis!r}", "basis", expected=f"een van {', '.join(BASES)}")
        status = str(rec.get("status", "")).strip() or ("user" if user else "")
        if status not in allowed_status:
            bad(f"status {status!r} is niet toegestaan", "status",
                expected=f"een van {', '.join(allowed_status)}")
        src = str(rec.get("source_id", "")).strip()
        free_source = str(rec.get("source", "")).strip()
        if user and not (src or free_source):
            bad("geen bron opgegeven", "source", expected="een source_id uit sources.csv of een bron als vrije tekst")
        elif src and src not in source_ids and not (user and free_source):
            bad(f"onbekende source_id {src!r}", "source_id",
                expected="een id uit sources.csv" + (" of een kolom 'source' met vrije tekst" if user else ""))
        elif not src and not user:
            bad("lege source_id", "source_id", expected="een id uit sources.csv")
        value_text, unit_text = str(rec.get("value", "")).strip(), str(rec.get("unit", "")).strip()
        shown_unit = unit_text  # messages name the unit as written; pint reads the Dutch words
        unit_text = pint_unit_text(unit_text) if user else unit_text
        value = math.nan
        if not value_text or value_text.lower() == "nan":
            bad("waarde ontbreekt", "value", expected="een getal")
        elif not unit_text:
            bad("eenheid ontbreekt", "unit", expected="een eenheid zoals g/L ('dimensionless' voor verhoudingen)")
        elif _non_metric(unit_text):
            bad(f"eenheid {shown_unit!r}: {_non_metric(unit_text)} is geen metrische eenheid", "unit", shown_unit,
                METRIC_UNITS_NL, unit_problem=True)
        elif quantity in spec.quantities and (not spec.per_basis or basis in BASES or basis is None):
            target = canonical_unit(name, quantity, basis)
            try:
                # a user's number is read as a quantity is ("1.000" is ambiguous, "40,5" is 40.5)
                typed = isinstance(rec.get("value"), str)  # a number cell of a workbook is no text
                number_text = normalise_number(value_text) if user and typed else value_text
                value = _convert(number_text, unit_text, target)
            except ValueError as exc:
                if user and "dubbelzinnig" in str(exc):
                    bad(f"{value_text!r} is {exc}", "value", value_text,
                        "een getal zonder duizendtallenpunt (1000) of met decimale komma (1.000,0)")
                else:
                    try:
                        ureg.parse_expression(unit_text)
                        bad(f"{value_text!r} is geen getal", "value", value_text, "een getal")
                    except Exception:
                        bad(f"eenheid {shown_unit!r} is onbekend", "unit", shown_unit,
                            "een eenheid zoals g/L", unit_problem=True)
            except Exception:
                try:
                    got = "is " + dimension_nl(ureg.parse_expression(unit_text).dimensionality)
                except Exception:
                    got = "is niet te lezen"
                bad(f"eenheid {shown_unit!r} {got}", "unit", shown_unit,
                    f"een eenheid om te rekenen naar {unit_nl(target)}", unit_problem=True)
            if not math.isfinite(value) and ok:
                bad("waarde is niet eindig", "value", value_text, "een eindig getal")
            elif ok:
                lo, hi = value_range(name, quantity)
                if not lo <= value <= hi:
                    bad(f"waarde {value_text} {shown_unit} ligt buiten het toegestane bereik", "value",
                        value_text, f"{lo:g} tot en met {hi:g} {unit_nl(target)}")
        ident = row_id(name, keys, quantity)
        if ident in seen:
            bad(f"dubbele rij {ident} (eerst op regel {seen[ident]})", "quantity",
                expected="één rij per sleutels en grootheid")
        else:
            seen[ident] = line
        if not ok:
            continue
        row = {k: v for k, v in zip(spec.keys, keys)}
        for lab in spec.labels:
            row[lab] = str(rec.get(lab, "")).strip()
        row.update(quantity=quantity, value=value, unit=canonical_unit(name, quantity, basis),
                   value_as_given=value_text, unit_as_given=shown_unit,
                   source_id=src or f"user: {free_source}",
                   source_locator=str(rec.get("source_locator", "")).strip(),
                   status=status, note=str(rec.get("note", "")).strip(), row_id=ident,
                   line=line, origin=str(file) + (f"[{sheet}]" if sheet else ""), overridden=False)
        out.append(row)
    cols = list(spec.keys) + list(spec.labels) + [
        "quantity", "value", "unit", "value_as_given", "unit_as_given", "source_id",
        "source_locator", "status", "note", "row_id", "line", "origin", "overridden"]
    return pd.DataFrame(out, columns=cols)


def _records(frame) -> list[dict]:
    """Rows as dicts of Python scalars (as ``to_dict("records")``, without its per-row cost)."""
    cols = list(frame.columns)
    return [dict(zip(cols, vals)) for vals in zip(*(frame[c].tolist() for c in cols))]


def _check_consistency(tables, problems, file):
    """Cross-table checks: references exist, shares sum to one, bases agree."""
    machines = set(tables["machinery_factors"]["category"])
    pt_frame = tables["project_types"].drop_duplicates("project_type")
    types = dict(zip(pt_frame["project_type"], pt_frame["basis"]))  # project type -> basis
    for tname in ("construction_machinery", "construction_traffic"):
        t = tables[tname]
        for rec in _records(t.drop_duplicates(["project_type", "basis"])):
            pt = rec["project_type"]
            if pt not in types:
                problems.add(f"projecttype {pt!r} staat niet in project_types{hint(pt, list(types))}", file=f"{file}/{tname}",
                             row=rec["line"], column="project_type",
                             expected=f"een van {', '.join(types)}")
            elif rec["basis"] != types[pt]:
                problems.add(f"basis {rec['basis']!r} wijkt af van project_types ({types[pt]!r})",
                             file=f"{file}/{tname}", row=rec["line"], column="basis")
    for rec in _records(tables["construction_machinery"]):
        if rec["category"] != "DIESEL" and rec["category"] not in machines:
            problems.add(f"werktuigcategorie {rec['category']!r} staat niet in machinery_factors",
                         file=f"{file}/construction_machinery", row=rec["line"], column="category",
                         expected="DIESEL (keuze van de vloot) of een categorie uit machinery_factors")
    for rec in _records(tables["fleet_mix"]):
        if rec["category"] not in machines:
            problems.add(f"categorie {rec['category']!r} staat niet in machinery_factors",
                         file=f"{file}/fleet_mix", row=rec["line"], column="category")
    for tname, group in (("fleet_mix", "fleet"), ("traffic_vehicle_shares", "function")):
        sums = tables[tname].groupby(group)["value"].sum()
        for key, total in sums.items():
            if abs(total - 1.0) > 1e-9:
                problems.add(f"de aandelen van {key!r} tellen op tot {dutch_notation(f'{total:.6g}')}",
                             file=f"{file}/{tname}",
                             column="value", expected="aandelen die samen 1 zijn")


# ----------------------------------------------------------------------------- the object


class Kengetallen:
    """One validated edition of the key-figure tables, optionally with user overrides.

    Use :func:`load` to get the (cached) shipped edition. Look numbers up with
    :meth:`figure`; every :class:`Figure` carries its status and row id.
    """

    def __init__(self, edition, tables, sources, hashes, overrides=(), override_files=(), *,
                 cache_key=None):
        self.edition = edition
        #: identity of the content: edition and file hashes, then (override path, hash) pairs
        self.cache_key = cache_key if cache_key is not None else (
            edition, tuple(sorted(hashes.items())))
        self.tables = tables
        self.sources = sources
        self.hashes = hashes
        self.overrides = tuple(overrides)
        self.override_files = tuple(override_files)
        self._index = {}
        for name, frame in tables.items():
            keys = SCHEMA[name].keys
            for rec in _records(frame):
                k = tuple(rec[c] for c in keys) + (rec["quantity"],)
                self._index[(name, k)] = Figure(rec["value"], rec["unit"], rec["status"],
                                                rec["row_id"], bool(rec["overridden"]))

    def __repr__(self):
        extra = f", {len(self.overrides)} override(s)" if self.overrides else ""
        return f"<Kengetallen edition {self.edition}: {len(self.tables)} tables{extra}>"

    def figure(self, table: str, keys, quantity: str, *, required: bool = True) -> Figure | None:
        """The figure for ``keys`` (a tuple, or a single key) and ``quantity`` in ``table``.

        An absent figure raises :class:`~stikstofcalc.errors.DataError`, or returns
        ``None`` with ``required=False`` (AERIUS treats an absent factor as zero).
        """
        keys = keys if isinstance(keys, tuple) else (keys,)
        keys = tuple(str(k) for k in keys)
        fig = self._index.get((table, keys + (quantity,)))
        if fig is None and required:
            raise DataError(f"kengetal {row_id(table, keys, quantity)} ontbreekt in editie {self.edition}",
                            expected="een rij in de tabel met kengetallen of een eigen kengetal")
        return fig

    def has(self, table: str, keys, quantity: str) -> bool:
        """Whether the figure exists."""
        keys = keys if isinstance(keys, tuple) else (keys,)
        return (table, tuple(str(k) for k in keys) + (quantity,)) in self._index

    def labels(self, table: str, keys) -> dict:
        """Label columns (e.g. ``basis``, ``stage``) of the rows with these keys."""
        keys = keys if isinstance(keys, tuple) else (keys,)
        frame = self.tables[table]
        mask = pd.Series(True, index=frame.index)
        for col, val in zip(SCHEMA[table].keys, keys):
            mask &= frame[col] == str(val)
        if not mask.any():
            raise DataError(f"geen rijen voor {keys} in {table} (editie {self.edition})")
        return {lab: frame.loc[mask, lab].iloc[0] for lab in SCHEMA[table].labels}

    def values(self, table: str, column: str) -> list[str]:
        """Distinct values of a key column (for 'expected one of ...' messages)."""
        return sorted(set(self.tables[table][column]))

    def provenance(self) -> dict:
        """Edition, file hashes and overrides: what every output must record."""
        return {"edition": self.edition, "hashes": dict(self.hashes),
                "override_files": list(self.override_files),
                "overrides": [o.__dict__ for o in self.overrides]}

    def with_overrides(self, path) -> "Kengetallen":
        """A copy with the rows of a user's CSV or Excel file replacing or extending rows.

        The file has a ``table`` column (or, in Excel, one sheet per table name),
        the key columns of that table, ``quantity``, ``value``, ``unit`` and a
        source (``source_id`` from sources.csv or free-text ``source``);
        ``status`` defaults to ``user``. Every problem is reported at once.
        """
        path = Path(path)
        problems = _Problems(user=True)
        data = _read_bytes(path, problems)
        problems.raise_if_any(file=str(path))
        key = (self.cache_key, str(path), file_hash(data))
        cached = _OVERRIDE_CACHE.get(key)
        if cached is not None:  # same base figures, same file content: already validated
            return cached
        parts = _read_override_file(path, data, problems)
        problems.raise_if_any(file=str(path))
        tables = {k: v.copy() for k, v in self.tables.items()}
        overrides = list(self.overrides)
        source_ids = set(self.sources["source_id"])
        for sheet, frame in parts:
            if "table" in frame.columns:
                groups = list(frame.groupby("table", sort=False))
            else:
                groups = [(sheet, frame)]
            for name, part in groups:
                if name not in SCHEMA:
                    line = int(part.index[0]) + 2
                    problems.add(f"onbekende tabel {name!r}{hint(name, list(SCHEMA))}", file=str(path), sheet=sheet,
                                 row=line, column="table", expected=f"een van {', '.join(SCHEMA)}")
                    continue
                if SCHEMA[name].per_basis:
                    part = _fill_basis(part, tables[name], SCHEMA[name].keys[0], problems,
                                       file=str(path), sheet=sheet)
                clean = _validate_rows(name, part, file=str(path), problems=problems,
                                       source_ids=source_ids, user=True, sheet=sheet)
                if clean is None or clean.empty:
                    continue
                clean = _closed_keys(name, clean, tables, problems, file=str(path), sheet=sheet)
                if clean.empty:
                    continue
                tables[name], done = _merge(tables[name], clean, name, str(path))
                overrides.extend(done)
        problems.raise_if_any(file=str(path))
        _check_consistency(tables, problems, str(path))
        problems.raise_if_any(file=str(path))
        result = Kengetallen(self.edition, tables, self.sources, self.hashes, overrides,
                             self.override_files + (str(path),), cache_key=key)
        while len(_OVERRIDE_CACHE) >= _OVERRIDE_CACHE_SIZE:
            _OVERRIDE_CACHE.pop(next(iter(_OVERRIDE_CACHE)))
        _OVERRIDE_CACHE[key] = result
        return result


#: Key columns whose values the code knows (a vehicle class, a road type): an override row
#: with another value would be added as a row nothing reads, and the error would come later
#: without the override file's name ("kengetal ... ontbreekt").
CLOSED_KEY_COLUMNS = ("vehicle_class", "road_type")


def _closed_keys(name, clean, tables, problems, *, file, sheet):
    """The rows of ``clean`` whose closed keys (:data:`CLOSED_KEY_COLUMNS`) are known; the
    others reported with file, row, column, value and the known values."""
    keep = np.ones(len(clean), bool)
    for col in (c for c in CLOSED_KEY_COLUMNS if c in SCHEMA[name].keys):
        known = sorted({str(v) for t in tables.values() if col in t.columns for v in t[col]})
        for j, (v, line) in enumerate(zip(clean[col].astype(str), clean["line"])):
            if v not in known:
                keep[j] = False
                problems.add(f"onbekende {col} {v!r}{hint(v, known)}", file=file, sheet=sheet, row=int(line),
                             column=col, value=v, expected=f"een van {', '.join(known)}")
    return clean[keep]


def _fill_basis(part, base, key, problems, *, file, sheet):
    """Take a missing ``basis`` of an override row from the shipped rows with the same first key."""
    part = part.copy()
    if "basis" not in part.columns:
        part["basis"] = ""
    known = dict(zip(base[key], base["basis"]))
    for idx in part.index:
        if not str(part.at[idx, "basis"]).strip():
            if part.at[idx, key] in known:
                part.at[idx, "basis"] = known[part.at[idx, key]]
            else:
                problems.add(f"geen basis voor nieuwe {key} {part.at[idx, key]!r}", file=file, sheet=sheet,
                             row=int(idx) + 2, column="basis", expected=f"een van {', '.join(BASES)}")
    return part


def _read_bytes(path, problems) -> bytes:
    """The bytes of a user's file (read once: hashed for the cache, then parsed)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        problems.add("bestand niet gevonden", file=str(path), expected="een bestaand CSV- of Excel-bestand")
    except OSError as exc:
        problems.add(f"kan het bestand niet lezen ({read_reason(exc)})", file=str(path), expected="CSV (UTF-8) of .xlsx")
    return b""


def _ragged_rows(text: str, path, problems, sep: str = ",") -> bool:
    """Report rows with more cells than the header (pandas would silently make the first
    column an index); True if there were any."""
    import csv
    import io

    rows = csv.reader(io.StringIO(text), delimiter=sep)
    header = next(rows, None)
    if header is None:
        return False
    bad = False
    for line, row in enumerate(rows, start=2):
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            problems.add(f"rij heeft {len(row)} cellen maar de kopregel maar {len(header)} kolomnamen",
                         file=str(path), row=line,
                         expected="evenveel cellen per rij als kolomnamen (table, de sleutels, quantity, value, "
                                  "unit, source)")
            bad = True
    return bad


def _read_override_file(path, data, problems):
    """[(sheet or None, DataFrame of strings)] from the bytes of a CSV or Excel file."""
    from io import BytesIO, StringIO

    if path.suffix.lower() not in (".csv", ".txt", ".xlsx", ".xlsm", ".xls"):
        problems.add(f"onbekend bestandstype {path.suffix or '(geen extensie)'!r} voor kengetallen", file=str(path),
                     expected="een CSV-bestand (.csv) of een werkmap (.xlsx) met kengetallen")
        return []
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            check_xlsx(BytesIO(data), file=path)  # decompression bombs: refused before unpacking
            sheets = pd.read_excel(BytesIO(data), sheet_name=None, dtype=object, keep_default_na=False)
            # text everywhere, except a number cell in 'value': it is a number, not text to
            # read (1.125 is not the ambiguous "1.125")
            sheets = {name: frame.apply(lambda c: c if c.name == "value" else c.astype(str))
                      for name, frame in sheets.items()}
            _formulas_without_value(data, path, problems)
            out, foreign = [], False
            for name, frame in sheets.items():
                if name in SCHEMA or "table" in frame.columns:
                    out.append((name, frame))
                elif {"quantity", "value"} <= set(map(str, frame.columns)):  # meant as a table
                    problems.add(f"blad {name!r} is geen tabel met kengetallen{hint(name, list(SCHEMA))}",
                                 file=str(path), sheet=name,
                                 expected=f"een blad met de naam van een tabel ({', '.join(SCHEMA)}) of een "
                                          "kolom table")
                    foreign = True
            return out if foreign else _not_empty(out, path, problems)
        text = decode_csv(data, path)
        header = text.split("\n", 1)[0]
        sep = separator(header)  # Dutch Excel saves with ';'; tab: Excel's Unicode text
        if _ragged_rows(text, path, problems, sep):
            return []
        frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, sep=sep)
        if "table" not in frame.columns:
            problems.add("kolom table ontbreekt", file=str(path), column="table",
                         expected="een kolom table met de tabelnaam per rij (en de sleutels, quantity, value, "
                                  "unit, source)")
            return []
        return _not_empty([(None, frame)], path, problems)
    except InputError as exc:  # the text of the CSV (stikstofcalc.io.text)
        problems.add(exc.message, file=str(path), expected=exc.expected)
        return []
    except pd.errors.EmptyDataError:
        problems.add("het bestand is leeg", file=str(path), expected="een kopregel met table, de sleutels, "
                     "quantity, value, unit en source")
        return []
    except Exception:  # unreadable file: report, do not crash
        problems.add("kan het bestand niet lezen (beschadigd, of geen CSV of werkmap)", file=str(path),
                     expected="CSV (UTF-8) of .xlsx")
        return []


def _not_empty(parts, path, problems):
    """The parts, or a problem when they hold no row at all (a header only is no override)."""
    if not any(len(frame) for _, frame in parts):
        problems.add("geen rijen met kengetallen (alleen een kopregel, of geen blad met een tabel)",
                     file=str(path), expected="minstens één rij met table (of een blad per tabel), de sleutels, "
                                              "quantity, value, unit en source")
    return parts


def _formulas_without_value(data, path, problems) -> None:
    """Report formula cells without a stored result (a workbook written by a program and never
    opened in Excel): they read as empty, which said "waarde ontbreekt"."""
    from io import BytesIO

    import openpyxl

    formulas = openpyxl.load_workbook(BytesIO(data), data_only=False, read_only=True)
    values = openpyxl.load_workbook(BytesIO(data), data_only=True, read_only=True)
    for ws in formulas.worksheets:
        cached = values[ws.title].iter_rows(values_only=True)
        header = ()
        for r, (row, stored) in enumerate(zip(ws.iter_rows(values_only=True), cached), start=1):
            header = header or row
            for c, (f, v) in enumerate(zip(row, stored), start=1):
                if isinstance(f, str) and f.startswith("=") and v is None:
                    name = header[c - 1] if r > 1 and c <= len(header) and header[c - 1] else None
                    problems.add(f"{f!r} is een formule zonder opgeslagen waarde", file=str(path), sheet=ws.title,
                                 row=r, column=str(name or openpyxl.utils.get_column_letter(c)), value=f,
                                 expected="een getal; open de werkmap in Excel en sla hem op (dan staat de "
                                          "uitkomst erbij), of typ de waarde")


def _merge(base, new, name, file):
    """Replace rows of ``base`` with equal row ids, append the others; report each."""
    spec = SCHEMA[name]
    base = base.copy()
    done = []
    index = {rid: i for i, rid in enumerate(base["row_id"])}
    additions = []
    for rec in new.to_dict("records"):
        rec["overridden"] = True
        i = index.get(rec["row_id"])
        if i is not None:
            old = base.iloc[i]
            for lab in spec.labels:  # keep shipped labels the override left empty
                if not rec.get(lab):
                    rec[lab] = old[lab]
            done.append(Override(rec["row_id"], "replaced", float(old["value"]), rec["value"],
                                 rec["unit"], file, int(rec["line"])))
            for col, val in rec.items():
                base.at[base.index[i], col] = val
        else:
            done.append(Override(rec["row_id"], "added", None, rec["value"], rec["unit"], file,
                                 int(rec["line"])))
            additions.append(rec)
    if additions:
        base = pd.concat([base, pd.DataFrame(additions, columns=base.columns)], ignore_index=True)
    return base, done


def _read_csv_bytes(data: bytes) -> pd.DataFrame:
    from io import BytesIO

    return pd.read_csv(BytesIO(data), dtype=str, keep_default_na=False)


def load(edition: str | None = None) -> Kengetallen:
    """Load, validate and cache one edition (default: the newest).

    ``load()`` and ``load("<newest edition>")`` return the same cached object: the
    edition is validated once per process.

    Raises :class:`~stikstofcalc.errors.MultipleDataErrors` listing every problem
    (file, line, column) if the shipped tables are inconsistent.
    """
    return _load_edition(edition or default_edition())


def clear_cache() -> None:
    """Forget the validated editions and override files (for tests and data editors)."""
    _load_edition.cache_clear()
    _OVERRIDE_CACHE.clear()


@cached(maxsize=8)
def _load_edition(edition: str) -> Kengetallen:
    if edition not in editions():
        raise InputError(f"onbekende editie van de kengetallen {edition!r}", field="edition",
                         value=edition, expected=f"een van {', '.join(editions())}")
    folder = data_root() / edition
    problems = _Problems()
    hashes = {}
    data = (folder / "sources.csv").read_bytes()
    hashes["sources"] = file_hash(data)
    sources = _read_csv_bytes(data)
    for col in SOURCES_COLUMNS:
        if col not in sources.columns:
            problems.add("kolom ontbreekt", file=f"{edition}/sources.csv", column=col)
    dup = sources["source_id"][sources["source_id"].duplicated()] if "source_id" in sources else []
    for sid in dup:
        problems.add(f"dubbele source_id {sid!r}", file=f"{edition}/sources.csv", column="source_id")
    source_ids = set(sources.get("source_id", []))
    tables = {}
    for name in SCHEMA:
        item = folder / f"{name}.csv"
        if not item.is_file():
            problems.add("tabelbestand ontbreekt", file=f"{edition}/{name}.csv")
            continue
        raw = item.read_bytes()
        hashes[name] = file_hash(raw)
        tables[name] = _validate_rows(name, _read_csv_bytes(raw), file=f"{edition}/{name}.csv",
                                      problems=problems, source_ids=source_ids)
    problems.raise_if_any()
    _check_consistency(tables, problems, edition)
    problems.raise_if_any()
    return Kengetallen(edition, tables, sources, hashes)


def validate_folder(folder) -> Kengetallen:
    """Load and validate an edition folder outside the package (for editors of the data)."""
    folder = Path(folder)
    problems = _Problems()
    sources = pd.read_csv(folder / "sources.csv", dtype=str, keep_default_na=False)
    hashes, tables = {"sources": file_hash((folder / "sources.csv").read_bytes())}, {}
    for name in SCHEMA:
        raw = (folder / f"{name}.csv").read_bytes()
        hashes[name] = file_hash(raw)
        tables[name] = _validate_rows(name, _read_csv_bytes(raw), file=f"{folder.name}/{name}.csv",
                                      problems=problems, source_ids=set(sources["source_id"]))
    problems.raise_if_any()
    _check_consistency(tables, problems, folder.name)
    problems.raise_if_any()
    return Kengetallen(folder.name, tables, sources, hashes)


def export(kg: Kengetallen, directory) -> list[Path]:
    """Write every table (as loaded, overrides applied) and sources.csv to ``directory``."""
    directory = Path(directory)
    with AtomicGroup() as group:  # all tables or none (no half export)
        for name, frame in kg.tables.items():
            spec = SCHEMA[name]
            out = frame.copy()
            out["value"], out["unit"] = out["value_as_given"], out["unit_as_given"]
            cols = list(spec.keys) + list(spec.labels) + list(STANDARD_COLUMNS) + ["overridden"]
            group.write_csv(directory / f"{name}.csv", out[cols])
        group.write_csv(directory / "sources.csv", kg.sources)
    return group.committed


def summary(kg: Kengetallen) -> pd.DataFrame:
    """One line per table: rows, status counts, overridden rows, hash (for ``kengetallen list``)."""
    rows = []
    for name, frame in kg.tables.items():
        counts = frame["status"].value_counts()
        rows.append({"table": name, "rows": len(frame),
                     **{s: int(counts.get(s, 0)) for s in OVERRIDE_STATUSES},
                     "overridden": int(frame["overridden"].sum()),
                     "sha256": kg.hashes.get(name, "")[:12],
                     "description": SCHEMA[name].description})
    return pd.DataFrame(rows)
