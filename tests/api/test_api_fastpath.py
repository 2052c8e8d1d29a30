"""The diary write's lean handler (``repigment.api.fastpath``) answers exactly as the route's general
handler: the app is served over real HTTP (uvicorn on a loopback port), two identical clinics get the
same requests, one with the lean handler on and one with it off (``app.state.diary_fast_path``), and
every answer — status, headers, JSON — is the same but for the ids and times that are the clinic's own.
The requests: stored, flagged, retried and conflicting entries; bodies the model refuses (unknown
fields, wrong types, malformed JSON, JSON nested 1,000 and 100,000 deep); every refusal of the caller
(no token, a malformed header, a bad, expired or revoked token, a session cookie without or with a wrong
CSRF token, a temporary password, a role that may not write the diary, a patient of another clinic or
another patient's diary); and a failing database (503 with Retry-After), on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from repigment.app import create_app
from repigment.store import Actor, ApiToken, Store, User

SECURITY = ("x-content-type-options", "x-frame-options", "referrer-policy", "cache-control")
KEPT = ("content-type", "location", "www-authenticate", "retry-after", *SECURITY)


@contextlib.contextmanager
def serving(app: Any, port: int) -> Iterator[httpx.Client]:
    """The app behind a real uvicorn server on a loopback port (its lifespan included)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(30)


def _bearer(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _expire(store: Store, auth: dict[str, str]) -> None:
    digest = hashlib.sha256(auth["Authorization"].split()[1].encode()).hexdigest()
    with store.write(Actor("test-setup")) as s:  # through the ORM: tokens are audited rows
        tok = s.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).one()
        tok.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        s.commit()


def _temporary(store: Store, username: str) -> None:
    with store.write(Actor("test-setup")) as s:
        s.scalars(select(User).where(User.username == username)).one().must_change_password = True
        s.commit()


Call = tuple[str, str, Any, dict[str, str]]  # what, path, body (dict: JSON; str: raw), headers


def _calls(client: httpx.Client, store: Store, clinic: Any, stranger: Any) -> list[Call]:
    """The requests of the comparison, for one clinic (``stranger``: a patient of another clinic)."""
    users, pw = clinic.users, clinic.password
    doc, me, analyst = (_bearer(client, users[r], pw) for r in ("clinician", "patient", "analyst"))
    expired, revoked = _bearer(client, users["clinician"], pw), _bearer(client, users["clinician"], pw)
    _expire(store, expired)
    assert client.post("/api/v1/auth/logout", headers=revoked).status_code == 204
    safety = _bearer(client, users["safety_officer"], pw)
    admin = _bearer(client, users["admin"], pw)
    _temporary(store, users["safety_officer"])  # after logging in: its token now needs a new password
    r = client.post("/api/v1/auth/session", json={"username": users["clinician"], "password": pw})
    assert r.status_code == 200, r.text
    session = r.cookies["repigment_session"]
    csrf = r.json()["csrf_token"]
    client.cookies.clear()
    cookie = {"Cookie": f"repigment_session={session}"}

    own, other = clinic.patients
    path = f"/api/v1/patients/{own}/applications"
    first = {"id": str(uuid.uuid4()), "at": "2026-03-02T08:00:00+01:00", "hand_units": 2.0, "grams": 0.5}
    soon = {"id": str(uuid.uuid4()), "at": "2026-03-02T09:30:00+01:00", "hand_units": 12, "sites": ["lips"]}

    def new(**changes: Any) -> dict[str, Any]:
        return {**first, "id": str(uuid.uuid4()), **changes}

    entry = '{"id": "%s", "at": "2026-03-03T08:00:00+01:00", "hand_units": 1, "sites": %s}'
    return [
        ("stored", path, first, doc),
        ("stored and flagged (1.5 h later, over 10 % BSA, lips)", path, soon, me),
        ("a retry", path, first, doc),
        ("the id reused for another entry", path, {**first, "hand_units": 3.0}, doc),
        ("refused by the model", path, new(hand_units=0), doc),
        ("unknown field", path, new(extra=1), doc),
        ("wrong type: number as text", path, new(hand_units="two"), doc),
        ("wrong type: time as number", path, new(at=5), doc),
        ("wrong type: sites as text", path, new(sites="face"), doc),
        ("wrong type: id as number", path, new(id=12), doc),
        ("wrong type: body a list", path, [first], doc),
        ("not their course", path, new(course_id=999999), doc),
        ("malformed JSON", path, "{not json", doc),
        ("empty body", path, "", doc),
        ("nested 1,000 deep in a field", path, entry % (uuid.uuid4(), "[" * 1000 + "]" * 1000), doc),
        ("nested 1,000 deep", path, "[" * 1000 + "]" * 1000, doc),
        ("nested 100,000 deep", path, "{" + '"a":{' * 100_000 + "}" * 100_001, doc),
        ("no token", path, new(), {}),
        ("empty bearer token", path, new(), {"Authorization": "Bearer"}),
        ("another scheme", path, new(), {"Authorization": "Basic dXNlcjpwdw=="}),
        ("bad token", path, new(), {"Authorization": "Bearer nope"}),
        ("expired token", path, new(), expired),
        ("revoked token", path, new(), revoked),
        ("cookie without CSRF", path, new(), cookie),
        ("cookie with a wrong CSRF token", path, new(), {**cookie, "X-CSRF-Token": "0" * 64}),
        ("cookie with its CSRF token", path, new(), {**cookie, "X-CSRF-Token": csrf}),
        ("a bearer token and a cookie without CSRF", path, new(), {**doc, **cookie}),
        ("temporary password", path, new(), safety),
        ("role may not write the diary (analyst)", path, new(), analyst),
        ("role may not write the diary (admin)", path, new(), admin),
        ("another patient's diary", f"/api/v1/patients/{other}/applications", new(), me),
        ("another clinic's patient", f"/api/v1/patients/{stranger}/applications", new(), doc),
        ("no such patient", "/api/v1/patients/2147483647/applications", new(), doc),
        ("path id out of range", "/api/v1/patients/99999999999/applications", new(), doc),
        ("path id zero", "/api/v1/patients/0/applications", new(), doc),
        ("path id not a number", "/api/v1/patients/abc/applications", new(), doc),
        ("form body", path, "id=1&at=2026", {**doc, "content-type": "application/x-www-form-urlencoded"}),
    ]


