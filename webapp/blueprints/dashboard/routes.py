from flask_login import current_user

from webapp import htmx
from webapp.blueprints.dashboard import bp
from webapp.formatting import today
from webapp.models import Role
from webapp.permissions import allow
from webapp.services import clients as client_service


@bp.get("/")
@allow()
def index():
    """«Мой день»: the clients to contact today; an admin sees every manager's counts instead."""
    day = today()
    context = {"user": current_user, "today": day, "due": [], "managers": []}
    if current_user.role == Role.ADMIN:
        context["managers"] = client_service.due_by_manager(current_user, day)
        context["due_count"] = sum(row.total for row in context["managers"])
    elif current_user.role == Role.MANAGER:
        context["due"] = client_service.due_clients(current_user, day)
        context["due_count"] = len(context["due"])
    return htmx.render("dashboard/index.html", block="due", **context)
