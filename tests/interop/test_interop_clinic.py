"""The store adapters on a fresh database (SQLite and PostgreSQL): record export, all-or-nothing import,
and the adverse-event case mapping."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fhir_records import full_record
from sqlalchemy import func, select

from repigment.interop.fhir import export_bundle, import_bundle
from repigment.safety import Null, write_case
from repigment.services.interchange import IcsrOptions, InteropError, case_of, import_record, record_of
from repigment.store import Actor, AdverseEvent, Patient, User
from repigment.store import Clinic as ClinicRow


@dataclass
class Clinic:
    clinic_id: int
    clinician_id: int
    patients: list[int]


def seed_clinic(store: Any) -> Clinic:
    """A clinic with a clinician and one patient, straight into the store."""
    tag = uuid.uuid4().hex[:8]
    with store.write(Actor("test-setup")) as s:
        clinic = ClinicRow(name=f"interop-{tag}")
        s.add(clinic)
        s.flush()
        clinician = User(clinic_id=clinic.id, username=f"clin-{tag}", password_hash="-", role="clinician")
        patient = Patient(
            clinic_id=clinic.id,
            given_name="Ada",
            family_name=f"Test-{tag}",
            birth_date=dt.date(1985, 2, 3),
            sex="female",
            timezone="Europe/Stockholm",
        )
        s.add_all([clinician, patient])
        s.commit()
        return Clinic(clinic.id, clinician.id, [patient.id])


def _patients(store: Any) -> int:
    with store.read() as s:
        return int(s.scalar(select(func.count()).select_from(Patient)))


def test_import_then_export_keeps_the_record(store: Any) -> None:
    clinic = seed_clinic(store)
    record = dataclasses.replace(full_record(), vns=())
    with store.write(Actor("test")) as s:
        done = import_record(s, clinic.clinic_id, record, None)
        s.commit()
    # the record brings no course, so its assessment weeks cannot be checked and are not kept (issue 14)
    assert done.not_stored == (
        "2 assessment week(s) (computed from a course start; the record brings no course): 11, 12",
        "adverse event 5: MedDRA code 10003054",
    )
    with store.read() as s:
        again = record_of(s, s.get(Patient, done.patient_id))
    # ids aside, the store gives back what it was given
    assert again.patient == dataclasses.replace(record.patient, id=str(done.patient_id))
    assert [dataclasses.replace(x, id="") for x in again.prescriptions] == [
        dataclasses.replace(x, id="") for x in record.prescriptions
    ]
    assert [dataclasses.replace(x, id="") for x in again.applications] == [
        dataclasses.replace(x, id="") for x in record.applications
    ]
    assert [dataclasses.replace(x, id="") for x in again.assessments] == [
        dataclasses.replace(x, id="", week=None) for x in record.assessments
    ]
    assert [
        dataclasses.replace(x, id="", meddra_code=None, meddra_version=None) for x in again.adverse_events
    ] == [dataclasses.replace(x, id="", meddra_code=None, meddra_version=None) for x in record.adverse_events]


def test_import_is_all_or_nothing(store: Any) -> None:
    clinic = seed_clinic(store)
    before = _patients(store)
    record = full_record()
    tampered = dataclasses.replace(
        record, assessments=(dataclasses.replace(record.assessments[0], f_vasi=0.5), record.assessments[1])
    )
    with (
        pytest.raises(
            InteropError, match=r"assessment 11: F-VASI 0.5 does not match its patches \(scored 1.2\)"
        ),
        store.write(Actor("test")) as s,
    ):
        import_record(s, clinic.clinic_id, tampered, None)
        s.commit()
    no_patches = dataclasses.replace(
        record, assessments=(dataclasses.replace(record.assessments[0], patches=()),)
    )
    with (
        pytest.raises(InteropError, match="assessment 11: has no patches to score"),
        store.write(Actor("test")) as s,
    ):
        import_record(s, clinic.clinic_id, no_patches, None)
        s.commit()
    bad_sex = dataclasses.replace(record, patient=dataclasses.replace(record.patient, sex="x"))
    with pytest.raises(InteropError, match=r"^patient\.sex"), store.write(Actor("test")) as s:
        import_record(s, clinic.clinic_id, bad_sex, None)
        s.commit()
    assert _patients(store) == before


def test_bundle_from_the_store_imports_into_another_clinic(store: Any) -> None:
    first, second = seed_clinic(store), seed_clinic(store)
    with store.write(Actor("test")) as s:
        made = import_record(s, first.clinic_id, dataclasses.replace(full_record(), vns=()), None)
        s.commit()
    with store.read() as s:
        bundle = export_bundle(record_of(s, s.get(Patient, made.patient_id)))
    with store.write(Actor("test")) as s:
        copy = import_record(s, second.clinic_id, import_bundle(bundle).record, None)
        s.commit()
    with store.read() as s:
        copied = s.get(Patient, copy.patient_id)
        assert copied.clinic_id == second.clinic_id
        again = export_bundle(record_of(s, copied))
    strip = lambda b: [  # noqa: E731
        {k: v for k, v in e["resource"].items() if k not in ("id", "subject", "identifier")}
        for e in b["entry"]
    ]
    assert strip(again) == strip(bundle)


def test_adverse_event_case(store: Any) -> None:
    clinic = seed_clinic(store)
    with store.write(Actor("test")) as s:
        clinician = s.get(User, clinic.clinician_id)
        clinician.display_name = "Dr Lund"
        ae = AdverseEvent(
            patient_id=clinic.patients[0],
            term="Application site acne",
            onset_on=dt.date(2026, 3, 28),
            serious=True,
            seriousness_criteria=["disability"],
            outcome="recovered_with_sequelae",
            causality="related",
            reporter_id=clinician.id,
            reporter_role="clinician",
        )
        s.add(ae)
        s.commit()
        ae_id = ae.id
    now = dt.datetime(2026, 4, 15, 8, 0, tzinfo=dt.UTC)
    with store.read() as s:
        ae = s.get(AdverseEvent, ae_id)
        case = case_of(s, ae, IcsrOptions(country="SE", meddra_version="27.0", meddra_code="10003054"), now)
    assert case.patient.initials == "AT" and case.patient.sex == "2"
    assert (case.patient.birth_date, case.patient.age_value, case.patient.age_unit) == ("19850203", "41", "a")
    (source,) = case.primary_sources
    assert (source.qualification, source.country, source.family_name) == ("1", "SE", "Dr Lund")
    (reaction,) = case.reactions
    assert reaction.seriousness == {"disabling"} and reaction.outcome == "4"
    assert reaction.start == "20260328" and reaction.reported_language == "eng"
    (drug,) = case.drugs
    assert drug.product_name == "Opzelura 15 mg/g cream" and drug.role == "1"
    assert [c.result for c in case.causality] == ["Related"]
    assert "Serious (disability)" in (case.narrative or "")
    assert write_case(case, sender="S", receiver="R", now=now).startswith(b"<?xml")
    # a patient who reports gets the consumer qualification; unknown sex is a null flavor
    with store.write(Actor("test")) as s:
        s.get(AdverseEvent, ae_id).reporter_role = "patient"
        s.get(Patient, clinic.patients[0]).sex = "unknown"
        s.commit()
    with store.read() as s:
        case = case_of(s, s.get(AdverseEvent, ae_id), IcsrOptions(country="SE"), now)
    assert case.primary_sources[0].qualification == "5" and case.primary_sources[0].family_name is None
    assert case.patient.sex == Null("UNK")


def test_vns_is_stored_on_its_visit_and_exported_back(store: Any) -> None:
    """A VNS answer pairs with the visit of its date on import, and returns as a QuestionnaireResponse
    with the visit's id: export → import → export gives the same resources, ids aside."""
    first, second = seed_clinic(store), seed_clinic(store)
    record = full_record()  # VNS 4 answered on the day of assessment "12"
    orphan = dataclasses.replace(record.vns[0], id="99", answered_on=dt.date(2026, 3, 3))
    with store.write(Actor("test")) as s:
        made = import_record(s, first.clinic_id, dataclasses.replace(record, vns=(*record.vns, orphan)), None)
        s.commit()
    assert made.counts["vns"] == 1
    assert made.not_stored[0] == "1 VNS answer(s) without a visit of the same id or date: 99"
    with store.read() as s:
        exported = record_of(s, s.get(Patient, made.patient_id))
    (vns,) = exported.vns
    week24 = next(a for a in exported.assessments if a.assessed_on == dt.date(2026, 6, 29))
    assert (vns.id, vns.answered_on, vns.score) == (week24.id, dt.date(2026, 6, 29), 4)
    bundle = export_bundle(exported)
    (qr,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    assert qr["id"] == f"vns-{week24.id}" and qr["item"][0]["answer"][0]["valueCoding"]["code"] == "4"
    with store.write(Actor("test")) as s:
        copy = import_record(s, second.clinic_id, import_bundle(bundle).record, None)
        s.commit()
    assert copy.counts["vns"] == 1 and not any("VNS" in n for n in copy.not_stored)
    with store.read() as s:
        again = export_bundle(record_of(s, s.get(Patient, copy.patient_id)))
    strip = lambda b: [  # noqa: E731
        {k: v for k, v in e["resource"].items() if k not in ("id", "subject", "identifier")}
        for e in b["entry"]
    ]
    assert strip(again) == strip(bundle)
