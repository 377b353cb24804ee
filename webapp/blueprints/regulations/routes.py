from flask import abort, current_app, flash, make_response, request, url_for
from flask_login import current_user

from webapp import htmx, saving
from webapp.blueprints import status
from webapp.blueprints.regulations import bp
from webapp.blueprints.regulations.forms import (CLAUSE_GROUPS, EDITION_GROUPS, GROUPS, ClauseFormBase, ClausesForm,
                                                 group_form)
from webapp.documents.regulation import render_regulation
from webapp.documents.render import content_disposition
from webapp.extensions import db
from webapp.permissions import allow
from webapp.saving import DeleteConflict, submit
from webapp.services import access, as_id, terms, workflow
from webapp.services import regulations as regulation_service

EDITORS = access.ACCOUNT_MANAGERS
DETAIL = "regulations/detail.html"

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _load(regulation_id: int):
    """An edition of a client the user may see; otherwise 404."""
    return regulation_service.get_regulation(current_user, regulation_id)


def _fill(form: ClauseFormBase, record) -> None:
    """Put a record's clauses (and table rows) into a form drawn for GET."""
    form.process(obj=record, data={"meeting_weekday": record.meeting_weekday})
    if record.id is not None:
        saving.arm(form, record)


@bp.route("/clients/<int:client_id>/regulations/", methods=["GET", "POST"])
@allow()
def index(client_id: int):
    """A client's regulation editions; POST starts a new draft."""
    client = access.get_client(current_user, client_id)
    if request.method == "POST":
        regulation = regulation_service.create_draft(client, acting=current_user)
        db.session.commit()
        flash(f"Создан проект регламента, редакция {regulation.number}.", "success")
        return htmx.redirect(url_for("regulations.detail", regulation_id=regulation.id))
    return htmx.render("regulations/index.html", client=client, versions=regulation_service.versions(client),
                       can_edit=access.can_edit_client(current_user, client),
                       open_edition=regulation_service.open_edition(client), terms=terms.effective_terms(client))


def _detail_context(regulation, **extra) -> dict:
    """What the edition's page shows: its clause groups, the moves, the other editions."""
    others = [v for v in regulation_service.versions(regulation.client) if v.id != regulation.id]
    can_edit = access.can_edit_client(current_user, regulation.client)
    return dict(regulation=regulation, can_edit=can_edit, can_edit_clauses=can_edit and regulation.editable,
                moves=workflow.allowed_moves(regulation, current_user), others=others,
                open_edition=next((v for v in others if v.is_open), None), groups=EDITION_GROUPS,
                labels=regulation_service.CLAUSE_LABELS, **extra)


@bp.get("/regulations/<int:regulation_id>")
@allow()
def detail(regulation_id: int):
    """An edition: its clauses in groups; a draft's groups are edited in place by the client's manager."""
    regulation = _load(regulation_id)
    return htmx.render(DETAIL, **_detail_context(regulation))


def _group(key: str):
    if key not in GROUPS:
        abort(404)
    return GROUPS[key]


@bp.route("/regulations/<int:regulation_id>/groups/<group>/edit", methods=["GET", "POST"])
@allow(*EDITORS)
def edit_group(regulation_id: int, group: str):
    """Inline edit of one clause group of a draft (click → its form → save → the group with the new
    version, and the status buttons carrying it). Groups save alone: two people editing different
    groups never conflict; the same field answers 409 with both values."""
    regulation = _load(regulation_id)
    access.require_edit_client(current_user, regulation.client)
    spec = _group(group)
    form = group_form(spec.key)()
    if request.method == "GET":
        _fill(form, regulation)
    outcome = submit(form, lambda: regulation_service.update_draft(regulation, saving.edit_of(form),
                                                                   acting=current_user))
    if outcome.saved:
        return htmx.render_fragment(DETAIL, "group_view", "actions", group=spec, opened=True, saved=True,
                                    actions_oob=True, **_detail_context(regulation))
    status_code = outcome.status
    if request.method == "GET" and not regulation.editable:  # agreed meanwhile: say so before any typing
        form.form_errors.append(regulation_service.NOT_EDITABLE)
        status_code = 422
    form.offer_blank_rows()
    return htmx.render_fragment(DETAIL, "group_form", status=status_code, group=spec, form=form,
                                conflict=outcome.conflict, **_detail_context(regulation))


