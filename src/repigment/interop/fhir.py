"""FHIR R4 export and import of a patient's record (Bundle of type collection).

Every resource is validated with the ``fhir.resources`` R4B models (R4B is R4 plus technical corrections).
Codes: SNOMED CT 56727007 Vitiligo and 89545001 Face structure; EDQM standard term 20003000 Cutaneous
use; UCUM units; HL7 adverse-event seriousness and outcome code systems; MedDRA when the term is coded.
VASI and BSA have no LOINC code, so the scores, their per-region components and their variant flags
are coded in repigment's own CodeSystem (:func:`score_code_system`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem
from pydantic import ValidationError

from repigment import deid
from repigment.body import VASI_REGIONS
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
from repigment.scoring import VNS_LABELS

BASE: Final = "https://repigment.org/fhir"
CS_SCORES: Final = f"{BASE}/CodeSystem/vitiligo-scores"
CS_VITILIGO_TYPE: Final = f"{BASE}/CodeSystem/vitiligo-type"
CS_MEDICATION: Final = f"{BASE}/CodeSystem/medication"
CS_CAUSALITY: Final = f"{BASE}/CodeSystem/causality"
CS_VNS: Final = f"{BASE}/CodeSystem/vns"
SID_ASSESSMENT: Final = f"{BASE}/sid/assessment"
SID_EXTERNAL: Final = f"{BASE}/sid/external-ref"
Q_VNS: Final = f"{BASE}/Questionnaire/vns"
EXT: Final = f"{BASE}/StructureDefinition"
EXT_TIMEZONE: Final = f"{EXT}/timezone"
EXT_FACIAL: Final = f"{EXT}/facial-involvement"
EXT_DISPENSED: Final = f"{EXT}/dispensed-on"
EXT_OPENED: Final = f"{EXT}/opened-on"
EXT_HAND_UNITS: Final = f"{EXT}/hand-units"
EXT_SITE: Final = f"{EXT}/application-site"
EXT_CRITERION: Final = f"{EXT}/seriousness-criterion"
EXT_DESCRIPTION: Final = f"{EXT}/description"
EXT_PATCH: Final = f"{EXT}/vasi-patch"
# De-identified bundles (repigment.deid): days since the patient's day zero instead of dates.
EXT_STUDY_DAY: Final = f"{EXT}/study-day"
EXT_DISPENSED_DAY: Final = f"{EXT}/dispensed-study-day"
EXT_OPENED_DAY: Final = f"{EXT}/opened-study-day"
EXT_AGE: Final = f"{EXT}/age-completed-years"
EXT_AGE_GROUP: Final = f"{EXT}/age-group"

SNOMED: Final = "http://snomed.info/sct"
SNOMED_VITILIGO: Final = "56727007"
SNOMED_FACE: Final = "89545001"
EDQM: Final = "http://standardterms.edqm.eu"
UCUM: Final = "http://unitsofmeasure.org"
MEDDRA: Final = "http://terminology.hl7.org/CodeSystem/mdr"
AE_SERIOUSNESS: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_OUTCOME: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"

_ID_NAMESPACE: Final = uuid.UUID("5b0e6f38-2f4e-4d6c-9a0e-7d1c3b2a1f00")

SCORES: Final = {
    "f-vasi": ("F-VASI", "Facial Vitiligo Area Scoring Index"),
    "t-vasi": ("T-VASI", "Total-body Vitiligo Area Scoring Index"),
    "f-bsa": ("F-BSA", "Facial body surface area depigmented (%)"),
    "t-bsa": ("T-BSA", "Total body surface area depigmented (%)"),
}
VITILIGO_TYPES: Final = {
    "non-segmental": "Non-segmental vitiligo",
    "segmental": "Segmental vitiligo",
    "mixed": "Mixed vitiligo",
    "unclassified": "Unclassified vitiligo",
}
# repigment's adverse-event outcome ↔ HL7 adverse-event-outcome (one to one).
OUTCOMES: Final = {
    "recovered": "resolved",
    "recovering": "recovering",
    "not_recovered": "ongoing",
    "recovered_with_sequelae": "resolvedWithSequelae",
    "fatal": "fatal",
    "unknown": "unknown",
}
CAUSALITIES: Final = {
    "related": "Related",
    "possibly_related": "Possibly related",
    "unlikely_related": "Unlikely related",
    "not_related": "Not related",
    "not_assessed": "Not assessed",
}
VNS_QUESTION: Final = "Compared to before treatment, how noticeable is the vitiligo now?"
# EDQM Standard Terms 20003000 "Cutaneous use": UNCONFIRMED (not in docs/reference; no copy of the EDQM
# database checked here); the text "Cutaneous" goes with it.
ROUTE_CUTANEOUS_EDQM: Final = {
    "coding": [{"system": EDQM, "code": "20003000", "display": "Cutaneous use"}],
    "text": "Cutaneous",
}
_ROUTE: Final = ROUTE_CUTANEOUS_EDQM
_MEDICATION: Final = {
    "coding": [
        {"system": CS_MEDICATION, "code": "ruxolitinib-15mg-g-cream", "display": "Ruxolitinib 15 mg/g cream"}
    ],
    "text": "Ruxolitinib 15 mg/g cream (Opzelura)",
}


class FhirError(ValueError):
    """A Bundle that cannot be exported or imported; ``where`` names the entry and field."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


