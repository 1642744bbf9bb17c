"""Emissions: project key figures -> emission sources with NOx and NH3 in kg/yr.

- :mod:`.models`        emission models: activity x factor -> kg/yr (pure, vectorised);
- :mod:`.project`       the project file: parse and validate one project (TOML) into canonical values;
- :mod:`.construction`  realisatiefase: project + key figures -> activities, scheduled per year;
- :mod:`.usephase`      gebruiksfase: traffic generation and heating of the finished project;
- :mod:`.sources`       project site geometry -> deposition sources (templates of unit emission);
- :mod:`.inventory`     projects -> tidy emission-source table per phase, calendar year and source.
"""

from stikstofcalc._lazy import lazy_exports

_EXPORTS = {
    "emission_sources": "inventory", "totals": "inventory", "explain": "inventory",
    "Project": "project", "parse_project": "project", "read_project": "project",
    "machinery_emission": "models", "fuel_per_hour": "models", "road_emission": "models",
    "combustion_emission": "models", "year_fractions": "models",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