@bp.get("/regulations/<int:regulation_id>/groups/<group>")
@allow()
def show_group(regulation_id: int, group: str):
    """One clause group as displayed (the «Отмена» of its inline edit)."""
    regulation = _load(regulation_id)
    return htmx.render_fragment(DETAIL, "group_view", group=_group(group), opened=True,
                                **_detail_context(regulation))


@bp.post("/regulations/<int:regulation_id>/status")
@allow(*EDITORS)
def move(regulation_id: int):
    """Agree, reopen or sign an edition (the moves its workflow declares)."""
    regulation = _load(regulation_id)
    url = url_for("regulations.detail", regulation_id=regulation.id)

    return status.change_status(regulation, redirect_url=url, page=DETAIL,
                                context=lambda **extra: _detail_context(regulation, **extra))


@bp.post("/regulations/<int:regulation_id>/revise")
@allow(*EDITORS)
def revise(regulation_id: int):
    """«Новая редакция»: copy this edition into a new draft."""
    regulation = _load(regulation_id)
    draft = regulation_service.create_draft(regulation.client, acting=current_user, source=regulation)
    db.session.commit()
    flash(f"Создана редакция {draft.number} на основе редакции {regulation.number}.", "success")
    return htmx.redirect(url_for("regulations.detail", regulation_id=draft.id))


@bp.post("/regulations/<int:regulation_id>/delete")
@allow(*EDITORS)
def delete(regulation_id: int):
    """Delete a draft that will not be signed (one changed since it was shown is asked again)."""
    regulation = _load(regulation_id)
    client_id = regulation.client_id
    try:
        regulation_service.delete_draft(regulation, request.form.get("version"), acting=current_user)
    except DeleteConflict as conflict:
        db.session.rollback()
        return htmx.render(DETAIL, **_detail_context(regulation, workflow_message=conflict.message), status=409)
    db.session.commit()
    flash("Проект регламента удалён.", "success")
    return htmx.redirect(url_for("regulations.index", client_id=client_id))


@bp.get("/regulations/<int:regulation_id>/compare")
@allow()
def compare(regulation_id: int):
    """Two editions side by side, clause by clause, changes marked."""
    regulation = _load(regulation_id)
    other = _load(as_id(request.args.get("with")) or 0)
    if other.client_id != regulation.client_id:
        abort(404)
    older, newer = sorted((regulation, other), key=lambda r: r.number)
    return htmx.render("regulations/compare.html", older=older, newer=newer, client=regulation.client,
                       rows=regulation_service.compare(older, newer))


@bp.get("/regulations/<int:regulation_id>.docx")
@allow()
def document(regulation_id: int):
    """The edition as a DOCX for signing (a draft prints «ПРОЕКТ»)."""
    regulation = _load(regulation_id)
    data = regulation_service.document_data(regulation)
    body = render_regulation(data, override_dir=current_app.config["DOCUMENT_TEMPLATES"])
    name = f"Регламент {regulation.client.short_name} ред. {regulation.number}.docx"
    response = make_response(body)
    response.headers["Content-Type"] = DOCX
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


@bp.route("/admin/regulation-standard", methods=["GET", "POST"])
@allow(*access.ADMINS)
def standard():
    """The company standard: wording and values every new client's regulation starts from."""
    record = terms.get_standard()
    form = ClausesForm()
    if request.method == "GET":
        _fill(form, record)
    outcome = submit(form, lambda: regulation_service.update_standard(record, saving.edit_of(form),
                                                                      acting=current_user))
    if outcome.saved:
        flash("Стандарт регламента сохранён: новые регламенты начнутся с него.", "success")
        return htmx.redirect(url_for("regulations.standard"))
    form.offer_blank_rows()
    return htmx.render("regulations/standard.html", form=form, record=record, conflict=outcome.conflict,
                       groups=CLAUSE_GROUPS, status=outcome.status)
