"""Diary writes, the most frequent write of all (each patient, twice a day), on a path of their own.

A request is authenticated, authorised, validated and checked against the label on the committed
record (``precheck``) in the worker process that received it; its entry is then queued, and one runner
per process writes the queued entries as a batch: one transaction in which each entry's check is
confirmed — the facts it used are read again — or, if they changed, made again on the diary as it
stands (the entries before it in the batch included), and the entry inserted and audited; then one
commit. So the result is as if the entries had been checked and written one at a time in commit order.
Entries are answered only once that commit is durable:

- SQLite with ``synchronous=FULL`` (the default): the batch commits with ``synchronous=NORMAL`` and the
  WAL file is then fsynced (``Store.sync_wal``) before any of its entries is answered, while the next
  batch is written. An answered entry is as durable as after a FULL commit, at one fsync per batch.
- PostgreSQL, the same arrangement: the writer's connection commits with ``synchronous_commit=off``
  (the commit returns, and the audit head's row lock is released, once the commit record is in the
  server's WAL buffers), and before any entry is answered ``Store.sync_wal`` makes one synchronous commit
  of its own, which returns only once the WAL up to it — the batch's commit included — is flushed to
  disk. The flush waits outside the lock, while the next batch (of any process) is written, and the
  flushes of both processes share the server's group commit. The batch's reads are sent together in
  psycopg's pipeline mode, then its inserts and audit entries: three round trips a batch.
- The batch holds the ``WriteGate`` (on SQLite: this process and every other process serving the file)
  only while it is written, not while requests are parsed, authorised or answered, so several worker
  processes share the work and only the writing itself is one at a time.
- An entry the core refuses (422) or whose id is taken by a different entry (409) fails alone, before
  anything of it is written. A batch that fails in the database (a retry of the same id racing in another
  process, say) is rolled back and its entries are written again one transaction each.
- A retried entry (same id, same content) is answered from the stored row and adds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

import anyio
from sqlalchemy import Connection, Table, bindparam, insert, select
from sqlalchemy.exc import DBAPIError

from repigment.services import checks
from repigment.services.schemas import ApplicationIn
from repigment.store import Actor, Application, Store
from repigment.store.audit import Record, append_entries, ask_head, values_snapshot
from repigment.store.models import utcnow
from repigment.store.prepared import Prepared, pipeline
from repigment.store.writer_lock import WriteGate

_TABLE: Final = cast(Table, Application.__table__)
_BY_ID: Final = Prepared(select(_TABLE).where(_TABLE.c.id == bindparam("id")))
_INSERT: Final = Prepared(insert(_TABLE))


class EntryConflict(Exception):
    """The entry's id is already used by a different diary entry."""

    def __init__(self, entry_id: str) -> None:
        super().__init__(f"id {entry_id} is already used by a different diary entry")


@dataclass(frozen=True, slots=True)
class Stored:
    """A diary entry as stored (the row's values) and whether this write added it."""

    row: dict[str, Any]
    created: bool


@dataclass(frozen=True, slots=True)
class Job:
    patient: Any  # a stored patient, object or row
    body: ApplicationIn
    recorded_by: int | None
    actor: Actor
    check: checks.DiaryCheck | None = None  # made before the batch (``precheck``)


def same_entry(row: Mapping[str, Any], body: ApplicationIn, patient_id: int) -> bool:
    return bool(
        row["patient_id"] == patient_id
        and row["applied_at"] == body.at
        and row["hand_units"] == body.hand_units
        and row["grams"] == body.grams
        and list(row["sites"]) == list(body.sites)
        and row["note"] == body.note
        and (body.course_id is None or row["course_id"] == body.course_id)
    )


def precheck(conn: Connection, patient: Any, body: ApplicationIn) -> checks.DiaryCheck | None:
    """The entry's label check on the stored record, before its write (None: the id is stored already).
    ``conn``: outside any write transaction, in one read transaction.

    Raises ``ClinicalInputError`` for an entry the core refuses."""
    with pipeline(conn):  # PostgreSQL: the reads sent together, one round trip for all
        existing = _BY_ID.send(conn, {"id": body.id})
        check = checks.ask_check(conn, patient, body.course_id, body.at, remember=True)
        if existing.first() is not None:
            check.drop()
            return None
        return check(body.hand_units, body.grams, body.sites)


def _check(
    conn: Connection, patient: Any, body: ApplicationIn, *, remember: bool = False
) -> checks.DiaryCheck:
    return checks.check_application(
        conn, patient, body.course_id, body.at, body.hand_units, body.grams, body.sites, remember=remember
    )


