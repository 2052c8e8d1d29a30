"""Log-in (bearer token or web session cookie), log-out, and the caller's own account. The rules and
the use cases are ``repigment.services.auth``'s; the pages log in and out through the same ones."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy.orm import Session

from repigment.api import access_log
from repigment.api.deps import CurrentUser, Db, authenticate, csrf_guard, get_store, write_gate
from repigment.services import auth
from repigment.services.auth import LoggedIn
from repigment.services.schemas import LoginIn, MeOut, PasswordChangeIn, RevokedOut, SessionOut, TokenOut
from repigment.store import Clinic, User

router = APIRouter(tags=["authentication"])


async def login(request: Request, body: LoginIn, kind: str) -> LoggedIn:
    """Check a username and password; a new random token (stored hashed), or 401/429."""
    return await auth.log_in(
        get_store(request),
        write_gate(request),
        body.username,
        body.password,
        kind=kind,
        channel=access_log.channel(request),
    )


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


def set_session_cookies(request: Request, response: Response, logged_in: LoggedIn) -> str:
    """Set the HttpOnly session cookie and the readable CSRF cookie; returns the CSRF token."""
    session, csrf = auth.session_cookies(logged_in.token, logged_in.expires_at, request.url.scheme == "https")
    for c in (session, csrf):
        response.set_cookie(
            c.name,
            c.value,
            max_age=c.max_age,
            httponly=c.httponly,
            samesite=c.samesite,
            secure=c.secure,
            path="/",
        )
    return csrf.value


@router.post(
    "/auth/session",
    response_model=SessionOut,
    responses={401: {"description": "Wrong username or password"}, 429: {"description": "Throttled"}},
)
async def session_login(request: Request, response: Response, body: LoginIn) -> SessionOut:
    """Log in for a browser session: sets an HttpOnly, SameSite session cookie and returns the CSRF token
    that unsafe requests must send as ``X-CSRF-Token`` (or form field ``csrf_token``)."""
    done = await login(request, body, "session")
    csrf = set_session_cookies(request, response, done)
    return SessionOut(
        csrf_token=csrf, expires_at=done.expires_at, password_change_required=done.must_change_password
    )


@router.post("/auth/logout", status_code=204, responses={401: {"description": "Not logged in"}})
async def logout(request: Request, user: CurrentUser, db: Db) -> Response:
    """Revoke the token or session used for this request."""
    await anyio.to_thread.run_sync(auth.log_out, db, user, access_log.channel(request))
    out = Response(status_code=204)
    clear_session_cookies(request, out)
    return out


def clear_session_cookies(request: Request, response: Response) -> None:
    https = request.url.scheme == "https"
    for name in auth.session_cookie_names(https):
        response.delete_cookie(name, path="/", secure=https)


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
    problem = auth.new_password_problem(user, body.current_password, body.new_password)
    if problem is not None:
        raise HTTPException(422, f"body.new_password: {problem}")
    revoked = await auth.change_own_password(
        get_store(request),
        write_gate(request),
        user,
        body.current_password,
        body.new_password,
        channel=access_log.channel(request),
    )
    return RevokedOut(revoked_sessions=revoked)


@router.post(
    "/auth/revoke-others", response_model=RevokedOut, responses={401: {"description": "Not logged in"}}
)
async def revoke_others(user: CurrentUser, db: Db) -> RevokedOut:
    """Revoke every other session and token of your account (a lost phone, a shared computer)."""
    return RevokedOut(revoked_sessions=await anyio.to_thread.run_sync(auth.revoke_others, db, user))
