"""Fixtures for the web tests: one headless chromium per session, the shared server, a seeded clinic.

The record pages run on the shared ``api_server`` (tests/conftest.py), SQLite only: the pages add no
SQL of their own beyond the API's, and the browser tests must stay short.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webharness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, live_server

# Photos uploaded in the tests go to a throwaway folder; set before any server process starts.
if "REPIGMENT_PHOTO_DIR" not in os.environ:
    _photos = tempfile.mkdtemp(prefix="repigment-photos-")
    os.environ["REPIGMENT_PHOTO_DIR"] = _photos
    atexit.register(shutil.rmtree, _photos, True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (make test installs it from Debian)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def tools_server() -> Iterator[str]:
    """The pages that need no record store, on a bare FastAPI app."""
    from fastapi import FastAPI

    from repigment.web import mount_web

    app = FastAPI()
    mount_web(app)
    with live_server(app) as url:
        yield url


def _new_page(
    browser: Any, viewport: dict[str, int] = DESKTOP, locale: str = "en-GB"
) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=viewport, locale=locale, timezone_id="Europe/Stockholm")
    p = context.new_page()
    p.set_default_timeout(int(os.environ.get("REPIGMENT_BROWSER_TIMEOUT_MS", "15000")))
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, p, errors


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context, p, errors = _new_page(browser)
    yield p
    context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture()
def new_page(browser: Any) -> Iterator[Any]:
    """Open more pages (other sizes, languages, users); each is checked for script errors at the end."""
    opened: list[tuple[Any, list[str]]] = []

    def make(viewport: dict[str, int] = DESKTOP, locale: str = "en-GB") -> Any:
        context, p, errors = _new_page(browser, viewport, locale)
        opened.append((context, errors))
        return p

    yield make
    for context, errors in opened:
        context.close()
        assert not [e for e in errors if "status of 4" not in e], f"errors in the page: {errors}"


@pytest.fixture()
def clinic(api_server: Any) -> Any:
    from webseed import seed

    from repigment.store import Store

    s = Store(api_server.db_url, migrate=False)
    try:
        yield seed(s)
    finally:
        s.dispose()


@pytest.fixture()
def base_url(api_server: Any) -> str:
    return str(api_server.base_url)
