"""AERIUS receptor grid, WGS84 conversion, receptor selection and user receptor files.

Reference values: the AERIUS grid check values of ``../shared/docs/domain.md`` section 2.3
(tolerance 0.01 m, the precision they are given with).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stikstofcalc.errors import InputError, MultipleInputErrors, RangeError, StikstofError
from stikstofcalc.geo.receptors import (HEXAGON_AREA_M2, HEXAGON_HEIGHT_M, HEXAGON_RADIUS_M,
    HEXAGONS_PER_ROW, collapse_receptors, default_receptors, distance_to_sources, hexagon_vertices,
    rd_to_wgs84, read_receptor_file, receptor_id_to_xy, receptors_within, wgs84_to_rd, xy_to_receptor_id)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
VELUWE_KDW = SHARED / "data" / "aerius_clip" / "veluwe_relevant_habitat_types_nijkerk15km.csv"

CHECK = [(1, 3604.0, 296800.0), (4706906, 123279.78, 462176.31), (9184376, 227135.29, 619493.35)]


# ----------------------------------------------------------------------------- grid


@pytest.mark.parametrize("rid, x, y", CHECK)
def test_check_values_id_to_xy(rid, x, y):
    cx, cy = receptor_id_to_xy(rid)
    assert cx == pytest.approx(x, abs=0.01) and cy == pytest.approx(y, abs=0.01)


@pytest.mark.parametrize("rid, x, y", CHECK)
def test_check_values_xy_to_id(rid, x, y):
    assert int(xy_to_receptor_id(x, y)) == rid


def test_grid_constants():
    assert HEXAGON_RADIUS_M == pytest.approx(62.0403, abs=1e-4)
    assert 1.5 * math.sqrt(3) * HEXAGON_RADIUS_M**2 == pytest.approx(HEXAGON_AREA_M2)
    # hexagon corners: six of them, all at r from the centre
    v = hexagon_vertices(4706906)
    x, y = receptor_id_to_xy(4706906)
    assert v.shape == (6, 2)
    np.testing.assert_allclose(np.hypot(v[:, 0] - x, v[:, 1] - y), HEXAGON_RADIUS_M)


def test_neighbours_are_sqrt3_r_apart():
    rid = 4706906
    x, y = receptor_id_to_xy(rid)
    ang = np.deg2rad(30 + 60 * np.arange(6))  # flat-topped: neighbours at 30, 90, ... degrees
    d = HEXAGON_HEIGHT_M
    nb = xy_to_receptor_id(x + d * np.cos(ang), y + d * np.sin(ang))
    assert len(set(nb.tolist())) == 6 and rid not in nb
    nx, ny = receptor_id_to_xy(nb)
    np.testing.assert_allclose(np.hypot(nx - x, ny - y), math.sqrt(3) * HEXAGON_RADIUS_M)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, HEXAGONS_PER_ROW * 9000), min_size=1, max_size=50))
def test_id_xy_id_round_trip(ids):
    x, y = receptor_id_to_xy(ids)
    np.testing.assert_array_equal(xy_to_receptor_id(x, y), ids)


def _brute_nearest(px, py):
    """Nearest centre among all centres of the 5 x 5 rows/columns around the point."""
    k0 = int(round((py - 296800.0) / (HEXAGON_HEIGHT_M / 2)))
    c0 = int(round((px - 3604.0) / (3 * HEXAGON_RADIUS_M)))
    ids = [k * HEXAGONS_PER_ROW + c + 1 for k in range(k0 - 3, k0 + 4)
           for c in range(c0 - 2, c0 + 3) if 0 <= c < HEXAGONS_PER_ROW and k >= 0]
    x, y = receptor_id_to_xy(ids)
    d = np.hypot(x - px, y - py)
    return np.asarray(ids)[np.argsort(d)], np.sort(d)


@settings(max_examples=500, deadline=None)
@given(st.floats(10_000, 280_000), st.floats(300_000, 620_000))
def test_point_maps_to_nearest_centre(px, py):
    rid = int(xy_to_receptor_id(px, py))
    ids, d = _brute_nearest(px, py)
    cx, cy = receptor_id_to_xy(rid)
    dist = math.hypot(cx - px, cy - py)
    assert dist == pytest.approx(d[0], abs=1e-6)  # nearest (ties allowed)
    # and inside the exact flat-topped hexagon of that centre
    dx, dy = abs(px - cx), abs(py - cy)
    assert dy <= HEXAGON_HEIGHT_M / 2 + 1e-6
    assert dx <= HEXAGON_RADIUS_M - dy / math.sqrt(3) + 1e-6


@settings(max_examples=200, deadline=None)
@given(st.integers(1, HEXAGONS_PER_ROW * 9000), st.floats(0, 0.999), st.floats(0, 2 * math.pi))
def test_points_inside_hexagon_keep_its_id(rid, frac, angle):
    if rid % HEXAGONS_PER_ROW in (0, 1):  # edge columns: the point may leave the grid
        return
    x, y = receptor_id_to_xy(rid)
    # any point within the inscribed circle (apothem) belongs to the hexagon
    rho = frac * HEXAGON_HEIGHT_M / 2
    assert int(xy_to_receptor_id(x + rho * math.cos(angle), y + rho * math.sin(angle))) == rid


def test_vectorised_shapes():
    x, y = receptor_id_to_xy(np.array([[1, 2], [3, 4]]))
    assert x.shape == (2, 2)
    assert xy_to_receptor_id(x, y).tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("bad", [0, -5, 1.5, np.nan, "12"])
def test_bad_ids(bad):
    with pytest.raises(RangeError) as exc:
        receptor_id_to_xy(np.array([bad]))
    assert "receptor_id" in str(exc.value)
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, StikstofError)


def test_points_off_grid():
    with pytest.raises(RangeError, match="x, y"):
        xy_to_receptor_id([-50_000.0, 155_000.0], [463_000.0, 463_000.0])
    assert xy_to_receptor_id([-50_000.0, 155_000.0], [463_000.0, 463_000.0],
                             outside="zero")[0] == 0
    with pytest.raises(RangeError):
        xy_to_receptor_id(np.nan, 463_000.0)


# ----------------------------------------------------------------------------- selection


def test_receptors_within_matches_brute_force():
    px, py, radius = 155_123.0, 463_456.0, 600.0
    got = receptors_within(px, py, radius_m=radius)
    k0 = int((py - 296800) / (HEXAGON_HEIGHT_M / 2))
    c0 = int((px - 3604) / (3 * HEXAGON_RADIUS_M))
    cand = np.array([k * HEXAGONS_PER_ROW + c + 1 for k in range(k0 - 20, k0 + 21)
                     for c in range(c0 - 10, c0 + 11)])
    x, y = receptor_id_to_xy(cand)
    want = np.sort(cand[np.hypot(x - px, y - py) <= radius])
    np.testing.assert_array_equal(got, want)


def test_receptors_within_25km_count():
    n = receptors_within(155_000.0, 463_000.0).size
    expected = math.pi * 25_000.0**2 / HEXAGON_AREA_M2  # 196,350 hexagons
    assert abs(n - expected) / expected < 0.002


def test_distance_to_points_and_segments():
    # receptor at (0, 10); segment from (-5, 0) to (5, 0): 10 m; point at (0, 30): 20 m
    d = distance_to_sources([0.0, 20.0], [10.0, 0.0], [-5.0, 0.0], [0.0, 30.0],
                            [5.0, np.nan], [0.0, np.nan])
    np.testing.assert_allclose(d, [10.0, 15.0])
    # beyond the pre-filter distance: inf
    assert np.isinf(distance_to_sources([1e5], [0.0], [0.0], [0.0], max_distance_m=100.0))[0]


@settings(max_examples=50, deadline=None)
@given(st.floats(-1000, 1000), st.floats(-1000, 1000), st.floats(0, 1))
def test_segment_distance_is_min_over_densified_points(rx, ry, _):
    sx, sy, ex, ey = -300.0, -100.0, 400.0, 250.0
    d = distance_to_sources([rx], [ry], [sx], [sy], [ex], [ey])[0]
    t = np.linspace(0, 1, 20001)
    dd = np.hypot(sx + t * (ex - sx) - rx, sy + t * (ey - sy) - ry).min()
    assert d == pytest.approx(dd, abs=0.05) and d <= dd + 1e-9


# ----------------------------------------------------------------------------- WGS84


def test_wgs84_amersfoort():
    # Amersfoort reference point of RD: (155000, 463000); PROJ without RDNAPTRANS: < 1 m
    x, y = wgs84_to_rd(52.15517440, 5.38720621)
    assert abs(x - 155_000) < 1.0 and abs(y - 463_000) < 1.0


@settings(max_examples=30, deadline=None)
@given(st.floats(20_000, 270_000), st.floats(310_000, 610_000))
def test_wgs84_round_trip(x, y):
    lat, lon = rd_to_wgs84(x, y)
    x2, y2 = wgs84_to_rd(lat, lon)
    assert abs(x2 - x) < 1e-3 and abs(y2 - y) < 1e-3


def test_wgs84_swapped_lat_lon_refused():
    with pytest.raises(RangeError, match="lat, lon"):
        wgs84_to_rd(5.387, 52.155)


# ----------------------------------------------------------------------------- default set

NIJKERK = (161_750.0, 470_200.0)  # centre of Nijkerk (52.220 N, 5.486 E), RD New [m]


def test_default_receptors_near_nijkerk():
    df = default_receptors(*NIJKERK)
    assert list(df.columns) == ["receptor_id", "x", "y", "n2k_number", "area_name", "distance_m"]
    assert (df["distance_m"] <= 25_000).all()
    assert df["receptor_id"].is_monotonic_increasing and df["receptor_id"].is_unique
    assert 57 in set(df["n2k_number"])  # Veluwe lies within 25 km of Nijkerk
    assert (df.loc[df.n2k_number == 57, "area_name"] == "Veluwe").all()
    notes = " ".join(df.attrs["notes"])
    assert "voortoets" in notes and "Waddenzee (1)" in notes and "CC BY 4.0" in notes
    # coordinates are the grid centres of the ids
    x, y = receptor_id_to_xy(df["receptor_id"].to_numpy())
    np.testing.assert_allclose(df["x"], x) and np.testing.assert_allclose(df["y"], y)


def test_default_receptors_equals_brute_force():
    from stikstofcalc.geo.natura2000 import load_natura2000

    n2k = load_natura2000()
    px, py, radius = 185_000.0, 465_000.0, 5_000.0
    got = default_receptors(px, py, radius_m=radius)["receptor_id"].to_numpy()
    allid = receptors_within(px, py, radius_m=radius)
    area = n2k.area_of(allid)
    sensitive = n2k.areas.index[n2k.areas.nitrogen_sensitive].to_numpy()
    want = allid[np.isin(area, sensitive)]
    np.testing.assert_array_equal(got, want)
    assert want.size > 1000


def test_default_receptors_line_source_reaches_further_than_its_ends():
    # a 20 km east-west line; its midpoint is 24 km from receptors that are > 25 km
    # from both end points
    line = default_receptors(150_000.0, 440_000.0, 170_000.0, 440_000.0, radius_m=10_000.0)
    ends = default_receptors([150_000.0, 170_000.0], [440_000.0, 440_000.0], radius_m=10_000.0)
    assert set(ends.receptor_id) < set(line.receptor_id)


def test_default_receptors_none_within_radius_is_empty_not_error():
    df = default_receptors(121_000.0, 487_500.0, radius_m=300.0)  # Amsterdam, Dam square
    assert df.empty and "notes" in df.attrs


def test_default_receptors_all_areas_is_superset():
    a = default_receptors(*NIJKERK, radius_m=10_000.0)
    b = default_receptors(*NIJKERK, radius_m=10_000.0, nitrogen_sensitive_only=False)
    assert set(a.receptor_id) <= set(b.receptor_id)


def test_default_receptors_bad_input():
    with pytest.raises(InputError):
        default_receptors([], [])
    with pytest.raises(InputError):
        default_receptors([1.0, 2.0], [1.0])


# ----------------------------------------------------------------------------- user file


def _write(tmp_path, text, name="rec.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_read_ids_only(tmp_path):
    df = read_receptor_file(_write(tmp_path, "receptor_id\n4706906\n1\n"))
    assert df["receptor_id"].tolist() == [4706906, 1]
    assert df["x"].iloc[0] == pytest.approx(123279.78, abs=0.01)
    assert df["row"].tolist() == [2, 3] and df["relevant"].all()


def test_read_xy_semicolon_decimal_comma(tmp_path):
    df = read_receptor_file(_write(tmp_path, "X;Y;Gebied\n123279,78;462176,31;Test\n"))
    assert df["receptor_id"].tolist() == [4706906]
    assert df["x"].iloc[0] == 123279.78  # the user's point is kept, not moved to the centre
    assert df["area_name"].iloc[0] == "Test"


def test_read_lat_lon(tmp_path):
    df = read_receptor_file(_write(tmp_path, "lat,lon\n52.15517440,5.38720621\n"))
    assert abs(df["x"].iloc[0] - 155_000) < 1 and abs(df["y"].iloc[0] - 463_000) < 1


def test_read_excel(tmp_path):
    p = tmp_path / "rec.xlsx"
    pd.DataFrame({"receptor_id": [4706906], "KDW": [714], "achtergronddepositie": [700.0]}).to_excel(
        p, index=False)
    df = read_receptor_file(p)
    assert df["relevant"].tolist() == [True]  # 700 > 714 - 70


def test_read_bad_cells_all_reported(tmp_path):
    p = _write(tmp_path, "x,y,kdw,background_deposition\n155000,463000,abc,800\n"
                         "155000,,700,800\n10,20,700,800\n")
    with pytest.raises(MultipleInputErrors) as exc:
        read_receptor_file(p)
    msg = str(exc.value)
    assert len(exc.value.errors) == 3
    assert "rij 2" in msg and "veld kdw" in msg and "'abc'" in msg and "een getal" in msg
    assert "(rij 3), veld y: ontbreekt; verwacht: y naast x (RD New, m)" in msg
    assert "rij 4" in msg and "RD New" in msg
    assert str(p) in msg


def test_read_no_coordinate_columns(tmp_path):
    with pytest.raises(InputError, match="receptor_id, of x en y"):
        read_receptor_file(_write(tmp_path, "name,kdw\na,700\n"))


def test_read_id_xy_clash(tmp_path):
    with pytest.raises(MultipleInputErrors, match="ligt: 4706906"):
        read_receptor_file(_write(tmp_path, "receptor_id,x,y\n1,123279.78,462176.31\n"))


def test_read_kdw_without_background(tmp_path):
    with pytest.raises(MultipleInputErrors, match="background_deposition"):
        read_receptor_file(_write(tmp_path, "receptor_id,kdw\n1,700\n"))


def test_read_bad_flag_and_id(tmp_path):
    with pytest.raises(MultipleInputErrors) as exc:
        read_receptor_file(_write(tmp_path, "receptor_id,overbelast\n0,misschien\n"))
    msg = str(exc.value)
    assert "receptornummer >= 1" in msg and "'misschien'" in msg


def test_read_missing_file_and_bad_extension(tmp_path):
    with pytest.raises(InputError, match="niet gevonden"):
        read_receptor_file(tmp_path / "nope.csv")
    with pytest.raises(InputError, match=".csv- of .xlsx-bestand"):
        read_receptor_file(_write(tmp_path, "x", name="rec.json"))


def test_exceeding_flag_overrides_kdw(tmp_path):
    df = read_receptor_file(_write(tmp_path, "receptor_id,kdw,background,exceeding\n"
                                             "1,1000,500,ja\n2,1000,990,nee\n3,1000,990,\n"))
    assert df["relevant"].tolist() == [True, False, True]


@pytest.mark.skipif(not VELUWE_KDW.exists(), reason="../shared/data/aerius_clip not present")
def test_relevance_with_aerius_veluwe_kdw(tmp_path):
    """Fixture: AERIUS 2025 relevant habitat types of the Veluwe near Nijkerk (KDW values).

    Builds a user receptor file on real Veluwe hexagons near Nijkerk, one row per habitat
    type with its AERIUS KDW, and a background just above/below KDW - 70.
    """
    hab = pd.read_csv(VELUWE_KDW)
    assert (hab["n2k_number"] == 57).all() and hab["kdw_mol_per_ha_per_year"].max() < 2400
    rec = default_receptors(*NIJKERK, radius_m=15_000.0)
    ids = rec.loc[rec.n2k_number == 57, "receptor_id"].to_numpy()[: len(hab)]
    kdw = hab["kdw_mol_per_ha_per_year"].to_numpy(dtype=float)
    background = kdw - 70 + np.where(np.arange(len(hab)) % 2 == 0, 0.5, -0.5)
    table = pd.DataFrame({"receptor_id": ids, "gebied": hab["natura2000_area"],
                          "habitat_code": hab["habitat_code"], "KDW": kdw,
                          "achtergronddepositie": background})
    p = tmp_path / "veluwe.csv"
    table.to_csv(p, index=False)
    df = read_receptor_file(p)
    assert df["relevant"].tolist() == (np.arange(len(hab)) % 2 == 0).tolist()
    assert (df["area_name"] == "Veluwe").all()
    # margin is a parameter: with 0 only background above KDW counts
    assert not read_receptor_file(p, margin=0.0)["relevant"].any()
    # several habitat rows on one hexagon collapse to one receptor, relevant if any is
    two = table.iloc[:2].assign(receptor_id=ids[0])
    p2 = tmp_path / "one_hexagon.csv"
    two.to_csv(p2, index=False)
    col = collapse_receptors(read_receptor_file(p2))
    assert len(col) == 1 and bool(col["relevant"].iloc[0]) and col["n_rows"].iloc[0] == 2
    assert col["kdw"].iloc[0] == kdw[:2].min()


def test_receptors_within_segment():
    seg = receptors_within(150_000.0, 440_000.0, 152_000.0, 440_000.0, radius_m=300.0)
    mid = receptors_within(151_000.0, 440_000.0, radius_m=300.0)
    assert set(mid) < set(seg)
    x, y = receptor_id_to_xy(seg)
    d = distance_to_sources(x, y, [150_000.0], [440_000.0], [152_000.0], [440_000.0])
    assert (d <= 300.0).all()


def test_outside_argument_checked():
    with pytest.raises(ValueError, match="outside"):
        xy_to_receptor_id(155_000.0, 463_000.0, outside="clip")


def test_read_row_with_more_cells_than_column_names(tmp_path):
    """A row with one cell too many made pandas take the first column as an index and
    shift every column one to the left: receptor 1400 instead of 4574147, exit 0."""
    with pytest.raises(InputError, match="4 cellen maar 3 kolomnamen") as exc:
        read_receptor_file(_write(tmp_path, "receptor_id,kdw,background_deposition\n"
                                            "4574147,1400,1500,9\n"))
    assert exc.value.row == 2


@pytest.mark.parametrize("kdw,bg", [("1e12", "1500"), ("-700", "1500"), ("0", "1500"), ("700", "1e9")])
def test_read_kdw_and_background_out_of_range(tmp_path, kdw, bg):
    """kdw = 1e12 made every hexagon irrelevant (verdict 'geen vergunning nodig'); a
    negative KDW was accepted."""
    with pytest.raises(MultipleInputErrors, match="buiten het toegestane bereik") as exc:
        read_receptor_file(_write(tmp_path, f"receptor_id,kdw,background_deposition\n4574147,{kdw},{bg}\n"))
    assert "rij 2" in str(exc.value)


def test_read_kdw_in_range_is_read(tmp_path):
    df = read_receptor_file(_write(tmp_path, "receptor_id,kdw,background_deposition\n4574147,2400,0\n"))
    assert df.kdw.iloc[0] == 2400 and df.background_deposition.iloc[0] == 0


@pytest.mark.parametrize("z0_col, lu_col", [("z_0", "land_use"), ("ruwheid_m", "landgebruik")])
def test_terrain_column_spellings_are_read(tmp_path, z0_col, lu_col):
    """'z_0', 'ruwheid_m' and 'land_use' were ignored (calc: a note; deposition: silently),
    and the map's z0 replaced the user's own."""
    df = read_receptor_file(_write(tmp_path, f"receptor_id,{z0_col},{lu_col}\n4574147,0.8,4\n"))
    assert df.z0_m.iloc[0] == 0.8 and df.landuse.iloc[0] == 4


def test_read_duplicate_column_name(tmp_path):
    """A column given twice is named (pandas used to rename it 'kdw.1', and the message spoke
    of a missing background_deposition)."""
    with pytest.raises(InputError, match="kolom 'kdw' staat meer dan eens in de kopregel"):
        read_receptor_file(_write(tmp_path, "receptor_id,kdw,kdw,background_deposition\n4574147,700,800,1500\n"))


@pytest.mark.parametrize("header", ["exceeding", "overbelast", "overschrijding", "Overschrijding"])
def test_the_exceeding_flag_under_its_dutch_names(tmp_path, header):
    """'overschrijding', named in calc --help, was not read: both hexagons counted (review)."""
    rec = read_receptor_file(_write(tmp_path, f"receptor_id,{header}\n4574147,nee\n4575677,ja\n"))
    assert rec["relevant"].tolist() == [False, True]
