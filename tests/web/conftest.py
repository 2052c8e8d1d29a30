"""Fixtures for the web tests: one headless chromium per session, a live server per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from webharness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, live_server


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
    """The web pages that need no record store, on a bare FastAPI app."""
    from fastapi import FastAPI

    from repigment.web import mount_web

    app = FastAPI()
    mount_web(app)
    with live_server(app) as url:
        yield url


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/Stockholm")
    p = context.new_page()
    p.set_default_timeout(int(os.environ.get("REPIGMENT_BROWSER_TIMEOUT_MS", "15000")))
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield p
    context.close()
    assert not errors, f"errors in the page: {errors}"
