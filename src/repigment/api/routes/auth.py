"""Log-in (bearer token or web session cookie), log-out, and the caller's own account."""

from __future__ import annotations

import datetime as dt
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from repigment.api import access_log, security
from repigment.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    Db,
    Principal,
    get_store,
    write_gate,
)
from repigment.api.schemas import LoginIn, MeOut, SessionOut, TokenOut
from repigment.store import Actor, ApiToken, Clinic, LoginThrottle, Store, User, record_access_event

router = APIRouter(tags=["authentication"])


def _throttled(seconds: float) -> HTTPException:
    wait = max(1, int(seconds + 0.999))
    return HTTPException(
        429,
        f"too many failed log-ins for this username: try again in {wait} s",
        headers={"Retry-After": str(wait)},
    )


def _authenticate_sync(
    store: Store, username: str, password: str, now: dt.datetime
) -> tuple[int | None, float]:
    """(user id or None, seconds locked). The slow password check runs outside any write lock."""
    with store.read() as s:
        throttle = s.get(LoginThrottle, username)
        locked = security.locked_for(throttle, now)
        if locked:
            return None, locked
        user = s.scalars(select(User).where(User.username == username)).first()
    ok = security.verify_password(user.password_hash if user else None, password)
    return (user.id if ok and user is not None and user.active else None), 0.0


def _record_sync(
    store: Store, username: str, user_id: int | None, kind: str, now: dt.datetime, detail: dict[str, Any]
) -> str | None:
    """Record the outcome (the throttle, and a ``login`` or ``login_failed`` event in the audit trail);
    on success create the token (an audited row) and return it."""
    with store.write(actor=None) as s:
        throttle = s.get(LoginThrottle, username)
        if user_id is None:
            if throttle is None:
                throttle = LoginThrottle(username=username, failures=0)
                s.add(throttle)
            security.record_failure(throttle, now)
            known = s.scalars(select(User.id).where(User.username == username)).first()
            record_access_event(
                s,
                Actor("anonymous"),
                "login_failed",
                table_name="app_user",
                row_id=known if known is not None else "",
                detail={**detail, "username": username, "kind": kind},
            )
            s.commit()
            return None
        if throttle is not None:
            s.delete(throttle)
        actor = Actor(username, user_id)
        s.info["actor"] = actor
        token = security.new_token()
        row = ApiToken(
            user_id=user_id,
            token_hash=security.token_digest(token),
            kind=kind,
            created_at=now,
            expires_at=now + security.TOKEN_TTL,
        )
        s.add(row)
        s.flush()
        record_access_event(
            s,
            actor,
            "login",
            table_name="app_user",
            row_id=user_id,
            detail={**detail, "kind": kind, "token_id": row.id},
        )
        s.commit()
        return token


async def login(request: Request, body: LoginIn, kind: str) -> tuple[str, dt.datetime]:
    """Check a username and password; a new random token (stored hashed) or 401/429."""
    store = get_store(request)
    now = dt.datetime.now(dt.UTC)
    user_id, locked = await anyio.to_thread.run_sync(
        _authenticate_sync, store, body.username, body.password, now
    )
    if locked:
        raise _throttled(locked)
    lock = write_gate(request)
    if lock is not None:
        await lock.acquire()
    try:
        token = await anyio.to_thread.run_sync(
            _record_sync, store, body.username, user_id, kind, now, access_log.details(request)
        )
    finally:
        if lock is not None:
            lock.release()
    if token is None:
        raise HTTPException(401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"})
    return token, now + security.TOKEN_TTL


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses={401: {"description": "Wrong username or password"}, 429: {"description": "Throttled"}},
)
async def token(request: Request, body: LoginIn) -> TokenOut:
    """Log in for a bearer token (send it as ``Authorization: Bearer <token>``)."""
    access, expires = await login(request, body, "bearer")
    return TokenOut(access_token=access, expires_at=expires)


def set_session_cookies(request: Request, response: Response, token: str, expires: dt.datetime) -> str:
    """Set the HttpOnly session cookie and the readable CSRF cookie; returns the CSRF token."""
    secure = request.url.scheme == "https"
    max_age = int((expires - dt.datetime.now(dt.UTC)).total_seconds())
    csrf = security.csrf_for(token)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/"
    )
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict", secure=secure, path="/"
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
    access, expires = await login(request, body, "session")
    csrf = set_session_cookies(request, response, access, expires)
    return SessionOut(csrf_token=csrf, expires_at=expires)


@router.post("/auth/logout", status_code=204, responses={401: {"description": "Not logged in"}})
async def logout(request: Request, user: CurrentUser, db: Db, response: Response) -> Response:
    """Revoke the token or session used for this request."""
    revoke(db, request, user)
    await anyio.to_thread.run_sync(db.commit)
    out = Response(status_code=204)
    out.delete_cookie(SESSION_COOKIE, path="/")
    out.delete_cookie(CSRF_COOKIE, path="/")
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
