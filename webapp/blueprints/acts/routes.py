from datetime import date

from flask import current_app, flash, make_response, request, url_for
from flask_login import current_user

from webapp import htmx, saving
from webapp.blueprints import status
from webapp.blueprints.acts import bp
from webapp.blueprints.acts.forms import DraftForm, LineForm, PaymentForm, ReminderForm
from webapp.documents.act import render_act, render_invoice
from webapp.documents.render import content_disposition
from webapp.extensions import db
from webapp.formatting import today
from webapp.models import Act, ActStatus, Client, PaidState
from webapp.models import audit as audit_log
from webapp.pagination import requested_page
from webapp.permissions import allow
from webapp.saving import DeleteConflict, submit
from webapp.services import ServiceError, access, as_id, workflow
from webapp.services import acts as act_service

DETAIL = "acts/detail.html"
CLIENT = "acts/client.html"
INDEX = "acts/index.html"
DOCX = act_service.DOCX
STATUS_FILTERS = [("all", "Все, с аннулированными")] + [(s.value, s.label) for s in ActStatus]
PAID_FILTERS = [(p.value, p.label) for p in PaidState]
EDITORS = (*access.ACT_KEEPERS, *access.ACCOUNT_MANAGERS)


def _load(act_id: int) -> Act:
    """The act if the user may see it; otherwise 404."""
    return act_service.get_act(current_user, act_id)


def _filters() -> act_service.ActFilters:
    args = request.args
    return act_service.ActFilters(client=args.get("client", "")[:12], q=args.get("q", "")[:100],
                                  status=args.get("status", "")[:20],
                                  paid=args.get("paid", "")[:20], since=args.get("since", "")[:10],
                                  until=args.get("until", "")[:10])


def _month(day: date) -> tuple[date, date]:
    """The previous month when early in a month (acts are drawn up after it), else this one."""
    first = day.replace(day=1)
    if day.day <= 10:
        last = first.fromordinal(first.toordinal() - 1)
        return last.replace(day=1), last
    following = (first.replace(year=first.year + 1, month=1) if first.month == 12
                 else first.replace(month=first.month + 1))
    return first, following.fromordinal(following.toordinal() - 1)


# --- a client's acts ---------------------------------------------------------------------------------------


def _client_context(client: Client, **extra) -> dict:
    day = today()
    can_draft = access.can_draft_act(current_user, client)
    form = extra.pop("form", None)
    if form is None and can_draft:
        start, end = _month(day)
        form = DraftForm(formdata=None, data={"period_from": start, "period_to": end})
    candidates = act_service.candidates(client, form.period_to.data or day) if form is not None else []
    if form is not None:
        form.set_items(candidates)
        if not form.is_submitted():
            form.items.data = [i.id for i in candidates]
    reminder_form = extra.pop("reminder_form", None) or ReminderForm(formdata=None, prefix="remind")
    reminder_form.set_contacts(act_service.payment_deciders(client))
    return dict(client=client, act_list=act_service.client_acts(current_user, client), today=day, form=form,
                candidates=candidates, can_draft=can_draft, balance=act_service.client_balance(client, day),
                can_remind=access.can_remind_client(current_user, client), reminder_form=reminder_form,
                overdue=act_service.overdue_acts(client, day), **extra)


@bp.get("/clients/<int:client_id>/acts/")
@allow(*access.READ_ALL)
def client_list(client_id: int):
    """The client's acts, its balance, and «Новый акт» from the done billable items."""
    client = access.get_client(current_user, client_id)
    return htmx.render(CLIENT, **_client_context(client))