# ------------------------------------------------------------------------------------------------ export


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


def validate_bundle(bundle: Mapping[str, Any]) -> Bundle:
    """Validate a Bundle and each of its resources with the R4B models; errors name the entry."""
    if bundle.get("resourceType") != "Bundle":
        raise FhirError("resourceType", f"expected 'Bundle', got {bundle.get('resourceType')!r}")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise FhirError("entry", "must be a list")
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
            raise FhirError(f"entry[{i}].resource", "missing or without resourceType")
        try:
            model = get_fhir_model_class(resource["resourceType"])
        except (KeyError, AttributeError, ValueError) as e:
            raise FhirError(
                f"entry[{i}].resource", f"unknown resourceType {resource['resourceType']!r}"
            ) from e
        try:
            model.model_validate(resource)
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            raise FhirError(f"entry[{i}] ({resource['resourceType']}).{loc}", first["msg"]) from e
    try:
        return Bundle.model_validate(bundle)
    except ValidationError as e:
        first = e.errors()[0]
        raise FhirError(".".join(str(x) for x in first["loc"]) or "Bundle", first["msg"]) from e


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


# ------------------------------------------------------------------------------------------------ import


@dataclass(frozen=True, slots=True)
class BundleImport:
    record: PatientRecord
    skipped: tuple[str, ...]  # resources of kinds repigment does not keep, as "entry[i] (Type)"


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise FhirError(f"{where}.{key}", "is required")
    return obj[key]


def _strip(prefix: str, rid: Any, where: str) -> str:
    if not isinstance(rid, str) or not rid.startswith(prefix + "-"):
        raise FhirError(f"{where}.id", f"expected an id starting {prefix + '-'!r}, got {rid!r}")
    return rid[len(prefix) + 1 :]


def _date(value: Any, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError) as e:
        raise FhirError(where, f"expected a date YYYY-MM-DD, got {value!r}") from e


def _exts(res: Mapping[str, Any], url: str) -> list[Mapping[str, Any]]:
    return [e for e in res.get("extension", []) if e.get("url") == url]


def _coding(cc: Any, system: str) -> Mapping[str, Any] | None:
    if not isinstance(cc, Mapping):
        return None
    return next((c for c in cc.get("coding", []) if c.get("system") == system), None)


def _components(res: Mapping[str, Any], where: str) -> dict[str, Mapping[str, Any]]:
    out = {}
    for comp in res.get("component", []):
        c = _coding(comp.get("code"), CS_SCORES)
        if c is not None:
            out[str(c["code"])] = comp
    return out


def _float(q: Any, where: str) -> float:
    if not isinstance(q, Mapping) or not isinstance(q.get("value"), int | float):
        raise FhirError(where, "expected a quantity with a value")
    return float(q["value"])


