"""Who is asking, for the pages: the API's session cookie and CSRF rules, answered as pages.

The API's dependencies answer 401/403/404 as JSON; a page instead sends an anonymous visitor to the
log-in form and shows a readable page for the rest. The checks themselves are the API's
(``repigment.api.deps``): one implementation of authentication, tenancy and ownership.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from repigment.api import deps
from repigment.services.acting import Principal
from repigment.store import Patient, User


class PageRedirect(Exception):
    """Raised by a page dependency to answer with a redirect (to the log-in form)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class PageError(Exception):
    """Raised to answer with a readable error page (403, 404) instead of JSON."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def login_redirect(request: Request) -> PageRedirect:
    """To the log-in form, coming back afterwards to this page (for a form, to the page it was on)."""
    target = request.url.path + (("?" + request.url.query) if request.url.query else "")
    if request.method != "GET":
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc == request.url.netloc
        target = (
            (referer.path + (("?" + referer.query) if referer.query else ""))
            if same_site and referer.path
            else "/"
        )
    return PageRedirect("/login?next=" + quote(target, safe=""))


async def page_user(request: Request, db: Session, roles: tuple[str, ...] = ()) -> Principal:
    """The logged-in user of a page; redirect to the log-in form when there is none."""
    try:  # the session first: a form body (an upload) is parsed only for a logged-in user
        user = deps.authenticate(request)
    except HTTPException as e:
        if e.status_code == 403:  # a temporary password: changing it is all the account may do
            raise PageRedirect("/password") from e
        raise login_redirect(request) from e
    try:
        await deps.csrf_guard(request)
    except HTTPException as e:
        raise PageError(403, "csrf") from e
    db.info["actor"] = user.actor
    if roles and user.role not in roles:
        raise PageError(403, "role")
    return user


def page_patient(db: Session, user: Principal, patient_id: int) -> Patient:
    try:
        return deps.visible_patient(db, user, patient_id)
    except HTTPException as e:
        raise PageError(404, "patient") from e


def display_name(db: Session, user: Principal) -> str:
    u = db.get(User, user.user_id)
    return (u.display_name if u is not None and u.display_name else user.username) or user.username


def csrf_token(request: Request) -> str:
    token = deps.session_token(request)
    if not token:
        return ""
    from repigment.services import security

    return security.csrf_for(token)


def base_context(request: Request, db: Session, user: Principal | None) -> dict[str, Any]:
    if user is None:
        return {"user": None, "csrf_token": ""}
    return {
        "user": {"display_name": display_name(db, user), "role": user.role, "patient_id": user.patient_id},
        "csrf_token": csrf_token(request),
    }
