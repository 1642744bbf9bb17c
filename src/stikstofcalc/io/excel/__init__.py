"""Excel and CSV in and out for batches: the template, reading case workbooks, results.

- :mod:`.schema`   the sheets and columns of a case workbook (one definition for the
  template, the reader, the toelichting sheet and the docs);
- :mod:`.template` ``stikstofcalc template``: an empty workbook with dropdowns and examples;
- :mod:`.reader`   a workbook or CSV -> :class:`~.reader.RawBook` (cells verbatim, row numbers);
- :mod:`.results`  the results workbook (resultaten, bronnen, fouten, invoer, herkomst).

No computation happens here: :mod:`stikstofcalc.batch.run` validates and computes.
"""
