"""Use cases of a treatment course."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from repigment.services.errors import Conflict, InputError, NotFound
from repigment.store import Course, Override

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
