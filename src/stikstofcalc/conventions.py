"""Conventions of the calculation that every layer shares (bottom layer: imports nothing).

Each constant carries its unit and its source.
"""

#: AERIUS calculation distance per source (rekenafstand) [m]: each source is counted up to
#: 25 km. AERIUS since 20 Jan 2022, upheld by ABRvS 5 Apr 2023, ECLI:NL:RVS:2023:1299
#: (domain.md, section 3).
CALCULATION_DISTANCE_M = 25_000.0

#: Output columns that hold counts or identifiers: written as whole numbers in every CSV
#: (a column with an empty cell would otherwise be written as 57.0; docs/nomenclature.md).
WHOLE_NUMBER_COLUMNS = frozenset({"n2k_number", "n_hexagons_above", "receptor_id", "year",
                                  "sector_id", "n_sources", "hexagons_above"})
