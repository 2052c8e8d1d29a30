"""Concurrent diary writes (which share commits): each stored once, retries answered with the stored
entry, a conflicting reuse of an id refused, every entry checked against exactly the entries committed
before it (recomputed here, in the audit trail's order), and the audit chain valid with one entry per
stored row — on SQLite and on PostgreSQL, with one and with two server processes."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from repigment.label import evaluate_application
from repigment.services import checks
from repigment.store import Application, AuditEntry, Patient, Store, verify

ENTRIES = 40  # per patient


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_writes_retries_and_conflicts(
    backend: str, workers: int, request: pytest.FixtureRequest, _templates: Any, tmp_path: Path, harness: Any
) -> None:
    url = harness.fresh_db_url(request, _templates, backend)
    store = Store(url, migrate=False)
    clinic = harness.seed_clinic(store, "group")
    server = harness.start_server(url, tmp_path, workers=workers)
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
            if entry_id in conflicted and entry_id in retried:  # sent 3 times: either version may win
                assert sorted(statuses) in ([200, 201, 409], [201, 409, 409]), statuses
            elif entry_id in conflicted:  # the first to arrive is stored, the other is refused
                assert sorted(statuses) == [201, 409], statuses
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
            _assert_checked_against_earlier_commits(conn)
    finally:
        server.stop()
        store.dispose()


def _assert_checked_against_earlier_commits(conn: Any) -> None:
    """Each stored entry's verdict and findings are the label engine's on the entries of its patient
    committed before it (the audit trail gives the commit order), as if the writes had run one by one."""
    order = conn.execute(
        select(AuditEntry.row_id)
        .where(AuditEntry.table_name == "application", AuditEntry.action == "create")
        .order_by(AuditEntry.seq)
    ).scalars()
    rows = {a.id: a for a in conn.execute(select(Application)).all()}
    patients = {p.id: p for p in conn.execute(select(Patient)).all()}
    committed: list[Any] = []
    for rid in order:
        a, p = rows[rid], patients[rows[rid].patient_id]
        local_day, window = checks._window(a.applied_at, ZoneInfo(p.timezone))
        earlier = sorted(
            (
                e
                for e in committed
                if e.patient_id == p.id and window["since"] <= e.applied_at < window["until"]
            ),
            key=lambda e: (e.applied_at, e.id),
        )
        course = checks.course_for(conn, p.id, a.course_id, local_day)
        result = evaluate_application(
            [checks._entry(e.applied_at, e.hand_units, e.grams, e.sites) for e in earlier],
            checks._entry(a.applied_at, a.hand_units, a.grams, a.sites),
            checks.patient_facts(p),
            ruleset=course.ruleset if course else checks.DEFAULT_RULESET,
            timezone=p.timezone,
            plan=course.plan if course else None,
            dispensed=checks._dispensed(conn, p.id, local_day),
        )
        assert (a.verdict, a.findings) == (result.verdict, checks._findings(result)), a.id
        committed.append(a)
