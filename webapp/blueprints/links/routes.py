from flask import Response, abort, current_app, g, render_template, request

from webapp import templating
from webapp.blueprints.links import bp
from webapp.extensions import db, limiter
from webapp.permissions import public
from webapp.services import ServiceError
from webapp.services import links

# A link page must not be cached, indexed, or give its URL (the token) away in a Referer.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def _rate_limit() -> str:
    return current_app.config["LINKS_RATE_LIMIT"]


def _refused(refusal: links.LinkRefused):
    return render_template("links/refused.html", message=refusal.message), refusal.status, PRIVATE_HEADERS


@bp.route("/l/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_rate_limit, scope="links")
def page(token: str):
    """The page a link opens: the record it was made for and its answers; the POST answers once."""
    try:
        link = links.resolve(token)
        purpose = links.purpose_of(link)
        record = links.record_of(link)
    except links.LinkRefused as refusal:
        return _refused(refusal)
    error, status = None, 200
    if request.method == "POST":
        g.outside_actor = f"по ссылке: {link.recipient}"  # the audit log's «who»
        try:
            message = links.act(link, request.form.get("action", ""), request.form)
        except links.LinkRefused as refusal:
            db.session.rollback()
            return _refused(refusal)
        except ServiceError as refusal:
            db.session.rollback()
            error, status = refusal.message, refusal.status
        else:
            db.session.commit()
            return render_template("links/done.html", title=purpose.title, message=message), 200, PRIVATE_HEADERS
    return (render_template("links/page.html", title=purpose.title, content=templating.macro(purpose.render),
                            record=record, link=link, token=token, error=error), status, PRIVATE_HEADERS)


@bp.get("/feeds/<token>.ics")
@public
@limiter.limit(_rate_limit, scope="feeds")
def feed(token: str):
    """A user's calendar for a calendar program, by the user's revocable feed token."""
    user = links.feed_owner(token)
    if user is None:
        abort(404)
    return Response(links.calendar_feed(user), mimetype="text/calendar",
                    headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})
