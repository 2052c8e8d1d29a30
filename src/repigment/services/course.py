"""Use cases of a treatment course: the plan checked by the label engine, status changes, the week-24/52
decision."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from repigment.services import access, checks
from repigment.services import deidentified as deid_out
from repigment.services.acting import Principal
from repigment.services.errors import Conflict, InputError, NotFound
from repigment.services.rows import clinical, owned, page
from repigment.services.schemas import CourseDeidentifiedOut, CourseIn, CourseOut, CoursePatch
from repigment.services.transaction import one_transaction
from repigment.store import Course, Override, Patient

# Overrides that record a week-24/52 decision are named decision:<milestone>:<choice>,
# e.g. decision:week-52:continue.
DECISION_RULE_PREFIX: Final = "decision"
MILESTONES: Final = ("week-24", "week-52")
CHOICES: Final = ("continue", "stop")
# The reason stored with a decision that needs none (continuing with no finding against it).
DEFAULT_REASON: Final = "Decision recorded at the review."  # the web shows it translated (web.labels)

Milestone = Literal["week-24", "week-52"]
Choice = Literal["continue", "stop"]


class Acting(Protocol):
    """The acting user, as far as a use case needs to know."""

    @property
    def user_id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Decided:
    course: Course
    overrides: list[Override]


def decision_rule(milestone: str, choice: str) -> str:
    return f"{DECISION_RULE_PREFIX}:{milestone}:{choice}"


def record_decision(
    db: Session,
    actor: Acting,
    *,
    patient_id: int,
    course_id: int,
    milestone: str,
    choice: str,
    reason: str,
    against: Sequence[str] = (),
    today: dt.date | None = None,
) -> Decided:
    """Record the week-24 or week-52 decision on a course, in one transaction.

    Stopping sets the course stopped today with the reason; the decision is stored as an override
    ``decision:<milestone>:<choice>``, and continuing despite findings (``against``: their rule ids, as the
    label engine names them; SmPC 4.2: consider stopping below 25 % repigmentation at week 52) also stores
    one override per finding. A reason is needed to stop or to continue against a finding. Either all of
    it is stored or, on any failure, none of it.
    """
    reason = reason.strip()
    if milestone not in MILESTONES:
        raise InputError("milestone", "must be week-24 or week-52")
    if choice not in CHOICES:
        raise InputError("choice", "must be continue or stop")
    overriding = choice == "continue" and bool(against)
    if (overriding or choice == "stop") and not reason:
        raise InputError(
            "reason", "is required to continue despite a finding" if overriding else "is required to stop"
        )
    course = db.get(Course, course_id)
    if course is None or course.patient_id != patient_id:
        raise NotFound("course")
    on = today or dt.date.today()
    try:
        if choice == "stop":
            if on < course.started_on:
                raise InputError("stopped_on", f"must not be before the course started ({course.started_on})")
            course.status, course.stopped_on, course.stop_reason = "stopped", on, reason
        rules = [*(against if overriding else ()), decision_rule(milestone, choice)]
        overrides = [
            Override(
                patient_id=patient_id,
                course_id=course.id,
                rule=rule,
                reason=reason or DEFAULT_REASON,
                user_id=actor.user_id,
            )
            for rule in rules
        ]
        db.add_all(overrides)
        db.commit()
    except IntegrityError as e:
        db.rollback()
        raise Conflict("conflicts with the stored record (a referenced item changed or is gone)") from e
    except BaseException:
        db.rollback()
        raise
    return Decided(course, overrides)


def course_out(c: Course, view: deid_out.View | None) -> CourseOut | CourseDeidentifiedOut:
    return deid_out.course(c, view) if view is not None else CourseOut.model_validate(c)


def list_courses(
    db: Session, actor: Principal, patient: Patient, limit: int = 100, offset: int = 0
) -> list[CourseOut | CourseDeidentifiedOut]:
    access.require_role(actor, access.READ_RECORD)
    stmt = select(Course).where(Course.patient_id == patient.id).order_by(Course.id)
    view = access.view_for(db, actor, patient)
    return [course_out(c, view) for c in page(db, stmt, limit, offset)]


def get_course(
    db: Session, actor: Principal, patient: Patient, course_id: int
) -> CourseOut | CourseDeidentifiedOut:
    access.require_role(actor, access.READ_RECORD)
    return course_out(owned(db, Course, course_id, patient, "course"), access.view_for(db, actor, patient))


def create_course(db: Session, actor: Principal, patient: Patient, body: CourseIn) -> Course:
    """Start a treatment course; its plan is checked against the ruleset, the findings stored with it."""
    access.require_role(actor, access.WRITE_RECORD)
    plan = body.plan.model_dump(exclude_none=True)
    verdict, findings = clinical(
        checks.check_plan, db, patient, body.ruleset, body.started_on, plan, body.started_on
    )
    c = Course(
        patient_id=patient.id,
        ruleset=body.ruleset,
        started_on=body.started_on,
        plan=plan,
        verdict=verdict,
        findings=findings,
        created_by=actor.user_id,
    )
    with one_transaction(db, actor):
        db.add(c)
    return c


def update_course(
    db: Session, actor: Principal, patient: Patient, course_id: int, body: CoursePatch
) -> Course:
    """Pause, stop or complete a course (stopping needs a date and a reason), or change its plan."""
    access.require_role(actor, access.WRITE_RECORD)
    c = owned(db, Course, course_id, patient, "course")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("status", "x") is None:
        raise InputError("status", "must not be null")
    status = changes.get("status", c.status)
    stopped_on = changes.get("stopped_on", c.stopped_on)
    stop_reason = changes.get("stop_reason", c.stop_reason)
    if status in ("stopped", "completed"):
        if stopped_on is None:
            raise InputError("stopped_on", f"is required when the course is {status}")
        if status == "stopped" and not stop_reason:
            raise InputError("stop_reason", "is required when the course is stopped")
    if stopped_on is not None and stopped_on < c.started_on:
        raise InputError("stopped_on", f"must not be before the course started ({c.started_on})")
    with one_transaction(db, actor):
        if "plan" in changes:
            if body.plan is None:
                raise InputError("plan", "must not be null")
            plan = body.plan.model_dump(exclude_none=True)
            on = max(c.started_on, min(dt.date.today(), stopped_on or dt.date.max))
            c.verdict, c.findings = clinical(
                checks.check_plan, db, patient, c.ruleset, c.started_on, plan, on
            )
            c.plan = plan
        c.status, c.stopped_on, c.stop_reason = status, stopped_on, stop_reason
    return c
