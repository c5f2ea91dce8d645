"""Security headers on every response, and no caching of anything personal.

Also refuses up front (400) a request carrying a NUL character in its path, query or form
values: no field may hold one, and PostgreSQL rejects them in text (a 500 otherwise); and
bounds the memory of a request body that is not multipart: Werkzeug applies
MAX_FORM_MEMORY_SIZE to multipart text parts only (files spool to disk), so an urlencoded
body would otherwise be read whole up to MAX_CONTENT_LENGTH.
"""
from __future__ import annotations

from flask import Flask, Response, abort, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def _has_nul() -> bool:
    if "\x00" in request.path:
        return True
    values = [*request.args.items(multi=True)]
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        values += request.form.items(multi=True)
    return any("\x00" in key or "\x00" in value for key, value in values)


def _bound_body() -> None:
    limits = [v for v in (request.max_content_length, request.max_form_memory_size) if v]
    if request.mimetype != "multipart/form-data" and limits:
        request.max_content_length = min(limits)


def register_security_headers(app: Flask) -> None:
    # First of all hooks: before CSRF protection reads the form.
    app.before_request_funcs.setdefault(None, []).insert(0, _bound_body)

    @app.before_request
    def _refuse_nul_characters():
        if _has_nul():
            abort(400)

    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "strict-origin-when-cross-origin"
        h["X-Frame-Options"] = "DENY"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config.get("HSTS"):
            h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static":
            # Pages carry personal data or CSRF tokens: never stored by a browser or proxy.
            h["Cache-Control"] = "no-store"
            h["Pragma"] = "no-cache"
        h.pop("Server", None)
        return response
