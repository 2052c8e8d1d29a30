"""The direction of imports between the layers (docs/architecture.md), read from the source itself.

- The core (body, scoring, label, dosing, course, outcomes, signals, safety, deid) imports no adapter, no use
  case, no settings, and no web or database framework.
- The use cases (services) import no adapter and no web framework; the store imports no adapter and no use
  case.
- Adapters (api, web, interop, cli) reaching into each other are the debt the application layer is paying off:
  today's imports are listed below, a new one fails, and one that is gone must be struck from the list, so the
  list only shrinks.
- The composition module (``repigment.app``) builds the application: it alone may import every adapter, and
  nothing imports it (uvicorn loads it by name).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import repigment

SRC = Path(repigment.__file__).resolve().parent
CORE = {"body", "scoring", "label", "dosing", "course", "outcomes", "signals", "safety", "deid"}
ADAPTERS = {"api", "web", "interop", "cli"}
COMPOSITION = {"app"}  # repigment/app.py
WEB_FRAMEWORKS = {"fastapi", "starlette", "jinja2", "uvicorn"}
FORBIDDEN: dict[str, set[str]] = {
    "core": ADAPTERS
    | COMPOSITION
    | {"store", "services", "config"}
    | WEB_FRAMEWORKS
    | {"sqlalchemy", "alembic"},
    "services": ADAPTERS | COMPOSITION | WEB_FRAMEWORKS,
    "store": ADAPTERS | COMPOSITION | {"services"} | WEB_FRAMEWORKS,
    **{adapter: COMPOSITION for adapter in ADAPTERS},
}
# (importing module, imported module) between two different adapters, as of the first use case's arrival.
KNOWN_ADAPTER_IMPORTS: set[tuple[str, str]] = {
    ("repigment.cli.fhir", "repigment.interop.clinic"),
    ("repigment.cli.fhir", "repigment.interop.fhir"),
    ("repigment.cli.icsr", "repigment.interop.clinic"),
    ("repigment.interop.routes", "repigment.api"),
    ("repigment.interop.routes", "repigment.api.deps"),
    ("repigment.web.pages.common", "repigment.api.deps"),
    ("repigment.web.pages.diary", "repigment.api.deps"),
}


def _imports() -> Iterator[tuple[str, str, str]]:
    """(importing module, its top-level package under repigment, imported module) for every import statement,
    including those inside functions."""
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        module = ".".join(rel.parts)
        package = rel.parts[1]  # "config" for repigment/config.py
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield module, package, alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield module, package, node.module


def _layer(package: str) -> str:
    return "core" if package in CORE else package


def _target(imported: str) -> str:
    parts = imported.split(".")
    return parts[1] if parts[0] == "repigment" and len(parts) > 1 else parts[0]


def test_every_package_is_in_a_layer() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= CORE | ADAPTERS | {"store", "services"}, packages - CORE - ADAPTERS


def test_the_composition_module_imports_the_adapters() -> None:
    """It is where the adapters meet: the API, the interop routes and the web pages are mounted there."""
    targets = {_target(imported) for _, package, imported in _imports() if package in COMPOSITION}
    assert {"api", "interop", "web"} <= targets


def test_core_use_cases_and_store_import_downwards_only() -> None:
    wrong = sorted(
        (module, imported)
        for module, package, imported in _imports()
        if _target(imported) in FORBIDDEN.get(_layer(package), set())
    )
    assert wrong == []


def test_adapters_reach_into_each_other_no_more_than_before() -> None:
    found = {
        (module, imported)
        for module, package, imported in _imports()
        if package in ADAPTERS
        and imported.startswith("repigment.")
        and _target(imported) in ADAPTERS
        and _target(imported) != package
    }
    assert found - KNOWN_ADAPTER_IMPORTS == set(), "a new import between adapters: go through a use case"
    assert KNOWN_ADAPTER_IMPORTS - found == set(), "gone: strike it from KNOWN_ADAPTER_IMPORTS"
