"""The diary write's fast path (``repigment.api.fastpath``) answers exactly as the route: two identical
clinics get the same requests, one with the fast path on and one with it off, and every answer — status,
headers, JSON — is the same but for the ids and times that are the clinic's own."""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from repigment.app import close_process_state, create_app

SECURITY = ("x-content-type-options", "x-frame-options", "referrer-policy", "cache-control")


async def _login(client: httpx.AsyncClient, clinic: Any, role: str) -> dict[str, str]:
    r = await client.post(
        "/api/v1/auth/token", json={"username": clinic.users[role], "password": clinic.password}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _scenario(client: httpx.AsyncClient, clinic: Any) -> list[tuple[int, dict[str, str], Any]]:
    doc, me, analyst = [await _login(client, clinic, r) for r in ("clinician", "patient", "analyst")]
    own, other = clinic.patients
    path = f"/api/v1/patients/{own}/applications"
    first = {"id": str(uuid.uuid4()), "at": "2026-03-02T08:00:00+01:00", "hand_units": 2.0, "grams": 0.5}
    soon = {"id": str(uuid.uuid4()), "at": "2026-03-02T09:30:00+01:00", "hand_units": 12, "sites": ["lips"]}
    calls: list[tuple[str, dict[str, Any] | str, dict[str, str]]] = [
        (path, first, doc),  # stored: 201
        (path, soon, me),  # 1.5 h later, over 10 % BSA, on the lips: stored and flagged
        (path, first, doc),  # a retry: 200
        (path, {**first, "hand_units": 3.0}, doc),  # the id reused for another entry: 409
        (path, {**first, "id": str(uuid.uuid4()), "hand_units": 0}, doc),  # refused by the model: 422
        (path, {**first, "id": str(uuid.uuid4()), "extra": 1}, doc),  # unknown field: 422
        (path, {**first, "id": str(uuid.uuid4()), "course_id": 999999}, doc),  # not their course: 422
        (path, "{not json", doc),  # 422
        (f"/api/v1/patients/{other}/applications", {**first, "id": str(uuid.uuid4())}, me),  # 404
        (path, {**first, "id": str(uuid.uuid4())}, analyst),  # 403
        (path, {**first, "id": str(uuid.uuid4())}, {}),  # 401
        (path, {**first, "id": str(uuid.uuid4())}, {"Authorization": "Bearer nope"}),  # 401
        ("/api/v1/patients/99999999999/applications", first, doc),  # 422: path id out of range
    ]
    out = []
    for url, body, headers in calls:
        if isinstance(body, str):
            r = await client.post(url, content=body, headers={**headers, "content-type": "application/json"})
        else:
            r = await client.post(url, json=body, headers=headers)
        kept = {k: r.headers[k] for k in ("content-type", "location", *SECURITY) if k in r.headers}
        out.append((r.status_code, kept, r.json()))
    return out


def _neutral(value: Any, clinic: Any) -> Any:
    """The answer with this clinic's own ids and the server's times replaced by placeholders."""
    text = repr(value)
    for i, pid in enumerate(clinic.patients):
        text = re.sub(rf"patients/{pid}\b", f"patients/P{i}", text).replace(
            f"'patient_id': {pid}", f"'patient_id': P{i}"
        )
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    return re.sub(r"'created_at': '[^']*'", "'created_at': T", text)


def test_fast_path_answers_as_the_route(store: Any, harness: Any) -> None:
    app = create_app(store, web=False)
    fast_clinic, slow_clinic = harness.seed_clinic(store, "fast"), harness.seed_clinic(store, "slow")

    async def both() -> tuple[list[Any], list[Any], int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            app.state.diary_fast_path = True
            fast = await _scenario(client, fast_clinic)
            served = app.state.diary_fast_path_answers
            app.state.diary_fast_path = False
            slow = await _scenario(client, slow_clinic)
            assert app.state.diary_fast_path_answers == served  # off: nothing more through the fast path
        close_process_state(app)  # no lifespan on this transport
        return fast, slow, served

    with ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever earlier tests left running here
        fast, slow, served = pool.submit(asyncio.run, both()).result()
    assert served == 3, "the two stored entries and the retry are answered by the fast path"
    assert [s for s, _, _ in fast] == [201, 201, 200, 409, 422, 422, 422, 422, 404, 403, 401, 401, 422]
    flagged = fast[1][2]
    assert flagged["flagged"] and {f["rule"] for f in flagged["findings"]} >= {"EU-4.2-interval"}
    for (fs, fh, fb), (ss, sh, sb) in zip(fast, slow, strict=True):
        assert (fs, _neutral(fh, fast_clinic), _neutral(fb, fast_clinic)) == (
            ss,
            _neutral(sh, slow_clinic),
            _neutral(sb, slow_clinic),
        )
        assert set(SECURITY) <= set(fh)
