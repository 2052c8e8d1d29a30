"""Use cases of an adverse event: reported by patients and clinicians, followed up by the clinician,
reviewed clinic-wide by safety officers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from repigment.services import access, checks
from repigment.services import deidentified as deid_out
from repigment.services.acting import Principal
from repigment.services.errors import InputError
from repigment.services.rows import clinical, owned, page
from repigment.services.schemas import (
    AdverseEventDeidentifiedOut,
    AdverseEventIn,
    AdverseEventOut,
    AdverseEventPatch,
    check_seriousness,
)
from repigment.services.transaction import one_transaction
from repigment.store import AdverseEvent, Patient


def adverse_event_out(
    e: AdverseEvent, view: deid_out.View | None
) -> AdverseEventOut | AdverseEventDeidentifiedOut:
    return deid_out.adverse_event(e, view) if view is not None else AdverseEventOut.model_validate(e)


def list_adverse_events(
    db: Session, actor: Principal, patient: Patient, limit: int = 100, offset: int = 0
) -> list[AdverseEventOut | AdverseEventDeidentifiedOut]:
    access.require_role(actor, access.READ_AE)
    stmt = select(AdverseEvent).where(AdverseEvent.patient_id == patient.id).order_by(AdverseEvent.id)
    view = access.view_for(db, actor, patient)
    return [adverse_event_out(e, view) for e in page(db, stmt, limit, offset)]


def get_adverse_event(
    db: Session, actor: Principal, patient: Patient, event_id: int
) -> AdverseEventOut | AdverseEventDeidentifiedOut:
    access.require_role(actor, access.READ_AE)
    e = owned(db, AdverseEvent, event_id, patient, "adverse event")
    return adverse_event_out(e, access.view_for(db, actor, patient))


def clinic_adverse_events(
    db: Session, actor: Principal, limit: int = 100, offset: int = 0, serious: bool | None = None
) -> list[AdverseEventOut | AdverseEventDeidentifiedOut]:
    """All adverse events of the actor's clinic, newest first (for safety review)."""
    access.require_role(actor, access.CLINIC_AE)
    stmt = (
        select(AdverseEvent)
        .join(Patient, Patient.id == AdverseEvent.patient_id)
        .where(Patient.clinic_id == actor.clinic_id)
    )
    if serious is not None:
        stmt = stmt.where(AdverseEvent.serious == serious)
    stmt = stmt.order_by(AdverseEvent.id.desc())
    events = page(db, stmt, limit, offset)
    if not access.deidentify(actor):
        return [adverse_event_out(e, None) for e in events]
    patients = db.scalars(select(Patient).where(Patient.id.in_({e.patient_id for e in events}))).all()
    views = deid_out.views(db, patients)
    return [adverse_event_out(e, views[e.patient_id]) for e in events]


def new_adverse_event(
    db: Session, patient: Patient, body: AdverseEventIn, reporter_id: int | None, reporter_role: str
) -> AdverseEvent:
    """A new adverse event of ``patient`` reported by ``reporter_role``, checked; not yet added."""
    if reporter_role == "patient" and body.causality != "not_assessed":
        raise InputError("causality", "is assessed by the clinician; leave it out when reporting")
    if body.onset_on < patient.birth_date:
        raise InputError("onset_on", "is before the patient's birth date")
    if body.course_id is not None:
        clinical(checks.course_for, db, patient.id, body.course_id, body.onset_on)
    return AdverseEvent(
        patient_id=patient.id, reporter_id=reporter_id, reporter_role=reporter_role, **body.model_dump()
    )


def report_adverse_event(
    db: Session, actor: Principal, patient: Patient, body: AdverseEventIn
) -> AdverseEvent:
    """Report an adverse event (patients report their own; causality is assessed by the clinician)."""
    access.require_role(actor, access.WRITE_AE)
    e = new_adverse_event(db, patient, body, actor.user_id, actor.role)
    with one_transaction(db, actor):
        db.add(e)
    return e


def update_adverse_event(
    db: Session, actor: Principal, patient: Patient, event_id: int, body: AdverseEventPatch
) -> AdverseEvent:
    """Follow up an event: seriousness, outcome, causality assessment."""
    access.require_role(actor, access.WRITE_RECORD)
    e = owned(db, AdverseEvent, event_id, patient, "adverse event")
    changes = body.model_dump(exclude_unset=True)
    for k in ("serious", "seriousness_criteria", "outcome", "causality"):
        if k in changes and changes[k] is None:
            raise InputError(k, "must not be null")
    try:
        check_seriousness(
            changes.get("serious", e.serious), changes.get("seriousness_criteria", e.seriousness_criteria)
        )
    except ValueError as err:
        raise InputError("body", str(err), where=None) from err
    with one_transaction(db, actor):
        for k, v in changes.items():
            setattr(e, k, v)
    return e
