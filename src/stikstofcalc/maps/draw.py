"""Map pictures: deposition per phase and year, and headroom around a location.

Drawing only (matplotlib with the Agg backend, the optional extra ``stikstofcalc[maps]``):
:func:`plot_deposition_map`, :func:`plot_headroom_map` return a Figure;
:func:`write_deposition_maps`, :func:`write_headroom_map`, :func:`write_batch_maps` write
PNG files. What they show is computed in :mod:`stikstofcalc.assessment.mapdata`
(:func:`deposition_maps`, :func:`headroom_grid`, re-exported here). See ``docs/maps.md``.
"""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

import numpy as np

from stikstofcalc.assessment.mapdata import (  # noqa: F401 - the compute layer, re-exported for map callers
    A4_LANDSCAPE_IN, HEADROOM_RADIUS_M, HEADROOM_SEED, HEADROOM_STEP_M, MAP_AXES, MAP_MIN_HALF_WIDTH_M,
    MAP_PAD_FRACTION, DepositionMap, HeadroomGrid, SourceShape, deposition_maps, headroom_grid, map_extent,
)
from stikstofcalc.assessment.mapdata import nl_num as _nl_num
from stikstofcalc.errors import InputError, StikstofError, nl_display, nl_int
from stikstofcalc.geo.natura2000 import load_natura2000, load_outlines
from stikstofcalc.geo.receptors import (HEXAGON_HEIGHT_M, hexagon_vertices, receptor_id_to_xy,
    xy_to_receptor_id)
from stikstofcalc.io.atomic import atomic_path, unique_names, write_csv_atomic
from stikstofcalc.batch.run import read_book, validate_book

#: Default resolution [dpi]: 150 gives 1754 x 1240 px, sharp on paper.
DEFAULT_DPI = 150
#: Lowest colour class = threshold x this (below: "< 0,00005", grey) [-].
FLOOR_FRACTION = 0.01
#: Class boundaries per decade, as multiples of the threshold: 1, 2, 10, 20, ... [-].
CLASS_STEPS = (1.0, 2.0)
#: Labels of Natura 2000 areas per map (the largest in view) [-].
MAX_AREA_LABELS = 8

_MISSING_MPL = ("kaarten hebben matplotlib nodig, een optioneel extra: pip install 'stikstofcalc[maps]'")


class MapsUnavailable(StikstofError, ImportError):
    """matplotlib is not installed (``pip install 'stikstofcalc[maps]'``)."""


def require_matplotlib():
    """Import matplotlib with the Agg backend (no display); raise a clear error if missing."""
    try:
        import matplotlib
    except ImportError as exc:
        raise MapsUnavailable(_MISSING_MPL) from exc
    import sys

    if "matplotlib.pyplot" not in sys.modules:  # figures are drawn on Agg canvases anyway
        matplotlib.use("Agg")
    return matplotlib


# --------------------------------------------------------------------------- drawing helpers


def class_bounds(threshold: float, largest: float) -> np.ndarray:
    """Colour class boundaries: threshold x (0.01, 0.02, 0.1, 0.2, 1, 2, 10, ...) up past ``largest``.

    Returns
    -------
    ndarray
        Increasing boundaries [mol N/ha/yr], from ``threshold x FLOOR_FRACTION`` to the first
        boundary above ``max(largest, 2 x threshold)``; the threshold is one of them.
    """
    top = max(float(largest), CLASS_STEPS[-1] * threshold) if np.isfinite(largest) else threshold
    k0 = int(round(math.log10(FLOOR_FRACTION)))
    k1 = int(math.ceil(math.log10(top / threshold))) + 1
    b = np.array([threshold * s * 10.0 ** k for k in range(k0, k1 + 1) for s in CLASS_STEPS])
    last = int(np.searchsorted(b, top, side="right"))
    return b[:last + 1]


