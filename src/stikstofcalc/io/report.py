"""Readable report (Dutch terms) and machine-readable files of an assessment.

:func:`format_report` turns an :class:`~stikstofcalc.assessment.core.Assessment` into the
text the ``calc`` command prints; :func:`write_result` writes JSON or CSV atomically,
the CSV with a provenance file ``RESULT.csv.provenance.json`` beside it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from stikstofcalc.io.atomic import AtomicGroup, write_csv_atomic, write_text_atomic
from stikstofcalc import rules
from stikstofcalc.errors import InputError, dutch_notation, nl_display
from stikstofcalc.io.gpkg import write_gpkg


def nl(value, digits: int = 2) -> str:
    """A number with a Dutch decimal comma and dot thousands (``12.345,67``); '-' for None."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return dutch_notation(f"{value:,.{digits}f}")


def _sig(value, sig: int = 3) -> str:
    """A number with ``sig`` significant digits, Dutch decimal comma."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if value == 0:
        return "0"
    digits = max(0, sig - 1 - int(math.floor(math.log10(abs(value)))))
    return nl(value, digits)


def _sig_as_rounded(value, sig: int = 4) -> str:
    """:func:`_sig` with as many more digits as it takes for the shown number to round (as
    AERIUS rounds, :func:`stikstofcalc.rules.aerius_round`) to the same value as the true
    one: 0.0049996 shows as 0,0049996 beside "afgerond 0,00", not as 0,005000."""
    if value is None or not math.isfinite(value) or value == 0:
        return _sig(value, sig)
    target = float(rules.aerius_round(value))
    for k in range(sig, 16):
        text = _sig(value, k)
        if float(rules.aerius_round(float(text.replace(".", "").replace(",", ".")))) == target:
            return text
    return _sig(value, 16)


def _factor(f: float) -> str:
    """A margin factor with three significant digits, more where that would show 1 for a
    factor that is not 1 (1.0015 as 1,0015: "x 1,00 groeien" read as no room at all)."""
    for sig in range(3, 8):
        text = _sig(f, sig)
        if f == 1 or float(text.replace(".", "").replace(",", ".")) != 1:
            return text
    return text


def _distance(m) -> str:
    return f"{nl(m / 1000, 1)} km" if m >= 1000 else f"{nl(m, 0)} m"


def _result_lines(r) -> list[str]:
    head = r["headroom"]
    lines = [f"{r['phase_label'].capitalize()} {r['year']}  (NOx {_sig(r['nox_kg_per_yr'])} kg/jr, "
             f"NH3 {_sig(r['nh3_kg_per_yr'])} kg/jr)"]
    if r["receptor_id"] is None and r["verdict"].startswith(rules.NO_RELEVANT_VERDICT):
        lines.append("  Geen relevante hexagon: geen van de rekenpunten is (bijna) overbelast, dus geen "
                     "depositie telt mee voor het oordeel.")
        lines += [f"  ({n})" for n in r["notes"] if n.startswith("hoogste depositie op een niet-relevante")]
    elif r["receptor_id"] is None and r["nox_kg_per_yr"] == 0 and r["nh3_kg_per_yr"] == 0:
        lines.append("  Geen emissie in deze fase en dit jaar: geen depositie.")
    elif r["receptor_id"] is None:
        lines.append("  Geen Natura 2000-hexagon binnen 25 km: geen depositie.")
    else:
        lines.append(f"  Hoogste depositie: {_sig_as_rounded(r['max_deposition'], 4)} mol N/ha/jr, afgerond "
                     f"{nl_display(r['max_display'])}")
        area = (f"{r['area_name']} (gebied {r['n2k_number']}), " if r.get("area_name") or r.get("n2k_number")
                else "")  # a receptor of the user's own, outside the shipped Natura 2000 areas
        lines.append(f"  Waar: {area}receptor {r['receptor_id']} (x {nl(r['x'], 0)}, y {nl(r['y'], 0)})")
        lines.append(f"  Hexagons op of boven de drempel ({nl(r['threshold'], 3)}): "
                     f"{nl(r['n_hexagons_above'], 0)} ({nl(r['hectares_above'], 0)} ha)")
    lines.append(f"  Oordeel: {r['verdict'].upper() if r['permit_needed'] else r['verdict']}")
    goal, above = _goal(r["threshold"])
    f = r["margin_factor"]
    if f is not None and math.isfinite(f):
        shown = _factor(f)
        how = (f"emissie mag x {shown} groeien" if f >= 1 else
               f"emissie moet naar {_sig(100 * f)} % voor {goal}")
        lines.append(f"  Marge: factor {shown} tot de drempel ({how})")
    if r["dominant_sources"]:
        lines.append("  Dominante bronnen (op de hoogste hexagon): " + "; ".join(
            f"{d['source']} {nl(100 * d['share'], 0)} %" for d in r["dominant_sources"]))
    if head.get("nox_kg_per_yr") is not None:
        lines.append(f"  Ruimte tot {'0,00' if goal == '0,00' else 'de drempel'} (alle bronnen samen): hoogstens {_sig(head['nox_kg_per_yr'])} "
                     f"kg NOx/jr en {_sig(head['nh3_kg_per_yr'])} kg NH3/jr")
    if head.get("source"):
        alone = head.get("allowed_source_only")
        alone_text = (f"0: de overige bronnen geven samen al {above}" if alone == 0 else
                      f"{_sig(alone)} (overige bronnen gelijk)" if alone is not None else "onbeperkt")
        lines.append(f"  In eenheden van {head['source']}: nu {_sig(head['current'])} {head['unit']}; "
                     f"voor {goal} hoogstens {_sig(head['allowed_all_scaled'])} (alles naar rato) of "
                     f"{alone_text}")
    lines.append(f"  Effectafstand: {_distance(r['effect_distance_m'])} (verder dan dit van alle bronnen "
                 f"geeft het project {goal} in elke windrichting; bovengrens)")
    if r.get("netted_max") is not None:
        lines.append(f"  Gesaldeerd met de referentiesituatie: {_sig(r['netted_max'], 4)} mol N/ha/jr "
                     "(alleen informatief onder post-Porthos)")
    return lines


def _check_lines(r) -> list[str]:
    """Grensgeval en gevoeligheid voor de warmte-inhoud van mobiele werktuigen (issue 12)."""
    lines = []
    band = r.get("borderline_band")
    if r.get("borderline") and band and band[0] <= r["max_deposition"] < band[1]:
        lines.append(f"  GRENSGEVAL: de hoogste depositie ligt binnen de gemeten modelonzekerheid van de "
                     f"drempel ({_sig(band[0], 3)} - {_sig(band[1], 3)} mol N/ha/jr): reken dit project "
                     "door in AERIUS Calculator")
    s = r.get("sensitivity")
    if s and s.get("applies"):
        lines.append(f"  Warmte-inhoud mobiele werktuigen: {s['machinery_heat']}; met {s['alternative']}: "
                     f"hoogste depositie {_sig(s['max_deposition'], 4)} mol N/ha/jr ({nl_display(s['max_display'])})"
                     + (", ANDER OORDEEL: " + ("vergunningplichtig" if s["permit_needed"] else
                                               "geen vergunning nodig") if s["verdict_differs"] else
                        ", zelfde oordeel"))
    u = r.get("unassessed")
    if u:
        where = ("een bron ligt erin" if u["distance_m"] == 0 else
                 f"{nl(u['distance_m'] / 1000, 1)} km van de bronnen")
        lines.append(f"  Niet beoordeeld: {u['areas']} staan niet in de gegevens; op hun benaderde omtrek "
                     f"(schatting; {where}) hoogstens {_sig(u['max_deposition'], 4)} mol N/ha/jr; marge en "
                     "ruimte hierboven gelden alleen voor de beoordeelde gebieden")
    return lines


def _goal(threshold) -> tuple[str, str]:
    """What staying below the threshold is called: "0,00" under the 0.005 threshold, "minder
    dan 1 mol N/ha/jr" under another regime's (a 1 mol floor is not 0,00); and its opposite."""
    if threshold is None or abs(float(threshold) - rules.THRESHOLD_MOL_HA_YR) < 1e-12:
        return "0,00", "meer dan 0,00"
    t = nl(float(threshold), 3).rstrip("0").rstrip(",")
    return f"minder dan {t} mol N/ha/jr", f"{t} mol N/ha/jr of meer"


