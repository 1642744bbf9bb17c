"""Write files atomically: a temporary file in the target folder, then a rename.

A reader never sees half a file, and a failed run leaves the old file in place.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomic(text: str, path) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and :func:`os.replace`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_csv_atomic(frame, path) -> Path:
    """Write a DataFrame as CSV (no index, LF line ends) atomically."""
    return write_text_atomic(frame.to_csv(index=False, lineterminator="\n"), path)