@bp.post("/clients/<int:client_id>/acts/new")
@allow(*EDITORS)
def new_act(client_id: int):
    """A draft act for a period from the chosen done items (no number until it is issued)."""
    client = access.get_client(current_user, client_id)
    access.require(access.can_draft_act(current_user, client),
                   "Акты клиента готовят бухгалтерия, администратор и команда клиента.")
    form = DraftForm()
    outcome = submit(form, lambda: act_service.create_draft(
        client, period_from=form.period_from.data, period_to=form.period_to.data, item_ids=form.items.data or [],
        acting=current_user))
    if outcome.saved:
        flash("Черновик акта создан: проверьте строки и выставьте акт.", "success")
        return htmx.redirect(url_for("acts.detail", act_id=outcome.result.id))
    return htmx.render(CLIENT, status=outcome.status, **_client_context(client, form=form))


@bp.post("/clients/<int:client_id>/acts/reminder")
@allow(*EDITORS)
def send_reminder(client_id: int):
    """«Напомнить об оплате» by e-mail: one letter with every overdue act and its invoice attached."""
    client = access.get_client(current_user, client_id)
    access.require(access.can_remind_client(current_user, client), "Напоминает бухгалтерия и команда клиента.")
    form = ReminderForm(prefix="remind")
    form.set_contacts(act_service.payment_deciders(client))
    outcome = submit(form, lambda: act_service.send_reminder(
        client, contact_id=form.contact_id.data, acting=current_user,
        override_dir=current_app.config["DOCUMENT_TEMPLATES"]))
    sent = outcome.result if outcome.saved else None
    return htmx.render(CLIENT, block="reminder", status=outcome.status,
                       **_client_context(client, reminder_form=form, reminder_outcome=sent))


# --- the accountant's list ----------------------------------------------------------------------------------


@bp.get("/acts/")
@allow(*access.READ_ALL)
def index():
    """Every act: filters in the URL, totals of what is shown, export."""
    filters = _filters()
    day = today()
    totals = act_service.totals(current_user, filters, day)
    page = requested_page(act_service.acts_query(current_user, filters, day), total=totals.listed)
    client_id = as_id(filters.client)
    chosen = (db.session.scalar(access.visible_clients(current_user).where(Client.id == client_id))
              if client_id is not None else None)
    return htmx.render(INDEX, block="results", page=page, filters=filters, today=day, statuses=STATUS_FILTERS,
                       paid_states=PAID_FILTERS, chosen=chosen, totals=totals)


def _export(kind: str):
    rows = act_service.export_rows(current_user, _filters(), today())
    if kind == "csv":
        body, content_type = act_service.export_csv(rows), "text/csv; charset=utf-8"
    else:
        body = act_service.export_xlsx(rows)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = make_response(body)
    response.headers["Content-Type"] = content_type
    response.headers["Content-Disposition"] = content_disposition(f"Акты {today().isoformat()}.{kind}")
    return response


@bp.get("/acts/export.csv")
@allow(*access.READ_ALL)
def export_csv():
    """The filtered list as CSV (UTF-8 with BOM, «;»); a cell that would run as a formula is neutralised."""
    return _export("csv")


@bp.get("/acts/export.xlsx")
@allow(*access.READ_ALL)
def export_xlsx():
    """The filtered list as an Excel workbook; a text that would run as a formula is neutralised."""
    return _export("xlsx")


# --- the act ---------------------------------------------------------------------------------------------------


def _act_context(act: Act, **extra) -> dict:
    """What the act's blocks read: a line's row or the totals drawn alone come from this."""
    day = today()
    can_edit = act.is_draft and access.can_edit_act(current_user, act)
    can_pay = act.is_billed and access.can_record_payment(current_user, act)
    if "line_form" not in extra and can_edit:
        extra["line_form"] = LineForm(formdata=None, prefix="new-line")
    if "payment_form" not in extra and can_pay:
        extra["payment_form"] = PaymentForm(formdata=None, prefix="payment", data={"paid_on": day, "amount": act.balance})
    return dict(act=act, client=act.client, today=day, can_edit=can_edit, can_pay=can_pay,
                can_remind=act.is_billed and access.can_edit_client(current_user, act.client),
                can_delete=can_edit, moves=workflow.allowed_moves(act, current_user),
                paid_state=act.paid_state(day), awaits_signature=act.awaits_signature(day), **extra)


