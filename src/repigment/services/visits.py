"""Use cases of a visit: the assessment scored (F-VASI, T-VASI, F-BSA, T-BSA) and placed in its course."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from repigment.course import CourseError, check_assessed, place_visit
from repigment.services import access, checks
from repigment.services import deidentified as deid_out
from repigment.services.acting import Principal
from repigment.services.errors import InputError
from repigment.services.rows import clinical, owned, page
from repigment.services.schemas import VisitDeidentifiedOut, VisitIn, VisitOut
from repigment.services.transaction import one_transaction
from repigment.store import Patient, Visit


def visit_out(v: Visit, view: deid_out.View | None) -> VisitOut | VisitDeidentifiedOut:
    return deid_out.visit(v, view) if view is not None else VisitOut.model_validate(v)


def list_visits(
    db: Session, actor: Principal, patient: Patient, limit: int = 100, offset: int = 0
) -> list[VisitOut | VisitDeidentifiedOut]:
    access.require_role(actor, access.READ_RECORD)
    stmt = select(Visit).where(Visit.patient_id == patient.id).order_by(Visit.visited_on, Visit.id)
    view = access.view_for(db, actor, patient)
    return [visit_out(v, view) for v in page(db, stmt, limit, offset)]


def get_visit(
    db: Session, actor: Principal, patient: Patient, visit_id: int
) -> VisitOut | VisitDeidentifiedOut:
    access.require_role(actor, access.READ_RECORD)
    return visit_out(owned(db, Visit, visit_id, patient, "visit"), access.view_for(db, actor, patient))


def create_visit(db: Session, actor: Principal, patient: Patient, body: VisitIn) -> Visit:
    """Record a visit with its assessment; the scores are computed and stored with it. The placement's
    flags are on ``visit.flags`` (reported, not stored)."""
    access.require_role(actor, access.WRITE_RECORD)
    v = build_visit(db, patient, body, actor.user_id)
    with one_transaction(db, actor):
        db.add(v)
    return v


def build_visit(db: Session, patient: Patient, body: VisitIn, user_id: int | None) -> Visit:
    """Score the assessment and place it in its course (``repigment.course.place_visit``: the week from
    the date, follow-ups not before the course start, a second visit in one week flagged, an empty map
    only as an explicit "no depigmentation") into a new Visit, not yet added. The API, the pages, the demo
    and the FHIR import all record visits through here. The flags are on ``visit.flags`` (not stored)."""
    if body.visited_on < patient.birth_date:
        raise InputError("visited_on", "is before the patient's birth date")
    patches = [p.model_dump(exclude_none=True) for p in body.patches]
    try:
        check_assessed(patches, body.no_depigmentation)
    except CourseError as e:
        raise InputError(e.field, e.reason) from e
    variant = body.variant.model_dump()
    result = clinical(checks.score_visit, patient, body.visited_on, patches, variant)
    course = clinical(checks.course_for, db, patient.id, body.course_id, body.visited_on)
    follow_up = body.course_id is not None or body.repigmentation_percent is not None
    started = course.started_on if course is not None else None
    others: list[dt.date] = []
    if course is not None:
        others = list(
            db.scalars(
                select(Visit.visited_on).where(
                    Visit.patient_id == patient.id,
                    (Visit.course_id == course.id)
                    | (Visit.course_id.is_(None) & (Visit.visited_on >= course.started_on)),
                )
            )
        )
    try:
        placed = place_visit(
            body.visited_on, started, follow_up=follow_up, typed_week=body.week, other_visits_on=others
        )
    except CourseError as e:
        raise InputError(e.field, e.reason) from e
    if placed.week is None:
        course = None  # a visit before the course started (a baseline ahead of it) is not one of its visits
    v = Visit(
        patient_id=patient.id,
        course_id=course.id if course else None,
        visited_on=body.visited_on,
        week=placed.week,
        patches=patches,
        variant=variant,
        age_years=float(result.age_years),
        f_vasi=float(result.f_vasi),
        t_vasi=float(result.t_vasi),
        f_bsa_percent=float(result.f_bsa_percent),
        t_bsa_percent=float(result.t_bsa_percent),
        scores=result.as_json(),
        repigmentation_percent=body.repigmentation_percent,
        vns=body.vns,
        vitiqol_items=[int(i) for i in body.vitiqol.items] if body.vitiqol else None,
        vitiqol_item16=(
            int(body.vitiqol.item16) if body.vitiqol and body.vitiqol.item16 is not None else None
        ),
        ruleset=course.ruleset if course else None,
        body_model=result.body_model,
        notes=body.notes,
        created_by=user_id,
    )
    v.flags = placed.flags  # type: ignore[attr-defined]  # reported with the new visit, not stored
    if course is not None and body.repigmentation_percent is not None:
        earlier = db.scalars(
            select(Visit).where(Visit.course_id == course.id, Visit.visited_on <= body.visited_on)
        ).all()
        clinical(checks.check_course_assessment, course, patient, [*earlier, v], body.visited_on)
    return v
