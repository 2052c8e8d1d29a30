"""Log-in (bearer token or web session cookie), log-out, and the caller's own account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from repigment.api import access_log
from repigment.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    Db,
    Principal,
    authenticate,
    cookie_name,
    csrf_guard,
    get_store,
    write_gate,
)
from repigment.services import accounts, security
from repigment.services.schemas import LoginIn, MeOut, PasswordChangeIn, RevokedOut, SessionOut, TokenOut
from repigment.store import Actor, ApiToken, Clinic, LoginThrottle, Store, User, record_access_event

router = APIRouter(tags=["authentication"])
T = TypeVar("T")


def _throttled(seconds: float) -> HTTPException:
    wait = max(1, int(seconds + 0.999))
    return HTTPException(
        429,
        f"too many failed log-ins from this address: try again in {wait} s",
        headers={"Retry-After": str(wait)},
    )


def client_address(request: Request) -> str:
    """The client's address as the server sees it (a trusted proxy's ``X-Forwarded-For`` applied by the
    server, see ``REPIGMENT_TRUSTED_PROXIES``)."""
    return request.client.host if request.client is not None else "unknown"


def _insert(store: Store) -> Any:
    return sqlite_insert if store.is_sqlite else pg_insert


def _reserve_sync(store: Store, keys: tuple[str, ...], now: dt.datetime) -> float:
    """Count this attempt as a failure under every key before the password is checked, unless a key is
    locked (then the seconds it stays locked). One transaction with the keys' rows locked (PostgreSQL:
    ``FOR UPDATE``; SQLite: ``BEGIN IMMEDIATE`` behind the write gate), so that parallel attempts are
    counted one after another and none gets past a lock an earlier one set."""
    ordered = sorted(keys)
    with store.write(actor=None) as s:
        s.execute(
            _insert(store)(LoginThrottle)
            .values([{"key": k, "failures": 0} for k in ordered])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        rows = s.scalars(
            select(LoginThrottle)
            .where(LoginThrottle.key.in_(ordered))
            .order_by(LoginThrottle.key)
            .with_for_update()
        ).all()
        locked = max((security.locked_for(r, now) for r in rows), default=0.0)
        if locked:
            s.rollback()
            return locked
        for r in rows:
            security.record_failure(r, now, security.rule_for(r.key))
        s.commit()
        return 0.0


def _authenticate_sync(store: Store, username: str, password: str) -> User | None:
    """The active account these credentials open, or None. The slow password check holds no lock."""
    with store.read() as s:
        user = s.scalars(select(User).where(func.lower(User.username) == username.lower())).first()
    ok = security.verify_password(user.password_hash if user else None, password)
    return user if ok and user is not None and user.active else None


def _forgive(s: Session, keys: tuple[str, ...]) -> None:
    """The password was right: the account's count starts again, the client's loses this attempt."""
    for r in s.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(sorted(keys)))).all():
        rule = security.rule_for(r.key)
        if rule is security.ACCOUNT_RULE:
            s.delete(r)
        else:
            security.forgive(r, rule)


def _record_sync(
    store: Store, keys: tuple[str, ...], user: User, kind: str, now: dt.datetime, detail: dict[str, Any]
) -> str:
    """A successful log-in: take back the failure counted in advance, create the token (an audited row)
    and record the ``login`` event."""
    actor = Actor(user.username, user.id)
    with store.write(actor) as s:
        _forgive(s, keys)
        token = security.new_token()
        row = ApiToken(
            user_id=user.id,
            token_hash=security.token_digest(token),
            kind=kind,
            created_at=now,
            expires_at=now + security.token_ttl(),
        )
        s.add(row)
        s.flush()
        record_access_event(
            s,
            actor,
            "login",
            table_name="app_user",
            row_id=user.id,
            detail={**detail, "kind": kind, "token_id": row.id},
        )
        s.commit()
        return token


def _failed_sync(store: Store, username: str, detail: dict[str, Any]) -> None:
    """A failed log-in (wrong password, unknown or inactive account, or throttled): a ``login_failed``
    event, kept whatever happens to the throttle's counters."""
    with store.write(None) as s:
        known = s.scalars(select(User.id).where(func.lower(User.username) == username.lower())).first()
        record_access_event(
            s,
            Actor("anonymous"),
            "login_failed",
            table_name="app_user",
            row_id=known if known is not None else "",
            detail={**detail, "username": username},
        )
        s.commit()


