from flask import Blueprint

bp = Blueprint("acts", __name__)

from webapp.blueprints.acts import routes  # noqa: E402,F401  (registers the views)
