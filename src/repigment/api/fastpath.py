"""The diary write's HTTP fast path.

A patient's diary gets an entry twice a day, the most frequent request of all, and on it FastAPI's
general machinery (matching the path against every route, resolving dependencies, validating the
answer again) costs as much as the entry's label check. For ``POST /api/v1/patients/{id}/applications``
with a bearer token and a JSON body that the route's own model accepts, this layer runs the route's own
steps (``applications.diary_target``, ``applications.write_diary_entry``) and answers with the JSON the route
would. Everything else is handed on unchanged to the app, body included: other requests, cookie
sessions (CSRF is checked there), a body the model refuses, and every refusal (401, 403, 404, 409,
422), so all answers but the successful ones come from the app itself. The route stays the one the
OpenAPI description documents; ``tests/api/test_api_fastpath.py`` compares both paths' answers.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from fastapi import HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from repigment.api import API_PREFIX
from repigment.api.deps import MAX_ID
from repigment.api.routes import applications
from repigment.services.errors import ServiceError
from repigment.services.schemas import ApplicationIn

_PATH: Final = re.compile(re.escape(API_PREFIX) + r"/patients/([1-9][0-9]{0,9})/applications")

Message = dict[str, Any]


class DiaryFastPath:
    """ASGI layer in front of the app (inside ``GuardMiddleware``: its limits and headers apply)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        match = _PATH.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] != "POST" or not _bearer_json(scope["headers"]):
            await self.app(scope, receive, send)
            return
        if not getattr(scope["app"].state, "diary_fast_path", True):  # switched off (tests compare)
            await self.app(scope, receive, send)
            return
        body, more = await _read(receive)
        replay = _replay(body, more, receive)
        patient_id = int(match.group(1))
        try:
            if more is not None or patient_id > MAX_ID:
                raise LookupError
            entry = ApplicationIn.model_validate(json.loads(body))  # as FastAPI validates a body
        except (LookupError, ValueError, ValidationError, RecursionError):  # nested too deep: the app says so
            await self.app(scope, replay, send)
            return
        request = Request(scope)
        response = Response()
        try:
            target = applications.diary_target(request, patient_id)
            out = await applications.write_diary_entry(request, target.user, target.patient, entry, response)
        except (HTTPException, ServiceError):
            await self.app(scope, replay, send)  # nothing was written: the app answers
            return
        answer = JSONResponse(  # as the route's answer is rendered
            out.model_dump(mode="json"), response.status_code, {"location": response.headers["location"]}
        )
        await answer(scope, replay, send)
        state = scope["app"].state
        state.diary_fast_path_answers = getattr(state, "diary_fast_path_answers", 0) + 1


def _bearer_json(headers: list[tuple[bytes, bytes]]) -> bool:
    bearer = json_body = False
    for name, value in headers:
        if name == b"authorization":
            bearer = value[:7].lower() == b"bearer "
        elif name == b"content-type":
            json_body = value.split(b";")[0].strip().lower() == b"application/json"
    return bearer and json_body


async def _read(receive: Any) -> tuple[bytes, Message | None]:
    """The whole body; and the message that ended it early (a disconnect), if one did."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, ended: Message | None, receive: Any) -> Any:
    """A ``receive`` that gives the app the body already read, then whatever comes next."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    if ended is not None:
        pending = [ended]

    async def again() -> Message:
        return pending.pop(0) if pending else await receive()

    return again
