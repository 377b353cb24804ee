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
    """«Мой день»: the clients to contact today (an admin sees every manager's most neglected)."""
    day = today()
    everyone = current_user.role == Role.ADMIN
    if everyone:
        groups = client_service.due_by_manager(current_user, day)
    elif current_user.role == Role.MANAGER:
        due = client_service.due_clients(current_user, day)
        groups = [(current_user, due, len(due))] if due else []
    else:
        groups = []
    return htmx.render("dashboard/index.html", block="due", user=current_user, today=day, groups=groups,
                       due_count=sum(total for _, _, total in groups), everyone=everyone)
