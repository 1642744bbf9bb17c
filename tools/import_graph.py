"""The package's import graph: cycles, upward imports and private names used across modules.

Reads every module under ``src/stikstofcalc`` with :mod:`ast` (nothing is imported, so the
check is fast and has no side effects) and reports

* strongly connected components of more than one module (import cycles), counting imports
  at module level and inside functions alike;
* how many imports are placed inside functions (counted, not yet a rule);
* ``_private`` names imported from another module, or used as ``alias._name`` of one;
* imports that go up the layer order of :data:`LAYERS` (``tests/test_layers.py`` holds the
  contract and fails the build on any of these).

Run: ``python tools/import_graph.py`` (prints the report, exit 1 when there are findings).
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "stikstofcalc"


#: The layer order, lowest first: a module may import from its own layer and the ones below,
#: never from one above (checked for imports at module level and inside functions alike).
#: An entry names a module and everything under it; the longest matching entry wins.
LAYERS: list[tuple[str, list[str]]] = [
    ("basis", ["_version", "_lazy", "_compat", "caches", "compiled", "errors", "conventions", "units", "limits", "ranges",
               "deposition.arrays"]),
    ("files (low level)", ["io.atomic", "io.text", "io.gpkg", "io.imaer", "io.imaer.xmltree", "io.imaer.xsd",
                           "io.imaer.model", "io.imaer.pdf", "io.imaer.reader"]),
    ("rules and key figures", ["rules", "kengetallen"]),
    ("geo", ["geo"]),
    ("deposition", ["deposition"]),
    ("emissions", ["emissions"]),
    ("tables, workbooks, AERIUS files", ["io", "io.imaer.check", "io.imaer.writer"]),
    ("assessment", ["assessment"]),
    ("batch", ["batch"]),
    ("maps and capacity", ["maps", "capacity"]),
    ("front ends", ["cli", "__main__", ""]),
]


def layer_of(module: str) -> int:
    """Index in :data:`LAYERS` of a module (``stikstofcalc.`` prefix optional)."""
    name = module.removeprefix(PACKAGE).removeprefix(".")
    best, level = -1, None
    for i, (_, entries) in enumerate(LAYERS):
        for entry in entries:
            if entry == "" and name == "":
                match = 0
            elif entry and (name == entry or name.startswith(entry + ".")):
                match = len(entry)
            else:
                continue
            if match > best:
                best, level = match, i
    if level is None:
        raise KeyError(f"module {module!r} is in no layer of LAYERS")
    return level


def upward_imports(g: Graph) -> list[Edge]:
    """Imports of a module from a higher layer than the importer's."""
    return [e for e in g.edges if layer_of(e.dst) > layer_of(e.src)]


@dataclass
class Edge:
    src: str
    dst: str
    line: int
    in_function: bool
    names: tuple[str, ...] = ()


