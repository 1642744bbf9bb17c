"""Write files atomically: the one place where stikstofcalc puts a file on disk.

Every output goes to a temporary file in its target folder and is renamed into
place (:func:`os.replace`) only when it is complete, so a reader never sees half a
file and a failed run leaves the old file in place. Files that belong together (an
output and its ``.provenance.json``, the tables of ``kengetallen export``, the GML
files of ``export-imaer``) are one :class:`AtomicGroup`: all are written first and
then renamed together; if a rename fails the renamed ones are rolled back, so there
is never an orphan provenance file or half an export.

A write error (full or read-only disk, a file where a folder belongs, no rights)
becomes an :class:`~stikstofcalc.errors.OutputError` with a Dutch message (exit code
2 in the CLI), never a traceback. Temporary files carry the process id
(``.NAME.stikstofcalc-PID-XXXX.tmp``); those of a process that no longer runs (a
killed run) are removed by the next write into the same folder (:func:`sweep_stale`).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from stikstofcalc.errors import InputError, OutputError
from stikstofcalc.conventions import WHOLE_NUMBER_COLUMNS

#: Marker in every temporary file name: ``.NAME.stikstofcalc-PID-XXXX.tmp``.
_TMP_MARK = "stikstofcalc-"
_STALE = re.compile(r"^\..*\.?stikstofcalc-(\d+)-[^/]*\.tmp$")

_REASONS = {
    errno.ENOSPC: "de schijf is vol",
    errno.EDQUOT: "het schijfquotum is op",
    errno.EROFS: "de schijf is alleen-lezen",
    errno.EACCES: "geen schrijfrechten",
    errno.EPERM: "geen schrijfrechten",
    errno.ENOTDIR: "een deel van het pad is een bestand, geen map",
    errno.EEXIST: "een deel van het pad is een bestand, geen map",
    errno.EISDIR: "dit is een map, geen bestand",
    errno.ENOENT: "de map bestaat niet en kan niet worden gemaakt",
    errno.ENAMETOOLONG: "de bestandsnaam is te lang",
    errno.EXDEV: "tijdelijk bestand en doel liggen op verschillende schijven",
}


def write_error(exc: BaseException, path) -> OutputError:
    """The Dutch :class:`OutputError` for an :class:`OSError` while writing ``path``."""
    os_exc = exc
    while os_exc is not None and not isinstance(os_exc, OSError):  # e.g. "seek of closed file"
        os_exc = os_exc.__context__
    code = getattr(os_exc, "errno", None)
    reason = _REASONS.get(code) or (getattr(os_exc, "strerror", None) or "schrijffout")
    return OutputError(f"kan niet worden geschreven: {reason}", file=str(path),
                       expected="een schrijfbare map met vrije ruimte (er is niets geschreven)")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, not ours
        return True
    return True


_SWEPT: set = set()


def sweep_stale(directory, *, once: bool = False) -> int:
    """Remove temporary files of killed stikstofcalc runs from ``directory``; returns the count.

    ``once``: only the first time this process writes into ``directory`` (a folder of
    thousands of maps is listed once, not per file).
    """
    if once:
        key = os.path.abspath(directory)
        if key in _SWEPT:
            return 0
        _SWEPT.add(key)
    removed = 0
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    for name in names:
        m = _STALE.match(name)
        if m and not _alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(directory, name))
                removed += 1
    return removed


def temp_file(directory, name: str = "") -> Path:
    """A new empty temporary file in ``directory`` named after this process (see :func:`sweep_stale`)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.{_TMP_MARK}{os.getpid()}-", suffix=".tmp", dir=directory)
    os.close(fd)
    return Path(tmp)


class _Policy:
    """What the running command may write: never its inputs; existing files only with overwrite."""

    def __init__(self, inputs=(), overwrite=True):
        self.inputs = [_identity(p) for p in inputs]
        self.overwrite = overwrite


_POLICIES: list[_Policy] = []


def _identity(path):
    p = Path(path)
    try:
        st = os.stat(p)
        ino = (st.st_dev, st.st_ino)
    except OSError:
        ino = None
    try:
        real = p.resolve()
    except OSError:
        real = p.absolute()
    return str(p), real, ino


@contextlib.contextmanager
def write_policy(*, inputs=(), overwrite: bool = True):
    """Within the block no file is written over one of ``inputs`` (also via a link), and
    existing files are replaced only with ``overwrite`` (the CLI's ``--overwrite``)."""
    _POLICIES.append(_Policy(inputs, overwrite))
    try:
        yield
    finally:
        _POLICIES.pop()


