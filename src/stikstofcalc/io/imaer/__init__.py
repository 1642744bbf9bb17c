"""AERIUS interchange: IMAER 6.0 GML export, import of IMAER GML and AERIUS PDFs, re-checks.

- :func:`write_project` -- one IMAER 6.0 file per phase and calculation year of a project;
- :func:`read_gml`, :func:`read_any` -- IMAER 4.0-6.0 GML (and GML embedded in AERIUS PDFs);
- :func:`check_files` -- stated vs recomputed emissions, deposition, plausibility flags.

See ``docs/imaer.md``.
"""

from stikstofcalc.io.imaer.reader import read_gml  # noqa: F401
