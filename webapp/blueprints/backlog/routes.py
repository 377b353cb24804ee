from datetime import datetime

from flask import abort, current_app, flash, make_response, request, url_for
from flask_login import current_user

from webapp import htmx, saving
from webapp.blueprints import status
from webapp.blueprints.backlog import bp
from webapp.blueprints.backlog.forms import (ApprovalForm, ApprovalLinkForm, BudgetBlockForm, EstimateForm, IntakeForm,
                                             NewStageForm, PrioritiesForm, RequestForm, SpecForm, StageForm, SummaryForm,
                                             TimeForm)
from webapp.documents.backlog_order import render_order_xlsx
from webapp.documents.render import content_disposition
from webapp.documents.spec import render_spec
from webapp.extensions import db
from webapp.formatting import from_local, today
from webapp.intake.email import NotAnEmail, parse_eml
from webapp.models import audit as audit_log
from webapp.models import ApprovalChannel, BacklogItem, Client, ItemStatus
from webapp.models.types import utcnow
from webapp.pagination import requested_page
from webapp.permissions import allow
from webapp.saving import DeleteConflict, submit
from webapp.services import ServiceError, access, as_id, attachments, workflow
from webapp.services import backlog as backlog_service
from webapp.services import budgets as budget_service

LIST = "backlog/client.html"
DETAIL = "backlog/detail.html"
ALL = "backlog/index.html"
STATUS_FILTERS = [("all", "Все"), ("closed", "Закрытые")] + [(s.value, s.label) for s in ItemStatus]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EDIT_BLOCKS = {"summary": SummaryForm, "spec": SpecForm, "request": RequestForm, "budget": BudgetBlockForm}


def _load(item_id: int) -> BacklogItem:
    """The item if the user may see it; otherwise 404."""
    return backlog_service.get_item(current_user, item_id)


def _when(value: datetime | None) -> datetime | None:
    return from_local(value) if value else None


def _filters() -> backlog_service.ItemFilters:
    args = request.args
    return backlog_service.ItemFilters(status=args.get("status", "")[:20], assignee=args.get("assignee", "")[:12],
                                       waiting=args.get("waiting", "")[:10], client=args.get("client", "")[:12],
                                       overdue=args.get("overdue", "")[:1], budget=args.get("budget", "")[:200])


# --- a client's backlog ------------------------------------------------------------------------------


def _client_context(client: Client, **extra) -> dict:
    filters = extra.pop("filters", None) or _filters()
    day = today()
    items = backlog_service.client_backlog(current_user, client, filters, day)
    can_edit = access.can_edit_client(current_user, client)
    priorities_form = extra.pop("priorities_form", None)
    if priorities_form is None and can_edit:
        priorities_form = PrioritiesForm(formdata=None)
    if priorities_form is not None:
        priorities_form.set_contacts(client.contacts)
    return dict(client=client, items=items, filters=filters, statuses=STATUS_FILTERS, today=day, can_edit=can_edit,
                can_create=access.can_create_item(current_user, client), users=backlog_service.assignable_users(),
                agreements=backlog_service.agreements(client), priorities_form=priorities_form,
                reorderable=can_edit and not filters.args(), **extra)


@bp.get("/clients/<int:client_id>/backlog/")
@allow()
def client_list(client_id: int):
    """The client's ranked backlog: filters in the URL, reorder by drag and drop or keys."""
    client = access.get_client(current_user, client_id)
    return htmx.render(LIST, block="results", **_client_context(client))


@bp.get("/clients/<int:client_id>/backlog/print")
@allow()
def print_order(client_id: int):
    """«Печать»: the client's ranked open items and who agreed the order, when — a page for paper."""
    client = access.get_client(current_user, client_id)
    order = backlog_service.agreed_order(current_user, client, today())
    return htmx.render("backlog/print.html", client=client, order=order, printed_at=utcnow())


@bp.get("/clients/<int:client_id>/backlog.xlsx")
@allow()
def export_order(client_id: int):
    """«Excel»: the same ranked list as an XLSX workbook, the agreement in its header."""
    client = access.get_client(current_user, client_id)
    order = backlog_service.agreed_order(current_user, client, today())
    response = make_response(render_order_xlsx(backlog_service.order_sheet(order, client)))
    response.headers["Content-Type"] = XLSX
    response.headers["Content-Disposition"] = content_disposition(f"Приоритеты {client.short_name}.xlsx")
    return response


