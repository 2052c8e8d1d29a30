"""Patients and their record: courses, prescriptions, visits, diary entries, adverse events, overrides.

Access (see docs/api.md for the matrix): the role is checked first (403), then the patient's clinic
and, for the patient role, ownership (404, so nothing leaks about other clinics' or patients' records).
Every write runs the core: plans and diary entries through the label engine, visits through scoring.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, TypeVar

import anyio
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from repigment.api import access_log
from repigment.api.deps import (
    Db,
    PatientContext,
    PatientId,
    Principal,
    authenticate,
    check_role,
    check_visible,
    csrf_guard,
    deidentify,
    not_found,
    patient_access,
    require_role,
)
from repigment.api.fastpath import diary_route
from repigment.course import CourseError, check_assessed, place_visit
from repigment.label import LabelInputError
from repigment.label.request import PATIENT_FLAGS, check_patient_facts
from repigment.services import checks
from repigment.services import course as course_service
from repigment.services import deidentified as deid_out
from repigment.services.diary import DiaryWriter, EntryConflict, Job, Reader, precheck
from repigment.services.schemas import (
    AdverseEventDeidentifiedOut,
    AdverseEventIn,
    AdverseEventOut,
    AdverseEventPatch,
    ApplicationDeidentifiedOut,
    ApplicationIn,
    ApplicationOut,
    CourseDeidentifiedOut,
    CourseIn,
    CourseOut,
    CoursePatch,
    DecisionIn,
    DecisionOut,
    OverrideDeidentifiedOut,
    OverrideIn,
    OverrideOut,
    PatientDeidentifiedOut,
    PatientIn,
    PatientOut,
    PatientPatch,
    PrescriptionDeidentifiedOut,
    PrescriptionIn,
    PrescriptionOut,
    PrescriptionPatch,
    Time,
    VisitDeidentifiedOut,
    VisitIn,
    VisitOut,
    _check_order,
    _check_seriousness,
)
from repigment.store import (
    AdverseEvent,
    Application,
    Base,
    Course,
    Override,
    Patient,
    Prescription,
    Visit,
)
from repigment.store.prepared import Prepared

router = APIRouter()

# Who may do what (tenancy and ownership are checked on top, see module docstring).
READ_RECORD: Final = ("clinician", "patient", "analyst")
WRITE_RECORD: Final = ("clinician",)
WRITE_DIARY: Final = ("clinician", "patient")
READ_AE: Final = ("clinician", "patient", "analyst", "safety_officer")
WRITE_AE: Final = ("clinician", "patient")
LIST_PATIENTS: Final = ("clinician", "patient", "analyst")


def audited_read(*roles: str) -> Any:
    """``patient_access``, then the read recorded in the audit trail (``repigment.api.access_log``)."""
    access = patient_access(*roles)

    async def dep(request: Request, ctx: PatientContext = Depends(access)) -> PatientContext:  # noqa: B008
        await access_log.record_read(
            request, ctx.user, table_name="patient", row_id=ctx.patient.id, patient_id=ctx.patient.id
        )
        return ctx

    return dep


ReadRecord = Annotated[PatientContext, Depends(audited_read(*READ_RECORD))]
WriteRecord = Annotated[PatientContext, Depends(patient_access(*WRITE_RECORD))]
WriteDiary = Annotated[PatientContext, Depends(patient_access(*WRITE_DIARY))]
ReadAE = Annotated[PatientContext, Depends(audited_read(*READ_AE))]
WriteAE = Annotated[PatientContext, Depends(patient_access(*WRITE_AE))]

Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items")]
Offset = Annotated[int, Query(ge=0, le=10**9, description="Skip this many items")]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]

M = TypeVar("M", bound=Base)
NOT_FOUND: Final[dict[int | str, dict[str, Any]]] = {
    404: {"description": "Not found, or not visible to the caller"}
}
FORBIDDEN: Final[dict[int | str, dict[str, Any]]] = {
    403: {"description": "The caller's role may not do this"}
}
ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    401: {"description": "Not logged in"},
    **FORBIDDEN,
    **NOT_FOUND,
}


def unprocessable(field: str, reason: str) -> HTTPException:
    return HTTPException(
        422, {"message": f"{field}: {reason}", "errors": [{"field": field, "message": reason}]}
    )


def _owned(db: Session, model: type[M], item_id: int | str, patient: Patient, what: str) -> M:
    obj = db.get(model, item_id)
    if obj is None or getattr(obj, "patient_id", None) != patient.id:
        raise not_found(what)
    return obj


def _page(db: Session, stmt: Select[Any], limit: int, offset: int) -> list[Any]:
    return list(db.scalars(stmt.limit(limit).offset(offset)).all())


def _created(response: Response, path: str) -> None:
    response.headers["Location"] = path


async def _commit(db: Session) -> None:
    """Commit in a worker thread: the fsync must not stall the event loop (reads go on meanwhile)."""
    try:
        await anyio.to_thread.run_sync(db.commit)
    except IntegrityError as e:
        db.rollback()
        raise HTTPException(
            409, "conflicts with the stored record (a referenced item changed or is gone)"
        ) from e


def _clinical(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except checks.ClinicalInputError as e:
        raise unprocessable(e.field, e.reason) from e


# -- patients ------------------------------------------------------------------------------------
def patient_out(p: Patient, view: deid_out.View | None) -> PatientOut | PatientDeidentifiedOut:
    """The patient in full, or de-identified through ``view`` (analysts)."""
    return deid_out.patient(p, view) if view is not None else PatientOut.model_validate(p)


@router.get(
    "/patients",
    response_model=list[PatientOut | PatientDeidentifiedOut],
    responses=ERRORS,
    tags=["patients"],
)
async def list_patients(
    db: Db,
    user: Annotated[Principal, Depends(require_role(*LIST_PATIENTS))],
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[PatientOut | PatientDeidentifiedOut]:
    """Patients of the caller's clinic (a patient sees only their own record; analysts de-identified)."""
    stmt = select(Patient).where(Patient.clinic_id == user.clinic_id).order_by(Patient.id)
    if user.role == "patient":
        stmt = stmt.where(Patient.user_id == user.user_id)
    found = _page(db, stmt, limit, offset)
    views = deid_out.views(db, found) if deidentify(user) else {}
    return [patient_out(p, views.get(p.id)) for p in found]