def store_entry(
    conn: Connection,
    patient: Any,
    body: ApplicationIn,
    recorded_by: int | None,
    check: checks.DiaryCheck | None = None,
) -> tuple[dict[str, Any], Record | None]:
    """Check and insert one entry in ``conn``'s transaction; its audit record (None for a retry).

    ``check``: a ``precheck`` made before the transaction, used if its facts are still current (else
    the entry is checked again here). Raises ``ClinicalInputError`` or ``EntryConflict`` before
    anything is written."""
    row, record = _decide(conn, patient, body, recorded_by, check, _ask(conn, patient, body, check))
    if record is not None:
        _INSERT.run(conn, row)
    return row, record


@dataclass(frozen=True, slots=True)
class _Asked:
    """The reads that decide an entry's write, sent (``_ask``) and answered when called."""

    existing: Callable[[], Any]  # the stored entry with this id, or None
    current: Callable[[checks.DiaryCheck], bool] | None  # whether the precheck still holds


def _ask(conn: Connection, patient: Any, body: ApplicationIn, check: checks.DiaryCheck | None) -> _Asked:
    existing = _BY_ID.send(conn, {"id": body.id}).first
    current = None if check is None else checks.ask_current(conn, patient, body.course_id, body.at)
    return _Asked(existing, current)


def _decide(
    conn: Connection,
    patient: Any,
    body: ApplicationIn,
    recorded_by: int | None,
    check: checks.DiaryCheck | None,
    asked: _Asked,
) -> tuple[dict[str, Any], Record | None]:
    """The row to insert and its audit record (the stored row and None for a retry), from the answers
    to ``asked``; the entry is checked again (more reads) if its precheck no longer holds."""
    existing = asked.existing()
    if existing is not None:
        if asked.current is not None and check is not None:
            with contextlib.suppress(checks.ClinicalInputError):  # answers read, not needed
                asked.current(check)
        row: dict[str, Any] = existing._asdict()
        if not same_entry(row, body, patient.id):
            raise EntryConflict(body.id)
        return row, None
    if check is None or asked.current is None or not asked.current(check):
        check = _check(conn, patient, body)
    course = check.course
    row = {
        "id": body.id,
        "patient_id": patient.id,
        "course_id": course.id if course else None,
        "applied_at": body.at,
        "hand_units": body.hand_units,
        "grams": body.grams,
        "sites": list(body.sites),
        "note": body.note,
        "verdict": check.verdict,
        "flagged": check.verdict != "ok",
        "findings": check.findings,
        "recorded_by": recorded_by,
        "created_at": utcnow(),
    }
    return row, ("create", _TABLE.name, row["id"], None, values_snapshot(_TABLE.name, row))


def write_entry(
    conn: Connection, actor: Actor, patient: Any, body: ApplicationIn, recorded_by: int | None
) -> Stored:
    """One entry with its audit entry, in the caller's transaction (the demo loader, imports)."""
    row, record = store_entry(conn, patient, body, recorded_by)
    if record is not None:
        append_entries(conn, [(actor, record)])
    return Stored(row, record is not None)