@bp.route("/clients/<int:client_id>/backlog/new", methods=["GET", "POST"])
@allow(*access.ACCOUNT_MANAGERS)
def new_item(client_id: int):
    """«Новая заявка»: the request as it came, who sent it, how and when."""
    client = access.get_client(current_user, client_id)
    access.require(access.can_create_item(current_user, client),
                   "Заявки клиента принимают его аккаунт-менеджер, заместитель и администратор.")
    form = IntakeForm()
    form.set_choices(client.contacts, backlog_service.assignable_users())
    parsed = None
    upload = request.files.get(form.eml.name)
    if form.is_submitted() and upload and upload.filename:
        data = upload.read(attachments.max_bytes() + 1)
        try:
            if len(data) > attachments.max_bytes():
                raise NotAnEmail("Письмо слишком большое: вложения добавьте к задаче по одному.")
            parsed = parse_eml(data)
        except NotAnEmail as error:
            form.validate()
            form.eml.errors = [str(error)]
            return htmx.render("backlog/new.html", client=client, form=form, status=422)
        form.use_email(backlog_service.email_intake(client, parsed))

    def create() -> BacklogItem:
        item = backlog_service.create_item(
            client, {**form.values(), "received_at": _when(form.received_at.data)}, acting=current_user)
        if parsed is not None:
            backlog_service.attach_email_files(item, parsed, acting=current_user)
        return item

    outcome = submit(form, create)
    if outcome.saved:
        flash(f"Заявка {outcome.result.key} принята.", "success")
        return htmx.redirect(url_for("backlog.detail", item_id=outcome.result.id))
    return htmx.render("backlog/new.html", client=client, form=form, status=outcome.status)


@bp.post("/clients/<int:client_id>/backlog/priorities")
@allow(*access.ACCOUNT_MANAGERS)
def fix_priorities(client_id: int):
    """«Зафиксировать приоритеты»: the current order, agreed with the client."""
    client = access.get_client(current_user, client_id)
    access.require(access.can_edit_client(current_user, client), "Приоритеты фиксирует аккаунт-менеджер клиента.")
    form = PrioritiesForm()
    form.set_contacts(client.contacts)
    outcome = submit(form, lambda: backlog_service.fix_priorities(
        client, contact_id=form.contact_id.data, comment=form.comment.data or "", acting=current_user))
    if outcome.saved:
        flash("Порядок задач зафиксирован как согласованный с клиентом.", "success")
        return htmx.redirect(url_for("backlog.client_list", client_id=client.id))
    return htmx.render(LIST, status=outcome.status, **_client_context(
        client, filters=backlog_service.ItemFilters(), priorities_form=form))


@bp.post("/backlog/<int:item_id>/rank")
@allow(*access.ACCOUNT_MANAGERS)
def reorder(item_id: int):
    """Move an item before or after a neighbour in its client's order (drag and drop, keys)."""
    item = _load(item_id)
    access.require(access.can_edit_item(current_user, item), "Порядок задач клиента ведёт его аккаунт-менеджер.")
    before = as_id(request.form.get("before"))
    after = as_id(request.form.get("after"))
    anchor_id = before or after
    if anchor_id is None:
        return htmx.render_fragment(LIST, "reorder_status", status=422,
                                    message="Укажите, куда переместить задачу.")
    anchor = _load(anchor_id)
    try:
        backlog_service.move_rank(item, acting=current_user, before=anchor if before else None,
                                  after=anchor if not before else None)
        db.session.commit()
    except access.PermissionDenied:
        db.session.rollback()
        raise
    except ServiceError as error:
        db.session.rollback()
        return htmx.render_fragment(LIST, "reorder_status", status=error.status, message=error.message)
    if not htmx.is_htmx():
        return htmx.redirect(url_for("backlog.client_list", client_id=item.client_id))
    return htmx.render_fragment(LIST, "reorder_status", message=f"{item.key} перемещена.")


# --- all clients -------------------------------------------------------------------------------------


@bp.get("/backlog/")
@allow(*access.READ_ALL)
def index():
    """Every client's items for the head of production: workload, waits, overdue stages."""
    filters = _filters()
    day = today()
    page = requested_page(backlog_service.all_backlog_query(current_user, filters, day),
                          count_select=backlog_service.all_backlog_query(current_user, filters, day, counting=True),
                          total=backlog_service.counted_open(current_user, filters))
    backlog_service.attach_next_stages(page.items)
    return htmx.render(ALL, block="results", page=page, filters=filters, statuses=STATUS_FILTERS, today=day,
                       overview=backlog_service.overview(current_user, day),
                       overdue=backlog_service.overdue_stages(current_user, day),
                       users=backlog_service.assignable_users())


