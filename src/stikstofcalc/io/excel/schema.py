"""The case workbook: its sheets and columns, defined once.

The template writer, the reader, the ``toelichting`` sheet and ``docs/batch.md`` all
use these definitions. Every column has a canonical key (the second header row of
the template, also a defined name ``col_<sheet>_<key>``), a Dutch label with its
unit, the target field of the project format (``docs/project_format.md``), the
default, the source of that default and, for fixed lists, the name of its list.

Rows of the detail sheets (``onderdelen``, ``routes``, ``werktuigen``, ``terrein``,
``receptoren``) are linked to a case by ``case_id``; they add to what the case's row
on ``projecten`` says (see :func:`stikstofcalc.batch.run.case_document`).
"""

from __future__ import annotations

from dataclasses import dataclass

from stikstofcalc.deposition.arrays import LANDUSE_CLASSES
from stikstofcalc.emissions.project import VEHICLE_CLASSES, YEAR_SPLITS, use_names
from stikstofcalc.rules import REGIMES
from stikstofcalc.units import unit_nl

#: Sheet that holds one row per case.
CASES_SHEET = "projecten"
#: Header rows of every data sheet: 1 Dutch label with unit, 2 canonical key; data from row 3.
LABEL_ROW, KEY_ROW, FIRST_DATA_ROW = 1, 2, 3
#: Sheet explaining every field.
HELP_SHEET = "toelichting"
#: Hidden sheet that holds the dropdown lists.
LISTS_SHEET = "lijsten"

_EST = "schatting stikstofcalc, zie kengetallen/ (status estimate)"


@dataclass(frozen=True)
class Column:
    """One column of a case sheet.

    Attributes
    ----------
    key : canonical key (second header row); for ``projecten`` the project-format path
    label : Dutch label with unit (first header row)
    kind : ``id`` | ``text`` | ``quantity`` | ``count`` | ``date`` | ``year`` | ``choice``
        | ``points`` | ``number``
    unit : canonical unit of a quantity (pint), read when a plain number is given
    default : what an empty cell means
    source : where the default (or the meaning) comes from
    help : one-line explanation (Dutch)
    choices : name of the fixed list (:func:`choice_lists`) for a dropdown
    required : a value is needed on every row
    whole : (lowest, highest) whole number the template's cells accept (Excel data
        validation), or None
    """

    key: str
    label: str
    kind: str = "text"
    unit: str = ""
    default: str = "-"
    source: str = "-"
    help: str = ""
    choices: str | None = None
    required: bool = False
    whole: tuple[int, int] | None = None

    @property
    def unit_nl(self) -> str:
        """The unit in Dutch notation for messages (``m²``, ``m³/jaar``); '' for none."""
        return "" if self.unit in ("", "dimensionless") else unit_nl(self.unit)


@dataclass(frozen=True)
class Sheet:
    """A sheet of the case workbook."""

    name: str
    help: str
    columns: tuple
    detail: bool = True

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


_CASE = Column("case_id", "zaak-id", "id", help="unieke naam of nummer van de zaak; koppelt de "
               "detailbladen", required=True)


