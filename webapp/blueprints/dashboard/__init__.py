from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from webapp.blueprints.dashboard import routes  # noqa: E402,F401  (registers the views)
