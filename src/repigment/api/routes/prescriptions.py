"""Prescriptions of the cream: prescribing, dispensing, first opening (use cases:
``repigment.services.prescriptions``)."""

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
from repigment.services import prescriptions
from repigment.services.schemas import (
    PrescriptionDeidentifiedOut,
    PrescriptionIn,
    PrescriptionOut,
    PrescriptionPatch,
)

router = APIRouter()


@router.get(
    "/patients/{patient_id}/prescriptions",
    response_model=list[PrescriptionOut | PrescriptionDeidentifiedOut],
    responses=ERRORS,
    tags=["prescriptions"],
)
async def list_prescriptions(
    ctx: ReadRecord, limit: Limit = 100, offset: Offset = 0
) -> list[PrescriptionOut | PrescriptionDeidentifiedOut]:
    return prescriptions.list_prescriptions(ctx.db, ctx.user, ctx.patient, limit, offset)


@router.post(
    "/patients/{patient_id}/prescriptions",
    status_code=201,
    response_model=PrescriptionOut,
    responses=ERRORS,
    tags=["prescriptions"],
)
async def create_prescription(body: PrescriptionIn, ctx: WriteRecord, response: Response) -> PrescriptionOut:
    """Prescribe (and optionally record the dispensing and first opening of) a quantity of cream."""
    p = await write(prescriptions.create_prescription, ctx.db, ctx.user, ctx.patient, body)
    created(response, f"/api/v1/patients/{ctx.patient.id}/prescriptions/{p.id}")
    return PrescriptionOut.model_validate(p)


@router.get(
    "/patients/{patient_id}/prescriptions/{prescription_id}",
    response_model=PrescriptionOut | PrescriptionDeidentifiedOut,
    responses=ERRORS,
    tags=["prescriptions"],
)
async def get_prescription(
    ctx: ReadRecord, prescription_id: ItemId
) -> PrescriptionOut | PrescriptionDeidentifiedOut:
    return prescriptions.get_prescription(ctx.db, ctx.user, ctx.patient, prescription_id)


@router.patch(
    "/patients/{patient_id}/prescriptions/{prescription_id}",
    response_model=PrescriptionOut,
    responses=ERRORS,
    tags=["prescriptions"],
)
async def update_prescription(
    body: PrescriptionPatch, ctx: WriteRecord, prescription_id: ItemId
) -> PrescriptionOut:
    """Record the dispensing or first opening of the tube."""
    p = await write(prescriptions.update_prescription, ctx.db, ctx.user, ctx.patient, prescription_id, body)
    return PrescriptionOut.model_validate(p)
