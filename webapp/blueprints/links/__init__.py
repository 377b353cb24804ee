"""The pages opened without a login: a signed link's page (/l/<token>) and a calendar feed."""

from flask import Blueprint

bp = Blueprint("links", __name__)

from webapp.blueprints.links import routes  # noqa: E402,F401  (registers the views)
from webapp.services import mail  # noqa: E402,F401  (the mail log joins the clients' timelines)
