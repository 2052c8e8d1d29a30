"""Typed ICSR case model: the subset of ICH E2B(R3) that repigment writes and reads.

Element ids (C.1.1, E.i.7 …) are the ICH E2B(R3) data-element numbers, as listed in FDA's data-element
sheet (data/e2b/icsr_data_elements.csv). Dates are HL7 TS strings
(``CCYY[MM[DD[hhmmss]]][±ZZzz]``) so the precision a reporter gave (a year, a month) survives a round
trip; ``hl7_ts`` builds them.
A value that the sender knows to be unavailable is a :class:`Null` carrying the HL7 nullFlavor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Literal

NullFlavorCode = Literal["NI", "MSK", "UNK", "NA", "ASKU", "NASK", "NINF", "PINF", "OTH"]
NULL_FLAVORS: Final[frozenset[str]] = frozenset(
    {"NI", "MSK", "UNK", "NA", "ASKU", "NASK", "NINF", "PINF", "OTH"}
)

_TS_RE: Final = re.compile(r"^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,4})?)?)?)?)?)?([+-]\d{4})?$")


@dataclass(frozen=True, slots=True)
class Null:
    """An element that is present but has no value, with the reason (HL7 nullFlavor, E2B(R3) IG 3.3.6)."""

    flavor: NullFlavorCode


def is_hl7_ts(value: str) -> bool:
    return bool(_TS_RE.match(value))


def hl7_ts(value: date | datetime) -> str:
    """An HL7 TS string: a date at day precision, an aware datetime to the second with its UTC offset."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("a datetime for an ICSR must be timezone-aware")
        return value.strftime("%Y%m%d%H%M%S%z")
    return value.strftime("%Y%m%d")


# Seriousness criteria at event level (E.i.3.2a–f), named by what they mean.
SeriousnessCriterion = Literal[
    "death",
    "life_threatening",
    "hospitalisation",
    "disabling",
    "congenital_anomaly",
    "other_medically_important",
]
SERIOUSNESS_CRITERIA: Final[tuple[SeriousnessCriterion, ...]] = (
    "death",
    "life_threatening",
    "hospitalisation",
    "disabling",
    "congenital_anomaly",
    "other_medically_important",
)


@dataclass(frozen=True, slots=True)
class Coded:
    """An HL7 CE/CD value kept as sent: code, code-system OID, version, display name, original text."""

    code: str | None = None
    system: str | None = None
    version: str | None = None
    display: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class PrimarySource:
    """C.2.r: who reported the case first-hand."""

    qualification: str | Null | None = None  # C.2.r.4, ICH code list 6: 1 physician … 5 consumer
    country: str | Null | None = None  # C.2.r.3, ISO 3166-1 alpha-2
    title: str | None = None  # C.2.r.1.1
    given_name: str | None = None  # C.2.r.1.2
    middle_name: str | None = None  # C.2.r.1.3
    family_name: str | None = None  # C.2.r.1.4
    organisation: str | None = None  # C.2.r.2.1
    department: str | None = None  # C.2.r.2.2
    street: str | None = None  # C.2.r.2.3
    city: str | None = None  # C.2.r.2.4
    state: str | None = None  # C.2.r.2.5
    postcode: str | None = None  # C.2.r.2.6
    telephone: str | None = None  # C.2.r.2.7
    email: str | None = None  # FDA.C.2.r.2.8
    primary_for_regulatory_purposes: bool = False  # C.2.r.5


@dataclass(frozen=True, slots=True)
class Sender:
    """C.3: the organisation sending the report."""

    sender_type: str | None  # C.3.1, ICH code list 7: 1 pharmaceutical company, 3 health professional …
    organisation: str | None = None  # C.3.2
    department: str | None = None  # C.3.3.1
    title: str | None = None  # C.3.3.2
    given_name: str | None = None  # C.3.3.3
    middle_name: str | None = None  # C.3.3.4
    family_name: str | None = None  # C.3.3.5
    street: str | None = None  # C.3.4.1
    city: str | None = None  # C.3.4.2
    state: str | None = None  # C.3.4.3
    postcode: str | None = None  # C.3.4.4
    country: str | None = None  # C.3.4.5
    telephone: str | None = None  # C.3.4.6
    fax: str | None = None  # C.3.4.7
    email: str | None = None  # C.3.4.8


@dataclass(frozen=True, slots=True)
class IcsrPatient:
    """D: the patient. ``initials`` may be masked (``Null("MSK")``) for privacy."""

    initials: str | Null | None = None  # D.1
    sex: str | Null | None = None  # D.5, ISO 5218: 1 male, 2 female
    birth_date: str | None = None  # D.2.1, HL7 TS
    age_value: str | None = None  # D.2.2a (decimal text)
    age_unit: str | None = None  # D.2.2b, UCUM: a, mo, wk, d
    age_group: str | None = None  # D.2.3, ICH code list 9
    weight_kg: str | None = None  # D.3
    height_cm: str | None = None  # D.4
    medical_history_text: str | None = None  # D.7.2


