"""Fuzzing the OpenAPI schema with schemathesis (valid and invalid inputs): no request gets a 5xx.

Each /api/ operation is called with inputs generated from the published schema, both conforming
("positive") and deliberately broken ("negative"), as an authorised user of the right role and with
path parameters pointing at a real patient so the handlers' deep paths run, not just the 404s.
"""

from __future__ import annotations

from typing import Any

import httpx
import requests
import schemathesis  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

EXAMPLES = 4


def test_fuzz_openapi_no_server_errors(api_server: Any, clinic_factory: Any) -> None:
    c = clinic_factory()
    with httpx.Client(base_url=api_server.base_url) as http:
        tokens = {role: c.login(http, role) for role in ("clinician", "admin")}
        spec = http.get("/api/openapi.json").json()
    schema = schemathesis.openapi.from_dict(spec)
    session = requests.Session()
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if not op.path.startswith("/api/"):
            continue
        headers = tokens["admin"] if op.path.startswith("/api/v1/users") else tokens["clinician"]
        if op.path.endswith("/auth/logout"):
            headers = {}  # would revoke the token the other operations use
        pinned = {"patient_id": c.patients[0]} if "{patient_id}" in op.path else None
        strategies = [
            op.as_strategy(GenerationMode.POSITIVE, path_parameters=pinned),
            op.as_strategy(GenerationMode.NEGATIVE),
        ]
        if pinned:
            strategies.append(op.as_strategy(GenerationMode.NEGATIVE, path_parameters=pinned))
        for strategy in strategies:
            try:
                calls += _fuzz(strategy, api_server.base_url, session, headers, failures)
            except Unsatisfiable:  # nothing to break (e.g. negative inputs for an operation without any)
                continue
    session.close()
    assert calls > 200
    assert not failures, "\n".join(failures[:20]) + f"\n(server log: {api_server.log})"


def _fuzz(
    strategy: Any, base_url: str, session: requests.Session, headers: dict[str, str], failures: list[str]
) -> int:
    calls = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        nonlocal calls
        calls += 1
        r = case.call(base_url=base_url, session=session, headers=headers)
        if r.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {r.status_code}: {r.text[:200]}")

    run()
    return calls
