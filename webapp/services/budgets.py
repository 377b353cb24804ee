"""Budgets: plans in blocks and months, the figures computed from the backlog, alerts, next year.

The figures are never typed in:

- **spent** — work done: billable hours logged on items that are done or accepted, at the item's rate
  (its estimate's), by the month the hours were logged. One function, ``spent_by_block``, is the
  source, so acts can replace it with their lines once they exist;
- **committed** — approved work not yet done: billable items approved or in progress, at their estimate;
- **forecast** — spent + committed + the run rate (the average spent in the months already past)
  for the months left (``FORECAST_METHOD`` says it on the page);
- **remaining** — the plan less spent and committed.

Spent and committed are stored on the block row, recomputed from the items under a lock on the block
(``derived.lock_owner``) in the same transaction as the change of an item charged to it; the same
recompute raises an alert once per crossing of each threshold, by spent and by forecast.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from webapp import cache, saving
from webapp.extensions import db
from webapp.models import (Act, ActLine, ActStatus, AlertBasis, BacklogItem, Billing, BlockKind, Budget, BudgetAlert, BudgetBlock, BudgetMonth,
                           BudgetStatus, CarryOver, Client, Contact, ItemStatus, TimeEntry, User)
from webapp.models.audit import tag_action
from webapp.models.budgets import CENT, MONTHS, split_evenly
from webapp.models.types import utcnow
from webapp.saving import Edit
from webapp.services import NotFound, ServiceError, access, agenda, dashboard, derived, workflow

ZERO = Decimal("0.00")
HOUR = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999")
MONTH_NAMES = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
               "ноябрь", "декабрь"]
FORECAST_METHOD = ("Прогноз = израсходовано + согласовано и в работе + средний расход за прошедшие месяцы года "
                   "× оставшиеся месяцы.")
# Work that consumes a block or a package; warranty work never does.
CONSUMING = (Billing.BILLABLE, Billing.PACKAGE)
DONE = (ItemStatus.DONE, ItemStatus.ACCEPTED)
BILLED_BY_ACT = (ActStatus.ISSUED, ActStatus.SIGNED)  # a draft bills nothing yet, a cancelled act nothing any more
HOURS_UNIT = "ч"
COMMITTED = (ItemStatus.APPROVED, ItemStatus.IN_PROGRESS)

saving.unique_rule("uq_budgets_client_id", "Бюджет клиента на этот год уже есть.", field="year")
saving.unique_rule("uq_budget_blocks_budget_id", "Блок с таким названием в бюджете уже есть.", field="name")


# --- reading ------------------------------------------------------------------------------------


def find_budget(client: Client, year: int) -> Budget | None:
    """The client's budget of ``year`` with its blocks and their months (three queries in all)."""
    return db.session.scalar(sa.select(Budget).where(Budget.client_id == client.id, Budget.year == year)
                             .options(sa.orm.selectinload(Budget.blocks).selectinload(BudgetBlock.months)))


def client_blocks(client: Client, year: int | None = None) -> list[BudgetBlock]:
    """The blocks an item of ``client`` may be charged to (this year's and the next's budgets)."""
    query = (sa.select(BudgetBlock).join(Budget).where(Budget.client_id == client.id)
             .order_by(Budget.year, BudgetBlock.position, BudgetBlock.id))
    if year is not None:
        query = query.where(Budget.year.in_((year, year + 1)))
    return list(db.session.scalars(query))


def get_block(user: User, block_id: int) -> BudgetBlock:
    block = db.session.scalar(sa.select(BudgetBlock).join(Budget).where(
        BudgetBlock.id == block_id, Budget.id.in_(access.visible_budgets(user).with_only_columns(Budget.id))))
    if block is None:
        raise NotFound("Блок бюджета не найден.")
    return block


# --- the figures' sources -----------------------------------------------------------------------


def item_rate(item_cost: Decimal | None, item_hours: Decimal | None, default: Decimal) -> Decimal:
    """An item's rate: its estimate's (cost / hours), else the default."""
    if item_cost is not None and item_hours:
        return item_cost / item_hours
    return default


def _default_rate(client_id: int) -> Decimal:
    from webapp.models import CompanyProfile
    rate = db.session.scalar(sa.select(Client.hourly_rate).where(Client.id == client_id))
    return rate if rate is not None else CompanyProfile.get().default_hourly_rate