def _is_input(path) -> str | None:
    """The input ``path`` would overwrite under the current policy, else None."""
    if not _POLICIES:
        return None
    _, real, ino = _identity(path)
    for name, in_real, in_ino in _POLICIES[-1].inputs:
        if real == in_real or (ino is not None and ino == in_ino):
            return name
    return None


def check_target(path, *, overwrite: bool | None = None) -> Path:
    """Refuse a target that is an input, a folder, or exists (without ``overwrite``)."""
    path = Path(path)
    if overwrite is None:
        overwrite = _POLICIES[-1].overwrite if _POLICIES else True
    hit = _is_input(path)
    if hit is not None:
        raise InputError("zou een invoerbestand overschrijven" + ("" if hit == str(path) else f" ({hit})"),
                         file=str(path), expected="een andere uitvoernaam; de invoer wordt nooit gewijzigd")
    if path.is_dir():
        raise OutputError("is een map, geen bestand", file=str(path), expected="een bestandsnaam")
    if not overwrite and (path.exists() or path.is_symlink()):
        raise InputError("bestaat al", file=str(path), expected="een andere naam, of --overwrite")
    return path


def check_output_path(path, *, inputs=(), overwrite: bool = False, suffixes=None, folder: bool = False,
                      option: str = "-o/--output") -> Path:
    """Check an output before anything is computed: type, not an input, folder, exists.

    Parameters
    ----------
    path : str or Path
    inputs : sequence of paths
        Files the output must not be (also not via a link).
    overwrite : bool
    suffixes : sequence of str, optional
        Allowed file types (``(".json", ".csv")``).
    folder : bool
        ``path`` is an output folder (it must not be a file).
    """
    path = Path(path)
    with write_policy(inputs=inputs, overwrite=overwrite):
        if not folder:
            check_target(path, overwrite=True)  # an input first: the most important refusal
        if suffixes and path.suffix.lower() not in suffixes:
            raise InputError(f"onbekend uitvoertype {path.suffix or '(geen extensie)'!r}", field=option,
                             value=str(path), expected="een bestandsnaam op " + " of ".join(suffixes))
        if folder:
            if path.exists() and not path.is_dir():
                raise OutputError("is een bestand, geen map", file=str(path), expected="een map")
            if _is_input(path):
                raise InputError("is een invoerbestand", file=str(path), expected="een map")
        else:
            check_target(path, overwrite=overwrite)
    # the nearest existing folder above must be a folder (not "afile/res.xlsx")
    parent = (path if folder else path.parent).absolute()
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"kan niet worden geschreven: {parent} is een bestand, geen map", file=str(path),
                          expected="een pad met alleen mappen voor de bestandsnaam")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"kan niet worden geschreven: geen schrijfrechten in {parent}", file=str(path),
                          expected="een schrijfbare map")
    return path


