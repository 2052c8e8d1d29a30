"""Patients: the clinic's list, registration, details.

Access and the role policy: ``repigment.api.routes.shared`` (docs/api.md has the matrix).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from repigment.api.deps import (
    Db,
    Principal,
    deidentify,
    require_role,
)
from repigment.api.routes.shared import (
    ERRORS,
    LIST_PATIENTS,
    WRITE_RECORD,
    Limit,
    Offset,
    ReadRecord,
    WriteRecord,
    commit,
    created,
    page,
    unprocessable,
    view_for,
)
from repigment.label import LabelInputError
from repigment.label.request import PATIENT_FLAGS, check_patient_facts
from repigment.services import deidentified as deid_out
from repigment.services.schemas import (
    PatientDeidentifiedOut,
    PatientIn,
    PatientOut,
    PatientPatch,
)
from repigment.store import (
    Patient,
)

router = APIRouter()


# -- patients ------------------------------------------------------------------------------------
def patient_out(p: Patient, view: deid_out.View | None) -> PatientOut | PatientDeidentifiedOut:
    """The patient in full, or de-identified through ``view`` (analysts)."""
    return deid_out.patient(p, view) if view is not None else PatientOut.model_validate(p)


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
    stmt = select(Patient).where(Patient.clinic_id == user.clinic_id).order_by(Patient.id)
    if user.role == "patient":
        stmt = stmt.where(Patient.user_id == user.user_id)
    found = page(db, stmt, limit, offset)
    views = deid_out.views(db, found) if deidentify(user) else {}
    return [patient_out(p, views.get(p.id)) for p in found]


@router.post("/patients", status_code=201, response_model=PatientOut, responses=ERRORS, tags=["patients"])
async def create_patient(
    body: PatientIn,
    db: Db,
    response: Response,
    user: Annotated[Principal, Depends(require_role(*WRITE_RECORD))],
) -> PatientOut:
    """Register a patient in the caller's clinic; the response carries the new ``id``."""
    try:
        check_patient_facts(body.sex, body.model_dump())
    except LabelInputError as e:
        raise unprocessable(f"body.{e.field}", e.reason) from e
    p = Patient(clinic_id=user.clinic_id, **body.model_dump())
    db.add(p)
    await commit(db)
    created(response, f"/api/v1/patients/{p.id}")
    return PatientOut.model_validate(p)


@router.get(
    "/patients/{patient_id}",
    response_model=PatientOut | PatientDeidentifiedOut,
    responses=ERRORS,
    tags=["patients"],
)
async def get_patient(ctx: ReadRecord) -> PatientOut | PatientDeidentifiedOut:
    return patient_out(ctx.patient, view_for(ctx))


_NOT_NULL_PATIENT: Final = frozenset(PatientPatch.model_fields) - {"external_ref"}


@router.patch("/patients/{patient_id}", response_model=PatientOut, responses=ERRORS, tags=["patients"])
async def update_patient(body: PatientPatch, ctx: WriteRecord) -> PatientOut:
    """Change some of a patient's details (only the fields sent)."""
    changes = body.model_dump(exclude_unset=True)
    for k, v in changes.items():
        if v is None and k in _NOT_NULL_PATIENT:
            raise unprocessable(f"body.{k}", "must not be null")
    if "birth_date" in changes and changes["birth_date"] > dt.date.today():
        raise unprocessable("body.birth_date", "must not be in the future")
    merged = {f: getattr(ctx.patient, f) for f in PATIENT_FLAGS} | changes
    try:
        check_patient_facts(changes.get("sex", ctx.patient.sex), merged)
    except LabelInputError as e:
        raise unprocessable(f"body.{e.field}", e.reason) from e
    for k, v in changes.items():
        setattr(ctx.patient, k, v)
    await commit(ctx.db)
    return PatientOut.model_validate(ctx.patient)
