"""FHIR R4 import: a Bundle (JSON form) read back into a patient's record.

Resources of kinds repigment does not keep are listed, not refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from repigment.body import VASI_REGIONS
from repigment.interop.fhir.codes import (
    AE_OUTCOME,
    AE_SERIOUSNESS,
    CS_CAUSALITY,
    CS_SCORES,
    CS_VITILIGO_TYPE,
    EXT_CRITERION,
    EXT_DESCRIPTION,
    EXT_DISPENSED,
    EXT_FACIAL,
    EXT_HAND_UNITS,
    EXT_OPENED,
    EXT_PATCH,
    EXT_SITE,
    EXT_TIMEZONE,
    MEDDRA,
    OUTCOMES,
    Q_VNS,
    SCORES,
    SID_ASSESSMENT,
    SID_EXTERNAL,
    SNOMED,
    SNOMED_FACE,
)
from repigment.interop.fhir.validation import FhirError, validate_bundle
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
