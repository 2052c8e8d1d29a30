"""Treatment courses: the plan checked by the label engine, status changes, the week-24/52 decision
(use cases: ``repigment.services.course``)."""

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
from repigment.services import course as courses
from repigment.services.schemas import (
    CourseDeidentifiedOut,
    CourseIn,
    CourseOut,
    CoursePatch,
    DecisionIn,
    DecisionOut,
    OverrideOut,
)

router = APIRouter()


@router.get(
    "/patients/{patient_id}/courses",
    response_model=list[CourseOut | CourseDeidentifiedOut],
    responses=ERRORS,
    tags=["courses"],
)
async def list_courses(
    ctx: ReadRecord, limit: Limit = 100, offset: Offset = 0
) -> list[CourseOut | CourseDeidentifiedOut]:
    return courses.list_courses(ctx.db, ctx.user, ctx.patient, limit, offset)


@router.post(
    "/patients/{patient_id}/courses",
    status_code=201,
    response_model=CourseOut,
    responses=ERRORS,
    tags=["courses"],
)
async def create_course(body: CourseIn, ctx: WriteRecord, response: Response) -> CourseOut:
    """Start a treatment course; its plan is checked against the ruleset and the findings returned."""
    c = await write(courses.create_course, ctx.db, ctx.user, ctx.patient, body)
    created(response, f"/api/v1/patients/{ctx.patient.id}/courses/{c.id}")
    return CourseOut.model_validate(c)


@router.get(
    "/patients/{patient_id}/courses/{course_id}",
    response_model=CourseOut | CourseDeidentifiedOut,
    responses=ERRORS,
    tags=["courses"],
)
async def get_course(ctx: ReadRecord, course_id: ItemId) -> CourseOut | CourseDeidentifiedOut:
    return courses.get_course(ctx.db, ctx.user, ctx.patient, course_id)


@router.patch(
    "/patients/{patient_id}/courses/{course_id}", response_model=CourseOut, responses=ERRORS, tags=["courses"]
)
async def update_course(body: CoursePatch, ctx: WriteRecord, course_id: ItemId) -> CourseOut:
    """Pause, stop or complete a course (stopping needs a date and a reason), or change its plan."""
    c = await write(courses.update_course, ctx.db, ctx.user, ctx.patient, course_id, body)
    return CourseOut.model_validate(c)


@router.post(
    "/patients/{patient_id}/courses/{course_id}/decision",
    status_code=201,
    response_model=DecisionOut,
    responses={**ERRORS, 409: {"description": "Conflicts with the stored record"}},
    tags=["courses"],
)
async def record_decision(body: DecisionIn, ctx: WriteRecord, course_id: ItemId) -> DecisionOut:
    """Record the week-24 or week-52 decision: continue (naming any findings continued against) or stop
    the course; the course change and the decision are stored together or not at all."""
    decided = await write(
        courses.record_decision,
        ctx.db,
        ctx.user,
        patient_id=ctx.patient.id,
        course_id=course_id,
        milestone=body.milestone,
        choice=body.choice,
        reason=body.reason,
        against=body.against,
    )
    return DecisionOut(
        course=CourseOut.model_validate(decided.course),
        overrides=[OverrideOut.model_validate(o) for o in decided.overrides],
    )
