"""Log-in and log-out pages (the session cookie and CSRF token of ``repigment.services.auth``, the same
as the API's browser sessions), the password form, and the start page."""

from __future__ import annotations

import dataclasses
import hmac
import secrets
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from repigment.services import auth, security
from repigment.services.acting import Principal
from repigment.services.auth import LoggedIn
from repigment.services.errors import ServiceError, Throttled
from repigment.services.schemas import LoginIn
from repigment.web import access
from repigment.web.access import Db, ReadDb
from repigment.web.pages.common import page, see_other
from repigment.web.render import translator
from repigment.web.tools import safe_next

router = APIRouter(include_in_schema=False)


START_PAGES: Final = {
    "clinician": "/clinic",
    "admin": "/admin",
    "analyst": "/analyst",
    "safety_officer": "/safety",
}


def home_for(user: Principal) -> str:
    """Each role's own start page (a patient's is their diary); the API explorer is a link on them."""
    if user.role == "patient" and user.patient_id is not None:
        return f"/patients/{user.patient_id}"
    return START_PAGES.get(user.role, "/password")


@router.get("/")
async def start(request: Request, db: Db) -> Response:
    user = await access.page_user(request, db)
    return see_other(home_for(user))


LOGIN_COOKIE: Final = "repigment_login"
LOGIN_FIELD: Final = "login_csrf"


def login_page(
    request: Request, *, status_code: int, username: str, errors: dict[str, str], next: str
) -> Response:
    """The log-in form with a fresh CSRF token: a random value in an HttpOnly, SameSite=Strict cookie
    and the same value in the form (double submit), so that another site cannot log a browser in to an
    account of its choosing (log-in CSRF): it can neither read the form nor set the cookie."""
    token = secrets.token_urlsafe(32)
    resp = page(
        request,
        None,
        None,
        "login.html",
        status_code=status_code,
        form={"username": username},
        errors=errors,
        next=next,
        login_csrf=token,
    )
    resp.set_cookie(
        access.cookie_name(request, LOGIN_COOKIE),
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return resp


def same_origin(request: Request) -> bool:
    """No ``Origin`` (not a browser), or this site's own."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return login_page(request, status_code=200, username="", errors={}, next=safe_next(next))


@router.post("/login")
async def login_submit(request: Request) -> Response:
    # No database session here: the API's log-in takes the write lock itself.
    _ = translator(request)
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    errors: dict[str, str] = {}
    presented = form.get(LOGIN_FIELD)
    expected = request.cookies.get(access.cookie_name(request, LOGIN_COOKIE))
    if not same_origin(request) or not (
        isinstance(presented, str) and expected and hmac.compare_digest(presented, expected)
    ):
        errors["form"] = _("The log-in form had expired or came from another site. Log in again.")
        return login_page(request, status_code=403, username=username, errors=errors, next=target)
    if not username:
        errors["username"] = _("Enter your username.")
    if not password:
        errors["password"] = _("Enter your password.")
    if not errors:
        try:
            checked = LoginIn(username=username, password=password)
            done = await auth.log_in(
                request.app.state.store,
                request.app.state.write_gate,
                checked.username,
                checked.password,
                kind="session",
                channel=access.channel(request),
            )
        except ValidationError:
            errors["username"] = _("Wrong username or password.")
        except Throttled as e:
            errors["password"] = _("Too many failed attempts. Wait %(seconds)s seconds and try again.") % {
                "seconds": e.retry_after
            }
        except ServiceError:
            errors["password"] = _("Wrong username or password.")
        else:
            resp = see_other(
                "/password" if done.must_change_password else target if target != "/login" else "/"
            )
            set_session_cookies(request, resp, done)
            resp.delete_cookie(access.cookie_name(request, LOGIN_COOKIE), path="/")
            return resp
    return login_page(
        request, status_code=422 if errors else 200, username=username, errors=errors, next=target
    )


@router.post("/logout")
async def logout(request: Request, db: Db) -> Response:
    user = await access.page_user(request, db)
    auth.log_out(db, user, access.channel(request))
    resp = see_other("/login")
    secure = access.https(request)
    for name in auth.session_cookie_names(secure):
        resp.delete_cookie(name, path="/", secure=secure)
    return resp


def set_session_cookies(request: Request, resp: Response, done: LoggedIn) -> None:
    for c in auth.session_cookies(done.token, done.expires_at, access.https(request)):
        resp.set_cookie(
            c.name,
            c.value,
            max_age=c.max_age,
            httponly=c.httponly,
            samesite=c.samesite,
            secure=c.secure,
            path="/",
        )


def _password_form(
    request: Request,
    db: Session,
    user: Principal,
    *,
    status_code: int,
    errors: dict[str, str],
    done: bool,
) -> Response:
    return page(
        request,
        db,
        user,
        "password.html",
        status_code=status_code,
        errors=errors,
        done=done,
        temporary=user.must_change_password,
    )


@router.get("/password")
async def password_form(request: Request, db: ReadDb) -> Response:
    """Change one's own password (the only page an account with a temporary password may see)."""
    user = await access.page_user(request, db)
    return _password_form(request, db, user, status_code=200, errors={}, done=False)


@router.post("/password")
async def password_submit(request: Request, db: ReadDb) -> Response:
    # A read session only: the change takes the write lock itself (``auth.change_own_password``).
    user = await access.page_user(request, db)
    _ = translator(request)
    form = await request.form()
    current = str(form.get("current_password", ""))
    new = str(form.get("new_password", ""))
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = _("Enter your current password.")
    if new != str(form.get("new_password_again", "")):
        errors["new_password_again"] = _("The two new passwords differ.")
    problem = auth.new_password_problem(user, current, new)
    if problem is not None:
        errors["new_password"] = _(
            "Choose a password of at least %(n)s characters that is not a common password, nor your "
            "username, nor your current password."
        ) % {"n": security.MIN_PASSWORD_LENGTH}
    if not errors:
        try:
            await auth.change_own_password(
                request.app.state.store,
                request.app.state.write_gate,
                user,
                current,
                new,
                channel=access.channel(request),
            )
        except Throttled as e:
            errors["current_password"] = _(
                "Too many failed attempts. Wait %(seconds)s seconds and try again."
            ) % {"seconds": e.retry_after}
        except ServiceError:
            errors["current_password"] = _("The current password is wrong.")
        else:
            fresh = dataclasses.replace(user, must_change_password=False)
            return _password_form(request, db, fresh, status_code=200, errors={}, done=True)
    return _password_form(request, db, user, status_code=422, errors=errors, done=False)
