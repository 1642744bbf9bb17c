"""Write the results workbook of a batch (atomically; openpyxl write-only, streaming).

Sheets, each with row 1 Dutch labels (with units), row 2 canonical keys, frozen
header and number formats:

- ``resultaten``: one row per case, phase and calendar year; conditional formatting
  on the verdict (red: permit needed, green: not needed, amber: exempt);
- ``bronnen``: the emission sources per case with provenance;

``resultaten`` and ``bronnen`` (half a million rows at 10,000 cases) are rendered
directly as sheet XML per chunk of cases while the batch computes, spooled compressed
and copied into the saved workbook (:class:`ResultsWriter`, :mod:`.stream`);
- ``fouten``: one row per problem (sheet, row, column, value, message, expected);
- ``invoer`` (+ ``invoer_<sheet>`` per detail sheet): the cells as read, unknown
  columns included; a results workbook is valid batch input again;
- ``herkomst``: package version, key-figure edition and hashes, model data, rules,
  date, command line, input hash, counts and timings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from stikstofcalc.io.excel import cells
from stikstofcalc.io.excel.cells import (WIDE, excel_safe, print_setup, text_cell)
from stikstofcalc.io.excel.cells import plain_cell as _plain
from stikstofcalc.io.excel.schema import CASES_SHEET, RESULT_COLUMNS
from stikstofcalc.io.herkomst import HERKOMST_COLUMNS, herkomst_rows
from stikstofcalc.io.excel.stream import (SheetSpool, sheet_paths, splice_spools, template_row,
    template_styles)
from stikstofcalc.io.atomic import (AtomicGroup, check_output_path, make_folders,
    remove_empty_folders, save_to, sweep_stale, temp_file, write_error, write_policy)
from stikstofcalc.emissions.inventory import dutch_sources

#: Excel's limit on the characters in one cell.
DEP = "0.000000"
KG = "#,##0.000"
RESULT_LAYOUT = [
    # key, Dutch label, number format
    ("case", "zaak", None), ("phase", "fase", None), ("year", "jaar", "0"),
    ("verdict", "oordeel", None), ("permit_needed", "vergunning nodig", None),
    ("exempt", "vrijgesteld", None),
    ("max_deposition", "hoogste depositie (mol N/ha/jr, onafgerond)", DEP),
    ("max_rounded", "hoogste depositie afgerond (mol N/ha/jr)", "0.00"),
    ("max_display", "weergave AERIUS", None), ("threshold", "drempel (mol N/ha/jr)", "0.000"),
    ("area_name", "Natura 2000-gebied", None), ("n2k_number", "gebiedsnummer", "0"),
    ("receptor_id", "receptor (hexagon-id)", "0"), ("x", "x receptor (RD, m)", "0"),
    ("y", "y receptor (RD, m)", "0"),
    ("n_hexagons_above", "hexagons op of boven de drempel", "#,##0"),
    ("hectares_above", "hectare op of boven de drempel", "#,##0"),
    ("margin_factor", "marge (factor op alle emissies tot 0,00)", "0.000"),
    ("headroom_nox_kg_per_yr", "ruimte NOx (kg/jaar)", KG),
    ("headroom_nh3_kg_per_yr", "ruimte NH3 (kg/jaar)", KG),
    ("dominant_source", "grootste bron", None), ("dominant_share", "aandeel grootste bron", "0.0%"),
    ("headroom_current", "grootste bron: huidige hoeveelheid", "#,##0.0"),
    ("headroom_allowed_source_only", "grootste bron: toegestaan (overige gelijk)", "#,##0.0"),
    ("headroom_unit", "eenheid hoeveelheid", None),
    ("effect_distance_m", "effectafstand (m)", "#,##0"),
    ("nox_kg_per_yr", "emissie NOx (kg/jaar)", KG), ("nh3_kg_per_yr", "emissie NH3 (kg/jaar)", KG),
    ("regime", "regime", None), ("uses_estimate", "gebruikt schattingen", None),
    ("notes", "opmerkingen", None),
    ("borderline", "grensgeval (reken door in AERIUS Calculator)", None),
    ("borderline_band_low", "grensgeval-band vanaf (mol N/ha/jr)", DEP),
    ("borderline_band_high", "grensgeval-band tot (mol N/ha/jr)", DEP),
    ("machinery_heat", "warmte-inhoud werktuigen (keuze)", None),
    ("alt_heat", "andere keuze warmte-inhoud", None),
    ("alt_heat_max_deposition", "hoogste depositie met andere warmte-inhoud (mol N/ha/jr)", DEP),
    ("alt_heat_max_display", "weergave met andere warmte-inhoud", None),
    ("alt_heat_permit_needed", "vergunning nodig met andere warmte-inhoud", None),
    ("alt_heat_verdict_differs", "oordeel verschilt met andere warmte-inhoud", None),
    ("unassessed_max_deposition", "Waddenzee/Noordzeekustzone (niet in de gegevens): hoogste depositie, "
                                  "schatting (mol N/ha/jr)", DEP),
]
SOURCE_LAYOUT = [
    ("case", "zaak", None), ("phase", "fase", None), ("year", "jaar", "0"),
    ("source_kind", "soort bron", None), ("category", "categorie", None), ("label", "bron", None),
    ("component", "onderdeel", None), ("sector_id", "AERIUS-sector", "0"),
    ("fuel_l", "brandstof (L/jaar)", "#,##0.0"), ("hours_h", "draaiuren (uur/jaar)", "#,##0.0"),
    ("adblue_l", "AdBlue (L/jaar)", "#,##0.0"),
    ("vehicles_per_year", "voertuigbewegingen (per jaar)", "#,##0.0"), ("route", "route", None),
    ("road_type", "wegtype", None), ("length_m", "routelengte (m)", "#,##0"),
    ("nox_kg_per_yr", "NOx (kg/jaar)", KG), ("nh3_kg_per_yr", "NH3 (kg/jaar)", KG),
    ("height_m", "emissiehoogte (m)", "0.0"), ("heat_mw", "warmte-inhoud (MW)", "0.000"),
    ("spread_m", "spreiding (m)", "0.0"), ("basis", "status kengetallen", None),
    ("uses_estimate", "gebruikt schattingen", None), ("overridden", "eigen kengetal", None),
    ("provenance", "herkomst (kengetal-rijen)", None), ("inputs", "uw invoer", None),
    ("notes", "opmerkingen", None), ("edition", "editie kengetallen", None),
]
PROBLEM_LAYOUT = [
    ("zaak", "zaak", None), ("blad", "blad", None), ("rij", "rij", "0"), ("kolom", "kolom", None),
    ("sleutel", "sleutel", None), ("waarde", "waarde", None), ("melding", "melding", None),
    ("verwacht", "verwacht", None), ("veld", "veld (projectformaat)", None), ("niveau", "niveau", None),
]
#: ``resultaten`` columns shown as ja/nee.
YES_NO_RESULTS = ("permit_needed", "exempt", "uses_estimate", "borderline", "alt_heat_permit_needed",
                  "alt_heat_verdict_differs")
#: ``resultaten`` columns whose text wraps in its column width (the row grows to fit).
RESULT_WRAP = ("case", "verdict", "area_name", "dominant_source")


def _wrap_widths(layout, keys) -> dict:
    """Column index -> width [characters] (as :func:`_header` sets it) of the ``keys`` columns."""
    return {i: max(min(len(label) * 0.9, 30), 10, WIDE.get(key, 0))
            for i, (key, label, _) in enumerate(layout) if key in keys}


@contextlib.contextmanager
def openpyxl_temp_files():
    """openpyxl's write-only temporary files named after this process (``.openpyxl.stikstofcalc-PID-*.tmp``).

    openpyxl spools each write-only sheet to ``/tmp/openpyxl.*`` and removes the files at
    exit; a killed run leaves them behind. Named after the process, the next run removes
    those of runs that no longer exist (:func:`stikstofcalc.io.atomic.sweep_stale`).
    """
    import openpyxl.worksheet._writer as writer

    directory = tempfile.gettempdir()
    sweep_stale(directory)

    def create(suffix=""):
        name = str(temp_file(directory, "openpyxl"))
        writer.ALL_TEMP_FILES.append(name)
        return name

    real = writer.create_temporary_file
    writer.create_temporary_file = create
    try:
        yield
    finally:
        writer.create_temporary_file = real


def _header(ws, layout, styles):
    from openpyxl.cell import WriteOnlyCell

    from openpyxl.utils import get_column_letter

    ws.freeze_panes = "B3"  # write-only sheets: views and widths before the first row
    widths = []
    for i, (key, label, _) in enumerate(layout, start=1):
        width = max(min(len(label) * 0.9, 30), 10, WIDE.get(key, 0))
        ws.column_dimensions[get_column_letter(i)].width = width
        widths.append(width)
    print_setup(ws, widths)
    import textwrap

    lines = max(len(textwrap.wrap(label, max(int(w) - 1, 1))) for (_, label, _), w in zip(layout, widths))
    if lines > 1:  # the wrapped labels would run into the key row below
        ws.row_dimensions[1].height = min(15.0 * lines, 409.0)
    row1, row2 = [], []
    for key, label, _ in layout:
        c = WriteOnlyCell(ws, label)
        c.font, c.fill, c.alignment = styles["bold"], styles["head"], styles["wrap"]
        row1.append(c)
        k = WriteOnlyCell(ws, key)
        k.font = styles["key"]
        row2.append(k)
    ws.append(row1)
    ws.append(row2)


def _rows(ws, layout, records, convert=None, *, first_row: int = 3):
    """Append records (iterable of tuples in layout order) with number formats.

    Long text in the :data:`WIDE` columns wraps; its row gets the height of its lines
    (write-only: set before the row is appended; ``first_row`` is the first record's row).
    """
    from openpyxl.cell import WriteOnlyCell

    fmts = [f for _, _, f in layout]
    has_fmt = any(fmts)
    wide = [WIDE.get(k) for k, _, _ in layout]
    wrap = _styles()["wrap"]
    for r, rec in enumerate(records, start=first_row):
        if convert:
            rec = convert(rec)
        if not has_fmt:
            ws.append([_plain(ws, excel_safe(v)[0]) for v in rec])
            continue
        row, lines = [], 1
        for v, f, w in zip(rec, fmts, wide):
            v = _plain(ws, excel_safe(v)[0])
            if w and isinstance(v, str) and len(v) > w:  # long text wraps (the row grows)
                c = text_cell(ws, v)
                c.alignment = wrap
                row.append(c)
                lines = max(lines, math.ceil(len(v) / (w - 1)))
            elif f and isinstance(v, (int, float)) and not isinstance(v, bool):
                c = WriteOnlyCell(ws, v)
                c.number_format = f
                row.append(c)
            else:
                row.append(v)
        if lines > 1:
            ws.row_dimensions[r].height = min(15.0 * lines, 409.0)  # Excel's largest row height
            row = [_top(ws, v, wrap) for v in row]  # the row's other cells at the top as well
        ws.append(row)


def _top(ws, value, align):
    if hasattr(value, "alignment"):  # a cell already
        value.alignment = align
        return value
    return _aligned(text_cell(ws, value), align)


def _aligned(cell, align):
    cell.alignment = align
    return cell


def _styles():
    from openpyxl.styles import Alignment, Font, PatternFill

    return {"bold": Font(bold=True), "key": Font(italic=True, color="808080", size=8),
            "head": PatternFill("solid", fgColor="DDEBF7"), "wrap": Alignment(wrap_text=True, vertical="top")}


def _verdict_formatting(ws, n_rows, layout):
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter

    if n_rows == 0:
        return
    keys = [k for k, _, _ in layout]
    col = get_column_letter(keys.index("permit_needed") + 1)
    exempt = get_column_letter(keys.index("exempt") + 1)
    last = get_column_letter(len(layout))
    rng = f"A3:{last}{n_rows + 2}"
    red, green, amber = ("F8CBAD", "C6EFCE", "FFEB9C")
    ws.conditional_formatting.add(rng, FormulaRule(formula=[f'${exempt}3="ja"'], stopIfTrue=True,
                                                   fill=PatternFill("solid", bgColor=amber)))
    ws.conditional_formatting.add(rng, FormulaRule(formula=[f'${col}3="ja"'], stopIfTrue=True,
                                                   fill=PatternFill("solid", bgColor=red)))
    ws.conditional_formatting.add(rng, FormulaRule(formula=[f'${col}3="nee"'],
                                                   fill=PatternFill("solid", bgColor=green)))


def _yes_no(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return "ja" if bool(v) else "nee"


def _echo_sheet(wb, name, raw, styles):
    """Verbatim copy of one input sheet: its header rows and every data row."""

    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name)
    ws.freeze_panes = "B3"
    header = list(raw.header)
    width = max([len(h) for h in header] + [len(c) for _, c in raw.rows] + [len(raw.keys)])
    if len(header) == 1:  # a one-row header (CSV): add the canonical keys as row 2
        header.append([k if k is not None else None for k in raw.keys])
    widths = []
    for j in range(width):  # from the labels and keys (write-only: before the first row)
        n = max([len(str(h[j])) for h in header[:2] if j < len(h) and h[j] is not None] + [6])
        widths.append(min(n + 2, 30))
        ws.column_dimensions[get_column_letter(j + 1)].width = widths[-1]
    print_setup(ws, widths)
    for i, h in enumerate(header[:2]):
        cells = []
        for v in list(h) + [None] * (width - len(h)):
            c = text_cell(ws, excel_safe(v)[0], font=styles["bold"] if i == 0 else styles["key"])
            if i == 0:
                c.alignment = styles["wrap"]
            cells.append(c)
        ws.append(cells)
    changed = []
    for row, cells in raw.rows:
        out = []
        for j, v in enumerate(cells):
            safe, ch = excel_safe(v)
            if ch:
                changed.append((row, j))
            if isinstance(safe, (dt.datetime, dt.date)):
                safe = text_cell(ws, safe, number_format="yyyy-mm-dd")
            out.append(_plain(ws, safe))
        ws.append(out)
    return changed


def write_results(result, path, *, overwrite: bool = False) -> Path:
    """Write a :class:`~stikstofcalc.batch.run.BatchResult` to ``path`` (.xlsx) atomically.

    The whole-table form of :class:`ResultsWriter` (the batch streams its chunks into
    one while the workers compute: :func:`stikstofcalc.batch.run.run_batch` with ``output``).

    Raises
    ------
    InputError
        ``path`` exists and ``overwrite`` is false, or ``path`` is the input file.
    """
    writer = ResultsWriter(path, overwrite=overwrite,
                           input_path=result.book.path if result.book is not None else None)
    try:
        writer.add(result.results, result.sources)
        return writer.finish(result)
    finally:
        writer.close()


def _result_frame(res):
    """``resultaten`` in sheet order, as shown (Dutch phases, ja/nee)."""
    keys = [k for k, _, _ in RESULT_LAYOUT]
    # the phase as in every other output (realisatie, gebruik: docs/nomenclature.md), every
    # yes/no column as ja/nee (not WAAR/ONWAAR beside ja/nee)
    frame = res.assign(**{c: res[c].map(_yes_no) for c in YES_NO_RESULTS if c in res})
    return frame[keys]


def _source_frame(src):
    """``bronnen`` in sheet order, as shown (ja/nee, sector ids as whole numbers)."""
    skeys = [k for k, _, _ in SOURCE_LAYOUT]
    src = dutch_sources(src[skeys])  # "werktuig", not "machinery" (the code keeps the internal values)
    src = src.assign(uses_estimate=src["uses_estimate"].map(_yes_no),
                     overridden=src["overridden"].map(_yes_no),
                     sector_id=src["sector_id"].astype(object).where(
                         src["sector_id"].notna() & (src["sector_id"] != 0), None))  # 0: no sector
    return src[skeys]


def source_sheet_names(n: int) -> list[str]:
    """Names of ``n`` >= 1 ``bronnen`` sheets: ``bronnen``, ``bronnen_2``, ... (about 50 rows
    per case: 20,000 cases fill a sheet of :data:`~stikstofcalc.io.excel.cells.EXCEL_ROWS`)."""
    return [cells.continued_sheet_name("bronnen", k) for k in range(1, n + 1)]


def _begin(wb, styles, *, sources: int):
    """The sheets ``resultaten`` and ``bronnen``: headers and style-carrying template rows.

    ``sources``: the number of streamed ``bronnen`` sheets (0: one, with its header only).

    The same calls for the early style probe (:meth:`ResultsWriter.__init__`) and the
    final workbook, so the cells' style ids agree. The verdict colours of ``resultaten``
    (``_verdict_formatting``) are added when the row count is known: conditional formats
    are written when the sheet is closed and use their own (differential) styles.
    """
    ws = wb.create_sheet("resultaten")
    _header(ws, RESULT_LAYOUT, styles)
    # replaced by the spooled rows (stream.splice_spools); the verdict wraps, its rows grow
    template_row(ws, RESULT_LAYOUT, wrap=RESULT_WRAP, alignment=styles["wrap"])
    for name in source_sheet_names(max(int(sources), 1)):
        wsb = wb.create_sheet(name)
        _header(wsb, SOURCE_LAYOUT, styles)
        if sources:
            template_row(wsb, SOURCE_LAYOUT)  # streamed: ~0.25 ms/row through openpyxl (stream.py)
    return ws



class ResultsWriter:
    """The results workbook, fed per chunk of cases, written atomically at :meth:`finish`.

    :meth:`add` renders the ``resultaten`` and ``bronnen`` rows of a chunk as sheet XML,
    compresses them and spools them to a temporary file next to ``path``
    (:class:`~.stream.SheetSpool`), so neither the rows nor their provenance text stay
    in memory. :meth:`finish` writes the small sheets with openpyxl (``fouten``,
    ``invoer*``, ``herkomst``, the headers) and copies the spooled rows into the package
    without decompressing them (:func:`~.stream.splice_spools`); then the file is renamed
    into place. The workbook is the one :func:`write_results` writes for the same rows.

    Parameters
    ----------
    path : str or Path
        ``RESULTS.xlsx``; checked at once (exists without ``overwrite``, is the input).
    overwrite : bool, keyword-only
    input_path : str or Path, keyword-only
        The batch's input (never replaced).
    """

    def __init__(self, path, *, overwrite: bool = False, input_path=None):
        import io

        from openpyxl import Workbook

        path = check_output_path(path, inputs=[input_path] if input_path is not None else [],
                                 overwrite=overwrite, suffixes=(".xlsx",))
        self.path, self.overwrite, self.input_path = path, overwrite, input_path
        self.spools, self.source_spools, self.finished = {}, [], False
        self._made = []  # folders made for the output, removed again if it is not written
        try:
            self._made = make_folders(path.parent)
        except OSError as exc:
            self.close()
            raise write_error(exc, path) from None
        # the template rows' style ids, from the same calls as the final workbook
        with openpyxl_temp_files():
            probe = Workbook(write_only=True)
            _begin(probe, _styles(), sources=1)
            buf = io.BytesIO()
            probe.save(buf)
        with zipfile.ZipFile(buf) as z:
            parts = sheet_paths(z)
            found = {name: template_styles(z.read(parts[name])) for name in ("resultaten", "bronnen")}
        try:  # the spool files live next to the output: a folder we cannot write to fails here
            self.spools["resultaten"] = SheetSpool(found["resultaten"][1], first_row=found["resultaten"][0],
                                                   mode="records", directory=path.parent,
                                                   wrap_widths=_wrap_widths(RESULT_LAYOUT, RESULT_WRAP))
            self._source_template = found["bronnen"]
            self._new_source_spool()
        except OSError as exc:
            self.close()
            raise write_error(exc, path) from None
        self.result_rows = 0
        self.source_rows = 0

    def _new_source_spool(self) -> None:
        """Start the next ``bronnen`` sheet (the first, or one more when a sheet is full)."""
        row, styles = self._source_template[0], self._source_template[1]
        name = source_sheet_names(len(self.source_spools) + 1)[-1]
        self.spools[name] = SheetSpool(styles, first_row=row, mode="concat", directory=self.path.parent)
        self.source_spools.append(self.spools[name])

    def _add_sources(self, frame) -> None:
        """``bronnen`` rows, on the current sheet while it has room, then on the next."""
        room_per_sheet = cells.EXCEL_ROWS - self._source_template[0] + 1
        while len(frame):
            room = room_per_sheet - self.source_spools[-1].rows
            if room <= 0:
                self._new_source_spool()
                continue
            self.source_spools[-1].add(frame.iloc[:room].reset_index(drop=True))
            frame = frame.iloc[room:]

    def add(self, results, sources) -> None:
        """Spool the rows of one chunk.

        Parameters
        ----------
        results : DataFrame or list of dict
            ``resultaten`` rows (:func:`stikstofcalc.batch.run.result_rows`), in case order.
        sources : DataFrame or None
            The chunk's ``bronnen`` rows (``batch.SOURCE_COLUMNS``).
        """
        records = None
        if not isinstance(results, pd.DataFrame):
            records = [tuple(r[c] for c in RESULT_COLUMNS) for r in results]
            results = pd.DataFrame.from_records(records, columns=RESULT_COLUMNS)
        elif len(results):
            records = list(results[RESULT_COLUMNS].itertuples(index=False, name=None))

        try:  # a full disk while the batch computes: a message, not a traceback
            if len(results):
                self.spools["resultaten"].add(_result_frame(results), records)
                self.result_rows += len(results)
            if sources is not None and len(sources):
                self._add_sources(_source_frame(sources))
                self.source_rows += len(sources)
        except OSError as exc:
            raise write_error(exc, self.path) from None

    def prepare(self, book) -> None:
        """Start the workbook early (while the workers compute): headers, template rows and
        the ``invoer*`` echo of ``book`` (openpyxl, about 0.4 ms per input row). Optional:
        :meth:`finish` does it otherwise."""
        self._workbook = self._start(book, sources=1)

    def _start(self, book, *, sources: int):
        with openpyxl_temp_files():
            return self._start_sheets(book, sources=sources)

    def _start_sheets(self, book, *, sources: int):
        from openpyxl import Workbook

        styles = _styles()
        wb = Workbook(write_only=True)
        ws = _begin(wb, styles, sources=sources)
        echo_notes = []
        echo_sheets = []
        for name, raw in book.sheets.items():
            title = "invoer" if name == CASES_SHEET else f"invoer_{name}"
            echo_sheets.append((title, raw))
        wsf = wb.create_sheet("fouten")
        _header(wsf, PROBLEM_LAYOUT, styles)
        for title, raw in echo_sheets:
            changed = _echo_sheet(wb, title, raw, styles)
            for row, j in changed:
                echo_notes.append((None, raw.source_name, row, None, None, None,
                                   f"cel in kolom {j + 1} aangepast in '{title}' zodat Excel hem kan opslaan "
                                   "(stuurtekens geschreven als \\xNN, of afgekapt op 32.767 tekens)",
                                   None, None, "waarschuwing"))
        return wb, styles, ws, wsf, echo_notes, book, sources

    def finish(self, result) -> Path:
        """Write the workbook (``result``: problems, book, counts, timings, provenance)."""
        with openpyxl_temp_files():
            done = self._finish(result)
        self.finished = True
        return done

    def _finish(self, result) -> Path:
        path = self.path
        started = getattr(self, "_workbook", None)
        sheets = len(self.source_spools) if self.source_rows else 0
        if started is None or started[5] is not result.book or started[6] != sheets:
            # no early start, or it has one bronnen template row and there are no sources or
            # more bronnen sheets
            if started is not None:
                _discard(started[0])
            started = self._start(result.book, sources=sheets)
        wb, _, ws, wsf, echo_notes, _, _ = started
        self._workbook = None
        saved = None
        try:
            self._fill(result, ws, wsf, echo_notes, wb)
            spools = {"resultaten": self.spools["resultaten"]}
            if self.source_rows:
                spools.update(zip(source_sheet_names(sheets), self.source_spools))
            inputs = [self.input_path] if self.input_path is not None else []
            with write_policy(inputs=inputs, overwrite=self.overwrite), AtomicGroup() as group:
                tmp = group.path(path)  # refused again if it appeared while we computed
                saved = temp_file(path.parent, path.name)  # known before the write, removed below
                save_to(saved, wb.save)
                splice_spools(saved, spools, tmp)
        except BaseException:
            _discard(wb)  # a failure from here on (full disk, bad provenance) leaves its sheets open
            raise
        finally:
            if saved is not None:
                saved.unlink(missing_ok=True)
        return path

    def _fill(self, result, ws, wsf, echo_notes, wb) -> None:
        """The verdict formatting, the problems and the ``herkomst`` sheet."""
        _verdict_formatting(ws, self.result_rows, RESULT_LAYOUT)
        problems = list(result.problems.itertuples(index=False, name=None))
        _rows(wsf, PROBLEM_LAYOUT, problems + echo_notes)

        ws = wb.create_sheet("herkomst")
        ws.freeze_panes = "A2"
        widths = (52, 100, 36)  # label, value, key: one A4 landscape page wide
        for col, width in zip("ABC", widths):
            ws.column_dimensions[col].width = width
        print_setup(ws, list(widths), title_rows="1:1")
        from openpyxl.styles import Alignment

        bold, wrap = _styles()["bold"], _styles()["wrap"]
        top = Alignment(vertical="top", horizontal="left")  # numbers beside their label, not at the right
        ws.append([text_cell(ws, h, font=bold) for h in HERKOMST_COLUMNS])
        row = 2
        for label, v, key in herkomst_rows({"aantallen": result.counts,
                                            "tijden_s": {k: round(v, 3) for k, v in result.timings.items()},
                                            **result.provenance}):
            cells_ = [text_cell(ws, excel_safe(x)[0]) for x in (label, v, key)]
            for c in cells_:
                c.alignment = top
            if isinstance(v, str) and (len(v) > 100 or "\n" in v):
                # long provenance text, or items one per line, wraps (the row grows)
                lines = sum(max(1, math.ceil(len(part) / 95)) for part in v.split("\n"))
                ws.row_dimensions[row].height = min(15.0 * lines, 409.0)
                cells_[1].alignment = wrap
            ws.append(cells_)
            row += 1

    def close(self) -> None:
        """Drop the spooled rows (temporary files). Never raises: closing flushes the
        spool's buffer, which fails on a full disk, and the rows are discarded anyway
        (the error that matters was raised where the write failed)."""
        for spool in self.spools.values():
            with contextlib.suppress(OSError):
                spool.close()
        started = getattr(self, "_workbook", None)
        if started is not None:  # begun early and never saved
            self._workbook = None
            _discard(started[0])
        if not self.finished:
            remove_empty_folders(self._made)
        self._made = []


def _discard(wb) -> None:
    """Close and remove the sheets of a write-only workbook that will not be saved.

    Dropped unclosed, each sheet's row generator is closed by the garbage collector after
    its file, and Python prints an "Exception ignored" traceback per sheet.
    """
    import os

    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        with contextlib.suppress(Exception):
            ws.close()
        if writer is not None:
            with contextlib.suppress(OSError):
                os.remove(writer.out)


