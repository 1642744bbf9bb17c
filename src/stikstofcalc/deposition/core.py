"""Array-level core of the deposition engine.

Works on plain float arrays in canonical units (m, MW, kg/yr, mol N/ha/yr); no
pandas, no pint, no I/O. Elementary source kinds:

- point: ``area_side_m == 0`` and ``x_end``/``y_end`` NaN;
- square area source centred on (x, y), axis-aligned in RD, side ``area_side_m``;
- straight line segment from (x, y) to (x_end, y_end).

Polygons, rectangles and polylines are split into these by :mod:`.geometry`.
"""

from __future__ import annotations

from stikstofcalc.deposition.arrays import (  # noqa: F401  (the engine's public arrays)
    CALIBRATED_RANGES, DEFAULT_CUTOFF_M, LANDUSE_CLASSES, DepositionResult, ReceptorArrays,
    SourceArrays)
from stikstofcalc.deposition.engine import evaluate


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
        Compiled path (default) or the numpy reference that defines the model. The
        switch of :mod:`stikstofcalc.compiled` (``STIKSTOFCALC_NUMPY=1``) wins: with it
        set, ``"fast"`` too runs the numpy reference, so that one run never mixes paths.

    Returns
    -------
    DepositionResult
        ``nox``, ``nh3`` and ``total`` per receptor, in input order [mol N/ha/yr].
    """
    return evaluate(sources, receptors, cutoff_m=cutoff_m,
                    allow_extrapolation=allow_extrapolation, chunk_pairs=chunk_pairs,
                    terrain=terrain, receptor_terrain=receptor_terrain, method=method)
