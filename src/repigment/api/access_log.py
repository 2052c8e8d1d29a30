"""Access events from API requests: the request's ``Channel`` and the app's store and writer gate, around
the one rule in ``repigment.services.access_log`` (which reads, exports, log-ins, log-outs and photo
events are recorded, and with what)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from repigment.api.deps import Principal, get_store, write_gate
from repigment.services import access_log as rule
from repigment.services.access_log import AccessEvent, Channel, is_own
from repigment.store import Actor


def client_of(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


def channel(request: Request) -> Channel:
    via = "api" if request.url.path.startswith("/api/") else "web"
    return Channel(via, request.url.path, client_of(request))


def details(request: Request, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return channel(request).details(extra)


async def record_event(request: Request, ev: AccessEvent | None) -> None:
    """Record ``ev`` (nothing when None) in a write transaction of its own, behind the writer gate."""
    await rule.record(get_store(request), write_gate(request), ev)


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
    ev = AccessEvent(actor, action, table_name, row_id, patient_id, details(request, extra))
    await record_event(request, ev)


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
    """A read (or export) of a patient's record (``repigment.services.access_log.read_event``)."""
    ev = rule.read_event(
        user,
        channel(request),
        table_name=table_name,
        row_id=row_id,
        patient_id=patient_id,
        action=action,
        extra=extra,
    )
    await record_event(request, ev)


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
    rule.record_in(
        db,
        rule.event(
            user,
            channel(request),
            action,
            table_name=table_name,
            row_id=row_id,
            patient_id=patient_id,
            extra=extra,
        ),
    )


__all__ = ["channel", "client_of", "details", "is_own", "record", "record_event", "record_in", "record_read"]
