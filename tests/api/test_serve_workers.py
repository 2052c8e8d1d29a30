"""``repigment serve --workers N``: every worker answers on the one port, a worker that dies is replaced,
and SIGTERM stops them all."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(c) for c in text)
    return found


def _wait(predicate: Any, seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def _workers(pid: int) -> set[int]:
    """The worker processes (the spawn machinery's resource tracker is not one)."""
    return {c for c in _children(pid) if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()}


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_dead_worker_is_replaced_and_sigterm_stops_all(
    request: pytest.FixtureRequest, _templates: Any, tmp_path: Path, harness: Any
) -> None:
    url = harness.fresh_db_url(request, _templates, "sqlite")
    server = harness.start_server(url, tmp_path, workers=2)
    try:

        def two_workers_without(gone: int | None) -> set[int] | None:
            w = _workers(server.proc.pid)
            return w if len(w) == 2 and gone not in w else None

        first = _wait(lambda: two_workers_without(None))
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        replaced = _wait(lambda: two_workers_without(victim))
        assert replaced - first and first - replaced == {victim}
        for _ in range(20):  # every connection is answered, whichever worker takes it
            assert httpx.get(f"{server.base_url}/api/v1/health", timeout=30).status_code == 200
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(60) == 0
        for pid in replaced:
            _wait(lambda pid=pid: not Path(f"/proc/{pid}").exists() or b"Z" in _state(pid), 30)
    finally:
        server.kill()


def _state(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except FileNotFoundError:
        return b"Z"
