"""Core statements compiled once per dialect and run on the DBAPI connection: the diary's hot path.

SQLAlchemy's own execution costs about 40 µs a statement on top of the query (cache-key generation,
an execution context, a result object), more than SQLite needs for an indexed lookup, and a diary write
runs a dozen. ``Prepared`` keeps the statement and SQLAlchemy's type processing (the same bind and
result processors its execution applies: time zones, JSON, booleans) and drops the rest. It runs on
a ``Connection`` whose transaction the caller has begun (``conn.begin()``, or a session's connection),
and it fires no execution events. Column defaults are not applied: inserts give every column.
``tests/store/test_prepared.py`` checks it against SQLAlchemy's execution on SQLite and PostgreSQL.

It reads SQLAlchemy internals (of 2.0/2.1, the locked version): a compiled statement's
``_bind_processors`` and ``_result_columns``, ``construct_params(_check=False)`` and
``TypeEngine._cached_result_processor``. ``check_internals`` (run when a ``Store`` is created) compiles a
probe statement and compares what those give with SQLAlchemy's public type API (``bind_processor``,
``result_processor``); if an upgrade removed or changed them the store refuses to open with a message
saying so (``InternalsChanged``), rather than run the record's writes on processing nobody checked.
Errors of the DBAPI are raised as SQLAlchemy's own (``sqlalchemy.exc.DBAPIError`` subclasses), as
``Connection.execute`` would raise them: the API answers a failing database with 503 on this path too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    exc,
    insert,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # parameter order (qmark/format styles), None for named styles
    binds: Mapping[str, Processor]
    construct: Callable[[Mapping[str, Any]], dict[str, Any]]
    row: Any  # a namedtuple class of the result columns (None for statements without rows)
    result_types: tuple[Any, ...]


class Prepared:
    """One statement; ``all``/``first``/``scalar`` for queries, ``run`` for inserts and updates."""

    def __init__(self, stmt: ClauseElement) -> None:
        self.stmt = stmt
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}
        self._results: dict[tuple[str, tuple[Any, ...]], tuple[Processor | None, ...]] = {}

    def _compile(self, dialect: Dialect, keys: frozenset[str]) -> _Compiled:
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            c: Any = self.stmt.compile(dialect=dialect, column_keys=sorted(keys))
            cols = getattr(c, "_result_columns", None) or []
            found = _Compiled(
                sql=c.string,
                positional=tuple(c.positiontup) if c.positional else None,
                binds=dict(c._bind_processors),
                construct=functools.partial(c.construct_params, _check=False),
                row=namedtuple("Row", [col.keyname for col in cols], rename=True) if cols else None,
                result_types=tuple(col.type for col in cols),
            )
            self._compiled[(dialect.name, keys)] = found
        return found

    def _params(self, c: _Compiled, params: Mapping[str, Any]) -> Any:
        values = c.construct(params)
        binds = c.binds
        if c.positional is not None:
            return tuple(binds[k](values[k]) if k in binds else values[k] for k in c.positional)
        return {k: binds[k](v) if k in binds else v for k, v in values.items()}

    def _cursor(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        c = self._compile(conn.dialect, frozenset(params))
        values = self._params(c, params)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(c.sql, values)
        except BaseException as e:
            cursor.close()
            _raise_wrapped(conn, e, c.sql, values)
            raise
        return cursor, c

    def _processors(self, dialect: Dialect, c: _Compiled, description: Any) -> tuple[Processor | None, ...]:
        coltypes = tuple(d[1] for d in description)
        key = (dialect.name, coltypes)
        procs = self._results.get(key)
        if procs is None:
            procs = tuple(
                t._cached_result_processor(dialect, coltype)
                for t, coltype in zip(c.result_types, coltypes, strict=True)
            )
            self._results[key] = procs
        return procs

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """The rows, as named tuples of processed values."""
        return self.send(conn, params).all()

    def send(self, conn: Connection, params: Mapping[str, Any]) -> Pending:
        """Execute now, read the rows later (``Pending``): in psycopg's pipeline mode the statements
        sent before the first read go to the server together, one round trip for all of them."""
        cursor, c = self._cursor(conn, params)
        return Pending(self, conn, cursor, c)

    def scalars(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """The first column of every row (processed), without building rows."""
        cursor, c = self._cursor(conn, params)
        try:
            raw = cursor.fetchall()
            proc = self._processors(conn.dialect, c, cursor.description)[0]
        except BaseException as e:
            _raise_wrapped(conn, e, c.sql, None)
            raise
        finally:
            cursor.close()
        return [r[0] for r in raw] if proc is None else [proc(r[0]) for r in raw]

    def one(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        rows = self.all(conn, params)
        if len(rows) != 1:
            raise LookupError(f"expected one row, got {len(rows)}: {self.stmt}")
        return rows[0]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        rows = self.all(conn, params)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        row = self.first(conn, params)
        return None if row is None else row[0]

    def run(self, conn: Connection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
        """Execute an insert or update (a list of parameter sets: once each); rows affected."""
        many = [params] if isinstance(params, Mapping) else list(params)
        if not many:
            return 0
        c = self._compile(conn.dialect, frozenset(many[0]))
        values = [self._params(c, p) for p in many]
        cursor = conn.connection.cursor()
        try:
            if len(values) == 1:
                cursor.execute(c.sql, values[0])
            else:
                cursor.executemany(c.sql, values)
            return int(cursor.rowcount)
        except BaseException as e:
            _raise_wrapped(conn, e, c.sql, values)
            raise
        finally:
            cursor.close()


class Pending:
    """A statement sent (``Prepared.send``) whose rows are read on the first ``all``/``first``/``one``."""

    __slots__ = ("_c", "_conn", "_cursor", "_prepared")

    def __init__(self, prepared: Prepared, conn: Connection, cursor: Any, compiled: _Compiled) -> None:
        self._prepared, self._conn, self._cursor, self._c = prepared, conn, cursor, compiled

    def all(self) -> list[Any]:
        """The rows, as named tuples of processed values."""
        c, cursor, conn = self._c, self._cursor, self._conn
        try:
            raw = cursor.fetchall()
            procs = self._prepared._processors(conn.dialect, c, cursor.description)
        except BaseException as e:
            _raise_wrapped(conn, e, c.sql, None)
            raise
        finally:
            cursor.close()
        make = c.row._make
        if not any(procs):
            return [make(r) for r in raw]
        return [make([v if p is None else p(v) for p, v in zip(procs, r, strict=True)]) for r in raw]

    def first(self) -> Any | None:
        rows = self.all()
        return rows[0] if rows else None

    def one(self) -> Any:
        rows = self.all()
        if len(rows) != 1:
            raise LookupError(f"expected one row, got {len(rows)}: {self._prepared.stmt}")
        return rows[0]

    def scalar(self) -> Any:
        row = self.first()
        return None if row is None else row[0]


def _raise_wrapped(conn: Connection, e: BaseException, sql: str, params: Any) -> None:
    """A DBAPI error as SQLAlchemy raises it (``OperationalError`` and so on); the connection is
    invalidated if the error says it is gone, as SQLAlchemy's execution would do."""
    dbapi = conn.dialect.loaded_dbapi
    if not isinstance(e, dbapi.Error):
        return
    gone = False
    with contextlib.suppress(Exception):  # only a hint for the error raised below
        gone = bool(conn.dialect.is_disconnect(e, conn.connection.dbapi_connection, None))
    wrapped = exc.DBAPIError.instance(
        sql, params, e, dbapi.Error, connection_invalidated=gone, dialect=conn.dialect
    )
    if gone:
        with contextlib.suppress(Exception):  # the error below says what happened
            conn.invalidate(e)
    raise wrapped from e


