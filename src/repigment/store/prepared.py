"""Core statements compiled once per dialect and run on the DBAPI connection: the diary's hot path.

SQLAlchemy's own execution costs about 40 µs a statement on top of the query (cache-key generation,
an execution context, a result object), more than SQLite needs for an indexed lookup, and a diary write
runs a dozen. ``Prepared`` keeps the statement and SQLAlchemy's type processing (the same bind and
result processors its execution applies: time zones, JSON, booleans) and drops the rest. It runs on
a ``Connection`` whose transaction the caller has begun (``conn.begin()``, or a session's connection),
and it fires no execution events. Column defaults are not applied: inserts give every column.
``tests/store/test_prepared.py`` checks it against SQLAlchemy's execution on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
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
        cursor = conn.connection.cursor()
        cursor.execute(c.sql, self._params(c, params))
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
        cursor, c = self._cursor(conn, params)
        try:
            raw = cursor.fetchall()
            procs = self._processors(conn.dialect, c, cursor.description)
        finally:
            cursor.close()
        make = c.row._make
        if not any(procs):
            return [make(r) for r in raw]
        return [make([v if p is None else p(v) for p, v in zip(procs, r, strict=True)]) for r in raw]

    def scalars(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """The first column of every row (processed), without building rows."""
        cursor, c = self._cursor(conn, params)
        try:
            raw = cursor.fetchall()
            proc = self._processors(conn.dialect, c, cursor.description)[0]
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
        cursor = conn.connection.cursor()
        try:
            if len(many) == 1:
                cursor.execute(c.sql, self._params(c, many[0]))
            else:
                cursor.executemany(c.sql, [self._params(c, p) for p in many])
            return int(cursor.rowcount)
        finally:
            cursor.close()
