"""Evaluation driver (placeholder kernel; replaced by the fitted OPS emulator)."""

from __future__ import annotations

import numpy as np

from ..units import MOL_N_PER_KG_NH3, MOL_N_PER_KG_NOX  # noqa: F401


def evaluate(sources, receptors, *, cutoff_m, allow_extrapolation, chunk_pairs):
    from .core import DepositionResult

    nox = np.zeros(len(receptors))
    nh3 = np.zeros(len(receptors))
    xs, ys = sources.x, sources.y
    seg = np.isfinite(sources.x_end)
    xs = np.where(seg, 0.5 * (sources.x + sources.x_end), xs)
    ys = np.where(seg, 0.5 * (sources.y + sources.y_end), ys)
    step = max(1, chunk_pairs // max(1, len(sources)))
    for i0 in range(0, len(receptors), step):
        sl = slice(i0, i0 + step)
        d = np.hypot(receptors.x[sl, None] - xs[None, :], receptors.y[sl, None] - ys[None, :])
        k = 4.1e-3 * (np.maximum(d, 20.0) / 1000.0) ** -1.8  # per kg/yr, placeholder
        if cutoff_m is not None:
            k = np.where(d <= cutoff_m, k, 0.0)
        if sources.case is not None and receptors.case is not None:
            k = np.where(receptors.case[sl, None] == sources.case[None, :], k, 0.0)
        nox[sl] = k @ (sources.nox_kg_yr * 0.1)
        nh3[sl] = k @ sources.nh3_kg_yr
    return DepositionResult(nox=nox, nh3=nh3, notes=["placeholder kernel"])
