"""What the record's routes share: the access dependencies, paging, running a use case.

Access (see docs/api.md for the matrix; the rule is ``repigment.services.access``): the role is checked
first (403), then the patient's clinic and, for the patient role, ownership (404, so nothing leaks about
other clinics' or patients' records). The use cases (``repigment.services``) do the work and raise the
application's errors, which ``repigment.api.app`` maps to HTTP.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, Final, ParamSpec, TypeVar

import anyio
from fastapi import Depends, Path, Query, Request, Response

from repigment.api import access_log
from repigment.api.deps import PatientContext, patient_access
from repigment.services.access import (
    LIST_PATIENTS,
    READ_AE,
    READ_RECORD,
    WRITE_AE,
    WRITE_DIARY,
    WRITE_RECORD,
)

__all__ = ["LIST_PATIENTS", "READ_AE", "READ_RECORD", "WRITE_AE", "WRITE_DIARY", "WRITE_RECORD"]

P = ParamSpec("P")
R = TypeVar("R")


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


def created(response: Response, path: str) -> None:
    response.headers["Location"] = path


async def write(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """A writing use case in a worker thread: its commit's fsync must not stall the event loop."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
