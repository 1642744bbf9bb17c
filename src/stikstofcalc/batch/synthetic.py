"""Synthetic, realistic case batches: for benchmarks, tests and trying the batch out.

:func:`make_cases` draws ``n`` seeded cases - 70 % small housing (5-60 homes), 20 % larger
housing in two components (60-400 homes), 10 % non-residential 1,000-30,000 m² with
demolition - at locations uniform over Dutch land (:func:`~stikstofcalc.emissions.sources.in_netherlands`),
start 2026-2029, 6-30 months, one access route of 0.3-3 km; :func:`write_workbook` writes
them in the template's layout. The cases are plausible, not real projects.
"""

from __future__ import annotations

import numpy as np

from stikstofcalc.emissions.sources import in_netherlands
from stikstofcalc.io.excel.schema import ONDERDELEN, PROJECTEN


def make_cases(n: int, seed: int = 20261128):
    """Rows for the ``projecten`` sheet (canonical keys) and ``onderdelen`` sheet."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    while len(xs) < n:
        x = rng.uniform(13_000, 278_000, 4 * n)
        y = rng.uniform(306_000, 612_000, 4 * n)
        ok = in_netherlands(x, y, tolerance_m=0.0)
        xs += list(x[ok])
        ys += list(y[ok])
    homes = ["tussen_hoek", "twee_onder_een_kap", "vrijstaand", "appartement_midden_duur",
             "sociale_huur_appartement"]
    roads = ["stad_normaal", "stad_doorstromend", "buitenweg", "buitenweg", "stad_normaal"]
    cases, extra = [], []
    for i in range(n):
        kind = rng.choice(3, p=[0.7, 0.2, 0.1])
        cid = f"zaak-{i + 1:05d}"
        row = {"case_id": cid, "location.x": round(xs[i]), "location.y": round(ys[i]),
               "construction.start": f"{rng.integers(2026, 2030)}-{rng.integers(1, 13):02d}",
               "construction.duration": f"{rng.integers(6, 31)} maanden",
               "construction.fleet": "stage_v" if rng.random() < 0.2 else "huidig",
               "route.road_type": str(rng.choice(roads)),
               "route.length": f"{rng.uniform(0.3, 3.0):.1f}".replace(".", ",") + " km",
               "route.bearing": int(rng.integers(0, 360))}
        if kind == 0:
            row.update({"component.type": "grondgebonden_woningen",
                        "component.count": int(rng.integers(5, 61)),
                        "component.home_type": str(rng.choice(homes[:3]))})
        elif kind == 1:
            row.update({"component.type": "grondgebonden_woningen",
                        "component.count": int(rng.integers(30, 200)),
                        "component.home_type": str(rng.choice(homes[:3]))})
            extra.append({"case_id": cid, "type": "gestapelde_woningen",
                          "count": int(rng.integers(30, 200)), "home_type": str(rng.choice(homes[3:]))})
        else:
            row.update({"component.type": "sloop", "component.floor_area": int(rng.integers(200, 3000))})
            extra.append({"case_id": cid, "type": "utiliteitsbouw",
                          "floor_area": f"{int(rng.integers(1000, 30000))} m2",
                          "function": str(rng.choice(["kantoor", "supermarkt", "bedrijfshal_logistiek"]))})
        cases.append(row)
    return cases, extra


def write_workbook(path, cases, extra):
    """A case workbook in the template's layout (write-only: fast for many rows)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for sheet, rows in ((PROJECTEN, cases), (ONDERDELEN, extra)):
        ws = wb.create_sheet(sheet.name)
        ws.append([c.label for c in sheet.columns])
        ws.append(sheet.keys)
        for r in rows:
            ws.append([r.get(k) for k in sheet.keys])
    wb.save(path)