@router.post("/patients", status_code=201, response_model=PatientOut, responses=ERRORS, tags=["patients"])
async def create_patient(
    body: PatientIn,
    db: Db,
    response: Response,
    user: Annotated[Principal, Depends(require_role(*WRITE_RECORD))],
) -> PatientOut:
    """Register a patient in the caller's clinic; the response carries the new ``id``."""
    try:
        check_patient_facts(body.sex, body.model_dump())
    except LabelInputError as e:
        raise unprocessable(f"body.{e.field}", e.reason) from e
    p = Patient(clinic_id=user.clinic_id, **body.model_dump())
    db.add(p)
    await _commit(db)
    _created(response, f"/api/v1/patients/{p.id}")
    return PatientOut.model_validate(p)


@router.get(
    "/patients/{patient_id}",
    response_model=PatientOut | PatientDeidentifiedOut,
    responses=ERRORS,
    tags=["patients"],
)
async def get_patient(ctx: ReadRecord) -> PatientOut | PatientDeidentifiedOut:
    return patient_out(ctx.patient, _view(ctx))


_NOT_NULL_PATIENT: Final = frozenset(PatientPatch.model_fields) - {"external_ref"}


@router.patch("/patients/{patient_id}", response_model=PatientOut, responses=ERRORS, tags=["patients"])
async def update_patient(body: PatientPatch, ctx: WriteRecord) -> PatientOut:
    """Change some of a patient's details (only the fields sent)."""
    changes = body.model_dump(exclude_unset=True)
    for k, v in changes.items():
        if v is None and k in _NOT_NULL_PATIENT:
            raise unprocessable(f"body.{k}", "must not be null")
    if "birth_date" in changes and changes["birth_date"] > dt.date.today():
        raise unprocessable("body.birth_date", "must not be in the future")
    merged = {f: getattr(ctx.patient, f) for f in PATIENT_FLAGS} | changes
    try:
        check_patient_facts(changes.get("sex", ctx.patient.sex), merged)
    except LabelInputError as e:
        raise unprocessable(f"body.{e.field}", e.reason) from e
    for k, v in changes.items():
        setattr(ctx.patient, k, v)
    await _commit(ctx.db)
    return PatientOut.model_validate(ctx.patient)


