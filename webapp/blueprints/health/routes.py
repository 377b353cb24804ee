import sqlalchemy as sa
from flask import jsonify

from webapp.blueprints.health import bp
from webapp.extensions import db
from webapp.permissions import public


@bp.get("/healthz")
@public
def check():
    """Says whether the application and its database answer (for monitoring; no login)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")
