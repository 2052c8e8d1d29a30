"""A clinic with record history for the page tests, written through the store (audited like any write)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from repigment.services import checks
from repigment.services.security import hash_password
from repigment.store import Actor, AdverseEvent, Clinic, Course, Patient, Prescription, User, Visit
from repigment.web import bodymap_page

PASSWORD = "correct horse battery"
_HASH: dict[str, str] = {}


@dataclass
class Clinic_:
    clinic_id: int
    clinician: str
    patient_user: str
    other_patient_user: str
    patients: list[int]  # [Ada (course at week ~30, review due), Bo (week ~53, decision due), Cy (no course)]
    password: str = PASSWORD


def _visit(
    patient: Patient, course: Course, on: dt.date, fills: dict[str, tuple[float, int]], repig: float | None
) -> Visit:
    """A visit whose patches are whole-area fills (share, level), scored by the core."""
    from fractions import Fraction

    from repigment.body import drawn_hand_units

    age = checks.age_years(patient.birth_date, on)
    patches = []
    for area, (share, level) in fills.items():
        from repigment.body import CHART_AREAS_BY_NAME

        hu = drawn_hand_units(area, Fraction(share).limit_denominator(1000), age)
        patches.append(
            {
                "area": area,
                "region": CHART_AREAS_BY_NAME[area].region,
                "hand_units": float(hu),
                "depigmentation_percent": level,
            }
        )
    variant = {"face_includes_eyelids": False, "t_vasi_includes_head_neck": True}
    result = checks.score_visit(patient, on, patches, variant)
    return Visit(
        patient_id=patient.id,
        course_id=course.id,
        visited_on=on,
        week=(on - course.started_on).days // 7,
        patches=patches,
        variant=variant,
        age_years=float(result.age_years),
        f_vasi=float(result.f_vasi),
        t_vasi=float(result.t_vasi),
        f_bsa_percent=float(result.f_bsa_percent),
        t_bsa_percent=float(result.t_bsa_percent),
        scores=result.as_json(),
        repigmentation_percent=repig,
        ruleset=course.ruleset,
        body_model=result.body_model,
    )


VNS_BY_WEEK = {12: 3, 24: 3, 52: 4}


def seed(store: Any, today: dt.date | None = None) -> Clinic_:
    today = today or dt.date.today()
    if PASSWORD not in _HASH:
        _HASH[PASSWORD] = hash_password(PASSWORD)
    tag = uuid.uuid4().hex[:8]
    with store.write(Actor("test-setup")) as s:
        clinic = Clinic(name=f"web-{tag}")
        s.add(clinic)
        s.flush()
        users = {}
        for name, role, display in (
            ("clin", "clinician", "Dr Eva Lind"),
            ("pat", "patient", "Ada"),
            ("pat2", "patient", "Bo"),
        ):
            u = User(
                clinic_id=clinic.id,
                username=f"{name}-{tag}",
                password_hash=_HASH[PASSWORD],
                role=role,
                display_name=display,
            )
            s.add(u)
            users[name] = u
        s.flush()
        people = []
        for given, family, sex, born, user in (
            ("Ada", "Lund", "female", "1985-02-03", users["pat"]),
            ("Bo", "Ek", "male", "1970-06-07", users["pat2"]),
            ("Cy", "Berg", "male", "2010-09-01", None),
        ):
            p = Patient(
                clinic_id=clinic.id,
                user_id=user.id if user else None,
                given_name=given,
                family_name=family,
                birth_date=dt.date.fromisoformat(born),
                sex=sex,
                timezone="Europe/Stockholm",
            )
            s.add(p)
            people.append(p)
        s.flush()
        plan = {
            "areas": [{"region": "face", "hand_units": 1.0}, {"region": "hands", "hand_units": 2.0}],
            "applications_per_day": 2,
        }
        for p, weeks, visits in (
            (
                people[0],
                30,
                (
                    (0, {"face": (0.6, 100), "hand_left_front": (0.8, 75)}, None),
                    (12, {"face": (0.4, 75), "hand_left_front": (0.8, 50)}, 30.0),
                ),
            ),
            (
                people[1],
                53,
                (
                    (0, {"face": (0.5, 90), "trunk_front": (0.2, 100)}, None),
                    (24, {"face": (0.5, 75), "trunk_front": (0.2, 90)}, 10.0),
                    (52, {"face": (0.5, 75), "trunk_front": (0.2, 75)}, 15.0),
                ),
            ),
        ):
            started = today - dt.timedelta(weeks=weeks)
            verdict, findings = checks.check_plan(s, p, checks.DEFAULT_RULESET, started, plan, started)
            c = Course(
                patient_id=p.id,
                ruleset=checks.DEFAULT_RULESET,
                started_on=started,
                plan=plan,
                verdict=verdict,
                findings=findings,
            )
            s.add(c)
            s.flush()
            for week, fills, repig in visits:
                v = _visit(p, c, started + dt.timedelta(weeks=week), fills, repig)
                v.vns = VNS_BY_WEEK.get(week)  # asked at follow-up visits only
                s.add(v)
            s.add(
                Prescription(
                    patient_id=p.id,
                    course_id=c.id,
                    prescribed_on=started,
                    grams=100.0,
                    dispensed_on=started,
                    opened_on=started,
                )
            )
        s.add(
            AdverseEvent(
                patient_id=people[0].id,
                term="Application site pruritus",
                onset_on=today - dt.timedelta(days=3),
                serious=False,
                seriousness_criteria=[],
                reporter_role="patient",
                reporter_id=users["pat"].id,
            )
        )
        s.commit()
        return Clinic_(
            clinic.id,
            users["clin"].username,
            users["pat"].username,
            users["pat2"].username,
            [p.id for p in people],
        )


def drawing_scores(drawing: dict[str, list[int]], age: float, variant: dict[str, bool]) -> dict[str, float]:
    from repigment.scoring import score_assessment
    from repigment.web import bodymap as bm

    levels = {
        name: bm.unrle(rle, len(bm.raster(name)), name, frozenset(range(101)))
        for name, rle in drawing.items()
    }
    r = score_assessment(bodymap_page.assessment(levels, age, variant))
    return {k: float(getattr(r, k)) for k in ("f_vasi", "t_vasi", "f_bsa_percent", "t_bsa_percent")}
