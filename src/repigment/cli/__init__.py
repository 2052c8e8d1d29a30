"""The ``repigment`` command line (Typer), a thin adapter over the core.

Each module in this package contributes its commands through ``register(app)``; modules are found
automatically, so a new feature adds a module here and touches nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="repigment",
    help="Treating non-segmental vitiligo with ruxolitinib cream: scoring, label rules, outcomes, safety.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}").register(app)


def main() -> None:
    app()
