"""The codes, systems and URLs of repigment's FHIR Bundles, shared by the export and the import.

Codes: SNOMED CT 56727007 Vitiligo and 89545001 Face structure; EDQM standard term 20003000 Cutaneous
use; UCUM units; HL7 adverse-event seriousness and outcome code systems; MedDRA when the term is coded.
VASI and BSA have no LOINC code, so the scores, their per-region components and their variant flags
are coded in repigment's own CodeSystem (:func:`repigment.interop.fhir.export.score_code_system`).
"""

from __future__ import annotations

from typing import Final

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
