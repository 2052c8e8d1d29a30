"""Patients: the clinic's list, registration, details (use cases: ``repigment.services.patients``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from repigment.api.deps import Db, Principal, require_role
from repigment.api.routes.shared import (
    ERRORS,
    LIST_PATIENTS,
    WRITE_RECORD,
    Limit,
    Offset,
    ReadRecord,
    WriteRecord,
    created,
    write,
)
from repigment.services import patients
from repigment.services.schemas import PatientDeidentifiedOut, PatientIn, PatientOut, PatientPatch

router = APIRouter()


@router.get(
    "/patients",
    response_model=list[PatientOut | PatientDeidentifiedOut],
    responses=ERRORS,
    tags=["patients"],
)
async def list_patients(
    db: Db,
    user: Annotated[Principal, Depends(require_role(*LIST_PATIENTS))],
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[PatientOut | PatientDeidentifiedOut]:
    """Patients of the caller's clinic (a patient sees only their own record; analysts de-identified)."""
    return patients.list_patients(db, user, limit, offset)


@router.post("/patients", status_code=201, response_model=PatientOut, responses=ERRORS, tags=["patients"])
async def create_patient(
    body: PatientIn,
    db: Db,
    response: Response,
    user: Annotated[Principal, Depends(require_role(*WRITE_RECORD))],
) -> PatientOut:
    """Register a patient in the caller's clinic; the response carries the new ``id``."""
    p = await write(patients.create_patient, db, user, body)
    created(response, f"/api/v1/patients/{p.id}")
    return PatientOut.model_validate(p)


@router.get(
    "/patients/{patient_id}",
    response_model=PatientOut | PatientDeidentifiedOut,
    responses=ERRORS,
    tags=["patients"],
)
async def get_patient(ctx: ReadRecord) -> PatientOut | PatientDeidentifiedOut:
    return patients.get_patient(ctx.db, ctx.user, ctx.patient)


@router.patch("/patients/{patient_id}", response_model=PatientOut, responses=ERRORS, tags=["patients"])
async def update_patient(body: PatientPatch, ctx: WriteRecord) -> PatientOut:
    """Change some of a patient's details (only the fields sent)."""
    p = await write(patients.update_patient, ctx.db, ctx.user, ctx.patient, body)
    return PatientOut.model_validate(p)
