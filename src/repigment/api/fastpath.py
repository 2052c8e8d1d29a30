"""The diary write's lean handler, on the route itself.

A patient's diary gets an entry twice a day, the most frequent request of all, and on it FastAPI's
general handler (solving the dependencies, validating the answer again against the response model,
encoding it through ``jsonable_encoder``) costs about as much as the entry's label check. The route
(``POST /api/v1/patients/{patient_id}/applications``) is registered with the class ``diary_route``
makes: FastAPI's own ``APIRoute`` (its path, method, path parameter and OpenAPI description are the
route's, matched by FastAPI's router) whose handler, for a bearer-authenticated JSON entry that the
route's body model accepts, runs the route's own steps (``diary_target``, ``write_diary_entry``) and
renders the answer as the route would. Every other request — no bearer token, a cookie (CSRF is checked
there), a body or path the models refuse, a refused caller (401, 403, 404) — goes to the route's
general handler, body included. Both run where the route runs: inside the router, the app's middleware
and its exception handlers, so a failing database is the app's 503 and a refused entry (409, 422) the
app's own answer. ``tests/api/test_api_fastpath.py`` sends the same requests over HTTP with the lean
handler on and off (``app.state.diary_fast_path``) and compares the answers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError

from repigment.services.errors import ServiceError
from repigment.services.schemas import ApplicationIn

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Target = Callable[[Request, int], Any]  # ``diary_target``: the caller and the patient, or HTTPException
Write = Callable[[Request, Any, Any, ApplicationIn, Response], Awaitable[Any]]  # ``write_diary_entry``


def diary_route(target: Target, write: Write) -> type[APIRoute]:
    """The route class of the diary write (``add_api_route(..., route_class_override=...)``): FastAPI's
    own ``APIRoute`` whose handler is the lean one in front of the general one."""

    class DiaryRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            return _handler(super().get_route_handler(), self, target, write)

    return DiaryRoute


def _handler(general: Handler, route: APIRoute, target: Target, write: Write) -> Handler:
    (param,) = _path_params(route.dependant)  # the route's one path parameter: the patient's id
    bounds = param.field_info.metadata  # its constraints (annotated_types Ge/Le), as FastAPI checks them

    def patient_id(request: Request) -> int | None:
        raw = request.path_params.get(param.name, "")
        if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and raw[0] != "0"):
            return None
        value = int(raw)
        ok = all(getattr(m, "ge", value) <= value <= getattr(m, "le", value) for m in bounds)
        return value if ok else None

    async def handler(request: Request) -> Response:
        state = request.app.state
        if not getattr(state, "diary_fast_path", True) or not _bearer_json(request):
            return await general(request)
        body = await request.body()  # kept on the request: the general handler reads it again
        pid = patient_id(request)
        try:
            if pid is None:
                raise ValueError
            entry = ApplicationIn.model_validate(json.loads(body))  # as FastAPI validates a body
        except (ValueError, ValidationError, RecursionError):
            return await general(request)  # the route's own 422 (RecursionError: nested too deep)
        try:
            caller = target(request, pid)
        except (HTTPException, ServiceError):
            return await general(request)  # a refused caller: the route's own answer; nothing written
        response = Response()
        # From here on the entry may be written: errors go to the app's handlers, never again through
        # the general handler.
        out = await write(request, caller.user, caller.patient, entry, response)
        state.diary_fast_path_answers = getattr(state, "diary_fast_path_answers", 0) + 1
        return JSONResponse(  # as the route's answer is rendered
            out.model_dump(mode="json"), response.status_code, {"location": response.headers["location"]}
        )

    return handler


def _path_params(dependant: Any) -> list[Any]:
    """The path parameters of an endpoint and of its dependencies (FastAPI's ``Dependant`` tree)."""
    found = list(dependant.path_params)
    for sub in dependant.dependencies:
        found += [p for p in _path_params(sub) if all(p.name != q.name for q in found)]
    return found


def _bearer_json(request: Request) -> bool:
    """A bearer token, no cookie (session cookies and CSRF are the general handler's) and a JSON body."""
    headers = request.headers
    if "cookie" in headers:
        return False
    bearer = headers.get("authorization", "")[:7].lower() == "bearer "
    return bearer and headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"
