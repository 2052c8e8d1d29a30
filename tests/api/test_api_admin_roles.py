"""Changing an account's role over the API (``POST /api/v1/users/{id}/role``): admins of the same clinic
only, never one's own, a patient account keeps its role; audited."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select

from repigment.store import AuditEntry, Store


def _ids(http: httpx.Client, admin: dict[str, str]) -> dict[str, int]:
    return {u["username"]: u["id"] for u in http.get("/api/v1/users", headers=admin).json()}


def test_change_role(http: httpx.Client, clinic_factory: Any, api_server: Any) -> None:
    c = clinic_factory()
    admin = c.login(http, "admin")
    ids = _ids(http, admin)
    analyst = ids[c.users["analyst"]]
    r = http.post(f"/api/v1/users/{analyst}/role", json={"role": "safety_officer"}, headers=admin)
    assert r.status_code == 200 and r.json()["role"] == "safety_officer", r.text
    token = c.login(http, "analyst")  # the same account, now a safety officer
    assert http.get("/api/v1/me", headers=token).json()["role"] == "safety_officer"
    assert http.get("/api/v1/analytics/endpoints", headers=token).status_code == 403

    store = Store(api_server.db_url, migrate=False)
    try:
        with store.read() as s:
            entries = s.scalars(
                select(AuditEntry).where(
                    AuditEntry.table_name == "app_user", AuditEntry.row_id == str(analyst)
                )
            ).all()
    finally:
        store.dispose()
    changes = [(e.actor, json.loads(e.new or "{}")) for e in entries if e.action == "update"]
    assert (c.users["admin"], {"role": "safety_officer"}) in [
        (a, {k: v for k, v in n.items() if k == "role"}) for a, n in changes
    ]


def test_change_role_refusals(http: httpx.Client, clinic_factory: Any) -> None:
    c, other = clinic_factory(), clinic_factory()
    admin = c.login(http, "admin")
    ids = _ids(http, admin)
    me, patient, clin = ids[c.users["admin"]], ids[c.users["patient"]], ids[c.users["clinician"]]
    r = http.post(f"/api/v1/users/{me}/role", json={"role": "clinician"}, headers=admin)
    assert r.status_code == 409 and "own account" in r.text
    r = http.post(f"/api/v1/users/{patient}/role", json={"role": "clinician"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.role", r.text
    r = http.post(f"/api/v1/users/{clin}/role", json={"role": "patient"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.role"
    r = http.post(f"/api/v1/users/{clin}/role", json={"role": "wizard"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.role"
    foreign = _ids(http, other.login(http, "admin"))[other.users["clinician"]]
    r = http.post(f"/api/v1/users/{foreign}/role", json={"role": "admin"}, headers=admin)
    assert r.status_code == 404
    r = http.post(f"/api/v1/users/{clin}/role", json={"role": "admin"}, headers=c.login(http, "clinician"))
    assert r.status_code == 403
    assert {u["id"]: u["role"] for u in http.get("/api/v1/users", headers=admin).json()}[clin] == "clinician"
