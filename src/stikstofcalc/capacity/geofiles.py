"""GeoPackage and GeoTIFF writers without a GIS stack (stdlib ``sqlite3`` and ``struct``).

Why hand-written: a GeoPackage is an SQLite file with three metadata tables and geometry
blobs (a short header + WKB, OGC 12-128r18), and a single-band float GeoTIFF is a TIFF with
three GeoTIFF tags (OGC 19-008r4); both fit in a page of code. GDAL/fiona/rasterio would
add hundreds of MB of binaries to a package whose users mostly want a workbook; tifffile
would still need the GeoKey directory built by hand. Both writers are validated with
GDAL's ``ogrinfo``/``gdalinfo`` where installed (``tests/capacity/test_capacity_outputs.py``).

Both write atomically (temporary file in the target folder, then a rename).
"""

from __future__ import annotations

import datetime as dt
import errno
import math
import os
import sqlite3
import struct
from pathlib import Path

import numpy as np

from stikstofcalc.io.atomic import AtomicGroup

#: EPSG:28992 (Amersfoort / RD New) as WKT 1 (from pyproj at first use; the GeoPackage's
#: ``gpkg_spatial_ref_sys`` needs a definition).
RD_EPSG = 28992


def _atomic(path, write, group=None) -> Path:
    """Call ``write(tmp_path)`` on a temporary file of ``group`` (an
    :class:`~stikstofcalc.io.atomic.AtomicGroup`, default its own), renamed to ``path`` with it."""
    path = Path(path)
    if group is None:
        with AtomicGroup() as own:
            _atomic(path, write, own)
        return path
    tmp = group.path(path)
    os.remove(tmp)  # sqlite wants to create it
    write(tmp)
    return path


def _rd_wkt() -> str:
    from pyproj import CRS

    return CRS.from_epsg(RD_EPSG).to_wkt("WKT1_GDAL")


# --------------------------------------------------------------------------- GeoPackage


def _gpkg_header(srs_id: int, envelope=None) -> bytes:
    flags = 0x01 | ((1 << 1) if envelope is not None else 0)  # little endian; envelope xy
    head = b"GP" + bytes([0, flags]) + struct.pack("<i", srs_id)
    if envelope is not None:
        head += struct.pack("<4d", *envelope)
    return head


def point_blob(x: float, y: float, srs_id: int = RD_EPSG) -> bytes:
    """GeoPackage geometry blob of a point (no envelope)."""
    return _gpkg_header(srs_id) + struct.pack("<BIdd", 1, 1, float(x), float(y))


def polygon_blob(ring, srs_id: int = RD_EPSG) -> bytes:
    """GeoPackage geometry blob of a polygon with one closed ring (n, 2) [m]."""
    r = np.asarray(ring, float)
    if not np.array_equal(r[0], r[-1]):
        r = np.vstack([r, r[:1]])
    env = (r[:, 0].min(), r[:, 0].max(), r[:, 1].min(), r[:, 1].max())
    return (_gpkg_header(srs_id, env) + struct.pack("<BIII", 1, 3, 1, len(r))
            + r.astype("<f8").tobytes())


_SQL_TYPE = {"i": "INTEGER", "u": "INTEGER", "b": "BOOLEAN", "f": "DOUBLE"}


def write_geopackage(path, layers, *, group=None) -> Path:
    """Write feature layers to a GeoPackage (EPSG:28992).

    Parameters
    ----------
    path : path
        ``.gpkg`` file (replaced atomically).
    layers : list of (name, kind, geometries, frame, description)
        ``kind`` ``POINT`` (geometries (n, 2)) or ``POLYGON`` (list of rings); ``frame`` a
        DataFrame of attributes (n rows; numbers as DOUBLE/INTEGER, the rest as TEXT).
    """
    def write(tmp):
        try:
            con = sqlite3.connect(tmp)
            try:
                _write_gpkg(con, layers)
                con.commit()
            finally:
                con.close()
        except sqlite3.OperationalError as exc:  # "database or disk is full": a write error like any other
            code = _SQLITE_ERRNO.get((getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF)
            if code is None:
                raise
            raise OSError(code, os.strerror(code), str(path)) from exc

    return _atomic(path, write, group)


#: SQLite primary result codes of a write error -> errno (SQLITE_READONLY, IOERR, FULL, CANTOPEN).
_SQLITE_ERRNO = {8: errno.EROFS, 10: errno.EIO, 13: errno.ENOSPC, 14: errno.EACCES}


def _write_gpkg(con, layers):
    c = con.cursor()
    c.execute("PRAGMA application_id = 1196444487")  # 'GPKG'
    c.execute("PRAGMA user_version = 10300")
    c.execute("""CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
                 organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
                 definition TEXT NOT NULL, description TEXT)""")
    c.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
        ("WGS 84 geodetic", 4326, "EPSG", 4326,
         'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
         'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",'
         '0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]',
         "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
        ("Amersfoort / RD New", RD_EPSG, "EPSG", RD_EPSG, _rd_wkt(), "Rijksdriehoeksstelsel (RD New)")])
    c.execute("""CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
                 identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT
                 (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
                 srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES
                 gpkg_spatial_ref_sys(srs_id))""")
    c.execute("""CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
                 geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,
                 m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
                 CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
                 CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""")
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for name, kind, geoms, frame, description in layers:
        cols = list(frame.columns)
        types = [_SQL_TYPE.get(frame[k].dtype.kind, "TEXT") for k in cols]
        defs = ", ".join(f'"{k}" {t}' for k, t in zip(cols, types))
        c.execute(f'CREATE TABLE "{name}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {kind}'
                  + (f", {defs}" if defs else "") + ")")
        if kind == "POINT":
            xy = np.asarray(geoms, float).reshape(-1, 2)
            blobs = [point_blob(x, y) for x, y in xy]
            bb = (xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()) if len(xy) else (None,) * 4
        else:
            blobs = [polygon_blob(r) for r in geoms]
            allp = np.concatenate([np.asarray(r, float) for r in geoms]) if len(geoms) else np.zeros((0, 2))
            bb = ((allp[:, 0].min(), allp[:, 1].min(), allp[:, 0].max(), allp[:, 1].max()) if len(allp)
                  else (None,) * 4)
        rows = []
        values = [frame[k].tolist() for k in cols]
        for i, blob in enumerate(blobs):
            rows.append([blob] + [_sql_value(v[i]) for v in values])
        marks = ", ".join(["?"] * (len(cols) + 1))
        names = ", ".join(["geom"] + [f'"{k}"' for k in cols])
        c.executemany(f'INSERT INTO "{name}" ({names}) VALUES ({marks})', rows)
        c.execute("INSERT INTO gpkg_contents VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?, ?)",
                  (name, name, description, now, *(None if v is None else float(v) for v in bb), RD_EPSG))
        c.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)", (name, kind, RD_EPSG))


