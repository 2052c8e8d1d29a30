"""Log-in and log-out pages (the API's session cookie and CSRF token), and the start page."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import ValidationError

from repigment.api import deps
from repigment.api.deps import Db
from repigment.api.routes import auth as api_auth
from repigment.api.schemas import LoginIn
from repigment.web import access
from repigment.web.pages.common import page, see_other
from repigment.web.render import translator
from repigment.web.tools import safe_next

router = APIRouter(include_in_schema=False)


def home_for(user: deps.Principal) -> str:
    if user.role == "patient" and user.patient_id is not None:
        return f"/patients/{user.patient_id}"
    if user.role == "clinician":
        return "/clinic"
    return "/api/docs"


@router.get("/")
async def start(request: Request, db: Db) -> Response:
    user = await access.page_user(request, db)
    return see_other(home_for(user))


@router.get("/login")
def login_form(request: Request, db: Db, next: str | None = None) -> Response:
    return page(request, db, None, "login.html", form={"username": ""}, errors={}, next=safe_next(next))


@router.post("/login")
async def login_submit(request: Request) -> Response:
    # No database session here: the API's log-in takes the write lock itself.
    _ = translator(request)
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = _("Enter your username.")
    if not password:
        errors["password"] = _("Enter your password.")
    if not errors:
        try:
            token, expires = await api_auth.login(
                request, LoginIn(username=username, password=password), "session"
            )
        except ValidationError:
            errors["username"] = _("Wrong username or password.")
        except HTTPException as e:
            if e.status_code == 429:
                errors["password"] = _(
                    "Too many failed attempts. Wait %(seconds)s seconds and try again."
                ) % {"seconds": (e.headers or {}).get("Retry-After", "60")}
            else:
                errors["password"] = _("Wrong username or password.")
        else:
            resp = see_other(target if target != "/login" else "/")
            api_auth.set_session_cookies(request, resp, token, expires)
            return resp
    return page(
        request,
        None,
        None,
        "login.html",
        status_code=422 if errors else 200,
        form={"username": username},
        errors=errors,
        next=target,
    )


@router.post("/logout")
async def logout(request: Request, db: Db) -> Response:
    user = await access.page_user(request, db)
    api_auth.revoke(db, request, user)
    db.commit()
    resp = see_other("/login")
    resp.delete_cookie(deps.SESSION_COOKIE, path="/")
    resp.delete_cookie(deps.CSRF_COOKIE, path="/")
    return resp
