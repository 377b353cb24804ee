from flask import abort, current_app, flash, make_response, request, url_for
from flask_login import current_user

from webapp import htmx, saving
from webapp.blueprints import status
from webapp.blueprints.budgets import bp
from webapp.blueprints.budgets.forms import ApproveForm, BlockForm, MoveForm, NewBlockForm, NewBudgetForm, NextYearForm
from webapp.documents.budget import render_appendix, render_workbook
from webapp.documents.render import content_disposition
from webapp.formatting import today
from webapp.models import BlockKind, BudgetStatus, CarryOver
from webapp.pagination import ranked_page
from webapp.permissions import allow
from webapp.saving import submit
from webapp.services import access, as_id, workflow
from webapp.services import budgets as budget_service

DETAIL = "budgets/detail.html"
OVERVIEW = "budgets/overview.html"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
YEARS = range(2000, 2101)


def _year(year: int) -> int:
    if year not in YEARS:
        abort(404)
    return year


def _month() -> int | None:
    """``?month=N``: the budget as it stood at the end of month N."""
    month = as_id(request.args.get("month", ""))
    return month if month is not None and 1 <= month <= 12 else None


def _context(client, year: int, **extra) -> dict:
    budget = budget_service.find_budget(client, year)
    can_edit = access.can_edit_client(current_user, client)
    context = dict(client=client, year=year, budget=budget, can_edit=can_edit, method=budget_service.FORECAST_METHOD,
                   months=budget_service.MONTH_NAMES, as_of=_month())
    if budget is None:
        context.setdefault("new_form", extra.pop("new_form", None) or NewBudgetForm(formdata=None))
        return {**context, **extra}
    figures = budget_service.budget_figures(budget, today(), context["as_of"])
    approve_form = extra.pop("approve_form", None) or ApproveForm(formdata=None, data={"approved_on": today()})
    approve_form.set_contacts(client.contacts)
    moves = [m for m in workflow.allowed_moves(budget, current_user) if m.move.target != BudgetStatus.APPROVED]
    can_approve = can_edit and budget.status == BudgetStatus.DRAFT
    context.update(figures=figures, chart=budget_service.chart(figures), moves=moves, can_approve=can_approve,
                   approve_form=approve_form, approve_refusal=budget.workflow.moves[0].refusal(budget),
                   block_form=extra.pop("block_form", None) or NewBlockForm(formdata=None),
                   move_form=extra.pop("move_form", None) or MoveForm(formdata=None),
                   next_form=extra.pop("next_form", None) or NextYearForm(formdata=None),
                   next_exists=budget_service.find_budget(client, year + 1) is not None,
                   alerts=budget_service.open_alerts(current_user, client=client))
    return {**context, **extra}


def _url(client, year: int, anchor: str = "") -> str:
    return url_for("budgets.detail", client_id=client.id, year=year) + anchor


@bp.get("/clients/<int:client_id>/budgets/<int:year>")
@allow(*access.READ_ALL)
def detail(client_id: int, year: int):
    """The client's budget for a year: blocks with plan, spent, committed, forecast, remaining; months; chart."""
    client = access.get_client(current_user, client_id)
    return htmx.render(DETAIL, **_context(client, _year(year)))


@bp.post("/clients/<int:client_id>/budgets/<int:year>")
@allow(*access.ACCOUNT_MANAGERS)
def create(client_id: int, year: int):
    """Start the year's budget as a draft."""
    client = access.get_client(current_user, client_id)
    access.require_edit_client(current_user, client)
    form = NewBudgetForm()
    outcome = submit(form, lambda: budget_service.create_budget(client, _year(year), acting=current_user))
    if outcome.saved:
        flash("Черновик бюджета создан: добавьте блоки.", "success")
        return htmx.redirect(_url(client, year))
    return htmx.render(DETAIL, status=outcome.status, **_context(client, year, new_form=form))


