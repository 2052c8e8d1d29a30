"""Who may see and change which record: the role policy and the tenancy rule, for every door.

The role is checked first (``Forbidden``), then the patient's clinic and, for the patient role, ownership
(``NotFound``, so nothing leaks about other clinics' or patients' records). docs/api.md has the matrix.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final, TypeVar

from sqlalchemy.orm import Session

from repigment.services import deidentified as deid_out
from repigment.services.acting import Principal
from repigment.services.errors import Forbidden, NotFound
from repigment.store import Patient

READ_RECORD: Final = ("clinician", "patient", "analyst")
WRITE_RECORD: Final = ("clinician",)
WRITE_DIARY: Final = ("clinician", "patient")
READ_AE: Final = ("clinician", "patient", "analyst", "safety_officer")
WRITE_AE: Final = ("clinician", "patient")
LIST_PATIENTS: Final = ("clinician", "patient", "analyst")
CLINIC_AE: Final = ("clinician", "analyst", "safety_officer")

P = TypeVar("P")


def require_role(actor: Principal, roles: Collection[str]) -> Principal:
    """``actor`` if their role is one of ``roles``; ``Forbidden`` otherwise."""
    if actor.role not in roles:
        raise Forbidden(f"the {actor.role} role may not do this")
    return actor


def check_visible(actor: Principal, patient: P | None) -> P:
    """``patient`` (a stored patient, object or row) if ``actor`` may see it; ``NotFound`` otherwise."""
    if patient is None or getattr(patient, "clinic_id") != actor.clinic_id:  # noqa: B009
        raise NotFound("patient")
    if actor.role == "patient" and getattr(patient, "user_id") != actor.user_id:  # noqa: B009
        raise NotFound("patient")
    return patient


def visible_patient(db: Session, actor: Principal, patient_id: int) -> Patient:
    """The patient if ``actor`` may see them; ``NotFound`` for other clinics (and other patients' records)."""
    return check_visible(actor, db.get(Patient, patient_id))


def deidentify(actor: Principal) -> bool:
    """Analysts see de-identified data only."""
    return actor.role == "analyst"


def view_for(db: Session, actor: Principal, patient: Patient) -> deid_out.View | None:
    """The patient's de-identification view when ``actor`` sees de-identified data, else None."""
    return deid_out.view(db, patient) if deidentify(actor) else None
