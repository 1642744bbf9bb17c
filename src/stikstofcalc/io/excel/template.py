"""``stikstofcalc template``: the case workbook a Dutch spreadsheet user fills in.

One sheet per kind of input (:mod:`.schema`): row 1 the Dutch label with its unit,
row 2 the canonical key (grey; software reads it), data from row 3; dropdowns (data
validation) on every column with a fixed list, fed from a hidden sheet ``lijsten``
built from the key-figure edition; defined names ``col_<sheet>_<key>`` per column and
``lijst_<name>`` per list; a ``toelichting`` sheet explaining every field with unit,
default and source; two filled example cases (the same projects as
``examples/dorp_kleine_uitbreiding.toml`` and ``examples/utiliteit_distributiecentrum.toml``,
so the template doubles as a check that Excel and TOML give identical results).
"""

from __future__ import annotations

from pathlib import Path

from stikstofcalc.io.excel.schema import (FIRST_DATA_ROW, HELP_SHEET, KEY_ROW, LABEL_ROW, LISTS_SHEET,
    SHEETS, choice_lists)
from stikstofcalc import kengetallen
from stikstofcalc.io.excel.cells import print_setup, row_heights
from stikstofcalc.units import unit_nl
from stikstofcalc.io.atomic import AtomicGroup, check_output_path

#: Rows that get the dropdowns (data validation) [-].
VALIDATION_ROWS = 10_000

#: The two example cases, per sheet: canonical key -> value.
EXAMPLES = {
    "projecten": [
        {"case_id": "Dorpsrand Oost (24 woningen)", "municipality": "voorbeeldgemeente",
         "location.x": 201500, "location.y": 455200, "construction.start": "2027-03",
         "construction.duration": "10 maanden", "construction.fleet": "huidig",
         "use.urbanisation": "weinig_stedelijk", "component.name": "rijwoningen",
         "component.type": "grondgebonden_woningen", "component.count": 16,
         "component.home_type": "tussen_hoek", "route.name": "Dorpsstraat naar N-weg",
         "route.road_type": "stad_normaal", "route.length": "0,9 km", "route.bearing": 200},
        {"case_id": "Distributiecentrum Harselaar-Zuid", "municipality": "Barneveld",
         "location.x": 173000, "location.y": 462000, "construction.start": "2028-01",
         "construction.end": "2029-06", "construction.fleet": "huidig", "use.year": 2030,
         "use.urbanisation": "weinig_stedelijk", "component.name": "sloop oude loodsen",
         "component.type": "sloop", "component.floor_area": "3000 m2",
         "route.name": "bedrijventerrein naar A1 aansluiting", "route.road_type": "buitenweg",
         "route.length": "2,4 km", "route.bearing": 160},
    ],
    "onderdelen": [
        {"case_id": "Dorpsrand Oost (24 woningen)", "name": "twee-onder-een-kap",
         "type": "grondgebonden_woningen", "count": 8, "home_type": "twee_onder_een_kap"},
        {"case_id": "Distributiecentrum Harselaar-Zuid", "name": "distributiecentrum",
         "type": "utiliteitsbouw", "floor_area": "25.000,0 m2", "function": "bedrijfshal_logistiek",
         "gas_use": "20000 m3/jaar", "construction_traffic.zwaar": 5200,
         "construction_traffic.licht": 14000, "use_traffic.zwaar": "180 per dag",
         "use_traffic.middelzwaar": 60, "use_traffic.licht": 650},
    ],
    "werktuigen": [
        {"case_id": "Distributiecentrum Harselaar-Zuid", "component": 2,
         "name": "graafmachine 25 t Stage V", "category": "AUB_D", "fuel": "18000 L",
         "hours": "1300 uur", "adblue": "1100 L"},
        {"case_id": "Distributiecentrum Harselaar-Zuid", "component": 2,
         "name": "mobiele kraan (Stage IV)", "category": "AUB_D", "hours": "600 h", "power": "250 kW"},
        {"case_id": "Distributiecentrum Harselaar-Zuid", "component": 2,
         "name": "verreikers (elektrisch)", "category": "ELEKTRISCH", "hours": "2400 h"},
        {"case_id": "Distributiecentrum Harselaar-Zuid", "component": 2,
         "name": "betonmixers en -pomp", "category": "ZUT", "hours": "450 h"},
    ],
}


