"""``repigment db upgrade|backup|restore``: schema migrations and consistent online backups."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from repigment.cli._io import fail, print_json

if TYPE_CHECKING:
    from repigment.store import Store

db_app = typer.Typer(help="Database: migrations, backup and restore.", no_args_is_help=True)


def _store(migrate: bool) -> Store:
    from repigment.store import Store, StoreError

    try:
        return Store(migrate=migrate)
    except StoreError as e:
        fail(str(e))


@db_app.command("upgrade")
def upgrade() -> None:
    """Create the database or migrate it to the current schema."""
    from repigment.store import StoreError

    store = _store(migrate=False)
    before = store.current_revision()
    try:
        store.upgrade()
    except StoreError as e:
        fail(str(e))
    print_json({"database": store.url.split("@")[-1], "from": before, "to": store.current_revision()})


@db_app.command("backup")
def backup_cmd(file: Annotated[Path, typer.Argument(help="Where to write the backup")]) -> None:
    """Write a consistent copy while the server runs (SQLite backup API; pg_dump for PostgreSQL)."""
    from repigment.store import StoreError
    from repigment.store.backup import backup

    store = _store(migrate=False)
    try:
        backup(store, file)
    except StoreError as e:
        fail(str(e))
    print_json({"backup": str(file), "bytes": file.stat().st_size})


@db_app.command("restore")
def restore_cmd(
    file: Annotated[Path, typer.Argument(help="A backup written by `repigment db backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm replacing the database's content")] = False,
) -> None:
    """Replace the database's content with a backup (stop the server first)."""
    if not yes:
        fail("restore replaces everything in the database: stop the server and confirm with --yes")
    from repigment.store import StoreError
    from repigment.store.backup import restore

    store = _store(migrate=False)
    try:
        restore(store, file)
    except StoreError as e:
        fail(str(e))
    print_json({"restored": str(file), "revision": store.current_revision()})


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
