"""The diary: applications of the cream, checked by the label engine and written in batches (use cases:
``repigment.services.applications``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import bindparam, select

from repigment.api.deps import (
    PatientId,
    Principal,
    authenticate,
    check_role,
    check_visible,
    csrf_guard,
)
from repigment.api.fastpath import diary_route
from repigment.api.routes.shared import (
    ERRORS,
    WRITE_DIARY,
    Limit,
    Offset,
    ReadRecord,
)
from repigment.services import applications
from repigment.services.diary import DiaryWriter, Reader
from repigment.services.schemas import (
    ApplicationDeidentifiedOut,
    ApplicationIn,
    ApplicationOut,
    Time,
)
from repigment.store import Patient
from repigment.store.prepared import Prepared

router = APIRouter()

application_out = applications.application_out


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
    return applications.list_applications(
        ctx.db, ctx.user, ctx.patient, limit, offset, since=since, until=until, flagged=flagged
    )


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
    """Store one entry (the API and its fast path): 201 when added, 200 for a retry."""
    stored = await applications.log_application(
        diary_reader(request), diary_writer(request), user, patient, body
    )
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
    return applications.get_application(ctx.db, ctx.user, ctx.patient, application_id)
