"""The HTTP face of AccountDesk: one package per area, registered here with the navigation."""

from dataclasses import dataclass

from flask import Flask
from flask_login import current_user

from webapp.models import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: frozenset[Role]
    area: str  # the blueprint that marks the item active


_ALL = frozenset(Role)

# Areas appear here as they are built; an unbuilt area is not shown at all.
NAVIGATION = [
    NavItem("dashboard.index", "Мой день", _ALL, "dashboard"),
    NavItem("clients.index", "Клиенты", _ALL, "clients"),
    NavItem("backlog.index", "Бэклог", frozenset(Role) - {Role.SPECIALIST}, "backlog"),
    NavItem("meetings.index", "Встречи", frozenset(Role) - {Role.SPECIALIST}, "meetings"),
    NavItem("budgets.index", "Бюджеты", frozenset(Role) - {Role.SPECIALIST}, "budgets"),
    NavItem("acts.index", "Акты", frozenset({Role.ADMIN, Role.MANAGER, Role.LEAD, Role.ACCOUNTANT}), "acts"),
    NavItem("admin.users", "Администрирование", frozenset({Role.ADMIN}), "admin"),
]


def nav_items(user) -> list[NavItem]:
    return [item for item in NAVIGATION if user.role in item.roles]


def register_blueprints(app: Flask) -> None:
    from webapp.blueprints.acts import bp as acts_bp
    from webapp.blueprints.admin import bp as admin_bp
    from webapp.blueprints.auth import bp as auth_bp
    from webapp.blueprints.backlog import bp as backlog_bp
    from webapp.blueprints.budgets import bp as budgets_bp
    from webapp.blueprints.clients import bp as clients_bp
    from webapp.blueprints.dashboard import bp as dashboard_bp
    from webapp.blueprints.files import bp as files_bp
    from webapp.blueprints.health import bp as health_bp
    from webapp.blueprints.links import bp as links_bp
    from webapp.blueprints.meetings import bp as meetings_bp
    from webapp.blueprints.regulations import bp as regulations_bp

    for bp in (auth_bp, dashboard_bp, clients_bp, regulations_bp, backlog_bp, meetings_bp, budgets_bp, acts_bp, admin_bp,
               health_bp, links_bp, files_bp):
        app.register_blueprint(bp)

    @app.template_global("nav_items")
    def navigation() -> list[NavItem]:
        """The signed-in user's menu, asked for by the page's header alone: a fragment (a save's
        answer) does not load the user again after its commit only to leave the menu out."""
        return nav_items(current_user) if current_user.is_authenticated else []