async def _gated(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a worker thread behind this process's write gate (SQLite)."""
    lock = write_gate(request)
    if lock is not None:
        await lock.acquire()
    try:
        return await anyio.to_thread.run_sync(fn, *args)
    finally:
        if lock is not None:
            lock.release()


@dataclass(frozen=True, slots=True)
class LoggedIn:
    token: str
    expires_at: dt.datetime
    must_change_password: bool


async def login(request: Request, body: LoginIn, kind: str) -> LoggedIn:
    """Check a username and password; a new random token (stored hashed) or 401/429."""
    store = get_store(request)
    now = dt.datetime.now(dt.UTC)
    keys = security.throttle_keys(body.username, client_address(request))
    detail = access_log.details(request, {"kind": kind})
    locked = await _gated(request, _reserve_sync, store, keys, now)
    if locked:
        await _gated(request, _failed_sync, store, body.username, {**detail, "reason": "throttled"})
        raise _throttled(locked)
    user = await anyio.to_thread.run_sync(_authenticate_sync, store, body.username, body.password)
    if user is None:
        await _gated(request, _failed_sync, store, body.username, {**detail, "reason": "credentials"})
        raise HTTPException(401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"})
    token = await _gated(request, _record_sync, store, keys, user, kind, now, access_log.details(request))
    return LoggedIn(token, now + security.token_ttl(), user.must_change_password)


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses={401: {"description": "Wrong username or password"}, 429: {"description": "Throttled"}},
)
async def token(request: Request, body: LoginIn) -> TokenOut:
    """Log in for a bearer token (send it as ``Authorization: Bearer <token>``)."""
    done = await login(request, body, "bearer")
    return TokenOut(
        access_token=done.token,
        expires_at=done.expires_at,
        password_change_required=done.must_change_password,
    )


def set_session_cookies(request: Request, response: Response, token: str, expires: dt.datetime) -> str:
    """Set the HttpOnly session cookie and the readable CSRF cookie; returns the CSRF token."""
    secure = request.url.scheme == "https"
    max_age = int((expires - dt.datetime.now(dt.UTC)).total_seconds())
    csrf = security.csrf_for(token)
    session, csrf_cookie = cookie_name(request, SESSION_COOKIE), cookie_name(request, CSRF_COOKIE)
    response.set_cookie(
        session, token, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/"
    )
    response.set_cookie(
        csrf_cookie, csrf, max_age=max_age, httponly=False, samesite="strict", secure=secure, path="/"
    )
    return csrf


@router.post(
    "/auth/session",
    response_model=SessionOut,
    responses={401: {"description": "Wrong username or password"}, 429: {"description": "Throttled"}},
)
async def session_login(request: Request, response: Response, body: LoginIn) -> SessionOut:
    """Log in for a browser session: sets an HttpOnly, SameSite session cookie and returns the CSRF token
    that unsafe requests must send as ``X-CSRF-Token`` (or form field ``csrf_token``)."""
    done = await login(request, body, "session")
    csrf = set_session_cookies(request, response, done.token, done.expires_at)
    return SessionOut(
        csrf_token=csrf, expires_at=done.expires_at, password_change_required=done.must_change_password
    )


@router.post("/auth/logout", status_code=204, responses={401: {"description": "Not logged in"}})
async def logout(request: Request, user: CurrentUser, db: Db) -> Response:
    """Revoke the token or session used for this request."""
    revoke(db, request, user)
    await anyio.to_thread.run_sync(db.commit)
    out = Response(status_code=204)
    clear_session_cookies(request, out)
    return out


def revoke(db: Session, request: Request, user: Principal) -> None:
    """Revoke the caller's token (an audited change of its row) and record the ``logout`` event."""
    tok = db.get(ApiToken, user.token_id)
    if tok is not None and tok.revoked_at is None:
        tok.revoked_at = dt.datetime.now(dt.UTC)
    db.flush()
    access_log.record_in(
        db,
        request,
        user,
        "logout",
        table_name="app_user",
        row_id=user.user_id,
        patient_id=None,
        extra={"token_id": user.token_id},
    )


def clear_session_cookies(request: Request, response: Response) -> None:
    secure = request.url.scheme == "https"
    for base in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(cookie_name(request, base), path="/", secure=secure)


def me_out(db: Session, user_id: int, patient_id: int | None) -> MeOut:
    u = db.get(User, user_id)
    assert u is not None
    clinic = db.get(Clinic, u.clinic_id)
    return MeOut(
        id=u.id,
        username=u.username,
        role=u.role,  # type: ignore[arg-type]
        clinic_id=u.clinic_id,
        clinic=clinic.name if clinic else "",
        display_name=u.display_name,
        patient_id=patient_id,
    )


@router.get("/me", response_model=MeOut, responses={401: {"description": "Not logged in"}})
async def me(user: CurrentUser, db: Db) -> MeOut:
    """The logged-in user: role, clinic and, for patients, their patient record id."""
    return me_out(db, user.user_id, user.patient_id)


@router.post(
    "/auth/password",
    response_model=RevokedOut,
    responses={
        401: {"description": "Not logged in"},
        403: {"description": "Wrong current password"},
        422: {"description": "The new password is refused"},
        429: {"description": "Throttled"},
    },
)
async def change_password(request: Request, body: PasswordChangeIn) -> RevokedOut:
    """Change your own password (also the way out of a temporary one). Every other session and token of
    the account is revoked; this one stays. Wrong current passwords count toward the log-in throttle."""
    user = authenticate(request)  # no request-long database session: the writes below take the gate
    await csrf_guard(request)
    problem = new_password_problem(user, body.current_password, body.new_password)
    if problem is not None:
        raise HTTPException(422, f"body.new_password: {problem}")
    return RevokedOut(
        revoked_sessions=await change_own_password(request, user, body.current_password, body.new_password)
    )


def new_password_problem(user: Principal, current: str, new: str) -> str | None:
    """Why ``new`` may not replace ``current`` (the policy, or no change at all); None when it may."""
    problem = security.password_problem(new, user.username)
    if problem is None and new == current:
        problem = "must differ from the current password"
    return problem


async def change_own_password(request: Request, user: Principal, current: str, new: str) -> int:
    """Check ``current`` (throttled as a log-in: 429, or 403 when wrong), then set ``new`` (already
    checked with ``new_password_problem``); the number of other sessions revoked."""
    store = get_store(request)
    now = dt.datetime.now(dt.UTC)
    keys = security.throttle_keys(user.username, client_address(request))
    locked = await _gated(request, _reserve_sync, store, keys, now)
    if locked:
        raise _throttled(locked)
    found = await anyio.to_thread.run_sync(_authenticate_sync, store, user.username, current)
    if found is None or found.id != user.user_id:
        raise HTTPException(403, "body.current_password: is wrong")
    digest = await anyio.to_thread.run_sync(security.hash_password, new)
    revoked: int = await _gated(request, _change_sync, store, keys, user, digest, now)
    return revoked


def _change_sync(store: Store, keys: tuple[str, ...], user: Principal, digest: str, now: dt.datetime) -> int:
    with store.write(user.actor) as s:
        _forgive(s, keys)
        u = s.get(User, user.user_id)
        assert u is not None  # the request's token was just looked up with it
        revoked = accounts.set_password(s, u, digest, now, temporary=False, keep_token_id=user.token_id)
        s.commit()
        return revoked


@router.post(
    "/auth/revoke-others", response_model=RevokedOut, responses={401: {"description": "Not logged in"}}
)
async def revoke_others(user: CurrentUser, db: Db) -> RevokedOut:
    """Revoke every other session and token of your account (a lost phone, a shared computer)."""
    u = db.get(User, user.user_id)
    assert u is not None
    revoked = accounts.revoke_tokens(db, u, dt.datetime.now(dt.UTC), keep_token_id=user.token_id)
    await anyio.to_thread.run_sync(db.commit)
    return RevokedOut(revoked_sessions=revoked)