@dataclass(frozen=True, slots=True)
class Reaction:
    """E.i: one reaction/event. ``id`` is the UUID the drug–reaction matrix refers to."""

    id: str
    meddra_version: str | None = None  # E.i.2.1a
    meddra_code: str | None = None  # E.i.2.1b (LLT)
    reported_term: str | None = None  # E.i.1.1a, native language
    reported_language: str | None = None  # E.i.1.1b, ISO 639-2
    translated_term: str | None = None  # E.i.1.2
    start: str | None = None  # E.i.4, HL7 TS
    end: str | None = None  # E.i.5, HL7 TS
    seriousness: frozenset[SeriousnessCriterion] = frozenset()  # E.i.3.2a–f (absent criteria go as NI)
    outcome: str | None = None  # E.i.7, ICH code list 11: 0 unknown, 1 recovered … 5 fatal
    medically_confirmed: bool | None = None  # E.i.8
    country: str | None = None  # E.i.9

    @property
    def serious(self) -> bool:
        return bool(self.seriousness)


@dataclass(frozen=True, slots=True)
class Substance:
    """G.k.2.3.r: an active ingredient and its strength (numerator per one denominator unit)."""

    name: str  # G.k.2.3.r.1
    strength_value: str | None = None  # G.k.2.3.r.3a
    strength_unit: str | None = None  # G.k.2.3.r.3b (numerator unit)
    per_unit: str | None = None  # denominator unit, e.g. g for mg/g


@dataclass(frozen=True, slots=True)
class Dosage:
    """G.k.4.r: one dosage regimen."""

    text: str | None = None  # G.k.4.r.8
    dose_value: str | None = None  # G.k.4.r.1a
    dose_unit: str | None = None  # G.k.4.r.1b
    period_value: str | None = None  # G.k.4.r.2
    period_unit: str | None = None  # G.k.4.r.3
    start: str | None = None  # G.k.4.r.4, HL7 TS
    end: str | None = None  # G.k.4.r.5, HL7 TS
    route: Coded | None = None  # G.k.4.r.10.1 (text) / G.k.4.r.10.2a–b
    form: Coded | None = None  # G.k.4.r.9.1 (text) / G.k.4.r.9.2a–b
    lot_number: str | None = None  # G.k.4.r.7


@dataclass(frozen=True, slots=True)
class Indication:
    """G.k.7.r: what the drug was used for."""

    text: str | None = None  # G.k.7.r.1
    meddra_version: str | None = None  # G.k.7.r.2a
    meddra_code: str | None = None  # G.k.7.r.2b


@dataclass(frozen=True, slots=True)
class Drug:
    """G.k: one drug; ``role`` is G.k.1 (ICH list 13: 1 suspect, 2 concomitant, 3 interacting, 4 none)."""

    id: str
    role: str | None
    product_name: str | None  # G.k.2.2
    product_code: Coded | None = None  # G.k.2.1.1 (MPID)
    substances: tuple[Substance, ...] = ()
    authorisation_number: str | None = None  # G.k.3.1
    authorisation_country: str | None = None  # G.k.3.2
    holder: str | None = None  # G.k.3.3
    dosages: tuple[Dosage, ...] = ()
    indications: tuple[Indication, ...] = ()
    action_taken: str | None = None  # G.k.8, ICH code list 15


@dataclass(frozen=True, slots=True)
class Causality:
    """G.k.9.i.2.r: one assessment of relatedness of a drug to a reaction."""

    drug_id: str
    reaction_id: str
    source: str | None = None  # G.k.9.i.2.r.1
    method: str | None = None  # G.k.9.i.2.r.2
    result: str | None = None  # G.k.9.i.2.r.3


@dataclass(frozen=True, slots=True)
class OtherCaseId:
    """C.1.9.1.r: an identifier this case carried in an earlier transmission."""

    source: str  # C.1.9.1.r.1
    case_id: str  # C.1.9.1.r.2


@dataclass(frozen=True, slots=True)
class IcsrCase:
    """One individual case safety report (the investigationEvent of an E2B(R3) message)."""

    report_id: str  # C.1.1
    created: str  # C.1.2, HL7 TS
    report_type: str | None  # C.1.3, ICH code list 2: 1 spontaneous, 2 study, 3 other, 4 not available
    first_received: str | None  # C.1.4, HL7 TS
    most_recent: str | None  # C.1.5, HL7 TS
    sender: Sender
    patient: IcsrPatient
    primary_sources: tuple[PrimarySource, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    drugs: tuple[Drug, ...] = ()
    causality: tuple[Causality, ...] = ()
    narrative: str | None = None  # H.1
    worldwide_case_id: str | None = None  # C.1.8.1 (for a case first reported here: the C.1.1 id)
    first_sender: str | None = "2"  # C.1.8.2, ICH code list 3: 1 regulator, 2 other
    additional_documents: bool = False  # C.1.6.1
    expedited: bool | Null | None = Null("NI")  # C.1.7
    other_case_ids: tuple[OtherCaseId, ...] = ()  # C.1.9.1 (true when any, else NI)
    reporter_comments: str | None = None  # H.2
    sender_comments: str | None = None  # H.4


@dataclass(frozen=True, slots=True)
class IcsrMessage:
    """N.2.r: one message of a batch, carrying one case."""

    message_id: str  # N.2.r.1
    sender: str  # N.2.r.2
    receiver: str  # N.2.r.3
    created: str  # N.2.r.4, HL7 TS
    case: IcsrCase


@dataclass(frozen=True, slots=True)
class IcsrBatch:
    """N.1: the batch (MCCI_IN200100UV01) that carries the messages."""

    batch_number: str  # N.1.2
    sender: str  # N.1.3
    receiver: str  # N.1.4
    created: str  # N.1.5, HL7 TS
    messages: tuple[IcsrMessage, ...]

    @property
    def cases(self) -> tuple[IcsrCase, ...]:
        return tuple(m.case for m in self.messages)