@contextlib.contextmanager
def pipeline(conn: Connection) -> Iterator[None]:
    """psycopg's pipeline mode on ``conn`` (PostgreSQL): statements sent inside go to the server without
    waiting for each answer, and the first read (or the block's end) waits for all of them — one round
    trip. On SQLite, where there is no round trip, nothing. Errors are raised as SQLAlchemy's."""
    dbapi_conn: Any = conn.connection.dbapi_connection
    if not hasattr(dbapi_conn, "pipeline"):
        yield
        return
    try:
        with dbapi_conn.pipeline():
            yield
    except BaseException as e:
        _raise_wrapped(conn, e, "(pipeline)", None)
        raise


class InternalsChanged(RuntimeError):
    """The SQLAlchemy installed does not provide the internals ``Prepared`` relies on as checked."""


_CHECKED: set[str] = set()


def check_internals(dialect: Dialect) -> None:
    """Compare what ``Prepared`` takes from SQLAlchemy's internals with SQLAlchemy's public type API,
    on a probe statement with the value types the record uses (time zones, JSON, booleans, text);
    raise ``InternalsChanged`` naming the difference. Once per dialect and process."""
    if dialect.name in _CHECKED:
        return
    probe = Table(
        "prepared_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", DateTime(timezone=True)),
        Column("doc", JSON),
        Column("ok", Boolean),
        Column("note", String(20)),
    )
    cols = list(probe.columns)
    now = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    values = {"id": 7, "at": now, "doc": {"a": [1, 2]}, "ok": True, "note": "x"}
    problem = None
    try:
        ins = Prepared(insert(probe))
        c = ins._compile(dialect, frozenset(values))
        got = ins._params(c, values)
        want = {col.key: _public_bind(col, dialect, values[col.key]) for col in cols}
        if c.positional is not None:
            if _norm(got) != _norm([want[k] for k in c.positional]):
                problem = f"bind values {got!r}, the public API gives {want!r}"
        elif _norm([got[k] for k in sorted(got)]) != _norm([want[k] for k in sorted(got)]) or set(got) != set(
            want
        ):
            problem = f"bind values {got!r}, the public API gives {want!r}"
        query = Prepared(select(probe).where(probe.c.id == bindparam("id")))
        q = query._compile(dialect, frozenset({"id"}))
        if problem is None and (q.row is None or q.row._fields != tuple(col.key for col in cols)):
            problem = f"result columns {getattr(q.row, '_fields', None)!r}"
        if problem is None and tuple(q.result_types) != tuple(col.type for col in cols):
            problem = f"result types {q.result_types!r}"
        if problem is None:
            raw = [want[col.key] for col in cols]  # what the database hands back for what was bound
            description = [(col.key, None) for col in cols]
            procs = query._processors(dialect, q, description)
            out = [v if p is None else p(v) for p, v in zip(procs, raw, strict=True)]
            public = [_public_result(col, dialect, v) for col, v in zip(cols, raw, strict=True)]
            if out != public:
                problem = f"result values {out!r}, the public API gives {public!r}"
    except (AttributeError, TypeError, KeyError) as e:
        problem = f"{type(e).__name__}: {e}"
    if problem is not None:
        raise InternalsChanged(
            f"repigment.store.prepared was written for SQLAlchemy 2.0/2.1 internals, and SQLAlchemy "
            f"{sqlalchemy.__version__} ({dialect.name}) differs: {problem}. Install the locked version "
            "(uv.lock) or update repigment.store.prepared."
        )
    _CHECKED.add(dialect.name)


def _norm(values: Any) -> list[tuple[str, Any]]:
    """Bound values comparable by value (psycopg's ``Json`` wrapper compares by identity)."""
    return [(type(v).__name__, getattr(v, "obj", v)) for v in values]


def _public_bind(col: Column[Any], dialect: Dialect, value: Any) -> Any:
    proc = col.type.dialect_impl(dialect).bind_processor(dialect)
    return value if proc is None else proc(value)


def _public_result(col: Column[Any], dialect: Dialect, value: Any) -> Any:
    proc = col.type.dialect_impl(dialect).result_processor(dialect, None)
    return value if proc is None else proc(value)
