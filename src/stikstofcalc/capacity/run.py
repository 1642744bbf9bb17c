"""Run the capacity search over many sites: in this process, or on a Dask cluster.

Sites are grouped per plan type and cut into spatial chunks (tiles of
:data:`TILE_M`, then :data:`CHUNK_SITES` sites), so a chunk's receptor set stays small;
each chunk is one :func:`.core.capacity_chunk` call. Locally the chunks run one after
the other (the engine uses every core); with Dask every chunk is a task (a local cluster
by default, or the scheduler at ``scheduler``) and the results are put back in site order,
so both give the same table (tested).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stikstofcalc.errors import nl_int
from stikstofcalc.caches import register
from stikstofcalc.capacity.core import ChunkResult, capacity_chunk
from stikstofcalc.capacity.plan import PHASES, PlanType, PlanWeights, load_plan_type
from stikstofcalc.rules import get_regime
from stikstofcalc.geo.natura2000 import ATTRIBUTION_NL as ATTRIBUTION, load_natura2000
from stikstofcalc import compiled
from stikstofcalc.deposition.model import load_model
from stikstofcalc._version import __version__

#: Sites per chunk (one engine call each) [-].
CHUNK_SITES = 256
#: Tile size for grouping sites into chunks [m].
TILE_M = 4_000.0

_WEIGHTS: dict = register("stikstofcalc.capacity.run._WEIGHTS", {})


def _weights_for(plan: PlanType) -> PlanWeights:
    """The memoised emission of ``plan`` in this process (a worker keeps it between tasks)."""
    key = (plan.file, json.dumps(plan.raw, sort_keys=True, default=str), plan.component)
    pw = _WEIGHTS.get(key)
    if pw is None:
        if len(_WEIGHTS) > 16:
            _WEIGHTS.clear()
        pw = _WEIGHTS[key] = PlanWeights(plan)
    return pw


def _task(plan: PlanType, xs, ys, threshold: float) -> ChunkResult:
    """One chunk (module level: Dask pickles it by reference)."""
    return capacity_chunk(_weights_for(plan), xs, ys, threshold=threshold)


class Progress:
    """Progress on stderr, in Dutch, at most every ``every`` seconds (and at the end)."""

    def __init__(self, total: int, label: str = "capaciteit", *, stream=None, every: float = 2.0,
                 enabled: bool = True, unit: str = "locaties"):
        self.total, self.label, self.every, self.enabled, self.unit = total, label, every, enabled, unit
        self.stream = stream if stream is not None else sys.stderr
        self.done, self.t0, self.last = 0, time.perf_counter(), 0.0

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if not self.enabled or (now - self.last < self.every and self.done < self.total):
            return
        self.last = now
        el = now - self.t0
        pct = 100.0 * self.done / max(self.total, 1)
        rest = el / self.done * (self.total - self.done) if self.done else float("nan")
        tail = f", nog ongeveer {_duration(rest)}" if self.done < self.total and self.done else ""
        print(f"{self.label}: {nl_int(self.done)} van {nl_int(self.total)} {self.unit} "
              f"({pct:.0f} %), {_duration(el)}{tail}", file=self.stream, flush=True)


def _duration(s: float) -> str:
    if not np.isfinite(s):
        return "?"
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min".replace(".", ",")


@dataclass
class CapacityResult:
    """Capacity of every site (:meth:`to_frame`), with the plan types and provenance."""

    sites: object
    plans: dict
    threshold: float
    regime: str
    chunks: ChunkResult
    order: np.ndarray
    area_names: dict
    seconds: float
    provenance: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per site, in input order (Dutch column names; units in ``COLUMN_UNITS``)."""
        c, s = self.chunks, self.sites
        inv = np.empty_like(self.order)
        inv[self.order] = np.arange(self.order.size)
        take = lambda a: np.asarray(a)[inv]  # noqa: E731
        cap, at_max, none = take(c.capacity), take(c.at_maximum), take(c.capacity) < 0
        unit = np.array([self.plans[p].unit for p in s.plan], dtype=object)
        step = np.array([self.plans[p].step for p in s.plan], np.int64)
        mx = np.array([self.plans[p].maximum for p in s.plan], np.int64)
        text = np.array([("onbeperkt: geen Natura 2000-hexagon binnen 25 km" if n else
                          f">= {nl_int(m)}" if a else nl_int(v))
                         for v, a, n, m in zip(cap, at_max, none, mx)], dtype=object)
        b = take(c.binding)
        dn = take(c.dep_next)
        dc = take(c.dep_cap)
        nxt = cap + step
        per = np.where(b >= 0, np.take_along_axis(dn, np.maximum(b, 0)[:, None], 1)[:, 0] / np.maximum(nxt, 1),
                       np.nan)
        num = take(c.n2k_number)
        return pd.DataFrame({
            "locatie": s.site_id, "plantype": s.plan, "x": s.x, "y": s.y,
            "capaciteit": np.where(none, np.nan, cap.astype(float)), "eenheid": unit,
            "capaciteit_tekst": text, "tot_maximum": at_max,
            "bindende_fase": [PHASES[i] if i >= 0 else "" for i in b],
            "jaar": np.where(take(c.year) > 0, take(c.year), np.nan),
            "gebied": [self.area_names.get(int(n), "") for n in num], "n2k_nummer": np.where(num > 0, num, np.nan),
            "receptor_id": np.where(num > 0, take(c.receptor_id), np.nan),
            "hexagon_x": take(c.hex_x), "hexagon_y": take(c.hex_y),
            "depositie_realisatie": dc[:, 0], "depositie_gebruik": dc[:, 1],
            "depositie_realisatie_een_meer": dn[:, 0], "depositie_gebruik_een_meer": dn[:, 1],
            "depositie_per_eenheid": per,
            "hexagons_binnen_25km": take(c.n_hexagons), "hexagons_berekend": take(c.pairs),
            "omvangen_berekend": take(c.probes),
        })


