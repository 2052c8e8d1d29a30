"""A patient's record with every kind of entry, built from real scoring results."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from repigment.interop.record import (
    AdverseEventData,
    ApplicationData,
    AssessmentData,
    PatchData,
    PatientData,
    PatientRecord,
    PrescriptionData,
    RegionData,
    VnsData,
)
from repigment.scoring import score_assessment
from repigment.services.checks import age_years

STOCKHOLM = ZoneInfo("Europe/Stockholm")


BORN = dt.date(1991, 5, 2)


def assessment(aid: str, day: dt.date, patches: list[dict[str, object]], week: int | None) -> AssessmentData:
    # the age the store scores a visit at (repigment.services.checks.age_years)
    result = score_assessment({"age_years": age_years(BORN, day), "patches": patches})
    j = result.as_json()
    return AssessmentData(
        id=aid,
        assessed_on=day,
        f_vasi=j["f_vasi"],
        t_vasi=j["t_vasi"],
        f_bsa_percent=j["f_bsa_percent"],
        t_bsa_percent=j["t_bsa_percent"],
        regions={r: RegionData(hand_units=v["hand_units"], vasi=v["vasi"]) for r, v in j["regions"].items()},
        face_includes_eyelids=j["variant"]["face_includes_eyelids"],
        t_vasi_includes_head_neck=j["variant"]["t_vasi_includes_head_neck"],
        age_years=j["age_years"],
        body_model=j["body_model"],
        hand_unit_convention=j["hand_unit_convention"],
        week=week,
        patches=tuple(
            PatchData(str(p["region"]), float(p["hand_units"]), int(p["depigmentation_percent"]))  # type: ignore[arg-type]
            for p in patches
        ),
    )


def full_record(pid: str = "7") -> PatientRecord:
    return PatientRecord(
        patient=PatientData(
            id=pid,
            given_name="Anna",
            family_name="Berg",
            birth_date=BORN,
            sex="female",
            timezone="Europe/Stockholm",
            external_ref="MRN-0042",
        ),
        prescriptions=(
            PrescriptionData(
                id="3",
                prescribed_on=dt.date(2026, 1, 12),
                grams=100.0,
                dispensed_on=dt.date(2026, 1, 13),
                instructions="Thin layer twice daily on face and hands",
            ),
            PrescriptionData(id="4", prescribed_on=dt.date(2026, 2, 20), grams=100.0),
        ),
        applications=(
            ApplicationData(
                id="1b0c5a0e-3f59-4a7e-9a53-5e0c2f4d8a11",
                applied_at=dt.datetime(2026, 1, 14, 7, 45, tzinfo=STOCKHOLM),
                hand_units=3.5,
                sites=("face", "hands"),
                grams=1.75,
            ),
            ApplicationData(
                id="2c1d6b1f-4a6a-4b8f-8b64-6f1d3a5e9b22",
                applied_at=dt.datetime(2026, 1, 14, 19, 30, tzinfo=STOCKHOLM),
                hand_units=3.5,
                sites=("face",),
                note="Missed the hands",
            ),
        ),
        assessments=(
            assessment(
                "11",
                dt.date(2026, 1, 12),
                [
                    {"region": "face", "hand_units": 1.2, "depigmentation_percent": 100},
                    {"region": "hands", "hand_units": 2, "depigmentation_percent": 75},
                    {"region": "trunk", "hand_units": 3, "depigmentation_percent": 50},
                ],
                0,
            ),
            assessment(
                "12",
                dt.date(2026, 6, 29),
                [
                    {"region": "face", "hand_units": 1.2, "depigmentation_percent": 25},
                    {"region": "hands", "hand_units": 2, "depigmentation_percent": 50},
                ],
                24,
            ),
        ),
        adverse_events=(
            AdverseEventData(
                id="5",
                term="Application site acne",
                onset_on=dt.date(2026, 3, 28),
                serious=False,
                outcome="recovering",
                causality="possibly_related",
                meddra_code="10003054",
                meddra_version="27.0",
            ),
            AdverseEventData(
                id="6",
                term="Hospitalisation for cellulitis",
                onset_on=dt.date(2026, 4, 2),
                serious=True,
                seriousness_criteria=("hospitalisation",),
                outcome="recovered",
                causality="unlikely_related",
                description="Admitted for two days; cream paused.",
            ),
        ),
        vns=(VnsData(id="9", answered_on=dt.date(2026, 6, 29), score=4),),
    )
