"""The administrator's journey and the analyst's and safety officer's start pages in headless chromium, in
English and Swedish, on a desktop and a phone: axe-core on every page, no request to another host."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from webharness import assert_accessible, login, on_sqlite, screenshot

pytestmark = [pytest.mark.browser, on_sqlite]
WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
NEW = "a brand new passphrase"
TEXTS = {
    "en": {
        "create": "Create the account",
        "created": "The account has been created.",
        "role": "The role has been changed.",
        "reset": "Reset the password",
        "differ": "The two passwords differ.",
        "users": "Users of the clinic",
    },
    "sv": {
        "create": "Skapa kontot",
        "created": "Kontot har skapats.",
        "role": "Rollen har bytts.",
        "reset": "Återställ lösenordet",
        "differ": "De två lösenorden skiljer sig åt.",
        "users": "Användare i kliniken",
    },
}


def _only_this_host(page: Any, base_url: str) -> list[str]:
    foreign: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((base_url + "/", "data:")) else foreign.append(r.url),
    )
    return foreign


@pytest.mark.parametrize("lang", ["en", "sv"])
@pytest.mark.parametrize(("size", "viewport"), [("wide", WIDE), ("phone", PHONE)])
def test_admin_journey(
    new_page: Any, base_url: str, clinic_factory: Any, lang: str, size: str, viewport: dict[str, int]
) -> None:
    seeded = clinic_factory()
    t = TEXTS[lang]
    page = new_page(viewport, "sv-SE" if lang == "sv" else "en-GB")
    foreign = _only_this_host(page, base_url)
    shot = size == "wide" or lang == "en"
    login(page, base_url, seeded.users["admin"], seeded.password)
    assert page.url == base_url + "/admin"
    assert page.locator('nav a[href="/api/docs"]').count() == 1
    assert page.locator('form[action="/logout"] button').count() == 1
    assert_accessible(page)
    if shot:
        screenshot(page, f"admin-start-{lang}-{size}")

    page.click('main a[href="/admin/users"]')
    page.wait_for_selector("table.users")
    assert page.locator("h1").text_content() == t["users"]
    assert page.locator("tr[data-user]").count() == len(seeded.users)
    assert_accessible(page)
    if shot:
        screenshot(page, f"admin-users-{lang}-{size}")

    page.click('main a[href="/admin/users/new"]')
    name = f"nils-{uuid.uuid4().hex[:6]}"
    page.fill("#username", name)
    page.fill("#display_name", "Nils Berg")
    page.select_option("#role", "analyst")
    page.fill("#password", NEW)
    page.fill("#password_again", NEW + "!")
    page.click(f"button >> text={t['create']}")
    page.wait_for_selector("#err-password_again")
    assert page.text_content("#err-password_again") == t["differ"]
    assert page.input_value("#username") == name  # nothing typed is lost
    assert_accessible(page)
    if shot:
        screenshot(page, f"admin-user-new-error-{lang}-{size}")
    page.fill("#password", NEW)
    page.fill("#password_again", NEW)
    page.click(f"button >> text={t['create']}")
    page.wait_for_selector("[data-done]")
    assert page.text_content("[data-done]").strip() == t["created"]
    assert_accessible(page)

    page.select_option("#role", "safety_officer")
    page.focus("#role")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('form').action").endswith("/role")
    page.keyboard.press("Enter")  # the role form's button, by keyboard
    page.wait_for_url("**?done=role")
    assert page.text_content("[data-done]").strip() == t["role"]

    page.click(f"button >> text={t['reset']}")
    page.wait_for_selector("[data-temporary-password]")
    assert len(page.text_content("[data-temporary-password]") or "") >= 12
    assert_accessible(page)
    if shot:
        screenshot(page, f"admin-user-{lang}-{size}")

    page.click('nav a[href="/admin/clinic"]')
    page.fill("#timezone", "Europe/Stockholm")
    page.click("form.card button[type=submit]")
    page.wait_for_selector("[data-done]")
    assert page.input_value("#timezone") == "Europe/Stockholm"
    assert_accessible(page)
    if shot:
        screenshot(page, f"admin-clinic-{lang}-{size}")
    assert not foreign, foreign


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_analyst_and_safety_officer_start_pages(
    new_page: Any, base_url: str, clinic_factory: Any, lang: str
) -> None:
    seeded = clinic_factory()
    for role, start in (("analyst", "/analyst"), ("safety_officer", "/safety")):
        for size, viewport in (("wide", WIDE), ("phone", PHONE)):
            page = new_page(viewport, "sv-SE" if lang == "sv" else "en-GB")
            foreign = _only_this_host(page, base_url)
            login(page, base_url, seeded.users[role], seeded.password)
            assert page.url == base_url + start
            assert page.locator('main a[href="/api/docs"]').count() == 1
            assert_accessible(page)
            if size == "wide":
                screenshot(page, f"{start.strip('/')}-start-{lang}")
            page.click('form[action="/logout"] button')
            page.wait_for_url("**/login")
            assert not foreign, foreign
