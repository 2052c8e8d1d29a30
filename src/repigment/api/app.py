"""The REST API's own parts of the application: its routers and explorer (``mount_api``) and the one
mapping of the use cases' errors to HTTP (``service_http_error``, installed with the other error
handlers by ``install_error_handlers``). The application itself is built by ``repigment.app``.

Errors are JSON with a ``detail`` message; validation errors (422) add ``errors``: a list of
``{"field", "message"}`` naming each offending field (``body.patches[0].hand_units``). Unexpected
errors get a 500 without internals (logged server-side).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from repigment.api import API_PREFIX
from repigment.api.docs_page import mount_docs
from repigment.api.routes import (
    admin,
    adverse_events,
    analytics,
    applications,
    auth,
    courses,
    interop,
    overrides,
    patients,
    prescriptions,
    records,
    visits,
)
from repigment.services.errors import (
    Conflict,
    Forbidden,
    InputError,
    NotFound,
    ServiceError,
    Throttled,
    Unauthenticated,
)

log = logging.getLogger("repigment.api")


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "request"


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for e in exc.errors():
        msg = str(e.get("msg", "invalid"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if e.get("type") == "extra_forbidden":
            msg = "unknown field"
        errors.append({"field": _field(e.get("loc", ())), "message": msg})
    first = errors[0] if errors else {"field": "request", "message": "invalid"}
    detail = f"{first['field']}: {first['message']}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return JSONResponse({"detail": detail, "errors": errors}, status_code=422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        detail = "body: could not be read (it must be UTF-8 JSON, or the form the operation expects)"
        return JSONResponse(
            {"detail": detail, "errors": [{"field": "body", "message": detail}]}, status_code=422
        )
    if isinstance(exc.detail, dict) and "message" in exc.detail:
        content: dict[str, Any] = {"detail": exc.detail["message"], "errors": exc.detail.get("errors", [])}
    else:
        content = {"detail": exc.detail}
    return JSONResponse(content, status_code=exc.status_code, headers=exc.headers)


def service_http_error(exc: ServiceError) -> HTTPException:
    """The one mapping of the use cases' errors to HTTP (``repigment.services.errors``)."""
    if isinstance(exc, InputError):
        field = exc.path
        return HTTPException(
            422, {"message": f"{field}: {exc.reason}", "errors": [{"field": field, "message": exc.reason}]}
        )
    if isinstance(exc, NotFound):
        return HTTPException(404, exc.message)
    if isinstance(exc, Unauthenticated):
        return HTTPException(401, exc.message, headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, Throttled):
        return HTTPException(429, exc.message, headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, Forbidden):
        return HTTPException(403, exc.message)
    if isinstance(exc, Conflict):
        return HTTPException(409, exc.message)
    return HTTPException(400, exc.message)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return await _http_error(request, service_http_error(exc))


async def _busy(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc)
    return JSONResponse(
        {"detail": "the database is busy or unavailable: retry shortly"},
        status_code=503,
        headers={"Retry-After": "1"},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error: it has been logged"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """The API's answers to refusals and failures, for the whole app (the pages add their own for
    ``PageRedirect`` and ``PageError``)."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(OperationalError, _busy)
    app.add_exception_handler(Exception, _unexpected)


def mount_api(app: FastAPI) -> None:
    """The API's routes under /api/v1 (FHIR and ICSR exchange included) and its explorer at /api/docs."""
    resources = (patients, courses, prescriptions, visits, applications, adverse_events, overrides, records)
    for module in (admin, auth, *resources, analytics, interop):
        app.include_router(module.router, prefix=API_PREFIX)
    mount_docs(app)
