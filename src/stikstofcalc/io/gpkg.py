"""A minimal GeoPackage (OGC 12-128r18, version 1.2) writer and reader with the standard
library's sqlite3: AERIUS hexagons as polygons in RD New (EPSG:28992).

Why not a library: fiona / GDAL bindings / geopandas pull in GDAL (tens of MB, native
builds) for one table of polygons; the GeoPackage format is a SQLite file with three
required metadata tables and geometries as a small binary header plus WKB, which is
about 100 lines here. The file opens in QGIS and ``ogrinfo`` (tested when installed).

Hexagons: an AERIUS receptor id gives the hexagon centre (``docs/receptors.md``): ``i = id - 1``, ``c = i mod 1529``, ``k = i div 1529``,
``x = 3604 + 3 r c (+ 1.5 r for odd k)``, ``y = 296800 + k sqrt(3) r / 2`` with
``r = 62.0403 m``; the hexagon is flat-topped with circumradius ``r`` (area 1 ha).
"""

from __future__ import annotations

import math
import os
import sqlite3
import struct
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from stikstofcalc.errors import InputError

#: Circumradius of an AERIUS hexagon [m] (area 3 sqrt(3)/2 r^2 = 1.0000 ha).
HEX_RADIUS_M = 62.0403
#: EPSG:28992 (Amersfoort / RD New), the definition GDAL writes.
RD_WKT = ('PROJCS["Amersfoort / RD New",GEOGCS["Amersfoort",DATUM["Amersfoort",SPHEROID["Bessel 1841",'
          '6377397.155,299.1528128]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],'
          'PROJECTION["Oblique_Stereographic"],PARAMETER["latitude_of_origin",52.1561605555556],'
          'PARAMETER["central_meridian",5.38763888888889],PARAMETER["scale_factor",0.9999079],'
          'PARAMETER["false_easting",155000],PARAMETER["false_northing",463000],UNIT["metre",1],'
          'AUTHORITY["EPSG","28992"]]')
_APPLICATION_ID = 0x47504B47  # "GPKG"
_USER_VERSION = 10200


def hexagon_centres(receptor_id) -> tuple[np.ndarray, np.ndarray]:
    """Centre of AERIUS hexagons from their receptor ids, RD New [m]."""
    i = np.asarray(receptor_id, dtype=np.int64) - 1
    c, k = i % 1529, i // 1529
    r = HEX_RADIUS_M
    x = 3604.0 + 3.0 * r * c + np.where(k % 2 == 1, 1.5 * r, 0.0)
    y = 296800.0 + k * math.sqrt(3.0) * r / 2.0
    return x, y


def hexagon_rings(x, y, radius: float = HEX_RADIUS_M) -> np.ndarray:
    """Closed rings of flat-topped hexagons around centres, shape (n, 7, 2) [m]."""
    ang = np.deg2rad(np.arange(0, 420, 60))
    x, y = np.asarray(x, float), np.asarray(y, float)
    return np.stack([x[:, None] + radius * np.cos(ang), y[:, None] + radius * np.sin(ang)], axis=2)


def _gpkg_blob(ring: np.ndarray, srs_id: int) -> bytes:
    """GeoPackageBinary: header (magic, version 0, flags: little endian + envelope xy) + WKB polygon."""
    xmin, ymin = ring.min(axis=0)
    xmax, ymax = ring.max(axis=0)
    header = b"GP" + bytes([0, 0b00000011]) + struct.pack("<i4d", srs_id, xmin, xmax, ymin, ymax)
    wkb = struct.pack("<BIII", 1, 3, 1, ring.shape[0]) + ring.astype("<f8").tobytes()
    return header + wkb


_SQL_TYPES = {"i": "INTEGER", "u": "INTEGER", "b": "BOOLEAN", "f": "REAL"}