# -- courses -------------------------------------------------------------------------------------
def _view(ctx: PatientContext) -> deid_out.View | None:
    """The patient's de-identification view when the caller is an analyst, else None."""
    return deid_out.view(ctx.db, ctx.patient) if deidentify(ctx.user) else None


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
    view = _view(ctx)
    return [_course_out(c, view) for c in _page(ctx.db, stmt, limit, offset)]


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
    verdict, findings = _clinical(
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
    await _commit(ctx.db)
    _created(response, f"/api/v1/patients/{ctx.patient.id}/courses/{c.id}")
    return CourseOut.model_validate(c)


@router.get(
    "/patients/{patient_id}/courses/{course_id}",
    response_model=CourseOut | CourseDeidentifiedOut,
    responses=ERRORS,
    tags=["courses"],
)
async def get_course(ctx: ReadRecord, course_id: ItemId) -> CourseOut | CourseDeidentifiedOut:
    return _course_out(_owned(ctx.db, Course, course_id, ctx.patient, "course"), _view(ctx))


@router.patch(
    "/patients/{patient_id}/courses/{course_id}", response_model=CourseOut, responses=ERRORS, tags=["courses"]
)
async def update_course(body: CoursePatch, ctx: WriteRecord, course_id: ItemId) -> CourseOut:
    """Pause, stop or complete a course (stopping needs a date and a reason), or change its plan."""
    c = _owned(ctx.db, Course, course_id, ctx.patient, "course")
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
        c.verdict, c.findings = _clinical(
            checks.check_plan, ctx.db, ctx.patient, c.ruleset, c.started_on, plan, on
        )
        c.plan = plan
    c.status, c.stopped_on, c.stop_reason = status, stopped_on, stop_reason
    await _commit(ctx.db)
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


# -- prescriptions -------------------------------------------------------------------------------
def _prescription_out(
    p: Prescription, view: deid_out.View | None
) -> PrescriptionOut | PrescriptionDeidentifiedOut:
    return deid_out.prescription(p, view) if view is not None else PrescriptionOut.model_validate(p)


@router.get(
    "/patients/{patient_id}/prescriptions",
    response_model=list[PrescriptionOut | PrescriptionDeidentifiedOut],
    responses=ERRORS,
    tags=["prescriptions"],
)
async def list_prescriptions(
    ctx: ReadRecord, limit: Limit = 100, offset: Offset = 0
) -> list[PrescriptionOut | PrescriptionDeidentifiedOut]:
    stmt = select(Prescription).where(Prescription.patient_id == ctx.patient.id).order_by(Prescription.id)
    view = _view(ctx)
    return [_prescription_out(p, view) for p in _page(ctx.db, stmt, limit, offset)]


@router.post(
    "/patients/{patient_id}/prescriptions",
    status_code=201,
    response_model=PrescriptionOut,
    responses=ERRORS,
    tags=["prescriptions"],
)
async def create_prescription(body: PrescriptionIn, ctx: WriteRecord, response: Response) -> PrescriptionOut:
    """Prescribe (and optionally record the dispensing and first opening of) a quantity of cream."""
    if body.course_id is not None:
        _clinical(checks.course_for, ctx.db, ctx.patient.id, body.course_id, body.prescribed_on)
    p = Prescription(patient_id=ctx.patient.id, created_by=ctx.user.user_id, **body.model_dump())
    ctx.db.add(p)
    await _commit(ctx.db)
    _created(response, f"/api/v1/patients/{ctx.patient.id}/prescriptions/{p.id}")
    return PrescriptionOut.model_validate(p)


@router.get(
    "/patients/{patient_id}/prescriptions/{prescription_id}",
    response_model=PrescriptionOut | PrescriptionDeidentifiedOut,
    responses=ERRORS,
    tags=["prescriptions"],
)
async def get_prescription(
    ctx: ReadRecord, prescription_id: ItemId
) -> PrescriptionOut | PrescriptionDeidentifiedOut:
    return _prescription_out(
        _owned(ctx.db, Prescription, prescription_id, ctx.patient, "prescription"), _view(ctx)
    )


@router.patch(
    "/patients/{patient_id}/prescriptions/{prescription_id}",
    response_model=PrescriptionOut,
    responses=ERRORS,
    tags=["prescriptions"],
)
async def update_prescription(
    body: PrescriptionPatch, ctx: WriteRecord, prescription_id: ItemId
) -> PrescriptionOut:
    """Record the dispensing or first opening of the tube."""
    p = _owned(ctx.db, Prescription, prescription_id, ctx.patient, "prescription")
    changes = body.model_dump(exclude_unset=True)
    merged = {"dispensed_on": p.dispensed_on, "opened_on": p.opened_on} | changes
    try:
        _check_order(p.prescribed_on, merged["dispensed_on"], merged["opened_on"])
    except ValueError as e:
        raise unprocessable("body", str(e)) from e
    for k, v in changes.items():
        setattr(p, k, v)
    await _commit(ctx.db)
    return PrescriptionOut.model_validate(p)


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
    view = _view(ctx)
    return [_visit_out(v, view) for v in _page(ctx.db, stmt, limit, offset)]


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
    await _commit(ctx.db)
    _created(response, f"/api/v1/patients/{ctx.patient.id}/visits/{v.id}")
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
    result = _clinical(checks.score_visit, patient, body.visited_on, patches, variant)
    course = _clinical(checks.course_for, db, patient.id, body.course_id, body.visited_on)
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
        _clinical(checks.check_course_assessment, course, patient, [*earlier, v], body.visited_on)
    return v


@router.get(
    "/patients/{patient_id}/visits/{visit_id}",
    response_model=VisitOut | VisitDeidentifiedOut,
    responses=ERRORS,
    tags=["visits"],
)
async def get_visit(ctx: ReadRecord, visit_id: ItemId) -> VisitOut | VisitDeidentifiedOut:
    return _visit_out(_owned(ctx.db, Visit, visit_id, ctx.patient, "visit"), _view(ctx))


# -- applications (diary) ------------------------------------------------------------------------
def application_out(a: Application | Mapping[str, Any]) -> ApplicationOut:
    """A diary entry in full (for the clinic and the patient; analysts: ``_application_deid``)."""
    v = _application_values(a)
    return ApplicationOut(
        id=v["id"],
        patient_id=v["patient_id"],
        course_id=v["course_id"],
        at=v["applied_at"].astimezone(dt.UTC),
        hand_units=v["hand_units"],
        grams=v["grams"],
        sites=v["sites"],
        note=v["note"],
        verdict=v["verdict"],
        flagged=v["flagged"],
        findings=v["findings"],
        created_at=v["created_at"],
    )


_APPLICATION_COLUMNS: Final = tuple(Application.__table__.columns)


def _application_values(a: Application | Mapping[str, Any]) -> Mapping[str, Any]:
    return a if isinstance(a, Mapping) else {c.key: getattr(a, c.key) for c in _APPLICATION_COLUMNS}


def _application_for(
    a: Application, view: deid_out.View | None
) -> ApplicationOut | ApplicationDeidentifiedOut:
    if view is not None:
        return deid_out.application(_application_values(a), view)
    return application_out(a)


@router.get(
    "/patients/{patient_id}/applications",
    response_model=list[ApplicationOut | ApplicationDeidentifiedOut],
    responses=ERRORS,
    tags=["diary"],
)
async def list_applications(
    ctx: ReadRecord,
    limit: Limit = 100,
    offset: Offset = 0,
    since: Annotated[Time | None, Query(description="Only entries at or after this time")] = None,
    until: Annotated[Time | None, Query(description="Only entries before this time")] = None,
    flagged: Annotated[bool | None, Query(description="Only flagged (or only unflagged) entries")] = None,
) -> list[ApplicationOut | ApplicationDeidentifiedOut]:
    view = _view(ctx)
    if view is not None:
        # Times asked about would give the entries' times back, one question at a time.
        for name, value in (("since", since), ("until", until)):
            if value is not None:
                raise unprocessable(
                    f"query.{name}", "analysts see days since the course start, not times: leave it out"
                )
    stmt = select(Application).where(Application.patient_id == ctx.patient.id)
    if since is not None:
        stmt = stmt.where(Application.applied_at >= since)
    if until is not None:
        stmt = stmt.where(Application.applied_at < until)
    if flagged is not None:
        stmt = stmt.where(Application.flagged == flagged)
    stmt = stmt.order_by(Application.applied_at, Application.id)
    return [_application_for(a, view) for a in _page(ctx.db, stmt, limit, offset)]


@dataclass(frozen=True, slots=True)
class DiaryTarget:
    user: Principal
    patient: Any  # the patient row


_PATIENT_ROW: Final = Prepared(select(Patient.__table__).where(Patient.__table__.c.id == bindparam("id")))


async def diary_access(
    request: Request, patient_id: PatientId, _csrf: Annotated[None, Depends(csrf_guard)]
) -> DiaryTarget:
    """``patient_access`` for diary writes, without a write session (the entry is written in a batch)."""
    return diary_target(request, patient_id)


def diary_target(request: Request, patient_id: int) -> DiaryTarget:
    """The caller (401), their role (403) and the patient if theirs to write for (404)."""
    with diary_reader(request).snapshot() as conn:  # reads only: never waits for a writer
        user = check_role(authenticate(request, conn), _WRITE_DIARY)
        patient = _PATIENT_ROW.first(conn, {"id": patient_id})
    return DiaryTarget(user, check_visible(user, patient))


_WRITE_DIARY: Final = frozenset(WRITE_DIARY)


def diary_writer(request: Request) -> DiaryWriter:
    writer: DiaryWriter = request.app.state.diary_writer
    return writer


def diary_reader(request: Request) -> Reader:
    reader: Reader = request.app.state.diary_reader
    return reader


async def write_diary_entry(
    request: Request, user: Principal, patient: Any, body: ApplicationIn, response: Response
) -> ApplicationOut:
    """Store one entry (the API and the patient's diary page): 201 when added, 200 for a retry."""
    try:
        with diary_reader(request).snapshot() as conn:
            check = precheck(conn, patient, body)  # here, so that worker processes share this work
        stored = await diary_writer(request).write(Job(patient, body, user.user_id, user.actor, check))
    except checks.ClinicalInputError as e:
        raise unprocessable(e.field, e.reason) from e
    except EntryConflict as e:
        raise HTTPException(409, str(e)) from e
    response.status_code = 201 if stored.created else 200
    response.headers["Location"] = f"/api/v1/patients/{patient.id}/applications/{stored.row['id']}"
    return application_out(stored.row)


async def create_application(
    body: ApplicationIn,
    target: Annotated[DiaryTarget, Depends(diary_access)],
    request: Request,
    response: Response,
) -> ApplicationOut:
    """Log an application of the cream. It is checked against the label and always stored: an entry
    that breaks a rule is flagged (``flagged``, ``verdict``, ``findings``), never refused. Sending the
    same ``id`` again returns the stored entry with 200 and adds nothing."""
    return await write_diary_entry(request, target.user, target.patient, body, response)


router.add_api_route(
    "/patients/{patient_id}/applications",
    create_application,
    methods=["POST"],
    status_code=201,
    response_model=ApplicationOut,
    responses={
        **ERRORS,
        200: {"description": "The same entry was already stored (a retry); nothing was added"},
        409: {"description": "The id is already used by a different entry"},
    },
    tags=["diary"],
    route_class_override=diary_route(diary_target, write_diary_entry),  # its lean handler: api/fastpath.py
)


@router.get(
    "/patients/{patient_id}/applications/{application_id}",
    response_model=ApplicationOut | ApplicationDeidentifiedOut,
    responses=ERRORS,
    tags=["diary"],
)
async def get_application(
    ctx: ReadRecord, application_id: Annotated[str, Path(min_length=1, max_length=36)]
) -> ApplicationOut | ApplicationDeidentifiedOut:
    return _application_for(
        _owned(ctx.db, Application, application_id.lower(), ctx.patient, "diary entry"), _view(ctx)
    )


# -- adverse events ------------------------------------------------------------------------------
def _ae_out(e: AdverseEvent, view: deid_out.View | None) -> AdverseEventOut | AdverseEventDeidentifiedOut:
    return deid_out.adverse_event(e, view) if view is not None else AdverseEventOut.model_validate(e)


@router.get(
    "/patients/{patient_id}/adverse-events",
    response_model=list[AdverseEventOut | AdverseEventDeidentifiedOut],
    responses=ERRORS,
    tags=["adverse events"],
)
async def list_adverse_events(
    ctx: ReadAE, limit: Limit = 100, offset: Offset = 0
) -> list[AdverseEventOut | AdverseEventDeidentifiedOut]:
    stmt = select(AdverseEvent).where(AdverseEvent.patient_id == ctx.patient.id).order_by(AdverseEvent.id)
    view = _view(ctx)
    return [_ae_out(e, view) for e in _page(ctx.db, stmt, limit, offset)]


@router.post(
    "/patients/{patient_id}/adverse-events",
    status_code=201,
    response_model=AdverseEventOut,
    responses=ERRORS,
    tags=["adverse events"],
)
async def create_adverse_event(body: AdverseEventIn, ctx: WriteAE, response: Response) -> AdverseEventOut:
    """Report an adverse event (patients report their own; causality is assessed by the clinician)."""
    if ctx.user.role == "patient" and body.causality != "not_assessed":
        raise unprocessable("body.causality", "is assessed by the clinician; leave it out when reporting")
    if body.onset_on < ctx.patient.birth_date:
        raise unprocessable("body.onset_on", "is before the patient's birth date")
    if body.course_id is not None:
        _clinical(checks.course_for, ctx.db, ctx.patient.id, body.course_id, body.onset_on)
    e = AdverseEvent(
        patient_id=ctx.patient.id,
        reporter_id=ctx.user.user_id,
        reporter_role=ctx.user.role,
        **body.model_dump(),
    )
    ctx.db.add(e)
    await _commit(ctx.db)
    _created(response, f"/api/v1/patients/{ctx.patient.id}/adverse-events/{e.id}")
    return AdverseEventOut.model_validate(e)


@router.get(
    "/patients/{patient_id}/adverse-events/{event_id}",
    response_model=AdverseEventOut | AdverseEventDeidentifiedOut,
    responses=ERRORS,
    tags=["adverse events"],
)
async def get_adverse_event(ctx: ReadAE, event_id: ItemId) -> AdverseEventOut | AdverseEventDeidentifiedOut:
    return _ae_out(_owned(ctx.db, AdverseEvent, event_id, ctx.patient, "adverse event"), _view(ctx))


@router.patch(
    "/patients/{patient_id}/adverse-events/{event_id}",
    response_model=AdverseEventOut,
    responses=ERRORS,
    tags=["adverse events"],
)
async def update_adverse_event(
    body: AdverseEventPatch, ctx: WriteRecord, event_id: ItemId
) -> AdverseEventOut:
    """Follow up an event: seriousness, outcome, causality assessment."""
    e = _owned(ctx.db, AdverseEvent, event_id, ctx.patient, "adverse event")
    changes = body.model_dump(exclude_unset=True)
    for k in ("serious", "seriousness_criteria", "outcome", "causality"):
        if k in changes and changes[k] is None:
            raise unprocessable(f"body.{k}", "must not be null")
    try:
        _check_seriousness(
            changes.get("serious", e.serious), changes.get("seriousness_criteria", e.seriousness_criteria)
        )
    except ValueError as err:
        raise unprocessable("body", str(err)) from err
    for k, v in changes.items():
        setattr(e, k, v)
    await _commit(ctx.db)
    return AdverseEventOut.model_validate(e)


@router.get(
    "/adverse-events",
    response_model=list[AdverseEventOut | AdverseEventDeidentifiedOut],
    responses=ERRORS,
    tags=["adverse events"],
)
async def clinic_adverse_events(
    db: Db,
    user: Annotated[Principal, Depends(require_role("clinician", "analyst", "safety_officer"))],
    limit: Limit = 100,
    offset: Offset = 0,
    serious: Annotated[bool | None, Query(description="Only serious (or only non-serious) events")] = None,
) -> list[AdverseEventOut | AdverseEventDeidentifiedOut]:
    """All adverse events of the caller's clinic, newest first (for safety review)."""
    stmt = (
        select(AdverseEvent)
        .join(Patient, Patient.id == AdverseEvent.patient_id)
        .where(Patient.clinic_id == user.clinic_id)
    )
    if serious is not None:
        stmt = stmt.where(AdverseEvent.serious == serious)
    stmt = stmt.order_by(AdverseEvent.id.desc())
    events = _page(db, stmt, limit, offset)
    if not deidentify(user):
        return [_ae_out(e, None) for e in events]
    patients = db.scalars(select(Patient).where(Patient.id.in_({e.patient_id for e in events}))).all()
    views = deid_out.views(db, patients)
    return [_ae_out(e, views[e.patient_id]) for e in events]


# -- overrides -----------------------------------------------------------------------------------
@router.get(
    "/patients/{patient_id}/overrides",
    response_model=list[OverrideOut | OverrideDeidentifiedOut],
    responses=ERRORS,
    tags=["overrides"],
)
async def list_overrides(
    ctx: ReadRecord, limit: Limit = 100, offset: Offset = 0
) -> list[OverrideOut | OverrideDeidentifiedOut]:
    stmt = select(Override).where(Override.patient_id == ctx.patient.id).order_by(Override.id)
    view = _view(ctx)
    found = _page(ctx.db, stmt, limit, offset)
    if view is None:
        return [OverrideOut.model_validate(o) for o in found]
    return [deid_out.override(o, view) for o in found]


@router.post(
    "/patients/{patient_id}/overrides",
    status_code=201,
    response_model=OverrideOut,
    responses=ERRORS,
    tags=["overrides"],
)
async def create_override(body: OverrideIn, ctx: WriteRecord) -> OverrideOut:
    """Record a clinician's decision to proceed despite a label finding: which rule, and why."""
    if body.course_id is not None:
        _clinical(checks.course_for, ctx.db, ctx.patient.id, body.course_id, dt.date.max)
    if body.application_id is not None:
        a = ctx.db.get(Application, body.application_id)
        if a is None or a.patient_id != ctx.patient.id:
            raise unprocessable("body.application_id", "no such diary entry for this patient")
    o = Override(patient_id=ctx.patient.id, user_id=ctx.user.user_id, **body.model_dump())
    ctx.db.add(o)
    await _commit(ctx.db)
    return OverrideOut.model_validate(o)
