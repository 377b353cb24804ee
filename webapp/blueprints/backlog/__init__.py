from flask import Blueprint

bp = Blueprint("backlog", __name__)

from webapp.blueprints.backlog import routes  # noqa: E402,F401  (registers the views)
