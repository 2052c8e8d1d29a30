"""Durability: a burst of diary writes, the server killed with SIGKILL mid-burst, restarted — every
acknowledged write is there exactly once, and retrying any write with its UUID never duplicates it."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from repigment.store import Application, Store, verify

WRITERS = 4
KILL_AFTER = 120  # acknowledged writes before the kill


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigkill_mid_burst_loses_no_acknowledged_write(
    backend: str, workers: int, request: pytest.FixtureRequest, _templates: Any, tmp_path: Path, harness: Any
) -> None:
    seed_clinic, start_server = harness.seed_clinic, harness.start_server
    url = harness.fresh_db_url(request, _templates, backend)
    store = Store(url, migrate=False)
    clinic = seed_clinic(store, "durability")
    pid = clinic.patients[0]
    server = start_server(url, tmp_path, workers=workers)
    with httpx.Client(base_url=server.base_url) as http:
        auth = clinic.login(http, "patient")
    path = f"/api/v1/patients/{pid}/applications"
    t0 = dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)
    lock = threading.Lock()
    acked: dict[str, dict[str, Any]] = {}
    unknown: dict[str, dict[str, Any]] = {}  # sent, answer never seen
    counter = iter(range(10**6))
    stop = threading.Event()

    def writer() -> None:
        with httpx.Client(base_url=server.base_url, headers=auth, timeout=10) as client:
            while not stop.is_set():
                with lock:
                    i = next(counter)
                body = {
                    "id": str(uuid.uuid4()),
                    "at": (t0 + dt.timedelta(hours=9 * i)).isoformat(),
                    "hand_units": 2.5,
                }
                try:
                    r = client.post(path, json=body)
                except httpx.TransportError:
                    with lock:
                        unknown[body["id"]] = body
                    return
                with lock:
                    if r.status_code == 201:
                        acked[body["id"]] = body
                    else:
                        unknown[body["id"]] = body

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while len(acked) < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.005)
    server.kill()  # SIGKILL to every server process, while the writers are still sending
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acked) >= KILL_AFTER, "the burst did not reach the kill point"

    server = start_server(url, tmp_path)
    try:
        with store.read() as s:
            stored = s.scalars(select(Application.id).where(Application.patient_id == pid)).all()
        assert len(stored) == len(set(stored))
        missing = set(acked) - set(stored)
        assert not missing, f"{len(missing)} acknowledged writes lost"
        assert set(stored) <= set(acked) | set(unknown)
        with httpx.Client(base_url=server.base_url, headers=auth, timeout=30) as client:
            # The writes whose answer was lost are retried with the same UUID: stored at most once.
            for body in unknown.values():
                r = client.post(path, json=body)
                assert r.status_code == (200 if body["id"] in stored else 201), r.text
            # Retrying acknowledged writes adds nothing.
            for body in list(acked.values())[:50]:
                assert client.post(path, json=body).status_code == 200
            listed = client.get(path, params={"limit": 1000}).json()
        ids = [e["id"] for e in listed]
        assert len(ids) == len(set(ids)) == len(acked) + len(unknown)
        with store.read() as s:
            n = s.scalar(select(func.count()).select_from(Application).where(Application.patient_id == pid))
        assert n == len(acked) + len(unknown)
        with store.engine.connect() as conn:
            report = verify(conn)
        assert report.ok, report.problems
    finally:
        server.stop()
        store.dispose()
