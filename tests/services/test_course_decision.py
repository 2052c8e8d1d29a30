"""The week-24/52 decision is one use case in one transaction: the course is stopped only together with
the decision, whether the door is the service itself, the REST API or the web page (tests/web)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from repigment.services.course import DEFAULT_REASON, record_decision
from repigment.services.errors import Conflict, InputError, NotFound
from repigment.store import Actor, Course, Override, Store, User
from repigment.web.labels import DECISION_REASON

PLAN = {"bsa_percent": 5.0, "areas": ["face"]}


def _course(store: Store, patient_id: int, started: dt.date | None = None) -> int:
    with store.write(Actor("test-setup")) as s:
        c = Course(
            patient_id=patient_id,
            ruleset="EU-SmPC",
            started_on=started or dt.date.today() - dt.timedelta(weeks=53),
            plan=PLAN,
            verdict="ok",
            findings=[],
        )
        s.add(c)
        s.commit()
        return c.id


@dataclass(frozen=True)
class Acting:
    user_id: int


def _clinician(store: Store, username: str) -> Acting:
    with store.read() as s:
        return Acting(s.scalars(select(User.id).where(User.username == username)).one())


def _stored(store: Store, course_id: int) -> tuple[str, dt.date | None, list[str]]:
    with store.read() as s:
        c = s.get(Course, course_id)
        assert c is not None
        rules = sorted(s.scalars(select(Override.rule).where(Override.course_id == course_id)))
        return c.status, c.stopped_on, rules


def refuse_overrides(store: Store, patient_id: int) -> None:
    """A trigger that makes every insert of an override of this patient fail (an integrity error)."""
    with store.engine.begin() as conn:
        if store.is_sqlite:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_override BEFORE INSERT ON override "
                    f"WHEN NEW.patient_id = {int(patient_id)} BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_override() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.patient_id = {int(patient_id)} THEN "
                    "RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_override BEFORE INSERT ON override "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_override()"
                )
            )


def allow_overrides(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            text("DROP TRIGGER IF EXISTS refuse_override" + ("" if store.is_sqlite else " ON override"))
        )
        if not store.is_sqlite:
            conn.execute(text("DROP FUNCTION IF EXISTS refuse_override()"))


@pytest.fixture
def seeded(store: Store, harness: Any) -> Any:
    return harness.seed_clinic(store)


def test_default_reason_is_the_one_the_pages_translate() -> None:
    assert DEFAULT_REASON == DECISION_REASON


def test_stop_stores_the_course_change_and_the_decision_together(store: Store, seeded: Any) -> None:
    patient = seeded.patients[1]
    course_id = _course(store, patient)
    user = _clinician(store, seeded.users["clinician"])
    with store.new_session(write=True, actor=Actor("test")) as db:
        decided = record_decision(
            db,
            user,
            patient_id=patient,
            course_id=course_id,
            milestone="week-52",
            choice="stop",
            reason=" No gain. ",
        )
        assert [o.reason for o in decided.overrides] == ["No gain."]
    assert _stored(store, course_id) == ("stopped", dt.date.today(), ["decision:week-52:stop"])


def test_continuing_against_a_finding_stores_one_override_per_finding(store: Store, seeded: Any) -> None:
    patient = seeded.patients[1]
    course_id = _course(store, patient)
    user = _clinician(store, seeded.users["clinician"])
    with store.new_session(write=True, actor=Actor("test")) as db:
        with pytest.raises(InputError) as e:
            record_decision(
                db, user, patient_id=patient, course_id=course_id, milestone="week-52", choice="continue",
                reason="  ", against=["EU-4.2-week52"],
            )  # fmt: skip
        assert e.value.field == "reason"
        record_decision(
            db, user, patient_id=patient, course_id=course_id, milestone="week-52", choice="continue",
            reason="Face is repigmenting.", against=["EU-4.2-week52"],
        )  # fmt: skip
    assert _stored(store, course_id) == ("active", None, ["EU-4.2-week52", "decision:week-52:continue"])


@pytest.mark.parametrize(
    ("milestone", "choice", "reason", "field"),
    [
        ("week-12", "stop", "x", "milestone"),
        ("week-52", "pause", "x", "choice"),
        ("week-24", "stop", "", "reason"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    store: Store, seeded: Any, milestone: str, choice: str, reason: str, field: str
) -> None:
    patient = seeded.patients[1]
    course_id = _course(store, patient)
    user = _clinician(store, seeded.users["clinician"])
    with store.new_session(write=True, actor=Actor("test")) as db, pytest.raises(InputError) as e:
        record_decision(
            db,
            user,
            patient_id=patient,
            course_id=course_id,
            milestone=milestone,
            choice=choice,
            reason=reason,
        )
    assert e.value.field == field
    assert _stored(store, course_id) == ("active", None, [])


def test_another_patients_course_is_not_found(store: Store, seeded: Any) -> None:
    course_id = _course(store, seeded.patients[0])
    user = _clinician(store, seeded.users["clinician"])
    with store.new_session(write=True, actor=Actor("test")) as db, pytest.raises(NotFound):
        record_decision(
            db, user, patient_id=seeded.patients[1], course_id=course_id, milestone="week-52", choice="stop",
            reason="No gain.",
        )  # fmt: skip
    assert _stored(store, course_id) == ("active", None, [])


def test_when_the_decision_cannot_be_written_the_course_is_not_stopped(store: Store, seeded: Any) -> None:
    """The second write (the decision) fails in the database: neither it nor the stop is stored."""
    patient = seeded.patients[1]
    course_id = _course(store, patient)
    user = _clinician(store, seeded.users["clinician"])
    refuse_overrides(store, patient)
    try:
        with store.new_session(write=True, actor=Actor("test")) as db, pytest.raises(Conflict):
            record_decision(
                db, user, patient_id=patient, course_id=course_id, milestone="week-52", choice="stop",
                reason="No gain.",
            )  # fmt: skip
    finally:
        allow_overrides(store)
    assert _stored(store, course_id) == ("active", None, [])


# -- the REST route ----------------------------------------------------------------------------------
@pytest.fixture
def server_store(api_server: Any) -> Iterator[Store]:
    s = Store(api_server.db_url, migrate=False)
    yield s
    s.dispose()


def test_rest_route_records_the_decision_in_one_transaction(
    http: httpx.Client, api_server: Any, server_store: Store, harness: Any
) -> None:
    seeded = harness.seed_clinic(server_store)
    patient = seeded.patients[1]
    course_id = _course(server_store, patient)
    auth = seeded.login(http, "clinician")
    url = f"/api/v1/patients/{patient}/courses/{course_id}/decision"

    r = http.post(url, json={"milestone": "week-52", "choice": "stop"}, headers=auth)
    assert r.status_code == 422 and r.json()["errors"] == [
        {"field": "body.reason", "message": "is required to stop"}
    ]
    r = http.post(
        url, json={"milestone": "week-52", "choice": "stop", "reason": "x", "extra": 1}, headers=auth
    )
    assert r.status_code == 422
    other = _course(server_store, seeded.patients[0])
    r = http.post(
        f"/api/v1/patients/{patient}/courses/{other}/decision",
        json={"milestone": "week-52", "choice": "stop", "reason": "x"},
        headers=auth,
    )
    assert r.status_code == 404
    r = http.post(
        url,
        json={"milestone": "week-52", "choice": "stop", "reason": "No gain."},
        headers=seeded.login(http, "analyst"),
    )
    assert r.status_code == 403

    refuse_overrides(server_store, patient)
    try:
        r = http.post(
            url, json={"milestone": "week-52", "choice": "stop", "reason": "No gain."}, headers=auth
        )
    finally:
        allow_overrides(server_store)
    assert r.status_code == 409, r.text
    assert _stored(server_store, course_id) == ("active", None, [])

    r = http.post(url, json={"milestone": "week-52", "choice": "stop", "reason": "No gain."}, headers=auth)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["course"]["status"] == "stopped" and body["course"]["stop_reason"] == "No gain."
    assert [o["rule"] for o in body["overrides"]] == ["decision:week-52:stop"]
    assert _stored(server_store, course_id) == ("stopped", dt.date.today(), ["decision:week-52:stop"])
