"""The one route pattern of status changes: each area's ``…/status`` view calls ``change_status``.

It reads the move the user chose (target, the state and version they saw, the move's fields),
performs it through ``services.workflow`` and answers: a redirect to the record with the move's
message, or — refused or conflicting — the page again with the reason (409 / 422), nothing lost.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Response, flash, request
from flask_login import current_user

from webapp import htmx
from webapp.extensions import db
from webapp.forms import DATE_MAX, DATE_MIN, DATE_RANGE_MESSAGE
from webapp.services import PermissionDenied, ServiceError, workflow


def _field_values(record: Any, target: str) -> dict[str, Any]:
    """The move's own fields from the form, typed; a date out of 1900–2100 is refused."""
    try:
        move = record.workflow.find(record.status, record.workflow.states(target))
    except ValueError:
        return {}
    values: dict[str, Any] = {}
    for spec in move.fields if move else ():
        raw = request.form.get(spec.name, "").strip()
        if spec.kind == "date" and raw:
            try:
                values[spec.name] = date.fromisoformat(raw)
            except ValueError:
                raise ServiceError(f"{spec.label}: введите дату.", field=spec.name) from None
            if not DATE_MIN <= values[spec.name] <= DATE_MAX:
                raise ServiceError(f"{spec.label}: {DATE_RANGE_MESSAGE[0].lower()}{DATE_RANGE_MESSAGE[1:]}",
                                   field=spec.name)
        else:
            values[spec.name] = raw or None
    return values


def change_status(record: Any, *, redirect_url: str, page: str, context: Callable[..., dict[str, Any]]) -> Response:
    """Perform the move posted for ``record``; refused, the record's ``page`` is drawn again with
    ``context(workflow_message=…)`` and the refusal's status."""
    target = request.form.get("target", "")
    try:
        move = workflow.change_status(record, target, acting=current_user, shown_status=request.form.get("from"),
                               version=request.form.get("version"), values=_field_values(record, target))
        db.session.commit()
    except PermissionDenied:
        db.session.rollback()
        raise
    except ServiceError as error:
        db.session.rollback()
        return htmx.render(page, status=error.status, **context(workflow_message=error.message))
    if move.done:
        flash(move.done, "success")
    return htmx.redirect(redirect_url)
