"""The herkomst sheet: Dutch labels per provenance key, values as a person reads them."""

from __future__ import annotations

from stikstofcalc.io.herkomst import herkomst_rows, label_nl


def test_values_read_as_text_not_python():
    """Plain lists as "a; b" (Dutch decimals), an empty list as "geen", booleans ja/nee; lists
    of tables stay one JSON value (they were all JSON: "[]", "[0.0037313432835820895, 0.0067]")."""
    rows = {key: value for _, value, key in herkomst_rows({
        "kengetallen": {"override_files": [], "edition": "2026.1"},
        "borderline": {"band_mol_ha_yr": [0.0037313432835820895, 0.0067]},
        "uses_estimate": True, "notes": ["a", "b"], "sources": [{"template": 0}]})}
    assert rows["kengetallen.override_files"] == "geen"
    assert rows["borderline.band_mol_ha_yr"] == "0,00373134; 0,0067"
    assert rows["uses_estimate"] == "ja" and rows["notes"] == "a; b"
    assert rows["sources"] == '[{"template": 0}]'


def test_items_holding_a_semicolon_stay_apart():
    """Notes that hold "; " themselves went into one ambiguous "a; b; c": one per line."""
    rows = {key: value for _, value, key in herkomst_rows(
        {"notes": ["z0 uit de kaart; 3 hexagons op water", "jaar 2026"]})}
    assert rows["notes"] == "z0 uit de kaart; 3 hexagons op water\njaar 2026"


def test_terrain_and_timing_labels_are_dutch():
    assert label_nl("terrain.map.licence") == "terrein (ruwheid, landgebruik): ruwheidskaart: licentie"
    assert label_nl("terrain.receptor_file.z0_m_given").endswith("uit het receptorbestand: eigen z0 (hexagons)")
    assert label_nl("tijden_s.write_rows_s") == "rekentijd (s): rijen schrijven"
