"""The import contract (issue 14): layers call down only, no import cycle, no private name
used across modules.

``tools/import_graph.py`` reads the sources with ``ast`` (nothing is imported) and holds
the layer order, :data:`LAYERS`. Any import from a higher layer, any cycle and any
``_private`` name taken from another module fails the build.
"""
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "tools" / "import_graph.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = mod
    spec.loader.exec_module(mod)
    return mod, mod.build(ROOT / "src")


def test_no_import_cycle(graph):
    mod, g = graph
    assert mod.cycles(g) == []


def test_no_private_name_across_modules(graph):
    mod, g = graph
    found = [f"{e.src}:{e.line} takes {e.names} from {e.dst}" for e in mod.private_imports(g)]
    assert found == []


def test_no_private_attribute_of_another_module(graph):
    """``alias._name`` with ``alias`` bound to another module is a private import in disguise."""
    mod, g = graph
    assert [f"{e.src}:{e.line} uses {e.dst}.{e.names[0]}" for e in g.attributes] == []


def test_checker_finds_a_private_attribute(tmp_path, graph):
    mod, _ = graph
    pkg = tmp_path / "stikstofcalc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from stikstofcalc import b as bb\nimport stikstofcalc.b as cc\n"
                              "x = bb._hidden + cc._other + bb.public + bb.__name__\n")
    (pkg / "b.py").write_text("_hidden = _other = public = 1\n")
    g = mod.build(tmp_path)
    assert sorted(e.names[0] for e in g.attributes) == ["_hidden", "_other"]


def test_imports_sit_at_the_top_but_where_the_lazy_rule_allows(graph):
    """An internal import inside a function only in the CLI, the batch runner, or of a
    compiled kernel or an optional extra (``import_graph.LAZY_IMPORTERS`` / ``LAZY_TARGETS``)."""
    mod, g = graph
    found = [f"{e.src}:{e.line} imports {e.dst}" for e in mod.misplaced_lazy_imports(g)]
    assert found == []


def test_checker_finds_a_misplaced_lazy_import(graph):
    mod, _ = graph
    edges = [mod.Edge("stikstofcalc.assessment.core", "stikstofcalc.geo.receptors", 10, True),
             mod.Edge("stikstofcalc.cli.calc", "stikstofcalc.assessment.core", 11, True),
             mod.Edge("stikstofcalc.deposition.model", "stikstofcalc.deposition._tables_nb", 12, True),
             mod.Edge("stikstofcalc.assessment.core", "stikstofcalc.geo.receptors", 13, False)]
    g = mod.Graph(edges=edges)
    assert [e.line for e in mod.misplaced_lazy_imports(g)] == [10]


def test_every_module_has_a_layer(graph):
    mod, g = graph
    for name in g.modules:
        mod.layer_of(name)  # raises KeyError for a module outside LAYERS


def test_layers_call_down_only(graph):
    mod, g = graph
    up = [f"{e.src}:{e.line} imports {e.dst}" for e in mod.upward_imports(g)]
    assert up == []


def test_layer_order_is_the_documented_one(graph):
    """Spot checks that the table means what the package docstring says."""
    mod, _ = graph
    lv = mod.layer_of
    assert lv("stikstofcalc.errors") < lv("stikstofcalc.geo.receptors") < lv("stikstofcalc.deposition.engine")
    assert lv("stikstofcalc.deposition.engine") < lv("stikstofcalc.emissions.inventory")
    assert lv("stikstofcalc.emissions.inventory") < lv("stikstofcalc.io.excel.results")
    assert lv("stikstofcalc.io.excel.results") < lv("stikstofcalc.assessment.core") < lv("stikstofcalc.batch.run")
    assert lv("stikstofcalc.batch.run") < lv("stikstofcalc.capacity.core") < lv("stikstofcalc.cli.main")
    assert lv("stikstofcalc.io.imaer.reader") < lv("stikstofcalc.geo.receptors") < lv("stikstofcalc.io.imaer.writer")
    assert lv("stikstofcalc.deposition.arrays") == 0
    assert lv("stikstofcalc") == len(mod.LAYERS) - 1


def test_graph_tool_finds_a_cycle(tmp_path, graph):
    """The checker itself: a two-module cycle and a private import are found."""
    mod, _ = graph
    pkg = tmp_path / "stikstofcalc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import _hidden\n")
    (pkg / "b.py").write_text("def f():\n    from . import a\n_hidden = 1\n")
    g = mod.build(tmp_path)
    assert mod.cycles(g) == [["stikstofcalc.a", "stikstofcalc.b"]]
    assert [e.names for e in mod.private_imports(g)] == [("_hidden",)]
    assert mod.cycles(g, top_level_only=True) == []


def test_checker_finds_an_upward_import(tmp_path, graph):
    """The layer check itself: an import of the CLI from the deposition engine is found,
    also inside a function."""
    mod, _ = graph
    pkg = tmp_path / "stikstofcalc"
    (pkg / "deposition").mkdir(parents=True)
    (pkg / "cli").mkdir()
    for d in (pkg, pkg / "deposition", pkg / "cli"):
        (d / "__init__.py").write_text("")
    (pkg / "cli" / "main.py").write_text("from stikstofcalc.deposition import engine\n")
    (pkg / "deposition" / "engine.py").write_text("def f():\n    from stikstofcalc.cli import main\n")
    g = mod.build(tmp_path)
    up = mod.upward_imports(g)
    assert [(e.src, e.dst, e.in_function) for e in up] == \
        [("stikstofcalc.deposition.engine", "stikstofcalc.cli.main", True)]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed (pip install -e '.[test]')")
def test_ruff_is_clean():
    """pyflakes/pycodestyle/bugbear as configured in pyproject.toml ([tool.ruff])."""
    out = subprocess.run(["ruff", "check", "--quiet", "src", "tests", "tools", "benchmarks"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr

