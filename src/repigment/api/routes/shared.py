"""What the record's routes share: the role policy, the access dependencies, paging, the commit.

Access (see docs/api.md for the matrix): the role is checked first (403), then the patient's clinic
and, for the patient role, ownership (404, so nothing leaks about other clinics' or patients' records).
Every write runs the core: plans and diary entries through the label engine, visits through scoring.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, TypeVar

import anyio
from fastapi import Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from repigment.api import access_log
from repigment.api.deps import (
    PatientContext,
    deidentify,
    not_found,
    patient_access,
)
from repigment.services import checks
from repigment.services import deidentified as deid_out
from repigment.store import (
    Base,
    Patient,
)

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


def owned(db: Session, model: type[M], item_id: int | str, patient: Patient, what: str) -> M:
    obj = db.get(model, item_id)
    if obj is None or getattr(obj, "patient_id", None) != patient.id:
        raise not_found(what)
    return obj


def page(db: Session, stmt: Select[Any], limit: int, offset: int) -> list[Any]:
    return list(db.scalars(stmt.limit(limit).offset(offset)).all())


def created(response: Response, path: str) -> None:
    response.headers["Location"] = path


async def commit(db: Session) -> None:
    """Commit in a worker thread: the fsync must not stall the event loop (reads go on meanwhile)."""
    try:
        await anyio.to_thread.run_sync(db.commit)
    except IntegrityError as e:
        db.rollback()
        raise HTTPException(
            409, "conflicts with the stored record (a referenced item changed or is gone)"
        ) from e


def clinical(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except checks.ClinicalInputError as e:
        raise unprocessable(e.field, e.reason) from e


def view_for(ctx: PatientContext) -> deid_out.View | None:
    """The patient's de-identification view when the caller is an analyst, else None."""
    return deid_out.view(ctx.db, ctx.patient) if deidentify(ctx.user) else None
