"""The diary: applications of the cream, checked by the label engine and written in batches.

Access and the role policy: ``repigment.api.routes.shared`` (docs/api.md has the matrix).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy import bindparam, select

from repigment.api.deps import (
    PatientId,
    Principal,
    authenticate,
    check_role,
    check_visible,
    csrf_guard,
)
from repigment.api.routes.shared import (
    ERRORS,
    WRITE_DIARY,
    Limit,
    Offset,
    ReadRecord,
    owned,
    page,
    unprocessable,
    view_for,
)
from repigment.services import checks
from repigment.services import deidentified as deid_out
from repigment.services.diary import DiaryWriter, EntryConflict, Job, Reader, precheck
from repigment.services.schemas import (
    ApplicationDeidentifiedOut,
    ApplicationIn,
    ApplicationOut,
    Time,
)
from repigment.store import (
    Application,
    Patient,
)
from repigment.store.prepared import Prepared

router = APIRouter()


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
    view = view_for(ctx)
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
    return [_application_for(a, view) for a in page(ctx.db, stmt, limit, offset)]


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


@router.post(
    "/patients/{patient_id}/applications",
    status_code=201,
    response_model=ApplicationOut,
    responses={
        **ERRORS,
        200: {"description": "The same entry was already stored (a retry); nothing was added"},
        409: {"description": "The id is already used by a different entry"},
    },
    tags=["diary"],
)
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
        owned(ctx.db, Application, application_id.lower(), ctx.patient, "diary entry"), view_for(ctx)
    )
