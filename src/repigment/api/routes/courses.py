"""Treatment courses: the plan checked by the label engine, status changes, the week-24/52 decision.

Access and the role policy: ``repigment.api.routes.shared`` (docs/api.md has the matrix).
"""

from __future__ import annotations

import datetime as dt
import functools

import anyio
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
from repigment.services import course as course_service
from repigment.services import deidentified as deid_out
from repigment.services.schemas import (
    CourseDeidentifiedOut,
    CourseIn,
    CourseOut,
    CoursePatch,
    DecisionIn,
    DecisionOut,
    OverrideOut,
)
from repigment.store import (
    Course,
)

router = APIRouter()


# -- courses -------------------------------------------------------------------------------------
@router.get(
    "/patients/{patient_id}/courses",
    response_model=list[CourseOut | CourseDeidentifiedOut],
    responses=ERRORS,
    tags=["courses"],
)
async def list_courses(
    ctx: ReadRecord, limit: Limit = 100, offset: Offset = 0
) -> list[CourseOut | CourseDeidentifiedOut]:
    stmt = select(Course).where(Course.patient_id == ctx.patient.id).order_by(Course.id)
    view = view_for(ctx)
    return [_course_out(c, view) for c in page(ctx.db, stmt, limit, offset)]


def _course_out(c: Course, view: deid_out.View | None) -> CourseOut | CourseDeidentifiedOut:
    return deid_out.course(c, view) if view is not None else CourseOut.model_validate(c)


@router.post(
    "/patients/{patient_id}/courses",
    status_code=201,
    response_model=CourseOut,
    responses=ERRORS,
    tags=["courses"],
)
async def create_course(body: CourseIn, ctx: WriteRecord, response: Response) -> CourseOut:
    """Start a treatment course; its plan is checked against the ruleset and the findings returned."""
    plan = body.plan.model_dump(exclude_none=True)
    verdict, findings = clinical(
        checks.check_plan, ctx.db, ctx.patient, body.ruleset, body.started_on, plan, body.started_on
    )
    c = Course(
        patient_id=ctx.patient.id,
        ruleset=body.ruleset,
        started_on=body.started_on,
        plan=plan,
        verdict=verdict,
        findings=findings,
        created_by=ctx.user.user_id,
    )
    ctx.db.add(c)
    await commit(ctx.db)
    created(response, f"/api/v1/patients/{ctx.patient.id}/courses/{c.id}")
    return CourseOut.model_validate(c)


@router.get(
    "/patients/{patient_id}/courses/{course_id}",
    response_model=CourseOut | CourseDeidentifiedOut,
    responses=ERRORS,
    tags=["courses"],
)
async def get_course(ctx: ReadRecord, course_id: ItemId) -> CourseOut | CourseDeidentifiedOut:
    return _course_out(owned(ctx.db, Course, course_id, ctx.patient, "course"), view_for(ctx))


@router.patch(
    "/patients/{patient_id}/courses/{course_id}", response_model=CourseOut, responses=ERRORS, tags=["courses"]
)
async def update_course(body: CoursePatch, ctx: WriteRecord, course_id: ItemId) -> CourseOut:
    """Pause, stop or complete a course (stopping needs a date and a reason), or change its plan."""
    c = owned(ctx.db, Course, course_id, ctx.patient, "course")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("status", "x") is None:
        raise unprocessable("body.status", "must not be null")
    status = changes.get("status", c.status)
    stopped_on = changes.get("stopped_on", c.stopped_on)
    stop_reason = changes.get("stop_reason", c.stop_reason)
    if status in ("stopped", "completed"):
        if stopped_on is None:
            raise unprocessable("body.stopped_on", f"is required when the course is {status}")
        if status == "stopped" and not stop_reason:
            raise unprocessable("body.stop_reason", "is required when the course is stopped")
    if stopped_on is not None and stopped_on < c.started_on:
        raise unprocessable("body.stopped_on", f"must not be before the course started ({c.started_on})")
    if "plan" in changes:
        if body.plan is None:
            raise unprocessable("body.plan", "must not be null")
        plan = body.plan.model_dump(exclude_none=True)
        on = max(c.started_on, min(dt.date.today(), stopped_on or dt.date.max))
        c.verdict, c.findings = clinical(
            checks.check_plan, ctx.db, ctx.patient, c.ruleset, c.started_on, plan, on
        )
        c.plan = plan
    c.status, c.stopped_on, c.stop_reason = status, stopped_on, stop_reason
    await commit(ctx.db)
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
    decided = await anyio.to_thread.run_sync(
        functools.partial(
            course_service.record_decision,
            ctx.db,
            ctx.user,
            patient_id=ctx.patient.id,
            course_id=course_id,
            milestone=body.milestone,
            choice=body.choice,
            reason=body.reason,
            against=body.against,
        )
    )
    return DecisionOut(
        course=CourseOut.model_validate(decided.course),
        overrides=[OverrideOut.model_validate(o) for o in decided.overrides],
    )
