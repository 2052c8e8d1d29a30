"""The analyst's cohort page: responders by endpoint and week over the own clinic's de-identified data.

Numbers come from :func:`repigment.services.analytics.cohort_overview`, the use case behind
``GET /api/v1/analytics/endpoints``; the page only reads its GET form (a filtered view is a link) and
draws the result. The downloads (CSV, Parquet) are the same rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from fastapi import APIRouter, Request, Response

from repigment.outcomes import ENDPOINT_NAMES, MISSING_STRATEGIES
from repigment.outcomes.published import published_rates
from repigment.services import analytics
from repigment.services.errors import InputError
from repigment.store import SEXES
from repigment.web import access, charts
from repigment.web.access import Db
from repigment.web.i18n import N_
from repigment.web.pages.common import page, run
from repigment.web.render import secure, translator

router = APIRouter(include_in_schema=False)
ANALYST_ROLES: Final = analytics.ANALYTICS_ROLES
# Endpoints shown: the TRuE-V primary and key secondary ones, and the VNS (F-VASI25 stays in the API).
PAGE_ENDPOINTS: Final = tuple(e for e in ENDPOINT_NAMES if e != "F-VASI25")
MISSING_LABELS: Final = {
    "observed": N_("Observed cases"),
    "nri": N_("Non-responder imputation (NRI)"),
    "mi": N_("Multiple imputation (MI)"),
}
SEX_LABELS: Final = {
    "female": N_("Female"),
    "male": N_("Male"),
    "other": N_("Other"),
    "unknown": N_("Unknown"),
}
PUBLISHED_WEEK: Final = 24.0


def _published() -> dict[str, list[dict[str, Any]]]:
    """Week-24 TRuE-V cream-arm rates per endpoint (outcomes/data/true_v.toml)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for (trial, endpoint), (treated, _) in sorted(published_rates().items()):
        out.setdefault(endpoint, []).append({"trial": trial, "rate": treated})
    return out


def _form(request: Request) -> tuple[dict[str, str], analytics.CohortFilter, str, dict[str, str]]:
    """The GET form's values, the filter they make, the missing-data method, and errors by field."""
    _ = translator(request)
    q = request.query_params
    values = {k: q.get(k, "").strip() for k in ("started_from", "started_to", "age_group", "sex", "missing")}
    values["endpoint"] = q.get("endpoint", "F-VASI75").strip()
    errors: dict[str, str] = {}
    dates: dict[str, dt.date | None] = {}
    for name in ("started_from", "started_to"):
        dates[name] = None
        if values[name]:
            try:
                dates[name] = dt.date.fromisoformat(values[name])
            except ValueError:
                errors[name] = _("Enter a date as YYYY-MM-DD.")
    if values["age_group"] and values["age_group"] not in analytics.AGE_GROUPS:
        errors["age_group"] = _("Choose an age band from the list.")
    if values["sex"] and values["sex"] not in SEXES:
        errors["sex"] = _("Choose a sex from the list.")
    missing = values["missing"] or "observed"
    if missing not in MISSING_STRATEGIES:
        errors["missing"] = _("Choose a missing-data method from the list.")
        missing = "observed"
    if values["endpoint"] not in PAGE_ENDPOINTS:
        errors["endpoint"] = _("Choose an endpoint from the list.")
        values["endpoint"] = "F-VASI75"
    if (
        not errors
        and dates["started_from"]
        and dates["started_to"]
        and dates["started_from"] > dates["started_to"]
    ):
        errors["started_to"] = _("The end of the period is before its start.")
    filters = analytics.CohortFilter(
        dates["started_from"] if "started_from" not in errors else None,
        dates["started_to"] if "started_to" not in errors else None,
        values["age_group"] if values["age_group"] and "age_group" not in errors else None,
        values["sex"] if values["sex"] and "sex" not in errors else None,
    )
    return values, filters, missing, errors


async def _overview(request: Request, db: Db, user: Any, filters: Any, missing: str) -> analytics.Overview:
    return await run(
        analytics.cohort_overview,
        db,
        user,
        request.app.state.pseudonym_key,
        missing,
        filters=filters,
        endpoints=PAGE_ENDPOINTS,
        where="query",
    )


@router.get("/analyst/cohort")
async def cohort_page(request: Request, db: Db) -> Response:
    user = await access.page_user(request, db, ANALYST_ROLES)
    values, filters, missing, errors = _form(request)
    if errors:
        return page(request, db, user, "analyst/cohort.html", status_code=422, **_context(values, errors))
    overview = await _overview(request, db, user, filters, missing)
    rows = overview.rows
    by_week = [r for r in rows if r["week"] == PUBLISHED_WEEK]
    series = [r for r in rows if r["endpoint"] == values["endpoint"]]
    published = _published()
    chart = charts.rate_chart(
        [(r["week"], r["rate"], r["wilson_low"], r["wilson_high"]) for r in series if r["n"]],
        [(PUBLISHED_WEEK, p["rate"]) for p in published.get(values["endpoint"], [])],
    )
    query = str(request.url.query)
    return page(
        request,
        db,
        user,
        "analyst/cohort.html",
        **_context(values, errors),
        missing=missing,
        week=PUBLISHED_WEEK,
        by_week=by_week,
        series=series,
        chart=chart,
        published=published,
        summary=overview.summary,
        csv_href="/analyst/cohort.csv" + ("?" + query if query else ""),
        parquet_href="/analyst/cohort.parquet" + ("?" + query if query else ""),
    )


def _context(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "endpoints": PAGE_ENDPOINTS,
        "age_groups": analytics.AGE_GROUPS,
        "sexes": SEX_LABELS,
        "missing_labels": MISSING_LABELS,
    }


async def _download(request: Request, db: Db, kind: str) -> Response:
    user = await access.page_user(request, db, ANALYST_ROLES)
    values, filters, missing, errors = _form(request)
    if errors:
        return page(request, db, user, "analyst/cohort.html", status_code=422, **_context(values, errors))
    try:
        overview = await _overview(request, db, user, filters, missing)
    except InputError as e:  # pragma: no cover - the form's checks come first
        raise access.PageError(422, e.message) from e
    name = f"cohort-{missing}"
    if kind == "csv":
        body: bytes = analytics.overview_csv(overview).encode()
        media = "text/csv; charset=utf-8"
    else:
        body = analytics.overview_parquet(overview)
        media = "application/vnd.apache.parquet"
    headers = {"Content-Disposition": f'attachment; filename="{name}.{kind}"', "Cache-Control": "no-store"}
    return secure(Response(body, media_type=media, headers=headers))


@router.get("/analyst/cohort.csv")
async def cohort_csv(request: Request, db: Db) -> Response:
    return await _download(request, db, "csv")


@router.get("/analyst/cohort.parquet")
async def cohort_parquet(request: Request, db: Db) -> Response:
    return await _download(request, db, "parquet")
