"""A receptor file whose hexagons are all not relevant: the verdict and the report say so,
not "geen Natura 2000-hexagon binnen 25 km" (review: a source at the hexagon's centre gave
0,10 there, and the output said there was no hexagon)."""

from __future__ import annotations

from stikstofcalc import rules
from stikstofcalc.assessment.source_list import assess_source_list
from stikstofcalc.io.report import format_report


def _run(tmp_path, receptors):
    src = tmp_path / "s.csv"
    src.write_text("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr\nA,172508.78,457501.93,2.5,0,1,0\n",
                   encoding="utf-8")
    rec = tmp_path / "r.csv"
    rec.write_text(receptors, encoding="utf-8")
    return assess_source_list([src], receptors=rec)[0]


def test_no_relevant_hexagon_is_named_and_its_largest_value_shown(tmp_path):
    a = _run(tmp_path, "receptor_id;KDW;achtergronddepositie\n4574147;1500;1000\n")
    r = a.results[0]
    assert not r.permit_needed and r.verdict == rules.NO_RELEVANT_VERDICT and r.max_deposition == 0
    note = [n for n in r.notes if n.startswith("hoogste depositie op een niet-relevante hexagon")]
    assert len(note) == 1 and "receptor 4574147" in note[0] and "0,1" in note[0]
    text = format_report(a)
    assert "Geen relevante hexagon" in text and "binnen 25 km" not in text.split("Oordeel")[0]


def test_a_relevant_hexagon_keeps_the_usual_verdict(tmp_path):
    a = _run(tmp_path, "receptor_id;KDW;achtergronddepositie\n4574147;1500;1600\n")
    r = a.results[0]
    assert r.permit_needed and r.receptor_id == 4574147


def test_zero_emission_names_no_hexagon(tmp_path):
    """A source of 0 kg gave 'Waar: Rijntakken ... receptor 3904437', an arbitrary hexagon."""
    src = tmp_path / "z.csv"
    src.write_text("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr\nA,172240,458930,2.5,0,0,0\n",
                   encoding="utf-8")
    a = assess_source_list([src])[0]
    r = a.results[0]
    assert r.max_deposition == 0 and r.receptor_id is None and r.area_name is None and not r.permit_needed
    assert "Geen emissie in deze fase" in format_report(a) and "Waar:" not in format_report(a)


def test_no_relevant_hexagon_under_a_regime_not_in_force(tmp_path):
    """The verdict carries the regime's caveat; the report still names the case (review)."""
    src = tmp_path / "s.csv"
    src.write_text("source_id,x,y,height_m,heat_mw,nox_kg_yr,nh3_kg_yr\nA,172508.78,457501.93,2.5,0,1,0\n",
                   encoding="utf-8")
    rec = tmp_path / "r.csv"
    rec.write_text("receptor_id,exceeding\n4574147,nee\n", encoding="utf-8")
    a = assess_source_list([src], receptors=rec, regime="ondergrens-1mol")[0]
    assert a.results[0].verdict.startswith(rules.NO_RELEVANT_VERDICT)
    assert "Geen relevante hexagon" in format_report(a)
