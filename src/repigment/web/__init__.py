"""Server-rendered web pages for clinicians and patients (adapter).

Pages are Jinja2 templates rendered by the same FastAPI app as the API; the body map's script and
every other asset are served from ``/assets`` by this app (no third-party origin, for closed clinic
networks). Languages: English and Swedish from gettext catalogs (see ``i18n.py``).
"""

from __future__ import annotations

from typing import Any


def mount_web(app: Any) -> None:
    """Attach the web pages and static assets to the FastAPI app."""
    from fastapi.staticfiles import StaticFiles

    from repigment.web import tools
    from repigment.web.render import ASSET_PREFIX, STATIC

    app.mount(ASSET_PREFIX, StaticFiles(directory=str(STATIC)), name="web-assets")
    app.include_router(tools.router)
    from repigment.web import pages

    if getattr(getattr(app, "state", None), "store", None) is not None:
        pages.mount(app)
    else:
        from fastapi import APIRouter

        standalone = APIRouter()
        tools.register_calculator(standalone, "/tools/bodymap")
        app.include_router(standalone)


def large_bodies() -> tuple[tuple[str, Any, int], ...]:
    """The page routes allowed a request body over the app's limit: (method, path pattern, bytes)."""
    from repigment.web.pages.photos import body_limits

    return body_limits()
