"""The woondeal sum: what the planned projects of a region deposit together.

Input: a list of projects (project TOML files, or the cases of a batch workbook). Per
project the deposition of every phase and calendar year on every nitrogen-sensitive
Natura 2000 hexagon within 25 km of its sources (all hexagons evaluated: the unit
deposition of its templates, one engine call, then ``W @ U`` per phase-year, as the
deposition maps do), summed per calendar year over the projects (a project's realisatie
and gebruik in the same year add up). Output: the sum per hexagon and year, the hexagons
where the sum reaches the threshold while every project alone stays below it there, and
per project its share.

This is information for planning: the legal test (permit needed or not) stays per project,
and every output says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stikstofcalc.errors import InputError, StikstofError
from stikstofcalc.emissions.project import read_project
from stikstofcalc.batch.run import read_book, validate_book
from stikstofcalc.assessment.core import unit_deposition
from stikstofcalc.assessment.sites import project_templates, scenario_weights
from stikstofcalc.geo.natura2000 import ATTRIBUTION_NL as ATTRIBUTION, load_natura2000
from stikstofcalc.geo.receptors import default_receptor_arrays, receptor_id_to_xy
from stikstofcalc.rules import get_regime, permit_needed
from stikstofcalc import compiled
from stikstofcalc.deposition.model import load_model
from stikstofcalc._version import __version__

#: Hexagon-years in the workbook's sum sheet: sum at or above this share of the threshold [-].
SUM_SHEET_FRACTION = 1.0
#: Contributions listed per cumulative hexagon-year: at least this share of the sum [-].
SHARE_FLOOR = 0.01


@dataclass
class WoondealResult:
    """Summed deposition of a list of projects.

    Attributes
    ----------
    names : list of str
        Project (case) names.
    years : ndarray of int
        Calendar years with any deposition.
    receptor_id, x, y, n2k_number : ndarray (n_hex,)
        The hexagons within 25 km of any project's sources.
    per_project : list of dict year -> ndarray (n_hex,)
        Deposition of each project per calendar year [mol N/ha/yr].
    total : ndarray (n_years, n_hex)
        Sum over the projects [mol N/ha/yr].
    single_max : ndarray (n_years, n_hex)
        Largest single-project deposition at that hexagon and year.
    threshold : float
    summary : DataFrame
        Per project: largest deposition per phase, own verdict, share at the cumulative hexagons.
    """

    names: list
    years: np.ndarray
    receptor_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    n2k_number: np.ndarray
    per_project: list
    total: np.ndarray
    single_max: np.ndarray
    threshold: float
    regime: str
    summary: pd.DataFrame
    area_names: dict
    seconds: float
    count: np.ndarray = None
    provenance: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def cumulative(self) -> np.ndarray:
        """(n_years, n_hex): the sum reaches the threshold, every project alone stays below it."""
        return permit_needed(self.total, threshold=self.threshold) & ~permit_needed(
            self.single_max, threshold=self.threshold)

    def sum_frame(self, *, fraction: float = SUM_SHEET_FRACTION) -> pd.DataFrame:
        """Hexagon-years whose sum is at least ``fraction`` x threshold (long format)."""
        yi, hi = np.nonzero(self.total >= fraction * self.threshold)
        cum = self.cumulative
        return pd.DataFrame({
            "jaar": self.years[yi], "receptor_id": self.receptor_id[hi],
            "gebied": [self.area_names.get(int(n), "") for n in self.n2k_number[hi]],
            "x": self.x[hi], "y": self.y[hi], "som_depositie": self.total[yi, hi],
            "hoogste_enkel_project": self.single_max[yi, hi],
            "aantal_projecten": self.count[yi, hi],
            "som_boven_drempel": self.total[yi, hi] >= self.threshold,
            "alleen_door_optelling": cum[yi, hi]}).sort_values(["jaar", "som_depositie"], ascending=[True, False],
                                                                ignore_index=True)

    def shares_frame(self) -> pd.DataFrame:
        """Per cumulative hexagon-year every project contributing >= :data:`SHARE_FLOOR` of the sum."""
        rows = []
        yi, hi = np.nonzero(self.cumulative)
        for a, b in zip(yi, hi):
            yr, tot = int(self.years[a]), self.total[a, b]
            for name, p in zip(self.names, self.per_project):
                d = p[yr][b] if yr in p else 0.0
                if d >= SHARE_FLOOR * tot and d > 0:
                    rows.append({"jaar": yr, "receptor_id": int(self.receptor_id[b]),
                                 "gebied": self.area_names.get(int(self.n2k_number[b]), ""),
                                 "project": name, "depositie": float(d), "som_depositie": float(tot),
                                 "aandeel": float(d / tot)})
        return pd.DataFrame(rows, columns=["jaar", "receptor_id", "gebied", "project", "depositie",
                                           "som_depositie", "aandeel"])


def _book_problem(path, d: dict) -> InputError:
    """A row of the batch's ``fouten`` table (a dict with Dutch keys) as the error it reports
    (the woondeal outputs take errors; a dict crashed them)."""
    return InputError(d.get("melding") or None, file=str(path), case=d.get("zaak"), sheet=d.get("blad"),
                      row=d.get("rij"), field=d.get("kolom") or d.get("sleutel") or d.get("veld"),
                      value=d.get("waarde"), expected=d.get("verwacht"))


def read_projects(paths, *, regime=None) -> tuple[list, list]:
    """(name, Project) of every valid project in TOML files or batch workbooks, and every problem."""
    out, problems = [], []
    for path in paths:
        s = str(path).lower()
        if s.endswith(".toml"):
            try:
                p = read_project(path)
                out.append((p.name, p))
            except StikstofError as exc:
                problems.append(exc)
        elif s.endswith((".xlsx", ".xlsm", ".csv")):
            v = validate_book(read_book(path), regime=regime)
            problems += [_book_problem(path, d) for d in v.problems]
            out += [(c.case_id, c.project) for c in v.cases]
        else:
            problems.append(InputError(file=str(path), value=str(path),
                                       expected="project-bestanden (.toml) of een batchwerkmap (.xlsx/.csv)"))
    names = [n for n, _ in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        problems.append(InputError("dubbele projectnaam", field="name", value=", ".join(dup),
                                   expected="elke projectnaam een keer (de uitvoer noemt projecten bij naam)"))
        out = [(n, p) for n, p in out if n not in dup]
    return out, problems


def woondeal_sum(projects, *, regime=None, progress=None) -> WoondealResult:
    """Summed deposition of ``projects`` (list of (name, Project)) per hexagon and calendar year."""
    t0 = time.perf_counter()
    reg = get_regime(regime)
    thr = reg.threshold_mol_ha_yr
    prepared, rec_sets = [], []
    for name, p in projects:
        project, kg, plan, keys, templates = project_templates(p, None)
        scen, W = scenario_weights(plan, keys, templates)
        rec = default_receptor_arrays(*templates.source_points())
        prepared.append((name, project, kg, scen, W, templates))
        rec_sets.append(rec)
    ids = np.unique(np.concatenate([r["receptor_id"] for r in rec_sets])) if rec_sets else np.zeros(0, np.int64)
    n2k = load_natura2000()

    hx, hy = receptor_id_to_xy(ids) if ids.size else (np.zeros(0), np.zeros(0))
    num = n2k.area_of(ids).astype(np.int64) if ids.size else np.zeros(0, np.int64)
    per_project, rows = [], []
    years_all: set = set()
    for (name, project, kg, scen, W, templates), rec in zip(prepared, rec_sets):
        at = np.searchsorted(ids, rec["receptor_id"])
        U = unit_deposition(templates, rec["x"], rec["y"])
        dep = W @ U if U.size else np.zeros((len(scen), 0))
        by_year: dict = {}
        best = {"realisatie": (0.0, None, None), "gebruik": (0.0, None, None)}
        for k, (phase, year) in enumerate(scen):
            full = by_year.setdefault(int(year), np.zeros(ids.size))
            np.add.at(full, at, dep[k])
            if dep.shape[1]:
                j = int(np.argmax(dep[k]))
                if dep[k, j] > best[phase][0]:
                    best[phase] = (float(dep[k, j]), int(year), int(rec["receptor_id"][j]))
        years_all |= set(by_year)
        per_project.append(by_year)
        rows.append({"project": name, "x": project.location.x, "y": project.location.y,
                     "hoogste_realisatie": best["realisatie"][0], "jaar_realisatie": best["realisatie"][1],
                     "hoogste_gebruik": best["gebruik"][0], "jaar_gebruik": best["gebruik"][1],
                     "eigen_oordeel": "vergunningplichtig" if permit_needed(
                         max(best["realisatie"][0], best["gebruik"][0]), threshold=thr) else "0,00 (geen vergunning nodig)",
                     "kengetallen": kg.edition})
        if progress:
            progress(1)
    years = np.array(sorted(years_all), np.int64)
    total = np.zeros((years.size, ids.size))
    single = np.zeros((years.size, ids.size))
    count = np.zeros((years.size, ids.size), np.int64)
    for by_year in per_project:
        for yr, d in by_year.items():
            i = int(np.searchsorted(years, yr))
            total[i] += d
            np.maximum(single[i], d, out=single[i])
            count[i] += d > 0
    nums = np.unique(num[num > 0])
    area = dict(zip(nums.tolist(), n2k.area_names(nums))) if nums.size else {}
    res = WoondealResult([r["project"] for r in rows], years, ids, hx, hy, num, per_project, total, single,
                         thr, reg.name, pd.DataFrame(rows), area, 0.0, count=count)
    cum = res.cumulative
    share_cum, share_max, n_cum = [], [], []
    for by_year in per_project:
        own = np.zeros_like(total)
        for yr, d in by_year.items():
            own[int(np.searchsorted(years, yr))] = d
        with np.errstate(invalid="ignore", divide="ignore"):
            s = own[cum] / total[cum]
        share_cum.append(float(own[cum].sum() / total[cum].sum()) if cum.any() else 0.0)
        share_max.append(float(s.max()) if s.size else 0.0)
        n_cum.append(int((own[cum] > 0).sum()))
    res.summary["aandeel_in_cumulatieve_som"] = share_cum
    res.summary["grootste_aandeel_op_een_hexagon"] = share_max
    res.summary["cumulatieve_hexagonjaren_met_bijdrage"] = n_cum
    res.seconds = time.perf_counter() - t0
    res.provenance = _provenance(res, prepared)
    return res


def _provenance(res, prepared) -> dict:
    return {"package": "stikstofcalc", "version": __version__, "regime": res.regime,
            "threshold_mol_ha_yr": res.threshold, "model": load_model().provenance,
            "engine_path": compiled.path_name(), "natura2000": ATTRIBUTION, "projects": len(prepared),
            "kengetallen": sorted({kg.edition for _, _, kg, *_ in prepared}),
            "receptors": "standaard: alle hexagons in stikstofgevoelige Natura 2000-gebieden binnen 25 km van de "
                         "bronnen van elk project (alle hexagons berekend)",
            "method": "per project de depositie per fase en kalenderjaar op elke hexagon (W @ U), per jaar "
                      "opgeteld over de projecten; cumulatief: som >= drempel terwijl elk project daar "
                      "afzonderlijk < drempel blijft"}
