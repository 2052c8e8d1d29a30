"""Cohort analytics for analysts: responder endpoints of the acting analyst's own clinic.

One implementation behind ``GET /api/v1/analytics/endpoints`` and the analyst's cohort page
(``/analyst/cohort``): analysts only, the clinic from the account (never from the request), the data
de-identified by :mod:`repigment.services.cohort`. Filters narrow the cohort before the analysis: the
first course's start date, the age band at that start, and sex.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd
from sqlalchemy.orm import Session

from repigment.body import age_on
from repigment.deid import age_group
from repigment.outcomes import ENDPOINT_NAMES, MISSING_STRATEGIES, OutcomesError
from repigment.services.access import require_role
from repigment.services.acting import Principal
from repigment.services.cohort import CLINIC_ARM, STRATA, ClinicCohort, analyse_clinic, clinic_long_data
from repigment.services.errors import InputError
from repigment.store import SEXES, Clinic, Course, Patient

ANALYTICS_ROLES: Final = ("analyst",)
AGE_GROUPS: Final = tuple(age_group(y) for y in (12.0, 30.0, 70.0))  # <18, 18-64, 65+ (deid.age_group)
# The cohort page's week grid: every four weeks to the week-52 decision (TRuE-V visit schedule).
WEEKS: Final = tuple(float(w) for w in range(4, 53, 4))
CSV_COLUMNS: Final = (
    "endpoint",
    "week",
    "window",
    "missing",
    "n",
    "responders",
    "rate",
    "wilson_low",
    "wilson_high",
    "exact_low",
    "exact_high",
    "note",
)


@dataclass(frozen=True, slots=True)
class CohortFilter:
    """Which patients of the clinic are analysed (None: no restriction)."""

    started_from: dt.date | None = None
    started_to: dt.date | None = None
    age_group: str | None = None
    sex: str | None = None

    def includes(self, course: Course, patient: Patient) -> bool:
        """Whether a patient, with their analysis course, is in the filtered cohort (age at the start,
        as :mod:`repigment.services.cohort` bands it)."""
        start = course.started_on
        return (
            (self.started_from is None or start >= self.started_from)
            and (self.started_to is None or start <= self.started_to)
            and (self.sex is None or patient.sex == self.sex)
            and (
                self.age_group is None
                or age_group(float(age_on(patient.birth_date, start)[1])) == self.age_group
            )
        )

    def check(self, where: str = "query") -> None:
        if self.age_group is not None and self.age_group not in AGE_GROUPS:
            raise InputError("age_group", f"must be one of {', '.join(AGE_GROUPS)}", where)
        if self.sex is not None and self.sex not in SEXES:
            raise InputError("sex", f"must be one of {', '.join(SEXES)}", where)
        if self.started_from and self.started_to and self.started_from > self.started_to:
            raise InputError("started_to", "must not be before started_from", where)


def _check_options(strata: tuple[str, ...], missing: str, where: str) -> None:
    for c in strata:
        if c not in STRATA:
            raise InputError("strata", f"unknown stratum {c!r}; choose from {', '.join(STRATA)}", where)
    if missing not in MISSING_STRATEGIES:
        raise InputError("missing", f"must be one of {', '.join(MISSING_STRATEGIES)}", where)


def clinic_cohort(
    db: Session, user: Principal, pseudonym_secret: bytes, filters: CohortFilter
) -> ClinicCohort:
    """The analyst's own clinic as de-identified long data, narrowed by ``filters``."""
    require_role(user, ANALYTICS_ROLES)
    filters.check()
    clinic = db.get(Clinic, user.clinic_id)
    assert clinic is not None  # the account's clinic
    return clinic_long_data(db, clinic, pseudonym_secret, include=filters.includes)


def _analyse(
    cohort: ClinicCohort,
    endpoint: str,
    week: float,
    window: float,
    strata: tuple[str, ...],
    missing: str,
    imputations: int | None,
    seed: int | None,
    where: str,
) -> dict[str, Any]:
    try:
        return analyse_clinic(cohort, endpoint, week, window, strata, missing, imputations, seed)
    except OutcomesError as e:
        raise InputError(e.field, e.reason, where if e.kind == "option" else None) from e


def endpoint_analysis(
    db: Session,
    user: Principal,
    pseudonym_secret: bytes,
    endpoint: str = "F-VASI75",
    week: float = 24.0,
    window: float = 2.0,
    strata: tuple[str, ...] = (),
    missing: str = "observed",
    imputations: int | None = None,
    seed: int | None = None,
    filters: CohortFilter = CohortFilter(),
    where: str = "query",
) -> dict[str, Any]:
    """One endpoint at one week over the clinic (single-arm; the ``repigment trial --json`` object).

    Refusals: ``Forbidden`` for a role other than analyst; ``InputError`` naming the option (``where``
    the caller sent it) or the core's field (``arm``: no analysable patient at that week)."""
    require_role(user, ANALYTICS_ROLES)
    _check_options(strata, missing, where)
    cohort = clinic_cohort(db, user, pseudonym_secret, filters)
    return _analyse(cohort, endpoint, week, window, strata, missing, imputations, seed, where)


@dataclass
class Overview:
    """Every endpoint at every week of the grid for one missing-data method: one row per cell."""

    rows: list[dict[str, Any]]
    summary: dict[str, Any]


def cohort_overview(
    db: Session,
    user: Principal,
    pseudonym_secret: bytes,
    missing: str = "observed",
    window: float = 2.0,
    filters: CohortFilter = CohortFilter(),
    weeks: tuple[float, ...] = WEEKS,
    endpoints: tuple[str, ...] = ENDPOINT_NAMES,
    where: str = "query",
) -> Overview:
    """Each cell is :func:`endpoint_analysis` of that endpoint and week (same cohort, same call of the
    core); a cell the core refuses (no patient at that week, MI of VNS) keeps the reason in ``note``."""
    require_role(user, ANALYTICS_ROLES)
    _check_options((), missing, where)
    cohort = clinic_cohort(db, user, pseudonym_secret, filters)
    rows: list[dict[str, Any]] = []
    for ep in endpoints:
        for week in weeks:
            row: dict[str, Any] = dict.fromkeys(CSV_COLUMNS)
            row |= {"endpoint": ep, "week": week, "window": window, "missing": missing}
            try:
                res = _analyse(cohort, ep, week, window, (), missing, None, None, where)
            except InputError as e:
                row["note"] = e.reason
                rows.append(row)
                continue
            arm = res["arms"][CLINIC_ARM]
            row |= {
                "n": arm["n"],
                "responders": arm["responders"],
                "rate": arm["rate"],
                "wilson_low": arm["wilson_ci"][0],
                "wilson_high": arm["wilson_ci"][1],
                "exact_low": arm["exact_ci"][0],
                "exact_high": arm["exact_ci"][1],
                "note": "",
            }
            rows.append(row)
    return Overview(rows, cohort.summary())


def overview_frame(overview: Overview) -> pd.DataFrame:
    return pd.DataFrame(overview.rows, columns=list(CSV_COLUMNS))


def overview_csv(overview: Overview) -> str:
    return str(overview_frame(overview).to_csv(index=False, lineterminator="\n"))


def overview_parquet(overview: Overview) -> bytes:
    buf = io.BytesIO()
    overview_frame(overview).to_parquet(buf, index=False)
    return buf.getvalue()