@bp.post("/clients/<int:client_id>/budgets/<int:year>/blocks")
@allow(*access.ACCOUNT_MANAGERS)
def add_block(client_id: int, year: int):
    """«Добавить блок»."""
    client = access.get_client(current_user, client_id)
    budget = access.get_budget(current_user, client, year)
    access.require(budget_service.can_edit(current_user, budget), "Бюджет клиента ведут его аккаунт-менеджер, заместитель и администратор.")
    form = NewBlockForm()
    outcome = submit(form, lambda: budget_service.add_block(
        budget, name=form.name.data, kind=BlockKind(form.kind.data), planned_amount=form.planned_amount.data,
        hours_per_month=form.hours_per_month.data, rate=form.rate.data, carry_over=CarryOver(form.carry_over.data),
        acting=current_user))
    if outcome.saved:
        flash(f"Блок «{outcome.result.name}» добавлен.", "success")
        return htmx.redirect(_url(client, year, "#blocks"))
    return htmx.render(DETAIL, status=outcome.status, **_context(client, year, block_form=form))


def _load_block(block_id: int):
    return budget_service.get_block(current_user, block_id)


def _row_context(block, **extra) -> dict:
    """A block's row and its form read the row's figures and the rights: not the page's forms,
    chart, moves, alerts and next year's budget."""
    budget = block.budget
    client = budget.client
    figures = budget_service.budget_figures(budget, today(), _month())
    return dict(client=client, year=budget.year, budget=budget, can_edit=access.can_edit_client(current_user, client),
                row=next(r for r in figures.blocks if r.block.id == block.id), **extra)


@bp.get("/budgets/blocks/<int:block_id>")
@allow(*access.READ_ALL)
def block_page(block_id: int):
    """A block's row as displayed (the «Отмена» of its inline edit)."""
    block = _load_block(block_id)
    return htmx.render_fragment(DETAIL, "block_row", **_row_context(block))


@bp.route("/budgets/blocks/<int:block_id>/edit", methods=["GET", "POST"])
@allow(*access.ACCOUNT_MANAGERS)
def edit_block(block_id: int):
    """Inline edit of a block's name and plan (a new plan is split evenly over the months again)."""
    block = _load_block(block_id)
    access.require(budget_service.can_edit(current_user, block.budget),
                   "Бюджет клиента ведут его аккаунт-менеджер, заместитель и администратор.")
    form = BlockForm(obj=block)
    if request.method == "GET":
        saving.arm(form, block)
    outcome = submit(form, lambda: budget_service.update_block(block, saving.edit_of(form), acting=current_user))
    if outcome.saved:
        return htmx.redirect(_url(block.budget.client, block.budget.year, f"#block-{block.id}"))
    return htmx.render_fragment(DETAIL, "block_form", status=outcome.status,
                                **_row_context(block, form=form, conflict=outcome.conflict))


@bp.post("/budgets/blocks/<int:block_id>/move")
@allow(*access.ACCOUNT_MANAGERS)
def move_money(block_id: int):
    """Move money of the block's plan between months (the year's total stays)."""
    block = _load_block(block_id)
    access.require(budget_service.can_edit(current_user, block.budget),
                   "Бюджет клиента ведут его аккаунт-менеджер, заместитель и администратор.")
    client, year = block.budget.client, block.budget.year
    form = MoveForm()
    outcome = submit(form, lambda: budget_service.move_between_months(
        block, source=form.source.data, target=form.target.data, amount=form.amount.data, acting=current_user))
    if outcome.saved:
        flash("План перенесён между месяцами.", "success")
        return htmx.redirect(_url(client, year, "#months"))
    return htmx.render(DETAIL, status=outcome.status, **_context(client, year, move_form=form, move_block=block.id))


