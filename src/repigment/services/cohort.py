"""A clinic's visits as de-identified long data for :mod:`repigment.outcomes` (an adapter over the store).

One row per patient and visit: ``patient_id`` (a pseudonym), ``arm``, ``week``, ``f_vasi``, ``t_vasi``,
``vns`` and the strata ``sex``, ``age_group`` and ``ruleset``. Rules (docs/outcomes.md, "A clinic's data"):

- A patient's analysis course is their first course (earliest start). Its visits are those recorded
  against it, and visits recorded without a course on or after its start.
- ``week`` is computed from the visit date and the course start (whole weeks, ``course.week_of``), never
  read from a typed week. Visits before the start are not treatment visits and are left out. The
  baseline is week 0.
- Two visits of one patient in the same week (flagged when recorded): the one recorded last counts; the
  others are counted in ``dropped_duplicate_weeks``. Patients without a week-0 visit have no baseline
  and are counted in ``excluded_no_baseline`` (the outcomes core needs exactly one baseline per patient).
- ``arm``: everyone in a clinic is treated with ruxolitinib cream, so the arm is ``ruxolitinib`` for
  every course (all packaged rulesets are rulesets of the cream); the ruleset is kept as a stratum. An
  analysis of a clinic is therefore single-arm.
- ``patient_id`` is ``HMAC-SHA256(key, "<clinic id>:<patient id>")``, first 16 hex digits: stable
  across exports, no name, reference or birth date. The key is the deployment's secret
  ``$REPIGMENT_PSEUDONYM_KEY`` (:func:`pseudonym_key`): patient ids are small integers, so with a known
  key anyone could rebuild the mapping; there is no default key. Demo mode makes its own random key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from repigment.body import age_on
from repigment.config import ConfigError, env_name, get_settings
from repigment.course import week_of
from repigment.deid import age_group
from repigment.outcomes import DEFAULT_TREATMENT
from repigment.store import Clinic, Course, Patient, Visit, data_dir

CLINIC_ARM: Final = DEFAULT_TREATMENT
STRATA: Final = ("sex", "age_group", "ruleset")
COLUMNS: Final = ("patient_id", "arm", "week", "f_vasi", "t_vasi", "vns", *STRATA)
ENV_KEY: Final = env_name("pseudonym_key")
DEMO_KEY_FILE: Final = "demo-pseudonym-key"


class PseudonymKeyError(RuntimeError):
    """No usable pseudonym key: start-up refuses (the message says what to set)."""


def pseudonym_key(demo: bool = False) -> bytes:
    """The deployment's pseudonym key: ``$REPIGMENT_PSEUDONYM_KEY``; in demo mode, when unset, a random
    key kept in the data folder (``demo-pseudonym-key``, made on first use). Refused when missing,
    shorter than ``repigment.config.MIN_KEY_LENGTH`` characters or public (the settings check the value),
    so that no two deployments share a key."""
    try:
        raw = get_settings().pseudonym_key
    except ConfigError as e:
        raise PseudonymKeyError(str(e)) from None
    if raw:
        return raw.encode()
    if demo:
        return _demo_key()
    raise PseudonymKeyError(
        f"{ENV_KEY} is not set. Analysts' cohort data carry pseudonyms made with this secret key, and "
        "without it anyone could rebuild them from the patients' ids. Set it once per deployment and "
        "keep it (changing it changes every pseudonym), for example to the output of: "
        "python3 -c 'import secrets; print(secrets.token_hex(32))'"
    )


def _demo_key() -> bytes:
    path = data_dir() / DEMO_KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def pseudonym(clinic_id: int, patient_id: int, key: bytes) -> str:
    """A stable pseudonymous id for a patient of a clinic (see the module docstring)."""
    return hmac.new(key, f"{clinic_id}:{patient_id}".encode(), hashlib.sha256).hexdigest()[:16]


@dataclass
class ClinicCohort:
    clinic: str
    data: pd.DataFrame
    patients: int = 0
    excluded_no_baseline: int = 0
    dropped_duplicate_weeks: int = 0
    dropped_before_start: int = 0
    strata: tuple[str, ...] = STRATA
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "clinic": self.clinic,
            "arm": CLINIC_ARM,
            "arm_meaning": "every patient of a clinic is treated with ruxolitinib cream: a single-arm cohort",
            "patients": self.patients,
            "patients_analysed": int(self.data["patient_id"].nunique()) if len(self.data) else 0,
            "excluded_no_baseline": self.excluded_no_baseline,
            "dropped_duplicate_weeks": self.dropped_duplicate_weeks,
            "dropped_before_start": self.dropped_before_start,
            "pseudonym": "HMAC-SHA256 of clinic and patient id (first 16 hex digits)",
        }


def clinic_by_name(db: Session, name: str) -> Clinic | None:
    return db.scalars(select(Clinic).where(Clinic.name == name)).first()


def clinic_long_data(
    db: Session,
    clinic: Clinic,
    pseudonym_secret: bytes,
    include: Callable[[Course, Patient], bool] | None = None,
) -> ClinicCohort:
    """The clinic's visits as long data (one query for the courses, one for the visits);
    ``pseudonym_secret`` is the pseudonym key (:func:`pseudonym_key`). ``include`` keeps only the
    patients for whom it is true of their analysis course (their first) and record: the analysts'
    filters, applied before anything is counted."""
    first: dict[int, tuple[Course, Patient]] = {}
    for course, patient in db.execute(
        select(Course, Patient)
        .join(Patient, Patient.id == Course.patient_id)
        .where(Patient.clinic_id == clinic.id)
        .order_by(Course.started_on, Course.id)
    ):
        first.setdefault(patient.id, (course, patient))
    if include is not None:
        first = {pid: (c, p) for pid, (c, p) in first.items() if include(c, p)}
    rows: dict[tuple[int, float], dict[str, Any]] = {}
    cohort = ClinicCohort(clinic.name, pd.DataFrame(columns=list(COLUMNS)), patients=len(first))
    visits = db.scalars(
        select(Visit)
        .join(Patient, Patient.id == Visit.patient_id)
        .where(Patient.clinic_id == clinic.id)
        .order_by(Visit.id)
    )
    for v in visits:
        if v.patient_id not in first:
            continue
        course, patient = first[v.patient_id]
        if v.course_id not in (None, course.id):
            continue
        completed_weeks = week_of(course.started_on, v.visited_on)  # from the date; a stored week is not read
        if completed_weeks < 0:
            cohort.dropped_before_start += 1
            continue
        week = float(completed_weeks)
        key = (v.patient_id, week)
        if key in rows:
            cohort.dropped_duplicate_weeks += 1
        years = float(age_on(patient.birth_date, course.started_on)[1])
        rows[key] = {
            "patient_id": pseudonym(clinic.id, patient.id, pseudonym_secret),
            "arm": CLINIC_ARM,
            "week": week,
            "f_vasi": v.f_vasi,
            "t_vasi": v.t_vasi,
            "vns": float(v.vns) if v.vns is not None else float("nan"),
            "sex": patient.sex,
            "age_group": age_group(years),
            "ruleset": course.ruleset,
        }
    with_baseline = {pid for pid, week in rows if week == 0}
    cohort.excluded_no_baseline = len(first) - len(with_baseline)
    kept = [r for (pid, _), r in sorted(rows.items(), key=lambda kv: kv[0]) if pid in with_baseline]
    if kept:
        df = pd.DataFrame(kept, columns=list(COLUMNS))
        for c in ("patient_id", "arm", *STRATA):
            df[c] = df[c].astype("category")
        cohort.data = df
    return cohort


def analyse_clinic(
    cohort: ClinicCohort,
    endpoint: str,
    week: float,
    window: float = 2.0,
    strata: tuple[str, ...] = (),
    missing: str = "observed",
    imputations: int | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """The ``repigment trial --json`` object for a clinic: single-arm, plus a ``clinic`` summary.

    The CLI (``--clinic``) and the analytics route both call this, so their JSON is the same.
    """
    from repigment.outcomes import (
        DEFAULT_CONTROL,
        DEFAULT_IMPUTATIONS,
        DEFAULT_SEED,
        OutcomesError,
        analyse_single_arm,
        derive,
    )

    if cohort.data.empty:
        raise OutcomesError(
            "clinic", f"{cohort.clinic!r} has no patient with a baseline (week 0) visit", kind="input"
        )
    data = derive(cohort.data, endpoint, week, window, CLINIC_ARM, DEFAULT_CONTROL, strata)
    res = analyse_single_arm(
        data,
        CLINIC_ARM,
        missing,  # type: ignore[arg-type]
        DEFAULT_IMPUTATIONS if imputations is None else imputations,
        DEFAULT_SEED if seed is None else seed,
    )
    res["clinic"] = cohort.summary()
    return res
