from flask import render_template
from flask_login import current_user

from webapp.blueprints.dashboard import bp
from webapp.permissions import allow


@bp.get("/")
@allow()
def index():
    """«Мой день»: what needs the user's attention today."""
    return render_template("dashboard/index.html", user=current_user)