def _assessment(obs: dict[str, Mapping[str, Any]], aid: str) -> AssessmentData:
    where = f"assessment {aid!r}"
    missing = [c for c in SCORES if c not in obs]
    if missing:
        raise FhirError(where, f"missing {', '.join(SCORES[c][0] for c in missing)} observation(s)")
    t_vasi, t_bsa = _components(obs["t-vasi"], where), _components(obs["t-bsa"], where)
    regions: dict[str, RegionData] = {}
    for r in VASI_REGIONS:
        key = f"region-{r.replace('_', '-')}"
        if key not in t_vasi or key not in t_bsa:
            raise FhirError(f"{where}.component", f"missing region component {key!r}")
        regions[r] = RegionData(
            hand_units=_float(t_bsa[key].get("valueQuantity"), f"{where}.{key}"),
            vasi=_float(t_vasi[key].get("valueQuantity"), f"{where}.{key}"),
        )
    comps = _components(obs["f-vasi"], where)
    for flag in (
        "face-includes-eyelids",
        "t-vasi-includes-head-neck",
        "age",
        "body-model",
        "hand-unit-convention",
    ):
        if flag not in comps:
            raise FhirError(f"{where}.component", f"missing {flag!r}")
    week = comps.get("week", {}).get("valueInteger")
    patches = []
    for n, ext in enumerate(_exts(obs["t-vasi"], EXT_PATCH)):
        parts = {e.get("url"): e for e in ext.get("extension", [])}
        try:
            patches.append(
                PatchData(
                    region=str(parts["region"]["valueCode"]),
                    hand_units=float(parts["hand-units"]["valueDecimal"]),
                    depigmentation_percent=int(parts["depigmentation-percent"]["valueInteger"]),
                )
            )
        except KeyError as e:
            raise FhirError(f"{where} T-VASI extension[{n}]", f"patch without {e.args[0]!r}") from e
    return AssessmentData(
        id=aid,
        assessed_on=_date(obs["f-vasi"].get("effectiveDateTime"), f"{where}.effectiveDateTime"),
        f_vasi=_float(obs["f-vasi"].get("valueQuantity"), f"{where} F-VASI"),
        t_vasi=_float(obs["t-vasi"].get("valueQuantity"), f"{where} T-VASI"),
        f_bsa_percent=_float(obs["f-bsa"].get("valueQuantity"), f"{where} F-BSA"),
        t_bsa_percent=_float(obs["t-bsa"].get("valueQuantity"), f"{where} T-BSA"),
        regions=regions,
        face_includes_eyelids=bool(comps["face-includes-eyelids"].get("valueBoolean")),
        t_vasi_includes_head_neck=bool(comps["t-vasi-includes-head-neck"].get("valueBoolean")),
        age_years=_float(comps["age"].get("valueQuantity"), f"{where}.age"),
        body_model=str(comps["body-model"].get("valueString")),
        hand_unit_convention=str(comps["hand-unit-convention"].get("valueString")),
        week=int(week) if week is not None else None,
        patches=tuple(patches),
    )


