"""Visits: the assessment scored (F-VASI, T-VASI, F-BSA, T-BSA) and placed in its course.

Access and the role policy: ``repigment.api.routes.shared`` (docs/api.md has the matrix).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

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
from repigment.course import CourseError, check_assessed, place_visit
from repigment.services import checks
from repigment.services import deidentified as deid_out
from repigment.services.schemas import (
    VisitDeidentifiedOut,
    VisitIn,
    VisitOut,
)
from repigment.store import (
    Patient,
    Visit,
)

router = APIRouter()


# -- visits --------------------------------------------------------------------------------------
def _visit_out(v: Visit, view: deid_out.View | None) -> VisitOut | VisitDeidentifiedOut:
    return deid_out.visit(v, view) if view is not None else VisitOut.model_validate(v)


@router.get(
    "/patients/{patient_id}/visits",
    response_model=list[VisitOut | VisitDeidentifiedOut],
    responses=ERRORS,
    tags=["visits"],
)
async def list_visits(
    ctx: ReadRecord, limit: Limit = 100, offset: Offset = 0
) -> list[VisitOut | VisitDeidentifiedOut]:
    stmt = select(Visit).where(Visit.patient_id == ctx.patient.id).order_by(Visit.visited_on, Visit.id)
    view = view_for(ctx)
    return [_visit_out(v, view) for v in page(ctx.db, stmt, limit, offset)]


@router.post(
    "/patients/{patient_id}/visits",
    status_code=201,
    response_model=VisitOut,
    responses=ERRORS,
    tags=["visits"],
)
async def create_visit(body: VisitIn, ctx: WriteRecord, response: Response) -> VisitOut:
    """Record a visit with its assessment; F-VASI, T-VASI, F-BSA and T-BSA are computed and stored."""
    v = build_visit(ctx.db, ctx.patient, body, ctx.user.user_id)
    ctx.db.add(v)
    await commit(ctx.db)
    created(response, f"/api/v1/patients/{ctx.patient.id}/visits/{v.id}")
    return VisitOut.model_validate(v)


def build_visit(db: Session, patient: Patient, body: VisitIn, user_id: int | None) -> Visit:
    """Score the assessment and place it in its course (``repigment.course.place_visit``: the week from
    the date, follow-ups not before the course start, a second visit in one week flagged, an empty map
    only as an explicit "no depigmentation") into a new Visit. The API, the pages, the demo and the FHIR
    import all record visits through here. The flags are on ``visit.flags`` (not stored)."""
    if body.visited_on < patient.birth_date:
        raise unprocessable("body.visited_on", "is before the patient's birth date")
    patches = [p.model_dump(exclude_none=True) for p in body.patches]
    try:
        check_assessed(patches, body.no_depigmentation)
    except CourseError as e:
        raise unprocessable("body." + e.field, e.reason) from e
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
        raise unprocessable("body." + e.field, e.reason) from e
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


@router.get(
    "/patients/{patient_id}/visits/{visit_id}",
    response_model=VisitOut | VisitDeidentifiedOut,
    responses=ERRORS,
    tags=["visits"],
)
async def get_visit(ctx: ReadRecord, visit_id: ItemId) -> VisitOut | VisitDeidentifiedOut:
    return _visit_out(owned(ctx.db, Visit, visit_id, ctx.patient, "visit"), view_for(ctx))
