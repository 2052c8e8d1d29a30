"""Consistent online backups and restores.

SQLite: the SQLite online backup API copies a consistent snapshot while the server keeps running.
PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot in one transaction) and ``pg_restore
--clean --single-transaction``; the client programs are taken from ``REPIGMENT_PG_BIN``, the newest
``/usr/lib/postgresql/*/bin``, or ``PATH``.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from repigment.config import get_settings
from repigment.store.db import Store, StoreError, libpq_url

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PGDUMP_MAGIC = b"PGDMP"


def pg_tool(name: str) -> str:
    env = get_settings().pg_bin
    candidates = [str(env / name)] if env else []
    candidates += sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
        reverse=True,
    )
    for c in candidates:
        if os.access(c, os.X_OK):
            return c
    found = shutil.which(name)
    if found:
        return found
    raise StoreError(f"{name} not found: install the PostgreSQL client programs or set REPIGMENT_PG_BIN")


def _sqlite_path(store: Store) -> str:
    path = make_url(store.url).database
    assert path
    return path


def backup(store: Store, dest: Path) -> None:
    """Write a consistent copy of the live database to ``dest`` (written to a temporary name first)."""
    dest = Path(dest)
    if dest.parent and not dest.parent.exists():
        raise StoreError(f"cannot write backup {dest}: folder {dest.parent} does not exist")
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    try:
        if store.is_sqlite:
            src = sqlite3.connect(_sqlite_path(store), timeout=30)
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        else:
            proc = subprocess.run(
                [
                    pg_tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--file",
                    str(tmp),
                    libpq_url(store.url),
                ],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                raise StoreError(f"pg_dump failed: {proc.stderr.strip()}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _check_sqlite_backup(path: Path) -> None:
    with open(path, "rb") as f:
        if f.read(16) != _SQLITE_MAGIC:
            raise StoreError(f"{path} is not a SQLite backup of a repigment database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{path} is not a repigment database: {e}") from e
    finally:
        conn.close()
    if len(rows) != 1:
        raise StoreError(f"{path} has no schema revision: not a repigment database")


def restore(store: Store, src: Path) -> None:
    """Replace the database's content with the backup ``src``, then migrate it to the current schema.

    Stop the server first: connections open during a restore would see the content change under them.
    """
    src = Path(src)
    if not src.is_file():
        raise StoreError(f"backup file {src} does not exist")
    if store.is_sqlite:
        _check_sqlite_backup(src)
        store.dispose()
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(store), timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        with open(src, "rb") as f:
            if f.read(5) != _PGDUMP_MAGIC:
                raise StoreError(f"{src} is not a pg_dump custom-format backup")
        store.dispose()
        proc = subprocess.run(
            [
                pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                libpq_url(store.url),
                str(src),
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise StoreError(f"pg_restore failed: {proc.stderr.strip()}")
    store.upgrade()