#: The ``soort`` of a column in the toelichting, in Dutch (schema ``Column.kind``).
KIND_NL = {"id": "id (tekst, uniek)", "text": "tekst", "quantity": "hoeveelheid (getal met eenheid)",
           "count": "aantal (geheel getal)", "date": "datum", "year": "jaartal", "choice": "keuze uit de lijst",
           "points": "punten (x y; x y; ...)"}


def _name(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)


def build_template(kg=None):
    """The template as an openpyxl Workbook (not saved)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    kg = kg or kengetallen.load()
    lists = choice_lists(kg)
    wb = Workbook()
    wb.remove(wb.active)
    bold, head = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    need = PatternFill("solid", fgColor="FCE4D6")
    keyfont, wrap = Font(italic=True, color="808080", size=8), Alignment(wrap_text=True, vertical="top")

    lst = wb.create_sheet(LISTS_SHEET)
    list_ref = {}
    for j, (name, values) in enumerate(lists.items(), start=1):
        col = get_column_letter(j)
        lst.cell(1, j, name).font = bold
        for i, v in enumerate(values, start=2):
            lst.cell(i, j, v)
        ref = f"{quote_sheetname(LISTS_SHEET)}!${col}$2:${col}${len(values) + 1}"
        list_ref[name] = ref
        _define(wb, DefinedName, f"lijst_{name}", ref)
    lst.sheet_state = "hidden"

    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.name)
        widths = []
        for j, col in enumerate(sheet.columns, start=1):
            letter = get_column_letter(j)
            c = ws.cell(LABEL_ROW, j, col.label)
            c.font, c.fill, c.alignment = bold, need if col.required else head, wrap
            ws.cell(KEY_ROW, j, col.key).font = keyfont
            ws.column_dimensions[letter].width = min(max(len(col.label) * 0.85, 11), 34)
            widths.append(ws.column_dimensions[letter].width)
            _define(wb, DefinedName, f"col_{sheet.name}_{_name(col.key)}",
                    f"{quote_sheetname(sheet.name)}!${letter}${FIRST_DATA_ROW}:${letter}${VALIDATION_ROWS}")
            if col.choices:
                dv = DataValidation(type="list", formula1=f"={list_ref[col.choices]}", allow_blank=True,
                                    showErrorMessage=True, errorTitle="Onbekende waarde",
                                    error=f"Kies een waarde uit de lijst ({col.choices}).")
                ws.add_data_validation(dv)
                dv.add(f"{letter}{FIRST_DATA_ROW}:{letter}{VALIDATION_ROWS}")
            if col.whole:
                lo, hi = col.whole
                dv = DataValidation(type="whole", operator="between", formula1=str(lo),
                                    formula2=str(hi), allow_blank=True, showErrorMessage=True,
                                    errorTitle="Ongeldige waarde",
                                    error=f"Vul een geheel getal van {lo} tot en met {hi} in.")
                ws.add_data_validation(dv)
                dv.add(f"{letter}{FIRST_DATA_ROW}:{letter}{VALIDATION_ROWS}")
            if col.kind == "date":
                for r in range(FIRST_DATA_ROW, FIRST_DATA_ROW + 2):
                    ws.cell(r, j).number_format = "@"  # text: "2027-03" must stay text
        ws.row_dimensions[LABEL_ROW].height = 45
        ws.freeze_panes = ws.cell(FIRST_DATA_ROW, 2)
        print_setup(ws, widths, title_rows=f"{LABEL_ROW}:{KEY_ROW}")
        for i, example in enumerate(EXAMPLES.get(sheet.name, []), start=FIRST_DATA_ROW):
            for j, col in enumerate(sheet.columns, start=1):
                if col.key in example:
                    ws.cell(i, j, example[col.key])

    _help_sheet(wb, lists, bold, head, wrap, kg)
    order = [HELP_SHEET] + [s.name for s in SHEETS] + [LISTS_SHEET]
    wb._sheets.sort(key=lambda ws: order.index(ws.title))
    wb.active = wb.sheetnames.index("projecten")
    return wb


def _define(wb, DefinedName, name, ref):
    dn = DefinedName(name, attr_text=ref)
    try:
        wb.defined_names[name] = dn  # openpyxl >= 3.1
    except TypeError:  # pragma: no cover - older openpyxl
        wb.defined_names.append(dn)


def _help_sheet(wb, lists, bold, head, wrap, kg):
    ws = wb.create_sheet(HELP_SHEET)
    intro = [
        "stikstofcalc - invulsjabloon voor een batch zaken (voortoets stikstofdepositie)",
        "Vul per zaak één rij in op 'projecten'. Rij 1 is het label met eenheid, rij 2 de vaste sleutel "
        "(niet wijzigen), gegevens vanaf rij 3. Extra onderdelen, routes, eigen werktuigen, een "
        "terreincontour en eigen rekenpunten staan op de andere bladen, gekoppeld via de zaak-id.",
        "Getallen: met of zonder eenheid ('18 maanden', '1,2 km', '25 %'). Decimaalkomma mag. "
        "'2.500' wordt geweigerd (dubbelzinnig): schrijf 2500 of '2.500,0'. Datum: datumcel, 2027-03, "
        "2027-03-15 of 15-3-2027. Lege cel = standaardwaarde. Formules tellen met hun opgeslagen waarde.",
        "Uitvoeren: stikstofcalc batch ZAKEN.xlsx -o RESULTATEN.xlsx   (zie docs/batch.md)",
        f"Kengetallen: editie {kg.edition}. Een voortoets is geen vergunning: de uitkomst vermeldt "
        "kengetallen, modeldata en regels.",
        "",
    ]
    widths = (10, 22, 22, 8, 10, 8, 12, 24, 48, 26)  # [characters]: one A4 landscape page wide
    for i, text in enumerate(intro, start=1):
        c = ws.cell(i, 1, text)
        if i == 1:
            c.font = bold
        elif text:  # the intro spans the table's width and wraps
            ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=len(widths))
            c.alignment = wrap
    r0 = len(intro) + 1
    cols = ["blad", "kolom (label)", "sleutel", "soort", "eenheid", "verplicht", "standaard",
            "bron", "uitleg", "keuzes"]
    for j, h in enumerate(cols, start=1):
        c = ws.cell(r0, j, h)
        c.font, c.fill = bold, head
    r = r0 + 1
    for sheet in SHEETS:
        ws.cell(r, 1, sheet.name).font = bold
        ws.cell(r, 9, sheet.help)
        r += 1
        for col in sheet.columns:
            values = [sheet.name, col.label, col.key, KIND_NL.get(col.kind, col.kind), unit_nl(col.unit),
                      "ja" if col.required else "nee", col.default, col.source, col.help,
                      ", ".join(lists[col.choices]) if col.choices else ""]
            for j, v in enumerate(values, start=1):
                ws.cell(r, j, v).alignment = wrap
            r += 1
    for letter, w in zip("ABCDEFGHIJ", widths):
        ws.column_dimensions[letter].width = w
    row_heights(ws, dict(enumerate(widths, start=1)), first_row=r0 + 1)
    for i, text in enumerate(intro[1:], start=2):  # merged intro rows: the width of the table
        if text:
            ws.row_dimensions[i].height = 15.0 * max(1, -(-len(text) // (sum(widths) - 4)))
    ws.freeze_panes = ws.cell(r0 + 1, 1)
    print_setup(ws, widths, title_rows=f"{r0}:{r0}")


def write_template(path, *, overwrite: bool = False, kg=None) -> Path:
    """Write the template workbook to ``path`` atomically (refuses to replace without ``overwrite``)."""
    path = check_output_path(path, overwrite=overwrite, suffixes=(".xlsx",))
    wb = build_template(kg)
    with AtomicGroup(overwrite=overwrite) as group:
        group.write_saved(path, wb.save)
    return path