def _page_context(act: Act, **extra) -> dict:
    """The whole page (also what ``htmx.render`` may draw in full): the blocks' context and the
    history, which no block prints."""
    return _act_context(act, events=act_service.history(act), actions=audit_log.all_actions(),
                        labels=audit_log.entity(Act.__tablename__).labels, **extra)


@bp.get("/acts/<int:act_id>")
@allow(*access.READ_ALL)
def detail(act_id: int):
    """The act: its lines (edited in place while a draft), the moves, payments, history."""
    act = _load(act_id)
    return htmx.render(DETAIL, **_page_context(act))


def _document_response(body: bytes, name: str):
    response = make_response(body)
    response.headers["Content-Type"] = DOCX
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


@bp.get("/acts/<int:act_id>.docx")
@allow(*access.READ_ALL)
def document(act_id: int):
    """The act as a DOCX: as frozen at issue (a draft is marked «Проект»)."""
    act = _load(act_id)
    body = render_act(act_service.act_doc(act), override_dir=current_app.config["DOCUMENT_TEMPLATES"])
    return _document_response(body, act_service.filename(act))


@bp.get("/acts/<int:act_id>/invoice.docx")
@allow(*access.READ_ALL)
def invoice(act_id: int):
    """The invoice for the act, with the payment QR code."""
    act = _load(act_id)
    body = render_invoice(act_service.act_doc(act), override_dir=current_app.config["DOCUMENT_TEMPLATES"])
    return _document_response(body, act_service.filename(act, "Счёт"))


@bp.post("/acts/<int:act_id>/status")
@allow(*access.ACT_KEEPERS)
def move(act_id: int):
    """Issue, sign or cancel the act."""
    act = _load(act_id)

    return status.change_status(act, redirect_url=url_for("acts.detail", act_id=act.id), page=DETAIL,
                                context=lambda **extra: _page_context(act, **extra))


@bp.post("/acts/<int:act_id>/delete")
@allow(*EDITORS)
def delete(act_id: int):
    """Delete a draft (it never had a number, so nothing is missing from the sequence)."""
    act = _load(act_id)
    access.require(access.can_edit_act(current_user, act), "Акты клиента готовят бухгалтерия и команда клиента.")
    client_id = act.client_id
    try:
        act_service.delete_draft(act, request.form.get("version"), acting=current_user)
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        if isinstance(error, access.PermissionDenied):
            raise
        return htmx.render(DETAIL, status=error.status, **_page_context(act, workflow_message=error.message))
    flash("Черновик акта удалён.", "success")
    return htmx.redirect(url_for("acts.client_list", client_id=client_id))


# --- lines of a draft ----------------------------------------------------------------------------------------


@bp.post("/acts/<int:act_id>/lines")
@allow(*EDITORS)
def add_line(act_id: int):
    """A line added to a draft."""
    act = _load(act_id)
    access.require(access.can_edit_act(current_user, act), "Акты клиента готовят бухгалтерия и команда клиента.")
    form = LineForm(prefix="new-line")
    outcome = submit(form, lambda: act_service.add_line(act, form.values(), acting=current_user))
    if outcome.saved:
        return htmx.redirect(url_for("acts.detail", act_id=act.id) + "#lines")
    return htmx.render(DETAIL, block="lines", status=outcome.status, **_page_context(act, line_form=form))


