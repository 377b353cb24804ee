from flask import Blueprint

bp = Blueprint("budgets", __name__)

from webapp.blueprints.budgets import routes  # noqa: E402,F401  (registers the views)