#: Units and meaning of the result columns (the workbook's toelichting).
COLUMN_UNITS = {
    "locatie": ("", "id van de locatie (invoer, of rij/kolom van het raster)"),
    "plantype": ("", "plantype (grondgebonden, gestapeld, utiliteit of een eigen planbestand)"),
    "x": ("m, RD New", "locatie (EPSG:28992)"), "y": ("m, RD New", "locatie (EPSG:28992)"),
    "capaciteit": ("woningen of m2", "grootste omvang waarbij realisatie- en gebruiksfase in elk jaar "
                   "0,00 geven (< 0,005 mol N/ha/jr op elke stikstofgevoelige hexagon)"),
    "eenheid": ("", "woningen of m2 bvo"),
    "capaciteit_tekst": ("", "zoals getoond: >= maximum als het zoeken bij het maximum stopte"),
    "tot_maximum": ("", "waar: ook het maximum van het plantype geeft nog 0,00"),
    "bindende_fase": ("", "de fase die bij een eenheid (stap) meer de drempel haalt"),
    "jaar": ("", "kalenderjaar waarin die fase de drempel haalt"),
    "gebied": ("", "Natura 2000-gebied van die hexagon"), "n2k_nummer": ("", "gebiedsnummer"),
    "receptor_id": ("", "AERIUS-hexagon waar de drempel als eerste gehaald wordt"),
    "hexagon_x": ("m, RD New", "middelpunt van die hexagon"), "hexagon_y": ("m, RD New", ""),
    "depositie_realisatie": ("mol N/ha/jr", "hoogste depositie realisatiefase bij de capaciteit"),
    "depositie_gebruik": ("mol N/ha/jr", "hoogste depositie gebruiksfase bij de capaciteit"),
    "depositie_realisatie_een_meer": ("mol N/ha/jr", "idem bij capaciteit + 1 (stap)"),
    "depositie_gebruik_een_meer": ("mol N/ha/jr", "idem bij capaciteit + 1 (stap)"),
    "depositie_per_eenheid": ("mol N/ha/jr per woning of m2", "hoogste depositie van de bindende fase bij "
                              "capaciteit + 1, gedeeld door die omvang"),
    "hexagons_binnen_25km": ("", "stikstofgevoelige hexagons binnen 25 km"),
    "hexagons_berekend": ("", "daarvan exact berekend (de rest kan aantoonbaar geen maximum zijn)"),
    "omvangen_berekend": ("", "aantal planomvangen dat exact is doorgerekend"),
}


