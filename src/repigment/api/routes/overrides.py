"""Overrides: a clinician's decision to proceed despite a label finding (use cases:
``repigment.services.overrides``)."""

from __future__ import annotations

from fastapi import APIRouter

from repigment.api.routes.shared import ERRORS, Limit, Offset, ReadRecord, WriteRecord, write
from repigment.services import overrides
from repigment.services.schemas import OverrideDeidentifiedOut, OverrideIn, OverrideOut

router = APIRouter()


@router.get(
    "/patients/{patient_id}/overrides",
    response_model=list[OverrideOut | OverrideDeidentifiedOut],
    responses=ERRORS,
    tags=["overrides"],
)
async def list_overrides(
    ctx: ReadRecord, limit: Limit = 100, offset: Offset = 0
) -> list[OverrideOut | OverrideDeidentifiedOut]:
    return overrides.list_overrides(ctx.db, ctx.user, ctx.patient, limit, offset)


@router.post(
    "/patients/{patient_id}/overrides",
    status_code=201,
    response_model=OverrideOut,
    responses=ERRORS,
    tags=["overrides"],
)
async def create_override(body: OverrideIn, ctx: WriteRecord) -> OverrideOut:
    """Record a clinician's decision to proceed despite a label finding: which rule, and why."""
    o = await write(overrides.create_override, ctx.db, ctx.user, ctx.patient, body)
    return OverrideOut.model_validate(o)