def _class_colours(bounds, threshold):
    """Blues below the threshold, yellow-orange-red-purple from it on."""
    import matplotlib as mpl

    n = len(bounds) - 1
    n_below = int(np.searchsorted(bounds, threshold))
    below = mpl.colormaps["Blues"](np.linspace(0.15, 0.55, max(n_below, 1)))[:n_below]
    hot = mpl.colormaps["YlOrRd"](np.linspace(0.25, 1.0, max(n - n_below, 1)))[:n - n_below]
    if n - n_below > 5:  # long tails end in purple, for print contrast
        hot[-1] = mpl.colors.to_rgba("#49006a")
    return np.vstack([below, hot])


def new_figure(figsize, dpi):
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def km_axes(ax, extent):
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal", adjustable="box")
    step = _nice((extent[1] - extent[0]) / 6, minimum=1000.0)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MultipleLocator(step))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:.0f}"))
    ax.set_xlabel("RD x (km)", fontsize=9)
    ax.set_ylabel("RD y (km)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(True, color="#999999", lw=0.3, alpha=0.5, zorder=0)


def _nice(value, *, minimum=0.0):
    """The 1-2-5 number at or below ``value`` (at least ``minimum``)."""
    value = max(value, minimum)
    e = 10.0 ** math.floor(math.log10(value))
    return max([m * e for m in (1, 2, 5, 10) if m * e <= value + 1e-9] or [e])


def scale_bar_and_north(ax, extent):
    from matplotlib.font_manager import FontProperties
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    length = _nice((extent[1] - extent[0]) / 5)
    label = f"{length / 1000:g} km".replace(".", ",") if length >= 1000 else f"{length:g} m"
    bar = AnchoredSizeBar(ax.transData, length, label, "lower left", pad=0.5, sep=4,
                          frameon=True, size_vertical=(extent[3] - extent[2]) / 150,
                          fontproperties=FontProperties(size=9))
    bar.set_gid("scale-bar")
    bar.patch.set_alpha(0.85)
    ax.add_artist(bar)
    ax.annotate("N", xy=(0.955, 0.965), xytext=(0.955, 0.87), xycoords="axes fraction",
                ha="center", va="center", fontsize=12, fontweight="bold", gid="north-arrow",
                arrowprops=dict(facecolor="black", edgecolor="black", width=3.5, headwidth=11,
                                headlength=10),
                bbox=dict(boxstyle="circle,pad=0.2", fc="white", ec="none", alpha=0.8), zorder=8)


def draw_natura2000(ax, extent, area_names=None, *, fill=True, label_points=None):
    """Natura 2000 outlines (shipped simplified data) that reach into the extent."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patheffects import withStroke

    o = load_outlines()
    off, xy = o["ring_offsets"], o["xy"]
    ext, holes, nums = [], [], set()
    for i in range(len(off) - 1):  # ~ a few thousand rings: cheap bounding-box test
        ring = xy[off[i]:off[i + 1]]
        if (ring[:, 0].max() < extent[0] or ring[:, 0].min() > extent[1]
                or ring[:, 1].max() < extent[2] or ring[:, 1].min() > extent[3]):
            continue
        (holes if o["ring_is_hole"][i] else ext).append(ring)
        nums.add(int(o["ring_n2k_number"][i]))
    ax.add_collection(PolyCollection(ext, facecolors="#dcefd9" if fill else "none",
                                     edgecolors="#2e7d32", linewidths=0.8, zorder=1, gid="natura2000"))
    if holes:
        ax.add_collection(PolyCollection(holes, facecolors="white" if fill else "none",
                                         edgecolors="#2e7d32", linewidths=0.5, zorder=1.1))
    names = load_natura2000().area_names(np.array(sorted(nums), dtype=np.int64)) if nums else []
    if label_points is None:
        return dict(zip(sorted(nums), names))
    for num, (lx, ly, _) in sorted(label_points.items(), key=lambda kv: -kv[1][2])[:MAX_AREA_LABELS]:
        ax.text(lx, ly, (area_names or {}).get(num, ""), fontsize=8.5, style="italic",
                color="#1b5e20", ha="center", va="center", zorder=7, clip_on=True,
                path_effects=[withStroke(linewidth=2.5, foreground="white")])
    return dict(zip(sorted(nums), names))


def _area_label_points(x, y, num, extent):
    """Per area in view: the hexagon nearest the centre of its hexagons in view, and their count."""
    inner = ((x > extent[0] + 0.08 * (extent[1] - extent[0])) & (x < extent[1] - 0.08 * (extent[1] - extent[0]))
             & (y > extent[2] + 0.05 * (extent[3] - extent[2])) & (y < extent[3] - 0.05 * (extent[3] - extent[2])))
    out = {}
    for n in np.unique(num[inner & (num > 0)]):
        k = np.flatnonzero(inner & (num == n))
        mx, my = x[k].mean(), y[k].mean()
        j = k[np.argmin(np.hypot(x[k] - mx, y[k] - my))]
        out[int(n)] = (float(x[j]), float(y[j]), k.size)
    return out


def _draw_sources(ax, shapes):
    """Site polygons, route lines and point sources; returns legend handles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Polygon

    handles = {}
    for s in shapes:
        if s.kind == "outline":
            ax.add_patch(Polygon(s.xy, closed=True, fc="none", ec="#bf360c", lw=1.2, ls="--",
                                 zorder=5, gid="project-outline"))
            handles.setdefault("outline", Line2D([], [], color="#bf360c", lw=1.2, ls="--",
                                                 label="projectgebied"))
        if s.kind == "site":
            ax.add_patch(Polygon(s.xy, closed=True, fc="#ff9800", ec="#bf360c", lw=1.6, alpha=0.9,
                                 hatch="///", zorder=5, gid="source-site"))
            handles.setdefault("site", Patch(fc="#ff9800", ec="#bf360c", hatch="///",
                                             label="bouwterrein (mobiele werktuigen)"))
        elif s.kind == "route":
            ax.plot(s.xy[:, 0], s.xy[:, 1], color="#6a1b9a", lw=2.4, solid_capstyle="round",
                    zorder=5, gid="source-route")
            handles.setdefault("route", Line2D([], [], color="#6a1b9a", lw=2.4,
                                               label="route (tot opgaan in het verkeer)"))
        else:
            ax.plot(s.xy[:, 0], s.xy[:, 1], ls="none", marker="^", ms=8, mfc="#ff9800", mec="black",
                    zorder=6, gid="source-point")
            handles.setdefault("point", Line2D([], [], ls="none", marker="^", ms=8, mfc="#ff9800",
                                               mec="black", label="puntbron (" + s.label + ")"))
    return list(handles.values())


def _threshold_edges(receptor_id, above_ids):
    """The threshold contour: hexagon edges between a hexagon at or above the threshold
    and a neighbouring hexagon of the set below it.

    Edges towards hexagons outside the set (the edge of a Natura 2000 area) are not part
    of the contour (the area outline is drawn anyway). Flat-topped hexagons (:func:`receptors.hexagon_vertices`):
    edge ``k`` joins corners ``k`` and ``k + 1`` (at 60 k and 60 (k + 1) degrees) and faces
    the neighbour at ``60 k + 30`` degrees, ``sqrt(3) r`` away.
    """
    ids = receptor_id[np.isin(receptor_id, above_ids)]
    if ids.size == 0:
        return np.zeros((0, 2, 2))
    cx, cy = receptor_id_to_xy(ids)
    ang = np.deg2rad(60.0 * np.arange(6) + 30.0)
    nb = xy_to_receptor_id(cx[:, None] + HEXAGON_HEIGHT_M * np.cos(ang),
                           cy[:, None] + HEXAGON_HEIGHT_M * np.sin(ang), outside="zero")
    open_edge = np.isin(nb, receptor_id) & ~np.isin(nb, above_ids)
    v = hexagon_vertices(ids)
    seg = np.stack([v, np.roll(v, -1, axis=1)], axis=2)  # (n, 6, 2 ends, 2)
    return seg[open_edge]


# --------------------------------------------------------------------------- draw: deposition


def plot_deposition_map(m: DepositionMap, *, figsize=A4_LANDSCAPE_IN, dpi: int = DEFAULT_DPI):
    """Draw one deposition map (A4 landscape); returns the matplotlib Figure.

    Artists carry a ``gid`` for tests and post-processing: ``deposition`` (the hexagon
    PolyCollection, its array the deposition [mol N/ha/yr]), ``threshold`` (edges of the
    hexagons at or above the threshold), ``maximum`` (marker at the largest value),
    ``natura2000``, ``source-*``, ``scale-bar``, ``north-arrow``.
    """
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig = new_figure(figsize, dpi)
    ax = fig.add_axes(MAP_AXES)
    km_axes(ax, m.extent)
    labels = _area_label_points(m.x, m.y, m.n2k_number, m.extent)
    draw_natura2000(ax, m.extent, m.area_names, label_points=labels)

    bounds = class_bounds(m.threshold, m.max_deposition)
    colours = _class_colours(bounds, m.threshold)
    cmap = ListedColormap(colours).with_extremes(under="#e6e6e6", over=colours[-1])
    norm = BoundaryNorm(bounds, cmap.N)
    hexes = PolyCollection(hexagon_vertices(m.receptor_id), array=m.deposition, cmap=cmap,
                           norm=norm, edgecolors="face", linewidths=0.15, zorder=2, gid="deposition")
    ax.add_collection(hexes)
    if (~m.relevant).any():
        ax.add_collection(PolyCollection(hexagon_vertices(m.receptor_id[~m.relevant]),
                                         facecolors="none", edgecolors="#555555", linewidths=0,
                                         hatch="////", zorder=2.5, gid="not-relevant"))
    edges = _threshold_edges(m.receptor_id, m.above_ids)
    ax.add_collection(LineCollection(edges, colors="black", linewidths=1.3, zorder=3,
                                     gid="threshold"))
    handles = _draw_sources(ax, m.sources)
    if np.isfinite(m.max_x):
        ax.plot([m.max_x], [m.max_y], ls="none", marker="*", ms=17, mfc="white", mec="black",
                mew=1.4, zorder=9, gid="maximum")
        _label_maximum(ax, m)
    scale_bar_and_north(ax, m.extent)

    cax = fig.add_axes([0.71, 0.50, 0.022, 0.36])
    cb = fig.colorbar(hexes, cax=cax, extend="min", ticks=bounds, spacing="uniform")
    cb.ax.set_yticklabels([_nl_num(b) + ("  \u25c0 drempel (0,00 \u2192 0,01)" if b == m.threshold else "")
                           for b in bounds], fontsize=8)
    for t, b in zip(cb.ax.get_yticklabels(), bounds):
        t.set_fontweight("bold" if b == m.threshold else "normal")
    cb.ax.axhline(m.threshold, color="black", lw=2.5)
    cax.set_title("Depositie\n(mol N/ha/jr)", fontsize=9, loc="left", pad=8)

    handles = [Patch(fc="#e6e6e6", ec="#bbbbbb",
                     label=f"hexagon < {_nl_num(bounds[0])} mol N/ha/jr"),
               Line2D([], [], color="black", lw=1.3,
                      label=f"grens hexagons \u2265 {_nl_num(m.threshold)} mol N/ha/jr"),
               Line2D([], [], ls="none", marker="*", ms=13, mfc="white", mec="black",
                      label="hoogste depositie"),
               Patch(fc="#dcefd9", ec="#2e7d32", label="Natura 2000-gebied")] + handles
    if (~m.relevant).any():
        handles.append(Patch(fc="none", ec="#555555", hatch="////",
                             label="niet relevant (telt niet mee)"))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.70, 0.455), fontsize=8,
               frameon=False, handlelength=2.2)
    fig.text(0.06, 0.955, m.case, fontsize=15, fontweight="bold", va="bottom")
    fig.text(0.06, 0.915, f"Stikstofdepositie {m.phase_label} {m.year}  -  {_verdict_line(m)}",
             fontsize=11, va="bottom")
    fig.text(0.70, 0.255, _summary(m), fontsize=8.5, va="top", linespacing=1.4)
    fig.text(0.06, 0.012, "\n".join(textwrap.wrap(m.footnote, 200)), fontsize=5.8,
             color="#444444", va="bottom", linespacing=1.3)
    return fig


