"""Authentication: tokens (random, stored hashed, expiring, revocable), throttling, session cookies, CSRF."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import httpx
from sqlalchemy import select

from repigment.store import Actor, ApiToken, Store, User


def _store(api_server: Any) -> Store:
    return Store(api_server.db_url, migrate=False)


def test_token_me_logout(http: httpx.Client, clinic_factory: Any, api_server: Any) -> None:
    c = clinic_factory()
    r = http.post("/api/v1/auth/token", json={"username": c.users["clinician"], "password": c.password})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and len(body["access_token"]) >= 40
    expires = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert dt.timedelta(hours=7) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=8)
    auth = {"Authorization": f"Bearer {body['access_token']}"}
    me = http.get("/api/v1/me", headers=auth).json()
    assert me["username"] == c.users["clinician"] and me["role"] == "clinician" and me["clinic"] == c.name
    # Stored hashed: the database holds the SHA-256, never the token; passwords are argon2id.
    store = _store(api_server)
    with store.read() as s:
        digests = s.scalars(select(ApiToken.token_hash)).all()
        assert hashlib.sha256(body["access_token"].encode()).hexdigest() in digests
        assert body["access_token"] not in digests
        pw = s.scalars(select(User.password_hash).where(User.username == c.users["clinician"])).one()
        assert pw.startswith("$argon2id$")
    store.dispose()
    assert http.post("/api/v1/auth/logout", headers=auth).status_code == 204
    r = http.get("/api/v1/me", headers=auth)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_expired_token_is_refused(http: httpx.Client, clinic_factory: Any, api_server: Any) -> None:
    c = clinic_factory()
    auth = c.login(http, "analyst")
    assert http.get("/api/v1/me", headers=auth).status_code == 200
    store = _store(api_server)
    digest = hashlib.sha256(auth["Authorization"].split()[1].encode()).hexdigest()
    with store.write(Actor("test-setup")) as s:  # through the ORM: tokens are audited rows
        tok = s.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).one()
        tok.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        s.commit()
    store.dispose()
    assert http.get("/api/v1/me", headers=auth).status_code == 401


def test_bad_credentials_and_malformed_headers(http: httpx.Client, clinic_factory: Any) -> None:
    c = clinic_factory()
    r = http.post("/api/v1/auth/token", json={"username": c.users["clinician"], "password": "wrong password"})
    assert r.status_code == 401 and r.json()["detail"] == "wrong username or password"
    r = http.post("/api/v1/auth/token", json={"username": "nobody-at-all", "password": "wrong password"})
    assert r.status_code == 401 and r.json()["detail"] == "wrong username or password"  # same answer
    assert http.get("/api/v1/me").status_code == 401
    assert http.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert http.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_repeated_failures_are_throttled(http: httpx.Client, clinic_factory: Any) -> None:
    c = clinic_factory()
    user = c.users["safety_officer"]
    for _ in range(5):
        r = http.post("/api/v1/auth/token", json={"username": user, "password": "guess guess"})
        assert r.status_code == 401
    # Locked now: even the right password is refused until the lock expires.
    r = http.post("/api/v1/auth/token", json={"username": user, "password": c.password})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1 and "too many failed log-ins" in r.json()["detail"]
    # Other accounts are not affected.
    assert (
        http.post(
            "/api/v1/auth/token", json={"username": c.users["analyst"], "password": c.password}
        ).status_code
        == 200
    )


def test_session_cookie_and_csrf(http: httpx.Client, clinic_factory: Any) -> None:
    c = clinic_factory()
    r = http.post("/api/v1/auth/session", json={"username": c.users["clinician"], "password": c.password})
    assert r.status_code == 200
    cookies = r.headers.get_list("set-cookie")
    session = next(h for h in cookies if h.startswith("repigment_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Path=/" in session
    csrf_cookie = next(h for h in cookies if h.startswith("repigment_csrf="))
    assert "HttpOnly" not in csrf_cookie
    csrf = r.json()["csrf_token"]
    # Cookie alone is enough to read ...
    me = http.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["role"] == "clinician"
    # ... but not to write without the CSRF token (a cross-site form could not know it).
    pid = c.patients[1]
    r = http.patch(f"/api/v1/patients/{pid}", json={"external_ref": "X1"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = http.patch(f"/api/v1/patients/{pid}", json={"external_ref": "X1"}, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    r = http.patch(f"/api/v1/patients/{pid}", json={"external_ref": "X1"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["external_ref"] == "X1"
    # A form post carries it as a field.
    r = http.post("/api/v1/auth/logout", data={"csrf_token": "wrong"})
    assert r.status_code == 403
    r = http.post("/api/v1/auth/logout", data={"csrf_token": csrf})
    assert r.status_code == 204
    http.cookies.clear()
    http.cookies.set("repigment_session", session.split(";")[0].split("=", 1)[1])
    assert http.get("/api/v1/me").status_code == 401  # the session was revoked
    http.cookies.clear()


def test_headers_are_sent_once_and_without_a_server_banner(http: httpx.Client) -> None:
    """Regression: Referrer-Policy and nosniff came twice on pages (with two different policies), and
    every answer carried ``server: uvicorn``."""
    for path in ("/api/v1/health", "/login", "/api/v1/me", "/static/css/app.css"):
        r = http.get(path)
        names = [k.lower() for k, _ in r.headers.multi_items()]
        assert "server" not in names, path
        for header in ("x-content-type-options", "referrer-policy", "x-frame-options"):
            assert names.count(header) == 1, (path, header, r.headers.get_list(header))
        assert "strict-transport-security" not in names  # plain HTTP: no HSTS
    assert http.get("/login").headers["referrer-policy"] == "same-origin"


def test_forwarded_headers_count_only_from_trusted_proxies(
    request: Any, _templates: Any, tmp_path: Any, harness: Any, http: httpx.Client, clinic_factory: Any
) -> None:
    """Regression: ``X-Forwarded-Proto: https`` was believed from 127.0.0.1 whatever the deployment. Now
    only from ``REPIGMENT_TRUSTED_PROXIES``; over HTTPS the cookies take the ``__Host-`` prefix (Secure,
    Path=/, no Domain) and HSTS is sent; the forwarded client address is the one log-ins are throttled by."""
    from repigment.services import security
    from repigment.store import LoginThrottle

    c = clinic_factory()
    body = {"username": c.users["clinician"], "password": c.password}
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    r = http.post("/api/v1/auth/session", json=body, headers=https)  # the shared server trusts no proxy
    assert r.status_code == 200
    assert "strict-transport-security" not in r.headers
    assert all(h.startswith("repigment_") and "Secure" not in h for h in r.headers.get_list("set-cookie"))

    url = harness.fresh_db_url(request, _templates, "sqlite")
    server = harness.start_server(url, tmp_path, {"REPIGMENT_TRUSTED_PROXIES": "127.0.0.1, ::1"})
    store = Store(url, migrate=False)
    try:
        c = harness.seed_clinic(store)
        body = {"username": c.users["clinician"], "password": c.password}
        with httpx.Client(base_url=server.base_url, timeout=30) as proxy:
            r = proxy.post("/api/v1/auth/session", json=body, headers=https)
            assert r.status_code == 200
            assert r.headers["strict-transport-security"] == "max-age=31536000"
            cookies = r.headers.get_list("set-cookie")
            session = next(h for h in cookies if h.startswith("__Host-repigment_session="))
            assert "Secure" in session and "Path=/" in session and "Domain" not in session
            assert any(h.startswith("__Host-repigment_csrf=") and "Secure" in h for h in cookies)
            token = session.split(";")[0].split("=", 1)[1]
            proxy.cookies.clear()
            me = {"Cookie": f"__Host-repigment_session={token}"}
            assert proxy.get("/api/v1/me", headers={**https, **me}).status_code == 200
            # The plain name is not a session over HTTPS (a plain-HTTP page could have planted it).
            plain = {"Cookie": f"repigment_session={token}"}
            assert proxy.get("/api/v1/me", headers={**https, **plain}).status_code == 401
            r = proxy.post("/api/v1/auth/token", json={**body, "password": "wrong guess 123"}, headers=https)
            assert r.status_code == 401
        with store.read() as s:
            keys = set(s.scalars(select(LoginThrottle.key)).all())
        assert set(security.throttle_keys(c.users["clinician"], "203.0.113.7")) <= keys
    finally:
        store.dispose()
        server.stop()