@dataclass
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    #: ``alias._name`` uses of another module's private attribute (``alias`` bound to that module)
    attributes: list[Edge] = field(default_factory=list)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(mod: str, is_pkg: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


class _Visitor(ast.NodeVisitor):
    def __init__(self, mod: str, is_pkg: bool, modules: set[str]):
        self.mod, self.is_pkg, self.modules = mod, is_pkg, modules
        self.depth = 0
        self.edges: list[Edge] = []
        self.aliases: dict[str, str] = {}  # local name -> internal module it is bound to
        self.attributes: list[Edge] = []

    def _func(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _func

    def _known(self, name: str) -> str | None:
        while name:
            if name in self.modules:
                return name
            name = name.rpartition(".")[0]
        return None

    def visit_Import(self, node):
        for a in node.names:
            k = self._known(a.name)
            if k:
                self.edges.append(Edge(self.mod, k, node.lineno, self.depth > 0))
                if a.asname and a.name in self.modules:
                    self.aliases[a.asname] = a.name

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.attr.startswith("_") and not node.attr.startswith("__"):
            target = self.aliases.get(node.value.id)
            if target is not None and target != self.mod:
                self.attributes.append(Edge(self.mod, target, node.lineno, self.depth > 0, (node.attr,)))
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        base = _resolve(self.mod, self.is_pkg, node.level, node.module)
        for a in node.names:
            sub = f"{base}.{a.name}"
            if sub in self.modules:  # "from pkg import submodule"
                self.edges.append(Edge(self.mod, sub, node.lineno, self.depth > 0))
                self.aliases[a.asname or a.name] = sub
                continue
            k = self._known(base)
            if k:
                self.edges.append(Edge(self.mod, k, node.lineno, self.depth > 0, (a.name,)))


def build(root: Path = ROOT) -> Graph:
    g = Graph()
    for p in sorted((root / PACKAGE).rglob("*.py")):
        g.modules[module_name(p, root)] = p
    names = set(g.modules)
    for mod, p in g.modules.items():
        v = _Visitor(mod, p.name == "__init__.py", names)
        v.visit(ast.parse(p.read_text(encoding="utf-8"), str(p)))
        g.edges += [e for e in v.edges if e.dst != mod]
        g.attributes += v.attributes
    return g


def cycles(g: Graph, *, top_level_only: bool = False) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    adj: dict[str, set[str]] = {m: set() for m in g.modules}
    for e in g.edges:
        if top_level_only and e.in_function:
            continue
        # a package's __init__ importing its own submodules is not a cycle of layers
        if e.dst.startswith(e.src + ".") or e.src.startswith(e.dst + "."):
            continue
        adj[e.src].add(e.dst)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(adj):
        if v not in index:
            strong(v)
    return sorted(out)


def private_imports(g: Graph) -> list[Edge]:
    """Imports of ``_name`` from another module (a module's own package may share them
    through its ``__init__`` only if the name is defined there)."""
    return [e for e in g.edges if any(n.startswith("_") and not n.startswith("__")
                                      for n in e.names)]


def lazy_imports(g: Graph) -> list[Edge]:
    return [e for e in g.edges if e.in_function]


#: Where an internal import may sit inside a function (everywhere else: at the top). Importers:
#: the CLI's command modules (a command loads its stage when it runs: ``stikstofcalc --help``
#: stays light) and the batch runner (its worker processes limit numba's and BLAS's threads
#: before the engine loads). Targets: the kernel modules ``_tables_nb`` and ``_search_nb``
#: (imported where they run; the deposition kernels of ``fast`` and ``terrain`` load numba
#: with the deposition package, see ``stikstofcalc.compiled``) and the optional extras
#: (matplotlib, dask, the PDF reader).
LAZY_IMPORTERS = ("cli", "batch.run")
LAZY_TARGETS = ("deposition._tables_nb", "assessment._search_nb", "compiled", "maps",
                "capacity.distributed", "io.imaer.pdf", "cli")


def _under(module: str, entries) -> bool:
    name = module.removeprefix(PACKAGE).removeprefix(".")
    return any(name == e or name.startswith(e + ".") for e in entries)


def misplaced_lazy_imports(g: Graph) -> list[Edge]:
    """Internal imports inside a function that the rule above does not allow."""
    return [e for e in lazy_imports(g)
            if not _under(e.src, LAZY_IMPORTERS) and not _under(e.dst, LAZY_TARGETS)]


def report(g: Graph) -> str:
    lines = [f"{len(g.modules)} modules, {len(g.edges)} internal imports "
             f"({len(lazy_imports(g))} inside functions)"]
    cyc = cycles(g)
    lines.append(f"import cycles: {len(cyc)}")
    lines += ["  " + " <-> ".join(c) for c in cyc]
    priv = private_imports(g)
    lines.append(f"private names imported across modules: {len(priv)}")
    lines += [f"  {e.src}:{e.line} takes {', '.join(e.names)} from {e.dst}" for e in priv]
    lines.append(f"private attributes of other modules used: {len(g.attributes)}")
    lines += [f"  {e.src}:{e.line} uses {e.dst}.{e.names[0]}" for e in g.attributes]
    lazy = misplaced_lazy_imports(g)
    lines.append(f"imports inside functions outside the lazy-import rule: {len(lazy)}")
    lines += [f"  {e.src}:{e.line} imports {e.dst}" for e in lazy]
    up = upward_imports(g)
    lines.append(f"imports from a higher layer: {len(up)}")
    lines += [f"  {e.src}:{e.line} ({LAYERS[layer_of(e.src)][0]}) imports {e.dst} "
              f"({LAYERS[layer_of(e.dst)][0]})" for e in up]
    return "\n".join(lines)


if __name__ == "__main__":
    graph = build()
    print(report(graph))
    sys.exit(1 if cycles(graph) or private_imports(graph) or graph.attributes or upward_imports(graph)
             or misplaced_lazy_imports(graph) else 0)
