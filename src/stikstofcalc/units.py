"""The package's one pint unit registry and the mass -> mol N conversions.

pint is used only at the edges (parsing user input and key-figure tables); the
numerical core works on plain floats in one canonical unit per quantity
(kg/yr, m, MW, mol N/ha/yr), see ``docs/nomenclature.md``.
"""

from __future__ import annotations

import pint

ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
"""The single unit registry of stikstofcalc. Never create another one."""

# Dutch unit words that users type in spreadsheets and project files.
ureg.define("jaar = year = jr")
ureg.define("maand = month = mnd")
ureg.define("week_nl = week = wk")
ureg.define("dag = day")
ureg.define("uur = hour = u")
ureg.define("liter = litre")
ureg.define("mol_N = mol")

Q_ = ureg.Quantity

#: Molar mass of NO2 [g/mol]; OPS and AERIUS count NOx as NO2 (IUPAC 2021 atomic weights).
MOLAR_MASS_NO2_G_MOL = 46.0055
#: Molar mass of NH3 [g/mol] (IUPAC 2021 atomic weights).
MOLAR_MASS_NH3_G_MOL = 17.0305
#: mol N per kg NOx emitted (as NO2) [mol/kg]: 1000 / 46.0055 = 21.7365 (domain.md 2.2).
MOL_N_PER_KG_NOX = 1000.0 / MOLAR_MASS_NO2_G_MOL
#: mol N per kg NH3 emitted [mol/kg]: 1000 / 17.0305 = 58.7182 (domain.md 2.2).
MOL_N_PER_KG_NH3 = 1000.0 / MOLAR_MASS_NH3_G_MOL


def to_magnitude(value, unit: str, *, field: str = "value") -> float:
    """Convert a number or Quantity (or a string such as ``"18 maanden"``) to ``unit``.

    Plain numbers are taken to be in ``unit`` already. Raises
    :class:`stikstofcalc.errors.UnitError` naming ``field`` on a wrong dimension.
    """
    from .errors import UnitError

    if isinstance(value, str):
        try:
            value = ureg.Quantity(value.replace(",", "."))
        except Exception as exc:  # pint raises several unrelated types
            raise UnitError(field=field, value=value, expected=f"a quantity in {unit}") from exc
    if isinstance(value, pint.Quantity):
        try:
            return float(value.to(unit).magnitude)
        except pint.DimensionalityError as exc:
            raise UnitError(field=field, value=str(value), expected=f"a quantity in {unit}") from exc
    return float(value)
