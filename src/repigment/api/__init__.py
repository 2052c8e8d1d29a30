"""The REST API (adapter): routes, authentication and authorisation dependencies, resources, and the
mapping of the use cases' errors to HTTP (``repigment.api.app``); see docs/api.md. The application that
serves it is built by ``repigment.app.create_app``.
"""

API_PREFIX = "/api/v1"

__all__ = ["API_PREFIX"]
