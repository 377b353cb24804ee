from flask import abort, request
from flask_login import current_user

from webapp import htmx
from webapp.blueprints.dashboard import bp
from webapp.formatting import today
from webapp.permissions import allow
from webapp.services import dashboard
from webapp.templating import macro

PAGE = "dashboard/index.html"


@bp.get("/")
@allow()
def index():
    """«Мой день»: the sections the areas contribute for this user (``?section=`` one of them)."""
    day, only = today(), request.args.get("section") or None
    sections = dashboard.sections_for(current_user, day, only)
    for filled in sections:
        filled.macro = macro(filled.section.macro)
    context = {"user": current_user, "today": day, "sections": sections}
    if only is None:
        return htmx.render(PAGE, **context)
    if not sections:
        abort(404)
    return htmx.render_fragment(PAGE, "section", filled=sections[0], **context)
