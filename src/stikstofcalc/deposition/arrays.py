"""Plain arrays the deposition engine works on: sources, receptors, results, and the
conventions of the engine (calculation distance, calibrated ranges, land-use classes,
quadrature spacing).

The bottom of :mod:`stikstofcalc.deposition`: imports nothing of the package but the shared
conventions, so :mod:`.core`, :mod:`.engine` and :mod:`.fast` can all build on it.
Canonical units (m, MW, kg/yr, mol N/ha/yr); no pandas, no pint, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stikstofcalc.conventions import CALCULATION_DISTANCE_M

#: sources do not act beyond this distance [m] (the AERIUS rekenafstand, see
#: :data:`stikstofcalc.conventions.CALCULATION_DISTANCE_M`)
DEFAULT_CUTOFF_M = CALCULATION_DISTANCE_M


#: Parameter ranges covered by the OPS-LT 5.3.1 reference runs the engine is fitted to
#: (``docs/engine.md``, "Range"): name -> (low, high, unit). Spread is further
#: limited to the emission height. Values outside are refused unless extrapolation is allowed.
CALIBRATED_RANGES = {
    "height_m": (0.5, 40.0, "m"),
    "heat_mw": (0.0, 1.5, "MW"),
    "z0_m": (0.03, 2.0, "m"),
    "spread_m": (0.0, 40.0, "m"),
    "area_side_m": (0.0, 2000.0, "m"),
}
#: OPS land-use classes: 1 grass, 2 arable, 3 permanent crops, 4 coniferous forest,
#: 5 deciduous forest, 6 water, 7 urban, 8 other nature, 9 bare soil.
LANDUSE_CLASSES = {1: "gras", 2: "akkerland", 3: "blijvende teelten", 4: "naaldbos",
                   5: "loofbos", 6: "water", 7: "bebouwd gebied", 8: "overige natuur",
                   9: "kale grond"}
#: How a note on values outside the calibrated range begins (engine and table front end).
EXTRAPOLATED_NOTE = "GEËXTRAPOLEERD:"


def _f(a, n=None):
    a = np.asarray(a, dtype=float)
    if n is not None and a.ndim == 0:
        a = np.full(n, float(a))
    return np.ascontiguousarray(a)


@dataclass
class SourceArrays:
    """Elementary emission sources as parallel 1-D arrays (one entry per source).

    Attributes
    ----------
    x, y : RD New coordinates [m] (start point for a segment, centre for a square)
    height_m : emission height [m]
    heat_mw : heat content [MW]
    nox_kg_yr, nh3_kg_yr : emission [kg/yr] (NOx as NO2)
    spread_m : vertical spread of the emission height [m]
    area_side_m : side of a square area source [m]; 0 for points and segments
    x_end, y_end : end point of a straight segment [m]; NaN otherwise
    z0_m : roughness length [m]
    case : integer case code; sources only act on receptors of the same case
           (``None`` = one case for all)
    """

    x: np.ndarray
    y: np.ndarray
    height_m: np.ndarray
    heat_mw: np.ndarray
    nox_kg_yr: np.ndarray
    nh3_kg_yr: np.ndarray
    spread_m: np.ndarray | float = 0.0
    area_side_m: np.ndarray | float = 0.0
    x_end: np.ndarray | float = np.nan
    y_end: np.ndarray | float = np.nan
    z0_m: np.ndarray | float = 0.2
    case: np.ndarray | None = None

    def __post_init__(self):
        self.x = _f(self.x)
        n = self.x.shape[0]
        for name in ("y", "height_m", "heat_mw", "nox_kg_yr", "nh3_kg_yr", "spread_m",
                     "area_side_m", "x_end", "y_end", "z0_m"):
            setattr(self, name, _f(getattr(self, name), n))
        if self.case is not None:
            self.case = np.asarray(self.case, dtype=np.int64)

    def __len__(self):
        return self.x.shape[0]


@dataclass
class ReceptorArrays:
    """Receptors as parallel 1-D arrays.

    Attributes
    ----------
    x, y : RD New coordinates [m]
    landuse : OPS land-use class 1-9 (1 grass ... 9 bare soil) of the receptor; 0 = from
              the terrain (the roughness map: water where it shows water, else grass;
              grass with uniform terrain)
    case : integer case code matching :attr:`SourceArrays.case` (or ``None``)
    z0_m : receptor roughness [m] overriding the map (NaN = from the map); ``None`` = all
           from the map. Not used with uniform terrain.
    lu_pct : (n, 9) land-use percentages of classes 1-9 overriding ``landuse`` and the map
             (a row of NaN = not given); the deposition velocity is their weighted mean,
             as OPS does with land-use percentages
    """

    x: np.ndarray
    y: np.ndarray
    landuse: np.ndarray | int = 0
    case: np.ndarray | None = None
    z0_m: np.ndarray | None = None
    lu_pct: np.ndarray | None = None

    def __post_init__(self):
        self.x = _f(self.x)
        n = self.x.shape[0]
        self.y = _f(self.y, n)
        lu = np.asarray(self.landuse)
        self.landuse = np.full(n, int(lu), dtype=np.int64) if lu.ndim == 0 else lu.astype(np.int64)
        if self.case is not None:
            self.case = np.asarray(self.case, dtype=np.int64)
        if self.z0_m is not None:
            self.z0_m = _f(self.z0_m, n)
        if self.lu_pct is not None:
            self.lu_pct = np.asarray(self.lu_pct, dtype=float).reshape(n, 9)

    def __len__(self):
        return self.x.shape[0]


@dataclass
class DepositionResult:
    """Deposition per receptor [mol N/ha/yr] by substance, with run notes."""

    nox: np.ndarray
    nh3: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> np.ndarray:
        return self.nox + self.nh3


#: spacing of the quadrature points on a line source [m] (OPS reference set A11 used 10 m)
LINE_SPACING_M = 10.0
#: target spacing of the quadrature grid in a square area source [m]
AREA_SPACING_M = 4.0
#: most quadrature points per side of a square (2000 m side: 10 m spacing)
AREA_MAX_M = 200
