"""The FastAPI application: JSON under /api/v1, OpenAPI at /api/openapi.json, docs at /api/docs.

Errors are JSON with a ``detail`` message; validation errors (422) add ``errors``: a list of
``{"field", "message"}`` naming each offending field (``body.patches[0].hand_units``). Bodies over
``MAX_BODY_BYTES`` get 413. Unexpected errors get a 500 without internals (logged server-side).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

import repigment
from repigment.api import API_PREFIX
from repigment.api.docs_page import mount_docs
from repigment.api.routes import admin, analytics, auth, patients
from repigment.config import get_settings
from repigment.services.diary import DiaryWriter, Reader
from repigment.services.errors import Conflict, InputError, NotFound, ServiceError
from repigment.store import Store
from repigment.store.writer_lock import WriteGate

log = logging.getLogger("repigment.api")
MAX_BODY_BYTES: Final = 1 << 20

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_SECURITY_HEADERS: Final = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
# Over HTTPS: browsers use HTTPS only for this host for a year (RFC 6797); not sent over plain HTTP,
# where it would be ignored anyway.
HSTS: Final = b"max-age=31536000"


class GuardMiddleware:
    """Refuse oversized bodies (413) before they are read, and add security headers to every answer.

    ``large_bodies`` lists the routes allowed more than ``max_body``: (method, full-path pattern, limit);
    only the web app's photo upload is (``repigment.web.pages.photos.body_limits()``).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body: int = MAX_BODY_BYTES,
        large_bodies: tuple[tuple[str, re.Pattern[str], int], ...] = (),
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.large_bodies = large_bodies

    def _limit(self, scope: Scope) -> int:
        for method, pattern, limit in self.large_bodies:
            if scope.get("method") == method and pattern.fullmatch(scope.get("path", "")):
                return limit
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_body = self._limit(scope)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > max_body
                except ValueError:
                    too_big = True
                if too_big:
                    await _send_json(send, 413, f"request body over {max_body} bytes", scope)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > max_body:
                    raise _TooLarge()
            return msg

        async def send_with_headers(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
                msg["headers"] = with_security_headers(msg.get("headers", []), scope)
            await send(msg)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, f"request body over {max_body} bytes", scope)


def with_security_headers(headers: Any, scope: Scope) -> list[tuple[bytes, bytes]]:
    """The answer's headers plus the security headers it does not set itself (a page sets its own
    Referrer-Policy), each sent once; HSTS over HTTPS; ``no-store`` on the API."""
    out = list(headers)
    present = {name.lower() for name, _ in out}
    extra = list(_SECURITY_HEADERS)
    if scope.get("scheme") == "https":
        extra.append((b"strict-transport-security", HSTS))
    if scope.get("path", "").startswith("/api/"):
        extra.append((b"cache-control", b"no-store"))
    out += [(name, value) for name, value in extra if name not in present]
    return out


class _TooLarge(Exception):
    pass


async def _send_json(send: Send, status: int, detail: str, scope: Scope) -> None:
    import json

    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": with_security_headers(
                [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())], scope
            ),
        }
    )
    await send({"type": "http.response.body", "body": body})


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
        field = f"body.{exc.field}"
        return HTTPException(
            422, {"message": f"{field}: {exc.reason}", "errors": [{"field": field, "message": exc.reason}]}
        )
    if isinstance(exc, NotFound):
        return HTTPException(404, exc.message)
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


def close_process_state(app: FastAPI) -> None:
    """Release what ``create_app`` holds for this process (connections, the lock file)."""
    app.state.diary_reader.close()
    app.state.diary_writer.close()
    if app.state.write_gate is not None:
        app.state.write_gate.close()


def create_app(store: Store | None = None, *, demo: bool = False, web: bool | None = None) -> FastAPI:
    """The app on ``store`` (default: ``REPIGMENT_DATABASE_URL`` or the embedded SQLite file, migrated).

    ``web=False`` (or ``REPIGMENT_API_ONLY=1``) serves the API without the web pages. Refuses to start
    (``PseudonymKeyError``) without the deployment's pseudonym key outside demo mode.
    """
    from repigment.services.cohort import pseudonym_key

    key = pseudonym_key(demo)  # first: nothing is opened when it is missing
    if web is None:
        web = not get_settings().api_only
    the_store = store if store is not None else Store()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        close_process_state(app)
        if store is None:
            the_store.dispose()

    app = FastAPI(
        title="repigment",
        version=repigment.__version__,
        description="Clinical record, label checks and scoring: ruxolitinib cream in non-segmental vitiligo.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served from local assets by mount_docs: no CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = the_store
    app.state.demo = demo
    app.state.pseudonym_key = key
    # This process's writer lock (SQLite), diary batch writer and diary read connection.
    gate = WriteGate(the_store) if the_store.is_sqlite else None
    app.state.write_gate = gate
    app.state.diary_writer = DiaryWriter(the_store, gate)
    app.state.diary_reader = Reader(the_store)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(OperationalError, _busy)
    app.add_exception_handler(Exception, _unexpected)
    large_bodies: tuple[tuple[str, re.Pattern[str], int], ...] = ()
    if web:
        from repigment.web.pages.photos import body_limits

        large_bodies = body_limits()
    app.add_middleware(GuardMiddleware, large_bodies=large_bodies)
    app.include_router(admin.router, prefix=API_PREFIX)
    app.include_router(auth.router, prefix=API_PREFIX)
    app.include_router(patients.router, prefix=API_PREFIX)
    app.include_router(analytics.router, prefix=API_PREFIX)
    from repigment.interop.routes import router as interop_router

    app.include_router(interop_router, prefix=API_PREFIX)
    mount_docs(app)
    if web:
        from repigment.web import mount_web

        mount_web(app)
    return app


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, including routes of included routers and those hidden from
    the OpenAPI schema; the authorisation tests walk it so that no route escapes them."""
    out: set[tuple[str, str]] = set()

    def add(methods: Any, path: Any) -> None:
        for m in methods or ():
            if m != "HEAD":
                out.add((str(m), str(path)))

    for r in app.router.routes:
        contexts = getattr(r, "effective_route_contexts", None)
        if contexts is not None:
            for ctx in contexts():
                add(ctx.methods, ctx.path)
        else:
            add(getattr(r, "methods", None), getattr(r, "path", None))
    return sorted(out, key=lambda mp: (mp[1], mp[0]))
