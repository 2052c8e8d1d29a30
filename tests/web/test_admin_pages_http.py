"""The administrator's pages and every role's start page over real HTTP: each action on an account of the
own clinic with its confirmation, another clinic's account a 404, other roles refused, forms without the
CSRF token refused, form errors next to the field they name."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from webharness import on_sqlite

from repigment.store import AuditEntry, Store, User

pytestmark = on_sqlite
NEW = "a brand new passphrase"


def _login(base_url: str, username: str, password: str, lang: str | None = None) -> httpx.Client:
    c = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
    if lang is not None:
        from repigment.web.i18n import LOCALE_COOKIE

        c.cookies.set(LOCALE_COOKIE, lang)
    html = c.get("/login").text
    token = html.split('name="login_csrf" value="', 1)[1].split('"', 1)[0]
    r = c.post("/login", data={"username": username, "password": password, "login_csrf": token})
    assert r.status_code == 303, r.text
    return c


def _csrf(c: httpx.Client) -> str:
    return str(c.cookies.get("repigment_csrf"))


def _post(c: httpx.Client, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    return c.post(path, data={**(data or {}), "csrf_token": _csrf(c)})


def _field_error(html: str, field: str) -> str:
    marker = f'id="err-{field}"'
    assert marker in html, f"no error shown next to {field}"
    return html.split(marker, 1)[1].split(">", 1)[1].split("</p>", 1)[0]


def _notice(html: str) -> str:
    return html.split("data-done>", 1)[1].split("</p>", 1)[0].strip()


@pytest.fixture()
def seeded(clinic_factory: Any) -> Any:
    return clinic_factory()


@pytest.fixture()
def adm(base_url: str, seeded: Any) -> Iterator[httpx.Client]:
    c = _login(base_url, seeded.users["admin"], seeded.password)
    yield c
    c.close()


def _uid(api_server: Any, username: str) -> int:
    s = Store(api_server.db_url, migrate=False)
    try:
        with s.read() as db:
            return int(db.scalars(select(User.id).where(User.username == username)).one())
    finally:
        s.dispose()


def _row(api_server: Any, user_id: int) -> User:
    s = Store(api_server.db_url, migrate=False)
    try:
        with s.read() as db:
            u = db.get(User, user_id)
            assert u is not None
            db.expunge(u)
            return u
    finally:
        s.dispose()


@pytest.mark.parametrize(
    ("role", "start"),
    [("admin", "/admin"), ("analyst", "/analyst"), ("safety_officer", "/safety"), ("clinician", "/clinic")],
)
def test_each_role_lands_on_its_own_start_page(base_url: str, seeded: Any, role: str, start: str) -> None:
    """Regression: administrators, analysts and safety officers were sent to /api/docs, a page without
    navigation or log-out."""
    with closing(_login(base_url, seeded.users[role], seeded.password)) as c:
        r = c.get("/")
        assert r.status_code == 303 and r.headers["location"] == start
        r = c.get(start)
        assert r.status_code == 200
        assert 'aria-label="Main menu"' in r.text and 'action="/logout"' in r.text
        if role != "clinician":
            assert 'href="/api/docs"' in r.text  # the API explorer stays one click away
        # the other start pages are not theirs
        for other in {"/admin", "/analyst", "/safety"} - {start}:
            r = c.get(other)
            assert r.status_code == 403 and "Your account may not open this page." in r.text
        r = _post(c, "/logout")
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert c.get(start).status_code == 303  # logged out: back to the log-in form


def test_the_user_list_shows_the_own_clinic_only(adm: httpx.Client, seeded: Any, clinic_factory: Any) -> None:
    other = clinic_factory()
    r = adm.get("/admin/users")
    assert r.status_code == 200
    for username in seeded.users.values():
        assert f">{username}</a>" in r.text
    for username in other.users.values():
        assert username not in r.text


def test_create_an_account_and_log_in_with_it(
    adm: httpx.Client, base_url: str, seeded: Any, api_server: Any
) -> None:
    name = f"new-{uuid.uuid4().hex[:8]}"
    form = {"username": name, "display_name": "Dr Nils Berg", "role": "clinician", "password": NEW}
    r = _post(adm, "/admin/users/new", {**form, "password_again": NEW})
    assert r.status_code == 303, r.text
    page = adm.get(r.headers["location"])
    assert _notice(page.text) == "The account has been created."
    uid = int(r.headers["location"].split("/")[-1].split("?")[0])
    row = _row(api_server, uid)
    assert (row.username, row.role, row.display_name, row.active) == (name, "clinician", "Dr Nils Berg", True)
    with closing(_login(base_url, name, NEW)) as c:
        assert c.get("/").headers["location"] == "/clinic"


def test_the_create_form_names_the_field_at_fault(adm: httpx.Client, seeded: Any) -> None:
    good = {
        "username": f"u-{uuid.uuid4().hex[:8]}",
        "role": "clinician",
        "password": NEW,
        "password_again": NEW,
    }
    cases = [
        ({"username": ""}, "username", "This field is required."),
        ({"username": "no spaces allowed"}, "username", "Use at most 100 letters"),
        ({"password": "short", "password_again": "short"}, "password", "at least 12 characters"),
        ({"password_again": NEW + "x"}, "password_again", "The two passwords differ."),
        ({"role": "wizard"}, "role", ""),
        ({"role": "patient"}, "patient_id", "is required for the patient role"),
        ({"role": "patient", "patient_id": str(10**6)}, "patient_id", "no patient"),
        ({"patient_id": str(seeded.patients[1])}, "patient_id", "only accounts with the patient role"),
        ({"username": seeded.users["analyst"].upper()}, "username", "is not available"),
        ({"role": "patient", "patient_id": str(seeded.patients[0])}, "patient_id", "already has an account"),
    ]
    for change, field, text in cases:
        r = _post(adm, "/admin/users/new", {**good, **change})
        assert r.status_code in (409, 422), (change, r.status_code)
        assert text in _field_error(r.text, field), (change, r.text)
        assert 'aria-invalid="true" aria-describedby="err-' + field in r.text
        if field != "username":
            assert f'value="{good["username"]}"' in r.text  # nothing typed is lost
    r = _post(adm, "/admin/users/new", {**good, "username": "", "password": "short"})
    assert _field_error(r.text, "username") and _field_error(r.text, "password")  # every field at once


def test_each_action_on_an_account_with_its_confirmation_and_audit(
    adm: httpx.Client, base_url: str, seeded: Any, api_server: Any
) -> None:
    name = seeded.users["analyst"]
    uid = _uid(api_server, name)
    victim = _login(base_url, name, seeded.password)
    assert victim.get("/analyst").status_code == 200
    page = f"/admin/users/{uid}"

    r = _post(adm, page + "/role", {"role": "safety_officer"})
    assert r.status_code == 303 and r.headers["location"] == page + "?done=role"
    assert _notice(adm.get(r.headers["location"]).text) == "The role has been changed."
    assert _row(api_server, uid).role == "safety_officer"
    assert victim.get("/").headers["location"] == "/safety"  # at once, on the next request

    r = _post(adm, page + "/revoke-sessions")
    assert r.status_code == 303
    assert _notice(adm.get(r.headers["location"]).text) == "Every session of the account has ended."
    assert victim.get("/safety").status_code == 303  # its session is gone: to the log-in form

    r = _post(adm, page + "/deactivate")
    assert _notice(adm.get(r.headers["location"]).text).startswith("The account has been deactivated")
    assert _row(api_server, uid).active is False
    c = httpx.Client(base_url=base_url, timeout=30)
    html = c.get("/login").text
    token = html.split('name="login_csrf" value="', 1)[1].split('"', 1)[0]
    r = c.post("/login", data={"username": name, "password": seeded.password, "login_csrf": token})
    assert r.status_code == 422  # cannot log in

    r = _post(adm, page + "/reactivate")
    assert _notice(adm.get(r.headers["location"]).text).startswith("The account has been reactivated")
    assert _row(api_server, uid).active is True

    r = _post(adm, page + "/password-reset")
    assert r.status_code == 200 and "It is shown only once." in r.text
    temporary = r.text.split("data-temporary-password>", 1)[1].split("<", 1)[0]
    assert len(temporary) >= 12 and temporary not in str(r.url)
    assert _row(api_server, uid).must_change_password is True
    with closing(_login(base_url, name, temporary)) as fresh:  # the temporary password must be changed first
        assert fresh.get("/safety").headers["location"] == "/password"
        r = _post(
            fresh,
            "/password",
            {"current_password": temporary, "new_password": NEW, "new_password_again": NEW},
        )
        assert r.status_code == 200
        assert fresh.get("/safety").status_code == 200

    s = Store(api_server.db_url, migrate=False)
    try:
        with s.read() as db:
            entries = db.scalars(
                select(AuditEntry).where(AuditEntry.table_name == "app_user", AuditEntry.row_id == str(uid))
            ).all()
            assert {e.actor for e in entries} >= {seeded.users["admin"]}
            changed = " ".join(str(e.new) for e in entries if e.actor == seeded.users["admin"])
            for column in ("role", "active", "sessions_revoked_at", "must_change_password"):
                assert column in changed, column
    finally:
        s.dispose()


def test_another_clinics_account_is_not_found(
    adm: httpx.Client, clinic_factory: Any, api_server: Any
) -> None:
    other = clinic_factory()
    uid = _uid(api_server, other.users["clinician"])
    assert adm.get(f"/admin/users/{uid}").status_code == 404
    for action in ("role", "deactivate", "reactivate", "password-reset", "revoke-sessions"):
        r = _post(adm, f"/admin/users/{uid}/{action}", {"role": "admin"})
        assert r.status_code == 404 and "There is no such account in this clinic." in r.text, action
    assert _row(api_server, uid).active and _row(api_server, uid).role == "clinician"
    assert adm.get("/admin/users/abc").status_code == 404
    assert adm.get("/admin/users/99999999999").status_code == 404


def test_own_account_and_patient_accounts_are_refused_with_a_message(
    adm: httpx.Client, seeded: Any, api_server: Any
) -> None:
    me = _uid(api_server, seeded.users["admin"])
    for action in ("deactivate", "password-reset"):
        r = _post(adm, f"/admin/users/{me}/{action}")
        assert r.status_code == 409
        assert "You cannot do this to your own account: another administrator must." in r.text
    r = _post(adm, f"/admin/users/{me}/role", {"role": "clinician"})
    assert r.status_code == 409 and _row(api_server, me).role == "admin"
    pat = _uid(api_server, seeded.users["patient"])
    r = _post(adm, f"/admin/users/{pat}/role", {"role": "clinician"})
    assert r.status_code == 422 and "A patient account keeps its role" in _field_error(r.text, "role")
    clin = _uid(api_server, seeded.users["clinician"])
    for bad in ("patient", "wizard", ""):
        r = _post(adm, f"/admin/users/{clin}/role", {"role": bad})
        assert r.status_code == 422, bad
        assert _field_error(r.text, "role")
    assert _row(api_server, clin).role == "clinician"


@pytest.mark.parametrize("role", ["clinician", "analyst", "safety_officer", "patient"])
def test_other_roles_may_not_open_the_admin_pages(
    base_url: str, seeded: Any, api_server: Any, role: str
) -> None:
    uid = _uid(api_server, seeded.users["clinician"])
    with closing(_login(base_url, seeded.users[role], seeded.password)) as c:
        for path in ("/admin", "/admin/users", "/admin/users/new", f"/admin/users/{uid}"):
            assert c.get(path).status_code == 403, path
        r = _post(c, f"/admin/users/{uid}/deactivate")
        assert r.status_code == 403
    assert _row(api_server, uid).active


def test_admin_forms_without_the_csrf_token_are_refused(
    adm: httpx.Client, seeded: Any, api_server: Any
) -> None:
    uid = _uid(api_server, seeded.users["clinician"])
    for action in ("role", "deactivate", "password-reset", "revoke-sessions"):
        r = adm.post(f"/admin/users/{uid}/{action}", data={"role": "analyst"})
        assert r.status_code == 403 and "The form had expired" in r.text
        r = adm.post(f"/admin/users/{uid}/{action}", data={"role": "analyst", "csrf_token": "forged"})
        assert r.status_code == 403
    r = adm.post("/admin/users/new", data={"username": "x-y-z", "role": "clinician", "password": NEW})
    assert r.status_code == 403
    row = _row(api_server, uid)
    assert (row.role, row.active, row.must_change_password) == ("clinician", True, False)


def test_the_admin_pages_in_swedish(base_url: str, seeded: Any, api_server: Any) -> None:
    uid = _uid(api_server, seeded.users["clinician"])
    with closing(_login(base_url, seeded.users["admin"], seeded.password, lang="sv")) as c:
        assert "Användare i kliniken" in c.get("/admin/users").text
        r = _post(c, f"/admin/users/{uid}/revoke-sessions")
        assert _notice(c.get(r.headers["location"]).text) == "Alla sessioner för kontot har avslutats."
        r = _post(
            c,
            "/admin/users/new",
            {"username": "", "role": "clinician", "password": NEW, "password_again": NEW},
        )
        assert _field_error(r.text, "username") == "Fältet måste fyllas i."


def test_clinic_settings_page(adm: httpx.Client, base_url: str, seeded: Any, clinic_factory: Any) -> None:
    """Time zone and default language, saved through the same use case as ``PUT /api/v1/clinic/settings``;
    the default language is the pages' language for the clinic's users who have chosen none."""
    other = clinic_factory()
    r = adm.get("/admin/clinic")
    assert r.status_code == 200 and 'value="UTC"' in r.text
    for data, field, text in (
        ({"timezone": "Mars/Olympus", "default_language": "sv"}, "timezone", "Unknown time zone"),
        ({"timezone": "", "default_language": "sv"}, "timezone", "This field is required."),
        ({"timezone": "UTC", "default_language": "de"}, "default_language", "Choose one of the languages."),
    ):
        r = _post(adm, "/admin/clinic", data)
        assert r.status_code == 422 and text in _field_error(r.text, field), data
        assert f'value="{data["timezone"]}"' in r.text  # what was typed is kept
    assert adm.post("/admin/clinic", data={"timezone": "UTC", "default_language": "sv"}).status_code == 403
    with closing(_login(base_url, seeded.users["clinician"], seeded.password)) as clin:
        assert '<html lang="en">' in clin.get("/clinic").text
        assert _post(clin, "/admin/clinic", {"timezone": "UTC", "default_language": "sv"}).status_code == 403
        r = _post(adm, "/admin/clinic", {"timezone": "Europe/Stockholm", "default_language": "sv"})
        assert r.status_code == 303 and r.headers["location"] == "/admin/clinic?done=1"
        page = adm.get(r.headers["location"]).text
        assert _notice(page) == "Klinikens inställningar har sparats."  # the admin's pages are Swedish now
        assert 'value="Europe/Stockholm"' in page
        # the clinic's users who chose no language read Swedish; a choice (cookie) or the browser's wins
        assert '<html lang="sv">' in clin.get("/clinic").text
        assert '<html lang="en">' in clin.get("/clinic", headers={"Accept-Language": "en-GB"}).text
    with closing(_login(base_url, other.users["admin"], other.password)) as o:
        assert '<html lang="en">' in o.get("/admin").text  # another clinic keeps its own
