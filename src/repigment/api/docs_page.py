"""The OpenAPI explorer at /api/docs, served entirely from this server (Swagger UI shipped in the package).

FastAPI's own page loads Swagger UI from a public CDN: on a closed clinic network that is a blank page.
Here the page, its script and its stylesheet come from ``static/swagger-ui`` under a
Content-Security-Policy that allows nothing from another host.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI_VERSION: Final = "5.35.0"
ASSETS: Final = Path(__file__).resolve().parent / "static" / "swagger-ui"
DOCS_PATH: Final = "/api/docs"
ASSETS_PATH: Final = "/api/docs/assets"
OAUTH2_REDIRECT_PATH: Final = f"{ASSETS_PATH}/oauth2-redirect.html"
# Swagger UI sets style attributes and draws its icons as data: images; everything else stays same-origin.
CSP: Final = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _page(openapi_url: str, title: str) -> str:
    a = ASSETS_PATH
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} — API</title>
<link rel="stylesheet" href="{a}/swagger-ui.css?v={SWAGGER_UI_VERSION}">
</head>
<body>
<p style="margin:0.5rem 1rem"><a href="/">← repigment</a></p>
<div id="swagger-ui" data-openapi="{escape(openapi_url)}" data-oauth2-redirect="{OAUTH2_REDIRECT_PATH}"></div>
<script src="{a}/swagger-ui-bundle.js?v={SWAGGER_UI_VERSION}"></script>
<script src="{a}/swagger-init.js?v={SWAGGER_UI_VERSION}"></script>
</body>
</html>
"""


def mount_docs(app: FastAPI) -> None:
    """Serve the explorer page and its assets on ``app`` (whose ``docs_url`` must be None)."""
    assert app.docs_url is None, "FastAPI's CDN page would shadow the local one"
    openapi_url = app.openapi_url or "/api/openapi.json"
    html = _page(openapi_url, app.title)
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="swagger-ui-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})
