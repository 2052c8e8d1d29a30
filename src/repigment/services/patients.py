"""Use cases of a patient: the clinic's list, registration, the details and their changes."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from repigment.label import LabelInputError
from repigment.label.request import PATIENT_FLAGS, check_patient_facts
from repigment.services import access
from repigment.services import deidentified as deid_out
from repigment.services.acting import Principal
from repigment.services.errors import InputError
from repigment.services.rows import page
from repigment.services.schemas import PatientDeidentifiedOut, PatientIn, PatientOut, PatientPatch
from repigment.services.transaction import one_transaction
from repigment.store import Patient

_NOT_NULL: Final = frozenset(PatientPatch.model_fields) - {"external_ref"}


def patient_out(p: Patient, view: deid_out.View | None) -> PatientOut | PatientDeidentifiedOut:
    """The patient in full, or de-identified through ``view`` (analysts)."""
    return deid_out.patient(p, view) if view is not None else PatientOut.model_validate(p)


def list_patients(
    db: Session, actor: Principal, limit: int = 100, offset: int = 0
) -> list[PatientOut | PatientDeidentifiedOut]:
    """Patients of the actor's clinic (a patient sees only their own record; analysts de-identified)."""
    access.require_role(actor, access.LIST_PATIENTS)
    stmt = select(Patient).where(Patient.clinic_id == actor.clinic_id).order_by(Patient.id)
    if actor.role == "patient":
        stmt = stmt.where(Patient.user_id == actor.user_id)
    found = page(db, stmt, limit, offset)
    views = deid_out.views(db, found) if access.deidentify(actor) else {}
    return [patient_out(p, views.get(p.id)) for p in found]


def get_patient(db: Session, actor: Principal, patient: Patient) -> PatientOut | PatientDeidentifiedOut:
    access.require_role(actor, access.READ_RECORD)
    return patient_out(patient, access.view_for(db, actor, patient))


def _check_facts(sex: str, facts: dict[str, Any]) -> None:
    try:
        check_patient_facts(sex, facts)
    except LabelInputError as e:
        raise InputError(e.field, e.reason) from e


def new_patient(clinic_id: int, body: PatientIn) -> Patient:
    """A new patient of ``clinic_id``, the label engine's patient facts checked (not yet added)."""
    _check_facts(body.sex, body.model_dump())
    return Patient(clinic_id=clinic_id, **body.model_dump())


def create_patient(db: Session, actor: Principal, body: PatientIn) -> Patient:
    """Register a patient in the actor's clinic."""
    access.require_role(actor, access.WRITE_RECORD)
    p = new_patient(actor.clinic_id, body)
    with one_transaction(db, actor):
        db.add(p)
    return p


def update_patient(db: Session, actor: Principal, patient: Patient, body: PatientPatch) -> Patient:
    """Change some of a patient's details (only the fields sent)."""
    access.require_role(actor, access.WRITE_RECORD)
    changes = body.model_dump(exclude_unset=True)
    for k, v in changes.items():
        if v is None and k in _NOT_NULL:
            raise InputError(k, "must not be null")
    merged = {f: getattr(patient, f) for f in PATIENT_FLAGS} | changes
    _check_facts(changes.get("sex", patient.sex), merged)
    with one_transaction(db, actor):
        for k, v in changes.items():
            setattr(patient, k, v)
    return patient