def _characteristics_lines(prov) -> list[str]:
    """Bronkenmerken per sector en de keuze voor de warmte-inhoud van werktuigen (herkomst)."""
    rows = (prov or {}).get("source_characteristics")
    if not rows:
        return []
    heat = prov.get("machinery_heat", {})
    used = prov.get("source_characteristics_used")
    head = (f"warmte-inhoud mobiele werktuigen: {heat.get('choice')} (andere keuze: --werktuig-warmte "
            f"{heat.get('alternative')})")
    if used:  # a source list: what each group of sources was computed with, and from where
        lines = ["", f"Bronkenmerken zoals gerekend (hoogte, warmte-inhoud, spreiding; herkomst tussen "
                     f"haakjes) per groep bronnen; {head}:"]
        for r in used:
            o = r["origin"]
            sector = r["sector_id"] if r["sector_id"] is not None else "zonder sector"
            lines.append(f"  {sector}, {nl(r['sources'], 0)} bron(nen), NOx {_sig(r['nox_kg_per_yr'])} kg/jr, "
                         f"NH3 {_sig(r['nh3_kg_per_yr'])} kg/jr: {nl(r['height_m'], 1)} m ({o['height_m']}), "
                         f"{nl(r['heat_mw'], 3)} MW ({o['heat_mw']}), {nl(r['spread_m'], 1)} m ({o['spread_m']})")
        rows = []
    else:
        lines = ["", f"Bronkenmerken (hoogte, warmte-inhoud, spreiding) per sector; {head}:"]
    for r in rows:
        alt = r.get("heat_mw_alternative")
        sector = r["sector_id"] if r["sector_id"] is not None else "overig"
        lines.append(f"  {sector}: {nl(r['height_m'], 1)} m, {nl(r['heat_mw'], 3)} MW"
                     + (f" (andere keuze {nl(alt, 3)} MW)" if alt is not None else "")
                     + f", {nl(r['spread_m'], 1)} m - {r['why']}")
    band = prov.get("borderline")
    if band:
        lo, hi = band["band_mol_ha_yr"]
        lines.append(f"  Grensgeval-band: {_sig(lo, 3)} - {_sig(hi, 3)} mol N/ha/jr (factor "
                     f"{nl(band['factor'], 2)} rond de drempel; {band['row']} [{band['status']}])")
    return lines


