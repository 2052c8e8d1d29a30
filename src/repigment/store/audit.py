"""Append-only, hash-chained audit trail of every create, update and delete, and of access events.

Each flush of an audited row writes one entry per changed row: who (user id and name), when (UTC), what
(table, row id, action) and the full old and new row, read back from the database inside the same
transaction so the recorded values are exactly what is stored. Credentials are audited rows too (users
and their tokens), with a digest in place of each secret (``SECRET_COLUMNS``). Access events
(``record_access_event``: reads and exports of a record, log-ins, log-outs, photo events, password
changes) are entries of the same chain with the record they concern and the details in ``new``. Entry
*n* carries ``hash = SHA-256(hash[n-1] || canonical JSON of entry n)``; ``audit_head`` holds the last
sequence number and hash. ``verify`` recomputes the chain, the head, and replays the changes against the
live rows, so editing or deleting an entry, truncating the trail, or editing a clinical row, a password
hash or a token behind the application's back are all reported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, cast

from sqlalchemy import Boolean, Date, Float, Integer, Table, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, object_mapper

from repigment.store.models import (
    ACCESS_ACTIONS,
    AUDITED_TABLES,
    CHANGE_ACTIONS,
    SECRET_COLUMNS,
    AuditEntry,
    AuditHead,
    Base,
    UTCDateTime,
)
from repigment.store.prepared import Prepared

GENESIS: Final = "0" * 64
REDACTED: Final = "<redacted>"  # what revisions before 0005 recorded for a secret
HEAD_ID: Final = 1

Record = tuple[str, str, str, dict[str, Any] | None, dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes the changes in a session: a user, or a named system process (CLI, demo loader)."""

    name: str
    user_id: int | None = None


class MissingActorError(RuntimeError):
    """A write without a known actor: refused so that no change is ever unattributed."""


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + "\n" + canonical(fields)).encode("utf-8")).hexdigest()


def _entry_fields(e: AuditEntry | dict[str, Any]) -> dict[str, Any]:
    keys = ("seq", "at", "user_id", "actor", "action", "table_name", "row_id", "old", "new")
    if isinstance(e, dict):
        return {k: e[k] for k in keys}
    return {k: getattr(e, k) for k in keys}


def _table_name(t: Any) -> str:
    return str(t.name)


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def secret_digest(value: Any) -> str | None:
    """What the trail keeps of a secret column: ``sha256:`` and the digest of the stored value."""
    if value is None:
        return None
    return "sha256:" + hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()


def row_snapshot(table_name: str, row: Any) -> dict[str, Any]:
    """A row as JSON-ready values (dates as ISO text), secrets replaced by their digest."""
    secret = SECRET_COLUMNS.get(table_name, frozenset())
    out: dict[str, Any] = {}
    for col in _table(table_name).columns:
        v = row._mapping[col.name]
        if col.name in secret:
            v = secret_digest(v)
        elif isinstance(v, dt.datetime | dt.date):
            v = v.isoformat()
        out[col.name] = v
    return out


def object_snapshot(obj: Any) -> dict[str, Any]:
    """A just-inserted object as ``row_snapshot`` would read it back (values normalised by column type),
    so creates need no extra read; ``verify`` compares the two on every row, so a mismatch cannot hide."""
    mapper = object_mapper(obj)
    table = mapper.local_table
    values = {col.name: getattr(obj, mapper.get_property_by_column(col).key) for col in table.columns}
    return values_snapshot(_table_name(table), values)


def values_snapshot(table_name: str, values: dict[str, Any]) -> dict[str, Any]:
    """The values of a row about to be inserted, as ``row_snapshot`` will read them back."""
    secret = SECRET_COLUMNS.get(table_name, frozenset())
    out: dict[str, Any] = {}
    for col in _table(table_name).columns:
        v = values.get(col.name)
        if col.name in secret:
            v = secret_digest(v)
        elif v is None:
            pass
        elif isinstance(col.type, UTCDateTime):
            v = v.astimezone(dt.UTC).isoformat()
        elif isinstance(col.type, Date):
            v = v.isoformat()
        elif isinstance(col.type, Float):
            v = float(v)
        elif isinstance(col.type, Boolean):
            v = bool(v)
        elif isinstance(col.type, Integer):
            v = int(v)
        out[col.name] = v
    return out


