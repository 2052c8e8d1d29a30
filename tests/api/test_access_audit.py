"""Reads audited: log-ins and log-outs (success and failure), reads and exports of a record, each an entry
of the hash-chained trail naming who, when and whose record; ``repigment audit list`` and ``export``
filter them by user, patient and day. Reads recorded concurrently keep the chain whole; diary writes
record no access event."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import select
from typer.testing import CliRunner

from repigment.cli import app as cli_app
from repigment.store import AuditEntry, Store, verify


def _events(api_server: Any, since_seq: int = 0) -> list[dict[str, Any]]:
    store = Store(api_server.db_url, migrate=False)
    try:
        with store.read() as s:
            rows = s.scalars(
                select(AuditEntry).where(AuditEntry.seq > since_seq).order_by(AuditEntry.seq)
            ).all()
            return [
                {
                    "seq": e.seq,
                    "actor": e.actor,
                    "user_id": e.user_id,
                    "action": e.action,
                    "table": e.table_name,
                    "row": e.row_id,
                    "new": json.loads(e.new) if e.new else None,
                }
                for e in rows
            ]
    finally:
        store.dispose()


def _head(api_server: Any) -> int:
    events = _events(api_server)
    return events[-1]["seq"] if events else 0


def _verify(api_server: Any) -> list[str]:
    store = Store(api_server.db_url, migrate=False)
    try:
        with store.engine.connect() as conn:
            return verify(conn).problems
    finally:
        store.dispose()


def test_logins_and_logouts_success_and_failure(
    http: httpx.Client, clinic_factory: Any, api_server: Any
) -> None:
    c = clinic_factory()
    name = c.users["clinician"]
    start = _head(api_server)
    for _ in range(2):
        r = http.post("/api/v1/auth/token", json={"username": name, "password": "not the password"})
        assert r.status_code == 401
    r = http.post(
        "/api/v1/auth/token", json={"username": "no-such-user-" + uuid.uuid4().hex[:6], "password": "x"}
    )
    assert r.status_code == 401
    auth = c.login(http, "clinician")  # the success that clears the throttle keeps the failures on record
    assert http.post("/api/v1/auth/logout", headers=auth).status_code == 204
    events = [e for e in _events(api_server, start) if e["action"] in ("login", "login_failed", "logout")]
    failed = [e for e in events if e["action"] == "login_failed"]
    assert [e["new"]["username"] for e in failed[:2]] == [name, name]
    assert failed[0]["actor"] == "anonymous" and failed[0]["row"] != "" and failed[2]["row"] == ""
    assert failed[0]["new"]["client"] == "127.0.0.1" and failed[0]["new"]["kind"] == "bearer"
    (login,) = [e for e in events if e["action"] == "login"]
    (logout,) = [e for e in events if e["action"] == "logout"]
    assert login["actor"] == name and login["new"]["token_id"] == logout["new"]["token_id"]
    tokens = [e for e in _events(api_server, start) if e["table"] == "api_token"]
    assert [e["action"] for e in tokens] == ["create", "update"]  # issued, then revoked
    assert tokens[0]["row"] == str(login["new"]["token_id"]) and tokens[1]["new"]["revoked_at"] is not None
    assert _verify(api_server) == []


def test_reads_and_exports_of_a_record_are_recorded(
    http: httpx.Client, clinic_factory: Any, api_server: Any
) -> None:
    c = clinic_factory()
    pid, own = c.patients[1], c.patients[0]
    doc, analyst, me = (c.login(http, r) for r in ("clinician", "analyst", "patient"))
    start = _head(api_server)
    assert http.get(f"/api/v1/patients/{pid}", headers=doc).status_code == 200
    assert http.get(f"/api/v1/patients/{pid}/visits", headers=analyst).status_code == 200
    assert http.get(f"/api/v1/patients/{pid}/fhir", headers=doc).status_code == 200
    assert http.get(f"/api/v1/patients/{own}", headers=me).status_code == 200  # own record: not a read event
    assert http.get(f"/api/v1/patients/{own}/fhir", headers=me).status_code == 200  # an export, recorded
    assert http.get(f"/api/v1/patients/{pid}", headers=c.login(http, "admin")).status_code == 403  # refused
    got = [e for e in _events(api_server, start) if e["action"] in ("read", "export")]
    seen = [
        (e["actor"], e["action"], e["new"]["patient_id"], e["new"]["path"], e["new"]["deidentified"])
        for e in got
    ]
    assert seen == [
        (c.users["clinician"], "read", pid, f"/api/v1/patients/{pid}", False),
        (c.users["analyst"], "read", pid, f"/api/v1/patients/{pid}/visits", True),
        (c.users["clinician"], "export", pid, f"/api/v1/patients/{pid}/fhir", False),
        (c.users["patient"], "export", own, f"/api/v1/patients/{own}/fhir", False),
    ]
    assert got[-1]["new"]["format"] == "fhir" and got[0]["user_id"] is not None
    assert _verify(api_server) == []


def test_concurrent_reads_keep_the_chain_whole_and_diary_writes_record_none(
    http: httpx.Client, clinic_factory: Any, api_server: Any
) -> None:
    c = clinic_factory()
    pid = c.patients[0]
    doc = c.login(http, "clinician")
    start = _head(api_server)

    def read(_: int) -> int:
        with httpx.Client(base_url=api_server.base_url, timeout=60) as client:
            return client.get(f"/api/v1/patients/{pid}", headers=doc).status_code

    with ThreadPoolExecutor(12) as pool:
        assert list(pool.map(read, range(36))) == [200] * 36
    reads = [e for e in _events(api_server, start) if e["action"] == "read" and e["new"]["patient_id"] == pid]
    assert len(reads) == 36
    assert _verify(api_server) == []
    # A diary entry is an audited row, and nothing else.
    me = c.login(http, "patient")
    mark = _head(api_server)
    body = {"id": str(uuid.uuid4()), "at": "2026-11-30T08:00:00+01:00", "hand_units": 1, "sites": ["face"]}
    assert http.post(f"/api/v1/patients/{pid}/applications", json=body, headers=me).status_code == 201
    assert [(e["action"], e["table"]) for e in _events(api_server, mark)] == [("create", "application")]


def _cli(api_server: Any, *args: str) -> Any:
    return CliRunner().invoke(cli_app, list(args), env={"REPIGMENT_DATABASE_URL": api_server.db_url})


def test_audit_list_and_export_filter_by_user_patient_and_day(
    http: httpx.Client, clinic_factory: Any, api_server: Any
) -> None:
    c = clinic_factory()
    pid = c.patients[1]
    doc = c.login(http, "clinician")
    http.post("/api/v1/auth/token", json={"username": c.users["analyst"], "password": "wrong"})
    assert http.get(f"/api/v1/patients/{pid}", headers=doc).status_code == 200
    today = dt.datetime.now(dt.UTC).date().isoformat()

    r = _cli(api_server, "audit", "list", "--patient", str(pid), "--action", "read", "--since", today)
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(x["actor"], x["action"], x["patient_id"]) for x in lines] == [
        (c.users["clinician"], "read", pid)
    ]
    assert set(lines[0]) == {
        "seq",
        "at",
        "actor",
        "user_id",
        "action",
        "table_name",
        "row_id",
        "patient_id",
        "detail",
    }
    # A user's failed log-ins, by the username tried.
    r = _cli(api_server, "audit", "list", "--user", c.users["analyst"], "--action", "login_failed")
    assert [json.loads(x)["detail"]["username"] for x in r.stdout.splitlines()] == [c.users["analyst"]]
    # The patient's record over its whole life: creation, then the read.
    r = _cli(api_server, "audit", "list", "--patient", str(pid))
    actions = [(x["action"], x["table_name"]) for x in map(json.loads, r.stdout.splitlines())]
    assert actions[0] == ("create", "patient") and ("read", "patient") in actions
    # Nothing before the trail began, nothing after today.
    r = _cli(api_server, "audit", "list", "--patient", str(pid), "--until", "2000-01-01")
    assert r.exit_code == 0 and r.stdout == ""
    # CSV for an inspector.
    r = _cli(api_server, "audit", "export", "-", "--patient", str(pid), "--action", "read")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["actor"], x["action"], x["patient_id"]) for x in rows] == [
        (c.users["clinician"], "read", str(pid))
    ]
    assert json.loads(rows[0]["detail"])["path"] == f"/api/v1/patients/{pid}"
    # Bad filters: exit 2 naming the option.
    for args, message in (
        (("--since", "yesterday"), "--since must be a date"),
        (("--action", "peek"), "--action must be one of"),
        (("--since", "2026-02-02", "--until", "2026-02-01"), "--until must not be before --since"),
    ):
        r = _cli(api_server, "audit", "list", *args)
        assert r.exit_code == 2 and message in r.stderr, r.output


def test_password_changes_and_throttled_attempts_are_recorded(
    http: httpx.Client, clinic_factory: Any, api_server: Any
) -> None:
    c = clinic_factory()
    name = c.users["analyst"]
    auth = c.login(http, "analyst")
    start = _head(api_server)
    new = "a fresh long passphrase " + uuid.uuid4().hex[:6]
    r = http.post(
        "/api/v1/auth/password", json={"current_password": c.password, "new_password": new}, headers=auth
    )
    assert r.status_code == 200, r.text
    (changed,) = [e for e in _events(api_server, start) if e["action"] == "password_change"]
    assert (changed["actor"], changed["row"]) == (name, str(changed["user_id"]))
    # Guess until the throttle refuses: each refusal is a failed log-in too, with its reason.
    statuses = [
        http.post("/api/v1/auth/token", json={"username": name, "password": f"guess {i}"}).status_code
        for i in range(8)
    ]
    assert 429 in statuses
    failed = [e["new"]["reason"] for e in _events(api_server, start) if e["action"] == "login_failed"]
    assert failed.count("credentials") == statuses.count(401) and failed.count("throttled") == statuses.count(
        429
    )
    assert _verify(api_server) == []
