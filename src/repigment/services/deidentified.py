"""The record as analysts see it: the store's rows through the rules of :mod:`repigment.deid`.

Every analyst-facing output of a patient's record is built here, from the patient's day zero (the first
course's start, else the first visit), birth date and time zone, which never leave this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from repigment import deid
from repigment.services.schemas import (
    AdverseEventDeidentifiedOut,
    ApplicationDeidentifiedOut,
    CourseDeidentifiedOut,
    OverrideDeidentifiedOut,
    PatientDeidentifiedOut,
    PrescriptionDeidentifiedOut,
    VisitDeidentifiedOut,
    VisitOut,
)
from repigment.store import AdverseEvent, Course, Override, Patient, Prescription, Visit


@dataclass(frozen=True, slots=True)
class View:
    """What de-identifying one patient's rows needs (kept server-side)."""

    zero: dt.date | None
    birth_date: dt.date
    timezone: str

    def day(self, on: dt.date | None) -> int | None:
        return deid.study_day(self.zero, on)

    def age(self, on: dt.date | None) -> int:
        return deid.completed_years(self.birth_date, on or self.zero or dt.date.today())


def views(db: Session, patients: Iterable[Patient]) -> dict[int, View]:
    """Each patient's view; two grouped queries whatever the number of patients."""
    rows = {p.id: p for p in patients}
    if not rows:
        return {}
    ids = list(rows)
    starts: dict[int, dt.date] = dict(
        db.execute(
            select(Course.patient_id, func.min(Course.started_on))
            .where(Course.patient_id.in_(ids))
            .group_by(Course.patient_id)
        ).all()
    )
    first_visits: dict[int, dt.date] = dict(
        db.execute(
            select(Visit.patient_id, func.min(Visit.visited_on))
            .where(Visit.patient_id.in_(ids))
            .group_by(Visit.patient_id)
        ).all()
    )
    return {
        pid: View(
            zero=deid.day_zero(_one(starts, pid), _one(first_visits, pid)),
            birth_date=p.birth_date,
            timezone=p.timezone,
        )
        for pid, p in rows.items()
    }


def _one(found: dict[int, dt.date], pid: int) -> list[dt.date]:
    return [found[pid]] if pid in found else []


def view(db: Session, patient: Patient) -> View:
    return views(db, [patient])[patient.id]


def patient(p: Patient, v: View) -> PatientDeidentifiedOut:
    years = v.age(v.zero)
    return PatientDeidentifiedOut(
        id=p.id,
        clinic_id=p.clinic_id,
        age_years=years,
        age_group=deid.age_group(years),
        sex=p.sex,
        diagnosis=p.diagnosis,
        facial_involvement=p.facial_involvement,
        pregnant=p.pregnant,
        breastfeeding=p.breastfeeding,
        childbearing_potential=p.childbearing_potential,
        hypersensitivity=p.hypersensitivity,
        end_stage_renal_disease=p.end_stage_renal_disease,
    )


def course(c: Course, v: View) -> CourseDeidentifiedOut:
    return CourseDeidentifiedOut(
        id=c.id,
        patient_id=c.patient_id,
        ruleset=c.ruleset,
        start_day=v.day(c.started_on),
        status=c.status,
        stopped_day=v.day(c.stopped_on),
        plan=deid.plan(c.plan),
        verdict=c.verdict,  # type: ignore[arg-type]
        findings=deid.findings(c.findings),  # type: ignore[arg-type]
    )


def prescription(rx: Prescription, v: View) -> PrescriptionDeidentifiedOut:
    return PrescriptionDeidentifiedOut(
        id=rx.id,
        patient_id=rx.patient_id,
        course_id=rx.course_id,
        prescribed_day=v.day(rx.prescribed_on),
        grams=rx.grams,
        dispensed_day=v.day(rx.dispensed_on),
        opened_day=v.day(rx.opened_on),
    )


def visit(row: Visit, v: View) -> VisitDeidentifiedOut:
    full = VisitOut.model_validate(row)  # derives VNS success and the VitiQoL scores
    return VisitDeidentifiedOut(
        id=row.id,
        patient_id=row.patient_id,
        course_id=row.course_id,
        day=v.day(row.visited_on),
        week=row.week,
        patches=deid.patches(row.patches),
        variant=row.variant,
        age_years=v.age(row.visited_on),
        f_vasi=row.f_vasi,
        t_vasi=row.t_vasi,
        f_bsa_percent=row.f_bsa_percent,
        t_bsa_percent=row.t_bsa_percent,
        scores=deid.scores(row.scores),
        repigmentation_percent=row.repigmentation_percent,
        vns=row.vns,
        vns_success=full.vns_success,
        vitiqol=full.vitiqol,
        ruleset=row.ruleset,
        body_model=row.body_model,
    )


def application(a: Mapping[str, Any], v: View) -> ApplicationDeidentifiedOut:
    """``a``: the entry's columns by name."""
    return ApplicationDeidentifiedOut(
        id=a["id"],
        patient_id=a["patient_id"],
        course_id=a["course_id"],
        day=deid.local_study_day(v.zero, a["applied_at"], v.timezone),
        hand_units=a["hand_units"],
        grams=a["grams"],
        sites=a["sites"],
        verdict=a["verdict"],
        flagged=a["flagged"],
        findings=deid.findings(a["findings"]),  # type: ignore[arg-type]
    )


def adverse_event(e: AdverseEvent, v: View) -> AdverseEventDeidentifiedOut:
    return AdverseEventDeidentifiedOut(
        id=e.id,
        patient_id=e.patient_id,
        course_id=e.course_id,
        onset_day=v.day(e.onset_on),
        serious=e.serious,
        seriousness_criteria=e.seriousness_criteria,
        outcome=e.outcome,
        causality=e.causality,
        reporter_role=e.reporter_role,
    )


def override(o: Override, v: View) -> OverrideDeidentifiedOut:
    return OverrideDeidentifiedOut(
        id=o.id,
        patient_id=o.patient_id,
        course_id=o.course_id,
        application_id=o.application_id,
        rule=o.rule,
        day=deid.local_study_day(v.zero, o.created_at, v.timezone),
    )
