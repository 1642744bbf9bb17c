"""Conventions of the calculation that every layer shares (bottom layer: imports nothing).

Each constant carries its unit and its source.
"""

#: AERIUS calculation distance per source (rekenafstand) [m]: each source is counted up to
#: 25 km. AERIUS since 20 Jan 2022, upheld by ABRvS 5 Apr 2023, ECLI:NL:RVS:2023:1299
#: (domain.md, section 3).
CALCULATION_DISTANCE_M = 25_000.0
