"""Visits: the assessment scored (F-VASI, T-VASI, F-BSA, T-BSA) and placed in its course (use cases:
``repigment.services.visits``)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from repigment.api.routes.shared import (
    ERRORS,
    ItemId,
    Limit,
    Offset,
    ReadRecord,
    WriteRecord,
    created,
    write,
)
from repigment.services import visits
from repigment.services.schemas import VisitDeidentifiedOut, VisitIn, VisitOut

router = APIRouter()


@router.get(
    "/patients/{patient_id}/visits",
    response_model=list[VisitOut | VisitDeidentifiedOut],
    responses=ERRORS,
    tags=["visits"],
)
async def list_visits(
    ctx: ReadRecord, limit: Limit = 100, offset: Offset = 0
) -> list[VisitOut | VisitDeidentifiedOut]:
    return visits.list_visits(ctx.db, ctx.user, ctx.patient, limit, offset)


@router.post(
    "/patients/{patient_id}/visits",
    status_code=201,
    response_model=VisitOut,
    responses=ERRORS,
    tags=["visits"],
)
async def create_visit(body: VisitIn, ctx: WriteRecord, response: Response) -> VisitOut:
    """Record a visit with its assessment; F-VASI, T-VASI, F-BSA and T-BSA are computed and stored."""
    v = await write(visits.create_visit, ctx.db, ctx.user, ctx.patient, body)
    created(response, f"/api/v1/patients/{ctx.patient.id}/visits/{v.id}")
    return VisitOut.model_validate(v)


@router.get(
    "/patients/{patient_id}/visits/{visit_id}",
    response_model=VisitOut | VisitDeidentifiedOut,
    responses=ERRORS,
    tags=["visits"],
)
async def get_visit(ctx: ReadRecord, visit_id: ItemId) -> VisitOut | VisitDeidentifiedOut:
    return visits.get_visit(ctx.db, ctx.user, ctx.patient, visit_id)