def _send(client: httpx.Client, call: Call) -> tuple[int, dict[str, str], Any]:
    _, url, body, headers = call
    if isinstance(body, str):
        r = client.post(url, content=body, headers={"content-type": "application/json", **headers})
    else:
        r = client.post(url, json=body, headers=headers)
    kept = {k: r.headers[k] for k in KEPT if k in r.headers}
    return r.status_code, kept, r.json()


def _neutral(value: Any, clinic: Any) -> Any:
    """The answer with this clinic's own ids and the server's times replaced by placeholders."""
    text = repr(value)
    for i, pid in enumerate(clinic.patients):
        text = re.sub(rf"patients/{pid}\b", f"patients/P{i}", text).replace(
            f"'patient_id': {pid}", f"'patient_id': P{i}"
        )
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    return re.sub(r"'created_at': '[^']*'", "'created_at': T", text)


EXPECTED = [201, 201, 200, 409, *[422] * 13, *[401] * 6, 403, 403, 201, 201, 403, 403, 403]
EXPECTED += [404, 404, 404, 422, 422, 422, 422]


def test_fast_path_answers_as_the_route(store: Store, harness: Any) -> None:
    app = create_app(store, web=False)
    fast_clinic, slow_clinic = harness.seed_clinic(store, "fast"), harness.seed_clinic(store, "slow")
    stranger = harness.seed_clinic(store, "other").patients[0]
    with serving(app, harness.free_port()) as client:
        app.state.diary_fast_path = True
        fast_calls = _calls(client, store, fast_clinic, stranger)
        fast = [_send(client, call) for call in fast_calls]
        served = app.state.diary_fast_path_answers
        app.state.diary_fast_path = False
        slow = [_send(client, call) for call in _calls(client, store, slow_clinic, stranger)]
        assert app.state.diary_fast_path_answers == served  # off: nothing more through it
    assert served == 3, "the two stored entries and the retry are answered by the lean handler"
    assert [s for s, _, _ in fast] == EXPECTED, list(zip([c[0] for c in fast_calls], fast, strict=True))
    flagged = fast[1][2]
    assert flagged["flagged"] and {f["rule"] for f in flagged["findings"]} >= {"EU-4.2-interval"}
    for (what, *_), (fs, fh, fb), (ss, sh, sb) in zip(fast_calls, fast, slow, strict=True):
        assert (fs, _neutral(fh, fast_clinic), _neutral(fb, fast_clinic)) == (
            ss,
            _neutral(sh, slow_clinic),
            _neutral(sb, slow_clinic),
        ), what
        assert set(SECURITY) <= set(fh), what


@contextlib.contextmanager
def _failing(store: Store, postgres_url: str | None) -> Iterator[None]:
    """The database failing under the running app: on SQLite another process's write lock held past
    the writer's (shortened) busy timeout; on PostgreSQL every connection cut and new ones refused."""
    if store.is_sqlite:
        holder = sqlite3.connect(str(store.sqlite_path), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    import psycopg

    from repigment.store.db import libpq_url

    assert postgres_url is not None
    name = make_url(store.url).database
    with psycopg.connect(libpq_url(postgres_url), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        try:
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


def test_a_failing_database_is_a_503_with_retry_after_on_both_paths(
    store: Store, harness: Any, request: pytest.FixtureRequest
) -> None:
    if store.is_sqlite:  # the diary writer waits 0.2 s for the write lock, not 30 s

        @event.listens_for(store.write_engine, "connect")
        def _short(dbapi_conn: Any, _: Any) -> None:
            dbapi_conn.execute("PRAGMA busy_timeout=200")

        store.write_engine.dispose()
    pg = None if store.is_sqlite else request.getfixturevalue("postgres_url")
    app = create_app(store, web=False)
    clinic = harness.seed_clinic(store, "failing")
    path = f"/api/v1/patients/{clinic.patients[0]}/applications"

    def entry(hour: int) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "at": f"2026-03-0{hour}T08:00:00+01:00", "hand_units": 1}

    with serving(app, harness.free_port()) as client:
        doc = _bearer(client, clinic.users["clinician"], clinic.password)
        assert client.post(path, json=entry(1), headers=doc).status_code == 201  # connections open
        answers = []
        with _failing(store, pg):
            for on in (True, False):
                app.state.diary_fast_path = on
                r = client.post(path, json=entry(2), headers=doc)
                answers.append((r.status_code, r.headers.get("retry-after"), r.json()))
        for on in (True, False):  # and once the database is back, both paths write again
            app.state.diary_fast_path = on
            r = client.post(path, json=entry(3 + on), headers=doc)
            assert r.status_code == 201, r.text
    busy = {"detail": "the database is busy or unavailable: retry shortly"}
    assert answers == [(503, "1", busy), (503, "1", busy)]
