"""Who is asking, for the pages: the session cookie and CSRF rules, answered as pages.

The API answers 401/403/404 as JSON; a page instead sends an anonymous visitor to the log-in form and
shows a readable page for the rest. The rules themselves are the use cases' (``repigment.services.auth``
for sessions and CSRF, ``repigment.services.records`` for tenancy and ownership): one implementation
whatever the door. Reading the cookie, header or form field from the request is done here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Final, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from repigment.services import access_log, auth
from repigment.services.access import visible_patient
from repigment.services.access_log import AccessEvent, Channel
from repigment.services.acting import Principal
from repigment.services.errors import Forbidden, NotFound, Unauthenticated
from repigment.services.records import Read
from repigment.services.sessions import request_session
from repigment.store import Clinic, Patient, User

T = TypeVar("T")
# The pages an account with a temporary password may open: the password form, and logging out.
TEMPORARY_PASSWORD_PAGES: Final = frozenset({"/password", "/logout"})


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One session per page request: a read for GET, a write (behind the writer gate) otherwise."""
    state = request.app.state
    write = request.method not in auth.SAFE_METHODS
    async with request_session(state.store, state.write_gate, write=write) as session:
        yield session


async def get_read_db(request: Request) -> AsyncIterator[Session]:
    """A read session whatever the method: for pages whose writes take the writer gate themselves."""
    async with request_session(request.app.state.store, None, write=False) as session:
        yield session


Db = Annotated[Session, Depends(get_db, scope="function")]
ReadDb = Annotated[Session, Depends(get_read_db, scope="function")]


def https(request: Request) -> bool:
    return request.url.scheme == "https"


def cookie_name(request: Request, base: str) -> str:
    return auth.cookie_name(base, https(request))


def session_token(request: Request) -> str | None:
    """The session cookie's token (over HTTPS only the ``__Host-`` cookie counts)."""
    return request.cookies.get(cookie_name(request, auth.SESSION_COOKIE))


def _credentials(request: Request) -> tuple[str | None, bool]:
    """(token, via_cookie): a well-formed bearer token, else the session cookie's."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip(), False
        return None, False
    return session_token(request), True


async def _check_csrf(request: Request, via_cookie: bool) -> None:
    token = session_token(request)
    if token is None or not auth.csrf_required(request.method, not via_cookie, token):
        return
    presented = request.headers.get(auth.CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(auth.CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    auth.check_csrf(token, presented)


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
    token, via_cookie = _credentials(request)
    try:  # the session first: a form body (an upload) is parsed only for a logged-in user
        user = auth.authenticate_in(
            request.app.state.store,
            token,
            via_cookie=via_cookie,
            temporary_allowed=request.url.path in TEMPORARY_PASSWORD_PAGES,
        )
    except auth.PasswordChangeRequired as e:  # changing it is all the account may do
        raise PageRedirect("/password") from e
    except Unauthenticated as e:
        raise login_redirect(request) from e
    try:
        await _check_csrf(request, via_cookie)
    except Forbidden as e:
        raise PageError(403, "csrf") from e
    db.info["actor"] = user.actor
    clinic = db.get(Clinic, user.clinic_id)
    if clinic is not None:  # the pages' language when the visitor has chosen none (i18n.choose_locale)
        request.state.clinic_language = clinic.default_language
    if roles and user.role not in roles:
        raise PageError(403, "role")
    return user


def page_patient(db: Session, user: Principal, patient_id: int) -> Patient:
    try:
        return visible_patient(db, user, patient_id)
    except NotFound as e:
        raise PageError(404, "patient") from e


def display_name(db: Session, user: Principal) -> str:
    u = db.get(User, user.user_id)
    return (u.display_name if u is not None and u.display_name else user.username) or user.username


def csrf_token(request: Request) -> str:
    token = session_token(request)
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


# -- reads through the use cases, and the audit trail ---------------------------------------------------
def channel(request: Request) -> Channel:
    """How a page reached the record, for the audit trail."""
    client = request.client.host if request.client is not None else None
    return Channel("web", request.url.path, client)


async def record(request: Request, ev: AccessEvent | None) -> None:
    """Record ``ev`` in a write transaction of its own, behind this process's writer gate."""
    state = request.app.state
    await access_log.record(state.store, state.write_gate, ev)


async def page_read(
    request: Request, use_case: Callable[..., Read[T]], *args: Any, what: str = "patient", **kw: Any
) -> T:
    """A read use case for a page: its refusals as error pages (404 ``what``, 403 role), its access
    event recorded before the page is answered."""
    try:
        read = use_case(*args, channel=channel(request), **kw)
    except NotFound as e:
        raise PageError(404, what) from e
    except Forbidden as e:
        raise PageError(403, "role") from e
    await record(request, read.access)
    return read.value


async def record_read(
    request: Request,
    user: Principal,
    *,
    table_name: str,
    row_id: Any,
    patient_id: int,
    action: str = "read",
    extra: dict[str, Any] | None = None,
) -> None:
    """A read (or export) of a patient's record by a page (``repigment.services.access_log.read_event``)."""
    ev = access_log.read_event(
        user,
        channel(request),
        table_name=table_name,
        row_id=row_id,
        patient_id=patient_id,
        action=action,
        extra=extra,
    )
    await record(request, ev)
