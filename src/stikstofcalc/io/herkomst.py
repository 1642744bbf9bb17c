"""The ``herkomst`` sheet of every workbook: the provenance in Dutch, one row per item.

The provenance itself (the dict of ``.provenance.json``) keeps its keys, so that scripts
reading it keep working; the sheet shows a Dutch label per row (``onderdeel``), the value
(``waarde``: booleans as ja/nee) and the key (``sleutel``: ``kengetallen.edition``), as the
``fouten`` sheet shows a column's label and its key. File names, table names, checksums,
licences and citations are values and stay as they are.
"""

from __future__ import annotations

import json

from stikstofcalc.errors import dutch_notation

#: Column headers of a ``herkomst`` sheet.
HERKOMST_COLUMNS = ("onderdeel", "waarde", "sleutel")

#: Dutch label of each part of a provenance key; a part not listed is a name (a table,
#: a file, a plan type, a sector) and is shown as it is.
LABELS_NL = {
    # the run
    "package": "programma", "tool": "programma", "version": "versie", "created": "gemaakt op (UTC)",
    "command": "opdracht", "input": "invoerbestand", "input_sha256": "controlegetal invoer (sha256)",
    "inputs": "invoerbestanden (sha256)", "aantallen": "aantallen", "tijden_s": "rekentijd (s)",
    "rekentijd_s": "rekentijd (s)", "method": "methode", "notes": "opmerkingen", "caveat": "voorbehoud",
    # counts and timings of a batch
    "read": "gelezen", "valid": "geldig", "computed": "berekend", "invalid": "ongeldig",
    "permit_needed": "vergunning nodig", "no_permit": "geen vergunning nodig", "problems": "meldingen",
    "errors": "fouten", "read_s": "lezen", "validate_s": "controleren", "compute_wall_s": "rekenen (wandklok)",
    "emissions_s": "emissies", "deposition_s": "depositie", "write_s": "schrijven", "total_s": "totaal",
    # key figures
    "kengetallen": "kengetallen", "edition": "editie", "hashes": "controlegetal (sha256)",
    "override_files": "bestanden met eigen kengetallen", "overrides": "eigen kengetallen",
    # model and data
    "model": "rekenmodel", "engine_path": "rekenpad", "file": "bestand", "sha256": "controlegetal (sha256)",
    "source": "bron", "terrain": "terrein (ruwheid, landgebruik)", "cutoff_m": "rekenafstand (m)",
    "allow_extrapolation": "buiten het kalibratiebereik toegestaan", "natura2000": "Natura 2000",
    "attribution": "bronvermelding", "checksums": "controlegetal (sha256)", "receptors": "rekenpunten",
    # rules
    "regime": "regime", "regime_default": "standaardregime", "name": "naam",
    "threshold_mol_ha_yr": "drempel (mol N/ha/jr)", "in_force": "van kracht", "note": "toelichting",
    "rules": "regels", "threshold": "drempel", "rounding": "afronding", "phases": "fasen",
    "calendar_year": "kalenderjaar", "cutoff_25km": "rekenafstand 25 km", "intern_salderen": "intern salderen",
    "relevance": "relevante hexagons", "bouwvrijstelling": "bouwvrijstelling", "ondergrens_1mol": "ondergrens 1 mol",
    # verdict checks
    "machinery_heat": "warmte-inhoud mobiele werktuigen", "choice": "keuze", "alternative": "alternatief",
    "source_characteristics": "bronkenmerken per sector", "borderline": "grensgeval",
    "band_mol_ha_yr": "band (mol N/ha/jr)", "factor": "factor", "row": "kengetal-rij", "status": "status",
    # capacity and woondeal
    "sites": "locaties", "plans": "plantypen", "label": "omschrijving", "unit": "eenheid",
    "reference": "referentieomvang", "maximum": "maximum", "step": "stap", "sources": "bronnen",
    "projects": "projecten",
    # terrain and timings
    "map": "ruwheidskaart", "licence": "licentie", "terrain_model": "terreinmodel", "landuse": "landgebruik",
    "receptor": "rekenpunt", "receptor_file": "uit het receptorbestand", "hexagons": "hexagons",
    "z0_m_given": "eigen z0 (hexagons)", "landuse_given": "eigen landgebruik (hexagons)",
    "z0_m_below_model": "z0 onder het terreinmodel (hexagons)", "z0_m_above_model": "z0 boven het terreinmodel (hexagons)",
    "z0_model_range_m": "bereik van het terreinmodel (z0, m)", "write_rows_s": "rijen schrijven",
}


#: Parts whose next part is a name (a table, a file, a plan type), never translated:
#: ``kengetallen.hashes.sources`` is the table ``sources``.
NAMES_BELOW = {"hashes", "checksums", "inputs", "plans"}


def label_nl(key) -> str:
    """``("kengetallen", "hashes", "sources")`` (or ``"kengetallen.edition"``) ->
    ``kengetallen: controlegetal (sha256): sources``."""
    parts = key.split(".") if isinstance(key, str) else key
    return ": ".join(str(part) if i and parts[i - 1] in NAMES_BELOW else LABELS_NL.get(str(part), str(part))
                     for i, part in enumerate(parts))


def _value_nl(value):
    """A value as a person reads it: ja/nee, numbers in Dutch notation inside lists, a list
    of plain values as "a; b" ("geen" when empty), one per line when an item holds a ";"
    itself (so that the items stay apart); lists of tables stay one JSON value."""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, bool)) for v in value):
        if not value:
            return "geen"
        items = [_plain_nl(v) for v in value]
        return ("\n" if any(";" in v for v in items) else "; ").join(items)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value if isinstance(value, (str, int, float)) else str(value)


def _plain_nl(v) -> str:
    if isinstance(v, bool):
        return "ja" if v else "nee"
    if isinstance(v, float):
        return dutch_notation(f"{v:.6g}")
    return str(v)


def _flatten(d: dict, parts: tuple = ()):
    for k, v in d.items():
        here = parts + (str(k),)
        if isinstance(v, dict) and v:
            yield from _flatten(v, here)
        else:
            yield here, v


def herkomst_rows(provenance: dict) -> list[tuple]:
    """(Dutch label, value, key) per item of ``provenance``, nested tables flattened (key
    ``kengetallen.edition``; a file name such as ``areas.csv`` is one part); a list of plain
    values reads "a; b" (:func:`_value_nl`), a list of tables stays one JSON value."""
    return [(label_nl(parts), _value_nl(v), ".".join(parts)) for parts, v in _flatten(provenance)]
