"""The read models of a patient's record: the course with its milestones, attention flags, course
findings, timeline and progress.

The use cases ``patient_record``, ``patient_state``, ``patient_timeline`` and ``patient_progress`` take the
acting user and a patient id; they apply the role rule (``READ_ROLES``: 403), tenancy and ownership
(another clinic's patient, or for a patient another patient: 404), de-identify for analysts
(``repigment.services.deidentified``), and name the access event the read leaves in the audit trail
(``repigment.services.access_log``). The REST API (``/patients/{id}/state``, ``/timeline``,
``/progress``) and the pages read through them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from repigment.course import (
    Assessment,
    CourseError,
    CourseState,
    RepigmentationCheck,
    check_repigmentation,
    milestones,
    week_of,
)
from repigment.label import LabelInputError, evaluate
from repigment.scoring import vns_success
from repigment.services import checks
from repigment.services import deidentified as deid_out
from repigment.services.access import require_role, visible_patient
from repigment.services.access_log import AccessEvent, Channel, read_event
from repigment.services.acting import Principal
from repigment.services.course import DECISION_RULE_PREFIX
from repigment.services.schemas import DeidFindingOut, FindingOut
from repigment.services.schemas.records import (
    CourseStateOut,
    FlagOut,
    MilestoneOut,
    PatientStateOut,
    ProgressOut,
    ProgressPointOut,
    TimelineEventOut,
    TimelineOut,
)
from repigment.store import AdverseEvent, Application, Course, Override, Patient, Prescription, Visit

NEW_EVENT_DAYS: Final = 14  # an adverse event is "new" on the patient list for two weeks after it is reported
RECENT_FLAG_DAYS: Final = 14  # a blocked diary entry needs attention for two weeks unless overridden


@dataclass
class Record:
    patient: Patient
    today: dt.date
    courses: list[Course]
    visits: list[Visit]
    prescriptions: list[Prescription]
    events: list[AdverseEvent]
    overrides: list[Override]
    applications: list[Application] = field(default_factory=list)
    last_applied_at: dt.datetime | None = None  # the latest diary entry, whatever the window loaded

    @property
    def course(self) -> Course | None:
        """The current course: the latest active one, else the latest."""
        active = [c for c in self.courses if c.status == "active"]
        pool = active or self.courses
        return max(pool, key=lambda c: (c.started_on, c.id)) if pool else None

    def course_visits(self, course: Course | None) -> list[Visit]:
        if course is None:
            return list(self.visits)
        return [
            v
            for v in self.visits
            if v.course_id == course.id or (v.course_id is None and v.visited_on >= course.started_on)
        ]

    @property
    def baseline(self) -> Visit | None:
        vs = self.course_visits(self.course)
        return vs[0] if vs else None

    @property
    def latest(self) -> Visit | None:
        vs = self.course_visits(self.course)
        return vs[-1] if vs else None


def load(db: Session, patient: Patient, today: dt.date | None = None, diary_days: int | None = 60) -> Record:
    today = today or dt.date.today()
    pid = patient.id
    apps_stmt = select(Application).where(Application.patient_id == pid)
    if diary_days is not None:
        since = dt.datetime.combine(today - dt.timedelta(days=diary_days), dt.time(), dt.UTC)
        apps_stmt = apps_stmt.where(Application.applied_at >= since)
    return Record(
        patient=patient,
        today=today,
        courses=list(
            db.scalars(select(Course).where(Course.patient_id == pid).order_by(Course.started_on, Course.id))
        ),
        visits=list(
            db.scalars(select(Visit).where(Visit.patient_id == pid).order_by(Visit.visited_on, Visit.id))
        ),
        prescriptions=list(
            db.scalars(
                select(Prescription)
                .where(Prescription.patient_id == pid)
                .order_by(Prescription.prescribed_on)
            )
        ),
        events=list(
            db.scalars(
                select(AdverseEvent).where(AdverseEvent.patient_id == pid).order_by(AdverseEvent.onset_on)
            )
        ),
        overrides=list(
            db.scalars(select(Override).where(Override.patient_id == pid).order_by(Override.created_at))
        ),
        applications=list(db.scalars(apps_stmt.order_by(Application.applied_at.desc()))),
        last_applied_at=db.scalar(
            select(func.max(Application.applied_at)).where(Application.patient_id == pid)
        ),
    )


def age_on(patient: Patient, on: dt.date) -> float:
    return checks.age_years(patient.birth_date, on)


def visit_week(course: Course | None, visit: Visit) -> int | None:
    """The week of treatment computed from the visit date and the course start (never a typed week)."""
    if course is None or visit.visited_on < course.started_on:
        return None
    return week_of(course.started_on, visit.visited_on)


def course_state(rec: Record) -> CourseState | None:
    """Week-24 review and week-52 decision of the current course (repigment.course)."""
    course = rec.course
    if course is None:
        return None
    assessments = []
    for v in rec.course_visits(course):
        w = visit_week(course, v)
        if v.repigmentation_percent is not None and w is not None and v.visited_on >= course.started_on:
            assessments.append(Assessment(v.visited_on, w, Decimal(str(v.repigmentation_percent))))
    on = max(rec.today, course.started_on)
    if course.stopped_on is not None:
        on = max(course.started_on, min(on, course.stopped_on))
    last_app = rec.last_applied_at.date() if rec.last_applied_at is not None else None
    try:
        return milestones(course.started_on, on, assessments, last_app)
    except CourseError:
        return None


def repigmentation_check(rec: Record, visit: Visit) -> tuple[Visit, RepigmentationCheck] | None:
    """The visit's typed repigmentation beside the repigmentation its scores show since the course's
    baseline visit (``repigment.course.check_repigmentation``), with that baseline visit."""
    if visit.repigmentation_percent is None:
        return None
    course = next((c for c in rec.courses if c.id == visit.course_id), rec.course)
    visits = rec.course_visits(course)
    if not visits or visits[0].id == visit.id:
        return None
    base = visits[0]
    check = check_repigmentation(
        Decimal(str(visit.repigmentation_percent)),
        {"F-VASI": base.f_vasi, "T-VASI": base.t_vasi},
        {"F-VASI": visit.f_vasi, "T-VASI": visit.t_vasi},
    )
    return base, check


def decision_visit(rec: Record, state: CourseState | None) -> Visit | None:
    """The visit whose assessment the week-52 decision read (the latest at or after week 52)."""
    a = state.decision.assessment if state is not None else None
    if a is None:
        return None
    same = [
        v
        for v in rec.course_visits(rec.course)
        if v.visited_on == a.on
        and v.repigmentation_percent is not None
        and Decimal(str(v.repigmentation_percent)) == a.repigmentation_percent
    ]
    return same[-1] if same else None


def course_findings(rec: Record, lang: str) -> list[dict[str, Any]]:
    """Label findings on the course (eligibility, plan, the week-24/52 rules) in the page's language."""
    course = rec.course
    if course is None:
        return []
    p = rec.patient
    assessments = []
    for v in rec.course_visits(course):
        w = visit_week(course, v)
        if v.repigmentation_percent is not None and v.visited_on >= course.started_on:
            entry: dict[str, Any] = {
                "on": v.visited_on.isoformat(),
                "repigmentation_percent": v.repigmentation_percent,
            }
            if w is not None:
                entry["week"] = w
            assessments.append(entry)
    on = max(rec.today, course.started_on)
    request: dict[str, Any] = {
        "ruleset": course.ruleset,
        "on": on.isoformat(),
        "timezone": p.timezone,
        "patient": checks.patient_facts(p),
        "plan": course.plan,
        "course": {"started_on": course.started_on.isoformat(), "assessments": assessments},
    }
    if course.stopped_on is not None:
        request["course"]["stopped_on"] = course.stopped_on.isoformat()
    try:
        return [f.as_json() for f in evaluate(request, lang).findings]
    except LabelInputError:
        return list(course.findings)  # stored; the page words them (record no longer validates)


