"""Prescriptions of the cream: prescribing, dispensing, first opening.

Access and the role policy: ``repigment.api.routes.shared`` (docs/api.md has the matrix).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select

from repigment.api.routes.shared import (
    ERRORS,
    ItemId,
    Limit,
    Offset,
    ReadRecord,
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
    PrescriptionDeidentifiedOut,
    PrescriptionIn,
    PrescriptionOut,
    PrescriptionPatch,
    _check_order,
)
from repigment.store import (
    Prescription,
)

router = APIRouter()


# -- prescriptions -------------------------------------------------------------------------------
def _prescription_out(
    p: Prescription, view: deid_out.View | None
) -> PrescriptionOut | PrescriptionDeidentifiedOut:
    return deid_out.prescription(p, view) if view is not None else PrescriptionOut.model_validate(p)


@router.get(
    "/patients/{patient_id}/prescriptions",
    response_model=list[PrescriptionOut | PrescriptionDeidentifiedOut],
    responses=ERRORS,
    tags=["prescriptions"],
)
async def list_prescriptions(
    ctx: ReadRecord, limit: Limit = 100, offset: Offset = 0
) -> list[PrescriptionOut | PrescriptionDeidentifiedOut]:
    stmt = select(Prescription).where(Prescription.patient_id == ctx.patient.id).order_by(Prescription.id)
    view = view_for(ctx)
    return [_prescription_out(p, view) for p in page(ctx.db, stmt, limit, offset)]


@router.post(
    "/patients/{patient_id}/prescriptions",
    status_code=201,
    response_model=PrescriptionOut,
    responses=ERRORS,
    tags=["prescriptions"],
)
async def create_prescription(body: PrescriptionIn, ctx: WriteRecord, response: Response) -> PrescriptionOut:
    """Prescribe (and optionally record the dispensing and first opening of) a quantity of cream."""
    if body.course_id is not None:
        clinical(checks.course_for, ctx.db, ctx.patient.id, body.course_id, body.prescribed_on)
    p = Prescription(patient_id=ctx.patient.id, created_by=ctx.user.user_id, **body.model_dump())
    ctx.db.add(p)
    await commit(ctx.db)
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
    return _prescription_out(
        owned(ctx.db, Prescription, prescription_id, ctx.patient, "prescription"), view_for(ctx)
    )


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
    p = owned(ctx.db, Prescription, prescription_id, ctx.patient, "prescription")
    changes = body.model_dump(exclude_unset=True)
    merged = {"dispensed_on": p.dispensed_on, "opened_on": p.opened_on} | changes
    try:
        _check_order(p.prescribed_on, merged["dispensed_on"], merged["opened_on"])
    except ValueError as e:
        raise unprocessable("body", str(e)) from e
    for k, v in changes.items():
        setattr(p, k, v)
    await commit(ctx.db)
    return PrescriptionOut.model_validate(p)