def _measure_lines(assessment) -> list[str]:
    if not assessment.measures:
        return []
    worst = {}
    for m in assessment.measures:
        key = (m["measure"], m["phase"])
        if key not in worst or m["max_deposition"] > worst[key]["max_deposition"]:
            worst[key] = m
    goal = _goal(assessment.regime.threshold_mol_ha_yr)[0]
    lines = ["", f"Standaardmaatregelen (hoogste depositie per fase, zwaarste jaar; '*' = haalt {goal}; "
                 "'?' = grensgeval, reken door in AERIUS Calculator):",
             f"  {'maatregel':<46}{'realisatiefase':>16}{'gebruiksfase':>16}"]
    for name in dict.fromkeys(m["measure"] for m in assessment.measures):
        cells = []
        for phase in ("realisatie", "gebruik"):
            m = worst.get((name, phase))
            mark = ("" if m is None else " ?" if m.get("borderline") else "" if m["permit_needed"] else " *")
            cells.append("-" if m is None else f"{nl_display(m['max_display'])}{mark}")
        desc = worst.get((name, "realisatie"), worst.get((name, "gebruik")))["description"]
        lines.append(f"  {desc:<46}{cells[0]:>16}{cells[1]:>16}")
    return lines


def format_report(assessment) -> str:
    """The readable report of one assessment (Dutch terms, decimal comma)."""
    a = assessment
    prov = a.provenance
    rec = a.receptors
    lines = [f'stikstofcalc {prov["version"]}: voortoets stikstofdepositie "{a.case}"',
             f"Regime: {a.regime.note.removeprefix('regime ')}",
             f"Kengetallen: editie {prov['kengetallen']['edition']}; rekenkern: OPS-LT-emulator "
             f"({prov['model'].split(';')[0]})",
             f"Receptoren: {'standaard (Natura 2000-hexagons binnen 25 km)' if rec['source'] == 'default' else rec['source']}"
             f": {nl(rec['count'], 0)} hexagons, {nl(rec['relevant'], 0)} tellen mee, "
             f"{nl(rec['evaluated'], 0)} doorgerekend"
             + (" (de rest valt af op afstandsgrenzen)" if rec["evaluated"] < rec["relevant"] else "")
             if rec.get("pruned") else f": {nl(rec['count'], 0)} hexagons, alle doorgerekend", ""]
    for r in a.results:
        lines += _result_lines(r) + _check_lines(r) + [""]
    if a.reference:
        ref = a.reference
        lines.append(f"Referentiesituatie ({ref['year']}): NOx {_sig(ref['nox_kg_per_yr'])} kg/jr, "
                     f"NH3 {_sig(ref['nh3_kg_per_yr'])} kg/jr, hoogste depositie "
                     f"{_sig(ref['max_deposition'], 4)} mol N/ha/jr ({ref['area_name']}); {ref['note']}")
    lines += _measure_lines(a)
    lines += _characteristics_lines(prov)
    lines += ["", "Opmerkingen:"]
    for note in a.notes + rec["notes"]:
        lines.append(f"  - {note}")
    if prov["uses_estimate"]:
        lines.append("  - De emissies steunen op GESCHATTE kengetallen "
                     f"({len(prov['estimates_used'])} rijen, zie herkomst): een voortoets, "
                     "geen vergunningberekening.")
    lines.append("  - Een voortoets is geen AERIUS-berekening; de uitkomst kan afwijken van AERIUS "
                 "Calculator.")
    return "\n".join(lines)


