"""Natura 2000 areas shipped with the package: hexagon receptors, area table, outlines.

The data under ``stikstofcalc/data/natura2000/`` are built by ``tools/build_natura2000.py``
from the published Natura 2000 boundaries (``NOTICE.md``; 160 of the 162 areas; Waddenzee (1) and
Noordzeekustzone (7) are missing). Licence CC BY 4.0; :data:`ATTRIBUTION` must go with
every output that uses them (see ``NOTICE.md``).

Loading is lazy and cached: the first call of :func:`load_natura2000` costs a few tens of
milliseconds, later calls are free.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from stikstofcalc.caches import cached
from stikstofcalc.errors import DataError
from stikstofcalc.geo.hexgrid import xy_to_receptor_id

#: Attribution required by CC BY 4.0; print it with every result that uses the areas.
ATTRIBUTION = ("Natura 2000 boundaries: RVO via PDOK; directive status and nitrogen flag: "
               "RCE linked data (CC BY 4.0); compiled by BoerderijenNatura2000NL "
               "(jolietjakeblues), CC BY 4.0; reprojected and dissolved by the data "
               "supplier, rasterised to AERIUS hexagons and simplified for stikstofcalc.")
#: :data:`ATTRIBUTION` in Dutch: what a person reads with a result (report notes, maps).
ATTRIBUTION_NL = ("Grenzen van de Natura 2000-gebieden: RVO via PDOK; status volgens de richtlijnen en "
                  "stikstofgevoeligheid: linked data van de RCE (CC BY 4.0); samengesteld door "
                  "BoerderijenNatura2000NL (jolietjakeblues), CC BY 4.0; door de leverancier "
                  "geprojecteerd en samengevoegd, voor stikstofcalc gerasterd naar AERIUS-hexagons en "
                  "vereenvoudigd.")
#: Licence of the shipped area data.
LICENCE = "CC BY 4.0"
#: Screening caveat of the default receptor set (issue 4): say it in every output.
SCREENING_NOTE = ("Standaard rekenpunten: alle middelpunten van AERIUS-hexagons in Natura 2000-gebieden "
                  "die als stikstofgevoelig zijn aangemerkt (RCE). Dit is een benadering voor een "
                  "voortoets: niet bekend is welke hexagons een stikstofgevoelig habitat bevatten "
                  "waarvan de kritische depositiewaarde (KDW) (bijna) wordt overschreden, dus de "
                  "hoogste relevante depositie kan alleen worden overschat.")

_PKG = "stikstofcalc"
_DIR = ("data", "natura2000")


@dataclass(frozen=True)
class Natura2000:
    """The shipped Natura 2000 data (read-only).

    Attributes
    ----------
    areas : DataFrame
        One row per area, indexed by ``n2k_number``: ``name``, ``protection`` (VR, HR,
        VR+HR), ``nitrogen_sensitive`` (bool, RCE flag), ``area_ha`` [ha], ``n_hexagons``.
    receptor_id : ndarray of int64
        Sorted AERIUS ids of all hexagon centres inside an area.
    n2k_number : ndarray of int16
        Area number of each entry of ``receptor_id``.
    missing : DataFrame
        Areas of the official list that are not in the data (``n2k_number``, ``name``,
        ``reason``).
    manifest : dict
        Build provenance (input hashes, parameters, counts).
    """

    areas: pd.DataFrame
    receptor_id: np.ndarray
    n2k_number: np.ndarray
    missing: pd.DataFrame
    manifest: dict

    @property
    def missing_note(self) -> str:
        """One sentence naming the missing areas, for reports."""
        names = ", ".join(f"{r.name} ({r.n2k_number})" for r in self.missing.itertuples())
        return f"Natura 2000-gebieden die niet in de gegevens staan (niet beoordeeld): {names}."

    def area_of(self, receptor_id) -> np.ndarray:
        """Area number of each receptor id, 0 where the hexagon centre is in no area."""
        rid = np.asarray(receptor_id, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.receptor_id, rid), 0, self.receptor_id.size - 1)
        return np.where(self.receptor_id[pos] == rid, self.n2k_number[pos], 0).astype(np.int16)

    def area_at(self, x, y) -> np.ndarray:
        """Area number at RD New points [m] (at hexagon resolution; 0 outside every area).

        The point is taken to be in an area when the centre of its AERIUS hexagon is; near
        a boundary this can be off by up to one hexagon (62 m). Points off the grid give 0.
        """
        rid = xy_to_receptor_id(x, y, outside="zero")
        return np.where(rid > 0, self.area_of(np.maximum(rid, 1)), 0).astype(np.int16)

    def area_names(self, n2k_number) -> np.ndarray:
        """Area name for each area number ('' for 0 or unknown)."""
        lookup = np.full(256, "", dtype=object)
        lookup[self.areas.index.to_numpy()] = self.areas["name"].to_numpy()
        num = np.asarray(n2k_number, dtype=np.int64)
        return lookup[np.where((num >= 0) & (num < 256), num, 0)]


def _read_bytes(name: str) -> bytes:
    try:
        return resources.files(_PKG).joinpath(*_DIR, name).read_bytes()
    except (FileNotFoundError, OSError) as exc:  # pragma: no cover - broken install
        raise DataError("ontbreekt in het pakket", file=f"stikstofcalc/data/natura2000/{name}",
                        detail="installeer stikstofcalc opnieuw") from exc


@cached(maxsize=1)
def load_natura2000() -> Natura2000:
    """Load the shipped Natura 2000 receptors and area table (cached).

    Returns
    -------
    Natura2000

    Raises
    ------
    DataError
        If a file is missing or the data do not match their manifest.
    """
    manifest = json.loads(_read_bytes("manifest.json"))
    with np.load(io.BytesIO(_read_bytes("receptors.npz"))) as z:
        rid = np.cumsum(z["receptor_id_delta"].astype(np.int64))
        number = z["n2k_number"].astype(np.int16)
    areas = pd.read_csv(io.BytesIO(_read_bytes("areas.csv"))).set_index("n2k_number")
    missing = pd.read_csv(io.BytesIO(_read_bytes("missing_areas.csv")))
    if rid.size != manifest["n_receptors"] or len(areas) != manifest["n_areas"]:
        raise DataError("de gegevens passen niet bij manifest.json", file="stikstofcalc/data/natura2000",
                        detail="installeer stikstofcalc opnieuw")
    for a in (rid, number, areas):
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    return Natura2000(areas=areas, receptor_id=rid, n2k_number=number, missing=missing,
                      manifest=manifest)


@cached(maxsize=1)
def load_outlines() -> dict[str, np.ndarray]:
    """Simplified area outlines for maps (Douglas-Peucker, tolerance in the manifest).

    Returns
    -------
    dict
        ``xy`` (N, 2) RD New vertex coordinates [m] (integer metres), ``ring_offsets``
        (start of each ring in ``xy``, plus the end), ``ring_n2k_number``, ``ring_part``
        (polygon index; a polygon is one exterior ring followed by its holes) and
        ``ring_is_hole``. Rings are closed. Not for hexagon selection (use the receptors).
    """
    with np.load(io.BytesIO(_read_bytes("outlines.npz"))) as z:
        delta = z["xy_delta"].astype(np.int64)
        length = z["ring_length"].astype(np.int64)
        out = {k: z[k] for k in ("ring_n2k_number", "ring_part", "ring_is_hole")}
    offsets = np.concatenate([[0], np.cumsum(length)])
    # undo delta coding per ring: cumulative sum restarted at each ring start
    csum = np.cumsum(delta, axis=0)
    base = np.repeat(csum[offsets[:-1]] - delta[offsets[:-1]], length, axis=0)
    out.update(xy=(csum - base).astype(float), ring_offsets=offsets)
    return out


def area_outline(n2k_number: int) -> list[np.ndarray]:
    """Simplified rings of one area (exteriors and holes) as closed (n, 2) arrays [m]."""
    o = load_outlines()
    rings = np.flatnonzero(o["ring_n2k_number"] == n2k_number)
    return [o["xy"][o["ring_offsets"][i]:o["ring_offsets"][i + 1]] for i in rings]


def data_checksums() -> dict[str, str]:
    """SHA-256 of each shipped Natura 2000 data file, for output provenance."""
    names = ("areas.csv", "missing_areas.csv", "receptors.npz", "outlines.npz", "manifest.json")
    return {n: hashlib.sha256(_read_bytes(n)).hexdigest() for n in names}