def write_gpkg(frame: pd.DataFrame, path, *, table: str = "depositie", x="x", y="y",
               radius: float = HEX_RADIUS_M, srs_id: int = 28992) -> Path:
    """Write one polygon feature table of hexagons (one per row) atomically.

    Parameters
    ----------
    frame : DataFrame
        Attribute columns (numbers, booleans, text); ``x``, ``y`` the hexagon centres [m].
    path : path
        The ``.gpkg`` to write (replaced atomically).
    """
    path = Path(path)
    if not table.isidentifier():
        raise InputError(field="table", value=table, expected="een eenvoudige tabelnaam (letters, cijfers en _)")
    cols = [c for c in frame.columns if str(c) != "geom"]
    types = {c: _SQL_TYPES.get(frame[c].dtype.kind, "TEXT") for c in cols}
    rings = hexagon_rings(frame[x].to_numpy(float), frame[y].to_numpy(float), radius)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(fd)
    os.unlink(tmp)
    try:
        con = sqlite3.connect(tmp)
        try:
            cur = con.cursor()
            cur.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            cur.execute(f"PRAGMA user_version = {_USER_VERSION}")
            cur.execute("CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL "
                        "PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, "
                        "definition TEXT NOT NULL, description TEXT)")
            cur.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", [
                ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
                ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
                ("WGS 84 geodetic", 4326, "EPSG", 4326,
                 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],'
                 'UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]', "longitude/latitude WGS 84"),
                ("Amersfoort / RD New", 28992, "EPSG", 28992, RD_WKT, "RD New")])
            cur.execute("CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, "
                        "identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT "
                        "(strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, "
                        "max_y DOUBLE, srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES "
                        "gpkg_spatial_ref_sys(srs_id))")
            cur.execute("CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
                        "geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, "
                        "m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), "
                        "CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), "
                        "CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))")
            fields = ", ".join(f'"{c}" {types[c]}' for c in cols)
            cur.execute(f'CREATE TABLE "{table}" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
                        f'geom POLYGON{", " + fields if fields else ""})')
            if len(frame):
                ext = (float(rings[..., 0].min()), float(rings[..., 1].min()),
                       float(rings[..., 0].max()), float(rings[..., 1].max()))
            else:
                ext = (None, None, None, None)
            cur.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, "
                        "max_x, max_y, srs_id) VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?)",
                        (table, table, "stikstofcalc: depositie per hexagon", *ext, srs_id))
            cur.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'POLYGON', ?, 0, 0)", (table, srs_id))
            values = [frame[c].tolist() for c in cols]
            # missing values (NaN, pandas' NA of nullable columns) as SQL NULL
            values = [[None if v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v for v in col]
                      for col in values]
            blobs = [_gpkg_blob(r, srs_id) for r in rings]
            marks = ", ".join("?" * (len(cols) + 1))
            names = ", ".join(["geom"] + [f'"{c}"' for c in cols])
            cur.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', zip(blobs, *values))
            con.commit()
        finally:
            con.close()
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_gpkg_receptors(path) -> pd.DataFrame:
    """The attribute table of the first feature table of a GeoPackage (``receptor_id`` and more).

    Point and polygon layers alike: only the attributes are read (the hexagon follows from
    ``receptor_id``). Raises InputError for a file that is not a GeoPackage.
    """
    path = Path(path)
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        raise InputError("geen leesbare GeoPackage", file=str(path)) from None
    try:
        try:
            rows = con.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features' "
                               "ORDER BY table_name").fetchall()
        except sqlite3.DatabaseError:
            raise InputError("geen GeoPackage (geen SQLite-database met gpkg_contents)", file=str(path),
                             expected="een .gpkg met een tabel gpkg_contents") from None
        if not rows:
            raise InputError("de GeoPackage heeft geen objectenlaag", file=str(path),
                             expected="een laag met een kolom receptor_id")
        table = rows[0][0]
        geom = {r[0] for r in con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                                          (table,)).fetchall()}
        cur = con.execute(f'SELECT * FROM "{table}"')
        names = [d[0] for d in cur.description]
        data = cur.fetchall()
    finally:
        con.close()
    keep = [i for i, n in enumerate(names) if n not in geom]
    return pd.DataFrame([[r[i] for i in keep] for r in data], columns=[names[i] for i in keep])