def _clean(obj):
    """JSON-safe: numpy scalars to Python, non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def to_json(assessment) -> str:
    """The assessment as JSON text (schema ``stikstofcalc.calc/1``)."""
    return json.dumps(_clean(assessment.to_dict()), indent=2, ensure_ascii=False)


def write_result(assessment, path, *, dialect: str = "standaard") -> list[Path]:
    """Write the result as ``.json`` or ``.csv`` (atomically); returns the files written.

    A CSV gets its provenance in ``PATH.provenance.json`` beside it; the two are written
    as one unit (:class:`~stikstofcalc.io.atomic.AtomicGroup`). ``dialect="excel-nl"``
    writes the CSV with ``;`` and a decimal comma (Excel with Dutch settings).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return [write_text_atomic(to_json(assessment) + "\n", path)]
    if suffix == ".csv":
        frame = assessment.to_frame()
        side = path.with_name(path.name + ".provenance.json")
        info = {"case": assessment.case, "notes": assessment.notes,
                "receptors": assessment.receptors, "provenance": assessment.provenance}
        with AtomicGroup() as group:
            group.write_csv(path, frame, dialect="excel-nl" if dialect == "excel-nl" else "standard")
            group.write_text(side, json.dumps(_clean(info), indent=2, ensure_ascii=False) + "\n")
        return [path, side]
    raise InputError("onbekend uitvoertype", field="--output", value=str(path),
                     expected="een bestandsnaam op .json of .csv")


# --------------------------------------------------------------------------- issue 12: meer uitvoer


def check_hexagon_path(path) -> None:
    """Refuse a per-hexagon output name that is not ``.csv`` or ``.gpkg`` (before computing)."""
    if Path(path).suffix.lower() not in (".csv", ".gpkg"):
        raise InputError(field="--per-hexagon", value=str(path),
                         expected="een bestandsnaam op .csv of .gpkg")


def write_hexagons(assessments, path, *, dialect: str = "standaard") -> Path:
    """Deposition per hexagon per phase and year of one or more assessments (``per_hexagon=True``)
    as CSV or GeoPackage (hexagon polygons, EPSG:28992), written atomically; ``dialect``
    as for :func:`write_result` (the CSV only)."""
    import pandas as pd

    check_hexagon_path(path)
    frames = [a.hexagons.assign(case=a.case) for a in assessments if a.hexagons is not None]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if "case" in frame:
        frame = frame[["case"] + [c for c in frame.columns if c != "case"]]
    path = Path(path)
    if path.suffix.lower() == ".gpkg":
        return write_gpkg(frame, path)
    return write_csv_atomic(frame, path, dialect="excel-nl" if dialect == "excel-nl" else "standard")


def write_results(assessments, path, *, dialect: str = "standaard") -> list[Path]:
    """Several assessments (the cases of a source list): one JSON with all cases, or one CSV
    with all rows (provenance beside it, one atomic unit); one assessment is :func:`write_result`."""
    import pandas as pd

    if len(assessments) == 1:
        return write_result(assessments[0], path, dialect=dialect)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        doc = {"schema": "stikstofcalc.calc-cases/1", "cases": [a.to_dict() for a in assessments]}
        return [write_text_atomic(json.dumps(_clean(doc), indent=2, ensure_ascii=False) + "\n", path)]
    if suffix == ".csv":
        frame = pd.concat([a.to_frame() for a in assessments], ignore_index=True)
        side = path.with_name(path.name + ".provenance.json")
        info = [{"case": a.case, "notes": a.notes, "receptors": a.receptors, "provenance": a.provenance}
                for a in assessments]
        with AtomicGroup() as group:
            group.write_csv(path, frame, dialect="excel-nl" if dialect == "excel-nl" else "standard")
            group.write_text(side, json.dumps(_clean(info), indent=2, ensure_ascii=False) + "\n")
        return [path, side]
    raise InputError("onbekend uitvoertype", field="--output", value=str(path),
                     expected="een bestandsnaam op .json of .csv")
