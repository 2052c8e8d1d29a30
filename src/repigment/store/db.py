"""Engines, sessions and migrations for the record store (SQLite by default, PostgreSQL for scale).

SQLite: WAL journal, foreign keys on, ``synchronous=FULL`` by default so an acknowledged commit survives
power loss (``REPIGMENT_SQLITE_SYNCHRONOUS=NORMAL`` trades that for speed; it still survives a killed
process). Write transactions start with ``BEGIN IMMEDIATE`` and, within one process, queue on a lock
instead of SQLite's sleeping busy handler, which keeps tail latency low. For group commit the API may commit
with ``synchronous=NORMAL`` on one connection and then fsync the WAL itself (``sync_wal``) before answering:
the same guarantee as FULL, one fsync per group, taken outside the write lock. PostgreSQL goes through
psycopg 3.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from repigment.config import ConfigError, Settings, get_settings
from repigment.store import audit
from repigment.store.prepared import InternalsChanged, check_internals

# Serialises migrations of several workers starting at once against one PostgreSQL database.
_PG_MIGRATION_LOCK: Final = 7_240_214


class StoreError(RuntimeError):
    """The database cannot be used as asked (unknown URL scheme, not migrated, bad backup file)."""


def _settings() -> Settings:
    """The settings; a bad value is a ``StoreError`` here, so every command that opens the store says so."""
    try:
        return get_settings()
    except ConfigError as e:
        raise StoreError(str(e)) from None


def data_dir() -> Path:
    return _settings().data_dir


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``REPIGMENT_DATABASE_URL``, else the embedded SQLite file."""
    raw = url or _settings().database_url or f"sqlite:///{data_dir() / 'repigment.sqlite3'}"
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if raw.startswith(prefix):
            raw = "postgresql+psycopg://" + raw[len(prefix) :]
    scheme = raw.split(":", 1)[0]
    if scheme not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise StoreError(f"unsupported database URL scheme {scheme!r}: use sqlite:///PATH or postgresql://…")
    return raw


class AuditedSession(Session):
    """A session whose flushes write the audit trail; ``info['actor']`` says who is acting."""


event.listen(AuditedSession, "before_flush", audit.before_flush)
event.listen(AuditedSession, "after_flush", audit.after_flush)