@bp.get("/backlog/new")
@allow(*access.ACCOUNT_MANAGERS)
def choose_client():
    """«Новая заявка» from «Мой день» or the all-clients list: first, whose."""
    # Names only, chosen by the database: every visible client loaded with its team and asked one by
    # one was 2,000 clients and 4,000 users on the benchmark data, for the 80 a manager leads.
    clients = db.session.execute(access.editable_clients(current_user).with_only_columns(Client.id, Client.short_name)
                                 .order_by(Client.short_name, Client.id)).all()
    return htmx.render("backlog/choose_client.html", clients=clients)


# --- the item ----------------------------------------------------------------------------------------


def _item_context(item: BacklogItem, block: str | None = None, **extra) -> dict:
    """What the item's ``block`` reads, or every block for the whole page (``block=None``; ``_page_context``
    adds what only the page draws): the item, the day and the user's rights, and a block's own forms
    only for that block. The status moves (the terms in force, the approval) and the history's labels
    are the page's alone: a stage's row built them all, 8 statements and 8.6 ms on the benchmark data."""
    every = block is None
    day = today()
    can_edit = access.can_edit_item(current_user, item)
    if (every or block == "estimate") and "estimate_form" not in extra:
        extra["estimate_form"] = EstimateForm(formdata=None, prefix="estimate")
    if every or block == "approval":
        if "approval_form" not in extra:
            extra["approval_form"] = ApprovalForm(formdata=None, prefix="approval",
                                                  data={"channel": ApprovalChannel.EMAIL.value})
        extra["approval_form"].set_contacts(item.client.contacts)
        if "link_form" not in extra:
            extra["link_form"] = ApprovalLinkForm(formdata=None, prefix="link")
        extra["link_form"].set_contacts(backlog_service.link_deciders(item.client))
        extra["overrun"] = budget_service.approval_consequence(item) if can_edit else None
    if (every or block == "time") and "time_form" not in extra:
        extra["time_form"] = TimeForm(formdata=None, prefix="time", data={"spent_on": day,
                                                           "billable": item.billing.value == "billable"})
    if (every or block == "stages") and "stage_form" not in extra:
        extra["stage_form"] = NewStageForm(formdata=None, prefix="new-stage")
    if every:
        extra.update(moves=workflow.allowed_moves(item, current_user), actions=audit_log.all_actions(),
                     labels=audit_log.entity(BacklogItem.__tablename__).labels)
    return dict(item=item, client=item.client, today=day, can_edit=can_edit,
                can_plan=access.can_plan_item(current_user, item), can_log=access.can_log_time(current_user, item),
                can_move=access.can_move_item(current_user, item), **extra)


def _similar(item: BacklogItem) -> list:
    """The estimator's examples (the estimate block): ours, so only for who estimates."""
    return backlog_service.similar_items(current_user, item) if access.can_plan_item(current_user, item) else []


def _page_context(item: BacklogItem, **extra) -> dict:
    """The whole page: every block's context, the similar items, and what only the page draws (the
    SLA clock, the files, the history). A block saved alone skips these (the similar items alone
    were 2.6 ms of a stage or time save on the benchmark data)."""
    context = _item_context(item, **extra)
    if "similar" not in context:
        context["similar"] = _similar(item)
    context.update(sla=backlog_service.sla_state(item, context["today"]), events=backlog_service.history(item),
                   files=attachments.attachments_of(backlog_service.ATTACHMENT_OWNER, item.id))
    return context


@bp.get("/backlog/<int:item_id>")
@allow()
def detail(item_id: int):
    """The item: the request beside the spec, estimate and approval, stages, time, history."""
    item = _load(item_id)
    return htmx.render(DETAIL, **_page_context(item))


@bp.get("/backlog/<int:item_id>/spec.docx")
@allow()
def spec_document(item_id: int):
    """The spec as a DOCX for the client's sign-off: no internal notes."""
    item = _load(item_id)
    body = render_spec(backlog_service.spec_data(item), override_dir=current_app.config["DOCUMENT_TEMPLATES"])
    response = make_response(body)
    response.headers["Content-Type"] = DOCX
    response.headers["Content-Disposition"] = content_disposition(f"ТЗ {item.key}.docx")
    return response


