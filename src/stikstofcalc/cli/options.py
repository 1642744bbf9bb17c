"""Options and checks every command shares: ``--overwrite`` and the output guard.

One rule for all commands (as in rasterio's ``rio/options.py``):

- an existing output is replaced only with ``--overwrite``;
- no output may be one of the command's inputs, also not through a symbolic or hard
  link (the inputs include a project's ``overrides`` file);
- output types and folders are checked before anything is computed;
- every file the command writes goes through :mod:`stikstofcalc.io.atomic`, which applies
  the same rule to files whose names are only known later (GML files, maps, tables).

:func:`guard` wraps a command with these checks; :func:`compile_notice` tells the user
when the first run compiles the numba kernels (tens of seconds without output otherwise).
"""

from __future__ import annotations

import functools
import glob
import os
import sys
from pathlib import Path

import click

from stikstofcalc import compiled
from stikstofcalc.errors import StikstofError

#: How every error message of the command line starts (the library's and click's own).
ERROR_PREFIX = "fout:"


def user_errors(func):
    """Turn library errors into a clean message and a non-zero exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except StikstofError as exc:
            click.echo(f"{ERROR_PREFIX} {exc}", err=True)
            sys.exit(2)

    return wrapper


#: ``--overwrite``, the same flag and text on every command that writes files.
overwrite_option = click.option("--overwrite", is_flag=True,
                                help="Vervang bestaande uitvoerbestanden (standaard: weigeren).")


#: ``--csv-format``: how a CSV output is written (``excel-nl`` for Excel with Dutch settings).
csv_format_option = click.option(
    "--csv-format", type=click.Choice(["standaard", "excel-nl"]), default="standaard", show_default=True,
    help="CSV-uitvoer: 'standaard' (komma, decimaalpunt; voor software) of 'excel-nl' "
         "(puntkomma, decimaalkomma; opent direct goed in Excel met Nederlandse instellingen).")


def referenced_inputs(path) -> list[str]:
    """Files a project file names itself (``overrides = "eigen.csv"``); [] when unreadable."""
    p = Path(path)
    if p.suffix.lower() != ".toml":
        return []
    try:
        import tomllib

        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - the real parse reports the problem
        return []
    ref = data.get("overrides")
    return [str(p.parent / ref)] if isinstance(ref, str) and ref.strip() else []


def guard(*, inputs=(), outputs=None, folders=(), computes: bool = False):
    """Decorate a click command with the output rule (see the module docstring).

    Parameters
    ----------
    inputs : sequence of str
        Names of the parameters that hold input files (a str, or a tuple for ``nargs=-1``).
    outputs : dict
        Parameter name -> allowed suffixes (``(".json", ".csv")``) of output files.
    folders : sequence of str
        Parameters that name output folders (must not be a file).
    computes : bool
        The command computes deposition: print :func:`compile_notice` when needed.
    """
    outputs = outputs or {}

    def wrap(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            from stikstofcalc.io.atomic import check_output_path, write_policy

            overwrite = bool(kwargs.get("overwrite", False))
            files = []
            for name in inputs:
                value = kwargs.get(name)
                for v in (value if isinstance(value, (tuple, list)) else [value]):
                    if v:
                        files += [str(v)] + referenced_inputs(v)
            seen = {}
            for name, suffixes in outputs.items():
                if kwargs.get(name):
                    check_output_path(kwargs[name], inputs=files, overwrite=overwrite,
                                      suffixes=suffixes, option=_option(name))
                    key = os.path.realpath(str(kwargs[name]))
                    if key in seen:  # the second would replace the first (its provenance beside it)
                        from stikstofcalc.errors import InputError

                        raise InputError(f"{_option(seen[key])} en {_option(name)} noemen hetzelfde bestand",
                                         file=str(kwargs[name]), field=_option(name),
                                         expected="voor elke uitvoer een eigen bestandsnaam")
                    seen[key] = name
            for name in folders:
                if kwargs.get(name):
                    check_output_path(kwargs[name], inputs=files, overwrite=True, folder=True,
                                      option=_option(name))
            if computes:
                compile_notice()
            with write_policy(inputs=files, overwrite=overwrite):
                return func(*args, **kwargs)

        return wrapper

    return wrap


def _option(name: str) -> str:
    return {"output": "-o/--output", "outdir": "-o/--output", "map_path": "--map",
            "csv_path": "--csv"}.get(name, "--" + name.replace("_", "-"))


# ------------------------------------------------------------------ first run


def _kernel_cached() -> bool:
    """Whether numba's cache holds the deposition kernel (so no compilation is due).

    Looked up where numba looks: only ``NUMBA_CACHE_DIR`` when it is set, else the
    package's ``__pycache__`` and then the user-wide cache (numba's cache locators).
    """
    cache_dir = os.environ.get("NUMBA_CACHE_DIR")
    if cache_dir:
        return bool(glob.glob(os.path.join(cache_dir, "**", "fast._evaluate-*.nbi"), recursive=True))
    here = Path(__file__).resolve().parents[1] / "deposition"
    if glob.glob(str(here / "__pycache__" / "fast._evaluate-*.nbi")):
        return True
    root = os.path.join(os.path.expanduser("~"), ".cache", "numba")
    return bool(glob.glob(os.path.join(root, "**", "fast._evaluate-*.nbi"), recursive=True))


def compile_notice(stream=None) -> bool:
    """Print a Dutch notice to stderr when the numba kernels still have to be compiled
    (not on the numpy path, :mod:`stikstofcalc.compiled`)."""
    if not compiled.enabled() or _kernel_cached():
        return False
    click.echo("Let op: eerste run - de rekenkern wordt nu eenmalig gecompileerd (ongeveer 40 s, "
               "daarna uit de cache in een paar seconden).", err=True, file=stream)
    return True