def overridden_rules(rec: Record) -> set[str]:
    course = rec.course
    return {o.rule for o in rec.overrides if course is None or o.course_id in (None, course.id)}


@dataclass(frozen=True)
class Flag:
    kind: str  # review_due, decision_due, blocking, new_event
    severity: str  # block, warn, info


def attention(rec: Record) -> list[Flag]:
    flags: list[Flag] = []
    state = course_state(rec)
    course = rec.course
    if state is not None and course is not None and course.status == "active":
        decided = {
            o.rule.split(":")[1] for o in rec.overrides if o.rule.startswith(DECISION_RULE_PREFIX + ":")
        }
        if state.review.status == "due" and f"week-{state.review.week}" not in decided:
            flags.append(Flag("review_due", "warn"))
        # the week-52 decision stays due after the assessment until a decision is recorded
        if state.decision.status in ("due", "done") and f"week-{state.decision.week}" not in decided:
            flags.append(Flag("decision_due", "warn"))
    over = overridden_rules(rec)
    blocked_course = course is not None and any(
        f.get("severity") == "block" and f.get("rule") not in over for f in (course.findings or [])
    )
    app_overrides = {o.application_id for o in rec.overrides if o.application_id}
    since = dt.datetime.combine(rec.today - dt.timedelta(days=RECENT_FLAG_DAYS), dt.time(), dt.UTC)
    blocked_diary = any(
        a.verdict == "block" and a.applied_at >= since and a.id not in app_overrides for a in rec.applications
    )
    if blocked_course or blocked_diary:
        flags.append(Flag("blocking", "block"))
    new_since = dt.datetime.combine(rec.today - dt.timedelta(days=NEW_EVENT_DAYS), dt.time(), dt.UTC)
    if any(e.created_at >= new_since or e.causality == "not_assessed" for e in rec.events):
        flags.append(Flag("new_event", "block" if any(e.serious for e in rec.events) else "warn"))
    return flags


