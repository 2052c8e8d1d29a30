"""OIDs, ICH code lists and the suspect product, as the E2B(R3) message needs them.

OIDs and code-list numbers: ICH E2B(R3) Implementation Guide, as used in FDA's example messages
(data/e2b/FAERS2022Scenario*.xml) and data-element sheet (icsr_data_elements.csv).
"""

from __future__ import annotations

import uuid
from typing import Final

from repigment.safety.model import Coded, Dosage, Drug, Indication, Substance

HL7_NS: Final = "urn:hl7-org:v3"
XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"
NS: Final = {"h": HL7_NS, "xsi": XSI_NS}

ICH_LIST: Final = "2.16.840.1.113883.3.989.2.1.1"


def ich_list(n: int) -> str:
    """OID of ICH E2B(R3) code list ``n``."""
    return f"{ICH_LIST}.{n}"


OID_OBS: Final = ich_list(19)  # observation codes
OID_MEDDRA: Final = "2.16.840.1.113883.6.163"
OID_ISO3166: Final = "1.0.3166.1.2.2"
OID_ISO5218: Final = "1.0.5218"
OID_ISO639_2: Final = "1.0.639.2"
OID_BATCH_NUMBER: Final = "2.16.840.1.113883.3.989.2.1.3.22"  # N.1.2
OID_BATCH_SENDER: Final = "2.16.840.1.113883.3.989.2.1.3.13"  # N.1.3
OID_BATCH_RECEIVER: Final = "2.16.840.1.113883.3.989.2.1.3.14"  # N.1.4
OID_MESSAGE_ID: Final = "2.16.840.1.113883.3.989.2.1.3.1"  # N.2.r.1 and C.1.1
OID_MESSAGE_SENDER: Final = "2.16.840.1.113883.3.989.2.1.3.11"  # N.2.r.2
OID_MESSAGE_RECEIVER: Final = "2.16.840.1.113883.3.989.2.1.3.12"  # N.2.r.3
OID_WORLDWIDE_ID: Final = "2.16.840.1.113883.3.989.2.1.3.2"  # C.1.8.1
OID_OTHER_CASE_ID: Final = "2.16.840.1.113883.3.989.2.1.3.3"  # C.1.9.1.r
OID_AUTHORISATION: Final = "2.16.840.1.113883.3.989.2.1.3.4"  # G.k.3.1
OID_HL7_INTERACTION: Final = "2.16.840.1.113883.1.6"
OID_HL7_TRIGGER: Final = "2.16.840.1.113883.1.18"
OID_HL7_ACT_CODE: Final = "2.16.840.1.113883.5.4"
OID_EDQM_DOSE_FORM: Final = "0.4.0.127.0.16.1.1.2.1"

# ICH code list 19 (observation codes) used in the message.
OBS_AGE: Final = "3"
OBS_AGE_GROUP: Final = "4"
OBS_WEIGHT: Final = "7"
OBS_COMMENT: Final = "10"
OBS_HEIGHT: Final = "17"
OBS_HISTORY_TEXT: Final = "18"
OBS_INDICATION: Final = "19"
OBS_ROLE: Final = "20"
OBS_MEDICALLY_CONFIRMED: Final = "24"
OBS_OUTCOME: Final = "27"
OBS_REACTION: Final = "29"
OBS_TRANSLATION: Final = "30"
OBS_CAUSALITY: Final = "39"
OBS_ADDITIONAL_DOCS: Final = "1"
OBS_EXPEDITED: Final = "23"

# E.i.3.2a–f: criterion → observation code (ICH code list 19) and data-element id.
SERIOUSNESS_CODES: Final = {
    "death": ("34", "E.i.3.2a"),
    "life_threatening": ("21", "E.i.3.2b"),
    "hospitalisation": ("33", "E.i.3.2c"),
    "disabling": ("35", "E.i.3.2d"),
    "congenital_anomaly": ("12", "E.i.3.2e"),
    "other_medically_important": ("26", "E.i.3.2f"),
}

