"""Access events in the audit trail (``repigment.store.audit.record_access_event``): the one rule for
which reads, exports, log-ins, log-outs and photo events are recorded, and with what, whatever the door.

Reads and exports of a record by anyone other than the patient themself, a patient's own data downloads,
log-ins, log-outs and photo events are recorded: who (the account), when, which record (table, row and
the patient), how (``Channel``: API or page, the path, the client's address). A read is recorded in a
write transaction of its own after the access checks passed; it takes this process's writer lock on
SQLite (``WriteGate``) and the audit head's row lock on PostgreSQL, like every write, so concurrent reads
extend the chain one after another. Diary writes record nothing here (their rows are audited as they
are written, and the diary's write path must stay fast).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy.orm import Session

from repigment.services.acting import Principal
from repigment.store import Actor, Store, record_access_event
from repigment.store.writer_lock import WriteGate


@dataclass(frozen=True, slots=True)
class Channel:
    """How the record was reached: ``via`` "api" or "web", the request's path, the client's address."""

    via: str
    path: str
    client: str | None

    def details(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"via": self.via, "path": self.path, "client": self.client, **(extra or {})}


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """One entry to append to the trail (``record`` or ``record_in`` appends it)."""

    actor: Actor
    action: str
    table_name: str
    row_id: Any
    patient_id: int | None
    detail: dict[str, Any] = field(default_factory=dict)


def is_own(user: Principal, patient_id: int | None) -> bool:
    """A patient reading their own record (not recorded as a read; their downloads are)."""
    return user.role == "patient" and patient_id is not None and user.patient_id == patient_id


def event(
    user: Principal,
    channel: Channel,
    action: str,
    *,
    table_name: str,
    row_id: Any,
    patient_id: int | None,
    extra: dict[str, Any] | None = None,
) -> AccessEvent:
    """An event by ``user`` (their role in the detail)."""
    detail = channel.details({"role": user.role, **(extra or {})})
    return AccessEvent(user.actor, action, table_name, row_id, patient_id, detail)


def read_event(
    user: Principal,
    channel: Channel,
    *,
    table_name: str,
    row_id: Any,
    patient_id: int,
    action: str = "read",
    extra: dict[str, Any] | None = None,
) -> AccessEvent | None:
    """A read (or export) of a patient's record, or None where nothing is recorded: a patient's reads of
    their own record are not recorded, their exports are."""
    if action == "read" and is_own(user, patient_id):
        return None
    extra = {"deidentified": user.role == "analyst", **(extra or {})}
    return event(
        user, channel, action, table_name=table_name, row_id=row_id, patient_id=patient_id, extra=extra
    )


def record_in(db: Session, ev: AccessEvent) -> None:
    """Append ``ev`` in the caller's write transaction (the caller commits)."""
    record_access_event(
        db,
        ev.actor,
        ev.action,
        table_name=ev.table_name,
        row_id=ev.row_id,
        patient_id=ev.patient_id,
        detail=ev.detail,
    )


def write(store: Store, ev: AccessEvent) -> None:
    """Append ``ev`` in a write transaction of its own (the caller holds the process's writer gate)."""
    with store.write(ev.actor) as s:
        record_in(s, ev)
        s.commit()


async def record(store: Store, gate: WriteGate | None, ev: AccessEvent | None) -> None:
    """Append ``ev`` (nothing when None) in a transaction of its own, behind ``gate`` (SQLite), off the
    event loop: for reads, which hold no writer."""
    if ev is None:
        return
    if gate is not None:
        await gate.acquire()
    try:
        await anyio.to_thread.run_sync(write, store, ev)
    finally:
        if gate is not None:
            gate.release()