def _block_form(block: str, item: BacklogItem):
    form = EDIT_BLOCKS[block](obj=item, data={k: getattr(item, k).value for k in ("priority", "billing", "channel")
                                              if k in EDIT_BLOCKS[block].FIELDS})
    can_edit, can_plan = access.can_edit_item(current_user, item), access.can_plan_item(current_user, item)
    if block == "summary":
        form.set_choices(backlog_service.assignable_users(), can_edit=can_edit, can_plan=can_plan)
    elif block == "request":
        form.set_choices(item.client.contacts)
    elif block == "budget":
        form.set_choices(budget_service.client_blocks(item.client, today().year))
    return form


@bp.route("/backlog/<int:item_id>/edit/<block>", methods=["GET", "POST"])
@allow(*access.ACCOUNT_MANAGERS, *access.PLANNERS)
def edit_block(item_id: int, block: str):
    """Inline edit of one block of the item (click → form → save → the block)."""
    item = _load(item_id)
    if block not in EDIT_BLOCKS:
        abort(404)
    if block == "summary":
        access.require(access.can_plan_item(current_user, item), "Недостаточно прав, чтобы менять задачу.")
    else:
        access.require(access.can_edit_item(current_user, item),
                       "Задачу клиента ведут его аккаунт-менеджер, заместитель и администратор.")
    form = _block_form(block, item)
    if request.method == "GET":
        saving.arm(form, item)
    save = budget_service.set_item_block if block == "budget" else backlog_service.update_item
    outcome = submit(form, lambda: save(item, saving.edit_of(form), acting=current_user))
    context = _item_context(item, block, form=form, conflict=outcome.conflict)
    if outcome.saved:
        response = htmx.render_fragment(DETAIL, f"{block}_view", **context)
        return htmx.trigger(response, "item-changed", {"item": item.id})
    return htmx.render_fragment(DETAIL, f"{block}_form", status=outcome.status, **context)


@bp.get("/backlog/<int:item_id>/show/<block>")
@allow()
def show_block(item_id: int, block: str):
    """One block of the item as displayed (the «Отмена» of an inline edit)."""
    item = _load(item_id)
    if block not in EDIT_BLOCKS:
        abort(404)
    return htmx.render_fragment(DETAIL, f"{block}_view", **_item_context(item, block))


@bp.post("/backlog/<int:item_id>/status")
@allow()
def move(item_id: int):
    """A status move of the item's workflow."""
    item = _load(item_id)

    return status.change_status(item, redirect_url=url_for("backlog.detail", item_id=item.id), page=DETAIL,
                                context=lambda **extra: _page_context(item, **extra))


@bp.post("/backlog/<int:item_id>/estimate")
@allow(*access.ACCOUNT_MANAGERS, *access.PLANNERS)
def estimate(item_id: int):
    """A new version of the estimate."""
    item = _load(item_id)
    access.require(access.can_plan_item(current_user, item), "Оценивают задачу команда клиента и руководитель производства.")
    form = EstimateForm(prefix="estimate")
    outcome = submit(form, lambda: backlog_service.estimate_item(
        item, hours=form.hours.data, rate=form.rate.data, lines=form.line_values(), note=form.note.data or "",
        acting=current_user))
    if outcome.saved:
        flash(f"Оценка {outcome.result.number}: {outcome.result.hours} ч.", "success")
        return htmx.redirect(url_for("backlog.detail", item_id=item.id) + "#estimate")
    return htmx.render_fragment(DETAIL, "estimate", status=outcome.status,
                                **_item_context(item, "estimate", estimate_form=form, similar=_similar(item)))


@bp.post("/backlog/<int:item_id>/approval")
@allow(*access.ACCOUNT_MANAGERS)
def approve(item_id: int):
    """Record the client's approval of the estimate."""
    item = _load(item_id)
    access.require(access.can_edit_item(current_user, item),
                   "Согласование записывают аккаунт-менеджер клиента, заместитель и администратор.")
    form = ApprovalForm(prefix="approval")
    form.set_contacts(item.client.contacts)
    outcome = submit(form, lambda: backlog_service.approve_item(
        item, contact_id=form.contact_id.data, channel=ApprovalChannel(form.channel.data),
        approved_at=_when(form.approved_at.data), comment=form.comment.data or "",
        confirm_overrun=bool(form.confirm_overrun.data), acting=current_user))
    if outcome.saved:
        flash("Согласование записано.", "success")
        return htmx.redirect(url_for("backlog.detail", item_id=item.id) + "#approval")
    return htmx.render_fragment(DETAIL, "approval", status=outcome.status,
                                **_item_context(item, "approval", approval_form=form))


