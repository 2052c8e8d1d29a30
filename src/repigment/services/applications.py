"""Use cases of the diary: an application of the cream logged (checked by the label engine, written in
the diary's batches: ``repigment.services.diary``), the entries read back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from repigment.services import access, checks
from repigment.services import deidentified as deid_out
from repigment.services.acting import Principal
from repigment.services.diary import DiaryWriter, EntryConflict, Job, Reader, Stored, precheck
from repigment.services.errors import Conflict, InputError
from repigment.services.rows import input_error, owned, page
from repigment.services.schemas import ApplicationDeidentifiedOut, ApplicationIn, ApplicationOut
from repigment.store import Application

_COLUMNS: Final = tuple(Application.__table__.columns)


def application_out(a: Application | Mapping[str, Any]) -> ApplicationOut:
    """A diary entry in full (for the clinic and the patient; analysts: ``application_for``)."""
    v = _values(a)
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


def _values(a: Application | Mapping[str, Any]) -> Mapping[str, Any]:
    return a if isinstance(a, Mapping) else {c.key: getattr(a, c.key) for c in _COLUMNS}


def application_for(
    a: Application, view: deid_out.View | None
) -> ApplicationOut | ApplicationDeidentifiedOut:
    if view is not None:
        return deid_out.application(_values(a), view)
    return application_out(a)


def list_applications(
    db: Session,
    actor: Principal,
    patient: Any,
    limit: int = 100,
    offset: int = 0,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    flagged: bool | None = None,
) -> list[ApplicationOut | ApplicationDeidentifiedOut]:
    """The patient's entries in time order, optionally from ``since`` and before ``until``."""
    access.require_role(actor, access.READ_RECORD)
    view = access.view_for(db, actor, patient)
    if view is not None:
        # Times asked about would give the entries' times back, one question at a time.
        for name, value in (("since", since), ("until", until)):
            if value is not None:
                raise InputError(
                    name, "analysts see days since the course start, not times: leave it out", where="query"
                )
    stmt = select(Application).where(Application.patient_id == patient.id)
    if since is not None:
        stmt = stmt.where(Application.applied_at >= since)
    if until is not None:
        stmt = stmt.where(Application.applied_at < until)
    if flagged is not None:
        stmt = stmt.where(Application.flagged == flagged)
    stmt = stmt.order_by(Application.applied_at, Application.id)
    return [application_for(a, view) for a in page(db, stmt, limit, offset)]


def get_application(
    db: Session, actor: Principal, patient: Any, application_id: str
) -> ApplicationOut | ApplicationDeidentifiedOut:
    access.require_role(actor, access.READ_RECORD)
    a = owned(db, Application, application_id.lower(), patient, "diary entry")
    return application_for(a, access.view_for(db, actor, patient))


async def log_application(
    reader: Reader, writer: DiaryWriter, actor: Principal, patient: Any, body: ApplicationIn
) -> Stored:
    """Store one entry in the diary's next batch (the API and the patient's diary page): checked against
    the label and always stored, flagged if it breaks a rule; the same entry sent again is not added
    (``Stored.created`` false). ``patient``: one the actor may see (``access.check_visible``)."""
    access.require_role(actor, access.WRITE_DIARY)
    try:
        with reader.snapshot() as conn:
            check = precheck(conn, patient, body)  # here, so that worker processes share this work
        return await writer.write(Job(patient, body, actor.user_id, actor.actor, check))
    except checks.ClinicalInputError as e:
        raise input_error(e) from e
    except EntryConflict as e:
        raise Conflict(str(e)) from e