@dataclass(frozen=True)
class Event:
    on: dt.date
    kind: str
    data: dict[str, Any]


def timeline(rec: Record) -> list[Event]:
    """Everything that happened in the course, oldest first (start, visits, milestones, decisions, events)."""
    out: list[Event] = []
    for c in rec.courses:
        out.append(Event(c.started_on, "course_start", {"course": c}))
        if c.stopped_on is not None:
            out.append(Event(c.stopped_on, "course_" + c.status, {"course": c}))
    for v in rec.visits:
        course = next((c for c in rec.courses if c.id == v.course_id), rec.course)
        out.append(Event(v.visited_on, "visit", {"visit": v, "week": visit_week(course, v)}))
    state = course_state(rec)
    if state is not None:
        for m in state.schedule:
            out.append(Event(m.on, "milestone", {"milestone": m}))
    for o in rec.overrides:
        out.append(
            Event(
                o.created_at.date(),
                "decision" if o.rule.startswith(DECISION_RULE_PREFIX) else "override",
                {"override": o},
            )
        )
    for e in rec.events:
        out.append(Event(e.onset_on, "adverse_event", {"event": e}))
    order = {"course_start": 0, "visit": 1, "milestone": 2, "decision": 3, "override": 3, "adverse_event": 4}
    out.sort(key=lambda e: (e.on, order.get(e.kind, 5)))
    return out


def progress(rec: Record) -> dict[str, Any]:
    """F-VASI and T-VASI by week of the current course, with the baseline and percent change."""
    course = rec.course
    visits = rec.course_visits(course)
    points = []
    for v in visits:
        w = visit_week(course, v)
        points.append(
            {
                "visit": v,
                "week": w if w is not None else 0,
                "f_vasi": v.f_vasi,
                "t_vasi": v.t_vasi,
                "vns": v.vns,
                "vns_success": None if v.vns is None else vns_success(v.vns),
            }
        )
    base = visits[0] if visits else None
    latest = visits[-1] if visits else None
    change: dict[str, float | None] = {}
    # scores under another instrument variant or body model measure something else: no change between them
    # (as `repigment compare` refuses; repigment.scoring.comparable)
    mixed = (
        base is not None
        and latest is not None
        and (dict(base.variant) != dict(latest.variant) or base.body_model != latest.body_model)
    )
    if base is not None and latest is not None and not mixed:
        from fractions import Fraction

        from repigment.scoring import percent_change

        for key in ("f_vasi", "t_vasi"):
            b, c = Fraction(str(getattr(base, key))), Fraction(str(getattr(latest, key)))
            pc = percent_change(b, c)
            change[key] = None if pc is None else float(pc)
    vns = [pt for pt in points if pt["vns"] is not None]
    return {
        "points": points,
        "baseline": base,
        "latest": latest,
        "change": change,
        "vns": vns,
        "mixed_variants": mixed,
    }


