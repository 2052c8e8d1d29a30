"""The application: one FastAPI app serving the REST API (/api/v1, OpenAPI at /api/openapi.json, docs
at /api/docs, the FHIR and ICSR routes among them) and the web pages, built here and only here.

This module is the composition root (docs/architecture.md): it owns what lives as long as a process
(the SQLite writer gate, the diary's batch writer and read connection, the store when it opened it),
installs the middleware (body limits, security headers) and the API's error
handlers, and mounts the adapters. It alone may import several adapters. Bodies over
``MAX_BODY_BYTES`` get 413, except on routes an adapter allows more (``repigment.web.large_bodies``).
"""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import FastAPI

import repigment
from repigment.api.app import install_error_handlers, mount_api
from repigment.config import get_settings
from repigment.services.diary import DiaryWriter, Reader
from repigment.store import Store
from repigment.store.writer_lock import WriteGate

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
    only the web pages' photo upload is (``repigment.web.large_bodies()``).
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
        docs_url=None,  # served from local assets by the API's explorer: no CDN
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
    install_error_handlers(app)
    large_bodies: tuple[tuple[str, re.Pattern[str], int], ...] = ()
    if web:
        from repigment.web import large_bodies as web_large_bodies

        large_bodies = web_large_bodies()
    app.add_middleware(GuardMiddleware, large_bodies=large_bodies)
    mount_api(app)
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


# How long a worker thread that has finished its part (an fsync, a lock-file wait) may wait for the
# interpreter lock while the event loop runs Python. At Python's default of 5 ms, every diary write
# waited that long for its group's fsync; 0.5 ms keeps the wait short at a negligible switching cost.
SWITCH_INTERVAL_S: Final = 0.0005


def app_factory() -> FastAPI:
    """The app uvicorn imports (``repigment serve``); settings come from the environment."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    app = create_app(demo=get_settings().demo)
    # Everything loaded so far (the app, NumPy, SciPy, SQLAlchemy, ...) lives as long as the process:
    # kept out of the collector's full passes, which otherwise stalled every request for about 0.1 s.
    gc.collect()
    gc.freeze()
    return app