@bp.post("/backlog/<int:item_id>/approval-link")
@allow(*access.ACCOUNT_MANAGERS)
def send_approval_link(item_id: int):
    """«Отправить на согласование по ссылке»: a single-use link e-mailed to the decision maker; without
    mail the page shows the text with the link to copy."""
    item = _load(item_id)
    access.require(access.can_edit_item(current_user, item),
                   "Согласование запрашивают аккаунт-менеджер клиента, заместитель и администратор.")
    form = ApprovalLinkForm(prefix="link")
    form.set_contacts(backlog_service.link_deciders(item.client))
    outcome = submit(form, lambda: backlog_service.send_approval_link(item, contact_id=form.contact_id.data,
                                                                      acting=current_user))
    sent = outcome.result if outcome.saved else None
    return htmx.render(DETAIL, block="approval", status=outcome.status,
                       **_page_context(item, link_form=form, link_outcome=sent))


@bp.post("/backlog/<int:item_id>/time")
@allow()
def log_time(item_id: int):
    """«+ часы»: time on the item; the bar and the overrun flag follow."""
    item = _load(item_id)
    access.require(access.can_log_time(current_user, item), "Время списывают исполнитель, команда клиента и руководитель.")
    form = TimeForm(prefix="time")
    outcome = submit(form, lambda: backlog_service.log_time(
        item, spent_on=form.spent_on.data, hours=form.hours.data, comment=form.comment.data or "",
        billable=form.billable.data, acting=current_user))
    if outcome.saved:
        response = htmx.render_fragment(DETAIL, "time", **_item_context(item, "time", time_logged=True))
        return htmx.trigger(response, "item-changed", {"item": item.id})
    return htmx.render_fragment(DETAIL, "time", status=outcome.status, **_item_context(item, "time", time_form=form))


# --- stages ------------------------------------------------------------------------------------------------


@bp.post("/backlog/<int:item_id>/stages")
@allow(*access.ACCOUNT_MANAGERS, *access.PLANNERS)
def add_stage(item_id: int):
    """Add a stage with its deadline."""
    item = _load(item_id)
    access.require(access.can_plan_item(current_user, item), "Этапы ведут команда клиента и руководитель производства.")
    form = NewStageForm(prefix="new-stage")
    outcome = submit(form, lambda: backlog_service.add_stage(item, name=form.name.data, due_on=form.due_on.data,
                                                             acting=current_user))
    if outcome.saved:
        db.session.refresh(item, ["stages"])
        return htmx.render_fragment(DETAIL, "stages", **_item_context(item, "stages"))
    return htmx.render_fragment(DETAIL, "stages", status=outcome.status,
                                **_item_context(item, "stages", stage_form=form))


@bp.route("/backlog/<int:item_id>/stages/<int:stage_id>", methods=["GET", "POST"])
@allow()
def stage(item_id: int, stage_id: int):
    """A stage's row: GET shows it (or its form with ?edit=1), POST saves its name and deadline."""
    item = _load(item_id)
    record = backlog_service.get_stage(item, stage_id)
    editing = request.method == "POST" or request.args.get("edit") == "1"
    if not editing:
        return htmx.render_fragment(DETAIL, "stage_row", **_item_context(item, "stage", stage=record))
    access.require(access.can_plan_item(current_user, item), "Этапы ведут команда клиента и руководитель производства.")
    form = StageForm(obj=record, prefix=f"stage{record.id}")
    return saving.row_edit(
        form, record, lambda edit: backlog_service.update_stage(record, edit, acting=current_user),
        saved=lambda: htmx.render_fragment(DETAIL, "stage_row", **_item_context(item, "stage", stage=record)),
        drawn=lambda outcome: htmx.render_fragment(DETAIL, "stage_form_row", status=outcome.status, **_item_context(
            item, "stage", stage=record, form=form, conflict=outcome.conflict)))


@bp.post("/backlog/<int:item_id>/stages/<int:stage_id>/done")
@allow()
def stage_done(item_id: int, stage_id: int):
    """Mark a stage done, or not done after all."""
    item = _load(item_id)
    record = backlog_service.get_stage(item, stage_id)
    message, code = None, 200
    try:
        backlog_service.complete_stage(record, request.form.get("version"), done=request.form.get("done") == "1",
                                       acting=current_user)
        db.session.commit()
    except DeleteConflict as conflict:
        db.session.rollback()
        message, code = conflict.message, 409
    except access.PermissionDenied:
        db.session.rollback()
        raise
    except ServiceError as error:
        db.session.rollback()
        message, code = error.message, error.status
    return htmx.render_fragment(DETAIL, "stage_row", status=code,
                                **_item_context(item, "stage", stage=record, stage_message=message))