def sorted_desc(items: Sequence[Any], key: str) -> list[Any]:
    return sorted(items, key=lambda x: getattr(x, key), reverse=True)


# -- the use cases -----------------------------------------------------------------------------------
# Who may read the read models: as the record itself (``GET /patients/{id}``); analysts de-identified.
READ_ROLES: Final = ("clinician", "patient", "analyst")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Read(Generic[T]):
    """What a read use case found, with the access event to record for it (None: nothing to record).
    The adapter records it (``repigment.services.access_log.record``) before answering."""

    value: T
    access: AccessEvent | None


def patient_record(
    db: Session,
    actor: Principal,
    patient_id: int,
    *,
    channel: Channel,
    roles: Sequence[str] = READ_ROLES,
    today: dt.date | None = None,
    diary_days: int | None = 60,
) -> Read[Record]:
    """A patient's record to read: the role (Forbidden), then tenancy and ownership (NotFound), then the
    record with the read to record (a ``read`` of the patient row, as ``GET /patients/{id}``)."""
    require_role(actor, roles)
    patient = visible_patient(db, actor, patient_id)
    rec = load(db, patient, today, diary_days=diary_days)
    access = read_event(actor, channel, table_name="patient", row_id=patient.id, patient_id=patient.id)
    return Read(rec, access)


@dataclass(frozen=True, slots=True)
class StateView:
    """The current course's state, its attention flags and its label findings (in one language)."""

    state: CourseState | None
    flags: list[Flag]
    findings: list[dict[str, Any]]


def state_view(rec: Record, lang: str) -> StateView:
    return StateView(course_state(rec), attention(rec), course_findings(rec, lang))


def _deid(db: Session, actor: Principal, rec: Record) -> deid_out.View | None:
    return deid_out.view(db, rec.patient) if actor.role == "analyst" else None


def _when(on: dt.date | None, view: deid_out.View | None) -> dict[str, Any]:
    """``on`` as a date, or as a study day for analysts."""
    return {"on": on} if view is None else {"day": view.day(on)}


def _milestone_out(m: Any, view: deid_out.View | None) -> MilestoneOut:
    a = m.assessment
    out = MilestoneOut(name=m.name, week=m.week, status=m.status, **_when(m.on, view))
    if a is not None:
        out.repigmentation_percent = float(a.repigmentation_percent)
        if view is None:
            out.assessment_on = a.on
        else:
            out.assessment_day = view.day(a.on)
    return out


def _state_out(s: CourseState, view: deid_out.View | None) -> CourseStateOut:
    def pair(name: str, day_name: str, on: dt.date | None) -> dict[str, Any]:
        if on is None:
            return {}
        return {name: on} if view is None else {day_name: view.day(on)}

    return CourseStateOut(
        week=s.week,
        **_when(s.on, view),
        **pair("started_on", "start_day", s.started_on),
        review=_milestone_out(s.review, view),
        decision=_milestone_out(s.decision, view),
        week52_decision=s.week52_decision,
        discontinue_below_percent=float(s.discontinue_below_percent),
        **pair("last_application_on", "last_application_day", s.last_application_on),
        **pair("contraception_until", "contraception_until_day", s.contraception_until),
    )


def patient_state(
    db: Session,
    actor: Principal,
    patient_id: int,
    *,
    channel: Channel,
    lang: str = "en",
    today: dt.date | None = None,
) -> Read[PatientStateOut]:
    """The current course's week-24/52 milestones, what needs attention, and the label's findings on it
    (analysts: study days, findings without their messages)."""
    read = patient_record(db, actor, patient_id, channel=channel, today=today, diary_days=RECENT_FLAG_DAYS)
    rec = read.value
    view = _deid(db, actor, rec)
    sv = state_view(rec, lang)
    findings: list[FindingOut | DeidFindingOut] = [
        DeidFindingOut.model_validate(f) if view is not None else FindingOut.model_validate(f)
        for f in sv.findings
    ]
    course = rec.course
    out = PatientStateOut(
        patient_id=rec.patient.id,
        deidentified=view is not None,
        course_id=course.id if course else None,
        course_status=course.status if course else None,
        state=_state_out(sv.state, view) if sv.state is not None else None,
        flags=[FlagOut(kind=f.kind, severity=f.severity) for f in sv.flags],  # type: ignore[arg-type]
        findings=findings,
    )
    return Read(out, read.access)


