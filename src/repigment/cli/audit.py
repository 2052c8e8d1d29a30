"""``repigment audit verify``: check the hash chain and replay the trail against the live rows."""

from __future__ import annotations

import typer

from repigment.cli._io import fail, print_json

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)


@audit_app.command("verify")
def verify_cmd() -> None:
    """Exit 0 when the trail is intact and explains every row; 1 (with the problems listed) otherwise."""
    from repigment.store import Store, StoreError, verify

    try:
        store = Store(migrate=False)
        store.check_ready()
        with store.engine.connect() as conn:
            report = verify(conn)
    except StoreError as e:
        fail(str(e))
    print_json(report.as_json())
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