def _component_columns(prefix: str, classes) -> tuple:
    p = prefix
    cols = [
        Column(f"{p}name", "onderdeel (naam)", help="label van het onderdeel in de uitvoer",
               default="het projecttype"),
        Column(f"{p}type", "projecttype", "choice", choices="project_type",
               help="soort onderdeel; bepaalt de standaard werktuigen, het bouwverkeer en de bouwduur",
               source="kengetallen: project_types"),
        Column(f"{p}count", "aantal woningen", "count",
               help="aantal woningen (bij grondgebonden_woningen, gestapelde_woningen)"),
        Column(f"{p}floor_area", "bvo (m2)", "quantity", "m**2",
               help="bruto vloeroppervlak (bij utiliteitsbouw, sloop); ook '2.000 m2' mag niet, "
               "'2000 m2' wel"),
        Column(f"{p}area", "terreinoppervlak (m2)", "quantity", "m**2",
               help="oppervlak bouwrijp te maken terrein (bij bouwrijp_maken); '3 ha' mag"),
        Column(f"{p}home_type", "woningtype", "choice", choices="home_type",
               help="woningtype voor de verkeersgeneratie in de gebruiksfase",
               source="CROW-kencijfers (schatting), kengetallen: traffic_generation"),
        Column(f"{p}function", "functie", "choice", choices="function",
               help="functie van niet-woongebouwen voor de verkeersgeneratie",
               source="kengetallen: traffic_generation"),
        Column(f"{p}gas_use", "aardgasverbruik (m3/jaar)", "quantity", "m**3/year",
               default="0 (gasloos)", source="gasloos bouwen verplicht sinds 1 juli 2018",
               help="aardgas verbrand op de locatie in de gebruiksfase"),
    ]
    if prefix != "component.":
        cols.append(Column(f"{p}urbanisation", "stedelijkheid onderdeel", "choice",
                           choices="urbanisation", default="stedelijkheid van het project",
                           help="stedelijkheidsgraad voor dit onderdeel"))
    for vc in classes:
        cols.append(Column(f"{p}construction_traffic.{vc}", f"bouwverkeer {vc} (bewegingen, hele bouw)",
                           "quantity", "dimensionless", default="kengetal per woning/m2",
                           source="kengetallen: construction_traffic (schatting)",
                           help=f"eigen aantal bewegingen {vc} verkeer in de hele bouw; vervangt het kengetal"))
    for vc in classes:
        cols.append(Column(f"{p}use_traffic.{vc}", f"verkeer gebruiksfase {vc} (bewegingen/dag)",
                           "quantity", "1/day", default="verkeersgeneratie (CROW)",
                           source="kengetallen: traffic_generation",
                           help=f"eigen aantal bewegingen {vc} verkeer per gemiddelde dag; vervangt de generatie"))
    return tuple(cols)


def _route_columns(prefix: str) -> tuple:
    p = prefix
    return (
        Column(f"{p}name", "route (naam)", default="route 1, route 2, ..."),
        Column(f"{p}road_type", "wegtype", "choice", choices="road_type",
               help="type weg waarover het verkeer rijdt tot het opgaat in het heersende verkeersbeeld",
               source="SRM2-wegtypen, kengetallen: road_factors_nox"),
        Column(f"{p}length", "routelengte (m)", "quantity", "m",
               help="lengte tot het verkeer opgaat in het heersende verkeersbeeld; '1,2 km' mag"),
        Column(f"{p}bearing", "richting route (graden vanaf noord)", "quantity", "dimensionless",
               default="geen lijn: geen richting", help="kompasrichting van de route vanaf de locatie "
               "(0 noord, 90 oost); nodig voor de depositieberekening zonder geometrie"),
        Column(f"{p}share", "aandeel verkeer (0-1 of %)", "quantity", "dimensionless",
               default="1 bij één route", help="deel van het projectverkeer over deze route; "
               "samen 1"),
        Column(f"{p}stagnation", "aandeel stagnatie (0-1 of %)", "quantity", "dimensionless",
               default="0", help="deel van de voertuigkilometers in file"),
    )


