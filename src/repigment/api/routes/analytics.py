"""Outcomes analytics for analysts: the clinic's responder endpoint, as ``repigment trial --clinic --json``.

``GET /analytics/endpoints?endpoint=F-VASI75&week=24`` analyses the caller's own clinic only (the
clinic comes from the account, never from the request), from de-identified long data built by
:mod:`repigment.services.cohort`. Everyone in a clinic is on the cream, so the analysis is single-arm: per-arm
rate with Wilson and Clopper–Pearson intervals, between-arm statistics null with a note.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, Request

from repigment.api.deps import Db, Principal, require_role
from repigment.outcomes import MISSING_STRATEGIES, OutcomesError
from repigment.services.cohort import STRATA, analyse_clinic, clinic_long_data
from repigment.store import Clinic

router = APIRouter()
ANALYTICS_ROLES: Final = ("analyst",)
Analyst = Annotated[Principal, Depends(require_role(*ANALYTICS_ROLES))]
_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    401: {"description": "Not logged in"},
    403: {"description": "Only analysts read cohort analytics"},
    422: {"description": "Bad option, or no analysable data (the field is named)"},
}


@router.get("/analytics/endpoints", responses=_ERRORS, tags=["analytics"])
async def clinic_endpoint(
    request: Request,
    user: Analyst,
    db: Db,
    endpoint: Annotated[str, Query(max_length=20, description="F-VASI25/50/75/90, T-VASI50/75 or VNS4-5")] = (
        "F-VASI75"
    ),
    week: Annotated[float, Query(gt=0, le=520, description="Target week")] = 24.0,
    window: Annotated[float, Query(ge=0, le=52, description="Visit window, weeks either side")] = 2.0,
    strata: Annotated[
        str | None, Query(max_length=100, description=f"Comma-separated, of: {', '.join(STRATA)}")
    ] = None,
    missing: Annotated[str, Query(description="observed | nri | mi")] = "observed",
    imputations: Annotated[int | None, Query(ge=2, le=200)] = None,
    seed: Annotated[int | None, Query(ge=0, le=2**32 - 1)] = None,
) -> dict[str, Any]:
    """Responder rate of one endpoint over the caller's clinic (single-arm; same JSON as the CLI)."""
    cols = tuple(s.strip() for s in (strata or "").split(",") if s.strip())
    for c in cols:
        if c not in STRATA:
            raise _unprocessable("query.strata", f"unknown stratum {c!r}; choose from {', '.join(STRATA)}")
    if missing not in MISSING_STRATEGIES:
        raise _unprocessable("query.missing", f"must be one of {', '.join(MISSING_STRATEGIES)}")
    clinic = db.get(Clinic, user.clinic_id)
    assert clinic is not None  # the account's clinic
    cohort = clinic_long_data(db, clinic, request.app.state.pseudonym_key)

    def run() -> dict[str, Any]:
        return analyse_clinic(cohort, endpoint, week, window, cols, missing, imputations, seed)

    try:
        return await anyio.to_thread.run_sync(run)
    except OutcomesError as e:
        field = f"query.{e.field}" if e.kind == "option" else e.field
        raise _unprocessable(field, e.reason) from e


def _unprocessable(field: str, reason: str) -> HTTPException:
    return HTTPException(
        422, {"message": f"{field}: {reason}", "errors": [{"field": field, "message": reason}]}
    )
