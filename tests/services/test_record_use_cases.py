"""The record's use cases (``repigment.services``): one transaction each, the role policy and the tenancy rule
in the use case whatever the door, the application's own errors (mapped to HTTP only by the API)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text

from repigment.api.app import service_http_error
from repigment.services import access, overrides, patients
from repigment.services.acting import Principal
from repigment.services.errors import Conflict, Forbidden, InputError, NotFound
from repigment.services.schemas import OverrideIn, PatientIn
from repigment.store import Override, Patient, Store, User


@pytest.fixture
def seeded(store: Store, harness: Any) -> Any:
    return harness.seed_clinic(store)


def _principal(store: Store, username: str) -> Principal:
    with store.read() as s:
        u = s.scalars(select(User).where(User.username == username)).one()
        return Principal(u.id, u.username, u.role, u.clinic_id, token_id=0, via_cookie=False)


def refuse_rule(store: Store, rule: str) -> None:
    """A trigger that makes the insert of an override of ``rule`` fail (an integrity error)."""
    with store.engine.begin() as conn:
        if store.is_sqlite:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_rule BEFORE INSERT ON override "
                    f"WHEN NEW.rule = '{rule}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_rule() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.rule = '{rule}' THEN "
                    "RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_rule BEFORE INSERT ON override "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_rule()"
                )
            )


def test_several_overrides_are_stored_together_or_not_at_all(store: Store, seeded: Any) -> None:
    """Acknowledging a flagged diary entry overrides each of its rules: the second failing stores none."""
    clinician = _principal(store, seeded.users["clinician"])
    refuse_rule(store, "rule-b")
    bodies = [OverrideIn(rule=r, reason="Agreed with the patient.") for r in ("rule-a", "rule-b")]
    with store.new_session(write=True) as db:
        patient = access.visible_patient(db, clinician, seeded.patients[1])
        with pytest.raises(Conflict):
            overrides.create_overrides(db, clinician, patient, bodies)
    with store.read() as s:
        assert s.scalars(select(Override.rule).where(Override.patient_id == seeded.patients[1])).all() == []


@pytest.mark.parametrize("role", ["analyst", "safety_officer", "admin", "patient"])
def test_only_a_clinician_registers_a_patient_whatever_the_door(store: Store, seeded: Any, role: str) -> None:
    actor = _principal(store, seeded.users[role])
    body = PatientIn(given_name="Ida", family_name="Door", birth_date=dt.date(1990, 1, 1), sex="female")
    with store.new_session(write=True) as db, pytest.raises(Forbidden) as e:
        patients.create_patient(db, actor, body)
    assert service_http_error(e.value).status_code == 403
    with store.read() as s:
        assert s.scalars(select(Patient).where(Patient.given_name == "Ida")).all() == []


def test_another_clinics_patient_is_not_found(store: Store, seeded: Any, harness: Any) -> None:
    other = harness.seed_clinic(store)
    clinician = _principal(store, seeded.users["clinician"])
    with store.read() as db, pytest.raises(NotFound) as e:
        access.visible_patient(db, clinician, other.patients[0])
    assert service_http_error(e.value).status_code == 404


def test_an_input_error_names_its_field_as_the_door_sent_it() -> None:
    assert InputError("visited_on", "x").path == "body.visited_on"
    assert InputError("since", "x", where="query").path == "query.since"
    assert InputError("patient.birth_date", "x", where=None).path == "patient.birth_date"
    http = service_http_error(InputError("since", "leave it out", where="query"))
    assert http.status_code == 422 and http.detail["errors"] == [
        {"field": "query.since", "message": "leave it out"}
    ]