def _sql_value(v):
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    return v if isinstance(v, (int, str)) else str(v)


# --------------------------------------------------------------------------- GeoTIFF


def write_geotiff(path, values, *, x0: float, y0: float, step: float, nodata: float = -9999.0,
                  description: str = "", group=None) -> Path:
    """Write a float32 raster as a GeoTIFF in EPSG:28992.

    Parameters
    ----------
    values : ndarray, shape (n_rows, n_cols)
        Row 0 is the northern row; NaN is written as ``nodata``.
    x0, y0 : float
        RD coordinates of the upper-left corner of the upper-left cell [m].
    step : float
        Cell size [m].
    """
    a = np.asarray(values, np.float32)
    a = np.where(np.isnan(a), np.float32(nodata), a).astype("<f4")
    rows, cols = a.shape
    data = a.tobytes()
    desc = (description or "stikstofcalc").encode("ascii", "replace") + b"\0"
    nod = f"{nodata:g}".encode("ascii") + b"\0"
    geokeys = [1, 1, 0, 4,
               1024, 0, 1, 1,        # GTModelTypeGeoKey: projected
               1025, 0, 1, 1,        # GTRasterTypeGeoKey: PixelIsArea
               3072, 0, 1, RD_EPSG,  # ProjectedCSTypeGeoKey
               3076, 0, 1, 9001]     # ProjLinearUnitsGeoKey: metre
    # (tag, type, count, payload bytes); types: 2 ASCII, 3 SHORT, 4 LONG, 12 DOUBLE
    entries = [
        (256, 4, 1, struct.pack("<I", cols)), (257, 4, 1, struct.pack("<I", rows)),
        (258, 3, 1, struct.pack("<H", 32)), (259, 3, 1, struct.pack("<H", 1)),
        (262, 3, 1, struct.pack("<H", 1)), (270, 2, len(desc), desc),
        (273, 4, 1, None),  # StripOffsets: filled below
        (277, 3, 1, struct.pack("<H", 1)), (278, 4, 1, struct.pack("<I", rows)),
        (279, 4, 1, struct.pack("<I", len(data))), (284, 3, 1, struct.pack("<H", 1)),
        (339, 3, 1, struct.pack("<H", 3)),
        (33550, 12, 3, struct.pack("<3d", step, step, 0.0)),
        (33922, 12, 6, struct.pack("<6d", 0.0, 0.0, 0.0, x0, y0, 0.0)),
        (34735, 3, len(geokeys), struct.pack(f"<{len(geokeys)}H", *geokeys)),
        (42113, 2, len(nod), nod),
    ]
    ifd_at = 8
    extra_at = ifd_at + 2 + 12 * len(entries) + 4
    extra = b""
    offsets = {}
    for tag, typ, count, payload in entries:
        if payload is not None and len(payload) > 4:
            offsets[tag] = extra_at + len(extra)
            extra += payload + (b"\0" if len(payload) % 2 else b"")
    data_at = extra_at + len(extra)
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, payload in entries:
        if tag == 273:
            payload = struct.pack("<I", data_at)
        if len(payload) > 4:
            field_ = struct.pack("<I", offsets[tag])
        else:
            field_ = payload.ljust(4, b"\0")
        ifd += struct.pack("<HHI", tag, typ, count) + field_
    ifd += struct.pack("<I", 0)
    blob = b"II*\0" + struct.pack("<I", ifd_at) + ifd + extra + data

    def write(tmp):
        with open(tmp, "wb") as fh:
            fh.write(blob)

    return _atomic(path, write, group)


def read_geotiff_values(path) -> np.ndarray:
    """Read back what :func:`write_geotiff` wrote (float32, one strip) as (rows, cols)."""
    b = Path(path).read_bytes()
    (ifd,) = struct.unpack_from("<I", b, 4)
    (n,) = struct.unpack_from("<H", b, ifd)
    tags = {}
    for i in range(n):
        tag, typ, count, val = struct.unpack_from("<HHII", b, ifd + 2 + 12 * i)
        tags[tag] = val
    cols, rows, off = tags[256], tags[257], tags[273]
    return np.frombuffer(b, "<f4", count=rows * cols, offset=off).reshape(rows, cols)