@bp.route("/acts/<int:act_id>/lines/<int:line_id>", methods=["GET", "POST"])
@allow(*access.READ_ALL)
def line(act_id: int, line_id: int):
    """A line's row: GET shows it (or its form with ?edit=1), POST saves the fields this user changed."""
    act = _load(act_id)
    record = act_service.get_line(act, line_id)
    editing = request.method == "POST" or request.args.get("edit") == "1"
    if not editing:
        return htmx.render_fragment(DETAIL, "line_row", **_act_context(act, line=record))
    access.require(access.can_edit_act(current_user, act), "Акты клиента готовят бухгалтерия и команда клиента.")
    form = LineForm(obj=record, prefix=f"line{record.id}")
    if request.method == "GET":
        saving.arm(form, record)
    outcome = submit(form, lambda: act_service.update_line(record, saving.edit_of(form), acting=current_user))
    if outcome.saved:
        response = htmx.render_fragment(DETAIL, "line_row", **_act_context(act, line=record))
        return htmx.trigger(response, "act-changed", {"act": act.id})
    return htmx.render_fragment(DETAIL, "line_form_row", status=outcome.status,
                                **_act_context(act, line=record, form=form, conflict=outcome.conflict))


@bp.post("/acts/<int:act_id>/lines/<int:line_id>/delete")
@allow(*EDITORS)
def delete_line(act_id: int, line_id: int):
    act = _load(act_id)
    record = act_service.get_line(act, line_id)
    access.require(access.can_edit_act(current_user, act), "Акты клиента готовят бухгалтерия и команда клиента.")
    try:
        act_service.delete_line(record, request.form.get("version"), acting=current_user)
        db.session.commit()
    except DeleteConflict as conflict:
        db.session.rollback()
        return htmx.render(DETAIL, status=409, **_page_context(act, workflow_message=conflict.message))
    except access.PermissionDenied:
        db.session.rollback()
        raise
    except ServiceError as error:
        db.session.rollback()
        return htmx.render(DETAIL, status=error.status, **_page_context(act, workflow_message=error.message))
    return htmx.redirect(url_for("acts.detail", act_id=act.id) + "#lines")


@bp.get("/acts/<int:act_id>/totals")
@allow(*access.READ_ALL)
def totals(act_id: int):
    """The totals block, refreshed after a line's save."""
    act = _load(act_id)
    return htmx.render_fragment(DETAIL, "totals", **_act_context(act))


# --- payments and reminders ---------------------------------------------------------------------------------------


@bp.post("/acts/<int:act_id>/payments")
@allow(*access.ACT_KEEPERS)
def add_payment(act_id: int):
    """A payment received; more than is owed is refused with the amount still owed."""
    act = _load(act_id)
    access.require(access.can_record_payment(current_user, act), "Оплаты записывает бухгалтерия.")
    form = PaymentForm(prefix="payment")
    outcome = submit(form, lambda: act_service.add_payment(act, paid_on=form.paid_on.data, amount=form.amount.data,
                                                           comment=form.comment.data or "", acting=current_user))
    if outcome.saved:
        flash(f"Оплата записана: {outcome.result.amount} ₽.", "success")
        return htmx.redirect(url_for("acts.detail", act_id=act.id) + "#payments")
    return htmx.render(DETAIL, block="payments", status=outcome.status, **_page_context(act, payment_form=form))


@bp.post("/acts/<int:act_id>/reminded")
@allow(*access.ACCOUNT_MANAGERS)
def reminded(act_id: int):
    """«Напомнил»: a contact logged with the client about this act."""
    act = _load(act_id)
    access.require(access.can_edit_client(current_user, act.client),
                   "Отметить напоминание может аккаунт-менеджер клиента, заместитель и администратор.")
    try:
        act_service.log_reminder(act, acting=current_user)
        db.session.commit()
    except access.PermissionDenied:
        db.session.rollback()
        raise
    except ServiceError as error:
        db.session.rollback()
        return htmx.render(DETAIL, status=error.status, **_page_context(act, workflow_message=error.message))
    flash("Напоминание записано в журнал контактов.", "success")
    back = request.form.get("next", "")
    if back == "dashboard":
        return htmx.redirect(url_for("dashboard.index"))
    return htmx.redirect(url_for("acts.detail", act_id=act.id))
