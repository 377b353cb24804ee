"""What every request and response passes through besides the permission gate: ids kept in range,
no NUL bytes in a URL, and the security headers."""

from flask import Flask, abort, current_app, g, request, session
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


def _fixed_headers(config) -> tuple[tuple[str, str], ...]:
    headers = [("Content-Security-Policy", config["CONTENT_SECURITY_POLICY"]),
               ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
               ("Referrer-Policy", "same-origin"), ("Cross-Origin-Opener-Policy", "same-origin"),
               ("Permissions-Policy", "camera=(), geolocation=(), microphone=(self)")]
    if config.get("HSTS"):
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return tuple(headers)


def _signed_in() -> bool:
    """Whether the request belongs to a signed-in user, without loading the user for it: the user
    Flask-Login already loaded for this request, or else the session naming one (a session whose
    user no longer exists gets no-store too, which costs nothing)."""
    user = g.get("_login_user")
    if user is not None:  # loaded only if active; asking ``is_authenticated`` reloads it after a commit
        return not user.is_anonymous
    return "_user_id" in session


def security_headers(response):
    """Headers on every response: no inline code, no framing, no sniffing, no caching of pages.
    Computed once per process from the configuration; a signed-in user's pages are never cached."""
    headers = response.headers
    for name, value in current_app.extensions["security_headers"]:
        if name not in headers:
            headers[name] = value
    if "Cache-Control" not in headers and _signed_in():
        headers["Cache-Control"] = "no-store"
    return response


def install_converters(app: Flask) -> None:
    """Before the routes are added: /clients/<int:…> stays in range."""
    app.url_map.converters["int"] = IdConverter


def install(app: Flask) -> None:
    app.extensions["security_headers"] = _fixed_headers(app.config)
    app.before_request(refuse_nul_in_url)
    app.after_request(security_headers)
