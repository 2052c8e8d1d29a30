"""The read models of a patient's record: course state with attention flags and findings, timeline,
progress (``repigment.services.records``). Who may read them: as the record itself (docs/api.md);
analysts get them de-identified (study days instead of dates, no free text)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, Final, Literal, TypeVar

import anyio
from fastapi import APIRouter, Query, Request

from repigment.api import access_log
from repigment.api.deps import CurrentUser, Db, PatientId
from repigment.services import records
from repigment.services.schemas.records import PatientStateOut, ProgressOut, TimelineOut

router = APIRouter(tags=["read models"])
T = TypeVar("T")

ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    401: {"description": "Not logged in"},
    403: {"description": "The caller's role may not read the record (safety officers, administrators)"},
    404: {"description": "Not found, or not visible to the caller"},
}
Lang = Annotated[Literal["en", "sv"], Query(description="Language of the findings' messages")]


async def _read(request: Request, use_case: Callable[..., records.Read[T]], *args: Any, **kw: Any) -> T:
    """Run the read use case off the event loop, then record the access it names."""
    read = await anyio.to_thread.run_sync(
        functools.partial(use_case, *args, channel=access_log.channel(request), **kw)
    )
    await access_log.record_event(request, read.access)
    return read.value


@router.get("/patients/{patient_id}/state", response_model=PatientStateOut, responses=ERRORS)
async def patient_state(
    request: Request, patient_id: PatientId, db: Db, user: CurrentUser, lang: Lang = "en"
) -> PatientStateOut:
    """The current course (the latest active one, else the latest): its week, the week-24 review and
    week-52 decision with their status (SmPC 4.2), what needs the clinic's attention (the patient list's
    flags) and the label's findings on the course, as the patient page shows them."""
    return await _read(request, records.patient_state, db, user, patient_id, lang=lang)


@router.get("/patients/{patient_id}/timeline", response_model=TimelineOut, responses=ERRORS)
async def patient_timeline(request: Request, patient_id: PatientId, db: Db, user: CurrentUser) -> TimelineOut:
    """Everything that happened in the record, oldest first: course starts and stops, visits (with the
    week of treatment), milestones, decisions, overrides, adverse events."""
    return await _read(request, records.patient_timeline, db, user, patient_id)


@router.get("/patients/{patient_id}/progress", response_model=ProgressOut, responses=ERRORS)
async def patient_progress(request: Request, patient_id: PatientId, db: Db, user: CurrentUser) -> ProgressOut:
    """F-VASI and T-VASI by week of the current course, and their change since its baseline visit."""
    return await _read(request, records.patient_progress, db, user, patient_id)
