"""The API explorer renders with the network to every other host cut off (a closed clinic network)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser


def test_api_docs_render_offline_from_local_assets(new_page: Any, base_url: str) -> None:
    own = urlsplit(base_url).netloc
    foreign: list[str] = []
    page = new_page()

    def only_this_server(route: Any) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    answer = page.goto(f"{base_url}/api/docs")
    assert answer is not None and answer.status == 200
    assert "cdn" not in (answer.headers.get("content-security-policy") or "")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert len(paths) > 30
    assert any(p.replace("\u200b", "") == "/api/v1/patients" for p in paths)
    assert page.locator(".info .title").inner_text().startswith("repigment")
    # an operation opens and shows its parameters, all drawn by the local script
    page.locator(".opblock-summary-path", has_text="/api/v1/health").first.click()
    page.wait_for_selector(".opblock.is-open")
    assert foreign == [], f"requests to other hosts: {foreign}"


def test_api_docs_assets_are_served_with_their_licence(base_url: str) -> None:
    import httpx

    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js", "LICENSE"):
        r = httpx.get(f"{base_url}/api/docs/assets/{asset}")
        assert r.status_code == 200, asset
        assert len(r.content) > 100, asset
    page = httpx.get(f"{base_url}/api/docs").text
    assert "cdn." not in page and "https://" not in page
