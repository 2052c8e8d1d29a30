"""A patient's record as plain values, independent of the store: what FHIR export reads and import returns.

Ids are strings: on export they name the FHIR resources, on import they are the ids the Bundle carried
(the store gives imported rows its own).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PatientData:
    id: str
    given_name: str
    family_name: str
    birth_date: dt.date
    sex: str  # female | male | other | unknown (FHIR AdministrativeGender uses the same words)
    timezone: str = "UTC"
    external_ref: str | None = None
    diagnosis: str = "non-segmental"  # non-segmental | segmental | mixed | unclassified
    facial_involvement: bool = True


@dataclass(frozen=True, slots=True)
class PrescriptionData:
    id: str
    prescribed_on: dt.date
    grams: float
    dispensed_on: dt.date | None = None
    opened_on: dt.date | None = None
    instructions: str | None = None


@dataclass(frozen=True, slots=True)
class ApplicationData:
    """One diary entry: an application of the cream."""

    id: str
    applied_at: dt.datetime  # timezone-aware
    hand_units: float
    sites: tuple[str, ...] = ()
    grams: float | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RegionData:
    hand_units: float
    vasi: float


@dataclass(frozen=True, slots=True)
class PatchData:
    """One scored patch as entered: the assessment's raw input, so an import can score it again."""

    region: str
    hand_units: float
    depigmentation_percent: int


@dataclass(frozen=True, slots=True)
class AssessmentData:
    """A scored visit: the four scores, the per-region breakdown and the provenance of the numbers."""

    id: str
    assessed_on: dt.date
    f_vasi: float
    t_vasi: float
    f_bsa_percent: float
    t_bsa_percent: float
    regions: dict[str, RegionData]
    face_includes_eyelids: bool
    t_vasi_includes_head_neck: bool
    age_years: float
    body_model: str
    hand_unit_convention: str
    week: int | None = None
    patches: tuple[PatchData, ...] = ()


@dataclass(frozen=True, slots=True)
class AdverseEventData:
    id: str
    term: str
    onset_on: dt.date
    serious: bool
    seriousness_criteria: tuple[str, ...] = ()  # death, life_threatening, hospitalisation, disability, …
    outcome: str = (
        "unknown"  # recovered | recovering | not_recovered | recovered_with_sequelae | fatal | unknown
    )
    causality: str = (
        "not_assessed"  # related | possibly_related | unlikely_related | not_related | not_assessed
    )
    description: str | None = None
    meddra_code: str | None = None
    meddra_version: str | None = None


@dataclass(frozen=True, slots=True)
class VnsData:
    """A Vitiligo Noticeability Scale answer (1–5)."""

    id: str
    answered_on: dt.date
    score: int


@dataclass(frozen=True, slots=True)
class PatientRecord:
    patient: PatientData
    prescriptions: tuple[PrescriptionData, ...] = ()
    applications: tuple[ApplicationData, ...] = ()
    assessments: tuple[AssessmentData, ...] = ()
    adverse_events: tuple[AdverseEventData, ...] = ()
    vns: tuple[VnsData, ...] = field(default=())
