"""``repigment demo`` (what ``make run`` starts): a fresh demo database, its log-ins, and the server."""

from __future__ import annotations

import os
from typing import Annotated

import typer


def demo_database_path() -> str:
    from repigment.store import data_dir

    return str(data_dir() / "demo.sqlite3")


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
        serve: Annotated[bool, typer.Option(help="Serve after loading (--no-serve only loads)")] = True,
    ) -> None:
        """Recreate the demo database (a clinic with a year of care for two patients), print the demo
        log-ins, and serve on http://127.0.0.1:8000. Never touches the REPIGMENT_DATABASE_URL database."""
        from repigment.cli.serve import settings
        from repigment.services.demo import LOGINS, load_demo
        from repigment.store import Store

        settings()  # a bad setting stops here, before the demo database is replaced

        path = demo_database_path()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        url = f"sqlite:///{path}"
        typer.echo(f"Creating the demo database {path} …")
        store = Store(url)
        counts = load_demo(store)
        store.dispose()
        typer.echo(
            f"Loaded: {counts['patients']} patients, {counts['visits']} visits, "
            f"{counts['applications']} diary entries ({counts['flagged']} flagged by the label rules), "
            f"{counts['adverse_events']} adverse events."
        )
        typer.echo("\nDemo log-ins (demo mode only):")
        for login in LOGINS:
            typer.echo(f"  {login.username:<16} password {login.password:<20} {login.role:<15} {login.who}")
        typer.echo(f"\nWeb: http://{host}:{port}/   API docs: http://{host}:{port}/api/docs\n")
        if serve:
            os.environ["REPIGMENT_DATABASE_URL"] = url
            os.environ["REPIGMENT_DEMO"] = "1"
            from repigment.cli.serve import run_server

            run_server(host, port)
