"""FHIR R4 export of a patient's record: a validated Bundle of type collection, as recorded or de-identified.

Which codes go where: :mod:`repigment.interop.fhir.codes`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, Final

from fhir.resources.R4B.codesystem import CodeSystem

from repigment import deid
from repigment.body import VASI_REGIONS
from repigment.interop.fhir.codes import (
    AE_OUTCOME,
    AE_SERIOUSNESS,
    CAUSALITIES,
    CS_CAUSALITY,
    CS_MEDICATION,
    CS_SCORES,
    CS_VITILIGO_TYPE,
    CS_VNS,
    EXT_AGE,
    EXT_AGE_GROUP,
    EXT_CRITERION,
    EXT_DESCRIPTION,
    EXT_DISPENSED,
    EXT_DISPENSED_DAY,
    EXT_FACIAL,
    EXT_HAND_UNITS,
    EXT_OPENED,
    EXT_OPENED_DAY,
    EXT_PATCH,
    EXT_SITE,
    EXT_STUDY_DAY,
    EXT_TIMEZONE,
    MEDDRA,
    OUTCOMES,
    Q_VNS,
    ROUTE_CUTANEOUS_EDQM,
    SCORES,
    SID_ASSESSMENT,
    SID_EXTERNAL,
    SNOMED,
    SNOMED_FACE,
    SNOMED_VITILIGO,
    UCUM,
    VITILIGO_TYPES,
    VNS_QUESTION,
)
from repigment.interop.fhir.validation import FhirError, validate_bundle
from repigment.interop.record import (
    AdverseEventData,
    ApplicationData,
    AssessmentData,
    PatientData,
    PatientRecord,
    PrescriptionData,
    VnsData,
)
from repigment.scoring import VNS_LABELS

_ID_NAMESPACE: Final = uuid.UUID("5b0e6f38-2f4e-4d6c-9a0e-7d1c3b2a1f00")

_ROUTE: Final = ROUTE_CUTANEOUS_EDQM
_MEDICATION: Final = {
    "coding": [
        {"system": CS_MEDICATION, "code": "ruxolitinib-15mg-g-cream", "display": "Ruxolitinib 15 mg/g cream"}
    ],
    "text": "Ruxolitinib 15 mg/g cream (Opzelura)",
}


@dataclass(frozen=True, slots=True)
class _Dates:
    """How dates are written: as they are, or (de-identified) as days since ``zero``."""

    deidentified: bool = False
    zero: dt.date | None = None
    birth_date: dt.date | None = None
    timezone: str = "UTC"

    def day(self, url: str, on: dt.date | None) -> list[dict[str, Any]]:
        n = deid.study_day(self.zero, on)
        return [] if n is None else [{"url": url, "valueInteger": n}]

    def local_day(self, at: dt.datetime) -> list[dict[str, Any]]:
        n = deid.local_study_day(self.zero, at, self.timezone)
        return [] if n is None else [{"url": EXT_STUDY_DAY, "valueInteger": n}]


def _record_zero(record: PatientRecord) -> dt.date | None:
    """Day zero from the record alone: its first assessment, else its earliest date of any kind."""
    zero = deid.day_zero([], [a.assessed_on for a in record.assessments])
    if zero is not None:
        return zero
    tz = record.patient.timezone
    days = [rx.prescribed_on for rx in record.prescriptions]
    days += [deid.local_date(a.applied_at, tz) for a in record.applications]
    days += [ae.onset_on for ae in record.adverse_events] + [v.answered_on for v in record.vns]
    return min(days) if days else None


def _full_url(resource_type: str, rid: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, f'{resource_type}/{rid}')}"


def _fhir_id(prefix: str, record_id: str) -> str:
    rid = f"{prefix}-{record_id}"
    if not all(c.isalnum() or c in "-." for c in rid) or len(rid) > 64:
        raise FhirError(
            prefix, f"record id {record_id!r} cannot form a FHIR id ([A-Za-z0-9-.], 64 characters)"
        )
    return rid


def _code(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return {"coding": [coding]}


def _quantity(value: float, unit: str | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value}
    if unit is not None:
        q.update({"unit": unit, "system": UCUM, "code": unit})
    return q


def _patient(p: PatientData, dates: _Dates) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": _fhir_id("patient", p.id),
        "extension": [{"url": EXT_TIMEZONE, "valueCode": p.timezone}],
        "gender": p.sex,
    }
    if dates.deidentified:
        # What analysts see of the record (repigment.deid): no names, reference, birth date or time
        # zone; the age in completed years on day zero and its band.
        years = deid.completed_years(p.birth_date, dates.zero or dt.date.today())
        res["extension"] = [
            {"url": EXT_AGE, "valueInteger": years},
            {"url": EXT_AGE_GROUP, "valueCode": deid.age_group(years)},
        ]
        return res
    res["name"] = [{"family": p.family_name, "given": [p.given_name]}]
    res["birthDate"] = p.birth_date.isoformat()
    if p.external_ref is not None:
        res["identifier"] = [{"system": SID_EXTERNAL, "value": p.external_ref}]
    return res


def _condition(p: PatientData, subject: dict[str, str]) -> dict[str, Any]:
    if p.diagnosis not in VITILIGO_TYPES:
        raise FhirError("patient.diagnosis", f"{p.diagnosis!r} is not one of {sorted(VITILIGO_TYPES)}")
    face = "with facial involvement" if p.facial_involvement else "without facial involvement"
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": _fhir_id("condition", p.id),
        "extension": [{"url": EXT_FACIAL, "valueBoolean": p.facial_involvement}],
        "clinicalStatus": _code("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
        "verificationStatus": _code(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"
        ),
        "category": [_code("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item")],
        "code": {
            "coding": [
                {"system": SNOMED, "code": SNOMED_VITILIGO, "display": "Vitiligo"},
                {"system": CS_VITILIGO_TYPE, "code": p.diagnosis, "display": VITILIGO_TYPES[p.diagnosis]},
            ],
            "text": f"{VITILIGO_TYPES[p.diagnosis]}, {face}",
        },
        "subject": subject,
    }
    if p.facial_involvement:
        res["bodySite"] = [{**_code(SNOMED, SNOMED_FACE, "Face structure"), "text": "Face"}]
    return res


def _prescription(rx: PrescriptionData, subject: dict[str, str], dates: _Dates) -> dict[str, Any]:
    dosage: dict[str, Any] = {"route": _ROUTE}
    if rx.instructions is not None:
        dosage["text"] = rx.instructions
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": _fhir_id("prescription", rx.id),
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": _MEDICATION,
        "subject": subject,
        "authoredOn": rx.prescribed_on.isoformat(),
        "dosageInstruction": [dosage],
        "dispenseRequest": {"quantity": _quantity(rx.grams, "g")},
    }
    ext = [
        {"url": url, "valueDate": day.isoformat()}
        for url, day in ((EXT_DISPENSED, rx.dispensed_on), (EXT_OPENED, rx.opened_on))
        if day is not None
    ]
    if dates.deidentified:
        del res["authoredOn"]
        ext = dates.day(EXT_STUDY_DAY, rx.prescribed_on)
        ext += dates.day(EXT_DISPENSED_DAY, rx.dispensed_on) + dates.day(EXT_OPENED_DAY, rx.opened_on)
    if ext:
        res["extension"] = ext
    return res


def _application(a: ApplicationData, subject: dict[str, str], dates: _Dates) -> dict[str, Any]:
    if a.applied_at.tzinfo is None:
        raise FhirError(f"applications[{a.id}].applied_at", "must be timezone-aware")
    dosage: dict[str, Any] = {"route": _ROUTE}
    if a.grams is not None:
        dosage["dose"] = _quantity(a.grams, "g")
    res: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": _fhir_id("application", a.id),
        "extension": [{"url": EXT_HAND_UNITS, "valueDecimal": a.hand_units}]
        + [{"url": EXT_SITE, "valueCode": s} for s in a.sites],
        "status": "completed",
        "medicationCodeableConcept": _MEDICATION,
        "subject": subject,
        "effectiveDateTime": a.applied_at.isoformat(),
        "dosage": dosage,
    }
    if a.note is not None:
        res["note"] = [{"text": a.note}]
    if dates.deidentified:  # the local day since day zero; effective[x] is required, so a Period
        del res["effectiveDateTime"]
        res["effectivePeriod"] = {"extension": dates.local_day(a.applied_at)}
    return res


def _score_component(code: str, **value: Any) -> dict[str, Any]:
    return {"code": _code(CS_SCORES, code), **value}


def _observations(a: AssessmentData, subject: dict[str, str], dates: _Dates) -> list[dict[str, Any]]:
    missing = [r for r in VASI_REGIONS if r not in a.regions]
    if missing:
        raise FhirError(f"assessments[{a.id}].regions", f"missing region(s) {missing}")
    out = []
    for code, (label, display) in SCORES.items():
        is_bsa = code.endswith("bsa")
        value = {"f-vasi": a.f_vasi, "t-vasi": a.t_vasi, "f-bsa": a.f_bsa_percent, "t-bsa": a.t_bsa_percent}[
            code
        ]
        components = [
            _score_component(
                f"region-{r.replace('_', '-')}",
                valueQuantity=_quantity(a.regions[r].hand_units, "%")
                if is_bsa
                else _quantity(a.regions[r].vasi),
            )
            for r in VASI_REGIONS
        ]
        components += [
            _score_component("face-includes-eyelids", valueBoolean=a.face_includes_eyelids),
            _score_component("t-vasi-includes-head-neck", valueBoolean=a.t_vasi_includes_head_neck),
            _score_component(
                "age",
                valueQuantity=_quantity(
                    deid.completed_years(dates.birth_date, a.assessed_on)
                    if dates.deidentified and dates.birth_date is not None
                    else a.age_years,
                    "a",
                ),
            ),
            _score_component("body-model", valueString=a.body_model),
            _score_component("hand-unit-convention", valueString=a.hand_unit_convention),
        ]
        if a.week is not None:
            components.append(_score_component("week", valueInteger=a.week))
        extension = [
            {
                "url": EXT_PATCH,
                "extension": [
                    {"url": "region", "valueCode": patch.region},
                    {"url": "hand-units", "valueDecimal": patch.hand_units},
                    {"url": "depigmentation-percent", "valueInteger": patch.depigmentation_percent},
                ],
            }
            for patch in (a.patches if code == "t-vasi" else ())
        ]
        if dates.deidentified:
            extension = dates.day(EXT_STUDY_DAY, a.assessed_on) + extension
        out.append(
            {
                **({"extension": extension} if extension else {}),
                "resourceType": "Observation",
                "id": _fhir_id(code, a.id),
                "identifier": [{"system": SID_ASSESSMENT, "value": a.id}],
                "status": "final",
                "category": [_code("http://terminology.hl7.org/CodeSystem/observation-category", "exam")],
                "code": {"coding": _code(CS_SCORES, code, display)["coding"], "text": label},
                "subject": subject,
                "effectiveDateTime": a.assessed_on.isoformat(),
                "valueQuantity": _quantity(value, "%") if is_bsa else _quantity(value),
                "component": components,
            }
        )
        if dates.deidentified:
            del out[-1]["effectiveDateTime"]
    return out


def _adverse_event(ae: AdverseEventData, subject: dict[str, str], dates: _Dates) -> dict[str, Any]:
    if ae.outcome not in OUTCOMES:
        raise FhirError(
            f"adverse_events[{ae.id}].outcome", f"{ae.outcome!r} is not one of {sorted(OUTCOMES)}"
        )
    if ae.causality not in CAUSALITIES:
        raise FhirError(
            f"adverse_events[{ae.id}].causality", f"{ae.causality!r} is not one of {sorted(CAUSALITIES)}"
        )
    event: dict[str, Any] = {"text": ae.term}
    if ae.meddra_code is not None:
        coding: dict[str, Any] = {"system": MEDDRA, "code": ae.meddra_code}
        if ae.meddra_version is not None:
            coding["version"] = ae.meddra_version
        event["coding"] = [coding]
    ext = [{"url": EXT_CRITERION, "valueCode": c} for c in ae.seriousness_criteria]
    if ae.description is not None:
        ext.append({"url": EXT_DESCRIPTION, "valueString": ae.description})
    res: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": _fhir_id("adverse-event", ae.id),
        "contained": [{"resourceType": "Medication", "id": "ruxolitinib", "code": _MEDICATION}],
        "actuality": "actual",
        "event": event,
        "subject": subject,
        "date": ae.onset_on.isoformat(),
        "seriousness": _code(AE_SERIOUSNESS, "serious" if ae.serious else "non-serious"),
        "outcome": _code(AE_OUTCOME, OUTCOMES[ae.outcome]),
        "suspectEntity": [
            {
                "instance": {"reference": "#ruxolitinib"},
                "causality": [{"assessment": _code(CS_CAUSALITY, ae.causality, CAUSALITIES[ae.causality])}],
            }
        ],
    }
    if dates.deidentified:  # no verbatim term (free text), the onset as days since day zero
        del res["date"]
        event.pop("text")
        if not event:
            del res["event"]
        ext = dates.day(EXT_STUDY_DAY, ae.onset_on) + ext
    if ext:
        res["extension"] = ext
    return res


def _vns(v: VnsData, subject: dict[str, str], dates: _Dates) -> dict[str, Any]:
    if v.score not in VNS_LABELS:
        raise FhirError(f"vns[{v.id}].score", f"must be 1 to 5, got {v.score!r}")
    when: dict[str, Any] = (
        {"extension": dates.day(EXT_STUDY_DAY, v.answered_on)}
        if dates.deidentified
        else {"authored": v.answered_on.isoformat()}
    )
    return {
        "resourceType": "QuestionnaireResponse",
        "id": _fhir_id("vns", v.id),
        **when,
        "questionnaire": Q_VNS,
        "status": "completed",
        "subject": subject,
        "item": [
            {
                "linkId": "vns",
                "text": VNS_QUESTION,
                "answer": [
                    {"valueCoding": {"system": CS_VNS, "code": str(v.score), "display": VNS_LABELS[v.score]}}
                ],
            }
        ],
    }


def _without_free_text(record: PatientRecord) -> PatientRecord:
    return dataclasses.replace(
        record,
        prescriptions=tuple(dataclasses.replace(x, instructions=None) for x in record.prescriptions),
        applications=tuple(dataclasses.replace(x, note=None) for x in record.applications),
        adverse_events=tuple(dataclasses.replace(x, description=None) for x in record.adverse_events),
    )


def export_bundle(
    record: PatientRecord,
    *,
    deidentified: bool = False,
    timestamp: dt.datetime | None = None,
    day_zero: dt.date | None = None,
) -> dict[str, Any]:
    """The record as a validated FHIR R4 Bundle (type collection), in JSON form.

    ``deidentified``: as analysts see the record (:mod:`repigment.deid`): no names, identifier, time
    zone or free text; the age in completed years; every date as days since ``day_zero`` (the first
    course's start; when not given, the record's first assessment) in ``study-day`` extensions.
    """
    dates = _Dates()
    if deidentified:
        record = _without_free_text(record)
        zero = day_zero if day_zero is not None else _record_zero(record)
        dates = _Dates(True, zero, record.patient.birth_date, record.patient.timezone)
    p = record.patient
    patient = _patient(p, dates)
    subject = {"reference": _full_url("Patient", patient["id"])}
    resources = [patient, _condition(p, subject)]
    resources += [_prescription(rx, subject, dates) for rx in record.prescriptions]
    resources += [_application(a, subject, dates) for a in record.applications]
    resources += [obs for a in record.assessments for obs in _observations(a, subject, dates)]
    resources += [_adverse_event(ae, subject, dates) for ae in record.adverse_events]
    resources += [_vns(v, subject, dates) for v in record.vns]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": _fhir_id("record", p.id),
        "type": "collection",
        "entry": [{"fullUrl": _full_url(r["resourceType"], r["id"]), "resource": r} for r in resources],
    }
    if timestamp is not None:
        bundle["timestamp"] = timestamp.isoformat()
    validated = validate_bundle(bundle)
    result: dict[str, Any] = json.loads(validated.model_dump_json(exclude_none=True))
    return result


def score_code_system() -> dict[str, Any]:
    """repigment's CodeSystem for the scores, their components and flags (no LOINC code exists for VASI)."""
    concepts = [{"code": c, "display": d} for c, (_label, d) in SCORES.items()]
    concepts += [
        {"code": f"region-{r.replace('_', '-')}", "display": f"Region {r.replace('_', ' ')}"}
        for r in VASI_REGIONS
    ]
    concepts += [
        {"code": "face-includes-eyelids", "display": "F-VASI face includes the eyelids"},
        {"code": "t-vasi-includes-head-neck", "display": "T-VASI includes the head and neck"},
        {"code": "age", "display": "Age used for the body model"},
        {"code": "body-model", "display": "Body model version"},
        {"code": "hand-unit-convention", "display": "Hand-unit convention"},
        {"code": "week", "display": "Treatment week"},
    ]
    cs = {
        "resourceType": "CodeSystem",
        "url": CS_SCORES,
        "name": "RepigmentVitiligoScores",
        "title": "repigment vitiligo scores",
        "status": "active",
        "content": "complete",
        "description": "VASI and BSA scores, their per-region components and their variant flags. In BSA "
        "observations a region component is hand units (1 HU = 1% BSA); in VASI observations it is the "
        "region's VASI. Every region is listed; which count toward the score follows from the flags.",
        "concept": concepts,
    }
    result: dict[str, Any] = json.loads(CodeSystem.model_validate(cs).model_dump_json(exclude_none=True))
    return result