def import_bundle(data: Mapping[str, Any]) -> BundleImport:
    """A FHIR R4 Bundle (JSON form) back into a record; resources repigment does not keep are listed."""
    validated = validate_bundle(data)
    bundle: dict[str, Any] = json.loads(validated.model_dump_json(exclude_none=True))
    patient: PatientData | None = None
    diagnosis, facial = "non-segmental", True
    prescriptions, applications, adverse, vns = [], [], [], []
    observations: dict[str, dict[str, Mapping[str, Any]]] = {}
    skipped = []
    for i, entry in enumerate(bundle.get("entry", [])):
        res = entry["resource"]
        kind = res["resourceType"]
        where = f"entry[{i}] ({kind})"
        if kind == "Patient":
            if patient is not None:
                raise FhirError(where, "a Bundle for import holds one patient")
            name = (res.get("name") or [{}])[0]
            tz = _exts(res, EXT_TIMEZONE)
            ref = next(
                (x["value"] for x in res.get("identifier", []) if x.get("system") == SID_EXTERNAL), None
            )
            patient = PatientData(
                id=_strip("patient", res.get("id"), where),
                given_name=" ".join(name.get("given", [])),
                family_name=str(_get(name, "family", f"{where}.name[0]")),
                birth_date=_date(_get(res, "birthDate", where), f"{where}.birthDate"),
                sex=str(_get(res, "gender", where)),
                timezone=str(tz[0]["valueCode"]) if tz else "UTC",
                external_ref=ref,
            )
        elif kind == "Condition" and _coding(res.get("code"), SNOMED) is not None:
            kind_coding = _coding(res.get("code"), CS_VITILIGO_TYPE)
            if kind_coding is not None:
                diagnosis = str(kind_coding["code"])
            flag = _exts(res, EXT_FACIAL)
            facial = (
                bool(flag[0]["valueBoolean"])
                if flag
                else any(
                    _coding(b, SNOMED) is not None and _coding(b, SNOMED)["code"] == SNOMED_FACE  # type: ignore[index]
                    for b in res.get("bodySite", [])
                )
            )
        elif kind == "MedicationRequest":
            dosage = (res.get("dosageInstruction") or [{}])[0]
            quantity = _get(_get(res, "dispenseRequest", where), "quantity", f"{where}.dispenseRequest")
            disp, opened = _exts(res, EXT_DISPENSED), _exts(res, EXT_OPENED)
            prescriptions.append(
                PrescriptionData(
                    id=_strip("prescription", res.get("id"), where),
                    prescribed_on=_date(_get(res, "authoredOn", where), f"{where}.authoredOn"),
                    grams=_float(quantity, f"{where}.dispenseRequest.quantity"),
                    dispensed_on=_date(disp[0]["valueDate"], f"{where}.extension") if disp else None,
                    opened_on=_date(opened[0]["valueDate"], f"{where}.extension") if opened else None,
                    instructions=dosage.get("text"),
                )
            )
        elif kind == "MedicationAdministration":
            hu = _exts(res, EXT_HAND_UNITS)
            if not hu:
                raise FhirError(f"{where}.extension", f"missing {EXT_HAND_UNITS}")
            when = _get(res, "effectiveDateTime", where)
            try:
                applied_at = dt.datetime.fromisoformat(when)
            except ValueError as e:
                raise FhirError(f"{where}.effectiveDateTime", f"not a date-time: {when!r}") from e
            if applied_at.tzinfo is None:
                raise FhirError(f"{where}.effectiveDateTime", "must carry a time zone offset")
            dose = res.get("dosage", {}).get("dose")
            applications.append(
                ApplicationData(
                    id=_strip("application", res.get("id"), where),
                    applied_at=applied_at,
                    hand_units=float(hu[0]["valueDecimal"]),
                    sites=tuple(str(e["valueCode"]) for e in _exts(res, EXT_SITE)),
                    grams=None if dose is None else _float(dose, f"{where}.dosage.dose"),
                    note=(res.get("note") or [{}])[0].get("text"),
                )
            )
        elif kind == "Observation" and _coding(res.get("code"), CS_SCORES) is not None:
            code = str(_coding(res.get("code"), CS_SCORES)["code"])  # type: ignore[index]
            ident = next(
                (x["value"] for x in res.get("identifier", []) if x.get("system") == SID_ASSESSMENT), None
            )
            if ident is None or code not in SCORES:
                raise FhirError(where, f"score observation {code!r} without an assessment identifier")
            observations.setdefault(str(ident), {})[code] = res
        elif kind == "AdverseEvent":
            event = _get(res, "event", where)
            meddra = _coding(event, MEDDRA)
            outcome = _coding(res.get("outcome"), AE_OUTCOME)
            reverse = {v: k for k, v in OUTCOMES.items()}
            causality = next(
                (
                    str(c["code"])
                    for s in res.get("suspectEntity", [])
                    for cz in s.get("causality", [])
                    if (c := _coding(cz.get("assessment"), CS_CAUSALITY)) is not None
                ),
                "not_assessed",
            )
            seriousness = _coding(res.get("seriousness"), AE_SERIOUSNESS)
            description = _exts(res, EXT_DESCRIPTION)
            adverse.append(
                AdverseEventData(
                    id=_strip("adverse-event", res.get("id"), where),
                    term=str(event.get("text") or (meddra or {}).get("display") or ""),
                    onset_on=_date(str(_get(res, "date", where))[:10], f"{where}.date"),
                    serious=seriousness is not None and seriousness["code"] == "serious",
                    seriousness_criteria=tuple(str(e["valueCode"]) for e in _exts(res, EXT_CRITERION)),
                    outcome=reverse.get(str(outcome["code"]), "unknown") if outcome else "unknown",
                    causality=causality,
                    description=str(description[0]["valueString"]) if description else None,
                    meddra_code=None if meddra is None else str(meddra["code"]),
                    meddra_version=None
                    if meddra is None or "version" not in meddra
                    else str(meddra["version"]),
                )
            )
        elif kind == "QuestionnaireResponse" and res.get("questionnaire") == Q_VNS:
            answer = _get((res.get("item") or [{}])[0], "answer", f"{where}.item[0]")[0]
            vns.append(
                VnsData(
                    id=_strip("vns", res.get("id"), where),
                    answered_on=_date(str(_get(res, "authored", where))[:10], f"{where}.authored"),
                    score=int(_get(answer, "valueCoding", f"{where}.item[0].answer[0]")["code"]),
                )
            )
        else:
            skipped.append(where)
    if patient is None:
        raise FhirError("Bundle", "no Patient resource")
    patient = dataclasses.replace(patient, diagnosis=diagnosis, facial_involvement=facial)
    record = PatientRecord(
        patient=patient,
        prescriptions=tuple(prescriptions),
        applications=tuple(applications),
        assessments=tuple(_assessment(obs, aid) for aid, obs in observations.items()),
        adverse_events=tuple(adverse),
        vns=tuple(vns),
    )
    return BundleImport(record=record, skipped=tuple(skipped))
