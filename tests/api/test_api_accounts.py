"""Account life cycle over HTTP: password policy, deactivate/reactivate, reset (temporary password that
must be changed first), change own password, revoke sessions; each audited, tenancy kept."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from repigment.store import AuditEntry, Store, verify

NEW = "a brand new passphrase"


def _login(http: httpx.Client, username: str, password: str) -> httpx.Response:
    return http.post("/api/v1/auth/token", json={"username": username, "password": password})


def _bearer(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _users(http: httpx.Client, admin: dict[str, str]) -> dict[str, int]:
    return {u["username"]: u["id"] for u in http.get("/api/v1/users", headers=admin).json()}


def test_password_policy_on_account_creation(http: httpx.Client, clinic_factory: Any) -> None:
    c = clinic_factory()
    admin = c.login(http, "admin")
    name = f"n-{uuid.uuid4().hex[:8]}"
    for password, reason in (
        ("aaaaaaaa", "at least 12 characters"),  # accepted for an admin before
        ("aaaaaaaaaaaaaaa", "one character repeated"),
        ("Password123456!", "too common"),
        ("1q2w3e4r5t6y", "too common"),
        (name + "", "at least 12"),
        (name.upper() + "xyz", None),
    ):
        body = {"username": name, "password": password, "role": "admin"}
        r = http.post("/api/v1/users", json=body, headers=admin)
        if reason is None:
            assert r.status_code == 201, r.text
        else:
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.password", r.text
            assert reason in r.json()["detail"]
    r = http.post(
        "/api/v1/users", json={"username": "x" * 12, "password": "X" * 12, "role": "analyst"}, headers=admin
    )
    assert r.status_code == 422  # one character repeated, and the username itself


def test_usernames_are_compared_ignoring_case_and_a_clash_names_no_one(
    http: httpx.Client, clinic_factory: Any
) -> None:
    a, b = clinic_factory(), clinic_factory()
    other = b.users["clinician"]  # another clinic's account
    for name in (other, other.upper()):
        r = http.post(
            "/api/v1/users",
            json={"username": name, "password": NEW, "role": "clinician"},
            headers=a.login(http, "admin"),
        )
        assert r.status_code == 409, r.text
        assert other not in r.text.lower()  # the answer does not name the other clinic's user
    assert _login(http, other.upper(), b.password).status_code == 200  # log-in ignores case too


def test_deactivate_reset_and_change_password(
    http: httpx.Client, clinic_factory: Any, api_server: Any
) -> None:
    c = clinic_factory()
    admin = c.login(http, "admin")
    name = c.users["analyst"]
    uid = _users(http, admin)[name]
    first, second = _bearer(_login(http, name, c.password)), _bearer(_login(http, name, c.password))
    assert http.get("/api/v1/patients", headers=first).status_code == 200

    # Deactivated: its tokens stop working at once and it cannot log in.
    r = http.post(f"/api/v1/users/{uid}/deactivate", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    assert http.get("/api/v1/patients", headers=first).status_code == 401
    assert _login(http, name, c.password).status_code == 401
    r = http.post(f"/api/v1/users/{uid}/reactivate", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is True
    assert http.get("/api/v1/patients", headers=second).status_code == 401  # revoked, not just paused
    third = _bearer(_login(http, name, c.password))

    # Reset: a temporary password, every session revoked, nothing but a password change allowed.
    r = http.post(f"/api/v1/users/{uid}/password-reset", headers=admin)
    assert r.status_code == 200, r.text
    temporary = r.json()["temporary_password"]
    assert r.json()["user"]["must_change_password"] is True and r.json()["revoked_sessions"] == 1
    assert len(temporary) >= 12
    assert http.get("/api/v1/me", headers=third).status_code == 401
    assert _login(http, name, c.password).status_code == 401
    r = _login(http, name, temporary)
    assert r.status_code == 200 and r.json()["password_change_required"] is True
    temp = _bearer(r)
    r = http.get("/api/v1/patients", headers=temp)
    assert r.status_code == 403 and "password change required" in r.json()["detail"]
    assert http.get("/api/v1/me", headers=temp).status_code == 200
    r = http.post(
        "/api/v1/auth/password",
        json={"current_password": temporary, "new_password": "qwerty123456"},
        headers=temp,
    )
    assert r.status_code == 422 and "new_password" in r.json()["detail"]
    r = http.post(
        "/api/v1/auth/password", json={"current_password": "not it", "new_password": NEW}, headers=temp
    )
    assert r.status_code == 403 and "current_password" in r.json()["detail"]
    other = _bearer(_login(http, name, temporary))
    r = http.post(
        "/api/v1/auth/password", json={"current_password": temporary, "new_password": NEW}, headers=temp
    )
    assert r.status_code == 200 and r.json() == {"revoked_sessions": 1}
    assert http.get("/api/v1/patients", headers=temp).status_code == 200  # this session stays, now free
    assert http.get("/api/v1/me", headers=other).status_code == 401  # the other one is revoked
    assert _login(http, name, temporary).status_code == 401
    assert _login(http, name, NEW).json()["password_change_required"] is False

    # Each step is in the audit trail under the administrator or the owner, the hash never.
    store = Store(api_server.db_url, migrate=False)
    try:
        with store.read() as s:
            entries = s.scalars(
                select(AuditEntry)
                .where(AuditEntry.table_name == "app_user", AuditEntry.row_id == str(uid))
                .order_by(AuditEntry.seq)
            ).all()
        with store.engine.connect() as conn:
            assert verify(conn).ok
    finally:
        store.dispose()
    steps = [(e.actor, json.loads(e.new)) for e in entries if e.action == "update"]
    admin_name = c.users["admin"]
    assert [(a, n["active"]) for a, n in steps[:2]] == [(admin_name, False), (admin_name, True)]
    assert steps[2][0] == admin_name and steps[2][1]["must_change_password"] is True
    assert steps[3][0] == name and steps[3][1]["must_change_password"] is False
    # The hash as a digest of it (a swapped hash is detected), never the hash; a new password, a new digest.
    assert all(n["password_hash"].startswith("sha256:") for _, n in steps)
    assert steps[1][1]["password_hash"] != steps[2][1]["password_hash"] != steps[3][1]["password_hash"]
    events = [e.action for e in entries if e.action not in ("create", "update", "delete")]
    assert events.count("password_reset") == 1 and events.count("password_change") == 1
    assert all(n["sessions_revoked_at"] for _, n in steps[2:])


def test_accounts_of_other_clinics_and_ones_own(http: httpx.Client, clinic_factory: Any) -> None:
    a, b = clinic_factory(), clinic_factory()
    admin = a.login(http, "admin")
    b_ids = _users(http, b.login(http, "admin"))
    own = _users(http, admin)[a.users["admin"]]
    for action in ("deactivate", "reactivate", "password-reset", "revoke-sessions"):
        r = http.post(f"/api/v1/users/{b_ids[b.users['clinician']]}/{action}", headers=admin)
        assert r.status_code == 404 and r.json()["detail"] == "account not found"
        r = http.post(f"/api/v1/users/999999/{action}", headers=admin)
        assert r.status_code == 404
    assert http.post(f"/api/v1/users/{own}/deactivate", headers=admin).status_code == 409
    assert http.post(f"/api/v1/users/{own}/password-reset", headers=admin).status_code == 409
    r = http.post(f"/api/v1/users/{own}/revoke-sessions", headers=admin)
    assert r.status_code == 200 and http.get("/api/v1/me", headers=admin).status_code == 200
    clin = a.login(http, "clinician")
    uid = _users(http, admin)[a.users["clinician"]]
    assert http.post(f"/api/v1/users/{uid}/deactivate", headers=clin).status_code == 403


def test_revoke_my_other_sessions(http: httpx.Client, clinic_factory: Any) -> None:
    c = clinic_factory()
    phone, laptop, kiosk = (c.login(http, "clinician") for _ in range(3))
    r = http.post("/api/v1/auth/revoke-others", headers=laptop)
    assert r.status_code == 200 and r.json() == {"revoked_sessions": 2}
    assert http.get("/api/v1/me", headers=laptop).status_code == 200
    assert http.get("/api/v1/me", headers=phone).status_code == 401
    assert http.get("/api/v1/me", headers=kiosk).status_code == 401


def test_a_temporary_password_cannot_write_the_diary_by_the_fast_path(
    http: httpx.Client, clinic_factory: Any
) -> None:
    c = clinic_factory()
    admin = c.login(http, "admin")
    uid = _users(http, admin)[c.users["patient"]]
    temporary = http.post(f"/api/v1/users/{uid}/password-reset", headers=admin).json()["temporary_password"]
    temp = _bearer(_login(http, c.users["patient"], temporary))
    entry = {"id": str(uuid.uuid4()), "at": "2026-11-30T08:00:00+01:00", "hand_units": 1}
    r = http.post(f"/api/v1/patients/{c.patients[0]}/applications", json=entry, headers=temp)
    assert r.status_code == 403 and "password change required" in r.json()["detail"]