def spent_by_block(block_ids: list[int], year: int) -> dict[int, dict[int, tuple[Decimal, Decimal]]]:
    """Work done per block and month of ``year``: {block: {month: (hours, money)}}.

    The one source of «spent». What an act has billed counts as the act says — its lines' amounts
    (and hours, where the unit is hours) in the month of the act — from the day it is issued until it
    is cancelled; work done and not billed yet counts at its logged hours × the item's rate, by the
    month they were logged. Two grouped queries for all the blocks.
    """
    if not block_ids:
        return {}
    found: dict[int, dict[int, tuple[Decimal, Decimal]]] = defaultdict(dict)
    act_month = sa.extract("month", Act.act_date)
    billed_rows = db.session.execute(
        sa.select(BacklogItem.budget_block_id, act_month,
                  sa.func.sum(sa.case((ActLine.unit == HOURS_UNIT, ActLine.quantity), else_=0)),
                  sa.func.sum(ActLine.amount))
        .join(ActLine, ActLine.item_id == BacklogItem.id).join(Act, Act.id == ActLine.act_id)
        .where(BacklogItem.budget_block_id.in_(block_ids), BacklogItem.billing.in_(CONSUMING),
               Act.status.in_(BILLED_BY_ACT), Act.act_date >= date(year, 1, 1), Act.act_date <= date(year, 12, 31))
        .group_by(BacklogItem.budget_block_id, act_month)).all()
    for block_id, month_no, hours, money in billed_rows:
        found[block_id][int(month_no)] = (Decimal(hours or 0), Decimal(money or 0))
    billed_items = (sa.select(ActLine.item_id).join(Act, Act.id == ActLine.act_id)
                    .where(Act.status.in_(BILLED_BY_ACT), ActLine.item_id.is_not(None)))
    month = sa.extract("month", TimeEntry.spent_on)
    rows = db.session.execute(
        sa.select(BacklogItem.budget_block_id, BacklogItem.client_id, BacklogItem.estimate_cost,
                  BacklogItem.estimate_hours, month, sa.func.sum(TimeEntry.hours))
        .join(TimeEntry, TimeEntry.item_id == BacklogItem.id)
        .where(BacklogItem.budget_block_id.in_(block_ids), BacklogItem.billing.in_(CONSUMING),
               BacklogItem.status.in_(DONE), sa.or_(TimeEntry.billable.is_(True), BacklogItem.billing == Billing.PACKAGE),
               TimeEntry.spent_on >= date(year, 1, 1), TimeEntry.spent_on <= date(year, 12, 31),
               BacklogItem.id.not_in(billed_items))
        .group_by(BacklogItem.id, BacklogItem.budget_block_id, BacklogItem.client_id, BacklogItem.estimate_cost,
                  BacklogItem.estimate_hours, month)).all()
    defaults: dict[int, Decimal] = {}
    for block_id, client_id, cost, hours, month_no, spent in rows:
        if client_id not in defaults:
            defaults[client_id] = _default_rate(client_id)
        spent = Decimal(spent)
        money = (spent * item_rate(cost, hours, defaults[client_id])).quantize(CENT, ROUND_HALF_UP)
        old_hours, old_money = found[block_id].get(int(month_no), (ZERO, ZERO))
        found[block_id][int(month_no)] = (old_hours + spent, old_money + money)
    return found


