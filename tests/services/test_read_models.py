"""The read models and authentication as use cases, called directly (no HTTP): who may read what, the
access event each read names, de-identification for analysts, and the session rules the API and the pages
share (``repigment.services.records``, ``repigment.services.auth``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from repigment.services import auth, records, security
from repigment.services.access_log import Channel
from repigment.services.acting import Principal
from repigment.services.errors import Forbidden, NotFound, Unauthenticated
from repigment.store import Actor, ApiToken, Course, Store, User

CHANNEL = Channel("api", "/api/v1/patients/1/state", "127.0.0.1")
START = dt.date(2025, 1, 6)
TODAY = START + dt.timedelta(weeks=25)


def _principal(store: Store, username: str, patient_id: int | None = None) -> Principal:
    with store.read() as s:
        u = s.scalars(select(User).where(User.username == username)).one()
        return Principal(
            u.id, u.username, u.role, u.clinic_id, token_id=0, via_cookie=False, patient_id=patient_id
        )


@pytest.fixture
def seeded(store: Store, harness: Any) -> Any:
    c = harness.seed_clinic(store)
    with store.write(Actor("test-setup")) as s:
        s.add(
            Course(
                patient_id=c.patients[0],
                ruleset="opzelura-eu-2023",
                started_on=START,
                plan={"areas": [{"region": "face", "hand_units": 1}], "sites": ["face"]},
                verdict="ok",
                findings=[],
            )
        )
        s.commit()
    return c


def test_who_may_read_a_record(store: Store, seeded: Any, harness: Any) -> None:
    other = harness.seed_clinic(store)
    pid = seeded.patients[0]
    doc = _principal(store, seeded.users["clinician"])
    with store.read() as db:
        read = records.patient_state(db, doc, pid, channel=CHANNEL, today=TODAY)
        assert read.value.state is not None and read.value.state.week == 25
        assert read.value.state.review.status == "due"  # week 24 passed without an assessment
        assert [f.kind for f in read.value.flags] == ["review_due"]
        assert read.access is not None and read.access.action == "read"
        assert (read.access.table_name, read.access.patient_id) == ("patient", pid)
        assert read.access.detail == {
            "via": "api",
            "path": CHANNEL.path,
            "client": "127.0.0.1",
            "role": "clinician",
            "deidentified": False,
        }
        with pytest.raises(NotFound):  # another clinic's patient: as if it did not exist
            records.patient_state(db, _principal(store, other.users["clinician"]), pid, channel=CHANNEL)
        with pytest.raises(NotFound):
            records.patient_timeline(db, doc, 2**31 - 2, channel=CHANNEL)
        for role in ("safety_officer", "admin"):
            with pytest.raises(Forbidden):
                records.patient_progress(db, _principal(store, seeded.users[role]), pid, channel=CHANNEL)
        me = _principal(store, seeded.users["patient"], patient_id=pid)
        own = records.patient_progress(db, me, pid, channel=CHANNEL)
        assert own.access is None  # a patient's reads of their own record are not recorded
        with pytest.raises(NotFound):  # another patient of the same clinic
            records.patient_progress(db, me, seeded.patients[1], channel=CHANNEL)
        with pytest.raises(Forbidden):  # the patient list is the clinic's
            records.clinic_overview(db, me)
        rows = records.clinic_overview(db, doc, today=TODAY)
        assert [r.patient.id for r in rows] == [pid, seeded.patients[1]]  # flagged first


def test_analysts_read_study_days(store: Store, seeded: Any) -> None:
    pid = seeded.patients[0]
    analyst = _principal(store, seeded.users["analyst"])
    with store.read() as db:
        read = records.patient_state(db, analyst, pid, channel=CHANNEL, today=TODAY)
    s = read.value.state
    assert read.value.deidentified and s is not None
    assert (s.on, s.day, s.started_on, s.start_day) == (None, (TODAY - START).days, None, 0)
    assert (s.review.on, s.review.day) == (None, 168)
    assert read.access is not None and read.access.detail["deidentified"] is True


def _token(store: Store, username: str, *, expires_in: dt.timedelta, revoked: bool = False) -> str:
    token = security.new_token()
    now = dt.datetime.now(dt.UTC)
    with store.write(Actor("test-setup")) as s:
        u = s.scalars(select(User).where(User.username == username)).one()
        s.add(
            ApiToken(
                user_id=u.id,
                token_hash=security.token_digest(token),
                kind="session",
                created_at=now,
                expires_at=now + expires_in,
                revoked_at=now if revoked else None,
            )
        )
        s.commit()
    return token


def test_sessions_are_judged_once_for_every_door(store: Store, seeded: Any) -> None:
    name = seeded.users["clinician"]
    good = _token(store, name, expires_in=dt.timedelta(hours=1))
    who = auth.authenticate_in(store, good, via_cookie=True, temporary_allowed=False)
    assert (who.username, who.role, who.via_cookie) == (name, "clinician", True)
    for bad in (
        None,
        "",
        "no such token",
        _token(store, name, expires_in=dt.timedelta(seconds=-1)),
        _token(store, name, expires_in=dt.timedelta(hours=1), revoked=True),
    ):
        with pytest.raises(Unauthenticated):
            auth.authenticate_in(store, bad, via_cookie=True, temporary_allowed=False)
    with store.write(Actor("test-setup")) as s:
        u = s.scalars(select(User).where(User.username == name)).one()
        u.must_change_password = True
        s.commit()
    with pytest.raises(auth.PasswordChangeRequired):
        auth.authenticate_in(store, good, via_cookie=True, temporary_allowed=False)
    assert auth.authenticate_in(store, good, via_cookie=True, temporary_allowed=True).must_change_password


def test_csrf_rule() -> None:
    token = security.new_token()
    assert auth.csrf_required("POST", bearer=False, session_token=token)
    assert not auth.csrf_required("GET", bearer=False, session_token=token)
    assert not auth.csrf_required("POST", bearer=True, session_token=token)
    assert not auth.csrf_required("POST", bearer=False, session_token=None)
    auth.check_csrf(token, security.csrf_for(token))
    for wrong in (None, "", security.csrf_for(token + "x")):
        with pytest.raises(Forbidden):
            auth.check_csrf(token, wrong)
    session, csrf = auth.session_cookies(token, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), https=True)
    assert (session.name, session.httponly, session.samesite) == ("__Host-repigment_session", True, "lax")
    assert (csrf.name, csrf.value, csrf.httponly) == (
        "__Host-repigment_csrf",
        security.csrf_for(token),
        False,
    )
