"""FHIR R4 export/import of a patient's record: R4B validation, content, round trips, clear errors."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from fractions import Fraction
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir_records import assessment, full_record
from hypothesis import given, settings
from hypothesis import strategies as st

from repigment.body import VASI_REGIONS
from repigment.interop.fhir import (
    CS_SCORES,
    FhirError,
    export_bundle,
    import_bundle,
    score_code_system,
)
from repigment.interop.record import PatientRecord


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _component(obs: dict[str, Any], code: str) -> dict[str, Any]:
    (comp,) = [c for c in obs["component"] if c["code"]["coding"][0]["code"] == code]
    return comp


def test_every_resource_validates_with_the_r4b_models() -> None:
    bundle = export_bundle(full_record())
    assert bundle["type"] == "collection"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"])
        assert model.model_validate(resource).id == resource["id"]
        assert entry["fullUrl"].startswith("urn:uuid:")
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Patient") == 1 and kinds.count("Condition") == 1
    assert kinds.count("MedicationRequest") == 2 and kinds.count("MedicationAdministration") == 2
    assert kinds.count("Observation") == 8  # four scores per assessment
    assert kinds.count("AdverseEvent") == 2 and kinds.count("QuestionnaireResponse") == 1


def test_references_resolve_to_the_patient() -> None:
    bundle = export_bundle(full_record())
    urls = {e["fullUrl"]: e["resource"]["resourceType"] for e in bundle["entry"]}
    for entry in bundle["entry"]:
        subject = entry["resource"].get("subject")
        if subject is not None:
            assert urls[subject["reference"]] == "Patient"


def test_condition_states_vitiligo_non_segmental_and_facial() -> None:
    (condition,) = _resources(export_bundle(full_record()), "Condition")
    codings = {(c["system"], c["code"]) for c in condition["code"]["coding"]}
    assert ("http://snomed.info/sct", "56727007") in codings
    assert ("https://repigment.org/fhir/CodeSystem/vitiligo-type", "non-segmental") in codings
    assert condition["code"]["text"] == "Non-segmental vitiligo, with facial involvement"
    assert condition["bodySite"][0]["coding"][0]["code"] == "89545001"


def test_score_observations_carry_scores_regions_and_variant() -> None:
    record = full_record()
    bundle = export_bundle(record)
    baseline = [o for o in _resources(bundle, "Observation") if o["identifier"][0]["value"] == "11"]
    by_code = {o["code"]["coding"][0]["code"]: o for o in baseline}
    assert set(by_code) == {"f-vasi", "t-vasi", "f-bsa", "t-bsa"}
    # Hand calculation: face 1.2 HU × 100% = 1.2; hands 2 × 75% = 1.5; trunk 3 × 50% = 1.5.
    assert by_code["f-vasi"]["valueQuantity"]["value"] == pytest.approx(1.2)
    assert by_code["t-vasi"]["valueQuantity"]["value"] == pytest.approx(4.2)
    assert by_code["f-bsa"]["valueQuantity"] == {
        "value": pytest.approx(1.2),
        "unit": "%",
        "system": "http://unitsofmeasure.org",
        "code": "%",
    }
    assert by_code["t-bsa"]["valueQuantity"]["value"] == pytest.approx(6.2)
    for obs in baseline:
        assert obs["code"]["coding"][0]["system"] == CS_SCORES
        regions = [c for c in obs["component"] if c["code"]["coding"][0]["code"].startswith("region-")]
        assert len(regions) == len(VASI_REGIONS) == 8
        assert _component(obs, "face-includes-eyelids")["valueBoolean"] is False
        assert _component(obs, "t-vasi-includes-head-neck")["valueBoolean"] is True
        assert _component(obs, "week")["valueInteger"] == 0
        assert _component(obs, "body-model")["valueString"].startswith("lund-browder-1944")
    t_vasi = by_code["t-vasi"]
    region_sum = sum(
        Fraction(str(_component(t_vasi, f"region-{r.replace('_', '-')}")["valueQuantity"]["value"]))
        for r in VASI_REGIONS
    )
    assert region_sum == Fraction("4.2")  # every region counts toward T-VASI in the default variant
    assert _component(by_code["t-bsa"], "region-hands")["valueQuantity"]["value"] == 2


def test_medication_resources() -> None:
    bundle = export_bundle(full_record())
    first_rx = _resources(bundle, "MedicationRequest")[0]
    assert first_rx["intent"] == "order" and first_rx["authoredOn"] == "2026-01-12"
    assert first_rx["dispenseRequest"]["quantity"]["value"] == 100
    assert first_rx["dosageInstruction"][0]["route"]["coding"][0]["code"] == "20003000"
    admin = _resources(bundle, "MedicationAdministration")[0]
    assert admin["effectiveDateTime"] == "2026-01-14T07:45:00+01:00"
    assert admin["dosage"]["dose"]["value"] == 1.75 and admin["dosage"]["dose"]["code"] == "g"


def test_adverse_events_and_vns() -> None:
    bundle = export_bundle(full_record())
    acne, cellulitis = _resources(bundle, "AdverseEvent")
    assert acne["event"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/mdr",
        "version": "27.0",
        "code": "10003054",
    }
    assert acne["seriousness"]["coding"][0]["code"] == "non-serious"
    assert acne["outcome"]["coding"][0]["code"] == "recovering"
    assert cellulitis["seriousness"]["coding"][0]["code"] == "serious"
    assert cellulitis["outcome"]["coding"][0]["code"] == "resolved"
    assert cellulitis["suspectEntity"][0]["instance"]["reference"] == "#ruxolitinib"
    (vns,) = _resources(bundle, "QuestionnaireResponse")
    assert vns["item"][0]["answer"][0]["valueCoding"]["code"] == "4"
    assert vns["item"][0]["answer"][0]["valueCoding"]["display"] == "a lot less noticeable"


def test_round_trips() -> None:
    record = full_record()
    bundle = export_bundle(record)
    imported = import_bundle(bundle)
    assert imported.skipped == ()
    assert imported.record == record
    assert export_bundle(imported.record) == bundle


def test_foreign_resources_are_listed_not_kept() -> None:
    bundle = export_bundle(full_record())
    bundle["entry"].append(
        {"resource": {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"}}}
    )
    imported = import_bundle(bundle)
    assert imported.skipped == (f"entry[{len(bundle['entry']) - 1}] (Encounter)",)
    assert imported.record == full_record()


def test_invalid_bundles_get_specific_errors() -> None:
    bundle = export_bundle(full_record())
    with pytest.raises(FhirError, match="expected 'Bundle'"):
        import_bundle({"resourceType": "Patient"})
    broken = copy.deepcopy(bundle)
    broken["entry"][0]["resource"]["birthDate"] = "not a date"
    with pytest.raises(FhirError) as err:
        import_bundle(broken)
    assert err.value.where.startswith("entry[0] (Patient).birthDate")
    no_patient = copy.deepcopy(bundle)
    no_patient["entry"] = no_patient["entry"][1:]
    with pytest.raises(FhirError, match="no Patient resource"):
        import_bundle(no_patient)
    partial = copy.deepcopy(bundle)
    partial["entry"] = [e for e in partial["entry"] if e["resource"].get("id") != "t-bsa-12"]
    with pytest.raises(FhirError, match=r"assessment '12': missing T-BSA observation"):
        import_bundle(partial)
    unknown = copy.deepcopy(bundle)
    unknown["entry"].append({"resource": {"resourceType": "Spaceship"}})
    with pytest.raises(FhirError, match="unknown resourceType 'Spaceship'"):
        import_bundle(unknown)


def test_export_rejects_values_fhir_cannot_carry() -> None:
    record = full_record()
    bad_outcome = dataclasses.replace(
        record, adverse_events=(dataclasses.replace(record.adverse_events[0], outcome="better"),)
    )
    with pytest.raises(FhirError, match="outcome"):
        export_bundle(bad_outcome)
    naive = dataclasses.replace(
        record,
        applications=(
            dataclasses.replace(record.applications[0], applied_at=dt.datetime(2026, 1, 14, 7, 45)),
        ),
    )
    with pytest.raises(FhirError, match="timezone-aware"):
        export_bundle(naive)


def test_code_system_defines_every_code_used() -> None:
    cs = score_code_system()
    defined = {c["code"] for c in cs["concept"]}
    used = {
        coding["code"]
        for obs in _resources(export_bundle(full_record()), "Observation")
        for cc in [obs["code"], *(c["code"] for c in obs["component"])]
        for coding in cc["coding"]
    }
    assert used <= defined and cs["url"] == CS_SCORES


_patch = st.fixed_dictionaries(
    {
        "region": st.sampled_from(["face", "hands", "trunk", "feet"]),
        "hand_units": st.sampled_from([0, 0.1, 0.5, 1, 1.2]),
        "depigmentation_percent": st.sampled_from([0, 10, 25, 50, 75, 90, 100]),
    }
)


@settings(max_examples=30, deadline=None)
@given(patches=st.lists(_patch, max_size=2), week=st.none() | st.integers(0, 104))
def test_any_assessment_round_trips(patches: list[dict[str, object]], week: int | None) -> None:
    record = PatientRecord(
        patient=full_record().patient, assessments=(assessment("21", dt.date(2026, 3, 1), patches, week),)
    )
    assert import_bundle(export_bundle(record)).record == record


def test_deidentified_bundle_has_no_names_free_text_dates_or_exact_age() -> None:
    bundle = export_bundle(full_record(), deidentified=True, timestamp=None)
    (patient,) = _resources(bundle, "Patient")
    assert "name" not in patient and "identifier" not in patient and "birthDate" not in patient
    # Born 1991-05-02, day zero (the first assessment) 2026-01-12: 34 completed years.
    assert {
        e["url"].rsplit("/", 1)[1]: next(v for k, v in e.items() if k.startswith("value"))
        for e in patient["extension"]
    } == {
        "age-completed-years": 34,
        "age-group": "18-64",
    }
    text = json.dumps(bundle)
    secrets = ["Anna", "Berg", "MRN-0042", "Missed the hands", "Thin layer", "Admitted for two days"]
    secrets += ["Application site acne", "Hospitalisation for cellulitis", "Europe/Stockholm", "1991", "2026"]
    for secret in secrets:
        assert secret not in text
    # Days since day zero: visits 0 and 168, diary on day 2 (local), events on days 75 and 80.
    days = {
        r["id"]: [
            e["valueInteger"]
            for e in r.get("extension", []) + r.get("effectivePeriod", {}).get("extension", [])
            if e["url"].endswith("/study-day")
        ]
        for r in (e["resource"] for e in bundle["entry"])
    }
    assert days["f-vasi-11"] == [0] and days["t-bsa-12"] == [168] and days["vns-9"] == [168]
    assert days["application-1b0c5a0e-3f59-4a7e-9a53-5e0c2f4d8a11"] == [2]
    assert days["adverse-event-5"] == [75] and days["adverse-event-6"] == [80]
    assert days["prescription-3"] == [0]
    ages = [
        c["valueQuantity"]["value"]
        for o in _resources(bundle, "Observation")
        for c in o["component"]
        if c["code"]["coding"][0]["code"] == "age"
    ]
    assert set(ages) == {34, 35} and all(isinstance(a, int) for a in ages)  # completed years only
    assert len(_resources(bundle, "Observation")) == 8  # the clinical content stays


def test_patches_travel_with_t_vasi() -> None:
    t_vasi = [o for o in _resources(export_bundle(full_record()), "Observation") if o["id"] == "t-vasi-11"][0]
    patches = [
        {e["url"]: next(v for k, v in e.items() if k.startswith("value")) for e in x["extension"]}
        for x in t_vasi["extension"]
    ]
    assert patches == [
        {"region": "face", "hand-units": 1.2, "depigmentation-percent": 100},
        {"region": "hands", "hand-units": 2.0, "depigmentation-percent": 75},
        {"region": "trunk", "hand-units": 3.0, "depigmentation-percent": 50},
    ]
