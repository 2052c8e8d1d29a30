"""Adverse events: reported by patients and clinicians, followed up by the clinician (use cases:
``repigment.services.adverse_events``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from repigment.api.deps import Db, Principal, require_role
from repigment.api.routes.shared import (
    ERRORS,
    ItemId,
    Limit,
    Offset,
    ReadAE,
    WriteAE,
    WriteRecord,
    created,
    write,
)
from repigment.services import adverse_events
from repigment.services.access import CLINIC_AE
from repigment.services.schemas import (
    AdverseEventDeidentifiedOut,
    AdverseEventIn,
    AdverseEventOut,
    AdverseEventPatch,
)

router = APIRouter()


@router.get(
    "/patients/{patient_id}/adverse-events",
    response_model=list[AdverseEventOut | AdverseEventDeidentifiedOut],
    responses=ERRORS,
    tags=["adverse events"],
)
async def list_adverse_events(
    ctx: ReadAE, limit: Limit = 100, offset: Offset = 0
) -> list[AdverseEventOut | AdverseEventDeidentifiedOut]:
    return adverse_events.list_adverse_events(ctx.db, ctx.user, ctx.patient, limit, offset)


@router.post(
    "/patients/{patient_id}/adverse-events",
    status_code=201,
    response_model=AdverseEventOut,
    responses=ERRORS,
    tags=["adverse events"],
)
async def create_adverse_event(body: AdverseEventIn, ctx: WriteAE, response: Response) -> AdverseEventOut:
    """Report an adverse event (patients report their own; causality is assessed by the clinician)."""
    e = await write(adverse_events.report_adverse_event, ctx.db, ctx.user, ctx.patient, body)
    created(response, f"/api/v1/patients/{ctx.patient.id}/adverse-events/{e.id}")
    return AdverseEventOut.model_validate(e)


@router.get(
    "/patients/{patient_id}/adverse-events/{event_id}",
    response_model=AdverseEventOut | AdverseEventDeidentifiedOut,
    responses=ERRORS,
    tags=["adverse events"],
)
async def get_adverse_event(ctx: ReadAE, event_id: ItemId) -> AdverseEventOut | AdverseEventDeidentifiedOut:
    return adverse_events.get_adverse_event(ctx.db, ctx.user, ctx.patient, event_id)


@router.patch(
    "/patients/{patient_id}/adverse-events/{event_id}",
    response_model=AdverseEventOut,
    responses=ERRORS,
    tags=["adverse events"],
)
async def update_adverse_event(
    body: AdverseEventPatch, ctx: WriteRecord, event_id: ItemId
) -> AdverseEventOut:
    """Follow up an event: seriousness, outcome, causality assessment."""
    e = await write(adverse_events.update_adverse_event, ctx.db, ctx.user, ctx.patient, event_id, body)
    return AdverseEventOut.model_validate(e)


@router.get(
    "/adverse-events",
    response_model=list[AdverseEventOut | AdverseEventDeidentifiedOut],
    responses=ERRORS,
    tags=["adverse events"],
)
async def clinic_adverse_events(
    db: Db,
    user: Annotated[Principal, Depends(require_role(*CLINIC_AE))],
    limit: Limit = 100,
    offset: Offset = 0,
    serious: Annotated[bool | None, Query(description="Only serious (or only non-serious) events")] = None,
) -> list[AdverseEventOut | AdverseEventDeidentifiedOut]:
    """All adverse events of the caller's clinic, newest first (for safety review)."""
    return adverse_events.clinic_adverse_events(db, user, limit, offset, serious)
