"""Request and response bodies: Treatment courses, their plans and the week-24/52 decision."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from repigment.services.schemas.common import (
    Day,
    DeidFindingOut,
    FindingOut,
    Grams,
    HandUnits,
    In,
    LongText,
    Out,
    Region,
    Site,
    Text100,
    Verdict,
    _clean_text,
    _day0,
)
from repigment.services.schemas.overrides import OverrideOut
from repigment.store import COURSE_STATUSES


class PlanArea(In):
    region: Region
    hand_units: HandUnits


class Plan(In):
    areas: Annotated[list[PlanArea], Field(max_length=50)] = []
    sites: Annotated[list[Site], Field(max_length=20)] = []
    applications_per_day: Annotated[int, Field(ge=1, le=6)] | None = None
    schedule: (
        Annotated[
            list[Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]],
            Field(max_length=6),
        ]
        | None
    ) = Field(None, description="Local times of the applications, HH:MM")
    grams_per_application: Grams | None = None
    concomitant_topicals: Annotated[list[Text100], Field(max_length=20)] | None = None
    prescriber_experienced: bool | None = None


class CourseIn(In):
    ruleset: Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[a-z0-9.-]+$")] = (
        "opzelura-eu-2023"
    )
    started_on: Day
    plan: Plan = Plan()  # type: ignore[call-arg]


class CoursePatch(In):
    status: Literal["active", "paused", "stopped", "completed"] | None = None
    stopped_on: Day | None = None
    stop_reason: LongText | None = None
    plan: Plan | None = None


RuleId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


class DecisionIn(In):
    """The week-24 or week-52 decision on a course (``repigment.services.course.record_decision``)."""

    milestone: Literal["week-24", "week-52"]
    choice: Literal["continue", "stop"]
    reason: Annotated[str, StringConstraints(max_length=5000), AfterValidator(_clean_text)] = ""
    against: Annotated[list[RuleId], Field(max_length=50)] = []  # label findings continued against


class CourseOut(Out):
    id: int
    patient_id: int
    ruleset: str
    started_on: dt.date
    status: str
    stopped_on: dt.date | None
    stop_reason: str | None
    plan: dict[str, Any]
    verdict: Verdict
    findings: list[FindingOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class CourseDeidentifiedOut(Out):
    """A course as analysts see it: days since day zero instead of dates, no stop reason."""

    id: int
    patient_id: int
    deidentified: Literal[True] = True
    ruleset: str
    start_day: int | None = _day0()
    status: str
    stopped_day: int | None
    plan: dict[str, Any]
    verdict: Verdict
    findings: list[DeidFindingOut]


assert set(COURSE_STATUSES) == {"active", "paused", "stopped", "completed"}


class DecisionOut(Out):
    course: CourseOut
    overrides: list[OverrideOut]
