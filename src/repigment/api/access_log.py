"""Access events into the audit trail (``repigment.store.audit.record_access_event``) from requests.

Reads and exports of a record by anyone other than the patient themself, a patient's own data downloads,
log-ins, log-outs and photo events are recorded: who (the account), when, which record (table, row and
the patient), how (the path, API or page, the client's address). A read is recorded in a write
transaction of its own after the access checks passed; it takes this process's writer lock on SQLite
(``WriteGate``) and the audit head's row lock on PostgreSQL, like every write, so concurrent reads
extend the chain one after another. Diary writes record nothing here (their rows are audited as they
are written, and the diary's write path must stay fast).
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import Request
from sqlalchemy.orm import Session

from repigment.api.deps import Principal, get_store, write_gate
from repigment.store import Actor, record_access_event


def client_of(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


def details(request: Request, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    via = "api" if request.url.path.startswith("/api/") else "web"
    return {"via": via, "path": request.url.path, "client": client_of(request), **(extra or {})}


def is_own(user: Principal, patient_id: int | None) -> bool:
    """A patient reading their own record (not recorded as a read; their downloads are)."""
    return user.role == "patient" and patient_id is not None and user.patient_id == patient_id


async def record(
    request: Request,
    actor: Actor,
    action: str,
    *,
    table_name: str,
    row_id: Any = "",
    patient_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Record one event in a write transaction of its own (for GET requests, which hold no writer)."""
    store = get_store(request)
    detail = details(request, extra)

    def write() -> None:
        with store.write(actor) as s:
            record_access_event(
                s, actor, action, table_name=table_name, row_id=row_id, patient_id=patient_id, detail=detail
            )
            s.commit()

    gate = write_gate(request)
    if gate is not None:
        await gate.acquire()
    try:
        await anyio.to_thread.run_sync(write)
    finally:
        if gate is not None:
            gate.release()


async def record_read(
    request: Request,
    user: Principal,
    *,
    table_name: str,
    row_id: Any,
    patient_id: int,
    action: str = "read",
    extra: dict[str, Any] | None = None,
) -> None:
    """A read (or export) of a patient's record; a patient's reads of their own record are not recorded,
    their exports are."""
    if action == "read" and is_own(user, patient_id):
        return
    extra = {"role": user.role, "deidentified": user.role == "analyst", **(extra or {})}
    await record(
        request, user.actor, action, table_name=table_name, row_id=row_id, patient_id=patient_id, extra=extra
    )


def record_in(
    db: Session,
    request: Request,
    user: Principal,
    action: str,
    *,
    table_name: str,
    row_id: Any,
    patient_id: int | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Record an event in the request's own write session (the caller commits)."""
    record_access_event(
        db,
        user.actor,
        action,
        table_name=table_name,
        row_id=row_id,
        patient_id=patient_id,
        detail=details(request, {"role": user.role, **(extra or {})}),
    )
