"""Response bodies of the read models (``repigment.services.records``): course state with attention flags
and course findings, timeline, progress.

Each date comes as a pair: ``on`` (the date, for the clinic and the patient) and ``day`` (days since the
patient's day zero, the first course's start, for analysts, who get no dates: ``repigment.deid``). In a
body with ``deidentified: true`` every ``on`` is null and free text (reasons, terms, finding messages)
is left out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from repigment.services.schemas.common import DeidFindingOut, FindingOut


def _on() -> Any:
    return Field(default=None, description="The date (null in a de-identified body)")


def _day() -> Any:
    return Field(default=None, description="Days since the patient's day zero (only in a de-identified body)")


class MilestoneOut(BaseModel):
    """The week-24 review or the week-52 decision of the course (SmPC 4.2)."""

    name: str
    week: int
    status: Literal["upcoming", "due", "done"]
    on: dt.date | None = _on()
    day: int | None = _day()
    assessment_on: dt.date | None = Field(
        default=None,
        description="The visit whose repigmentation the milestone reads (null when de-identified)",
    )
    assessment_day: int | None = _day()
    repigmentation_percent: float | None = None


class CourseStateOut(BaseModel):
    """Where the current course stands on ``on`` (today, or the day it stopped)."""

    week: int = Field(description="Week of treatment: 0 in the first seven days of the course")
    on: dt.date | None = _on()
    day: int | None = _day()
    started_on: dt.date | None = _on()
    start_day: int | None = _day()
    review: MilestoneOut
    decision: MilestoneOut
    week52_decision: Literal["continue", "consider_discontinuation"] | None
    discontinue_below_percent: float
    last_application_on: dt.date | None = _on()
    last_application_day: int | None = _day()
    contraception_until: dt.date | None = _on()
    contraception_until_day: int | None = _day()


class FlagOut(BaseModel):
    """Something that needs the clinic's attention (the patient list's badges)."""

    kind: Literal["review_due", "decision_due", "blocking", "new_event"]
    severity: Literal["block", "warn", "info"]


class PatientStateOut(BaseModel):
    patient_id: int
    deidentified: bool
    course_id: int | None = Field(description="The current course: the latest active one, else the latest")
    course_status: str | None
    state: CourseStateOut | None = Field(description="Null without a course")
    flags: list[FlagOut]
    findings: list[FindingOut | DeidFindingOut] = Field(
        description="The label's findings on the course (eligibility, plan, the week-24/52 rules)"
    )


class TimelineEventOut(BaseModel):
    """One thing that happened in the record. Which of the ids and fields are set depends on ``kind``."""

    kind: str = Field(
        description="course_start, course_<status> (a course stopped or completed), visit, milestone, "
        "decision, override, adverse_event"
    )
    on: dt.date | None = _on()
    day: int | None = _day()
    course_id: int | None = None
    visit_id: int | None = None
    week: int | None = Field(default=None, description="Week of treatment of a visit")
    milestone: str | None = None
    status: str | None = Field(default=None, description="A milestone's status")
    rule: str | None = Field(default=None, description="The rule a decision or override names")
    reason: str | None = Field(default=None, description="A decision's, override's or stop's reason")
    adverse_event_id: int | None = None
    term: str | None = None
    serious: bool | None = None


class TimelineOut(BaseModel):
    patient_id: int
    deidentified: bool
    events: list[TimelineEventOut] = Field(description="Oldest first")


class ProgressPointOut(BaseModel):
    visit_id: int
    on: dt.date | None = _on()
    day: int | None = _day()
    week: int
    f_vasi: float
    t_vasi: float
    vns: int | None
    vns_success: bool | None = Field(description="VNS 4 or 5: noticeably or a lot less noticeable")


class ProgressOut(BaseModel):
    """F-VASI and T-VASI by week of the current course, with the change from its baseline visit."""

    patient_id: int
    deidentified: bool
    course_id: int | None
    points: list[ProgressPointOut]
    baseline_visit_id: int | None
    latest_visit_id: int | None
    change_percent: dict[str, float | None] = Field(
        description="Percent change of f_vasi and t_vasi, latest against baseline (negative: better); "
        "empty when the two were scored under different instrument variants or body models"
    )
    mixed_variants: bool
