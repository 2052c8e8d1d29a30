"""Running the core on every write: label checks for plans and diary entries, scoring for visits.

The request handed to ``repigment.label`` is built here from the stored record, once, for the API and
the demo loader alike. Core input errors become ``ClinicalInputError`` (HTTP 422 naming the field).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from repigment.body import age_on
from repigment.label import CheckResult, LabelInputError, evaluate, evaluate_application
from repigment.label.request import PATIENT_FLAGS
from repigment.scoring import ScoringError, VasiResult, score_assessment
from repigment.store import Application, Course, Patient, Prescription, Visit
from repigment.store.prepared import Prepared, pipeline

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


def patient_facts(p: Any) -> dict[str, Any]:
    """The label engine's patient facts from a stored patient (object or row)."""
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


def check_course_assessment(course: Any, patient: Patient, visits: Sequence[Visit], on: dt.date) -> None:
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


_DISPENSED: Final = Prepared(
    select(Prescription.dispensed_on, Prescription.grams, Prescription.opened_on)
    .where(
        Prescription.patient_id == bindparam("pid"),
        Prescription.dispensed_on.is_not(None),
        Prescription.dispensed_on <= bindparam("on"),
        Prescription.dispensed_on >= bindparam("since"),
    )
    .order_by(Prescription.dispensed_on, Prescription.id)
)


def _dispensed(db: Session | Connection, patient_id: int, on: dt.date) -> list[dict[str, Any]]:
    return _dispensed_rows(_DISPENSED.send(_conn(db), _dispensed_params(patient_id, on)).all(), on)


def _dispensed_params(patient_id: int, on: dt.date) -> dict[str, Any]:
    return {"pid": patient_id, "on": on, "since": on - dt.timedelta(days=DISPENSED_DAYS)}


def _dispensed_rows(rows: list[Any], on: dt.date) -> list[dict[str, Any]]:
    out = []
    for dispensed_on, grams, opened_on in rows:
        assert dispensed_on is not None  # selected for
        d: dict[str, Any] = {"on": dispensed_on.isoformat(), "grams": grams}
        if opened_on is not None and opened_on <= on:
            d["opened_on"] = opened_on.isoformat()
        out.append(d)
    return out


_COURSE: Final = select(Course.id, Course.patient_id, Course.ruleset, Course.started_on, Course.plan)
_COURSE_BY_ID: Final = Prepared(_COURSE.where(Course.id == bindparam("cid")))
_LATEST_COURSE: Final = Prepared(
    _COURSE.where(Course.patient_id == bindparam("pid"), Course.started_on <= bindparam("on"))
    .order_by(Course.started_on.desc(), Course.id.desc())
    .limit(1)
)
_IN_WINDOW: Final = (
    Application.patient_id == bindparam("pid"),
    Application.applied_at >= bindparam("since"),
    Application.applied_at < bindparam("until"),
)
_ENTRY_COLUMNS: Final = (Application.applied_at, Application.hand_units, Application.grams, Application.sites)
_HISTORY_IDS: Final = Prepared(
    select(Application.id).where(*_IN_WINDOW).order_by(Application.applied_at, Application.id)
)
_HISTORY: Final = Prepared(
    select(Application.id, *_ENTRY_COLUMNS)
    .where(*_IN_WINDOW)
    .order_by(Application.applied_at, Application.id)
)
_ENTRY_BY_ID: Final = Prepared(select(*_ENTRY_COLUMNS).where(Application.id == bindparam("id")))
_HISTORY_COUNT: Final = Prepared(select(func.count()).select_from(Application).where(*_IN_WINDOW))

# Diary entries as handed to the label engine, by id. A stored entry never changes (there is no update
# or delete of a diary entry), so an entry read once serves every later check of the same patient;
# which entries are in a check's window is always read from the database. Only committed entries are
# kept (read outside any write transaction), so an entry whose write was rolled back is never kept.
# Kept per database (URL), dropped whole when full.
_ENTRIES: Final[dict[str, dict[str, dict[str, Any]]]] = {}
_ENTRIES_MAX: Final = 1 << 16
_FETCH_ONE_BY_ONE: Final = 4  # more entries missing than this: read the whole window in one query


def _conn(db: Session | Connection) -> Connection:
    return db.connection() if isinstance(db, Session) else db  # Core: plain rows, no ORM machinery


def course_for(db: Session | Connection, patient_id: int, course_id: int | None, on: dt.date) -> Any | None:
    """The named course of this patient (422 if it is not theirs), else the latest started by ``on``:
    a row with ``id``, ``patient_id``, ``ruleset``, ``started_on`` and ``plan``."""
    return _ask_course(_conn(db), patient_id, course_id, on)()


def _ask_course(conn: Connection, patient_id: int, course_id: int | None, on: dt.date) -> Callable[[], Any]:
    """``course_for``'s query sent; its answer when called."""
    if course_id is None:
        return _LATEST_COURSE.send(conn, {"pid": patient_id, "on": on}).first
    pending = _COURSE_BY_ID.send(conn, {"cid": course_id})

    def answer() -> Any:
        course = pending.first()
        if course is None or course.patient_id != patient_id:
            raise ClinicalInputError("body.course_id", f"no course {course_id} for this patient")
        return course

    return answer


def _entry(
    applied_at: dt.datetime, hand_units: float, grams: float | None, sites: list[str]
) -> dict[str, Any]:
    e: dict[str, Any] = {"at": applied_at.isoformat(), "hand_units": hand_units}
    if grams is not None:
        e["grams"] = grams
    if sites:
        e["sites"] = list(sites)
    return e


