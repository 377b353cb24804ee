from itertools import groupby

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
    """«Мой день»: the clients to contact today (an admin sees everyone's, by manager)."""
    day = today()
    everyone = current_user.role == Role.ADMIN
    due = client_service.due_clients(current_user, day, everyone=everyone) \
        if current_user.role in (Role.ADMIN, Role.MANAGER) else []
    if everyone:
        due.sort(key=lambda c: (c.manager.full_name, c.due_on, c.short_name))
        groups = [(manager, list(clients)) for manager, clients in groupby(due, key=lambda c: c.manager)]
    else:
        groups = [(current_user, due)] if due else []
    return htmx.render("dashboard/index.html", block="due", user=current_user, today=day,
                       groups=groups, due_count=len(due), everyone=everyone)
