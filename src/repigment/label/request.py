"""The label request as typed values: its vocabularies, the facts about the patient, the plan, the diary,
the tubes and the course (:mod:`repigment.label.parse` builds them from JSON).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

from repigment.body import CHART_AREAS_BY_NAME, VASI_REGIONS
from repigment.label.errors import LabelInputError
from repigment.scoring import VasiResult

DIAGNOSES: Final = ("non-segmental", "segmental", "mixed", "unclassified")
# Sites a plan or application may name besides the VASI regions and chart areas; the forbidden ones are
# what the label rules look for (a misspelt site is an error, never silently allowed).
OTHER_SITES: Final = ("lips", "eyes", "mouth", "intravaginal", "genitalia", "scalp")
SITES: Final = frozenset(VASI_REGIONS) | frozenset(CHART_AREAS_BY_NAME) | frozenset(OTHER_SITES)
SYSTEMIC_CATEGORIES: Final = (
    "biologic",
    "jak_inhibitor",
    "potent_immunosuppressant",
    "cyp3a4_inhibitor",
    "other",
)
# The excipients the EU SmPC 4.4 warns about (docs/reference/label-rules.md §1, EU-4.4-excipients).
EXCIPIENTS: Final = (
    "propylene_glycol",
    "cetyl_alcohol",
    "stearyl_alcohol",
    "parahydroxybenzoates",
    "butylhydroxytoluene",
)

# The yes/no facts every request must state about the patient: the engine cannot rule out a
# contraindication it was not told about.
PATIENT_FLAGS: Final = (
    "facial_involvement",
    "pregnant",
    "breastfeeding",
    "childbearing_potential",
    "hypersensitivity",
    "end_stage_renal_disease",
)


# Facts that cannot both hold: a patient recorded as male is neither pregnant nor of childbearing
# potential. Refused as bad input (naming the flag) wherever patient facts enter: the label request, the
# API's patient record (create and change), and so the pages and the FHIR import that use it.
IMPOSSIBLE_FOR_MALE: Final = ("pregnant", "childbearing_potential")


def check_patient_facts(sex: str, flags: Mapping[str, bool]) -> None:
    """Refuse contradictory patient facts (``LabelInputError`` naming the flag, e.g. ``pregnant``)."""
    if sex != "male":
        return
    for name in IMPOSSIBLE_FOR_MALE:
        if flags.get(name):
            raise LabelInputError(name, "cannot be true for a patient recorded as male (sex: male)")


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What the request states about the patient: the facts the label's eligibility rules look at."""

    birth_date: dt.date
    sex: str
    diagnosis: str
    facial_involvement: bool
    pregnant: bool
    breastfeeding: bool
    childbearing_potential: bool
    hypersensitivity: bool
    end_stage_renal_disease: bool
    nmsc_risk_factors: bool
    concomitant_systemic: tuple[str, ...]
    excipient_reactions: tuple[str, ...] = ()

    def flag(self, name: str) -> bool:
        value = getattr(self, name)
        assert isinstance(value, bool)
        return value


@dataclass(frozen=True, slots=True)
class PlannedUse:
    """The treatment as planned: areas, sites, applications a day and their times, cream per application."""

    bsa_percent: Fraction
    areas_given: bool
    sites: tuple[str, ...]
    applications_per_day: int
    schedule: tuple[dt.time, ...]
    grams_per_application: Decimal | None
    concomitant_topicals: tuple[str, ...]
    prescriber_experienced: bool | None


class AppliedDose(NamedTuple):
    """A parsed diary entry (a named tuple: built for every entry of a diary at every check)."""

    index: int  # type: ignore[assignment]  # the input position (shadows tuple.index, unused here)
    at: dt.datetime  # in the patient's zone
    utc: dt.datetime
    bsa_percent: Fraction | None
    grams: Decimal | None
    sites: tuple[str, ...]
    local_day: dt.date


@dataclass(frozen=True, slots=True)
class Dispensed:
    index: int
    on: dt.date
    grams: Decimal
    opened_on: dt.date | None
    discarded_on: dt.date | None


@dataclass(frozen=True, slots=True)
class CourseAssessment:
    index: int
    on: dt.date
    week: int
    repigmentation_percent: Decimal


@dataclass(frozen=True, slots=True)
class CourseInput:
    started_on: dt.date
    stopped_on: dt.date | None
    assessments: tuple[CourseAssessment, ...]


@dataclass(frozen=True, slots=True)
class Request:
    ruleset: str
    on: dt.date
    zone: ZoneInfo | None
    patient: PatientFacts
    age_years: int
    age_exact: Fraction
    plan: PlannedUse | None
    applications: tuple[AppliedDose, ...]  # sorted by instant; ``index`` is the input position
    dispensed: tuple[Dispensed, ...]
    course: CourseInput | None
    assessment: VasiResult | None
    # Input position of the one application whose findings are wanted (``evaluate_application``): the
    # checks may skip what cannot concern it. None: every finding.
    focus: int | None = None
