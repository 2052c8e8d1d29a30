"""VNS and VitiQoL on a visit: validated by the core's instruments, stored, derived in the answer, audited."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from repigment.scoring import vitiqol, vns_success
from repigment.store import AuditEntry, Store

PATCHES = [{"region": "face", "hand_units": 1.0, "depigmentation_percent": 50}]
ITEMS = [3, 2, 1, 0, 6, 5, 4, 3, 2, 1, 0, 6, 5, 4, 3]


def test_vns_and_vitiqol_are_stored_scored_and_audited(
    http: httpx.Client, clinic_factory: Any, api_server: Any
) -> None:
    c = clinic_factory()
    doc = c.login(http, "clinician")
    pid = c.patients[0]
    body = {
        "visited_on": "2026-03-02",
        "patches": PATCHES,
        "vns": 4,
        "vitiqol": {"items": ITEMS, "item16": 2},
    }
    r = http.post(f"/api/v1/patients/{pid}/visits", json=body, headers=doc)
    assert r.status_code == 201, r.text
    v = r.json()
    # By hand: domains 1–7 = 3+2+1+0+6+5+4 = 21; 8–12 = 3+2+1+0+6 = 12; 13–15 = 5+4+3 = 12; total 45.
    q = v["vitiqol"]
    assert (q["participation_limitation"], q["stigma"], q["behaviour"], q["total"]) == (21, 12, 12, 45)
    assert q["total"] == vitiqol(ITEMS, 2).total and q["item16"] == 2 and q["items"] == ITEMS
    assert v["vns"] == 4 and v["vns_success"] is True is vns_success(4)
    listed = http.get(f"/api/v1/patients/{pid}/visits", headers=doc).json()
    assert [(x["vns"], x["vns_success"]) for x in listed] == [(4, True)]
    # The patient reads their own answers; without them the fields are null.
    me = c.login(http, "patient")
    assert http.get(f"/api/v1/patients/{pid}/visits/{v['id']}", headers=me).json()["vns"] == 4
    plain = http.post(
        f"/api/v1/patients/{pid}/visits", json={"visited_on": "2026-03-03", "patches": PATCHES}, headers=doc
    ).json()
    assert plain["vns"] is None and plain["vns_success"] is None and plain["vitiqol"] is None
    low = http.post(
        f"/api/v1/patients/{pid}/visits",
        json={"visited_on": "2026-03-04", "patches": PATCHES, "vns": 3},
        headers=doc,
    ).json()
    assert low["vns_success"] is False
    store = Store(api_server.db_url, migrate=False)
    try:
        with store.read() as s:
            e = s.scalars(
                select(AuditEntry).where(AuditEntry.table_name == "visit", AuditEntry.row_id == str(v["id"]))
            ).one()
        new = json.loads(e.new or "{}")
        assert e.action == "create" and new["vns"] == 4 and new["vitiqol_items"] == ITEMS
        assert new["vitiqol_item16"] == 2
    finally:
        store.dispose()


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"vns": 6}, "body.vns", "from 1 to 5"),
        ({"vns": 0}, "body.vns", "from 1 to 5"),
        ({"vns": 2.5}, "body.vns", "whole number"),
        ({"vns": "4"}, "body.vns", "whole number"),
        ({"vns": True}, "body.vns", "whole number"),
        ({"vitiqol": {"items": ITEMS[:14]}}, "body.vitiqol", "exactly 15"),
        ({"vitiqol": {"items": [*ITEMS[:14], 7]}}, "body.vitiqol", "items[15]"),
        ({"vitiqol": {"items": ITEMS, "item16": -1}}, "body.vitiqol", "item16"),
        ({"vitiqol": {"items": ITEMS, "extra": 1}}, "body.vitiqol.extra", "unknown field"),
    ],
)
def test_bad_patient_reported_values_name_the_field(
    http: httpx.Client, clinic_factory: Any, extra: dict[str, Any], field: str, words: str
) -> None:
    c = clinic_factory()
    doc = c.login(http, "clinician")
    r = http.post(
        f"/api/v1/patients/{c.patients[0]}/visits",
        json={"visited_on": "2026-03-02", "patches": PATCHES} | extra,
        headers=doc,
    )
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == field and words in err["message"], err
