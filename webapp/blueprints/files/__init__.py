from flask import Blueprint

bp = Blueprint("files", __name__, url_prefix="/files")

from webapp.blueprints.files import routes  # noqa: E402,F401  (registers the views)
