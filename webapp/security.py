"""What every request and response passes through besides the permission gate: ids kept in range,
no NUL bytes in a URL, and the security headers."""

from flask import Flask, abort, current_app, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from webapp.services import MAX_ID


class IdConverter(IntegerConverter):
    """``<int:…>`` with an upper bound: an id beyond the database's integers is a 404, not a 500
    (SQLite and PostgreSQL drivers refuse to bind such a number)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)


def refuse_nul_in_url():
    """A NUL byte in a query or path value would reach PostgreSQL as text and fail there (500);
    forms refuse control characters themselves (``BaseForm``)."""
    values = [*(v for vs in request.args.listvalues() for v in vs), *(request.view_args or {}).values()]
    if any(isinstance(value, str) and "\x00" in value for value in values):
        abort(400, "Адрес содержит недопустимые символы.")


def security_headers(response):
    """Headers on every response: no inline code, no framing, no sniffing, no caching of pages."""
    config = current_app.config
    headers = response.headers
    headers.setdefault("Content-Security-Policy", config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), geolocation=(), microphone=(self)")
    if config.get("HSTS"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if current_user and getattr(current_user, "is_authenticated", False):
        headers.setdefault("Cache-Control", "no-store")
    return response


def install_converters(app: Flask) -> None:
    """Before the routes are added: /clients/<int:…> stays in range."""
    app.url_map.converters["int"] = IdConverter


def install(app: Flask) -> None:
    app.before_request(refuse_nul_in_url)
    app.after_request(security_headers)
