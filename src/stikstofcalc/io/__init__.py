"""Files in and out: atomic writes, tables, the report, Excel, IMAER, GeoPackage.

- :mod:`.atomic`  the one place where a file is put on disk (atomically, never over an input);
- :mod:`.tables`  deposition source and receptor tables (CSV/Excel), read faithfully;
- :mod:`.report`  the readable report and the JSON/CSV/GeoPackage results of an assessment;
- :mod:`.gpkg`    a minimal GeoPackage writer and reader (standard library ``sqlite3``);
- :mod:`.excel`   case workbooks: schema, template, reader, results;
- :mod:`.imaer`   AERIUS interchange: IMAER GML in and out, PDFs, re-checks.
"""
