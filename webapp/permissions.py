"""The gate every request passes: deny by default, then login, then role.

Each view declares who may call it with ``@public`` or ``@allow(...)``; a view that declares
nothing is refused for everyone, so a forgotten decorator fails closed. Record scoping lives in
``services.access``; this module only knows endpoints and roles.
"""

from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, request, url_for
from flask_login import current_user

from webapp import htmx
from webapp.models import Role

F = TypeVar("F", bound=Callable)

PUBLIC = "public"
EVERYONE = frozenset(Role)


def public(view: F) -> F:
    """No login needed (login page, health check)."""
    view.access = PUBLIC  # type: ignore[attr-defined]
    return view


def allow(*roles: Role) -> Callable[[F], F]:
    """Logged-in users with one of ``roles`` (none given: every role)."""

    def decorate(view: F) -> F:
        view.access = frozenset(roles) or EVERYONE  # type: ignore[attr-defined]
        return view

    return decorate


def view_access(endpoint: str | None):
    """What the view behind ``endpoint`` declared (None: nothing, so nobody gets in)."""
    if endpoint is None:
        return None
    if endpoint == "static":
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def check_request():
    """``before_request``: refuse what the endpoint does not allow for this user."""
    if request.endpoint is None:
        return None  # 404/405 follow from routing
    access = view_access(request.endpoint)
    if access == PUBLIC:
        return None
    if access is None:
        abort(403)
    if not current_user.is_authenticated:
        login = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
        if htmx.is_htmx():
            return htmx.redirect(login)
        from flask import redirect
        return redirect(login)
    if current_user.role not in access:
        abort(403)
    return None
