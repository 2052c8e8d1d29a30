"""VNS in the web app: the clinician's visit form, the visit page, progress over weeks (English and
Swedish), and the patient's own data download."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
from test_pages_http import _client, _csrf, _field_error
from webharness import on_sqlite

from repigment.scoring import VNS_LABELS
from repigment.web.labels import VNS


def test_web_vns_labels_are_the_instruments_words() -> None:
    assert VNS == VNS_LABELS


@on_sqlite
def test_visit_form_records_vns_and_progress_shows_it(base_url: str, clinic: Any) -> None:
    ada = clinic.patients[0]
    clin = _client(base_url, clinic.clinician, clinic.password)
    pat = _client(base_url, clinic.patient_user, clinic.password)
    try:
        url = f"/clinic/patients/{ada}/visits/new"
        form = clin.get(url).text
        assert '<select id="vns" name="vns"' in form and "5 – no longer noticeable" in form
        drawing = json.dumps({"front": [0, 100, 75, 300, 0, 21600]})
        base = {
            "csrf_token": _csrf(clin),
            "visited_on": dt.date.today().isoformat(),
            "drawing": drawing,  # paints outside every area: an empty map, said to be one
            "no_depigmentation": "1",
        }
        r = clin.post(url, data=base | {"vns": "9"})  # not an option of the form: refused by the core
        assert r.status_code == 422 and _field_error(r.text, "vns") == "Choose an answer from 1 to 5."
        r = clin.post(url, data=base | {"vns": "5", "week": "30"})
        assert r.status_code == 303, r.text[:400]
        visit = clin.get(r.headers["location"]).text
        assert "VNS: 5 – no longer noticeable" in visit
        # The patient's progress: the seeded week-12 answer and the new week-30 one, in order.
        progress = pat.get(f"/patients/{ada}/progress").text
        section = progress.split('id="vns-title"', 1)[1].split("</section>", 1)[0]
        assert section.index("Week 12") < section.index("Week 30")
        assert "<strong>3</strong> – slightly less noticeable" in section
        assert "<strong>5</strong> – no longer noticeable (success)" in section
        pat.cookies.set("repigment_lang", "sv")
        sv = pat.get(f"/patients/{ada}/progress").text
        assert "inte längre märkbar (lyckad)" in sv and "något mindre märkbar" in sv
        # The clinician's patient page shows the same section.
        assert 'id="vns-title"' in clin.get(f"/clinic/patients/{ada}").text
        # Own data download: the answer and whether it counts as success.
        data = pat.get(f"/patients/{ada}/export.json").json()
        answers = [(v["week"], v["vns"], v["vns_success"]) for v in data["visits"] if v["vns"] is not None]
        assert answers == [(12, 3, False), (30, 5, True)]
        csv_text = pat.get(f"/patients/{ada}/export.csv", params={"table": "visits"}).text
        header = csv_text.splitlines()[0].split(",")
        assert "vns" in header and "vns_success" in header
    finally:
        clin.close()
        pat.close()


@on_sqlite
def test_other_patient_cannot_read_vns(base_url: str, clinic: Any) -> None:
    other = _client(base_url, clinic.other_patient_user, clinic.password)
    try:
        assert other.get(f"/patients/{clinic.patients[0]}/progress").status_code in (403, 404)
    finally:
        other.close()
    with httpx.Client(base_url=base_url) as anon:
        assert anon.get(f"/patients/{clinic.patients[0]}/export.json").status_code in (303, 401)
