"""Use cases of a prescription of the cream: prescribing, dispensing, first opening."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from repigment.services import access, checks
from repigment.services import deidentified as deid_out
from repigment.services.acting import Principal
from repigment.services.errors import InputError
from repigment.services.rows import clinical, owned, page
from repigment.services.schemas import (
    PrescriptionDeidentifiedOut,
    PrescriptionIn,
    PrescriptionOut,
    PrescriptionPatch,
    check_order,
)
from repigment.services.transaction import one_transaction
from repigment.store import Patient, Prescription


def prescription_out(
    p: Prescription, view: deid_out.View | None
) -> PrescriptionOut | PrescriptionDeidentifiedOut:
    return deid_out.prescription(p, view) if view is not None else PrescriptionOut.model_validate(p)


def list_prescriptions(
    db: Session, actor: Principal, patient: Patient, limit: int = 100, offset: int = 0
) -> list[PrescriptionOut | PrescriptionDeidentifiedOut]:
    access.require_role(actor, access.READ_RECORD)
    stmt = select(Prescription).where(Prescription.patient_id == patient.id).order_by(Prescription.id)
    view = access.view_for(db, actor, patient)
    return [prescription_out(p, view) for p in page(db, stmt, limit, offset)]


def get_prescription(
    db: Session, actor: Principal, patient: Patient, prescription_id: int
) -> PrescriptionOut | PrescriptionDeidentifiedOut:
    access.require_role(actor, access.READ_RECORD)
    p = owned(db, Prescription, prescription_id, patient, "prescription")
    return prescription_out(p, access.view_for(db, actor, patient))


def new_prescription(
    db: Session, patient: Patient, body: PrescriptionIn, user_id: int | None
) -> Prescription:
    """A new prescription of ``patient`` (its course, if named, checked to be theirs); not yet added."""
    if body.course_id is not None:
        clinical(checks.course_for, db, patient.id, body.course_id, body.prescribed_on)
    return Prescription(patient_id=patient.id, created_by=user_id, **body.model_dump())


def create_prescription(
    db: Session, actor: Principal, patient: Patient, body: PrescriptionIn
) -> Prescription:
    """Prescribe (and optionally record the dispensing and first opening of) a quantity of cream."""
    access.require_role(actor, access.WRITE_RECORD)
    p = new_prescription(db, patient, body, actor.user_id)
    with one_transaction(db, actor):
        db.add(p)
    return p


def update_prescription(
    db: Session, actor: Principal, patient: Patient, prescription_id: int, body: PrescriptionPatch
) -> Prescription:
    """Record the dispensing or first opening of the tube."""
    access.require_role(actor, access.WRITE_RECORD)
    p = owned(db, Prescription, prescription_id, patient, "prescription")
    changes = body.model_dump(exclude_unset=True)
    merged = {"dispensed_on": p.dispensed_on, "opened_on": p.opened_on} | changes
    try:
        check_order(p.prescribed_on, merged["dispensed_on"], merged["opened_on"])
    except ValueError as e:
        raise InputError("body", str(e), where=None) from e
    with one_transaction(db, actor):
        for k, v in changes.items():
            setattr(p, k, v)
    return p
