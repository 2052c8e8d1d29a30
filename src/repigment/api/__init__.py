"""The REST API (adapter): FastAPI app, authentication, authorisation, resources.

``create_app(store)`` builds the app; ``repigment.api.deps`` holds the dependencies the web pages and
the interop routes share (current user, role checks, patient access); see docs/api.md.
"""

from repigment.api.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
