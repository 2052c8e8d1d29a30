"""The ``repigment`` command line (Typer), a thin adapter over the core.

Each module in this package contributes its commands through ``register(app)``. ``COMMANDS`` maps
every top-level command to its module so that one invocation imports only the module it runs:
the API, database and statistics stacks take seconds to import and most commands need none of them.
A test checks the table against what the modules register, so it cannot drift.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

import typer

COMMANDS: dict[str, str] = {
    "audit": "audit",
    "check": "check",
    "compare": "score",
    "db": "db",
    "demo": "demo",
    "dose": "dose",
    "fhir": "fhir",
    "icsr": "icsr",
    "report": "trial",
    "score": "score",
    "serve": "serve",
    "signals": "signals",
    "signals-history": "signals_history",
    "signals-synth": "signals",
    "trial": "trial",
    "trial-simulate": "trial",
    "users": "users",
}


def command_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def build_app(modules: list[str] | None = None) -> typer.Typer:
    """A Typer app with the commands of ``modules`` (default: every command module)."""
    app = typer.Typer(
        name="repigment",
        help="Non-segmental vitiligo and ruxolitinib cream: scoring, label rules, outcomes, safety.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root() -> None:
        """Keeps ``repigment`` a command group even when only one command module is loaded."""

    for name in command_modules() if modules is None else modules:
        importlib.import_module(f"{__name__}.{name}").register(app)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # the full app, for tests and embedding
        return build_app()
    raise AttributeError(name)


def main() -> None:
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    module = COMMANDS.get(command or "")
    build_app([module] if module else None)()
