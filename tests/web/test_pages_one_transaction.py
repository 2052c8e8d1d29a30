"""A page's write is one use case in one transaction: acknowledging a flagged diary entry overrides each
of its rules, and a failure on the second stores none (the page used to commit one override per rule)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from sqlalchemy import select, text
from webharness import on_sqlite

from repigment.store import Actor, Application, Override, Store

pytestmark = on_sqlite


def _clinician(base_url: str, clinic: Any) -> httpx.Client:
    c = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
    html = c.get("/login").text
    token = html.split('name="login_csrf" value="', 1)[1].split('"', 1)[0]
    r = c.post(
        "/login", data={"username": clinic.clinician, "password": clinic.password, "login_csrf": token}
    )
    assert r.status_code == 303, r.text
    return c


def test_acknowledging_an_entry_stores_an_override_for_every_rule_or_none(
    api_server: Any, base_url: str, clinic: Any
) -> None:
    patient = clinic.patients[0]
    entry = str(uuid.uuid4())
    store = Store(api_server.db_url, migrate=False)
    try:
        with store.write(Actor("test-setup")) as s:
            s.add(
                Application(
                    id=entry,
                    patient_id=patient,
                    applied_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
                    hand_units=2.0,
                    sites=[],
                    verdict="warn",
                    flagged=True,
                    findings=[{"rule": "door-rule-a"}, {"rule": "door-rule-b"}],
                )
            )
            s.commit()
        with store.engine.begin() as conn:  # the second override's insert fails
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_door_rule_b BEFORE INSERT ON override "
                    "WHEN NEW.rule = 'door-rule-b' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        c = _clinician(base_url, clinic)
        try:
            r = c.post(
                f"/clinic/patients/{patient}/applications/{entry}/acknowledge",
                data={
                    "reason": "Agreed with the patient.",
                    "csrf_token": str(c.cookies.get("repigment_csrf")),
                },
            )
            assert r.status_code == 422, r.text
            with store.read() as s:
                assert s.scalars(select(Override.rule).where(Override.application_id == entry)).all() == []
            with store.engine.begin() as conn:
                conn.execute(text("DROP TRIGGER refuse_door_rule_b"))
            r = c.post(
                f"/clinic/patients/{patient}/applications/{entry}/acknowledge",
                data={
                    "reason": "Agreed with the patient.",
                    "csrf_token": str(c.cookies.get("repigment_csrf")),
                },
            )
            assert r.status_code == 303, r.text
        finally:
            c.close()
        with store.read() as s:
            rules = s.scalars(select(Override.rule).where(Override.application_id == entry)).all()
            assert sorted(rules) == ["door-rule-a", "door-rule-b"]
    finally:
        store.dispose()