@bp.post("/clients/<int:client_id>/budgets/<int:year>/approve")
@allow(*access.ACCOUNT_MANAGERS)
def approve(client_id: int, year: int):
    """The client's decision maker approved the budget (who, when)."""
    client = access.get_client(current_user, client_id)
    budget = access.get_budget(current_user, client, year)
    access.require(budget_service.can_edit(current_user, budget), "Бюджет клиента утверждают его аккаунт-менеджер, заместитель и администратор.")
    form = ApproveForm()
    form.set_contacts(client.contacts)
    outcome = submit(form, lambda: workflow.change_status(
        budget, BudgetStatus.APPROVED.value, acting=current_user, shown_status=BudgetStatus.DRAFT.value,
        values={"approved_on": form.approved_on.data, "contact_id": form.contact_id.data}))
    if outcome.saved:
        flash("Бюджет утверждён.", "success")
        return htmx.redirect(_url(client, year))
    return htmx.render(DETAIL, status=outcome.status, **_context(client, year, approve_form=form))


@bp.post("/clients/<int:client_id>/budgets/<int:year>/status")
@allow(*access.ACCOUNT_MANAGERS)
def move(client_id: int, year: int):
    """A status move of the budget (back to draft)."""
    client = access.get_client(current_user, client_id)
    budget = access.get_budget(current_user, client, year)

    return status.change_status(budget, redirect_url=_url(client, year), page=DETAIL,
                                context=lambda **extra: _context(client, year, **extra))


@bp.post("/clients/<int:client_id>/budgets/<int:year>/next")
@allow(*access.ACCOUNT_MANAGERS)
def next_year(client_id: int, year: int):
    """«Бюджет на следующий год»: a draft from this year's blocks with their actuals and a growth."""
    client = access.get_client(current_user, client_id)
    budget = access.get_budget(current_user, client, year)
    access.require(budget_service.can_edit(current_user, budget), "Бюджет клиента ведут его аккаунт-менеджер, заместитель и администратор.")
    form = NextYearForm()
    outcome = submit(form, lambda: budget_service.next_year(budget, growth_percent=form.growth_percent.data,
                                                            acting=current_user))
    if outcome.saved:
        flash(f"Черновик бюджета на {year + 1} год создан.", "success")
        return htmx.redirect(_url(client, year + 1))
    return htmx.render(DETAIL, status=outcome.status, **_context(client, year, next_form=form))


@bp.get("/clients/<int:client_id>/budgets/<int:year>.xlsx")
@allow(*access.READ_ALL)
def workbook(client_id: int, year: int):
    """The budget as an XLSX for the client's accountant: numbers as numbers, sums as formulas."""
    client = access.get_client(current_user, client_id)
    budget = access.get_budget(current_user, client, _year(year))
    body = render_workbook(budget_service.sheet_data(budget_service.budget_figures(budget, today())))
    response = make_response(body)
    response.headers["Content-Type"] = XLSX
    response.headers["Content-Disposition"] = content_disposition(f"Бюджет {client.short_name} {year}.xlsx")
    return response


@bp.get("/clients/<int:client_id>/budgets/<int:year>.docx")
@allow(*access.READ_ALL)
def appendix(client_id: int, year: int):
    """The budget as an appendix to the contract for the client's approval, with both signatures."""
    client = access.get_client(current_user, client_id)
    budget = access.get_budget(current_user, client, _year(year))
    body = render_appendix(budget_service.appendix_data(budget), override_dir=current_app.config["DOCUMENT_TEMPLATES"])
    response = make_response(body)
    response.headers["Content-Type"] = DOCX
    response.headers["Content-Disposition"] = content_disposition(f"Бюджет {client.short_name} {year}.docx")
    return response


@bp.get("/budgets/")
@bp.get("/budgets/<int:year>")
@allow(*access.READ_ALL)
def index(year: int | None = None):
    """All clients' budgets of a year, the riskiest first; ``?month=`` as they stood then."""
    year = _year(year or today().year)
    as_of = _month()
    page = ranked_page(budget_service.ranked_budget_ids(current_user, year, today(), as_of),
                       lambda ids: budget_service.overview_budgets(current_user, ids),
                       current_app.config["BUDGETS_PER_PAGE"])
    rows = budget_service.overview(page.items, today(), as_of)
    return htmx.render(OVERVIEW, year=year, rows=rows, page=page, as_of=as_of, months=budget_service.MONTH_NAMES,
                       method=budget_service.FORECAST_METHOD)
