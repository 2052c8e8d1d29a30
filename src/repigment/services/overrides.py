"""Use cases of an override: a clinician's decision to proceed despite a label finding, and why."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from repigment.services import access, checks
from repigment.services import deidentified as deid_out
from repigment.services.acting import Principal
from repigment.services.errors import InputError
from repigment.services.rows import clinical, page
from repigment.services.schemas import OverrideDeidentifiedOut, OverrideIn, OverrideOut
from repigment.services.transaction import one_transaction
from repigment.store import Application, Override, Patient


def list_overrides(
    db: Session, actor: Principal, patient: Patient, limit: int = 100, offset: int = 0
) -> list[OverrideOut | OverrideDeidentifiedOut]:
    access.require_role(actor, access.READ_RECORD)
    stmt = select(Override).where(Override.patient_id == patient.id).order_by(Override.id)
    view = access.view_for(db, actor, patient)
    found = page(db, stmt, limit, offset)
    if view is None:
        return [OverrideOut.model_validate(o) for o in found]
    return [deid_out.override(o, view) for o in found]


def _override(db: Session, actor: Principal, patient: Patient, body: OverrideIn) -> Override:
    if body.course_id is not None:
        clinical(checks.course_for, db, patient.id, body.course_id, dt.date.max)
    if body.application_id is not None:
        a = db.get(Application, body.application_id)
        if a is None or a.patient_id != patient.id:
            raise InputError("application_id", "no such diary entry for this patient")
    return Override(patient_id=patient.id, user_id=actor.user_id, **body.model_dump())


def create_override(db: Session, actor: Principal, patient: Patient, body: OverrideIn) -> Override:
    """Record a clinician's decision to proceed despite a label finding: which rule, and why."""
    return create_overrides(db, actor, patient, [body])[0]


def create_overrides(
    db: Session, actor: Principal, patient: Patient, bodies: list[OverrideIn]
) -> list[Override]:
    """Several overrides stored together or not at all (a flagged diary entry acknowledged: one per rule)."""
    access.require_role(actor, access.WRITE_RECORD)
    found = [_override(db, actor, patient, b) for b in bodies]
    with one_transaction(db, actor):
        db.add_all(found)
    return found
