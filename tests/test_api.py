"""The curated top-level API (``stikstofcalc.__all__``): every name resolves, lazily."""

import re
import subprocess
import sys

import pytest

import stikstofcalc


@pytest.mark.parametrize("name", [n for n in stikstofcalc.__all__ if n != "__version__"])
def test_every_exported_name_resolves(name):
    obj = getattr(stikstofcalc, name)
    assert callable(obj), name  # functions and classes only
    assert name in dir(stikstofcalc)


def test_unknown_name_is_an_attribute_error_and_submodules_still_import():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        stikstofcalc.nonexistent  # noqa: B018
    from stikstofcalc import kengetallen, rules  # submodules, not exports

    assert hasattr(kengetallen, "load") and hasattr(rules, "get_regime")


def test_import_is_light():
    # ``import stikstofcalc`` must not load the engine, pandas or the CLI
    code = ("import sys, stikstofcalc; heavy = [m for m in ('pandas', 'scipy', 'numba', 'click', "
            "'stikstofcalc.deposition.engine') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version_matches_package_metadata():
    from importlib.metadata import version

    assert stikstofcalc.__version__ == version("stikstofcalc")


@pytest.mark.parametrize("old,new", [
    ("stikstofcalc.inventory", "stikstofcalc.emissions.inventory"),
    ("stikstofcalc.receptors", "stikstofcalc.geo.receptors"),
    ("stikstofcalc.deposition.io", "stikstofcalc.io.tables"),
    ("stikstofcalc.excel.reader", "stikstofcalc.io.excel.reader"),
    ("stikstofcalc.cli_options", "stikstofcalc.cli.options"),
])
def test_old_module_paths_give_the_same_module_with_a_warning(old, new):
    import importlib

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning) as caught:  # also the old parent package's warning
        mod = importlib.import_module(old)
    assert any(re.search(rf"heet nu {re.escape(new)}\b", str(w.message)) for w in caught), \
        [str(w.message) for w in caught]
    assert mod is importlib.import_module(new)
    assert mod.__spec__.name == new  # the real module keeps its own spec


def test_every_old_path_maps_to_an_existing_module():
    import importlib.util

    from stikstofcalc._compat import MOVED, new_name

    for old in MOVED:
        new = new_name(f"stikstofcalc.{old}")
        assert importlib.util.find_spec(new) is not None, (old, new)
    assert new_name("stikstofcalc.emissions.inventory") is None
    assert new_name("numpy") is None
