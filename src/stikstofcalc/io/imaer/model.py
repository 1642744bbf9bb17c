"""IMAER vocabulary and the plain records the reader and writer exchange.

Namespaces, code lists and the mappings between AERIUS codes and this project's
names (road types, vehicle classes, situation types) live here, each with its
status: what is read in AERIUS's schema or fixtures, and what is inferred.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NS_GML = "http://www.opengis.net/gml/3.2"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_XLINK = "http://www.w3.org/1999/xlink"
IMAER_NS_PREFIX = "http://imaer.aerius.nl/"
WRITE_VERSION = "6.0"
NS_IMAER = IMAER_NS_PREFIX + WRITE_VERSION
SCHEMA_LOCATION = f"{NS_IMAER} https://imaer.aerius.nl/{WRITE_VERSION}/IMAER.xsd"

#: IMAER versions the reader accepts: 6.0 (AERIUS 2023-2025) is tested on AERIUS's own
#: fixtures; 4.0 (AERIUS 2021), 5.0 and 5.1 (AERIUS 2022) share the elements read here
#: (``featureMember``, ``ProjectMetadata/year``, the source types) -- reported, not
#: fixture-tested. Older versions (0.5-3.1, before the 2021 AUB machinery method) are refused.
READ_VERSIONS = ("4.0", "5.0", "5.1", "6.0")
RD_SRS = "urn:ogc:def:crs:EPSG::28992"
_RD_SRS_FORMS = re.compile(r"^(urn:ogc:def:crs:EPSG::28992|EPSG:28992|"
                           r"https?://www\.opengis\.net/def/crs/EPSG/0/28992)$", re.IGNORECASE)

#: phase in the emission table -> IMAER situationType (issue 6).
SITUATION_TYPES = {"realisatie": "TEMPORARY", "gebruik": "PROPOSED", "referentie": "REFERENCE"}
PHASE_OF_SITUATION = {v: k for k, v in SITUATION_TYPES.items()}

SUBSTANCES = ("NH3", "NOX")
SECTOR_MACHINERY = 3220
SECTOR_ROAD = 3100
#: Sector for a reference source without one: "Anders: Overig" (seen in upstream fixtures).
SECTOR_OTHER = 9999

#: Off-road categories of the shipped key figures that are real AERIUS codes: their factors
#: were derived from AERIUS 2024.0.1 output (kengetallen machinery_factors, AERIUS2024_OUTPUT).
#: Every other category of ours (the AUB stage classes, electric) has no AERIUS code and is
#: written as a CustomOffRoadMobileSource with its own emission.
STANDARD_OFFROAD_CODES = ("B2T", "B4T", "LPG", "MUT", "ZUT")
#: Pattern of the AERIUS diesel Stage codes seen in IMAER 6.0 files (SI75560DSN, SV560DSJ,
#: SIIIA5675DSN ...): "S", stage (I, II, IIIA, IIIB, IV, V), power band digits, "DS", then N or
#: J. Inferred from the codes; no AERIUS source states the decoding (unverified). The last
#: letter J appears on the codes with an AdBlue factor (SCR): used only for a plausibility flag.
STAGE_CODE = re.compile(r"^S(I|II|IIIA|IIIB|IV|V)(\d{2,6})DS([NJ])$")

#: Our road type -> (roadType, maximumSpeed, strictEnforcement, stagnation override).
#: Urban and non-urban names are AERIUS SRM2 road types seen in IMAER-java test data
#: (FREEWAY, NON_URBAN_ROAD_GENERAL, URBAN_ROAD_NORMAL, URBAN_ROAD_FREE_FLOW); that
#: "stad_stagnerend" is URBAN_ROAD_NORMAL with stagnation 1 and "snelweg_file" FREEWAY 100
#: with stagnation 1 follows the SRM convention of our inventory (unverified in AERIUS).
ROAD_TYPES = {
    "buitenweg": ("NON_URBAN_ROAD_GENERAL", None, None, None),
    "stad_normaal": ("URBAN_ROAD_NORMAL", None, None, None),
    "stad_doorstromend": ("URBAN_ROAD_FREE_FLOW", None, None, None),
    "stad_stagnerend": ("URBAN_ROAD_NORMAL", None, None, 1.0),
    "snelweg_80": ("FREEWAY", 80, False, None),
    "snelweg_80_sh": ("FREEWAY", 80, True, None),
    "snelweg_100": ("FREEWAY", 100, False, None),
    "snelweg_100_sh": ("FREEWAY", 100, True, None),
    "snelweg_120": ("FREEWAY", 120, False, None),
    "snelweg_130": ("FREEWAY", 130, False, None),
    "snelweg_file": ("FREEWAY", 100, False, 1.0),
}
#: IMAER StandardVehicle vehicleType <-> our vehicle class.
VEHICLE_TYPES = {"licht": "LIGHT_TRAFFIC", "middelzwaar": "NORMAL_FREIGHT",
                 "zwaar": "HEAVY_FREIGHT", "bus": "AUTO_BUS"}
VEHICLE_CLASSES = {v: k for k, v in VEHICLE_TYPES.items()}
#: timeUnit -> periods per year (IMAER-java TimeUnit; 365 days, as our general.csv).
TIME_UNITS = {"HOUR": 365.0 * 24.0, "DAY": 365.0, "MONTH": 12.0, "YEAR": 1.0}


def is_rd_srs(srs: str | None) -> bool:
    """True for an empty srsName (IMAER-java accepts it) or any spelling of EPSG:28992."""
    return not srs or bool(_RD_SRS_FORMS.match(srs.strip()))


def our_road_type(road_type: str, max_speed=None, strict=None) -> str | None:
    """AERIUS SRM2 road type (+ speed, enforcement) -> our road type, or None if unknown."""
    if road_type == "FREEWAY":
        speed = int(max_speed) if max_speed else 100
        name = f"snelweg_{speed}" + ("_sh" if strict and speed in (80, 100) else "")
        return name if name in ROAD_TYPES else None
    return {"NON_URBAN_ROAD_GENERAL": "buitenweg", "NON_URBAN_ROAD_NATIONAL": "buitenweg",
            "URBAN_ROAD_NORMAL": "stad_normaal", "URBAN_ROAD_FREE_FLOW": "stad_doorstromend",
            "URBAN_ROAD_STAGNATING": "stad_stagnerend"}.get(road_type)


@dataclass
class Machine:
    """One ``offRoadMobileSource``: a Standard (AERIUS code + activity) or Custom machine."""

    kind: str                      # "standard" or "custom"
    code: str | None
    description: str
    fuel_l: float | None = None    # litres per year
    hours_h: float | None = None   # operating hours per year
    adblue_l: float | None = None  # litres AdBlue per year
    emissions: dict = field(default_factory=dict)   # custom: substance -> kg/yr
    height_m: float | None = None
    heat_mw: float | None = None
    spread_m: float | None = None
    line: int | None = None


@dataclass
class Vehicle:
    """One ``vehicles`` entry of a road: Standard, Specific or Custom vehicle."""

    kind: str                      # "standard", "specific" or "custom"
    vehicle_type: str | None
    per_time_unit: float
    time_unit: str
    stagnation: float | None = None
    max_speed: int | None = None
    strict: bool | None = None
    description: str | None = None
    emission_factors: dict = field(default_factory=dict)
    line: int | None = None

    @property
    def per_year(self) -> float:
        """Vehicles per year [1/yr] (365 days per year, as AERIUS)."""
        return self.per_time_unit * TIME_UNITS.get(self.time_unit, float("nan"))


@dataclass
class Source:
    """One emission source feature with the emissions the file states [kg/yr]."""

    gml_id: str
    feature: str                   # local element name: EmissionSource, SRM2Road, ...
    sector_id: int | None
    label: str
    wkt: str
    emissions: dict = field(default_factory=dict)
    description: str | None = None
    height_m: float | None = None
    heat_mw: float | None = None
    spread_m: float | None = None
    machines: list = field(default_factory=list)
    vehicles: list = field(default_factory=list)
    road_area_type: str | None = None
    road_type: str | None = None
    line: int | None = None

    @property
    def nox(self) -> float:
        return float(self.emissions.get("NOX", 0.0))

    @property
    def nh3(self) -> float:
        return float(self.emissions.get("NH3", 0.0))


@dataclass
class ResultPoint:
    """A receptor, calculation point or sub-point with its results."""

    feature: str
    gml_id: str
    x: float
    y: float
    receptor_id: int | None = None
    label: str | None = None
    results: dict = field(default_factory=dict)    # (resultType, substance) -> value
    line: int | None = None


@dataclass
class Situation:
    """One IMAER document: one situation with its metadata, sources and results."""

    file: str
    version: str
    year: int
    situation_type: str | None = None
    situation_name: str | None = None
    project_name: str | None = None
    aerius_version: str | None = None
    gml_creator: str | None = None
    sources: list = field(default_factory=list)
    points: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def is_result_file(self) -> bool:
        return any(p.results for p in self.points)
