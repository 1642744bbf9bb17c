"""Array-level core of the deposition engine.

Works on plain float arrays in canonical units (m, MW, kg/yr, mol N/ha/yr); no
pandas, no pint, no I/O. Elementary source kinds:

- point: ``area_side_m == 0`` and ``x_end``/``y_end`` NaN;
- square area source centred on (x, y), axis-aligned in RD, side ``area_side_m``;
- straight line segment from (x, y) to (x_end, y_end).

Polygons, rectangles and polylines are split into these by :mod:`.geometry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: AERIUS calculation distance per source (rekenafstand) [m]; AERIUS since 20 Jan 2022,
#: upheld by ABRvS 5 Apr 2023, ECLI:NL:RVS:2023:1299 (domain.md, section 3).
DEFAULT_CUTOFF_M = 25_000.0


#: Parameter ranges covered by the OPS-LT 5.3.1 reference runs the engine is fitted to
#: (``../shared/reference/ops/README.md``): name -> (low, high, unit). Spread is further
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
LANDUSE_CLASSES = {1: "grass", 2: "arable", 3: "permanent crops", 4: "coniferous forest",
                   5: "deciduous forest", 6: "water", 7: "urban", 8: "other nature",
                   9: "bare soil"}


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


def deposition_arrays(sources: SourceArrays, receptors: ReceptorArrays, *,
                      cutoff_m: float | None = DEFAULT_CUTOFF_M,
                      allow_extrapolation: bool = False,
                      chunk_pairs: int = 4_000_000, terrain: str = "map",
                      receptor_terrain: str = "hexagon", method: str = "auto") -> DepositionResult:
    """Deposition of all sources on all receptors [mol N/ha/yr].

    Parameters
    ----------
    sources : SourceArrays
        Elementary sources (points, squares, straight segments).
    receptors : ReceptorArrays
    cutoff_m : float or None, keyword-only
        Sources do not act beyond this distance [m] (AERIUS: 25 km); None = no cut-off.
    allow_extrapolation : bool, keyword-only
        Accept source parameters outside the calibrated range (a note is added).
    chunk_pairs : int, keyword-only
        Memory bound: number of source-receptor pairs evaluated at once.
    terrain : {"map", "uniform"}, keyword-only
        ``"map"`` (default, as AERIUS): source, trajectory and receptor roughness and the
        water along the path and at the receptor from the shipped 250 m roughness map
        (:mod:`.terrain`); the sources' ``z0_m`` is then not used. ``"uniform"``: one z0
        per source (``z0_m``) everywhere and grass unless a land use is given: the engine
        before the terrain model, value for value.
    receptor_terrain : {"hexagon", "cell"}, keyword-only
        Receptor z0 and water share from the map: mean over the 250 m square around the
        receptor (AERIUS's 6.25 ha per hexagon) or the one map cell holding it (as the OPS
        reference runs were given).
    method : {"auto", "fast", "reference"}, keyword-only
        Compiled path (default) or the numpy reference that defines the model.

    Returns
    -------
    DepositionResult
        ``nox``, ``nh3`` and ``total`` per receptor, in input order [mol N/ha/yr].
    """
    from stikstofcalc.deposition.engine import evaluate

    return evaluate(sources, receptors, cutoff_m=cutoff_m,
                    allow_extrapolation=allow_extrapolation, chunk_pairs=chunk_pairs,
                    terrain=terrain, receptor_terrain=receptor_terrain, method=method)
