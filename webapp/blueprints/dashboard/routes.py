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
    """«Мой день»: the sections the areas contribute for this user. ``?section=`` names one of them
    (alone for htmx, which refreshes it; the whole page otherwise), ``&all=1`` shows it in full."""
    day, key = today(), request.args.get("section") or None
    expanded = key if request.args.get("all") == "1" else None
    alone = key is not None and htmx.is_partial()
    user = current_user._get_current_object()  # the sections check rules per row: no proxy each time
    sections = dashboard.sections_for(user, day, key if alone else None, expanded=expanded)
    if key is not None and not any(filled.section.key == key for filled in sections):
        abort(404)
    for filled in sections:
        filled.macro = macro(filled.section.macro)
    context = {"user": user, "today": day, "sections": sections, "dashboard_full": dashboard.FULL}
    if not alone:
        return htmx.render(PAGE, **context)
    return htmx.render_fragment(PAGE, "section", filled=sections[0], **context)