class Reader:
    """The diary's reads on the event loop (the caller, the patient, the pre-check) on one connection
    per process, kept open: each use is one short read transaction begun and ended on the DBAPI
    connection, without a pool checkout and SQLAlchemy's transaction bookkeeping each time. Used only
    from the event loop, and never across an ``await``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn: Connection | None = None

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Connection]:
        if self.conn is None:
            conn = self.store.engine.connect()
            if not self.store.is_sqlite:
                # PostgreSQL: each statement of a READ COMMITTED transaction reads its own snapshot
                # anyway, so none is begun: no BEGIN and ROLLBACK round trips around the reads
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            self.conn = conn
        conn = self.conn
        if not self.store.is_sqlite:
            try:
                yield conn
            except BaseException:
                if conn.invalidated:
                    self.close()
                raise
            return
        dbapi: Any = conn.connection.dbapi_connection
        try:
            dbapi.execute("BEGIN")  # the connection runs in autocommit mode: begun explicitly
        except Exception:
            self.close()
            raise
        try:
            yield conn
        finally:
            try:
                dbapi.execute("ROLLBACK")
            except Exception:  # the connection broke: a new one next time
                self.close()

    def close(self) -> None:
        _drop(self.conn)
        self.conn = None


class DiaryWriter:
    """The queue and batch runner of one process (see the module docstring)."""

    def __init__(self, store: Store, gate: WriteGate | None) -> None:
        self.store = store
        self.gate = gate
        self.queue: list[tuple[Job, asyncio.Future[Stored]]] = []
        self.runner: asyncio.Task[None] | None = None
        self.answering: set[asyncio.Future[None]] = set()
        self.conn: Connection | None = None

    async def write(self, job: Job) -> Stored:
        fut: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self.queue.append((job, fut))
        if self.runner is None or self.runner.done():
            self.runner = asyncio.ensure_future(self._run())
        return await fut

    async def _run(self) -> None:
        while self.queue:
            if self.gate is not None:
                await self.gate.acquire()
            batch, self.queue = self.queue, []  # all who queued while the gate was busy
            try:
                # on the event loop: a batch is a few milliseconds of Python and SQLite, and a worker
                # thread would contend with the loop for the interpreter lock, which costs more
                outcomes = self._write_batch([job for job, _ in batch])
            except BaseException as e:  # (``_write_batch`` returns exceptions; this is an interrupt)
                _fail(batch, e)
                raise
            finally:
                if self.gate is not None:
                    self.gate.release()
            answer = asyncio.ensure_future(self._answer(batch, outcomes))  # the next batch goes on
            self.answering.add(answer)
            answer.add_done_callback(self.answering.discard)

    def _write_batch(self, jobs: list[Job], *, again: bool = True) -> list[Stored | Exception]:
        """One transaction for the batch, in three round trips on PostgreSQL whatever its size: the
        audit head's lock and every entry's reads (its id, and the facts its precheck used) sent
        together; then the inserts of the entries and their audit entries together; then the commit.
        An entry whose id or patient came earlier in the batch is read after the earlier ones are
        inserted, so that it sees them (as if the entries were written one at a time)."""
        outcomes: list[Stored | Exception] = []
        records: list[tuple[Actor, Record]] = []
        try:
            conn = self._connection()
            with conn.begin():
                asked: list[_Asked | None] = []
                seen: set[Any] = set()
                with pipeline(conn):
                    # the batches of several processes one at a time (SQLite: BEGIN IMMEDIATE)
                    head = ask_head(conn)
                    for job in jobs:
                        alone = job.body.id in seen or ("patient", job.patient.id) in seen
                        seen |= {job.body.id, ("patient", job.patient.id)}
                        asked.append(None if alone else _ask(conn, job.patient, job.body, job.check))
                    locked = head()  # waits for the lock, then for every answer sent above
                rows: list[dict[str, Any]] = []
                for job, ask in zip(jobs, asked, strict=True):
                    try:
                        if ask is None:
                            if rows:
                                _INSERT.run(conn, rows)
                                rows = []
                            ask = _ask(conn, job.patient, job.body, job.check)
                        row, record = _decide(conn, job.patient, job.body, job.recorded_by, job.check, ask)
                    except (checks.ClinicalInputError, EntryConflict) as e:
                        outcomes.append(e)
                        continue
                    outcomes.append(Stored(row, record is not None))
                    if record is not None:
                        rows.append(row)
                        records.append((job.actor, record))
                with pipeline(conn):
                    if rows:
                        _INSERT.run(conn, rows)
                    append_entries(conn, records, head=locked)
        except Exception as e:
            self.close()
            if again and isinstance(e, DBAPIError) and e.connection_invalidated:
                # the kept connection was found broken (a restarted server): once more on a new one; a
                # batch whose commit did go through before the break is found stored (answered as retries)
                return self._write_batch(jobs, again=False)
            if len(jobs) == 1:
                return [e]
            return [self._write_batch([job])[0] for job in jobs]  # so that one failure fails alone
        return outcomes

    async def _answer(
        self, batch: list[tuple[Job, asyncio.Future[Stored]]], outcomes: list[Stored | Exception]
    ) -> None:
        if self.store.deferred_sync and any(isinstance(o, Stored) for o in outcomes):
            try:
                await anyio.to_thread.run_sync(self.store.sync_wal)
            except BaseException as e:
                _fail(batch, e)
                if not isinstance(e, Exception):
                    raise
                return
        for (_, fut), outcome in zip(batch, outcomes, strict=True):
            if fut.done():  # the client went away; the entry stays stored (a retry finds it)
                continue
            if isinstance(outcome, Exception):
                fut.set_exception(outcome)
            else:
                fut.set_result(outcome)

    def _connection(self) -> Connection:
        """The writer's own connection, kept open; on SQLite FULL it commits with NORMAL (see above)."""
        if self.conn is None:
            conn = self.store.write_engine.connect()
            if self.store.deferred_sync:
                self.store.set_deferred(conn)
            self.conn = conn
        return self.conn

    def close(self) -> None:
        _drop(self.conn)
        self.conn = None


def _drop(conn: Connection | None) -> None:
    """Close a kept connection for good (invalidated: it may be broken, or set to NORMAL syncing)."""
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.invalidate()
        with contextlib.suppress(Exception):
            conn.close()


def _fail(batch: list[tuple[Job, asyncio.Future[Stored]]], e: BaseException) -> None:
    for _, fut in batch:
        if not fut.done():
            fut.set_exception(e if isinstance(e, Exception) else RuntimeError("diary write interrupted"))
