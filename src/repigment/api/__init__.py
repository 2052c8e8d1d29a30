"""The REST API (adapter): FastAPI app, authentication, authorisation, resources.

``create_app(store)`` builds the app; ``repigment.api.deps`` holds the dependencies the web pages and
the interop routes share (current user, role checks, patient access); see docs/api.md. The app is
imported lazily so that the command line and ``repigment.services.security`` stay quick to load.
"""

from typing import Any

API_PREFIX = "/api/v1"


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from repigment.api.app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["API_PREFIX", "create_app"]
