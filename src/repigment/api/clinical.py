"""Running the core on every write: label checks for plans and diary entries, scoring for visits.

The request handed to ``repigment.label`` is built here from the stored record, once, for the API and
the demo loader alike. Core input errors become ``ClinicalInputError`` (HTTP 422 naming the field).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from repigment.body import age_on
from repigment.label import CheckResult, LabelInputError, evaluate, evaluate_application
from repigment.label.request import PATIENT_FLAGS
from repigment.scoring import ScoringError, VasiResult, score_assessment
from repigment.store import Application, Course, Patient, Prescription, Visit

DEFAULT_RULESET: Final = "opzelura-eu-2023"
# Diary history handed to the engine with a new entry: covers the longest rolling window of the
# packaged rulesets (30 days) with margin. Dispensing history: the 6-month in-use period with margin.
HISTORY_DAYS: Final = 35
DISPENSED_DAYS: Final = 200


class ClinicalInputError(ValueError):
    """Input the core refuses; ``field`` names it as the client sent it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def patient_facts(p: Patient) -> dict[str, Any]:
    facts: dict[str, Any] = {"birth_date": p.birth_date.isoformat(), "sex": p.sex, "diagnosis": p.diagnosis}
    facts.update({f: bool(getattr(p, f)) for f in PATIENT_FLAGS})
    return facts


def age_years(birth_date: dt.date, on: dt.date) -> float:
    """Exact age in years, as the label engine computes it (the body model interpolates by age)."""
    return float(age_on(birth_date, on)[1])


def _findings(result: CheckResult) -> list[dict[str, Any]]:
    return [f.as_json() for f in result.findings]


def check_plan(
    db: Session, patient: Patient, ruleset: str, started_on: dt.date, plan: dict[str, Any], on: dt.date
) -> tuple[str, list[dict[str, Any]]]:
    """Verdict and findings for a course plan on ``on`` (eligibility, contraindications, plan limits)."""
    request: dict[str, Any] = {
        "ruleset": ruleset,
        "on": on.isoformat(),
        "timezone": patient.timezone,
        "patient": patient_facts(patient),
        "plan": plan,
        "dispensed": _dispensed(db, patient.id, on),
    }
    if started_on <= on:
        request["course"] = {"started_on": started_on.isoformat()}
    result = _evaluate(request, prefix_map={"plan": "plan", "ruleset": "ruleset"})
    return result.verdict, _findings(result)


def check_course_assessment(course: Course, patient: Patient, visits: Sequence[Visit], on: dt.date) -> None:
    """Let the engine validate a course's assessments (dates, weeks) so a bad visit is refused at once."""
    assessments = [
        {"on": v.visited_on.isoformat(), "repigmentation_percent": v.repigmentation_percent}
        | ({"week": v.week} if v.week is not None else {})
        for v in visits
        if v.repigmentation_percent is not None
    ]
    request = {
        "ruleset": course.ruleset,
        "on": on.isoformat(),
        "timezone": patient.timezone,
        "patient": patient_facts(patient),
        "course": {"started_on": course.started_on.isoformat(), "assessments": assessments},
    }
    _evaluate(request, prefix_map={"course.assessments": "body"})


_DISPENSED: Final = (
    select(Prescription.dispensed_on, Prescription.grams, Prescription.opened_on)
    .where(
        Prescription.patient_id == bindparam("pid"),
        Prescription.dispensed_on.is_not(None),
        Prescription.dispensed_on <= bindparam("on"),
        Prescription.dispensed_on >= bindparam("since"),
    )
    .order_by(Prescription.dispensed_on, Prescription.id)
)


def _dispensed(db: Session, patient_id: int, on: dt.date) -> list[dict[str, Any]]:
    conn = db.connection()  # Core: plain rows, no ORM result machinery
    rows = conn.execute(
        _DISPENSED, {"pid": patient_id, "on": on, "since": on - dt.timedelta(days=DISPENSED_DAYS)}
    ).all()
    out = []
    for dispensed_on, grams, opened_on in rows:
        assert dispensed_on is not None  # selected for
        d: dict[str, Any] = {"on": dispensed_on.isoformat(), "grams": grams}
        if opened_on is not None and opened_on <= on:
            d["opened_on"] = opened_on.isoformat()
        out.append(d)
    return out


