"""The demo clinic that ``repigment demo`` (``make run``) loads: a year of care for two patients.

Visits, diary entries and adverse events go through the same functions as the API, so every diary
entry is checked by the label engine and every visit scored; a few entries break a rule on purpose
(a dose taken too soon after the previous one) so flagged entries can be seen. Deterministic (seeded).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from repigment.services import checks, security
from repigment.services.diary import write_entry
from repigment.services.schemas import ApplicationIn, VisitIn
from repigment.services.visits import build_visit
from repigment.store import (
    Actor,
    AdverseEvent,
    Clinic,
    Course,
    Override,
    Patient,
    Prescription,
    Store,
    User,
)

CLINIC: Final = "Demo Dermatology Clinic"


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str
    who: str


LOGINS: Final = (
    Login("demo-clinician", "demo-clinician-pw", "clinician", "Dr Maria Berg, dermatologist"),
    Login("demo-anna", "demo-anna-pw", "patient", "Anna Lindqvist, patient"),
    Login("demo-erik", "demo-erik-pw", "patient", "Erik Johansson, patient"),
    Login("demo-analyst", "demo-analyst-pw", "analyst", "Outcomes analyst (de-identified data)"),
    Login("demo-safety", "demo-safety-pw", "safety_officer", "Safety officer (adverse events)"),
    Login("demo-admin", "demo-admin-pw", "admin", "Clinic administrator (accounts)"),
)


@dataclass(frozen=True)
class DemoPatient:
    """A demo patient: baseline patches (region, hand units, % depigmented), the treated areas, and the
    fraction of the baseline depigmentation left at each visit week."""

    login: str
    given_name: str
    family_name: str
    birth_date: dt.date
    sex: str
    childbearing_potential: bool
    timezone: str
    plan: tuple[tuple[str, float], ...]
    baseline: tuple[tuple[str, float, int], ...]
    response: dict[int, float]
    schedule: tuple[str, str]
    # VNS asked at each follow-up visit (not at baseline: it rates change since treatment started), and
    # VitiQoL items 1–15 plus item 16 at some visits.
    vns: dict[int, int]
    vitiqol: dict[int, tuple[tuple[int, ...], int]]


_PATIENTS: Final = (
    DemoPatient(
        login="demo-anna",
        given_name="Anna",
        family_name="Lindqvist",
        birth_date=dt.date(1991, 4, 12),
        sex="female",
        childbearing_potential=True,
        timezone="Europe/Stockholm",
        plan=(("face", 1.2), ("hands", 2.0), ("upper_extremities", 1.5)),
        baseline=(("face", 1.2, 90), ("hands", 2.0, 75), ("upper_extremities", 1.5, 75), ("trunk", 2.0, 50)),
        response={0: 1.0, 12: 0.8, 24: 0.45, 36: 0.3, 52: 0.2},
        schedule=("07:30", "19:30"),
        vns={12: 3, 24: 4, 36: 4, 52: 5},
        vitiqol={
            0: ((4, 3, 2, 3, 4, 2, 3, 5, 4, 3, 4, 2, 3, 4, 2), 4),
            24: ((2, 2, 1, 2, 2, 1, 2, 3, 2, 2, 2, 1, 2, 2, 1), 3),
            52: ((1, 1, 0, 1, 1, 0, 1, 2, 1, 1, 1, 0, 1, 1, 0), 2),
        },
    ),
    DemoPatient(
        login="demo-erik",
        given_name="Erik",
        family_name="Johansson",
        birth_date=dt.date(1977, 9, 30),
        sex="male",
        childbearing_potential=False,
        timezone="Europe/Stockholm",
        plan=(("face", 0.8), ("trunk", 3.0), ("hands", 1.5)),
        baseline=(("face", 0.8, 75), ("trunk", 3.0, 90), ("hands", 1.5, 90), ("feet", 1.0, 75)),
        response={0: 1.0, 12: 0.9, 24: 0.75, 36: 0.6, 52: 0.5},
        schedule=("08:00", "20:30"),
        vns={12: 2, 24: 3, 36: 3, 52: 4},
        vitiqol={0: ((3, 2, 2, 1, 3, 2, 2, 3, 3, 2, 2, 1, 2, 3, 1), 3)},
    ),
)
_LADDER: Final = (0, 10, 25, 50, 75, 90, 100)


def _ladder(x: float) -> int:
    return min(_LADDER, key=lambda v: abs(v - x))


def load_demo(store: Store, today: dt.date | None = None, seed: int = 20230419) -> dict[str, Any]:
    """Load the demo clinic into an empty, migrated store; returns counts."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    start = today - dt.timedelta(weeks=52)
    counts = {"patients": 0, "visits": 0, "applications": 0, "flagged": 0, "adverse_events": 0}
    hashes = {
        login.username: security.hash_password(security.check_new_password(login.password, login.username))
        for login in LOGINS
    }
    with store.write(Actor("demo-loader")) as s:
        clinic = Clinic(name=CLINIC)
        s.add(clinic)
        s.flush()
        users: dict[str, User] = {}
        for login in LOGINS:
            u = User(
                clinic_id=clinic.id,
                username=login.username,
                password_hash=hashes[login.username],
                role=login.role,
                display_name=login.who.split(",")[0],
            )
            s.add(u)
            users[login.username] = u
        s.flush()
        clinician = users["demo-clinician"]
        for spec in _PATIENTS:
            p = Patient(
                clinic_id=clinic.id,
                user_id=users[spec.login].id,
                given_name=spec.given_name,
                family_name=spec.family_name,
                birth_date=spec.birth_date,
                sex=spec.sex,
                timezone=spec.timezone,
                childbearing_potential=spec.childbearing_potential,
                external_ref=f"DEMO-{rng.randint(100000, 999999)}",
            )
            s.add(p)
            s.flush()
            counts["patients"] += 1
            plan = {
                "areas": [{"region": r, "hand_units": hu} for r, hu in spec.plan],
                "schedule": list(spec.schedule),
                "prescriber_experienced": True,
            }
            verdict, findings = checks.check_plan(s, p, checks.DEFAULT_RULESET, start, plan, start)
            course = Course(
                patient_id=p.id,
                ruleset=checks.DEFAULT_RULESET,
                started_on=start,
                plan=plan,
                verdict=verdict,
                findings=findings,
                created_by=clinician.id,
            )
            s.add(course)
            s.flush()
            plan_hu = sum(hu for _, hu in spec.plan)
            # A 100 g tube every 8 weeks (about 1 g per application at this area), opened the next day.
            for week in range(0, 53, 8):
                day = start + dt.timedelta(weeks=week)
                if day <= today:
                    s.add(
                        Prescription(
                            patient_id=p.id,
                            course_id=course.id,
                            prescribed_on=day,
                            grams=100.0,
                            dispensed_on=day,
                            opened_on=min(day + dt.timedelta(days=1), today),
                            instructions="Thin layer twice daily to the treated areas; 8 hours apart.",
                            created_by=clinician.id,
                        )
                    )
            s.flush()
            baseline_f = None
            for week, left in sorted(spec.response.items()):
                day = start + dt.timedelta(weeks=week)
                patches = [
                    {"region": r, "hand_units": hu, "depigmentation_percent": _ladder(d * left)}
                    for r, hu, d in spec.baseline
                ]
                body = VisitIn.model_validate(
                    {
                        "course_id": course.id,
                        "visited_on": day,
                        "week": week,
                        "patches": patches,
                        "notes": "Baseline assessment." if week == 0 else f"Week {week} review.",
                        "vns": spec.vns.get(week),
                    }
                    | (
                        {"vitiqol": {"items": spec.vitiqol[week][0], "item16": spec.vitiqol[week][1]}}
                        if week in spec.vitiqol
                        else {}
                    )
                )
                v = build_visit(s, p, body, clinician.id)
                if baseline_f is None:
                    baseline_f = v.f_vasi
                elif baseline_f:
                    v.repigmentation_percent = round(100 * (1 - v.f_vasi / baseline_f), 1)
                s.add(v)
                s.flush()
                counts["visits"] += 1
            zone = ZoneInfo(spec.timezone)
            day = start
            while day < today:
                for slot in spec.schedule:
                    if rng.random() < 0.06:  # a missed dose
                        continue
                    hh, mm = map(int, slot.split(":"))
                    at = dt.datetime.combine(day, dt.time(hh, mm), zone) + dt.timedelta(
                        minutes=rng.randint(-50, 50)
                    )
                    if slot == spec.schedule[1] and rng.random() < 0.02:  # too soon after the morning dose
                        at = dt.datetime.combine(day, dt.time(13, rng.randint(0, 59)), zone)
                    hu = round(plan_hu * rng.uniform(0.85, 1.05), 1)
                    entry = ApplicationIn.model_validate(
                        {
                            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                            "at": at,
                            "hand_units": hu,
                            "grams": round(hu * 0.25, 2),
                            "sites": [r for r, _ in spec.plan],
                            "course_id": course.id,
                        }
                    )
                    conn, actor = s.connection(), s.info["actor"]
                    stored = write_entry(conn, actor, p, entry, users[spec.login].id)
                    counts["applications"] += 1
                    counts["flagged"] += stored.row["flagged"]
                day += dt.timedelta(days=1)
            s.flush()
        anna, erik = s.query(Patient).order_by(Patient.id).all()
        events = [
            (
                anna,
                "Application site acne",
                6,
                "recovered",
                "related",
                "Papules on the chin; settled in 3 weeks.",
            ),
            (anna, "Nasopharyngitis", 20, "recovered", "unlikely_related", "Common cold."),
            (erik, "Application site pruritus", 3, "recovered", "possibly_related", "Itch on the trunk."),
        ]
        for patient, term, week, outcome, causality, text in events:
            s.add(
                AdverseEvent(
                    patient_id=patient.id,
                    term=term,
                    onset_on=start + dt.timedelta(weeks=week),
                    serious=False,
                    seriousness_criteria=[],
                    outcome=outcome,
                    causality=causality,
                    description=text,
                    reporter_id=clinician.id,
                    reporter_role="clinician",
                )
            )
            counts["adverse_events"] += 1
        s.add(
            Override(
                patient_id=anna.id,
                rule="EU-4.6-contraception",
                reason="Contraception confirmed at the baseline visit; reminder given.",
                user_id=clinician.id,
            )
        )
        s.commit()
    return counts