def _verdict_line(m) -> str:
    return (f"hoogste {_nl_num(m.max_deposition, 4)} mol N/ha/jr (afgerond {nl_display(m.max_display)}): "
            f"{m.verdict}")


def _summary(m) -> str:
    where = (f"{m.max_area}, receptor {m.max_receptor_id}\n(RD x {_nl_num(m.max_x, 6)} m, "
             f"y {_nl_num(m.max_y, 6)} m)" if m.max_receptor_id else "geen Natura 2000-hexagon binnen 25 km")
    n = _nl_num(m.n_hexagons_above, 9)
    return (f"Hoogste depositie: {_nl_num(m.max_deposition, 4)} mol N/ha/jr\n(afgerond {nl_display(m.max_display)})\n"
            f"Waar: {where}\nHexagons \u2265 {_nl_num(m.threshold)} mol N/ha/jr: {n} ({n} ha)")


def _label_maximum(ax, m):
    ext = m.extent
    fx = (m.max_x - ext[0]) / (ext[1] - ext[0])
    fy = (m.max_y - ext[2]) / (ext[3] - ext[2])
    ox = -60 if fx > 0.6 else 60
    oy = -45 if fy > 0.6 else 45
    ax.annotate(f"hoogste: {_nl_num(m.max_deposition, 3)}\n{m.max_area}", xy=(m.max_x, m.max_y),
                xytext=(ox, oy), textcoords="offset points", fontsize=8.5, fontweight="bold",
                ha="right" if ox < 0 else "left", va="center", zorder=10, gid="maximum-label",
                bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="black", lw=0.8, alpha=0.92),
                arrowprops=dict(arrowstyle="-|>", color="black", lw=1.0, shrinkB=9))