def _event_out(e: Event, view: deid_out.View | None) -> TimelineEventOut:
    out = TimelineEventOut(kind=e.kind, **_when(e.on, view))
    full = view is None
    d = e.data
    if "course" in d:
        c = d["course"]
        out.course_id = c.id
        if e.kind != "course_start" and full:
            out.reason = c.stop_reason
    if "visit" in d:
        out.visit_id, out.course_id, out.week = d["visit"].id, d["visit"].course_id, d["week"]
    if "milestone" in d:
        out.milestone, out.status = d["milestone"].name, d["milestone"].status
    if "override" in d:
        o = d["override"]
        out.rule, out.course_id = o.rule, o.course_id
        if full:
            out.reason = o.reason
    if "event" in d:
        ae = d["event"]
        out.adverse_event_id, out.course_id, out.serious = ae.id, ae.course_id, ae.serious
        if full:
            out.term = ae.term
    return out


def patient_timeline(
    db: Session, actor: Principal, patient_id: int, *, channel: Channel, today: dt.date | None = None
) -> Read[TimelineOut]:
    """Everything that happened in the record, oldest first (``timeline``)."""
    read = patient_record(db, actor, patient_id, channel=channel, today=today)
    rec = read.value
    view = _deid(db, actor, rec)
    out = TimelineOut(
        patient_id=rec.patient.id,
        deidentified=view is not None,
        events=[_event_out(e, view) for e in timeline(rec)],
    )
    return Read(out, read.access)


def patient_progress(
    db: Session, actor: Principal, patient_id: int, *, channel: Channel, today: dt.date | None = None
) -> Read[ProgressOut]:
    """F-VASI and T-VASI by week of the current course (``progress``)."""
    read = patient_record(db, actor, patient_id, channel=channel, today=today)
    rec = read.value
    view = _deid(db, actor, rec)
    prog = progress(rec)
    points = [
        ProgressPointOut(
            visit_id=pt["visit"].id,
            **_when(pt["visit"].visited_on, view),
            week=pt["week"],
            f_vasi=pt["f_vasi"],
            t_vasi=pt["t_vasi"],
            vns=pt["vns"],
            vns_success=pt["vns_success"],
        )
        for pt in prog["points"]
    ]
    course = rec.course
    out = ProgressOut(
        patient_id=rec.patient.id,
        deidentified=view is not None,
        course_id=course.id if course else None,
        points=points,
        baseline_visit_id=prog["baseline"].id if prog["baseline"] is not None else None,
        latest_visit_id=prog["latest"].id if prog["latest"] is not None else None,
        change_percent=prog["change"],
        mixed_variants=prog["mixed_variants"],
    )
    return Read(out, read.access)


@dataclass(frozen=True, slots=True)
class Overview:
    """One row of the clinic's patient list: what needs attention first."""

    patient: Patient
    flags: list[Flag]
    course: Course | None
    state: CourseState | None
    latest: Visit | None


LIST_ROLES: Final = ("clinician",)


def clinic_overview(db: Session, actor: Principal, *, today: dt.date | None = None) -> list[Overview]:
    """The patients of the acting clinician's clinic, those with the most attention flags first (the
    flags of ``attention``, over the diary entries of the last ``RECENT_FLAG_DAYS``)."""
    require_role(actor, LIST_ROLES)
    today = today or dt.date.today()
    rows = []
    for p in db.scalars(
        select(Patient)
        .where(Patient.clinic_id == actor.clinic_id)
        .order_by(Patient.family_name, Patient.given_name, Patient.id)
    ):
        rec = load(db, p, today, diary_days=RECENT_FLAG_DAYS)
        rows.append(Overview(p, attention(rec), rec.course, course_state(rec), rec.latest))
    rows.sort(key=lambda r: (-len(r.flags), r.patient.family_name))
    return rows