_LATEST_COURSE: Final = (
    select(Course)
    .where(Course.patient_id == bindparam("pid"), Course.started_on <= bindparam("on"))
    .order_by(Course.started_on.desc(), Course.id.desc())
    .limit(1)
)
_HISTORY: Final = (
    select(Application.applied_at, Application.hand_units, Application.grams, Application.sites)
    .where(
        Application.patient_id == bindparam("pid"),
        Application.applied_at >= bindparam("since"),
        Application.applied_at < bindparam("until"),
    )
    .order_by(Application.applied_at, Application.id)
)


def course_for(db: Session, patient_id: int, course_id: int | None, on: dt.date) -> Course | None:
    """The named course of this patient (422 if it is not theirs), else the latest started by ``on``."""
    if course_id is not None:
        course = db.get(Course, course_id)
        if course is None or course.patient_id != patient_id:
            raise ClinicalInputError("body.course_id", f"no course {course_id} for this patient")
        return course
    return db.scalars(_LATEST_COURSE, {"pid": patient_id, "on": on}).first()


def _entry(
    applied_at: dt.datetime, hand_units: float, grams: float | None, sites: list[str]
) -> dict[str, Any]:
    e: dict[str, Any] = {"at": applied_at.isoformat(), "hand_units": hand_units}
    if grams is not None:
        e["grams"] = grams
    if sites:
        e["sites"] = list(sites)
    return e


def check_application(
    db: Session,
    patient: Patient,
    course: Course | None,
    at: dt.datetime,
    hand_units: float,
    grams: float | None,
    sites: Sequence[str],
) -> tuple[str, list[dict[str, Any]]]:
    """The findings that concern this diary entry, given the patient's recent diary."""
    zone = ZoneInfo(patient.timezone)
    local_day = at.astimezone(zone).date()
    next_day_start = dt.datetime.combine(local_day + dt.timedelta(days=1), dt.time(), zone)
    conn = db.connection()  # Core: plain rows, no ORM result machinery
    history = conn.execute(
        _HISTORY, {"pid": patient.id, "since": at - dt.timedelta(days=HISTORY_DAYS), "until": next_day_start}
    ).all()
    new: dict[str, Any] = {"at": at.isoformat(), "hand_units": hand_units}
    if grams is not None:
        new["grams"] = grams
    if sites:
        new["sites"] = list(sites)
    try:
        result = evaluate_application(
            [_entry(*row) for row in history],
            new,
            patient_facts(patient),
            ruleset=course.ruleset if course else DEFAULT_RULESET,
            timezone=patient.timezone,
            plan=course.plan if course else None,
            dispensed=_dispensed(db, patient.id, local_day),
        )
    except LabelInputError as e:
        raise ClinicalInputError(_body_field(e.field, len(history)), e.reason) from e
    return result.verdict, _findings(result)


def _body_field(field: str, new_index: int) -> str:
    """Map the engine's field name to the client's: the new entry is the request body."""
    prefix = f"applications[{new_index}]"
    if field.startswith(prefix):
        return "body" + field[len(prefix) :]
    if field.startswith("plan"):
        return "course." + field
    return field


def _evaluate(request: dict[str, Any], prefix_map: dict[str, str]) -> CheckResult:
    try:
        return evaluate(request)
    except LabelInputError as e:
        field = e.field
        for prefix, to in prefix_map.items():
            if field == prefix or field.startswith(prefix + ".") or field.startswith(prefix + "["):
                field = "body." + field if to == "plan" else field
                break
        raise ClinicalInputError(field, e.reason) from e


def score_visit(
    patient: Patient, visited_on: dt.date, patches: list[dict[str, Any]], variant: dict[str, Any]
) -> VasiResult:
    """Score a visit's patches at the patient's age on the visit date."""
    try:
        return score_assessment(
            {"age_years": age_years(patient.birth_date, visited_on), "variant": variant, "patches": patches}
        )
    except ScoringError as e:
        raise ClinicalInputError(
            "body." + e.field if e.field.startswith("patches") else e.field, e.reason
        ) from e