def _sqlite_engine(url: str, *, immediate: bool, synchronous: str) -> Engine:
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8, max_overflow=16
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun explicitly below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Store:
    """One database: a read engine, a write engine (the same one on PostgreSQL) and session factories.

    ``read()`` and ``write(actor)`` are the context managers adapters use; a write session must be
    committed by the caller (so the commit happens before anything is acknowledged) and is rolled
    back otherwise.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            path = make_url(self.url).database
            if not path or path == ":memory:":
                raise StoreError(
                    "SQLite needs a file path (sqlite:///PATH); an in-memory database is not durable"
                )
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            sync = _settings().sqlite_synchronous
            self.synchronous = sync
            self.sqlite_path: Path | None = Path(path).expanduser()
            self.engine = _sqlite_engine(self.url, immediate=False, synchronous=sync)
            self.write_engine = _sqlite_engine(self.url, immediate=True, synchronous=sync)
            self._write_lock: threading.Lock | None = threading.Lock()
        else:
            self.synchronous = "FULL"
            self.sqlite_path = None
            self.engine = create_engine(self.url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            self.write_engine = self.engine
            self._write_lock = None
        try:  # the diary's hot statements read SQLAlchemy internals: refuse to start if they changed
            check_internals(self.engine.dialect)
        except InternalsChanged as e:
            self.dispose()
            raise StoreError(str(e)) from None
        self._read = sessionmaker(self.engine, class_=AuditedSession, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, class_=AuditedSession, expire_on_commit=False)
        if migrate:
            self.upgrade()

    # -- migrations -------------------------------------------------------------------------------
    def _alembic(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", "repigment.store:migrations")
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self._alembic()).get_current_head()

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self, revision: str = "head") -> None:
        """Create or migrate the schema; safe to call at every start and from several processes."""
        if self.current_revision() == self.head_revision() and revision == "head":
            return
        cfg = self._alembic()
        with self.write_engine.begin() as conn:
            if not self.is_sqlite:
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def downgrade(self, revision: str) -> None:
        """Migrate back to ``revision`` (``base`` drops everything): for migration tests and rollbacks."""
        cfg = self._alembic()
        with self.write_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)

    def check_ready(self) -> None:
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            raise StoreError(
                f"database is at revision {current}, the code needs {head}: run `repigment db upgrade`"
            )

    # -- sessions ---------------------------------------------------------------------------------
    def new_session(self, *, write: bool, actor: audit.Actor | None = None) -> Session:
        """A bare session for callers that manage their own locking (the API); writes need an actor."""
        s: Session = (self._write if write else self._read)()
        if actor is not None:
            s.info["actor"] = actor
        return s

    # -- SQLite: commit now, make durable later (the diary's batches) -------------------------------
    @property
    def deferred_sync(self) -> bool:
        """Whether a group commit should commit without waiting for the disk and then call
        ``sync_wal`` before answering: SQLite with ``synchronous`` FULL or EXTRA (with NORMAL a commit
        is as durable as it will get), and PostgreSQL."""
        return not self.is_sqlite or self.synchronous in ("FULL", "EXTRA")

    def set_deferred(self, conn: Connection) -> None:
        """Make a write connection commit without waiting for the disk (outside any transaction; it
        holds per connection): SQLite ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit=off``.
        What it commits is durable once a later ``sync_wal`` has returned."""
        if self.is_sqlite:
            conn.connection.driver_connection.execute("PRAGMA synchronous=NORMAL")  # type: ignore[union-attr]
        else:
            conn.exec_driver_sql("SET synchronous_commit = off")
            conn.commit()

    def set_synchronous(self, conn: Connection, level: str) -> None:
        """Set ``synchronous`` on a SQLite connection outside any transaction (it holds per connection)."""
        conn.connection.driver_connection.execute(f"PRAGMA synchronous={level}")  # type: ignore[union-attr]

    def sync_wal(self) -> None:
        """Make every transaction committed before the call durable, as a synchronous commit would have
        made it at its commit. SQLite: fsync the WAL file (and, once, its directory). PostgreSQL: one
        synchronous commit of a transaction of its own that writes a WAL record (a transactional
        logical message; a transaction that wrote no WAL, ``txid_current()`` alone say, commits without
        waiting for the flush): the server flushes the WAL up to its commit record, which is after every
        earlier commit's, before it answers; concurrent calls share the server's flushes (its group
        commit). Blocking: call it in a worker thread."""
        if not self.is_sqlite:
            for again in (True, False):
                try:
                    with self._flusher().connect() as conn:  # autocommit: the statement is its transaction
                        conn.exec_driver_sql("SELECT pg_logical_emit_message(true, 'repigment', 'flush')")
                    return
                except DBAPIError as e:  # a pooled connection found broken (a restarted server): once more
                    if not (again and e.connection_invalidated):
                        raise
            return
        assert self.sqlite_path is not None
        fd = os.open(f"{self.sqlite_path}-wal", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if not self._dir_synced:
            dfd = os.open(self.sqlite_path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
            self._dir_synced = True

    _dir_synced = False
    _flush_engine: Engine | None = None

    def _flusher(self) -> Engine:
        """PostgreSQL: connections for ``sync_wal``, in autocommit with ``synchronous_commit`` on
        whatever the server's default, without the pool's ping."""
        if self._flush_engine is None:
            self._flush_engine = create_engine(
                self.url,
                pool_size=2,
                max_overflow=8,
                isolation_level="AUTOCOMMIT",
                connect_args={"options": "-c synchronous_commit=on"},
            )
        return self._flush_engine

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as s:
            yield s

    @contextmanager
    def write(self, actor: audit.Actor | None) -> Iterator[Session]:
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
        try:
            with self._write() as s:
                if actor is not None:
                    s.info["actor"] = actor
                try:
                    yield s
                except BaseException:
                    s.rollback()
                    raise
        finally:
            if lock is not None:
                lock.release()

    def dispose(self) -> None:
        if self._flush_engine is not None:
            self._flush_engine.dispose()
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as a plain libpq URL for pg_dump/pg_restore."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
