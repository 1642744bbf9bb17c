"""Plan types for the capacity search: a project file with one component whose size varies.

A plan type is an ordinary project file (``docs/project_format.md``) with one extra table::

    [capacity]
    component = "woningen"   # name of the component whose count (homes) or floor_area (m2) varies
    reference = 100          # reference size for the first, linear estimate
    maximum = 10000          # the search stops here (capacity reported as ">= maximum")
    step = 1                 # capacity in whole multiples of this (m2 plans: e.g. 100 m2)
    label = "..."            # shown in the outputs

Shipped: ``grondgebonden``, ``gestapeld``, ``utiliteit`` (``stikstofcalc/data/capacity``).
Every key figure comes from the edition the file names, with the user's overrides
(``overrides = "..."`` in the file, or ``--overrides`` on the command line).

The emission of a plan of ``n`` units does not depend on where the plan is (only its
geometry does), so :class:`PlanWeights` computes the emission per source template once
per size, in batched :func:`stikstofcalc.emissions.inventory.emission_sources` calls, and memoises it.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stikstofcalc.errors import InputError, toml_reason
from stikstofcalc.kengetallen import load
from stikstofcalc.emissions.project import kengetallen_for, parse_project
from stikstofcalc.emissions.sources import build_templates, check_site, row_keys
from stikstofcalc.emissions import inventory
from stikstofcalc.assessment.core import template_weights

#: Shipped plan types: name -> file in ``stikstofcalc/data/capacity``.
PLAN_TYPES = {"grondgebonden": "grondgebonden.toml", "gestapeld": "gestapeld.toml",
              "utiliteit": "utiliteit.toml"}
#: Variable field per project type basis: woning -> ``count``, m2 -> ``floor_area``.
_FIELD = {"woning": ("count", "woningen"), "m2": ("floor_area", "m2")}
PHASES = ("realisatie", "gebruik")


def _data_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "capacity"


@dataclass(frozen=True)
class PlanType:
    """A plan type: the project dict without ``[capacity]``, and what varies.

    Attributes
    ----------
    name : str
        Short name (``grondgebonden``) or the file stem of a user's plan.
    label : str
    raw : dict
        The project as parsed TOML (location replaced per site).
    component : int
        Index of the variable component in ``raw["components"]``.
    field : str
        ``count`` (homes) or ``floor_area`` (m2).
    unit : str
        ``woningen`` or ``m2``.
    reference, maximum, step : int
        Reference size, upper end of the search, granularity (in ``unit``).
    file : str or None
    """

    name: str
    label: str
    raw: dict
    component: int
    field: str
    unit: str
    reference: int
    maximum: int
    step: int = 1
    file: str | None = None

    def project_dict(self, n: int, x: float | None = None, y: float | None = None) -> dict:
        """The project as a dict with ``n`` units (and the location at ``x``, ``y`` when given)."""
        raw = copy.deepcopy(self.raw)
        comp = raw["components"][self.component]
        comp[self.field] = int(n) if self.field == "count" else f"{int(n)} m2"
        raw["name"] = f"{self.name} {int(n)} {self.unit}"
        if x is not None:
            raw["location"] = {k: v for k, v in raw["location"].items() if k not in ("lat", "lon", "outline")}
            dx = float(x) - float(self.raw["location"]["x"])
            dy = float(y) - float(self.raw["location"]["y"])
            raw["location"].update(x=float(x), y=float(y))
            if "outline" in self.raw["location"]:
                raw["location"]["outline"] = [[px + dx, py + dy] for px, py in self.raw["location"]["outline"]]
            for r in raw.get("routes", []):
                if "geometry" in r:
                    r["geometry"] = [[px + dx, py + dy] for px, py in r["geometry"]]
        return raw

    def project(self, n: int, x: float | None = None, y: float | None = None):
        """The validated :class:`~stikstofcalc.emissions.project.Project` of ``n`` units (at ``x``, ``y``)."""
        return parse_project(self.project_dict(n, x, y), file=self.file)

    def to_toml(self, n: int, x: float, y: float) -> str:
        """The plan of ``n`` units at ``x``, ``y`` as a project TOML text (for ``calc``)."""
        return _dump_toml(self.project_dict(n, x, y))


def load_plan_type(name_or_path, *, overrides=None) -> PlanType:
    """A shipped plan type by name, or a user's plan file (TOML with a ``[capacity]`` table).

    Parameters
    ----------
    name_or_path : str or path
        ``grondgebonden`` | ``gestapeld`` | ``utiliteit`` or a ``.toml`` file.
    overrides : path, keyword-only
        A key-figure override file (CSV/Excel, ``docs/kengetallen.md``) for this plan.
    """
    key = str(name_or_path)
    if key in PLAN_TYPES:
        path, name = _data_dir() / PLAN_TYPES[key], key
    else:
        path = Path(key)
        name = path.stem
        if path.suffix.lower() != ".toml":
            raise InputError(field="plantype", value=key,
                             expected=f"een van {', '.join(PLAN_TYPES)} of een .toml-bestand met [capacity]")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("bestand niet gevonden", file=str(path), field="plantype",
                         expected="een bestaand .toml-bestand") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"geen geldige TOML ({toml_reason(exc)})", file=str(path)) from None
    cap = data.pop("capacity", None)
    if not isinstance(cap, dict):
        raise InputError("tabel [capacity] ontbreekt", file=str(path), field="capacity",
                         expected='[capacity] met component = "<naam van het onderdeel dat varieert>"')
    comps = data.get("components") or []
    names = [str(c.get("name", c.get("type", ""))) for c in comps]
    want = cap.get("component")
    if want not in names:
        raise InputError("onderdeel niet gevonden", file=str(path), field="capacity.component",
                         value=want, expected=f"een van {', '.join(map(repr, names)) or '(geen onderdelen)'}")
    idx = names.index(want)
    if "location" not in data or "x" not in data["location"] or "y" not in data["location"]:
        raise InputError("locatie ontbreekt", file=str(path), field="location",
                         expected="x en y in RD (m): het referentiepunt dat per locatie verschoven wordt")
    if overrides is not None:
        data["overrides"] = str(Path(overrides).resolve())
    elif "overrides" in data:
        data["overrides"] = str((path.parent / data["overrides"]).resolve())

    kg = load(data.get("kengetallen"))
    basis = kg.labels("project_types", comps[idx].get("type", "")).get("basis")
    if basis not in _FIELD:
        raise InputError("dit onderdeel heeft geen aantal of vloeroppervlak dat kan varieren",
                         file=str(path), field=f"components[{idx}].type", value=comps[idx].get("type"),
                         expected="een type per woning (grondgebonden_woningen, gestapelde_woningen) "
                                  "of per m2 (utiliteitsbouw)")
    fld, unit = _FIELD[basis]

    def whole(k, default):
        v = cap.get(k, default)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise InputError(file=str(path), field=f"capacity.{k}", value=v, expected="een geheel getal >= 1")
        return v

    ref, mx, step = whole("reference", 100), whole("maximum", 10_000), whole("step", 1)
    if mx < ref or mx % step or ref % step:
        raise InputError(file=str(path), field="capacity.maximum", value=mx,
                         expected=f"maximum >= reference ({ref}), beide veelvouden van step ({step})")
    plan = PlanType(name=name, label=str(cap.get("label", name)), raw=data, component=idx, field=fld,
                    unit=unit, reference=ref, maximum=mx, step=step, file=str(path))
    plan.project(ref)  # validate the file once (errors name the field)
    return plan


def _dump_toml(d: dict) -> str:
    """A minimal TOML writer for project dicts (strings, numbers, lists, tables, arrays of tables)."""
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + "}"
        raise TypeError(type(v))

    lines = [f"{k} = {val(v)}" for k, v in d.items() if not isinstance(v, (dict, list)) or
             (isinstance(v, list) and not (v and isinstance(v[0], dict)))]
    for k, v in d.items():
        if isinstance(v, dict):
            lines += ["", f"[{k}]"] + [f"{a} = {val(b)}" for a, b in v.items()]
    for k, v in d.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                lines += ["", f"[[{k}]]"]
                lines += [f"{a} = {val(b)}" for a, b in item.items()
                          if not (isinstance(b, list) and b and isinstance(b[0], dict))]
                for a, b in item.items():
                    if isinstance(b, list) and b and isinstance(b[0], dict):
                        for sub in b:
                            lines += ["", f"[[{k}.{a}]]"] + [f"{c} = {val(e)}" for c, e in sub.items()]
    return "\n".join(lines) + "\n"


@dataclass
class Sized:
    """Emission of one plan size: scenario phases (0 realisatie, 1 gebruik), years, W (n_s, n_f)."""

    phase: np.ndarray
    year: np.ndarray
    W: np.ndarray


@dataclass
class PlanWeights:
    """Emission per source template of a plan of any size, memoised per size.

    ``templates`` are the plan's source templates at its reference location (the same for
    every size: the geometry does not depend on the size); :meth:`get` returns, per size,
    the weight matrix of its phase-years (``W[s, 2t]`` kg NOx/yr, ``W[s, 2t + 1]`` kg NH3/yr
    of template ``t``), computed for all new sizes in one inventory call.
    """

    plan: PlanType
    kengetallen: object = None
    templates: object = None
    project: object = None
    memo: dict = field(default_factory=dict)
    inventory_calls: int = 0

    def __post_init__(self):
        p = self.plan.project(self.plan.reference)
        check_site(p)
        self.project = p
        if self.kengetallen is None:
            self.kengetallen = kengetallen_for(p)
        table = inventory.emission_sources(p, kengetallen=self.kengetallen)
        self._keys0 = row_keys(table, p)
        self.templates = build_templates(self._keys0)
        self.provenance = table.attrs.get("provenance", {}).get(p.name)

    def get(self, sizes) -> list:
        """:class:`Sized` for every size in ``sizes`` (ints, in ``plan.unit``)."""
        sizes = [int(n) for n in sizes]
        new = sorted({n for n in sizes if n not in self.memo and n > 0})
        if new:
            self._compute(new)
        return [self.memo[n] if n > 0 else None for n in sizes]

    def _compute(self, sizes):
        projects = [self.plan.project(n) for n in sizes]
        table = inventory.emission_sources(projects, kengetallen=self.kengetallen)
        table.attrs = {}  # pandas deep-copies attrs (every case's provenance) on each operation
        self.inventory_calls += 1
        n_f = 2 * len(self.templates)
        for n, p, (_, sub) in zip(sizes, projects, _by_case(table, [q.name for q in projects])):
            keys = row_keys(sub, p)
            try:
                tidx = self.templates.index(keys)
            except (KeyError, ValueError) as exc:  # a source the reference plan does not have
                raise InputError("de bronnen van het plan veranderen met de omvang", case=p.name,
                                 expected="een plantype waarvan de bronnen (geometrie, kenmerken) bij elke "
                                          "omvang dezelfde zijn") from exc
            w = template_weights(sub, tidx, n_f)
            ph, yr = sub["phase"].to_numpy(object), sub["year"].to_numpy(np.int64)
            scen = {}
            for i, key in enumerate(zip(ph.tolist(), yr.tolist())):
                if key[0] in PHASES:
                    scen.setdefault(key, []).append(i)
            W = np.array([w[idx].sum(axis=0) for idx in scen.values()]).reshape(len(scen), n_f)
            self.memo[n] = Sized(np.array([PHASES.index(k[0]) for k in scen], np.int64),
                                 np.array([k[1] for k in scen], np.int64), W)

    def is_linear(self, sizes, *, rtol: float = 1e-12) -> bool:
        """Whether emission per unit is the same at all ``sizes`` (same phase-years, W / n equal)."""
        got = self.get(sizes)
        a = got[0]
        return all(np.array_equal(a.phase, b.phase) and np.array_equal(a.year, b.year)
                   and np.allclose(a.W / sizes[0], b.W / n, rtol=rtol, atol=0) for b, n in zip(got, sizes))


def _by_case(table, names):
    """Sub-tables of ``table`` per case name, in the order of ``names``."""
    groups = table.groupby("case", sort=False).indices
    for name in names:
        idx = groups.get(name)
        sub = table.iloc[idx] if idx is not None else table.iloc[:0]
        yield name, sub.reset_index(drop=True)
