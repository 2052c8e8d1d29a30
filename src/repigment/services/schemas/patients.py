"""Request and response bodies: Patients."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from repigment.deid import AgeGroup
from repigment.services.schemas.common import Diagnosis, In, Name, Out, PastDay, Sex, Short, Timezone


class _PatientFields(In):
    external_ref: Short | None = None
    timezone: Timezone = "UTC"
    diagnosis: Diagnosis = "non-segmental"
    facial_involvement: bool = True
    pregnant: bool = False
    breastfeeding: bool = False
    childbearing_potential: bool = False
    hypersensitivity: bool = False
    end_stage_renal_disease: bool = False


class PatientIn(_PatientFields):
    given_name: Name
    family_name: Name
    birth_date: PastDay
    sex: Sex


class PatientPatch(In):
    external_ref: Short | None = None
    given_name: Name | None = None
    family_name: Name | None = None
    birth_date: PastDay | None = None
    sex: Sex | None = None
    timezone: Timezone | None = None
    diagnosis: Diagnosis | None = None
    facial_involvement: bool | None = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    childbearing_potential: bool | None = None
    hypersensitivity: bool | None = None
    end_stage_renal_disease: bool | None = None


class PatientOut(Out):
    id: int
    clinic_id: int
    deidentified: Literal[False] = False
    external_ref: str | None
    given_name: str
    family_name: str
    birth_date: dt.date
    sex: Sex
    timezone: str
    diagnosis: str
    facial_involvement: bool
    pregnant: bool
    breastfeeding: bool
    childbearing_potential: bool
    hypersensitivity: bool
    end_stage_renal_disease: bool
    user_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class PatientDeidentifiedOut(Out):
    """What analysts see (``repigment.deid``): no names, reference, birth date or time zone; the age in
    completed years on the patient's day zero (their first course's start) and its band."""

    id: int
    clinic_id: int
    deidentified: Literal[True] = True
    age_years: int = Field(description="Completed years on day zero (the first course's start)")
    age_group: AgeGroup
    sex: Sex
    diagnosis: str
    facial_involvement: bool
    pregnant: bool
    breastfeeding: bool
    childbearing_potential: bool
    hypersensitivity: bool
    end_stage_renal_disease: bool
