"""Overrides: a clinician's decision to proceed despite a label finding.

Access and the role policy: ``repigment.api.routes.shared`` (docs/api.md has the matrix).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from sqlalchemy import select

from repigment.api.routes.shared import (
    ERRORS,
    Limit,
    Offset,
    ReadRecord,
    WriteRecord,
    clinical,
    commit,
    page,
    unprocessable,
    view_for,
)
from repigment.services import checks
from repigment.services import deidentified as deid_out
from repigment.services.schemas import (
    OverrideDeidentifiedOut,
    OverrideIn,
    OverrideOut,
)
from repigment.store import (
    Application,
    Override,
)

router = APIRouter()


# -- overrides -----------------------------------------------------------------------------------
@router.get(
    "/patients/{patient_id}/overrides",
    response_model=list[OverrideOut | OverrideDeidentifiedOut],
    responses=ERRORS,
    tags=["overrides"],
)
async def list_overrides(
    ctx: ReadRecord, limit: Limit = 100, offset: Offset = 0
) -> list[OverrideOut | OverrideDeidentifiedOut]:
    stmt = select(Override).where(Override.patient_id == ctx.patient.id).order_by(Override.id)
    view = view_for(ctx)
    found = page(ctx.db, stmt, limit, offset)
    if view is None:
        return [OverrideOut.model_validate(o) for o in found]
    return [deid_out.override(o, view) for o in found]


@router.post(
    "/patients/{patient_id}/overrides",
    status_code=201,
    response_model=OverrideOut,
    responses=ERRORS,
    tags=["overrides"],
)
async def create_override(body: OverrideIn, ctx: WriteRecord) -> OverrideOut:
    """Record a clinician's decision to proceed despite a label finding: which rule, and why."""
    if body.course_id is not None:
        clinical(checks.course_for, ctx.db, ctx.patient.id, body.course_id, dt.date.max)
    if body.application_id is not None:
        a = ctx.db.get(Application, body.application_id)
        if a is None or a.patient_id != ctx.patient.id:
            raise unprocessable("body.application_id", "no such diary entry for this patient")
    o = Override(patient_id=ctx.patient.id, user_id=ctx.user.user_id, **body.model_dump())
    ctx.db.add(o)
    await commit(ctx.db)
    return OverrideOut.model_validate(o)
