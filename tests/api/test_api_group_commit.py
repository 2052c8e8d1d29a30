"""Concurrent diary writes (which share commits on SQLite): each stored once, retries answered with the
stored entry, a conflicting reuse of an id refused, every entry checked against the entries before it,
and the audit chain valid with one entry per stored row — on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from repigment.store import Application, AuditEntry, Store, verify

ENTRIES = 40  # per patient


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_writes_retries_and_conflicts(
    backend: str, request: pytest.FixtureRequest, _templates: Any, tmp_path: Path, harness: Any
) -> None:
    url = harness.fresh_db_url(request, _templates, backend)
    store = Store(url, migrate=False)
    clinic = harness.seed_clinic(store, "group")
    server = harness.start_server(url, tmp_path)
    try:
        with httpx.Client(base_url=server.base_url) as http:
            auth = clinic.login(http, "clinician")
        t0 = dt.datetime(2026, 2, 1, 7, tzinfo=dt.UTC)
        bodies: list[tuple[int, dict[str, Any]]] = []
        for pid in clinic.patients:
            for i in range(ENTRIES):
                at = (t0 + dt.timedelta(hours=12 * i)).isoformat()
                bodies.append((pid, {"id": str(uuid.uuid4()), "at": at, "hand_units": 2.0, "grams": 0.5}))
        close = [  # one hour apart: whichever is checked second breaks the 8-hour interval
            (
                clinic.patients[1],
                {"id": str(uuid.uuid4()), "at": "2026-03-10T08:00:00+00:00", "hand_units": 2},
            ),
            (
                clinic.patients[1],
                {"id": str(uuid.uuid4()), "at": "2026-03-10T09:00:00+00:00", "hand_units": 2},
            ),
        ]
        retries = bodies[::7]
        conflicts = [(pid, {**b, "hand_units": 3.0}) for pid, b in bodies[3::11]]
        sends = bodies + close + retries + conflicts
        random.Random(4).shuffle(sends)  # interleaved, the same order every run

        with httpx.Client(base_url=server.base_url, headers=auth, timeout=60) as client:

            def send(item: tuple[int, dict[str, Any]]) -> tuple[str, int, dict[str, Any]]:
                pid, body = item
                r = client.post(f"/api/v1/patients/{pid}/applications", json=body)
                return body["id"], r.status_code, r.json()

            with ThreadPoolExecutor(24) as pool:
                answers = list(pool.map(send, sends))

        by_id: dict[str, list[int]] = {}
        for entry_id, status, _ in answers:
            by_id.setdefault(entry_id, []).append(status)
        conflicted = {b["id"] for _, b in conflicts}
        retried = {b["id"] for _, b in retries}
        for entry_id, statuses in by_id.items():
            if entry_id in conflicted:  # the first to arrive is stored, the other is refused
                assert sorted(statuses) in ([201, 409], [200, 201, 409]), statuses
            elif entry_id in retried:
                assert sorted(statuses) == [200, 201], statuses
            else:
                assert statuses == [201], statuses
        flagged = [
            a for entry_id, status, a in answers if status == 201 and entry_id in {b["id"] for _, b in close}
        ]
        assert sorted(f["rule"] for a in flagged for f in a["findings"]) == ["EU-4.2-interval"]

        unique = len(bodies) + len(close)
        with store.read() as s:
            assert s.scalar(select(func.count()).select_from(Application)) == unique
            audited = s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.table_name == "application", AuditEntry.action == "create")
            )
            assert audited == unique
        with store.engine.connect() as conn:
            report = verify(conn)
        assert report.ok, report.problems
    finally:
        server.stop()
        store.dispose()
