"""The clinic's settings over the API (``/api/v1/clinic/settings``): the admin's own clinic only, the same
input rules as the page, audited."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select

from repigment.store import AuditEntry, Store


def test_clinic_settings(http: httpx.Client, clinic_factory: Any, api_server: Any) -> None:
    c, other = clinic_factory(), clinic_factory()
    admin = c.login(http, "admin")
    r = http.get("/api/v1/clinic/settings", headers=admin)
    assert r.status_code == 200 and r.json() == {
        "id": c.clinic_id,
        "name": c.name,
        "timezone": "UTC",
        "default_language": "en",
    }
    r = http.put(
        "/api/v1/clinic/settings",
        json={"timezone": "Europe/Stockholm", "default_language": "sv"},
        headers=admin,
    )
    assert r.status_code == 200 and (r.json()["timezone"], r.json()["default_language"]) == (
        "Europe/Stockholm",
        "sv",
    )
    r = http.get("/api/v1/clinic/settings", headers=other.login(http, "admin"))
    assert r.json()["timezone"] == "UTC"  # another clinic's are its own
    for body, field in (
        ({"timezone": "Mars/Olympus", "default_language": "sv"}, "body.timezone"),
        ({"timezone": "UTC", "default_language": "de"}, "body.default_language"),
        ({"timezone": "UTC"}, "body.default_language"),
    ):
        r = http.put("/api/v1/clinic/settings", json=body, headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    for role in ("clinician", "analyst", "safety_officer", "patient"):
        headers = c.login(http, role)
        assert http.get("/api/v1/clinic/settings", headers=headers).status_code == 403
        body = {"timezone": "UTC", "default_language": "en"}
        assert http.put("/api/v1/clinic/settings", json=body, headers=headers).status_code == 403
    assert http.get("/api/v1/clinic/settings", headers=admin).json()["default_language"] == "sv"
    store = Store(api_server.db_url, migrate=False)
    try:
        with store.read() as s:
            entries = s.scalars(
                select(AuditEntry).where(
                    AuditEntry.table_name == "clinic",
                    AuditEntry.row_id == str(c.clinic_id),
                    AuditEntry.action == "update",
                )
            ).all()
    finally:
        store.dispose()
    assert [(e.actor, json.loads(e.new or "{}")["timezone"]) for e in entries] == [
        (c.users["admin"], "Europe/Stockholm")
    ]