PROJECTEN = Sheet(CASES_SHEET, "één rij per zaak (project)", (
    _CASE,
    Column("description", "omschrijving", help="vrije tekst, wordt doorgegeven"),
    Column("municipality", "gemeente", help="vrije tekst, wordt doorgegeven"),
    Column("regime", "regime", "choice", choices="regime", default="post-porthos (of --regime)",
           source="stikstofcalc.rules: post-porthos = ABRvS 2 nov 2022, ECLI:NL:RVS:2022:3159",
           help="rekenregels voor het oordeel; bouwvrijstelling en ondergrens-1mol alleen ter vergelijking"),
    Column("kengetallen", "editie kengetallen", default="nieuwste meegeleverde editie",
           help="editie van de kengetallen, bijv. 2026.1"),
    Column("location.x", "x (RD, m)", "quantity", "m", required=False,
           help="x-coördinaat van de locatie in RD New (EPSG:28992); of breedte/lengtegraad"),
    Column("location.y", "y (RD, m)", "quantity", "m", help="y-coördinaat in RD New"),
    Column("location.lat", "breedtegraad (graden, WGS84)", "quantity", "dimensionless",
           help="alternatief voor x, y"),
    Column("location.lon", "lengtegraad (graden, WGS84)", "quantity", "dimensionless",
           help="alternatief voor x, y"),
    Column("construction.start", "start bouw (jjjj-mm of datum)", "date", required=True,
           help="begin van de realisatiefase: 2027-03, 2027-03-15, 15-3-2027 of een datumcel"),
    Column("construction.duration", "bouwduur (maanden)", "quantity", "month",
           default="standaardduur per projecttype", source="kengetallen: project_types (schatting)",
           help="'18 maanden', '1,5 jaar' of een getal in maanden; of vul einde bouw in"),
    Column("construction.end", "einde bouw (jjjj-mm of datum)", "date",
           help="alternatief voor de bouwduur (een maand telt tot het eind van die maand)"),
    Column("construction.fleet", "materieel (vloot)", "choice", choices="fleet", default="huidig",
           source="kengetallen: fleet_mix", help="huidig = huidige mix diesel, stage_v = alleen Stage V"),
    Column("construction.electric_share", "aandeel elektrisch materieel (0-1 of %)", "quantity",
           "dimensionless", default="0", help="deel van het standaard dieselmaterieel dat elektrisch is"),
    Column("construction.year_split", "verdeling over kalenderjaren", "choice", choices="year_split",
           default="aerius", source="stikstofcalc.rules: calendar_year",
           help="aerius: bouw <= 1 jaar in het startjaar, langer naar rato; kalenderjaar; een_jaar"),
    Column("construction.werktuig_warmte", "warmte-inhoud mobiele werktuigen", "choice",
           choices="werktuig_warmte", default="conservatief",
           source="kengetallen: source_characteristics (heat_content / heat_content_instruction)",
           help="conservatief = 0 MW (zo reproduceert OPS-LT de AERIUS 2024-uitvoer); instructie = "
           "0,035 MW (sector 3220) uit de AERIUS-instructie"),
    Column("use.year", "rekenjaar gebruiksfase", "year", default="het jaar na het einde van de bouw",
           help="kalenderjaar van de gebruiksfase"),
    Column("use.urbanisation", "stedelijkheid", "choice", choices="urbanisation",
           default="matig_stedelijk", source="CROW-kencijfers", help="stedelijkheidsgraad voor de "
           "verkeersgeneratie"),
) + _component_columns("component.", ("licht", "zwaar")) + _route_columns("route."), detail=False)

ONDERDELEN = Sheet("onderdelen", "extra onderdelen van een zaak (na het onderdeel op projecten)",
                   (_CASE,) + _component_columns("", VEHICLE_CLASSES))
ROUTES = Sheet("routes", "extra routes van een zaak (na de route op projecten)",
               (_CASE,) + _route_columns("") + (
                   Column("geometry", "routegeometrie (RD: 'x y; x y; ...')", "points",
                          help="lijn van de locatie langs de route, in RD-meters; vervangt lengte en "
                          "richting; ook WKT LINESTRING (...)"),))
