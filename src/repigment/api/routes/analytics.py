"""Outcomes analytics for analysts: the clinic's responder endpoint, as ``repigment trial --clinic --json``.

``GET /analytics/endpoints?endpoint=F-VASI75&week=24`` analyses the caller's own clinic only (the
clinic comes from the account, never from the request), from de-identified long data built by
:mod:`repigment.services.cohort`; the use case is :func:`repigment.services.analytics.endpoint_analysis`,
which the analyst's cohort page calls too. Optional filters: ``started_from``/``started_to`` (first course
start), ``age_group``, ``sex``. Everyone in a clinic is on the cream, so the analysis is single-arm: per-arm
rate with Wilson and Clopper–Pearson intervals, between-arm statistics null with a note.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any, Final

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request

from repigment.api.deps import Db, Principal, require_role
from repigment.services import analytics
from repigment.services.cohort import STRATA

router = APIRouter()
ANALYTICS_ROLES: Final = analytics.ANALYTICS_ROLES
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
    started_from: Annotated[dt.date | None, Query(description="First course started on or after")] = None,
    started_to: Annotated[dt.date | None, Query(description="First course started on or before")] = None,
    age_group: Annotated[
        str | None,
        Query(max_length=10, description="Age band at course start: <18, 18-64, 65+"),
    ] = None,
    sex: Annotated[str | None, Query(max_length=10, description="female, male, other, unknown")] = None,
) -> dict[str, Any]:
    """Responder rate of one endpoint over the caller's clinic (single-arm; same JSON as the CLI)."""
    cols = tuple(s.strip() for s in (strata or "").split(",") if s.strip())
    filters = analytics.CohortFilter(started_from, started_to, age_group or None, sex or None)
    run = functools.partial(
        analytics.endpoint_analysis,
        db,
        user,
        request.app.state.pseudonym_key,
        endpoint,
        week,
        window,
        cols,
        missing,
        imputations,
        seed,
        filters,
    )
    return await anyio.to_thread.run_sync(run)