def _pk_of(obj: Any) -> tuple[str, Any]:
    mapper = object_mapper(obj)
    (pk_col,) = mapper.primary_key
    return pk_col.name, getattr(obj, mapper.get_property_by_column(pk_col).key)


def _fetch(conn: Connection, table_name: str, ids: Iterable[Any]) -> dict[str, dict[str, Any]]:
    t = _table(table_name)
    (pk,) = t.primary_key.columns
    ids = list(ids)
    rows = conn.execute(select(t).where(pk.in_(ids))).all() if ids else []
    return {str(r._mapping[pk.name]): row_snapshot(table_name, r) for r in rows}


def _group(objs: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for o in objs:
        name = _table_name(object_mapper(o).local_table)
        if name in AUDITED_TABLES:
            out.setdefault(name, []).append(_pk_of(o)[1])
    return out


def before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    """Capture the old rows of updated and deleted objects while the database still holds them."""
    dirty = [o for o in session.dirty if session.is_modified(o, include_collections=False)]
    touched = _group(dirty)
    deleted = _group(session.deleted)
    created = [o for o in session.new if _table_name(object_mapper(o).local_table) in AUDITED_TABLES]
    if not (touched or deleted or created):
        return
    if "actor" not in session.info:
        raise MissingActorError("a change to the clinical record needs an actor (who makes it)")
    now = dt.datetime.now(dt.UTC)
    for o in dirty:
        if hasattr(o, "updated_at"):
            o.updated_at = now
    conn = session.connection()
    old: dict[tuple[str, str], dict[str, Any]] = session.info.setdefault("_audit_old", {})
    for groups in (touched, deleted):
        for table_name, ids in groups.items():
            for rid, snap in _fetch(conn, table_name, ids).items():
                old.setdefault((table_name, rid), snap)
    session.info["_audit_new"] = created
    session.info["_audit_dirty"] = touched
    session.info["_audit_deleted"] = deleted


def after_flush(session: Session, _ctx: Any) -> None:
    """Write one chained entry per created, updated or deleted row, in a stable order."""
    created_objs: list[Any] = session.info.pop("_audit_new", [])
    dirty: dict[str, list[Any]] = session.info.pop("_audit_dirty", {})
    deleted: dict[str, list[Any]] = session.info.pop("_audit_deleted", {})
    old: dict[tuple[str, str], dict[str, Any]] = session.info.pop("_audit_old", {})
    if not (created_objs or dirty or deleted):
        return
    new: dict[str, dict[str, dict[str, Any]]] = {}
    for o in created_objs:
        snap = object_snapshot(o)
        new.setdefault(_table_name(object_mapper(o).local_table), {})[str(_pk_of(o)[1])] = snap
    actor: Actor = session.info["actor"]
    conn = session.connection()
    records: list[Record] = []
    for table_name in AUDITED_TABLES:
        created = new.get(table_name, {})
        for rid in sorted(created, key=_sort_key):
            records.append(("create", table_name, rid, None, created[rid]))
        updated = _fetch(conn, table_name, dirty.get(table_name, ()))
        for rid in sorted(updated, key=_sort_key):
            before = old.get((table_name, rid))
            if before != updated[rid]:
                records.append(("update", table_name, rid, before, updated[rid]))
        for rid in sorted((str(i) for i in deleted.get(table_name, ())), key=_sort_key):
            records.append(("delete", table_name, rid, old.get((table_name, rid)), None))
    if records:
        append(conn, actor, records)


def _sort_key(rid: str) -> tuple[int, str]:
    return (0, f"{int(rid):020d}") if rid.isdigit() else (1, rid)


_HEAD: Final = cast(Table, AuditHead.__table__)
_HEAD_FOR_UPDATE: Final = Prepared(
    select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
)
_HEAD_UPDATE: Final = Prepared(
    _HEAD.update().where(_HEAD.c.id == HEAD_ID).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
_ENTRY_INSERT: Final = Prepared(cast(Table, AuditEntry.__table__).insert())


def lock_head(conn: Connection) -> None:
    """Take the audit head's row lock now (PostgreSQL) rather than at the first ``append``."""
    _HEAD_FOR_UPDATE.one(conn, {})


def ask_head(conn: Connection) -> Callable[[], tuple[int, str]]:
    """``lock_head`` sent now (pipelined with what follows); the locked head (seq, hash) when called,
    for ``append_entries(..., head=...)`` in the same transaction."""
    pending = _HEAD_FOR_UPDATE.send(conn, {})

    def head() -> tuple[int, str]:
        row = pending.one()
        return int(row.seq), str(row.hash)

    return head


def append(conn: Connection, actor: Actor, records: list[Record]) -> None:
    """Append entries after the current head; the head row is locked (FOR UPDATE) so writers serialise."""
    append_entries(conn, [(actor, r) for r in records])


def append_entries(
    conn: Connection, records: list[tuple[Actor, Record]], head: tuple[int, str] | None = None
) -> None:
    """``append`` for records of several actors (a group of diary writes committed together);
    ``head``: the head as locked earlier in this transaction (``ask_head``), else read and locked here."""
    if not records:
        return
    if head is None:
        row = _HEAD_FOR_UPDATE.one(conn, {})
        head = int(row.seq), str(row.hash)
    seq, prev = head
    at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    rows: list[dict[str, Any]] = []
    for actor, (action, table_name, rid, old, new) in records:
        seq += 1
        entry = {
            "seq": seq,
            "at": at,
            "user_id": actor.user_id,
            "actor": actor.name,
            "action": action,
            "table_name": table_name,
            "row_id": rid,
            "old": None if old is None else canonical(old),
            "new": None if new is None else canonical(new),
        }
        h = entry_hash(prev, entry)
        rows.append(entry | {"prev_hash": prev, "hash": h})
        prev = h
    _ENTRY_INSERT.run(conn, rows)
    _HEAD_UPDATE.run(conn, {"new_seq": seq, "new_hash": prev})


def record_access_event(
    conn: Connection | Session,
    actor: Actor,
    action: str,
    *,
    table_name: str,
    row_id: Any = "",
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one access event to the chain, in ``conn``'s transaction (the caller commits).

    ``action``: one of ``ACCESS_ACTIONS``; ``table_name``/``row_id``: the record concerned (``patient``,
    ``app_user``, ``adverse_event``, ``photo``…); ``patient_id``: the patient whose record it is, for
    ``repigment audit list --patient``; ``detail``: what else an inspector needs (the route, the format,
    a username that failed to log in, the client's address). Never pass secrets or record contents.
    """
    if action not in ACCESS_ACTIONS:
        raise ValueError(f"unknown access event {action!r}; one of {', '.join(ACCESS_ACTIONS)}")
    body: dict[str, Any] = dict(detail or {})
    if patient_id is not None:
        body["patient_id"] = patient_id
    c = conn.connection() if isinstance(conn, Session) else conn
    append(c, actor, [(action, table_name, str(row_id), None, body)])


LISTED: Final = ("seq", "at", "actor", "user_id", "action", "table_name", "row_id", "patient_id", "detail")


def _patient_of(table_name: str, row_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> Any:
    if table_name == "patient" and row_id.isdigit():
        return int(row_id)
    for values in (new, old):
        if values is not None and values.get("patient_id") is not None:
            return values["patient_id"]
    return None


def listing(
    conn: Connection,
    *,
    user: str | None = None,
    patient_id: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    actions: Iterable[str] = (),
) -> Iterator[dict[str, Any]]:
    """The trail for an inspector, oldest first: who (``actor``, ``user_id``), when (``at``, UTC), what
    (``action`` on ``table_name`` row ``row_id``), whose record (``patient_id``) and ``detail`` (an access
    event's details; for an update, the names of the changed columns). Record contents are left out.

    ``user``: a username or user id (a failed log-in matches the username it tried); ``since`` and
    ``until``: UTC days, both included; ``actions``: only these."""
    t = AuditEntry.__table__
    stmt = select(t).order_by(t.c.seq)
    if since is not None:
        stmt = stmt.where(t.c.at >= dt.datetime.combine(since, dt.time(), dt.UTC).isoformat())
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        stmt = stmt.where(t.c.at < end.isoformat())
    wanted = tuple(actions)
    if wanted:
        stmt = stmt.where(t.c.action.in_(wanted))
    for e in conn.execution_options(yield_per=2000).execute(stmt):
        old = json.loads(e.old) if e.old else None
        new = json.loads(e.new) if e.new else None
        access = e.action not in CHANGE_ACTIONS
        detail: dict[str, Any] | None = new if access else None
        if e.action == "update" and old is not None and new is not None:
            detail = {"changed": sorted(k for k in new if new.get(k) != old.get(k))}
        if user is not None:
            tried = detail.get("username") if access and detail else None
            if user not in (e.actor, str(e.user_id), tried):
                continue
        pid = _patient_of(e.table_name, e.row_id, old, new)
        if patient_id is not None and pid != patient_id:
            continue
        yield {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor,
            "user_id": e.user_id,
            "action": e.action,
            "table_name": e.table_name,
            "row_id": e.row_id,
            "patient_id": pid,
            "detail": detail,
        }


@dataclass
class VerifyReport:
    entries: int = 0
    rows_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "rows_checked": self.rows_checked,
            "problems": self.problems,
        }


def _entries(conn: Connection) -> Iterator[Any]:
    t = AuditEntry.__table__
    result = conn.execution_options(yield_per=2000).execute(select(t).order_by(t.c.seq))
    yield from result


def verify(conn: Connection, max_problems: int = 100) -> VerifyReport:
    """Recompute the chain, check the head, and replay the trail against the live rows."""
    rep = VerifyReport()

    def problem(msg: str) -> None:
        if len(rep.problems) < max_problems:
            rep.problems.append(msg)

    prev, expected = GENESIS, 1
    state: dict[tuple[str, str], tuple[str, str | None]] = {}
    for e in _entries(conn):
        rep.entries += 1
        if e.seq != expected:
            problem(f"entries {expected}..{e.seq - 1} are missing (deleted)")
        if e.prev_hash != prev:
            problem(f"entry {e.seq}: does not follow the previous entry (chain broken)")
        if entry_hash(e.prev_hash, _entry_fields(e._asdict())) != e.hash:
            problem(f"entry {e.seq}: content does not match its hash (edited)")
        prev, expected = e.hash, e.seq + 1
        if e.action in CHANGE_ACTIONS:  # access events change no row
            state[(e.table_name, e.row_id)] = (e.action, e.new)
    head_t = AuditHead.__table__
    head = conn.execute(select(head_t).where(head_t.c.id == HEAD_ID)).one_or_none()
    if head is None:
        problem("audit head is missing")
    elif head.seq != expected - 1 or head.hash != prev:
        problem(f"audit head says {head.seq} entries ending {head.hash[:12]}…, the trail has {expected - 1}")
    for table_name in AUDITED_TABLES:
        t = _table(table_name)
        (pk,) = t.primary_key.columns
        seen: set[str] = set()
        for r in conn.execution_options(yield_per=2000).execute(select(t)):
            rep.rows_checked += 1
            rid = str(r._mapping[pk.name])
            seen.add(rid)
            last = state.get((table_name, rid))
            if last is None:
                problem(f"{table_name} {rid}: row has no audit entry (inserted behind the application)")
            elif last[0] == "delete":
                problem(f"{table_name} {rid}: row exists but the trail records its deletion")
            elif last[1] != canonical(row_snapshot(table_name, r)):
                problem(f"{table_name} {rid}: row differs from its last audited value (edited directly)")
        for (tn, rid), (action, _new) in state.items():
            if tn == table_name and action != "delete" and rid not in seen:
                problem(f"{table_name} {rid}: row is gone but the trail never recorded its deletion")
    return rep
