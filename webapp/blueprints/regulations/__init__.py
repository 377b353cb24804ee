from flask import Blueprint

bp = Blueprint("regulations", __name__)

from webapp.blueprints.regulations import routes  # noqa: E402,F401  (registers the views)
