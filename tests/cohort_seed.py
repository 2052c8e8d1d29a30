"""A course with scored face visits made through the API: the cohort that the analytics API and the analyst's
page are both tested on (one seed, so the two tests count the same visits)."""

from __future__ import annotations

import httpx


def course_visits(
    http: httpx.Client, doc: dict[str, str], pid: int, rows: list[tuple[str, int, int | None]]
) -> None:
    course = http.post(
        f"/api/v1/patients/{pid}/courses",
        json={"started_on": "2026-01-05", "plan": {"areas": [{"region": "face", "hand_units": 1}]}},
        headers=doc,
    )
    assert course.status_code == 201, course.text
    for day, depig, vns in rows:
        r = http.post(
            f"/api/v1/patients/{pid}/visits",
            json={
                "course_id": course.json()["id"],
                "visited_on": day,
                "patches": [{"region": "face", "hand_units": 1, "depigmentation_percent": depig}],
                "vns": vns,
            },
            headers=doc,
        )
        assert r.status_code == 201, r.text
