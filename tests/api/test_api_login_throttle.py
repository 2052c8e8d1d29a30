"""Log-in throttling under parallel guesses, per (username, client address) and per client address.

Each test speaks from loopback addresses of its own (Linux routes all of 127.0.0.0/8 to ``lo``), so the
server sees distinct clients and the counts of other tests never mix in.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from repigment.services import security
from repigment.store import LoginThrottle, Store

_addresses = (f"127.{(os.getpid() >> 8) % 200 + 20}.{os.getpid() % 250}.{i}" for i in itertools.count(2))


def _client(base_url: str, address: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=60, transport=httpx.HTTPTransport(local_address=address))


def _parallel_guesses(base_url: str, address: str, username: str, n: int) -> Counter[int]:
    """``n`` log-ins with a wrong password, sent at once on ``n`` connections."""
    clients = [_client(base_url, address) for _ in range(n)]
    for c in clients:  # connected before the barrier, so that the requests really overlap
        assert c.get("/api/v1/health").status_code == 200
    barrier = threading.Barrier(n)
    codes: list[int] = []

    def guess(c: httpx.Client) -> None:
        barrier.wait()
        r = c.post("/api/v1/auth/token", json={"username": username, "password": "wrong guess 123"})
        codes.append(r.status_code)

    threads = [threading.Thread(target=guess, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    return Counter(codes)


def _failures(db_url: str, key: str) -> int:
    store = Store(db_url, migrate=False)
    try:
        with store.read() as s:
            row = s.scalars(select(LoginThrottle).where(LoginThrottle.key == key)).first()
            return 0 if row is None else row.failures
    finally:
        store.dispose()


def _check_parallel(base_url: str, db_url: str, c: Any) -> None:
    attacker, owner = next(_addresses), next(_addresses)
    user = c.users["clinician"]
    codes = _parallel_guesses(base_url, attacker, user.upper(), 12)  # case folded: one account
    # The attempts are counted before the password is checked, one after another: the sixth finds the
    # lock the fifth set (a slow machine may let the 1 s lock lapse once: at most one more check).
    assert codes[401] + codes[429] == 12, codes
    assert security.FREE_FAILURES <= codes[401] <= security.FREE_FAILURES + 1, codes
    assert codes[429] >= 12 - security.FREE_FAILURES - 1, codes
    account_key, _ = security.throttle_keys(user, attacker)
    assert _failures(db_url, account_key) == codes[401]  # every password checked was counted
    # Knowing the username is not enough to lock its owner out: from another address it opens.
    with _client(base_url, owner) as o:
        r = o.post("/api/v1/auth/token", json={"username": user, "password": c.password})
        assert r.status_code == 200, r.text


def test_parallel_guesses_are_counted_before_they_are_checked(api_server: Any, clinic_factory: Any) -> None:
    _check_parallel(api_server.base_url, api_server.db_url, clinic_factory())


def test_parallel_guesses_over_two_worker_processes(
    request: pytest.FixtureRequest, _templates: Any, tmp_path: Any, harness: Any
) -> None:
    url = harness.fresh_db_url(request, _templates, "sqlite")
    server = harness.start_server(url, tmp_path, workers=2)
    store = Store(url, migrate=False)
    try:
        _check_parallel(server.base_url, url, harness.seed_clinic(store))
    finally:
        store.dispose()
        server.stop()


def test_one_address_guessing_many_usernames_is_stopped(
    request: pytest.FixtureRequest, _templates: Any, tmp_path: Any, harness: Any
) -> None:
    url = harness.fresh_db_url(request, _templates, "sqlite")
    free = 8
    server = harness.start_server(url, tmp_path, {"REPIGMENT_LOGIN_CLIENT_FAILURES": str(free)})
    store = Store(url, migrate=False)
    try:
        c = harness.seed_clinic(store)
        spray, other = next(_addresses), next(_addresses)
        with _client(server.base_url, spray) as a:
            for i in range(free):  # a different username each time: no account lock is reached
                r = a.post(
                    "/api/v1/auth/token", json={"username": f"nobody-{i}", "password": "wrong guess 12"}
                )
                assert r.status_code == 401, (i, r.text)
            r = a.post("/api/v1/auth/token", json={"username": c.users["analyst"], "password": c.password})
            assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
            assert "from this address" in r.json()["detail"]
        with _client(server.base_url, other) as o:
            r = o.post("/api/v1/auth/token", json={"username": c.users["analyst"], "password": c.password})
            assert r.status_code == 200
    finally:
        store.dispose()
        server.stop()


def test_a_success_takes_back_its_count_and_clears_the_account(
    http: httpx.Client, clinic_factory: Any
) -> None:
    c = clinic_factory()
    address = next(_addresses)
    with _client(str(http.base_url), address) as a:
        for _ in range(4):
            r = a.post(
                "/api/v1/auth/token", json={"username": c.users["admin"], "password": "wrong guess 123"}
            )
            assert r.status_code == 401
        assert (
            a.post(
                "/api/v1/auth/token", json={"username": c.users["admin"], "password": c.password}
            ).status_code
            == 200
        )
        for _ in range(4):  # the account's count started again
            r = a.post(
                "/api/v1/auth/token", json={"username": c.users["admin"], "password": "wrong guess 123"}
            )
            assert r.status_code == 401


def test_throttle_rules() -> None:
    import datetime as dt

    now = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    row = LoginThrottle(key="client:x", failures=0)
    rule = security.ThrottleRule(free=3, forget_after=dt.timedelta(hours=1))
    for _ in range(2):
        security.record_failure(row, now, rule)
    assert row.locked_until is None and security.locked_for(row, now) == 0
    security.record_failure(row, now, rule)  # third: 2^0 s
    assert security.locked_for(row, now) == 1.0
    security.record_failure(row, now, rule)  # fourth: 2^1 s
    assert security.locked_for(row, now) == 2.0
    for _ in range(30):
        security.record_failure(row, now, rule)
    assert security.locked_for(row, now) == security.MAX_LOCK.total_seconds()
    security.forgive(row, rule)
    assert row.failures == 33
    later = now + dt.timedelta(hours=1, seconds=1)  # an hour without failures: the count starts again
    security.record_failure(row, later, rule)
    assert row.failures == 1 and security.locked_for(row, later) == 0
    assert security.throttle_keys("Demo-Clinician", "10.0.0.1") == (
        "account:10.0.0.1:demo-clinician",
        "client:10.0.0.1",
    )
