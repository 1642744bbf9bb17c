"""Source geometry: WKT reader, polygon -> squares, polyline -> segments (no kernel involved)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stikstofcalc.geo import geometry as geo
from stikstofcalc.errors import InputError

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ring_wkt(ring):
    return "(" + ", ".join(f"{float(x)!r} {float(y)!r}" for x, y in ring) + ")"


def star_ring(cx, cy, radii, phase, jitter):
    """A simple (star-shaped, possibly concave) closed counter-clockwise ring."""
    n = len(radii)
    ang = phase + 2 * np.pi * (np.arange(n) + 0.4 * np.asarray(jitter)) / n
    ring = np.c_[cx + np.asarray(radii) * np.cos(ang), cy + np.asarray(radii) * np.sin(ang)]
    return np.vstack([ring, ring[:1]])


@st.composite
def polygons(draw, with_hole=None):
    n = draw(st.integers(5, 14))
    rmin = draw(st.floats(5.0, 400.0))
    radii = draw(st.lists(st.floats(1.0, 3.0), min_size=n, max_size=n))
    jitter = draw(st.lists(st.floats(-1.0, 1.0), min_size=n, max_size=n))
    phase = draw(st.floats(0, 2 * np.pi))
    cx, cy = draw(st.floats(10_000, 280_000)), draw(st.floats(310_000, 610_000))
    ext = star_ring(cx, cy, rmin * np.asarray(radii), phase, jitter)
    rings = [ext]
    if with_hole if with_hole is not None else draw(st.booleans()):
        h = 0.3 * rmin  # inside the disc of radius ~0.59 rmin the star always contains
        rings.append(np.array([[cx - h, cy - h], [cx - h, cy + h], [cx + h, cy + h],
                               [cx + h, cy - h], [cx - h, cy - h]]))
    return geo.parse_wkt("POLYGON (" + ", ".join(ring_wkt(r) for r in rings) + ")")


# ---------------------------------------------------------------- WKT

def test_parse_kinds():
    p = geo.parse_wkt("POINT (172000 460000)")
    assert p.kind == "point" and p.coords.tolist() == [[172000, 460000]]
    ls = geo.parse_wkt("linestring(0 0, 3 4, 3 4, 6 8)")
    assert ls.kind == "linestring" and ls.length_m == pytest.approx(10.0)
    poly = geo.parse_wkt("SRID=28992;POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0), "
                         "(20 20, 20 40, 40 40, 40 20, 20 20))")
    assert poly.kind == "polygon" and poly.area_m2 == pytest.approx(10_000 - 400)
    mp = geo.parse_wkt("MULTIPOLYGON (((0 0, 10 0, 10 10, 0 0)), ((20 0, 30 0, 30 10, 20 0)))")
    assert mp.kind == "polygon" and len(mp.polygons) == 2 and mp.area_m2 == pytest.approx(100)


def test_orientation_normalised():
    cw = geo.parse_wkt("POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (2 2, 4 2, 4 4, 2 4, 2 2))")
    ext, hole = cw.polygons[0]
    assert geo._signed_area(ext) > 0 > geo._signed_area(hole)


@pytest.mark.parametrize("text, fragment", [
    ("POLYGON ((0 0, 1 0, 1 1, 0 0.5))", "niet gesloten"),
    ("POLYGON ((0 0, 1 0, 0 0))", "hoekpunten"),
    ("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (20 20, 20 30, 30 30, 20 20))", "niet binnen"),
    ("POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))", "snijdt zichzelf"),
    ("POLYGON ((0 0, 4 0, 4 4, 2 -1, 0 4, 0 0))", "snijdt zichzelf"),
    ("POLYGON ((0 0, 1 0, 2 0, 0 0))", "oppervlakte 0"),
    # a hole equal to its exterior: crashed calc (ValueError) and left deposition 0 kg
    ("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (0 0, 10 0, 10 10, 0 10, 0 0))", "bedekken de hele"),
    ("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((0 0, 10 0, 10 10, 0 10, 0 0), "
     "(0 0, 0 10, 10 10, 10 0, 0 0)))", "veelhoek 2 bedekken"),
    ("LINESTRING (1 1, 1 1)", "lengte 0"),
    ("LINESTRING (1 1)", "minstens 2"),
    ("POINT EMPTY", "lege geometrie"),
    ("POINT Z (1 2 3)", "Z"),
    ("POINT (1 2 3)", "3 coördinaten"),
    ("CIRCLE (1 2)", "niet ondersteund"),
    ("POLYGON ((0 0, 1 0, 1 1, 0 0)", "onjuiste WKT"),
    ("POINT (1 2) junk", "onverwachte tekst"),
    ("SRID=4326;POINT (5 52)", "SRID 4326"),
    ("172000 460000", "moet beginnen"),
    ("POINT (1 2", "onjuiste WKT"),
])
def test_invalid_wkt(text, fragment):
    with pytest.raises(InputError, match=fragment) as info:
        geo.parse_wkt(text)
    assert info.value.expected


# ---------------------------------------------------------------- clipping

def test_clip_moments_exact_for_unit_square():
    edges = np.array([[0, 0, 1, 0], [1, 0, 1, 1], [1, 1, 0, 1], [0, 1, 0, 0]], dtype=float)
    a, mx, my = geo.clip_moments(edges, [-1, 0.5, 0.25, 2], [-1, 0.5, -1, 2],
                                 [2, 1.5, 0.75, 3], [2, 1.5, 2, 3])
    np.testing.assert_allclose(a, [1, 0.25, 0.5, 0], atol=1e-14)
    np.testing.assert_allclose(mx, [0.5, 0.25 * 0.75, 0.25, 0], atol=1e-14)
    np.testing.assert_allclose(my, [0.5, 0.25 * 0.75, 0.25, 0], atol=1e-14)


@FAST
@given(polygons(), st.floats(0.1, 0.9), st.floats(0.1, 0.9))
def test_clip_area_additive_over_a_partition(geom, fx, fy):
    xmin, ymin, xmax, ymax = geom.bounds
    ox, oy = (xmin + xmax) / 2, (ymin + ymax) / 2
    edges = np.vstack([np.hstack([r[:-1], r[1:]]) for p in geom.polygons for r in p]) - [ox, oy] * 2
    x0, y0, x1, y1 = xmin - ox - 1, ymin - oy - 1, xmax - ox + 1, ymax - oy + 1
    xm, ym = x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)
    whole = geo.clip_moments(edges, [x0], [y0], [x1], [y1])
    parts = geo.clip_moments(edges, [x0, xm, x0, xm], [y0, y0, ym, ym], [xm, x1, xm, x1],
                             [ym, ym, y1, y1])
    assert whole[0][0] == pytest.approx(geom.area_m2, rel=1e-9)
    for w, p in zip(whole, parts, strict=True):
        assert p.sum() == pytest.approx(w[0], rel=1e-9, abs=1e-6 * geom.area_m2)
    assert (parts[0] >= -1e-9 * geom.area_m2).all()


# ---------------------------------------------------------------- polygon -> squares

@FAST
@given(polygons())
def test_polygon_squares_conserve_emission_and_stay_in_bbox(geom):
    x, y, side, w = geo.polygon_squares(geom)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert (w > 0).all() and (side > 0).all()
    assert len(x) <= geo.MAX_SQUARES and side.max() <= geo.MAX_SIDE_M
    xmin, ymin, xmax, ymax = geom.bounds
    tol = 1e-6 * max(xmax - xmin, ymax - ymin)
    assert (x - side / 2 >= xmin - tol).all() and (x + side / 2 <= xmax + tol).all()
    assert (y - side / 2 >= ymin - tol).all() and (y + side / 2 <= ymax + tol).all()
    # emission density is uniform: share / square area is the same for every square
    dens = w / side**2
    inner = side == side.max()
    np.testing.assert_allclose(dens[inner], 1 / geom.area_m2, rtol=1e-6)


@FAST
@given(polygons(with_hole=True))
def test_squares_avoid_the_hole(geom):
    x, y, side, w = geo.polygon_squares(geom, area_tolerance=0.05)
    hole = geom.polygons[0][1]
    # squares entirely inside the polygon never lie in the hole; a boundary square sits on
    # the centroid of its inside part, which for an L-shaped part may fall in the notch
    inside_hole = geo.points_in_polygon(x, y, [hole])
    assert not (inside_hole & (side == side.max())).any()
    assert w[inside_hole].sum() <= 0.05 + 1e-9


def test_tolerance_controls_coverage():
    g = geo.rectangle(172000, 460000, 120, 80, 30)
    assert g.area_m2 == pytest.approx(9600)
    coarse = geo.polygon_squares(g, area_tolerance=0.5)
    fine = geo.polygon_squares(g, area_tolerance=0.05)
    assert len(coarse[0]) < len(fine[0])
    # area in full (inside) squares is at least 1 - tolerance of the polygon
    x, y, side, w = fine
    full = geo.points_in_polygon(x - side / 2, y - side / 2, g.polygons[0], boundary=True) & \
        geo.points_in_polygon(x + side / 2, y + side / 2, g.polygons[0], boundary=True)
    assert w[full].sum() >= 0.95 - 1e-9


def test_axis_aligned_square_is_one_square():
    g = geo.parse_wkt("POLYGON ((172000 460000, 172050 460000, 172050 460050, 172000 460050, "
                      "172000 460000))")
    x, y, side, w = geo.polygon_squares(g)
    assert (x.tolist(), y.tolist(), side.tolist(), w.tolist()) == ([172025], [460025], [50], [1])


def test_large_polygon_respects_max_side():
    g = geo.rectangle(150_000, 450_000, 5000, 3000, 0)
    x, y, side, w = geo.polygon_squares(g)
    assert side.max() <= geo.MAX_SIDE_M and w.sum() == pytest.approx(1.0, abs=1e-12)


# ---------------------------------------------------------------- polylines

@FAST
@given(st.lists(st.tuples(st.floats(-500, 500), st.floats(-500, 500)), min_size=2, max_size=30))
def test_polyline_lengths_add_up(pts):
    pts = np.asarray(pts) + [172000, 460000]
    if np.hypot(*np.diff(pts, axis=0).T).sum() == 0:
        return
    g = geo.parse_wkt("LINESTRING " + ring_wkt(pts))
    sx, sy, ex, ey, w = geo.polyline_segments(g)
    seg = np.hypot(ex - sx, ey - sy)
    assert seg.sum() == pytest.approx(g.length_m, rel=1e-12)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(w, seg / seg.sum())
    assert (seg > 0).all()
    np.testing.assert_array_equal(sx[1:], ex[:-1])  # consecutive segments connect


# ---------------------------------------------------------------- expand

def test_expand_maps_children_to_parents_in_order():
    geoms = [None, geo.parse_wkt("LINESTRING (0 0, 10 0, 10 10)"), None,
             geo.rectangle(100, 100, 30, 20, 10), geo.parse_wkt("POINT (5 6)")]
    x = [1.0, np.nan, 2.0, np.nan, np.nan]
    el = geo.expand(x, x, [0, 0, 25, 0, 0], [np.nan, np.nan, np.nan, np.nan, np.nan],
                    [np.nan] * 5, geoms)
    assert (np.diff(el.parent) >= 0).all()
    assert set(el.parent) == {0, 1, 2, 3, 4}
    sums = np.bincount(el.parent, weights=el.weight)
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)
    assert el.area_side_m[el.parent == 2].tolist() == [25.0]
    assert np.isfinite(el.x_end[el.parent == 1]).all()
    assert (el.x[el.parent == 4], el.y[el.parent == 4]) == ([5.0], [6.0])


def test_points_in_polygon():
    ring = np.array([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], dtype=float)
    inside = geo.points_in_polygon([5, 15, 10, 0], [5, 5, 5, 0], [ring])
    assert inside.tolist() == [True, False, False, False]
    assert geo.points_in_polygon([10], [5], [ring], boundary=True).tolist() == [True]