WERKTUIGEN = Sheet("werktuigen", "eigen werktuigenlijst; vervangt alle standaardwerktuigen van dat onderdeel", (
    _CASE,
    Column("component", "onderdeel nr.", "count", default="1",
           help="volgnummer van het onderdeel: 1 = het onderdeel op projecten, daarna de rijen op "
           "onderdelen in volgorde"),
    Column("name", "werktuig (naam)", help="label"),
    Column("category", "AERIUS-categorie", "choice", choices="category", required=True,
           source="AERIUS 2024, TNO 2021 R12305 (AUB-methode)", help="bijv. AUB_D = Stage IV/V met SCR"),
    Column("fuel", "brandstof (L, hele bouw)", "quantity", "L", help="brandstofverbruik"),
    Column("hours", "draaiuren (uur, hele bouw)", "quantity", "h", help="draaiuren"),
    Column("adblue", "AdBlue (L)", "quantity", "L", default="typisch aandeel van de brandstof",
           source="kengetallen: machinery_factors"),
    Column("power", "vermogen (kW)", "quantity", "kW",
           help="vermogen: brandstof of uren volgt uit het andere (B = 0,095 P + 0,54 L/u)",
           source="LVVN 2024 par. 8.4"),
))
TERREIN = Sheet("terrein", "terreincontour: één rij per hoekpunt, in volgorde", (
    _CASE,
    Column("x", "x (RD, m)", "quantity", "m", required=True),
    Column("y", "y (RD, m)", "quantity", "m", required=True),
))
RECEPTOREN = Sheet("receptoren", "eigen rekenpunten van een zaak (vervangen de standaard Natura 2000-hexagonen)", (
    _CASE,
    Column("receptor_id", "receptor-id (AERIUS)", "count", help="AERIUS-hexagon; of x, y"),
    Column("x", "x (RD, m)", "quantity", "m"),
    Column("y", "y (RD, m)", "quantity", "m"),
    Column("kdw", "KDW (mol/ha/jaar)", "quantity", "mol/hectare/year",
           help="kritische depositiewaarde; met achtergronddepositie bepaalt die of het punt meetelt"),
    Column("background_deposition", "achtergronddepositie (mol/ha/jaar)", "quantity", "mol/hectare/year"),
    Column("z0_m", "ruwheidslengte z0 (m)", "quantity", "m",
           help="eigen ruwheid van de hexagon (0 < z0 <= 10 m); leeg: uit de ruwheidskaart"),
    Column("landuse", "landgebruiksklasse (OPS 1-9)", "count",
           whole=(min(LANDUSE_CLASSES), max(LANDUSE_CLASSES)),
           help=", ".join(f"{k} {v}" for k, v in LANDUSE_CLASSES.items()) + "; leeg: uit de ruwheidskaart"),
    *(Column(f"lu_{k}", f"landgebruik klasse {k} (%)", "quantity", "percent",
             help=("aandeel van elke OPS-klasse in de hexagon, samen 100 %; lege klassen 0 %; "
                   "niet samen met landgebruiksklasse") if k == 1 else "")
      for k in range(1, 10)),
))

SHEETS = (PROJECTEN, ONDERDELEN, ROUTES, WERKTUIGEN, TERREIN, RECEPTOREN)
SHEET_BY_NAME = {s.name: s for s in SHEETS}


def choice_lists(kg) -> dict[str, list[str]]:
    """The fixed lists behind the dropdowns, from the key-figure edition and the rules."""
    homes, functions = use_names(kg, "woning"), use_names(kg, "m2")  # the same lists the check uses
    return {
        "project_type": kg.values("project_types", "project_type"),
        "home_type": homes,
        "function": functions,
        "urbanisation": [u for u in kg.values("traffic_generation", "urbanisation") if u != "alle"],
        "fleet": kg.values("fleet_mix", "fleet"),
        "year_split": list(YEAR_SPLITS),
        "werktuig_warmte": ["conservatief", "instructie"],
        "road_type": kg.values("road_factors_nox", "road_type"),
        "category": kg.values("machinery_factors", "category"),
        "regime": list(REGIMES),
    }


# ------------------------------------------------------------------ results

#: The columns of the ``resultaten`` sheet and of the batch's results table, in order
#: (:func:`stikstofcalc.batch.run.result_rows` fills them).
RESULT_COLUMNS = ["case", "phase", "year", "verdict", "permit_needed", "exempt", "max_deposition",
                  "max_rounded", "max_display", "threshold", "area_name", "n2k_number", "receptor_id",
                  "x", "y", "n_hexagons_above", "hectares_above", "margin_factor",
                  "headroom_nox_kg_per_yr", "headroom_nh3_kg_per_yr", "dominant_source",
                  "dominant_share", "headroom_current", "headroom_allowed_source_only",
                  "headroom_unit", "effect_distance_m", "nox_kg_per_yr", "nh3_kg_per_yr",
                  "regime", "uses_estimate", "notes"]
#: issue 12: grensgeval and machinery heat sensitivity (:func:`stikstofcalc.assessment.core.check_columns`)
RESULT_COLUMNS += ["borderline", "borderline_band_low", "borderline_band_high", "machinery_heat",
                   "alt_heat", "alt_heat_max_deposition", "alt_heat_max_display",
                   "alt_heat_permit_needed", "alt_heat_verdict_differs", "unassessed_max_deposition"]