@dataclass(frozen=True, slots=True)
class DiaryCheck:
    """A diary entry's label check and the stored facts it was computed from, so that a check made
    before the entry's write transaction can be confirmed inside it (``check_is_current``)."""

    course: Any | None  # ``course_for``'s row
    history: int  # entries in the window: they are never changed or deleted, so the count names them
    dispensed: list[dict[str, Any]]
    verdict: str
    findings: list[dict[str, Any]]


def _window(at: dt.datetime, zone: ZoneInfo) -> tuple[dt.date, dict[str, Any]]:
    """The entry's local day, and the diary history handed to the engine (up to its local day's end)."""
    local_day = at.astimezone(zone).date()
    until = dt.datetime.combine(local_day + dt.timedelta(days=1), dt.time(), zone)
    return local_day, {"since": at - dt.timedelta(days=HISTORY_DAYS), "until": until}


def check_application(
    db: Session | Connection,
    patient: Any,
    course_id: int | None,
    at: dt.datetime,
    hand_units: float,
    grams: float | None,
    sites: Sequence[str],
    *,
    remember: bool = False,
) -> DiaryCheck:
    """The findings that concern this diary entry, given the patient's course and recent diary.

    ``patient``: a stored patient (object or row); ``course_id``: the entry's course, else the latest.
    ``remember``: ``db`` reads committed data only (no write transaction), so the diary entries it
    reads may be kept for later checks."""
    conn = _conn(db)
    with pipeline(conn):
        return ask_check(conn, patient, course_id, at, remember=remember)(hand_units, grams, sites)


class AskedCheck:
    """``check_application`` in two steps (``ask_check``): its reads sent, then the check made when
    called (or the answers read and dropped, ``drop``)."""

    def __init__(
        self, conn: Connection, patient: Any, course_id: int | None, at: dt.datetime, *, remember: bool
    ) -> None:
        self.conn, self.patient, self.at, self.remember = conn, patient, at, remember
        self.local_day, self.window = _window(at, ZoneInfo(patient.timezone))
        self.course = _ask_course(conn, patient.id, course_id, self.local_day)
        self.ids = _HISTORY_IDS.send(conn, {"pid": patient.id, **self.window})
        self.dispensed = _DISPENSED.send(conn, _dispensed_params(patient.id, self.local_day))

    def drop(self) -> None:
        self.ids.all()
        self.dispensed.all()
        with contextlib.suppress(ClinicalInputError):
            self.course()

    def __call__(self, hand_units: float, grams: float | None, sites: Sequence[str]) -> DiaryCheck:
        patient = self.patient
        ids = [row[0] for row in self.ids.all()]
        dispensed = _dispensed_rows(self.dispensed.all(), self.local_day)
        course = self.course()
        history = _history(self.conn, ids, {"pid": patient.id, **self.window}, remember=self.remember)
        try:
            result = evaluate_application(
                history,
                _entry(self.at, hand_units, grams, list(sites)),
                patient_facts(patient),
                ruleset=course.ruleset if course else DEFAULT_RULESET,
                timezone=patient.timezone,
                plan=course.plan if course else None,
                dispensed=dispensed,
            )
        except LabelInputError as e:
            raise ClinicalInputError(_body_field(e.field, len(history)), e.reason) from e
        return DiaryCheck(course, len(history), dispensed, result.verdict, _findings(result))


def ask_check(
    conn: Connection, patient: Any, course_id: int | None, at: dt.datetime, *, remember: bool = False
) -> AskedCheck:
    """Send the reads of ``check_application`` now (in psycopg's pipeline mode, together with whatever
    else is sent before the first answer is read); the check is made when the result is called."""
    return AskedCheck(conn, patient, course_id, at, remember=remember)


def _history(
    conn: Connection, ids: list[str], window: dict[str, Any], *, remember: bool
) -> list[dict[str, Any]]:
    """The entries ``ids`` (the window's, in order) for the label engine, from the cache or read."""
    known = _ENTRIES.setdefault(conn.engine.url.render_as_string(), {})  # per database
    missing = [i for i in ids if i not in known]
    if len(missing) > _FETCH_ONE_BY_ONE:
        found = {row.id: _entry(*row[1:]) for row in _HISTORY.all(conn, window)}
    elif missing:
        asked = [(i, _ENTRY_BY_ID.send(conn, {"id": i})) for i in missing]  # sent together
        found = {i: _entry(*pending.one()) for i, pending in asked}
    else:
        found = {}
    if remember and found:
        if len(known) + len(found) > _ENTRIES_MAX:
            known.clear()
        known.update(found)
    return [found[i] if i in found else known[i] for i in ids]


def check_is_current(
    db: Session | Connection, check: DiaryCheck, patient: Any, course_id: int | None, at: dt.datetime
) -> bool:
    """Whether the facts ``check`` was computed from are still those stored (then so is its result)."""
    return ask_current(_conn(db), patient, course_id, at)(check)


def ask_current(
    conn: Connection, patient: Any, course_id: int | None, at: dt.datetime
) -> Callable[[DiaryCheck], bool]:
    """``check_is_current`` in two steps: its reads are sent now (with psycopg's pipeline mode, together
    with the reads of other entries of a batch), the comparison made when the returned function is
    called. Raises ``ClinicalInputError`` then, as ``course_for`` does."""
    local_day, window = _window(at, ZoneInfo(patient.timezone))
    course = _ask_course(conn, patient.id, course_id, local_day)
    count = _HISTORY_COUNT.send(conn, {"pid": patient.id, **window})
    dispensed = _DISPENSED.send(conn, _dispensed_params(patient.id, local_day))

    def current(check: DiaryCheck) -> bool:
        n, rows = count.scalar(), dispensed.all()  # every answer read, whatever the comparison
        return (
            course() == check.course
            and n == check.history
            and _dispensed_rows(rows, local_day) == check.dispensed
        )

    return current


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
