"""Use cases: what a person does with the record, as plain functions on a session and the acting user.

Each use case knows nothing of HTTP, owns one transaction (it commits, or rolls back and raises) and
raises the application's own errors (``repigment.services.errors``); the API maps those to HTTP in one
place, the web pages to form errors. Every door that offers a use case calls the same function.
"""