class AtomicGroup:
    """Files written together and renamed into place together (or not at all).

    Use as a context manager: the files are committed when the block ends without an
    error and removed otherwise; an :class:`OSError` becomes an :class:`OutputError`.

    >>> with AtomicGroup() as g:                                   # doctest: +SKIP
    ...     g.write_text("out.json", "{}")
    ...     frame.to_csv(g.path("out.csv"))

    Parameters
    ----------
    overwrite : bool, keyword-only
        Replace existing files. Without it an existing target is refused at :meth:`path`
        and again just before the rename. Default: the rule of :func:`write_policy`
        (the CLI's ``--overwrite``), else True. A target that is an input of the
        running command (:func:`write_policy`) is always refused.
    """

    def __init__(self, *, overwrite: bool | None = None):
        if overwrite is None:  # the running command's rule (--overwrite), else replace
            overwrite = _POLICIES[-1].overwrite if _POLICIES else True
        self.overwrite = overwrite
        self._pending: list[tuple[Path, Path]] = []  # (temporary, target)
        self._folders: list[Path] = []  # folders made for the targets (removed again on abort)

    def path(self, target) -> Path:
        """The temporary file to write for ``target`` (its folder is created)."""
        target = check_target(target, overwrite=self.overwrite)
        try:
            self._made_folders(target.parent)
            sweep_stale(target.parent, once=True)
            tmp = temp_file(target.parent, target.name)
        except OSError as exc:
            raise write_error(exc, target) from None
        self._pending.append((tmp, target))
        return tmp

    def write_bytes(self, target, data: bytes) -> Path:
        tmp = self.path(target)
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise write_error(exc, target) from None
        return Path(target)

    def write_saved(self, target, save) -> Path:
        """What ``save(fileobj)`` writes (``wb.save``, a pandas ``ExcelWriter``), via memory.

        A zip writer (openpyxl, pandas) that fails half-way on a full disk leaves its
        ``ZipFile`` open, and Python prints "Exception ignored" tracebacks when it is
        collected; built in memory first, the file is written in one go and a write
        error is an :class:`OutputError` like any other.
        """
        return self.write_bytes(target, saved_bytes(save))

    def write_text(self, target, text: str) -> Path:
        """``text`` as UTF-8, line ends as given."""
        return self.write_bytes(target, text.encode("utf-8"))

    def write_csv(self, target, frame, **options) -> Path:
        """A DataFrame as CSV (see :func:`csv_text`)."""
        return self.write_text(target, csv_text(frame, **options))

    def commit(self) -> list[Path]:
        """Rename every temporary file into place; on a failure undo the renamed ones."""
        mode = 0o666 & ~_umask()  # mkstemp makes 0600; give the usual permissions
        renamed, current = [], None  # (target, backup of the old file or None)
        try:
            for tmp, target in self._pending:
                current = target
                if not self.overwrite and (target.exists() or target.is_symlink()):
                    raise InputError("bestaat al (ontstaan tijdens de berekening)", file=str(target),
                                     expected="een andere naam, of --overwrite")
                os.chmod(tmp, mode)
            for tmp, target in self._pending:
                current, backup = target, None
                if target.exists() and not target.is_symlink():
                    backup = temp_file(target.parent, target.name)
                    os.replace(target, backup)  # keep the old file until all are in place
                try:
                    os.replace(tmp, target)
                except BaseException:
                    if backup is not None:
                        os.replace(backup, target)
                    raise
                renamed.append((target, backup))
        except BaseException as exc:
            for target, backup in reversed(renamed):
                with contextlib.suppress(OSError):
                    if backup is not None:
                        os.replace(backup, target)
                    else:
                        os.remove(target)
            self.abort()
            if isinstance(exc, OSError):
                raise write_error(exc, current) from None
            raise
        for _, backup in renamed:
            if backup is not None:
                with contextlib.suppress(OSError):
                    os.remove(backup)
        done = [t for _, t in self._pending]
        self._pending, self._folders = [], []
        return done

    def _made_folders(self, folder: Path) -> None:
        """Create ``folder`` and its missing parents, remembering the ones made here."""
        self._folders.extend(make_folders(folder))

    def abort(self) -> None:
        """Remove the temporary files (nothing is renamed), and the folders made for them."""
        for tmp, _ in self._pending:
            with contextlib.suppress(OSError):
                os.remove(tmp)
        self._pending = []
        remove_empty_folders(self._folders)
        self._folders = []

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if exc is None:
            self.committed = self.commit()
            return False
        target = self._target_of_error()  # before abort() forgets the files
        self.abort()
        if isinstance(exc, OSError) or (isinstance(exc, ValueError) and isinstance(exc.__context__, OSError)):
            raise write_error(exc, target) from None
        return False

    def _target_of_error(self):
        return self._pending[-1][1] if self._pending else "?"


@contextlib.contextmanager
def atomic_path(target, *, overwrite: bool | None = None):
    """A temporary path to write ``target`` to (``wb.save(tmp)``); renamed in on success."""
    group = AtomicGroup(overwrite=overwrite)
    with group:
        yield group.path(target)


# ------------------------------------------------------------- CSV text (formulas)

#: A cell starting with one of these can be taken for a formula by a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def _formula_like(text: str) -> bool:
    body = text.lstrip("'")
    return len(body) > 1 and body.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(body)


def defuse(text: str) -> str:
    """``text`` that a spreadsheet will not run: a ``'`` before a formula-like start.

    ``=1+1`` -> ``'=1+1``. A plain number such as ``-12.5`` and a lone ``-`` are left as
    they are. Text that already starts with quotes before such a start gets one more, so
    :func:`restore` gives back the exact text (``'=x`` -> ``''=x`` -> ``'=x``).
    See OWASP "CSV Injection".
    """
    return "'" + text if _formula_like(text) else text


def restore(text: str) -> str:
    """The text before :func:`defuse` (readers of our CSV outputs use it)."""
    return text[1:] if text.startswith("'") and _formula_like(text) else text


def restore_frame(cells):
    """:func:`restore` on every text cell of a frame of strings (only cells starting with ``'``)."""
    out = None
    for col in cells.columns:
        s = cells[col]
        if not (s.dtype == object or str(s.dtype) in ("str", "string")):
            continue
        mask = s.map(lambda v: isinstance(v, str) and v.startswith("'"))
        if mask.any():
            out = cells.copy() if out is None else out
            out.loc[mask, col] = s[mask].map(restore)
    return cells if out is None else out


