"""Adverse events: reported by patients and clinicians, followed up by the clinician.

Access and the role policy: ``repigment.api.routes.shared`` (docs/api.md has the matrix).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select

from repigment.api.deps import (
    Db,
    Principal,
    deidentify,
    require_role,
)
from repigment.api.routes.shared import (
    ERRORS,
    ItemId,
    Limit,
    Offset,
    ReadAE,
    WriteAE,
    WriteRecord,
    clinical,
    commit,
    created,
    owned,
    page,
    unprocessable,
    view_for,
)
from repigment.services import checks
from repigment.services import deidentified as deid_out
from repigment.services.schemas import (
    AdverseEventDeidentifiedOut,
    AdverseEventIn,
    AdverseEventOut,
    AdverseEventPatch,
    _check_seriousness,
)
from repigment.store import (
    AdverseEvent,
    Patient,
)

router = APIRouter()


# -- adverse events ------------------------------------------------------------------------------
def _ae_out(e: AdverseEvent, view: deid_out.View | None) -> AdverseEventOut | AdverseEventDeidentifiedOut:
    return deid_out.adverse_event(e, view) if view is not None else AdverseEventOut.model_validate(e)


@router.get(
    "/patients/{patient_id}/adverse-events",
    response_model=list[AdverseEventOut | AdverseEventDeidentifiedOut],
    responses=ERRORS,
    tags=["adverse events"],
)
async def list_adverse_events(
    ctx: ReadAE, limit: Limit = 100, offset: Offset = 0
) -> list[AdverseEventOut | AdverseEventDeidentifiedOut]:
    stmt = select(AdverseEvent).where(AdverseEvent.patient_id == ctx.patient.id).order_by(AdverseEvent.id)
    view = view_for(ctx)
    return [_ae_out(e, view) for e in page(ctx.db, stmt, limit, offset)]


@router.post(
    "/patients/{patient_id}/adverse-events",
    status_code=201,
    response_model=AdverseEventOut,
    responses=ERRORS,
    tags=["adverse events"],
)
async def create_adverse_event(body: AdverseEventIn, ctx: WriteAE, response: Response) -> AdverseEventOut:
    """Report an adverse event (patients report their own; causality is assessed by the clinician)."""
    if ctx.user.role == "patient" and body.causality != "not_assessed":
        raise unprocessable("body.causality", "is assessed by the clinician; leave it out when reporting")
    if body.onset_on < ctx.patient.birth_date:
        raise unprocessable("body.onset_on", "is before the patient's birth date")
    if body.course_id is not None:
        clinical(checks.course_for, ctx.db, ctx.patient.id, body.course_id, body.onset_on)
    e = AdverseEvent(
        patient_id=ctx.patient.id,
        reporter_id=ctx.user.user_id,
        reporter_role=ctx.user.role,
        **body.model_dump(),
    )
    ctx.db.add(e)
    await commit(ctx.db)
    created(response, f"/api/v1/patients/{ctx.patient.id}/adverse-events/{e.id}")
    return AdverseEventOut.model_validate(e)


@router.get(
    "/patients/{patient_id}/adverse-events/{event_id}",
    response_model=AdverseEventOut | AdverseEventDeidentifiedOut,
    responses=ERRORS,
    tags=["adverse events"],
)
async def get_adverse_event(ctx: ReadAE, event_id: ItemId) -> AdverseEventOut | AdverseEventDeidentifiedOut:
    return _ae_out(owned(ctx.db, AdverseEvent, event_id, ctx.patient, "adverse event"), view_for(ctx))


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
    e = owned(ctx.db, AdverseEvent, event_id, ctx.patient, "adverse event")
    changes = body.model_dump(exclude_unset=True)
    for k in ("serious", "seriousness_criteria", "outcome", "causality"):
        if k in changes and changes[k] is None:
            raise unprocessable(f"body.{k}", "must not be null")
    try:
        _check_seriousness(
            changes.get("serious", e.serious), changes.get("seriousness_criteria", e.seriousness_criteria)
        )
    except ValueError as err:
        raise unprocessable("body", str(err)) from err
    for k, v in changes.items():
        setattr(e, k, v)
    await commit(ctx.db)
    return AdverseEventOut.model_validate(e)


@router.get(
    "/adverse-events",
    response_model=list[AdverseEventOut | AdverseEventDeidentifiedOut],
    responses=ERRORS,
    tags=["adverse events"],
)
async def clinic_adverse_events(
    db: Db,
    user: Annotated[Principal, Depends(require_role("clinician", "analyst", "safety_officer"))],
    limit: Limit = 100,
    offset: Offset = 0,
    serious: Annotated[bool | None, Query(description="Only serious (or only non-serious) events")] = None,
) -> list[AdverseEventOut | AdverseEventDeidentifiedOut]:
    """All adverse events of the caller's clinic, newest first (for safety review)."""
    stmt = (
        select(AdverseEvent)
        .join(Patient, Patient.id == AdverseEvent.patient_id)
        .where(Patient.clinic_id == user.clinic_id)
    )
    if serious is not None:
        stmt = stmt.where(AdverseEvent.serious == serious)
    stmt = stmt.order_by(AdverseEvent.id.desc())
    events = page(db, stmt, limit, offset)
    if not deidentify(user):
        return [_ae_out(e, None) for e in events]
    patients = db.scalars(select(Patient).where(Patient.id.in_({e.patient_id for e in events}))).all()
    views = deid_out.views(db, patients)
    return [_ae_out(e, views[e.patient_id]) for e in events]