def write_deposition_maps(project, assessment=None, *, path=None, directory=None,
                          dpi: int = DEFAULT_DPI, **kwargs) -> list[Path]:
    """Write deposition maps as PNG: ``path`` the phase-year with the largest deposition,
    ``directory`` one file per phase and year (``<case>_<phase>_<year>.png``).

    Keyword arguments go to :func:`deposition_maps`. Returns the files written.
    """
    require_matplotlib()
    maps = deposition_maps(project, assessment, **kwargs)
    written = []
    if path is not None and maps:
        worst = max(maps, key=lambda mm: mm.max_deposition)
        written.append(save_figure(plot_deposition_map(worst, dpi=dpi), path, dpi))
    if directory is not None:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for mm in maps:
            written.append(save_figure(plot_deposition_map(mm, dpi=dpi),
                                 d / f"{_slug(mm.case)}_{mm.phase}_{mm.year}.png", dpi))
    return written


def _slug(text) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", str(text)).strip("_")[:60] or "project"


def save_figure(fig, path, dpi, *, palette: bool = True, group=None) -> Path:
    """Write the figure as PNG atomically (a temporary file renamed).

    ``palette``: store as a 256-colour palette PNG (Pillow, which matplotlib installs);
    the maps have a few flat colours, so this is visually lossless and about 3x smaller.
    ``group``: an :class:`~stikstofcalc.io.atomic.AtomicGroup` the file joins (default its own).
    """
    import contextlib
    import io

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError("onbekend uitvoertype", file=str(path), value=path.suffix or "(geen extensie)",
                         expected="een bestandsnaam op .png")
    with (contextlib.nullcontext(group.path(path)) if group is not None else atomic_path(path)) as tmp:
        if palette:
            from PIL import Image

            buf = io.BytesIO()
            fig.savefig(buf, dpi=dpi, format="png")
            buf.seek(0)
            img = Image.open(buf).convert("RGB")
            img.quantize(colors=256, dither=Image.Dither.NONE).save(tmp, format="PNG", optimize=True)
        else:
            fig.savefig(tmp, dpi=dpi, format="png")
    return path


