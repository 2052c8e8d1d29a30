"""The direction of imports between the layers (docs/architecture.md), read from the source itself.

- The core (body, scoring, label, dosing, course, outcomes, signals, safety, deid, interop) imports no
  adapter, no use case, no settings, and no web or database framework.
- The use cases (services) import no adapter and no web framework; the store imports no adapter and no use
  case.
- Adapters (api, web, cli) never import each other: what two doors share is a use case.
- The composition module (``repigment.app``) builds the application: it alone may import every adapter, and
  nothing imports it (uvicorn loads it by name).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import repigment

SRC = Path(repigment.__file__).resolve().parent
# interop: the exchange formats (FHIR R4B bundles, the patient record they carry), pure like the core.
CORE = {"body", "scoring", "label", "dosing", "course", "outcomes", "signals", "safety", "deid", "interop"}
ADAPTERS = {"api", "web", "cli"}
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
    """It is where the adapters meet: the API and the web pages are mounted there."""
    targets = {_target(imported) for _, package, imported in _imports() if package in COMPOSITION}
    assert {"api", "web"} <= targets


def test_core_use_cases_and_store_import_downwards_only() -> None:
    wrong = sorted(
        (module, imported)
        for module, package, imported in _imports()
        if _target(imported) in FORBIDDEN.get(_layer(package), set())
    )
    assert wrong == []


def test_adapters_never_import_each_other() -> None:
    found = {
        (module, imported)
        for module, package, imported in _imports()
        if package in ADAPTERS
        and imported.startswith("repigment.")
        and _target(imported) in ADAPTERS
        and _target(imported) != package
    }
    assert found == set(), "an import between adapters: go through a use case"
