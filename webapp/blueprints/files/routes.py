"""Files attached to records: upload, open, transcribe, delete. Every route loads the owning record
through the area's registered scope check first, so a file is never reachable by its URL alone."""

from flask import abort, make_response, request, send_file
from flask_login import current_user
from markupsafe import Markup

from webapp import htmx, saving
from webapp.blueprints.files import bp
from webapp.blueprints.files.forms import TranscriptForm
from webapp.documents.render import content_disposition
from webapp.extensions import db
from webapp.permissions import allow
from webapp.saving import submit
from webapp.services import ServiceError, StaleVersion
from webapp.services import attachments as service
from webapp.templating import macro

# What a served file may do when opened on its own: show itself, nothing else (no script, no
# form, no frame); «sandbox» also gives it an origin of its own.
FILE_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; " \
           "frame-ancestors 'none'; sandbox"


def _load(attachment_id: int):
    return service.get_attachment(current_user, attachment_id)


def _fragment(html: Markup, status: int = 200):
    response = make_response(html, status)
    response.vary.add("HX-Request")
    return response


def _section(owner_type: str, owner, status: int = 200, error: str | None = None):
    return _fragment(macro("attachments.section")(
        owner_type, owner.id, service.attachments_of(owner_type, owner.id),
        service.can_change(current_user, owner_type, owner), error=error), status)


@bp.get("/<int:attachment_id>")
@allow()
def open_file(attachment_id: int):
    """The file: audio and pictures inline (to play and view), everything else as a download."""
    attachment, _ = _load(attachment_id)
    path = service.file_path(attachment)
    if not path.is_file():  # a database restored without its uploads, say
        abort(404, "Файл есть в списке, но его нет в хранилище. Сообщите администратору.")
    inline = attachment.plays_inline and not request.args.get("download")
    response = send_file(path, mimetype=attachment.content_type,
                         conditional=True, etag=attachment.sha256, max_age=0)
    disposition = content_disposition(attachment.original_name)
    response.headers["Content-Disposition"] = ("inline" + disposition.removeprefix("attachment")
                                               if inline else disposition)
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<owner_type>/<int:owner_id>")
@allow()
def upload(owner_type: str, owner_id: int):
    """Attach one or more files to a record; a refused file refuses the lot, with its reason."""
    owner = service.load_owner(current_user, owner_type, owner_id)
    service.require_change(current_user, owner_type, owner)
    files = [f for f in request.files.getlist("file") if f.filename or f.content_length]
    if not files:
        return _section(owner_type, owner, 422, "Выберите файл.")
    try:
        for file in files:
            service.add_attachment(owner_type, owner, file.stream, file.filename, acting=current_user)
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        if error.status != 422:
            raise
        return _section(owner_type, owner, 422, error.message)
    return htmx.trigger(_section(owner_type, owner), "attachments-changed",
                        {"owner_type": owner_type, "owner_id": owner.id})


@bp.get("/<int:attachment_id>/item")
@allow()
def item(attachment_id: int):
    """One file of the list as displayed (the «Отмена» of a transcript edit)."""
    attachment, owner = _load(attachment_id)
    return _fragment(macro("attachments.item")(
        attachment, service.can_change(current_user, attachment.owner_type, owner)))


@bp.route("/<int:attachment_id>/transcript", methods=["GET", "POST"])
@allow()
def transcript(attachment_id: int):
    """Inline edit of a voice message's transcript, saved field by field."""
    attachment, owner = _load(attachment_id)
    service.require_change(current_user, attachment.owner_type, owner)
    form = TranscriptForm(obj=attachment)
    if request.method == "GET":
        saving.arm(form, attachment)
    outcome = submit(form, lambda: service.update_transcript(attachment, owner, saving.edit_of(form),
                                                            acting=current_user))
    render = macro("attachments.item")
    if outcome.saved:
        return _fragment(render(attachment, True))
    return _fragment(render(attachment, True, form=form, conflict=outcome.conflict), outcome.status)


@bp.post("/<int:attachment_id>/delete")
@allow()
def delete(attachment_id: int):
    """Remove a file attached by mistake."""
    attachment, owner = _load(attachment_id)
    owner_type = attachment.owner_type
    try:
        service.delete_attachment(attachment, owner, request.form.get("version"), acting=current_user)
    except StaleVersion as error:  # the list comes back as it is now, with the reason
        db.session.rollback()
        return _section(owner_type, owner, 409, error.message)
    db.session.commit()
    return htmx.trigger(_section(owner_type, owner), "attachments-changed",
                        {"owner_type": owner_type, "owner_id": owner.id})
