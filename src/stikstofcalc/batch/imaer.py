"""AERIUS files (IMAER GML) for every valid case of a batch workbook.

Validates the workbook as ``stikstofcalc batch`` does and writes each case with
:func:`stikstofcalc.io.imaer.writer.write_project`; lives in the batch layer because it
uses the batch's validation.
"""

from __future__ import annotations

from pathlib import Path

from stikstofcalc.batch.run import problem, validate_book
from stikstofcalc.errors import OutputError, StikstofError
from stikstofcalc.io.atomic import AtomicGroup, unique_names
from stikstofcalc.io.excel.reader import read_book
from stikstofcalc.io.imaer.writer import slug as folder_name, write_project


def write_workbook(path, outdir, *, year=None) -> tuple[dict, list]:
    """Write IMAER files for every valid case of a batch workbook (or CSV).

    Each case goes to its own folder ``OUTDIR/<case id>/``. The workbook is validated
    as by ``stikstofcalc batch``: invalid cases are returned as problems, not written.

    Returns
    -------
    files : dict
        case id -> list of ExportedFile
    problems : list of dict
        One per problem (case, sheet, row, key, value, message), as in the batch's
        ``fouten`` sheet.
    """
    validation = validate_book(read_book(path))
    problems = list(validation.problems)
    slugs = [folder_name(c.case_id) for c in validation.cases]
    folders = unique_names(slugs)
    files = {}
    with AtomicGroup() as group:  # every exportable case, or nothing (a write error aborts all)
        for i, (case, slug, folder) in enumerate(zip(validation.cases, slugs, folders)):
            if folder != slug:  # the earlier case whose folder has this name (also a renamed one)
                first = next(c.case_id for c, f in zip(validation.cases[:i], folders[:i])
                             if f.lower() == slug.lower())
                problems.append(problem(case=case.case_id, level="waarschuwing",
                                        message=f"zaak-id geeft dezelfde mapnaam als zaak {first!r} "
                                                f"({slug}); geschreven naar map {folder}"))
            try:  # one case that cannot be exported is listed; the others are still written
                files[case.case_id] = write_project(case.project, Path(outdir) / folder, year=year,
                                                    group=group)
            except OutputError:
                raise
            except StikstofError as exc:
                case.problems = []
                case.add_error(exc)
                problems.extend(case.problems)
    return files, problems
