"""The two Natura 2000 areas the shipped data lacks (Waddenzee, Noordzeekustzone): a coarse
envelope, so that a project near them is not given "geen vergunning nodig" unchecked.

The shipped areas (:mod:`stikstofcalc.geo.natura2000`) are 160 of the 162: the source
repository did not process Waddenzee (1) and Noordzeekustzone (7). Their hexagons are
therefore not among the default receptors, and a source on the Frisian or Groningen coast,
at Den Helder or on the islands got its largest deposition on the next area inland while
the Waddenzee lay closer (review: a source in the Waddenzee itself was "geen vergunning
nodig").

:data:`ENVELOPE_RD` is one polygon around both areas, **drawn for this check** (status
*estimate*): landward along the mainland dike from Bergen (Noord-Holland) past Den Helder,
the Afsluitdijk, the Frisian and Groningen coast to the Dollard at the German border;
seaward about 5-10 km off the islands. It is good to one or two km; it includes the
islands (whose dune areas are shipped as areas of their own) and some open sea. It is not
a receptor set: the assessment computes the deposition on points of it
(:func:`candidate_points`) only to qualify a "geen vergunning nodig" (a *grensgeval*), never
to give a permit verdict.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from stikstofcalc.caches import cached
from stikstofcalc.geo.geometry import points_in_polygon, segment_distance

#: Areas the envelope stands for (number, name).
AREAS = ((1, "Waddenzee"), (7, "Noordzeekustzone"))
#: Names as one text for messages.
AREAS_TEXT = "Waddenzee (1) en Noordzeekustzone (7)"
#: Coarse envelope of Waddenzee and Noordzeekustzone, RD New [m]; drawn for this check from
#: the topographic position of the coast, the Afsluitdijk and the islands (estimate, good to
#: one or two km); closed ring.
ENVELOPE_RD = np.array([
    (101500, 519000), (103000, 530500), (105500, 539000), (109500, 549500), (112500, 553000),
    (116000, 552000), (123000, 548500), (129000, 547500), (134000, 551500), (141000, 559000),
    (150500, 569500), (154000, 572500), (157000, 576000), (158500, 580500), (162000, 586500),
    (167500, 591000), (175000, 594500), (182000, 597500), (192000, 598500), (200000, 600000),
    (206500, 602000), (214000, 602000), (222500, 603000), (232000, 605500), (241000, 607000),
    (251500, 606500), (255500, 601000), (256500, 595000), (262000, 590500), (267500, 583500),
    (271500, 579000), (276000, 578500), (279000, 586000), (274000, 596000), (262000, 612000),
    (245000, 620000), (220000, 619500), (195000, 617000), (170000, 613500), (150000, 607000),
    (132000, 599000), (118000, 589000), (107000, 578000), (100000, 563000), (97500, 545000),
    (97500, 528000), (99000, 519000), (101500, 519000)], float)
#: Spacing of the points on the envelope's edge [m] (the largest deposition from outside lies
#: on the edge nearest the source).
EDGE_SPACING_M = 100.0
#: Spacing of the grid of points inside the envelope [m] (sources inside it or near a bend).
GRID_SPACING_M = 1000.0
#: Sources inside the envelope add a point at their own place, one per cell of this size [m]
#: (the sub-receptor averaging of a hexagon next to a source takes over from there).
INSIDE_CELL_M = 50.0


@cached(maxsize=1)
def _all_points() -> tuple[np.ndarray, np.ndarray]:
    """Points on the envelope's edge every :data:`EDGE_SPACING_M` and on a grid inside it."""
    a, b = ENVELOPE_RD[:-1], ENVELOPE_RD[1:]
    length = np.hypot(*(b - a).T)
    n = np.maximum(1, np.ceil(length / EDGE_SPACING_M).astype(int))
    t = np.concatenate([np.arange(k) / k for k in n])
    seg = np.repeat(np.arange(len(a)), n)
    ex = a[seg, 0] + t * (b[seg, 0] - a[seg, 0])
    ey = a[seg, 1] + t * (b[seg, 1] - a[seg, 1])
    lo, hi = ENVELOPE_RD.min(axis=0), ENVELOPE_RD.max(axis=0)
    gx, gy = np.meshgrid(np.arange(lo[0], hi[0], GRID_SPACING_M), np.arange(lo[1], hi[1], GRID_SPACING_M))
    gx, gy = gx.ravel(), gy.ravel()
    inside = points_in_polygon(gx, gy, [ENVELOPE_RD])
    return np.concatenate([ex, gx[inside]]), np.concatenate([ey, gy[inside]])


def inside(x, y) -> np.ndarray:
    """Whether RD New points [m] lie inside the envelope."""
    return points_in_polygon(np.asarray(x, float), np.asarray(y, float), [ENVELOPE_RD])


def distance_to_envelope(x, y) -> np.ndarray:
    """Distance [m] from RD New points to the envelope (0 inside it)."""
    x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
    a, b = ENVELOPE_RD[:-1], ENVELOPE_RD[1:]
    edge = segment_distance(x, y, a[:, 0], a[:, 1], b[:, 0], b[:, 1]).min(axis=1)
    return np.where(inside(x, y), 0.0, edge)


def candidate_points(x, y, reach_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points of the envelope within ``reach_m`` of any of the source points ``x, y`` [m],
    plus the source points that lie inside it (the deposition next to the source).

    Empty arrays when no source lies within ``reach_m`` of the envelope (the common case:
    a bounding-box test and one distance per source point, no point set built).
    """
    x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
    lo, hi = ENVELOPE_RD.min(axis=0) - reach_m, ENVELOPE_RD.max(axis=0) + reach_m
    box = (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
    if not box.any():
        return np.empty(0), np.empty(0)
    x, y = x[box], y[box]
    near = distance_to_envelope(x, y) <= reach_m
    if not near.any():
        return np.empty(0), np.empty(0)
    x, y = x[near], y[near]
    px, py = _all_points()
    hits = cKDTree(np.column_stack([x, y])).query_ball_point(np.column_stack([px, py]), reach_m,
                                                              return_length=True)
    keep = hits > 0
    own = inside(x, y)
    # sources inside it: one point per 50 m cell (thousands of area elements on one site
    # would otherwise each add a point)
    cells = np.unique(np.round(np.column_stack([x[own], y[own]]) / INSIDE_CELL_M), axis=0) * INSIDE_CELL_M
    return np.concatenate([px[keep], cells[:, 0]]), np.concatenate([py[keep], cells[:, 1]])
