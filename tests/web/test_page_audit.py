"""Page views of a record, photo uploads and views, data downloads and log-outs from the pages are
recorded in the audit trail (who, which record, how); a patient's own diary page is not a read event."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from PIL import Image
from sqlalchemy import select
from test_pages_http import _client, _csrf
from webharness import on_sqlite

from repigment.store import AuditEntry, Store, verify

pytestmark = on_sqlite


def _events(api_server: Any, after: int) -> list[tuple[str, str, str, dict[str, Any]]]:
    store = Store(api_server.db_url, migrate=False)
    try:
        with store.read() as s:
            rows = s.scalars(select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq)).all()
            return [(e.actor, e.action, e.table_name, json.loads(e.new or "null")) for e in rows]
    finally:
        store.dispose()


def _head(api_server: Any) -> int:
    store = Store(api_server.db_url, migrate=False)
    try:
        with store.read() as s:
            return max(s.scalars(select(AuditEntry.seq)).all(), default=0)
    finally:
        store.dispose()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 150, 120)).save(out, format="PNG")
    return out.getvalue()


def test_page_views_photos_downloads_and_logout_are_recorded(
    base_url: str, clinic: Any, api_server: Any
) -> None:
    ada = clinic.patients[0]
    clin = _client(base_url, clinic.clinician, clinic.password)
    me = _client(base_url, clinic.patient_user, clinic.password)
    try:
        start = _head(api_server)
        page = clin.get(f"/clinic/patients/{ada}")
        assert page.status_code == 200
        visit_id = int(re.findall(rf"/clinic/patients/{ada}/visits/(\d+)", page.text)[0])
        assert clin.get(f"/clinic/patients/{ada}/visits/{visit_id}").status_code == 200
        r = clin.post(
            f"/clinic/patients/{ada}/visits/{visit_id}/photos",
            data={"csrf_token": _csrf(clin), "kind": "face_front"},
            files={"photo": ("face.png", _png(), "image/png")},
        )
        assert r.status_code == 303, r.text[:300]
        page = clin.get(f"/clinic/patients/{ada}/visits/{visit_id}").text
        (photo,) = set(re.findall(rf"/photos/{ada}/([0-9a-f]{{64}})", page))
        assert clin.get(f"/photos/{ada}/{photo}").status_code == 200
        assert me.get(f"/photos/{ada}/{photo}").status_code == 200  # the patient's own photo: not recorded
        assert me.get(f"/patients/{ada}").status_code == 200  # the patient's own diary: not recorded
        assert me.get(f"/patients/{ada}/export.json").status_code == 200
        assert me.get(f"/patients/{ada}/export.csv", params={"table": "visits"}).status_code == 200
        assert clin.post("/logout", data={"csrf_token": _csrf(clin)}).status_code == 303
        events = [
            (actor, action, table, {k: detail.get(k) for k in ("patient_id", "via", "format")})
            for actor, action, table, detail in _events(api_server, start)
            if action not in ("create", "update", "delete", "login")
        ]
        who, pat = clinic.clinician, clinic.patient_user
        web = {"patient_id": ada, "via": "web", "format": None}
        assert events == [
            (who, "read", "patient", web),
            (who, "read", "visit", web),
            (who, "photo_upload", "photo", web),
            (who, "read", "visit", web),
            (who, "photo_view", "photo", web),
            (pat, "export", "patient", {**web, "format": "json"}),
            (pat, "export", "patient", {**web, "format": "csv:visits"}),
            (who, "logout", "app_user", {"patient_id": None, "via": "web", "format": None}),
        ]
        store = Store(api_server.db_url, migrate=False)
        try:
            with store.engine.connect() as conn:
                assert verify(conn).problems == []
        finally:
            store.dispose()
    finally:
        clin.close()
        me.close()
