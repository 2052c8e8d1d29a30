"""No import cycles between modules, and none between packages beyond the listed debt, read from the source.

- Modules: the graph of the import statements that run when a module is imported, i.e. those at module level
  (also inside a top-level ``if``/``try``). Left out: imports inside functions and methods (they run later, on
  call, and are how a cycle is broken today) and imports under ``if TYPE_CHECKING:`` (they never run). An
  import names the module it reads from (``from repigment.signals import mgps`` is an edge to the module
  ``repigment.signals.mgps``, ``from repigment.signals.mgps import Theta`` one to the package's ``__init__``);
  the parent packages Python also initialises on the way are not edges, or every package whose ``__init__``
  re-exports its submodules would be a cycle.
- Packages (``repigment.<package>``, the units of tests/test_layering.py; a top-level module such as
  ``config.py`` counts as one): every import, those inside functions included, since a deferred import hides
  a cycle from Python but not from the design. The cycles that remain from before the application layer
  are listed below as the package-to-package imports that lie on them: one that is new fails the test, and
  one that no longer lies on a cycle must be struck from the list, so the list only shrinks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Set
from pathlib import Path

import repigment

SRC = Path(repigment.__file__).resolve().parent

# (importing package, imported package) on a package cycle: none since the composition module builds the
# app and the pages and interop routes call the use cases instead of the API. A new cycle fails.
KNOWN_PACKAGE_CYCLE_EDGES: set[tuple[str, str]] = set()


def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name → file for every module and package under ``root`` (a package by its own name)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(
    body: list[ast.stmt], *, deferred: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Each import statement with whether it is deferred (inside a function); TYPE_CHECKING blocks skipped."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, deferred
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _import_nodes(node.body, deferred=True)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_nodes(node.orelse, deferred=deferred)
        else:
            for name in ("body", "orelse", "finalbody", "handlers", "cases"):
                children = getattr(node, name, None)
                if isinstance(children, list):
                    stmts = [c for c in children if isinstance(c, ast.stmt)]
                    stmts += [
                        s
                        for c in children
                        if isinstance(c, ast.ExceptHandler | ast.match_case)
                        for s in c.body
                    ]
                    yield from _import_nodes(stmts, deferred=deferred)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from`` import reads from (relative imports resolved)."""
    if node.level == 0:
        assert node.module is not None
        return node.module
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(root: Path, *, with_deferred: bool) -> dict[str, set[str]]:
    """Module → the modules under ``root`` it imports (module-level only unless ``with_deferred``)."""
    modules = _modules(root)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node, deferred in _import_nodes(tree.body, deferred=False):
            if deferred and not with_deferred:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                source = _resolve(module, path.name == "__init__.py", node)
                targets = [
                    f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                    for alias in node.names
                ]
            graph[module] |= {t for t in targets if t in modules and t != module}
    return graph


def cycles(graph: Mapping[str, Set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_graph(graph: Mapping[str, Set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        for t in targets:
            a, b = _package(module), _package(t)
            if a != b and a != module.split(".")[0]:  # the root package's own __init__ is no layer
                out.setdefault(a, set()).add(b)
    return out


def cycle_edges(graph: Mapping[str, Set[str]]) -> set[tuple[str, str]]:
    """The edges that lie on a cycle: those inside one strongly connected component."""
    return {
        (a, b) for component in cycles(graph) for a in component for b in graph.get(a, ()) if b in component
    }


def test_no_import_cycles_between_modules() -> None:
    found = cycles(import_graph(SRC, with_deferred=False))
    assert found == [], "import cycles between modules:\n" + "\n".join(" ".join(c) for c in found)


def test_package_cycles_no_more_than_before() -> None:
    found = cycle_edges(package_graph(import_graph(SRC, with_deferred=True)))
    new, gone = sorted(found - KNOWN_PACKAGE_CYCLE_EDGES), sorted(KNOWN_PACKAGE_CYCLE_EDGES - found)
    assert new == [], f"new import cycles between packages, through {new}"
    assert gone == [], f"no longer on a cycle: strike {gone} from KNOWN_PACKAGE_CYCLE_EDGES"


def test_the_graph_finds_a_cycle_and_tells_deferred_imports_apart(tmp_path: Path) -> None:
    """The checks above can fail: a cycle through module-level imports (plain, ``from``, relative, in a
    ``try``) is found; the same cycle through a function-level or TYPE_CHECKING import is not, except
    in the package graph, which counts deferred imports."""
    pkg = tmp_path / "demo"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import demo.b\n")
    (pkg / "b.py").write_text("try:\n    from demo.sub import c\nexcept ImportError:\n    pass\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("from ..a import x\n")
    (pkg / "d.py").write_text("def f():\n    import demo.e\n")
    (pkg / "e.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import demo.d\nfrom demo import d\n"
    )
    graph = import_graph(pkg, with_deferred=False)
    assert cycles(graph) == [["demo.a", "demo.b", "demo.sub.c"]]
    assert graph["demo.e"] == {"demo.d"}  # the TYPE_CHECKING import is no edge, the plain one is
    deferred = import_graph(pkg, with_deferred=True)
    assert cycles(deferred) == [["demo.a", "demo.b", "demo.sub.c"], ["demo.d", "demo.e"]]
    assert cycle_edges(package_graph(deferred)) == {
        ("a", "b"),
        ("b", "sub"),
        ("sub", "a"),
        ("d", "e"),
        ("e", "d"),
    }
