from flask import Blueprint

bp = Blueprint("meetings", __name__)

from webapp.blueprints.meetings import routes  # noqa: E402,F401  (registers the views)
