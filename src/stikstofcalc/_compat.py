"""Module paths of version 0.1.0, kept importable for one release (issue 14 restructure).

``import stikstofcalc.inventory`` (0.1.0) gives the module that is now
``stikstofcalc.emissions.inventory`` - the same module object, not a copy - with a
``DeprecationWarning`` that names the new path. Installed by ``stikstofcalc/__init__.py``;
remove in the release after 0.2.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: old module (without ``stikstofcalc.``) -> new module; a prefix maps its submodules too
MOVED = {
    "construction": "emissions.construction",
    "usephase": "emissions.usephase",
    "inventory": "emissions.inventory",
    "project": "emissions.project",
    "sources": "emissions.sources",
    "natura2000": "geo.natura2000",
    "receptors": "geo.receptors",
    "deposition.geometry": "geo.geometry",
    "deposition.io": "io.tables",
    "deposition.cli": "cli.deposition",
    "assessment_many": "assessment.many",
    "source_list": "assessment.source_list",
    "atomic": "io.atomic",
    "gpkg": "io.gpkg",
    "report": "io.report",
    "excel": "io.excel",
    "imaer": "io.imaer",
    "cli_batch": "cli.batch",
    "cli_calc": "cli.calc",
    "cli_capacity": "cli.capacity",
    "cli_commands": "cli.commands",
    "cli_emissions": "cli.emissions",
    "cli_imaer": "cli.imaer",
    "cli_maps": "cli.maps",
    "cli_options": "cli.options",
}
PREFIX = "stikstofcalc."


def new_name(fullname: str) -> str | None:
    """The current module for an old dotted name, or None if *fullname* did not move."""
    if not fullname.startswith(PREFIX):
        return None
    rel = fullname[len(PREFIX):]
    parts = rel.split(".")
    for i in range(len(parts), 0, -1):
        head = ".".join(parts[:i])
        if head in MOVED:
            return PREFIX + ".".join([MOVED[head], *parts[i:]])
    return None


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target
        self._spec = None

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self._spec = module.__spec__  # the import machinery overwrites it: restored below
        return module

    def exec_module(self, module):
        module.__spec__ = self._spec


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = new_name(fullname)
        if new is None:
            return None
        warnings.warn(f"{fullname} heet nu {new} (de oude naam verdwijnt in de volgende versie)",
                      DeprecationWarning, stacklevel=2)
        return importlib.util.spec_from_loader(fullname, _Alias(new))


def install() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
