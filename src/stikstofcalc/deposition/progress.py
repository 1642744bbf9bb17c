"""How far a long preparation step of the engine is (the kernel tables and the search
bound of a large source list take tens of seconds before the first hexagon is computed).

The steps call :func:`report_step` as they go; a front end listens within
:func:`listening` (the command line's progress line, through
:func:`stikstofcalc.assessment.core.reporting_progress`). Without a listener a report
costs one context-variable lookup. A context variable: each thread has its own listener.
"""

from __future__ import annotations

import contextlib
import contextvars

_LISTENER: contextvars.ContextVar = contextvars.ContextVar("stikstofcalc_step_progress", default=None)


@contextlib.contextmanager
def listening(report):
    """Within this block :func:`report_step` calls ``report(label, done, total)``."""
    token = _LISTENER.set(report)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def report_step(label: str, done: int, total: int) -> None:
    """``done`` of ``total`` source elements of step ``label`` are ready (0 at the start,
    ``total`` at the end)."""
    report = _LISTENER.get()
    if report is not None:
        report(label, done, total)