def compute_capacity(sites, *, plans=None, regime=None, chunk_size: int = CHUNK_SITES,
                     progress=None, client=None, scheduler: str | None = None,
                     workers: int | None = None, dask: bool = False) -> CapacityResult:
    """Capacity of every site for its plan type.

    Parameters
    ----------
    sites : Sites
        From :func:`.sites.read_sites` or :func:`.sites.grid_sites`.
    plans : dict of name -> PlanType, keyword-only
        Plan types by the names the sites use (default: the shipped ones they name).
    regime : str, keyword-only
        Threshold regime (``rules``; default post-Porthos 0.005 mol N/ha/yr).
    chunk_size : int, keyword-only
    progress : callable(n_done), keyword-only
        Called after each chunk with its number of sites (e.g. :class:`Progress`).
    client : dask.distributed.Client, keyword-only
        Run the chunks on this client.
    scheduler : str, keyword-only
        Address of a Dask scheduler (``tcp://host:8786``) to connect to.
    dask, workers : keyword-only
        ``dask=True`` without ``client``/``scheduler``: a local Dask cluster of ``workers``
        processes (default 2, one thread each).
    """
    t0 = time.perf_counter()
    reg = get_regime(regime)
    thr = reg.threshold_mol_ha_yr
    names = sorted(set(sites.plan.tolist()))
    plans = dict(plans or {})
    for n in names:
        if n not in plans:
            plans[n] = load_plan_type(n)
    # chunks: per plan type, sites sorted by tile, then cut
    tile = (np.floor(sites.y / TILE_M) * 1e6 + np.floor(sites.x / TILE_M)) if len(sites) else np.zeros(0)
    tasks, order = [], []
    for n in names:
        idx = np.flatnonzero(sites.plan == n)
        idx = idx[np.lexsort((sites.x[idx], sites.y[idx], tile[idx]))]
        for a in range(0, idx.size, chunk_size):
            part = idx[a:a + chunk_size]
            tasks.append((plans[n], sites.x[part], sites.y[part], thr))
            order.append(part)
    results = _run(tasks, progress=progress, client=client, scheduler=scheduler, workers=workers, dask=dask)
    order = np.concatenate(order) if order else np.zeros(0, np.int64)
    chunks = ChunkResult.concat(results) if results else capacity_chunk(
        _weights_for(load_plan_type("grondgebonden")), [], [], threshold=thr)

    nums = np.unique(chunks.n2k_number[chunks.n2k_number > 0])
    area = dict(zip(nums.tolist(), load_natura2000().area_names(nums))) if nums.size else {}
    res = CapacityResult(sites, plans, thr, reg.name, chunks, order, area, time.perf_counter() - t0,
                         notes=list(sites.notes))
    res.provenance = _provenance(res, plans)
    return res


def _run(tasks, *, progress, client, scheduler, workers, dask):
    if client is None and scheduler is None and not dask:
        out = []
        for t in tasks:
            out.append(_task(*t))
            if progress:
                progress(len(t[1]))
        return out
    from stikstofcalc.capacity.distributed import map_tasks

    return map_tasks(_task, tasks, client=client, scheduler=scheduler, workers=workers,
                     progress=progress)


def _provenance(res, plans) -> dict:
    out = {"package": "stikstofcalc", "version": __version__,
           "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "regime": res.regime, "threshold_mol_ha_yr": res.threshold,
           "model": load_model().provenance, "engine_path": compiled.path_name(),
           "natura2000": ATTRIBUTION, "receptors": "standaard: alle hexagons in stikstofgevoelige Natura 2000-gebieden binnen 25 km "
                        "(screening; kan alleen overschatten); Waddenzee en Noordzeekustzone ontbreken",
           "sites": res.sites.source, "plans": {}}
    for name, p in plans.items():
        pw = _weights_for(p)
        out["plans"][name] = {"label": p.label, "file": p.file, "unit": p.unit, "reference": p.reference,
                              "maximum": p.maximum, "step": p.step, "kengetallen": pw.kengetallen.provenance(),
                              "sources": [{"geometry": lab, "height_m": float(pw.templates.height_m[i]),
                                           "heat_mw": float(pw.templates.heat_mw[i]),
                                           "spread_m": float(pw.templates.spread_m[i])}
                                          for i, lab in enumerate(pw.templates.labels)]}
    out["method"] = ("plan per locatie verschoven; emissie per omvang exact uit de kengetallen; depositie per "
                     "bron lineair in de emissie; per locatie alleen hexagons die aantoonbaar een maximum "
                     "kunnen zijn; capaciteit n: plan van n geeft overal < drempel, plan van n + 1 (stap) niet")
    return out