# --------------------------------------------------------------------------- draw: headroom


def plot_headroom_map(g: HeadroomGrid, *, figsize=A4_LANDSCAPE_IN, dpi: int = DEFAULT_DPI):
    """Draw the headroom map; returns the Figure.

    ``gid`` ``headroom`` is the PolyCollection of candidate cells (array: the headroom in
    ``g.unit``, ``inf`` shown as the top class); ``project-site`` the project's own location.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import BoundaryNorm, ListedColormap
    import matplotlib as mpl
    from matplotlib.patheffects import withStroke

    fig = new_figure(figsize, dpi)
    ax = fig.add_axes(MAP_AXES)
    half = g.radius_m + g.step_m / 2
    aspect = (MAP_AXES[2] * figsize[0]) / (MAP_AXES[3] * figsize[1])
    extent = map_extent(np.array([[g.location[0] - half, g.location[1] - half],
                               [g.location[0] + half, g.location[1] + half]]), aspect=aspect)
    km_axes(ax, extent)
    finite = g.headroom[np.isfinite(g.headroom)]
    lo = max(float(finite.min()) if finite.size else 1.0, 1e-3)
    hi = max(float(finite.max()) if finite.size else 10.0, lo * 10)
    bounds = np.array([s * 10.0 ** k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
                       for s in (1, 2, 5)])
    bounds = bounds[(bounds >= bounds[bounds <= lo].max()) & (bounds <= bounds[bounds >= hi].min())]
    colours = mpl.colormaps["YlGnBu"](np.linspace(0.1, 0.95, len(bounds) - 1))
    cmap = ListedColormap(colours).with_extremes(under=colours[0], over=colours[-1])
    norm = BoundaryNorm(bounds, cmap.N)
    s = g.step_m / 2
    cells = np.stack([np.column_stack([g.x - s, g.y - s]), np.column_stack([g.x + s, g.y - s]),
                      np.column_stack([g.x + s, g.y + s]), np.column_stack([g.x - s, g.y + s])], axis=1)
    coll = PolyCollection(cells, array=g.headroom, cmap=cmap, norm=norm, edgecolors="white",
                          linewidths=0.6, zorder=2, alpha=0.92, gid="headroom")
    ax.add_collection(coll)
    draw_natura2000(ax, extent, fill=False)
    for sh in g.sources:
        if sh.kind == "route":
            ax.plot(sh.xy[:, 0], sh.xy[:, 1], color="#6a1b9a", lw=1.6, zorder=5)
        elif sh.kind == "site":
            ax.fill(sh.xy[:, 0], sh.xy[:, 1], fc="#ff9800", ec="#bf360c", lw=1.2, zorder=5)
    ax.plot([g.location[0]], [g.location[1]], ls="none", marker="o", ms=9, mfc="none", mec="#d50000",
            mew=2.2, zorder=6, gid="project-site")
    if len(g.x) <= 500:
        fs = 7 if len(g.x) <= 150 else 5.5
        for x, y, v in zip(g.x, g.y, g.headroom):
            dark = np.isfinite(v) and norm(v) > 0.55 * cmap.N
            ax.text(x, y, _amount(v, g.unit), ha="center", va="center", fontsize=fs, zorder=7,
                    color="white" if dark else "black", clip_on=True,
                    fontweight="bold" if np.isfinite(v) and v >= g.amount else "normal",
                    path_effects=[withStroke(linewidth=1.5, foreground="#08306b" if dark else "white")])
    scale_bar_and_north(ax, extent)
    cax = fig.add_axes([0.71, 0.50, 0.022, 0.36])
    cb = fig.colorbar(coll, cax=cax, ticks=bounds, spacing="uniform", extend="max")
    cb.ax.set_yticklabels([_nl_num(b) for b in bounds], fontsize=8)
    if bounds[0] <= g.amount <= bounds[-1]:
        cb.ax.axhline(g.amount, color="#d50000", lw=2.5)
        cb.ax.annotate(f"het project nu:\n{_nl_num(g.amount, 4)} {g.unit}", xy=(1.0, g.amount),
                       xycoords=("axes fraction", "data"), xytext=(48, 0), textcoords="offset points",
                       va="center", fontsize=8, fontweight="bold", color="#d50000",
                       arrowprops=dict(arrowstyle="-", lw=1.0, color="#d50000"))
    what = "woningen" if g.unit == "woningen" else "kg NOx/jr"
    cax.set_title(f"Ruimte tot 0,00\n({what})", fontsize=9, loc="left", pad=8)
    phase = ", ".join(sorted({p for p, _ in g.scenarios}))
    fig.text(0.06, 0.955, g.case, fontsize=15, fontweight="bold", va="bottom")
    fig.text(0.06, 0.915, f"Ruimte per locatie: hoeveel {what} geeft nog 0,00 mol N/ha/jr "
             f"({phase}; raster {_nl_num(g.step_m / 1000)} km binnen {_nl_num(g.radius_m / 1000)} km)",
             fontsize=11, va="bottom")
    text = (f"Elk vak: het project verschoven naar het midden van het vak; het getal is de grootste "
            f"omvang ({what}) die in elke fase en elk jaar nog 0,00 geeft. Vet: het project past "
            f"zoals het is ({_nl_num(g.amount, 4)} {what}). Rode cirkel: de projectlocatie.")
    fig.text(0.70, 0.40, "\n".join(textwrap.wrap(text, 46)), fontsize=8.5, va="top", linespacing=1.4)
    fig.text(0.06, 0.012, "\n".join(textwrap.wrap(g.footnote, 200)), fontsize=5.8, color="#444444",
             va="bottom", linespacing=1.3)
    return fig


def _amount(v, unit) -> str:
    """Headroom as shown: whole homes (rounded down, strictly below the supremum), or kg NOx/yr."""
    if not np.isfinite(v):
        return "\u221e"
    if unit == "woningen":
        whole = max(math.ceil(v) - 1, 0)
        return "<1" if whole == 0 and v > 0 else nl_int(whole)
    return _nl_num(v, 2)


def write_headroom_map(project, path, *, csv=None, dpi: int = DEFAULT_DPI, **kwargs) -> list[Path]:
    """Compute :func:`headroom_grid` (keyword arguments) and write the PNG (and a CSV)."""
    require_matplotlib()
    g = headroom_grid(project, **kwargs)
    written = [save_figure(plot_headroom_map(g, dpi=dpi), path, dpi)]
    if csv is not None:
        write_csv_atomic(g.to_frame(), csv)
        written.append(Path(csv))
    return written


def write_batch_maps(cases, directory, *, regime=None, dpi: int = DEFAULT_DPI,
                     book=None) -> tuple[list[Path], list]:
    """One deposition map per phase and year of every valid case of a batch workbook.

    Parameters
    ----------
    cases : path
        The workbook or CSV given to :func:`stikstofcalc.batch.run.run_batch`.
    directory : path
        Maps go to ``DIRECTORY/<case>_<phase>_<year>.png``.
    regime : str, keyword-only
        For cases without a regime cell (as for the batch).
    book : RawBook, keyword-only
        The book already read (saves reading it twice).

    Returns
    -------
    written : list of Path
    failed : list of (case_id, message)
        Cases whose maps could not be drawn (their errors are in the batch's ``fouten``
        sheet already, or are listed here); the other cases are still drawn. A case whose
        id gives the same file name as an earlier one (``zaak/1``, ``zaak:1``) is drawn
        under a unique name (``zaak_1_2_...``) and listed here with a note.
    """
    require_matplotlib()
    v = validate_book(read_book(cases) if book is None else book, regime=regime)
    written, failed = [], []
    slugs = [_slug(c.case_id) for c in v.cases]
    names = unique_names(slugs)
    for i, (case, slug, name) in enumerate(zip(v.cases, slugs, names)):
        if name != slug:  # the earlier case whose maps have this name (also a renamed one)
            first = next(c.case_id for c, n in zip(v.cases[:i], names[:i]) if n.lower() == slug.lower())
            failed.append((case.case_id, f"zaak-id geeft dezelfde bestandsnaam als zaak {first!r} "
                                         f"({slug}); kaarten heten {name}_*.png"))
        try:
            maps = deposition_maps(case.project, regime=case.regime, receptors=case.receptors)
        except StikstofError as exc:
            failed.append((case.case_id, str(exc)))
            continue
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for mm in maps:
            written.append(save_figure(plot_deposition_map(mm, dpi=dpi),
                                 d / f"{name}_{mm.phase}_{mm.year}.png", dpi))
    return written, failed
