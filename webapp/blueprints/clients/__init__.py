from flask import Blueprint

bp = Blueprint("clients", __name__, url_prefix="/clients")

from webapp.blueprints.clients import routes  # noqa: E402,F401  (registers the views)