def committed_by_block(block_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Approved work not done yet per block: {block: (hours, money)} at the items' estimates."""
    if not block_ids:
        return {}
    rows = db.session.execute(
        sa.select(BacklogItem.budget_block_id, sa.func.coalesce(sa.func.sum(BacklogItem.estimate_hours), 0),
                  sa.func.coalesce(sa.func.sum(BacklogItem.estimate_cost), 0))
        .where(BacklogItem.budget_block_id.in_(block_ids), BacklogItem.billing.in_(CONSUMING),
               BacklogItem.status.in_(COMMITTED))
        .group_by(BacklogItem.budget_block_id)).all()
    return {block_id: (Decimal(hours), Decimal(money)) for block_id, hours, money in rows}


# --- stored figures and alerts ------------------------------------------------------------------


def refresh_block(block: BudgetBlock, day: date | None = None) -> None:
    """Recompute the block's stored figures from the items under a lock on the block, then raise or
    clear its alerts. Callers lock nothing themselves: this takes the block's lock first."""
    derived.lock_owner(block)
    year = db.session.scalar(sa.select(Budget.year).where(Budget.id == block.budget_id))
    by_month = spent_by_block([block.id], year).get(block.id, {})
    block.spent_hours = sum((h for h, _ in by_month.values()), ZERO)
    block.spent = sum((m for _, m in by_month.values()), ZERO)
    for month in block.months:
        month.spent_hours, month.spent = by_month.get(month.month, (ZERO, ZERO))
    block.committed_hours, block.committed = committed_by_block([block.id]).get(block.id, (ZERO, ZERO))
    db.session.flush()
    _check_alerts(block, year, by_month, day or _today())


def _today() -> date:
    from webapp.formatting import today
    return today()


def items_billed(item_ids: list[int]) -> None:
    """An act billing these items was issued or cancelled: their blocks' spent follows."""
    block_ids = db.session.scalars(sa.select(BacklogItem.budget_block_id).distinct()
                                   .where(BacklogItem.id.in_(item_ids), BacklogItem.budget_block_id.is_not(None)))
    for block_id in sorted(block_ids):
        refresh_block(db.session.get(BudgetBlock, block_id))


def item_changed(item: BacklogItem, *also: int | None) -> None:
    """An item charged to a block changed (status, estimate, hours, block): its block's figures
    follow in the same transaction; ``also`` names a block the item just left."""
    for block_id in sorted({b for b in (item.budget_block_id, *also) if b is not None}):
        block = db.session.get(BudgetBlock, block_id)
        if block is not None:
            refresh_block(block)


def elapsed_months(year: int, day: date) -> int:
    """Months of ``year`` fully past on ``day``."""
    if day.year < year:
        return 0
    if day.year > year:
        return 12
    return day.month - 1


def forecast(spent: Decimal, committed: Decimal, spent_before: Decimal, elapsed: int) -> Decimal:
    """``FORECAST_METHOD``: the run rate is the money spent in the months past, per month."""
    if elapsed <= 0 or elapsed >= 12:
        return spent + committed
    run_rate = spent_before / elapsed
    return (spent + committed + run_rate * (12 - elapsed)).quantize(CENT, ROUND_HALF_UP)


def _percent(amount: Decimal, plan: Decimal) -> int | None:
    if not plan:
        return None
    return int((amount * 100 / plan).to_integral_value(rounding=ROUND_HALF_UP))


def _check_alerts(block: BudgetBlock, year: int, by_month: dict[int, tuple[Decimal, Decimal]], day: date) -> None:
    """Raise an alert per threshold and basis the block has crossed and has no open alert for; clear
    the open ones it is back under (so the next crossing raises anew). Under the block's lock."""
    budget = db.session.get(Budget, block.budget_id)
    elapsed = elapsed_months(year, day)
    before = sum((m for month, (_, m) in by_month.items() if month <= elapsed), ZERO)
    percents = {AlertBasis.SPENT: _percent(block.spent, block.planned_amount),
                AlertBasis.FORECAST: _percent(forecast(block.spent, block.committed, before, elapsed),
                                              block.planned_amount)}
    open_alerts = {(a.threshold, a.basis): a for a in db.session.scalars(
        sa.select(BudgetAlert).where(BudgetAlert.block_id == block.id, BudgetAlert.cleared_at.is_(None)))}
    for basis, percent in percents.items():
        for threshold in budget.thresholds:
            crossed = percent is not None and percent >= threshold
            current = open_alerts.get((threshold, basis))
            if crossed and current is None:
                db.session.add(BudgetAlert(block_id=block.id, threshold=threshold, basis=basis, percent=percent,
                                           raised_at=utcnow()))
            elif crossed:
                current.percent = percent
            elif current is not None:
                current.cleared_at = utcnow()
    db.session.flush()


# --- the approval's consequence -----------------------------------------------------------------


def approval_consequence(item: BacklogItem) -> str | None:
    """What approving ``item``'s estimate does to its block when it takes it over the plan:
    «Операционный блок: 104 % после согласования»; None when it stays within (or is no charge)."""
    block = item.block if item.budget_block_id else None
    if (block is None or item.billing not in CONSUMING or item.status in COMMITTED + DONE
            or not item.estimate_cost or not block.planned_amount):
        return None
    after = block.spent + block.committed + item.estimate_cost
    if after <= block.planned_amount:
        return None
    return f"{block.name}: {_percent(after, block.planned_amount)} % после согласования"


class OverrunNotConfirmed(ServiceError):
    """The approval would take a block over its plan and nobody confirmed that yet."""


def check_approval(item: BacklogItem, *, confirmed: bool) -> None:
    """Called by ``backlog.approve_item`` (so every place that approves asks the same): locks the
    item's block and refuses an overrunning approval that was not confirmed."""
    if item.budget_block_id is None:
        return
    derived.lock_owner(db.session.get(BudgetBlock, item.budget_block_id))
    consequence = approval_consequence(item)
    if consequence and not confirmed:
        raise OverrunNotConfirmed(f"{consequence}. Подтвердите согласование сверх плана.",
                                  field="confirm_overrun")


# --- writing ------------------------------------------------------------------------------------


def _check_money(value: Any, field_name: str, label: str) -> Decimal:
    if value is None:
        return ZERO
    value = Decimal(value)
    if value < 0 or value > MAX_AMOUNT:
        raise ServiceError(f"{label}: от нуля до {MAX_AMOUNT}.", field=field_name)
    return value.quantize(CENT)


def create_budget(client: Client, year: int, *, acting: User, growth_percent: Decimal | None = None) -> Budget:
    """A draft budget of ``client`` for ``year`` (one per client and year: the unique index is the
    backstop when two managers race)."""
    access.require(access.can_edit_client(acting, client),
                   "Бюджет клиента ведут его аккаунт-менеджер, заместитель и администратор.")
    if not 2000 <= year <= 2100:
        raise ServiceError("Год: с 2000 по 2100.", field="year")
    if find_budget(client, year) is not None:
        raise ServiceError("Бюджет клиента на этот год уже есть.", field="year")
    budget = Budget(client=client, year=year, status=BudgetStatus.DRAFT, warn_percent=80, limit_percent=100,
                    growth_percent=growth_percent, created_at=utcnow())
    db.session.add(budget)
    db.session.flush()
    return budget


def add_block(budget: Budget, *, name: str, acting: User, kind: BlockKind = BlockKind.MONEY,
              planned_amount: Decimal | None = None, planned_hours: Decimal | None = None,
              hours_per_month: Decimal | None = None, rate: Decimal | None = None,
              carry_over: CarryOver = CarryOver.BURN) -> BudgetBlock:
    """A block with its plan split evenly over the months. A package's plan is its hours a month
    × 12 at its rate unless given."""
    access.require(can_edit(acting, budget), "Бюджет клиента ведут его аккаунт-менеджер, заместитель и администратор.")
    name = (name or "").strip()
    if not name:
        raise ServiceError("Назовите блок.", field="name")
    if any(b.name == name for b in budget.blocks):
        raise ServiceError("Блок с таким названием в бюджете уже есть.", field="name")
    if kind == BlockKind.HOURS:
        if not hours_per_month or hours_per_month <= 0:
            raise ServiceError("Укажите часы в месяц пакета.", field="hours_per_month")
        rate = rate if rate is not None else _default_rate(budget.client_id)
        planned_hours = hours_per_month * 12
        if planned_amount is None:
            planned_amount = (planned_hours * rate).quantize(CENT, ROUND_HALF_UP)
    amount = _check_money(planned_amount, "planned_amount", "План")
    block = BudgetBlock(budget=budget, name=name, kind=kind, planned_amount=amount,
                        planned_hours=(planned_hours or ZERO), hours_per_month=hours_per_month, rate=rate,
                        carry_over=carry_over, position=len(budget.blocks), spent=ZERO, committed=ZERO,
                        spent_hours=ZERO, committed_hours=ZERO)
    block.months = [BudgetMonth(month=m, planned=part, spent=ZERO, spent_hours=ZERO)
                    for m, part in zip(MONTHS, split_evenly(amount), strict=True)]
    db.session.add(block)
    db.session.flush()
    return block


BLOCK_FIELDS = ("name", "planned_amount", "planned_hours", "hours_per_month", "rate", "carry_over")


def update_block(block: BudgetBlock, edit: Edit, *, acting: User) -> list[str]:
    """Save the fields of a block this user changed; a new plan is split evenly over the months again."""
    access.require(can_edit(acting, block.budget), "Бюджет клиента ведут его аккаунт-менеджер, заместитель и администратор.")
    data = saving.changes(block, edit, BLOCK_FIELDS)
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if not data["name"]:
            raise ServiceError("Назовите блок.", field="name")
    if "planned_amount" in data:
        data["planned_amount"] = _check_money(data["planned_amount"], "planned_amount", "План")
    if "planned_hours" in data and data["planned_hours"] is not None and data["planned_hours"] < 0:
        raise ServiceError("Часы не могут быть отрицательными.", field="planned_hours")
    if "planned_hours" in data and data["planned_hours"] is None:
        data["planned_hours"] = ZERO
    changed = saving.write(block, data)
    if "planned_amount" in changed:
        for month, part in zip(block.months, split_evenly(block.planned_amount), strict=True):
            month.planned = part
        db.session.flush()
        refresh_block(block)
    return changed


def move_between_months(block: BudgetBlock, *, source: int, target: int, amount: Decimal, acting: User) -> None:
    """Move money of the plan from one month to another: the year's total stays, the audit records
    both months' change under one action («перенос между месяцами»)."""
    access.require(can_edit(acting, block.budget), "Бюджет клиента ведут его аккаунт-менеджер, заместитель и администратор.")
    if source not in MONTHS or target not in MONTHS or source == target:
        raise ServiceError("Выберите два разных месяца.", field="target")
    amount = Decimal(amount or 0).quantize(CENT)
    months = {m.month: m for m in block.months}
    if amount <= 0:
        raise ServiceError("Сумма переноса: больше нуля.", field="amount")
    if amount > months[source].planned:
        raise ServiceError(f"В плане на {MONTH_NAMES[source - 1]} только {months[source].planned} ₽.",
                           field="amount")
    months[source].planned -= amount
    months[target].planned += amount
    for m in (months[source], months[target]):
        tag_action(m, "move", source=source, target=target, amount=format(amount, "f"))
    db.session.flush()


def set_item_block(item: BacklogItem, edit: Edit, *, acting: User) -> list[str]:
    """Charge an item to a block of its client's budget (or to none); both blocks' figures follow."""
    access.require(access.can_edit_item(acting, item),
                   "Задачу клиента ведут его аккаунт-менеджер, заместитель и администратор.")
    data = saving.changes(item, edit, ("budget_block_id",))
    if data.get("budget_block_id") is not None:
        block = db.session.get(BudgetBlock, data["budget_block_id"])
        if block is None or block.budget.client_id != item.client_id:
            raise ServiceError("Выберите блок бюджета этого клиента.", field="budget_block_id")
    old = item.budget_block_id
    changed = saving.write(item, data)
    if changed:
        db.session.flush()
        item_changed(item, old)
    return changed


def _approve_effect(budget: Budget, acting: User, values: dict[str, Any]) -> None:
    contact = db.session.get(Contact, values.get("contact_id")) if values.get("contact_id") else None
    if contact is None or contact.client_id != budget.client_id or not contact.is_decision_maker:
        raise ServiceError("Выберите ЛПР клиента, который утвердил бюджет.", field="contact_id")
    budget.approved_by_id = contact.id
    budget.approved_on = values.get("approved_on")


def _reopen_effect(budget: Budget, acting: User, values: dict[str, Any]) -> None:
    budget.approved_by_id = None
    budget.approved_on = None


def can_edit(user: User, budget: Budget) -> bool:
    return access.can_edit_budget(user, budget)


workflow.register(Budget, can_change=access.can_edit_budget,
                  denied="Бюджет клиента утверждают его аккаунт-менеджер, заместитель и администратор.",
                  before={BudgetStatus.APPROVED: _approve_effect, BudgetStatus.DRAFT: _reopen_effect})


def next_year(budget: Budget, *, growth_percent: Decimal, acting: User) -> Budget:
    """«Бюджет на следующий год»: a draft for the next year with this year's blocks, each planned at
    the larger of its plan and its forecast, grown by ``growth_percent``."""
    access.require(can_edit(acting, budget), "Бюджет клиента ведут его аккаунт-менеджер, заместитель и администратор.")
    if growth_percent is None or not Decimal(-100) < growth_percent <= Decimal(1000):
        raise ServiceError("Рост: от −100 до 1000 %.", field="growth_percent")
    figures = budget_figures(budget, _today())
    new = create_budget(budget.client, budget.year + 1, acting=acting, growth_percent=growth_percent)
    factor = 1 + Decimal(growth_percent) / 100
    for row in figures.blocks:
        block = row.block
        base = max(block.planned_amount, row.forecast)
        add_block(new, name=block.name, kind=block.kind, acting=acting,
                  planned_amount=(base * factor).quantize(CENT, ROUND_HALF_UP),
                  planned_hours=(max(block.planned_hours, block.spent_hours + block.committed_hours) * factor
                                 ).quantize(HOUR, ROUND_HALF_UP) if block.kind == BlockKind.MONEY else None,
                  hours_per_month=block.hours_per_month, rate=block.rate, carry_over=block.carry_over)
    return new


# --- hour packages ------------------------------------------------------------------------------


@dataclass
class PackageMonth:
    month: int
    included: Decimal
    carried_in: Decimal
    used: Decimal
    over: Decimal
    carried_out: Decimal

    @property
    def burnt(self) -> Decimal:
        return max(ZERO, self.included + self.carried_in - self.used) - self.carried_out


def package_months(rule: CarryOver, included: Decimal, used: list[Decimal], carried_in: Decimal = ZERO,
                   first_month: int = 1) -> list[PackageMonth]:
    """A package month by month: hours included, carried in, used, over the package, carried out.

    Carried hours are used first. ``burn``: what is unused burns. ``next_month``: this month's own
    unused hours move to the next month only (carried hours not used by then burn). ``quarter``: the
    unused hours move on until the quarter ends (March, June, September, December). The last month's
    ``carried_out`` is the next year's January ``carried_in``.
    """
    rows = []
    for offset, hours in enumerate(used):
        month = first_month + offset
        own_left = max(ZERO, included - max(ZERO, hours - carried_in))
        available = included + carried_in
        over = max(ZERO, hours - available)
        unused = max(ZERO, available - hours)
        if rule == CarryOver.NEXT_MONTH:
            out = min(unused, own_left)
        elif rule == CarryOver.QUARTER:
            out = ZERO if month % 3 == 0 else unused
        else:
            out = ZERO
        rows.append(PackageMonth(month, included, carried_in, hours, over, out))
        carried_in = out
    return rows


# --- the page's figures -------------------------------------------------------------------------


@dataclass
class MonthRow:
    month: int
    planned: Decimal
    spent: Decimal
    spent_hours: Decimal
    cum_planned: Decimal = ZERO
    cum_spent: Decimal = ZERO
    cum_forecast: Decimal = ZERO

    @property
    def name(self) -> str:
        return MONTH_NAMES[self.month - 1]


@dataclass
class BlockRow:
    block: BudgetBlock
    spent: Decimal
    committed: Decimal
    spent_hours: Decimal
    committed_hours: Decimal
    forecast: Decimal
    months: list[MonthRow]
    package: list[PackageMonth] = field(default_factory=list)

    @property
    def planned(self) -> Decimal:
        return self.block.planned_amount

    @property
    def remaining(self) -> Decimal:
        return self.planned - self.spent - self.committed

    @property
    def forecast_percent(self) -> int | None:
        return _percent(self.forecast, self.planned)

    @property
    def spent_percent(self) -> int | None:
        return _percent(self.spent, self.planned)

    @property
    def risk(self) -> str:
        percent = self.forecast_percent or 0
        return "danger" if percent > 100 else "warning" if percent >= 80 else ""


@dataclass
class BudgetFigures:
    budget: Budget
    blocks: list[BlockRow]
    months: list[MonthRow]
    elapsed: int
    as_of_month: int | None  # a past month looked at as it stood

    def total(self, name: str) -> Decimal:
        return sum((getattr(row, name) for row in self.blocks), ZERO)

    @property
    def planned(self) -> Decimal:
        return self.total("planned")

    @property
    def spent(self) -> Decimal:
        return self.total("spent")

    @property
    def committed(self) -> Decimal:
        return self.total("committed")

    @property
    def forecast(self) -> Decimal:
        return self.total("forecast")

    @property
    def remaining(self) -> Decimal:
        return self.total("remaining")

    @property
    def forecast_percent(self) -> int | None:
        return _percent(self.forecast, self.planned)

    @property
    def risk_amount(self) -> Decimal:
        return self.forecast - self.planned


def _stored_by_month(block: BudgetBlock) -> dict[int, tuple[Decimal, Decimal]]:
    """The block's work done per month as ``refresh_block`` stored it: {month: (hours, money)}."""
    return {m.month: (m.spent_hours, m.spent) for m in block.months}


def package_carry_in(budgets: list[Budget]) -> dict[int, Decimal]:
    """Hours carried into January from the same-named package of each budget's previous year:
    {block id: hours}. One query for any number of budgets (the overview's page)."""
    packages = [(budget, b) for budget in budgets for b in budget.blocks
                if b.is_package and b.carry_over == CarryOver.NEXT_MONTH]
    if not packages:
        return {}
    keys = {(budget.client_id, budget.year - 1, b.name) for budget, b in packages}
    previous = db.session.scalars(
        sa.select(BudgetBlock).join(Budget)
        .where(Budget.client_id.in_({k[0] for k in keys}), Budget.year.in_({k[1] for k in keys}),
               BudgetBlock.kind == BlockKind.HOURS, BudgetBlock.name.in_({k[2] for k in keys}))
        .options(sa.orm.contains_eager(BudgetBlock.budget), sa.orm.selectinload(BudgetBlock.months))).all()
    carried = {}
    for old in previous:
        by_month = _stored_by_month(old)
        used = [by_month.get(m, (ZERO, ZERO))[0] for m in MONTHS]
        months = package_months(old.carry_over, old.hours_per_month or ZERO, used)
        carried[(old.budget.client_id, old.budget.year, old.name)] = months[-1].carried_out
    return {b.id: carried.get((budget.client_id, budget.year - 1, b.name), ZERO) for budget, b in packages}


def budget_figures(budget: Budget, day: date, as_of_month: int | None = None, *,
                   carry_in: dict[int, Decimal] | None = None) -> BudgetFigures:
    """Every figure of the budget's page: per block and month, money and hours, from the stored
    month rows (no query of the backlog). ``as_of_month``: the budget as it stood at the end of
    that month — spent up to it, the forecast from it, nothing committed (approvals have no history).
    ``carry_in``: ``package_carry_in`` already read for several budgets (the overview)."""
    blocks = budget.blocks
    elapsed = as_of_month if as_of_month is not None else elapsed_months(budget.year, day)
    if carry_in is None:
        carry_in = package_carry_in([budget])
    rows = []
    for block in blocks:
        by_month = _stored_by_month(block)
        if as_of_month is not None:
            by_month = {m: v for m, v in by_month.items() if m <= as_of_month}
        plans = {m.month: m.planned for m in block.months}
        months = [MonthRow(m, plans.get(m, ZERO), by_month.get(m, (ZERO, ZERO))[1], by_month.get(m, (ZERO, ZERO))[0])
                  for m in MONTHS]
        block_spent = sum((r.spent for r in months), ZERO)
        spent_hours = sum((r.spent_hours for r in months), ZERO)
        committed, committed_hours = ((block.committed, block.committed_hours) if as_of_month is None
                                      else (ZERO, ZERO))
        before = sum((r.spent for r in months if r.month <= elapsed), ZERO)
        row = BlockRow(block, block_spent, committed, spent_hours, committed_hours,
                       forecast(block_spent, committed, before, elapsed), months)
        _cumulate(row.months, row.forecast, elapsed)
        if block.is_package:
            row.package = package_months(block.carry_over, block.hours_per_month or ZERO,
                                         [r.spent_hours for r in months], carry_in.get(block.id, ZERO))
        rows.append(row)
    totals = [MonthRow(m, sum((r.months[m - 1].planned for r in rows), ZERO),
                       sum((r.months[m - 1].spent for r in rows), ZERO),
                       sum((r.months[m - 1].spent_hours for r in rows), ZERO)) for m in MONTHS]
    _cumulate(totals, sum((r.forecast for r in rows), ZERO), elapsed)
    return BudgetFigures(budget, rows, totals, elapsed, as_of_month)


def _cumulate(months: list[MonthRow], total_forecast: Decimal, elapsed: int) -> None:
    """Cumulative plan and spent; the forecast follows spent through the months past, then rises
    evenly to the year's forecast."""
    plan = spent = ZERO
    for row in months:
        plan += row.planned
        spent += row.spent
        row.cum_planned, row.cum_spent = plan, spent
    spent_past = months[elapsed - 1].cum_spent if elapsed else ZERO
    left = 12 - elapsed
    for row in months:
        if row.month <= elapsed:
            row.cum_forecast = row.cum_spent
        else:
            share = Decimal(row.month - elapsed) / left
            row.cum_forecast = (spent_past + (total_forecast - spent_past) * share).quantize(CENT, ROUND_HALF_UP)


def _ranking(year: int, elapsed: int, as_of_month: int | None) -> tuple[int, ...]:
    """Every budget of ``year``, the riskiest first: by forecast over plan (``FORECAST_METHOD``),
    from the blocks' stored figures and the month rows, each summed once per budget of the year in a
    grouped subquery (as correlated subqueries per budget, PostgreSQL took 100 ms over 2,000
    budgets)."""
    of_year = sa.select(Budget.id).where(Budget.year == year)
    blocks = (sa.select(BudgetBlock.budget_id, sa.func.sum(BudgetBlock.planned_amount).label("planned"),
                        sa.func.sum(BudgetBlock.spent + BudgetBlock.committed).label("current"))
              .where(BudgetBlock.budget_id.in_(of_year)).group_by(BudgetBlock.budget_id).subquery())
    months = (sa.select(BudgetBlock.budget_id, sa.func.sum(BudgetMonth.spent).label("past"))
              .join(BudgetMonth, BudgetMonth.block_id == BudgetBlock.id)
              .where(BudgetBlock.budget_id.in_(of_year), BudgetMonth.month <= elapsed)
              .group_by(BudgetBlock.budget_id).subquery())
    past = sa.func.coalesce(months.c.past, 0)  # spent in the months gone by (up to the month looked at)
    projected = sa.func.coalesce(blocks.c.current, 0) if as_of_month is None else past
    if 0 < elapsed < 12:
        projected = projected + past * sa.literal(Decimal(12 - elapsed) / elapsed, sa.Numeric(14, 6))
    risk = projected - sa.func.coalesce(blocks.c.planned, 0)
    return tuple(db.session.scalars(
        sa.select(Budget.id).join(Client, Client.id == Budget.client_id).where(Budget.year == year)
        .outerjoin(blocks, blocks.c.budget_id == Budget.id).outerjoin(months, months.c.budget_id == Budget.id)
        .order_by(risk.desc(), Client.short_name, Budget.id)))


# The ranking sums every month row of the year (48,000 at 2,000 budgets: 16 ms on SQLite), and
# what it is made of changes only when a block's money or a month's spending does: each worker
# keeps the rankings it has made until then (per year and month looked at; a new month is a new key).
_RANKINGS = cache.Cached("budget_ranking", dict)
cache.watch(Budget, "budget_ranking", fields=("year", "client_id"))
cache.watch(BudgetBlock, "budget_ranking", fields=("budget_id", "planned_amount", "spent", "committed"))
cache.watch(BudgetMonth, "budget_ranking", fields=("block_id", "month", "spent"))
cache.watch(Client, "budget_ranking", fields=("short_name",))


def ranked_budget_ids(user: User, year: int, day: date, as_of_month: int | None = None) -> tuple[int, ...]:
    """The ids of the budgets of ``year`` the user sees, the riskiest first (``_ranking``)."""
    if not access.can_see_budgets(user):  # budgets are read by all or by none (``visible_budgets``)
        return ()
    elapsed = as_of_month if as_of_month is not None else elapsed_months(year, day)
    rankings, key = _RANKINGS.get(), (year, elapsed, as_of_month is None)
    if key not in rankings:
        rankings[key] = _ranking(year, elapsed, as_of_month)
    return rankings[key]


def overview_budgets(user: User, ids) -> sa.Select:
    """The budgets ``ids`` with their clients and blocks, for a page of the overview."""
    return (access.visible_budgets(user).where(Budget.id.in_(ids))
            .options(sa.orm.selectinload(Budget.blocks)))


def overview(budgets: list[Budget], day: date, as_of_month: int | None = None) -> list[BudgetFigures]:
    """The totals of each block of a page of ``ranked_budget_ids`` — what ``budget_figures`` gives,
    without the months (the overview draws none): one grouped query over the page's month rows
    instead of loading 1,200 of them."""
    if not budgets:
        return []
    elapsed = as_of_month if as_of_month is not None else elapsed_months(budgets[0].year, day)
    through = as_of_month or 12

    def summed(column, last: int):  # read as the column's NUMERIC: SQLite sums in floating point
        return sa.type_coerce(sa.func.coalesce(sa.func.sum(sa.case((BudgetMonth.month <= last, column), else_=0)), 0),
                              column.type)

    sums = {block_id: (spent, hours, before) for block_id, spent, hours, before in
            db.session.execute(sa.select(BudgetMonth.block_id, summed(BudgetMonth.spent, through),
                                         summed(BudgetMonth.spent_hours, through), summed(BudgetMonth.spent, elapsed))
                               .where(BudgetMonth.block_id.in_([b.id for budget in budgets for b in budget.blocks]))
                               .group_by(BudgetMonth.block_id))}
    figures = []
    for budget in budgets:
        rows = []
        for block in budget.blocks:
            spent, hours, before = sums.get(block.id, (ZERO, ZERO, ZERO))
            committed, committed_hours = ((block.committed, block.committed_hours) if as_of_month is None
                                          else (ZERO, ZERO))
            rows.append(BlockRow(block, spent, committed, hours, committed_hours,
                                 forecast(spent, committed, before, elapsed), months=[]))
        figures.append(BudgetFigures(budget, rows, [], elapsed, as_of_month))
    return figures


# --- «Мой день» and the agenda ------------------------------------------------------------------


def _alerts_query(user: User, client: Client | None = None) -> sa.Select:
    """Alerts not cleared, of the client's budgets, or of those the user leads (all for an admin),
    the newest first."""
    query = (sa.select(BudgetAlert).join(BudgetBlock, BudgetAlert.block_id == BudgetBlock.id)
             .join(Budget, BudgetBlock.budget_id == Budget.id)
             .where(BudgetAlert.cleared_at.is_(None),
                    Budget.id.in_(access.visible_budgets(user).with_only_columns(Budget.id)))
             .order_by(BudgetAlert.raised_at.desc(), BudgetAlert.id.desc()))
    if client is not None:
        return query.where(Budget.client_id == client.id)
    if not access.is_admin(user):
        query = query.where(Budget.client_id.in_(access.team_client_ids(user)))
    return query


def open_alerts(user: User, *, client: Client | None = None, limit: int | None = 20) -> list[BudgetAlert]:
    return list(db.session.scalars(_alerts_query(user, client).limit(limit)))


dashboard.register(dashboard.Section(
    "budget-alerts", "Бюджеты: предупреждения", 40,
    applies=lambda user: access.leads_clients(user) or access.is_admin(user),
    load=lambda user, day, limit: open_alerts(user, limit=limit),
    counted=lambda user, day: _alerts_query(user), macro="budgets.alert_list",
    empty="Ни один блок бюджета не подошёл к порогу."))


def _agenda_alerts(client: Client, since, day: date) -> list[agenda.Proposal]:
    alerts = db.session.scalars(
        sa.select(BudgetAlert).join(BudgetBlock, BudgetAlert.block_id == BudgetBlock.id)
        .join(Budget, BudgetBlock.budget_id == Budget.id)
        .where(BudgetAlert.cleared_at.is_(None), Budget.client_id == client.id)
        .order_by(BudgetAlert.raised_at)).all()
    return [agenda.Proposal(f"budget-alert:{a.id}", a.text) for a in alerts]


agenda.register(agenda.AgendaSection("budget-alerts", "Бюджет", 50, _agenda_alerts))


# --- the chart and the workbook -----------------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT, CHART_LEFT, CHART_BOTTOM, CHART_TOP = 640, 260, 90, 30, 10


@dataclass
class Chart:
    """Plan, spent and forecast, cumulative by month, as SVG coordinates (drawn by ``budgets.chart``)."""

    plan: str
    spent: str
    forecast: str
    ticks: list[tuple[float, Decimal]]
    labels: list[tuple[float, str]]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = CHART_LEFT
    bottom: float = CHART_HEIGHT - CHART_BOTTOM


def chart(figures: BudgetFigures) -> Chart:
    months = figures.months
    top = max([m.cum_planned for m in months] + [m.cum_forecast for m in months] + [m.cum_spent for m in months]
              + [Decimal(1)])
    step = (CHART_WIDTH - CHART_LEFT - 10) / 12
    span = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP

    def x(month: int) -> float:
        return round(CHART_LEFT + (month - 0.5) * step, 1)

    def y(value: Decimal) -> float:
        return round(CHART_HEIGHT - CHART_BOTTOM - float(value / top) * span, 1)

    def line(values: list[tuple[int, Decimal]]) -> str:
        return " ".join(f"{x(m)},{y(v)}" for m, v in values)

    shown = figures.elapsed if figures.as_of_month is not None or figures.elapsed < 12 else 12
    return Chart(plan=line([(m.month, m.cum_planned) for m in months]),
                 spent=line([(m.month, m.cum_spent) for m in months if m.month <= max(shown, 1)]),
                 forecast=line([(m.month, m.cum_forecast) for m in months if m.month >= max(shown, 1)]),
                 ticks=[(y(top * k / 4), (top * k / 4).quantize(CENT)) for k in range(5)],
                 labels=[(x(m.month), m.name[:3]) for m in months])


@dataclass
class Sheet:
    """The budget as plain data for ``documents.budget``."""

    title: str
    client: str
    year: int
    status: str
    method: str
    blocks: list[dict[str, Any]]
    months: list[str]


def sheet_data(figures: BudgetFigures) -> Sheet:
    budget = figures.budget
    return Sheet(title=f"Бюджет {budget.year}: {budget.client.short_name}", client=budget.client.legal_name
                 or budget.client.short_name, year=budget.year, status=budget.status.label, method=FORECAST_METHOD,
                 months=[name.capitalize() for name in MONTH_NAMES],
                 blocks=[{"name": row.block.name, "planned": row.planned, "spent": row.spent,
                          "committed": row.committed, "forecast": row.forecast,
                          "month_plan": [m.planned for m in row.months], "month_spent": [m.spent for m in row.months]}
                         for row in figures.blocks])


def appendix_data(budget: Budget):
    """The budget as plain data for the DOCX appendix: both parties from ``documents.parties``."""
    from webapp.documents.budget import BudgetDoc
    from webapp.documents.parties import both_parties
    from webapp.models import CompanyProfile

    client = budget.client
    contractor, customer = both_parties(client)
    return BudgetDoc(year=budget.year, contractor=contractor, client=customer,
                     blocks=[(b.name, b.planned_hours, b.planned_amount) for b in budget.blocks],
                     vat_mode=CompanyProfile.cached().vat_mode, contract_number=client.contract_number or "",
                     contract_date=client.contract_date, drawn_on=budget.approved_on)