REPORT_TYPES: Final = {
    "1": "Spontaneous report",
    "2": "Report from study",
    "3": "Other",
    "4": "Not available to sender",
}
QUALIFICATIONS: Final = {
    "1": "Physician",
    "2": "Pharmacist",
    "3": "Other health professional",
    "4": "Lawyer",
    "5": "Consumer or other non health professional",
}
SENDER_TYPES: Final = {
    "1": "Pharmaceutical company",
    "2": "Regulatory authority",
    "3": "Health professional",
    "4": "Regional pharmacovigilance centre",
    "5": "WHO collaborating centre for international drug monitoring",
    "6": "Other",
    "7": "Patient / consumer",
}
OUTCOMES: Final = {
    "0": "unknown",
    "1": "recovered/resolved",
    "2": "recovering/resolving",
    "3": "not recovered/not resolved/ongoing",
    "4": "recovered/resolved with sequelae",
    "5": "fatal",
}
DRUG_ROLES: Final = {"1": "Suspect", "2": "Concomitant", "3": "Interacting", "4": "Drug not administered"}
SUSPECT_ROLES: Final = frozenset({"1", "3"})
ACTIONS_TAKEN: Final = {
    "1": "Drug withdrawn",
    "2": "Dose reduced",
    "3": "Dose increased",
    "4": "Dose not changed",
    "0": "Unknown",
    "9": "Not applicable",
}
SEXES: Final = {"1": "Male", "2": "Female"}

# Route of administration: E2B(R3) G.k.4.r.10.2b takes a term id; until ISO IDMP route terms are in use
# the ICH route list (E2B(R2) codes, OID …1.1.14, the code system the data-element sheet's XPath
# names) is the one to send. 003 = Cutaneous in that list (the E2B(R2) list FAERS/openFDA also decode).
OID_ROUTE: Final = ich_list(14)
ROUTE_CUTANEOUS: Final = Coded(code="003", system=OID_ROUTE, display="Cutaneous", text="Cutaneous")

# The suspect product (EU SmPC, Opzelura 15 mg/g cream, EU/1/23/1726/001; docs/reference/label-rules.md §1).
RUXOLITINIB_PRODUCT_NAME: Final = "Opzelura 15 mg/g cream"
RUXOLITINIB_SUBSTANCE: Final = Substance(
    name="Ruxolitinib", strength_value="15", strength_unit="mg", per_unit="g"
)
RUXOLITINIB_EU_AUTHORISATION: Final = "EU/1/23/1726/001"
# EDQM Standard Terms 10502000 "Cream": UNCONFIRMED (not in docs/reference; checked against no copy of
# the EDQM database here). The free text "Cream" goes with it, so a receiver can read it either way.
DOSE_FORM_CREAM: Final = Coded(code="10502000", system=OID_EDQM_DOSE_FORM, display="Cream", text="Cream")
VITILIGO_INDICATION_TEXT: Final = "Non-segmental vitiligo with facial involvement"


def new_id() -> str:
    """A fresh UUID for reactions and drugs (the drug–reaction matrix refers to them)."""
    return str(uuid.uuid4())


def ruxolitinib_cream(
    *,
    drug_id: str | None = None,
    start: str | None = None,
    end: str | None = None,
    dosage_text: str = "Thin layer twice daily to affected skin, at most 10% of body surface area",
    lot_number: str | None = None,
    action_taken: str | None = None,
    indication_meddra_version: str | None = None,
    indication_meddra_code: str | None = None,
) -> Drug:
    """The suspect drug of every repigment case: ruxolitinib 15 mg/g cream, route cutaneous."""
    return Drug(
        id=drug_id or new_id(),
        role="1",
        product_name=RUXOLITINIB_PRODUCT_NAME,
        substances=(RUXOLITINIB_SUBSTANCE,),
        authorisation_number=RUXOLITINIB_EU_AUTHORISATION,
        authorisation_country="EU",
        dosages=(
            Dosage(
                text=dosage_text,
                start=start,
                end=end,
                route=ROUTE_CUTANEOUS,
                form=DOSE_FORM_CREAM,
                lot_number=lot_number,
            ),
        ),
        indications=(
            Indication(
                text=VITILIGO_INDICATION_TEXT,
                meddra_version=indication_meddra_version,
                meddra_code=indication_meddra_code,
            ),
        ),
        action_taken=action_taken,
    )