def defuse_frame(frame):
    """A copy of ``frame`` with every text cell passed through :func:`defuse` (also headers)."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or str(s.dtype) in ("string", "str"):
            out[col] = s.map(lambda v: defuse(v) if isinstance(v, str) else v)
    out.columns = [defuse(c) if isinstance(c, str) else c for c in out.columns]
    return out


def csv_text(frame, *, dialect: str = "standard") -> str:
    """A DataFrame as CSV text (no index, LF line ends), formula-like text neutralised.

    ``dialect="excel-nl"``: ``;`` between fields and a decimal comma, as Excel with Dutch
    settings opens it (with a UTF-8 byte-order mark so it reads the accents right), and
    yes/no columns as ``ja`` / ``nee`` as in the batch's workbooks (``True`` / ``False`` in the
    standard dialect, for software).
    """
    frame = _whole_numbers(defuse_frame(frame))
    if dialect == "excel-nl":
        frame = _yes_no(frame)
        return "\ufeff" + frame.to_csv(index=False, sep=";", decimal=",", lineterminator="\n")
    return frame.to_csv(index=False, lineterminator="\n")


def _yes_no(frame):
    """Columns whose values are all booleans (empty cells aside) as ja / nee."""
    out = {}
    for c in frame.columns:
        col = frame[c]
        if col.dtype.kind == "b":
            out[c] = col.map({True: "ja", False: "nee"})
        elif col.dtype == object:
            vals = col.dropna()
            if len(vals) and all(isinstance(v, (bool, np.bool_)) for v in vals):
                out[c] = col.map(lambda v: None if v is None or v != v else ("ja" if v else "nee"))
    return frame.assign(**out) if out else frame


def _whole_numbers(frame):
    """Count and id columns (:data:`~stikstofcalc.conventions.WHOLE_NUMBER_COLUMNS`) stored as
    floats (an empty cell in the column) as whole numbers: ``57``, not ``57.0``."""
    cols = [c for c in frame.columns if c in WHOLE_NUMBER_COLUMNS and frame[c].dtype.kind == "f"]
    cols = [c for c in cols if np.all(np.isnan(v := frame[c].to_numpy(float))
                                      | (np.isfinite(v) & (v == np.round(v)) & (np.abs(v) < 2.0**53)))]
    return frame.astype({c: "Int64" for c in cols}) if cols else frame


def make_folders(folder) -> list[Path]:
    """Create ``folder`` with its missing parents; returns the folders made (for
    :func:`remove_empty_folders` when the output is not written after all)."""
    made = []
    f = Path(folder).absolute()
    while not f.exists() and f != f.parent:
        made.append(f)
        f = f.parent
    Path(folder).mkdir(parents=True, exist_ok=True)
    return made


def remove_empty_folders(folders) -> None:
    """Remove those of ``folders`` that are empty, deepest first (never raises)."""
    for folder in sorted(folders, key=lambda f: -len(Path(f).parts)):
        with contextlib.suppress(OSError):
            Path(folder).rmdir()


def saved_bytes(save) -> bytes:
    """What ``save(fileobj)`` writes, built in memory (see :meth:`AtomicGroup.write_saved`)."""
    buf = io.BytesIO()
    save(buf)
    return buf.getvalue()


def save_to(path, save) -> Path:
    """Write what ``save(fileobj)`` writes to the (temporary) file ``path``, built in memory
    first so that a full disk is a plain :class:`OSError` here, not a half-written zip."""
    data = saved_bytes(save)
    with open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_text_atomic(text: str, path, *, overwrite: bool | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and :func:`os.replace`."""
    with AtomicGroup(overwrite=overwrite) as g:
        g.write_text(path, text)
    return Path(path)


def write_bytes_atomic(data: bytes, path, *, overwrite: bool | None = None) -> Path:
    with AtomicGroup(overwrite=overwrite) as g:
        g.write_bytes(path, data)
    return Path(path)


def write_csv_atomic(frame, path, *, overwrite: bool | None = None, dialect: str = "standard") -> Path:
    """Write a DataFrame as CSV (no index, LF line ends, formulas neutralised) atomically."""
    return write_text_atomic(csv_text(frame, dialect=dialect), path, overwrite=overwrite)


# ------------------------------------------------------------------ file names


def unique_names(names) -> list[str]:
    """``names`` made unique for a file system (case-insensitive): later repeats get ``_2``, ``_3``...

    Case ids that clean to the same file name (``zaak/1``, ``zaak:1`` -> ``zaak_1``) would
    otherwise overwrite each other's files; callers report the renamed ones.
    """
    seen, out = set(), []
    for name in names:
        candidate, k = name, 1
        while candidate.lower() in seen:
            k += 1
            candidate = f"{name}_{k}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out
