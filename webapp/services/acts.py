"""Acts of completed work and their payments: the draft built from done billable items, issue with
a gapless yearly number, signing, cancelling, payments, reminders.

Rules live here: who may do what (``access``), which items an act may bill (done, billable, in no
other act that still stands), that an issued act never changes (only a draft's lines are edited),
how the number is given (``_next_seq``: a counter row per year, created if missing without a race —
``INSERT … ON CONFLICT DO NOTHING`` — and incremented under its row lock, so concurrent issues take
turns and a rolled-back issue leaves no gap; the unique index (year, seq) is the backstop), the due
date from the regulation's payment terms in working days, and that a payment never exceeds what is
owed. Totals and the paid amount are stored on the act, recomputed under its lock.
"""

import csv
import dataclasses
import functools
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import lazyload

from webapp import saving
from webapp.extensions import db
from webapp.formatting import from_local, long_date, money, number, today
from webapp.models import (Act, ActCounter, ActLine, ActStatus, AuditEvent, BacklogItem, Billing, Channel, Client,
                           CompanyProfile, ItemStatus, PaidState, Payment, SignedHow, User)
from webapp.models.acts import BILLED, DUE_SOON_DAYS, balance, paid_state
from webapp.models.audit import tag_action
from webapp.models.clients import named_client
from webapp.models.types import utcnow
from webapp.saving import Edit
from webapp.services import NotFound, ServiceError, access, agenda, as_id, dashboard, derived, terms, timeline, workflow
from webapp.services.clients import search_key
from webapp.workcalendar import add_working_days

CENT = Decimal("0.01")
MAX_LINES = 500
MAX_AMOUNT = Decimal("999999999999.99")
LINE_FIELDS = ("name", "quantity", "unit", "price")
NUMBER_FIELDS = ("year", "seq")
_NUMBER_FIELD = re.compile(r"\{(\w+)(:[0-9<>^=+ #,._-]*d?)?\}")

saving.unique_rule("uq_acts_year_seq", "Этот номер акта уже занят: выставьте акт ещё раз.")


# --- numbers -----------------------------------------------------------------------------------------


def act_number(number_format: str, *, year: int, seq: int) -> str:
    """The printed number by the company's format: «{year}-{seq:04d}» → «2026-0007»."""
    return number_format.format(year=year, seq=seq)


def check_act_number_format(number_format: str) -> str | None:
    """A Russian message when the format is unusable, else None."""
    if "{seq" not in number_format:
        return "Формат должен содержать {seq} — порядковый номер акта в году."
    for match in _NUMBER_FIELD.finditer(number_format):
        if match[1] not in NUMBER_FIELDS:
            return f"Неизвестное поле {{{match[1]}}}: можно {{seq}} и {{year}}."
    rest = _NUMBER_FIELD.sub("", number_format)
    if "{" in rest or "}" in rest:
        return "Фигурные скобки — только вокруг полей: {seq}, {year}."
    try:
        act_number(number_format, year=2026, seq=7)
    except (ValueError, IndexError, KeyError):
        return "Формат не разобрать: проверьте поля в фигурных скобках."
    return None


def _next_seq(year: int) -> int:
    """The year's next number: the counter row (made if missing, without a race) incremented under its
    row lock; never below the company's starting number (an installation continuing 1C's numbering)."""
    start = max(1, CompanyProfile.cached().act_number_start or 1)
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ActCounter)
    db.session.execute(insert.values(year=year, last_seq=0).on_conflict_do_nothing(index_elements=["year"]))
    following = ActCounter.last_seq + 1
    db.session.execute(sa.update(ActCounter).where(ActCounter.year == year)
                       .values(last_seq=sa.case((following < start, start), else_=following)))
    return db.session.scalar(sa.select(ActCounter.last_seq).where(ActCounter.year == year))


# --- reading -------------------------------------------------------------------------------------------


def get_act(user: User, act_id: int) -> Act:
    return access.get_act(user, act_id)


@dataclass
class ActFilters:
    client: str = ""     # a client id (a link from the client's card)
    q: str = ""          # words of a client's name or its ИНН, as typed in the list's filter
    status: str = ""     # an ActStatus value, or "" (every act but drafts and cancelled ones: "billed")
    paid: str = ""       # a PaidState value
    since: str = ""      # ISO date: acts dated on or after
    until: str = ""      # ISO date: acts dated on or before

    def args(self, *without: str) -> dict[str, str]:
        """The filters set, for the links of the page (``without`` some of them)."""
        return {k: v for k, v in self.__dict__.items() if v and k not in without}


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _filtered(query: sa.Select, filters: ActFilters, day: date) -> sa.Select:
    if (client_id := as_id(filters.client)) is not None:
        query = query.where(Act.client_id == client_id)
    if key := search_key(filters.q):
        query = query.where(Act.client_id.in_(sa.select(Client.id).where(Client.search_text.contains(key, autoescape=True))))
    if filters.status in ActStatus.__members__.values():
        query = query.where(Act.status == ActStatus(filters.status))
    elif filters.status != "all":
        query = query.where(Act.status != ActStatus.CANCELLED)
    if since := _date(filters.since):
        query = query.where(sa.func.coalesce(Act.act_date, Act.period_to) >= since)
    if until := _date(filters.until):
        query = query.where(sa.func.coalesce(Act.act_date, Act.period_to) <= until)
    billed = Act.status.in_(BILLED)
    if filters.paid == PaidState.PAID:
        query = query.where(billed, Act.paid_amount >= Act.total_amount)
    elif filters.paid == PaidState.OVERDUE:
        query = query.where(billed, Act.paid_amount < Act.total_amount, Act.due_on < day)
    elif filters.paid == PaidState.PARTLY:
        query = query.where(billed, Act.paid_amount > 0, Act.paid_amount < Act.total_amount,
                            sa.or_(Act.due_on.is_(None), Act.due_on >= day))
    elif filters.paid == PaidState.UNPAID:
        query = query.where(billed, Act.paid_amount == 0, sa.or_(Act.due_on.is_(None), Act.due_on >= day))
    return query


# What a row of the acts list shows: not the frozen parties and hours detail (JSON decoded for every
# row), nor the client's requisites (the export reads its columns alone: ``_EXPORT_COLUMNS``).
_LIST_ROW = (sa.orm.load_only(Act.id, Act.client_id, Act.status, Act.number, Act.act_date, Act.period_from,
                              Act.period_to, Act.net_amount, Act.vat_amount, Act.total_amount, Act.paid_amount,
                              Act.due_on, Act.version),
             *named_client(Act.client, Client.short_name))


_NEWEST_FIRST = (Act.act_date.desc().nulls_first(), Act.id.desc())  # the list's and the export's order


def acts_query(user: User, filters: ActFilters, day: date) -> sa.Select:
    """The accountant's list: scoped, filtered, the newest first (drafts, which have no date yet, on
    top); a row names its client (``named_client``)."""
    return _filtered(access.visible_acts(user), filters, day).options(*_LIST_ROW).order_by(*_NEWEST_FIRST)


@dataclass
class Totals:
    count: int       # billed acts (issued or signed)
    total: Decimal
    paid: Decimal
    listed: int = 0  # every act the filters keep, drafts and cancelled ones too: the list's own count

    @property
    def owed(self) -> Decimal:
        return self.total - self.paid


def totals(user: User, filters: ActFilters, day: date) -> Totals:
    """The filtered acts' sums (billed ones only: a draft or a cancelled act owes nothing) and how
    many acts the list holds, in one scan: the list's pages take that count instead of scanning the
    same acts again (4 ms of 18 on the overdue acts)."""
    billed = Act.status.in_(BILLED)
    row = db.session.execute(_filtered(access.visible_acts(user), filters, day).with_only_columns(
        sa.func.count(sa.case((billed, 1))),
        sa.func.coalesce(sa.func.sum(sa.case((billed, Act.total_amount))), 0),
        sa.func.coalesce(sa.func.sum(sa.case((billed, Act.paid_amount))), 0),
        sa.func.count())).one()
    return Totals(row[0], Decimal(row[1]), Decimal(row[2]), row[3])


def client_acts(user: User, client: Client) -> list[Act]:
    return list(db.session.scalars(access.visible_acts(user).where(Act.client_id == client.id)
                                   .order_by(Act.act_date.desc().nulls_first(), Act.id.desc())))


@dataclass
class Balance:
    billed: Decimal
    paid: Decimal
    overdue: Decimal

    @property
    def owed(self) -> Decimal:
        return self.billed - self.paid


def client_balance(client: Client, day: date) -> Balance:
    """What the client was billed, paid, and owes past due (one query)."""
    unpaid = Act.total_amount - Act.paid_amount
    row = db.session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(Act.total_amount), 0), sa.func.coalesce(sa.func.sum(Act.paid_amount), 0),
        sa.func.coalesce(sa.func.sum(sa.case((Act.due_on < day, unpaid), else_=0)), 0))
        .where(Act.client_id == client.id, Act.status.in_(BILLED))).one()
    return Balance(Decimal(row[0]), Decimal(row[1]), Decimal(row[2]))


def history(act: Act, limit: int = 50) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == Act.__tablename__, AuditEvent.entity_id == act.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)))


# --- the draft -------------------------------------------------------------------------------------------


def _rate(client: Client) -> Decimal:
    return client.hourly_rate if client.hourly_rate is not None else CompanyProfile.cached().default_hourly_rate


def _billed_items(client: Client) -> sa.Select:
    """The client's items already on an act that stands (a cancelled act frees its items). Read
    through the client's acts: all acts' lines were 18,000 rows to skip 29 items, 13 ms a visit
    to the client's acts on the benchmark data."""
    return (sa.select(ActLine.item_id).join(Act, ActLine.act_id == Act.id)
            .where(Act.client_id == client.id, ActLine.item_id.is_not(None), Act.status != ActStatus.CANCELLED))


# What an offered item's checkbox and its act line read (``line_for``): not its request and spec, and
# not its client joined again per row (it is the client at hand, found in the session by its key).
_CANDIDATE = (sa.orm.load_only(BacklogItem.id, BacklogItem.client_id, BacklogItem.number, BacklogItem.title,
                               BacklogItem.spent_hours, BacklogItem.estimate_cost, BacklogItem.status_changed_at),
              lazyload(BacklogItem.client), lazyload(BacklogItem.requester), lazyload(BacklogItem.assignee))


def candidates(client: Client, period_to: date) -> list[BacklogItem]:
    """The client's done billable items not yet on an act, finished by the period's end."""
    until = from_local(datetime.combine(period_to + timedelta(days=1), time()))
    return list(db.session.scalars(
        sa.select(BacklogItem).where(BacklogItem.client_id == client.id, BacklogItem.billing == Billing.BILLABLE,
                                     BacklogItem.status.in_((ItemStatus.DONE, ItemStatus.ACCEPTED)),
                                     BacklogItem.status_changed_at < until, BacklogItem.id.not_in(_billed_items(client)))
        .options(*_CANDIDATE).order_by(BacklogItem.status_changed_at, BacklogItem.id)))


def line_for(item: BacklogItem, rate: Decimal) -> dict[str, Any]:
    """An item as an act line: its spent hours at the rate; work with no time logged, at its estimate
    as a fixed price."""
    name = f"{item.key} {item.title}"
    if item.spent_hours and item.spent_hours > 0:
        return {"name": name, "quantity": item.spent_hours, "unit": "ч", "price": rate}
    if item.estimate_cost is not None:
        return {"name": name, "quantity": Decimal("1"), "unit": "усл.", "price": item.estimate_cost}
    return {"name": name, "quantity": Decimal("0"), "unit": "ч", "price": rate}


def package_lines(client: Client, period_from: date, period_to: date, client_rate: Decimal) -> list[dict[str, Any]]:
    """«Абонентское обслуживание»: each hour package of the client's budgets, for every month that
    starts within the period, as its monthly fee (the hours included × the package's rate) and, where
    the month's billable work went over what the package and its carried hours cover, the hours over
    at the package's rate (or the client's). A month already billed on an act that stands is skipped."""
    from webapp.models import Budget
    from webapp.services import budgets

    billed = set(db.session.scalars(
        sa.select(ActLine.name).join(Act, ActLine.act_id == Act.id)
        .where(Act.client_id == client.id, Act.status != ActStatus.CANCELLED, ActLine.item_id.is_(None))))
    lines: list[dict[str, Any]] = []
    for budget in db.session.scalars(sa.select(Budget).where(
            Budget.client_id == client.id, Budget.year.between(period_from.year, period_to.year)).order_by(Budget.year)):
        for row in budgets.budget_figures(budget, period_to).blocks:
            if row.package is None:
                continue
            rate = row.block.rate if row.block.rate is not None else client_rate
            for month in row.package:
                if not period_from <= date(budget.year, month.month, 1) <= period_to:
                    continue
                when = f"{budgets.MONTH_NAMES[month.month - 1]} {budget.year}"
                fee = f"Абонентское обслуживание «{row.block.name}», {when} ({number(month.included)} ч)"
                if fee in billed:
                    continue
                lines.append({"name": fee, "quantity": Decimal("1"), "unit": "мес.", "price": month.included * rate})
                if month.over > 0:
                    lines.append({"name": f"Часы сверх пакета «{row.block.name}», {when}", "quantity": month.over,
                                  "unit": "ч", "price": rate})
    return lines


def _amount(quantity: Decimal, price: Decimal) -> Decimal:
    return (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP)


def _check_period(period_from: date | None, period_to: date | None) -> None:
    if period_from is None or period_to is None:
        raise ServiceError("Укажите период: с какого и по какое число.", field="period_from")
    if period_from > period_to:
        raise ServiceError("Начало периода позже его конца.", field="period_to")


def create_draft(client: Client, *, period_from: date, period_to: date, item_ids: list[int] | None,
                 acting: User) -> Act:
    """A draft act for the period: the chosen done billable items (all of them when ``item_ids`` is
    None) as its lines. A draft has no number."""
    access.require(access.can_draft_act(acting, client),
                   "Акты клиента готовят бухгалтерия, администратор и команда клиента.")
    _check_period(period_from, period_to)
    offered = candidates(client, period_to)
    chosen = offered if item_ids is None else [i for i in offered if i.id in set(item_ids)]
    act = Act(client=client, status=ActStatus.DRAFT, period_from=period_from, period_to=period_to,
              created_by_id=acting.id, created_at=utcnow(), signed_by="", cancel_reason="", comment="")
    rate = _rate(client)
    for position, item in enumerate(chosen):
        data = line_for(item, rate)
        act.lines.append(ActLine(item_id=item.id, position=position, amount=_amount(data["quantity"], data["price"]),
                                 **data))
    for position, data in enumerate(package_lines(client, period_from, period_to, rate), start=len(act.lines)):
        act.lines.append(ActLine(position=position, amount=_amount(data["quantity"], data["price"]), **data))
    db.session.add(act)
    db.session.flush()
    _refresh_totals(act)
    return act


def _require_draft(act: Act) -> None:
    if act.status != ActStatus.DRAFT:
        raise ServiceError(f"Акт {act.status.label.lower()}: его содержание не меняется. Чтобы исправить, "
                           "аннулируйте его и выставьте новый.")


def _require_edit(act: Act, acting: User) -> None:
    access.require(access.can_edit_act(acting, act),
                   "Акты клиента готовят бухгалтерия, администратор и команда клиента.")
    _require_draft(act)


def _refresh_totals(act: Act) -> None:
    """The act's net, VAT and total from its lines (a draft by today's company VAT; an issued act by its
    frozen mode and rate). The caller holds the act's lock or made it."""
    from webapp.documents.money import vat

    base = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(ActLine.amount), 0))
                             .where(ActLine.act_id == act.id))
    company = CompanyProfile.cached()
    mode = act.vat_mode or company.vat_mode
    rate = act.vat_rate if act.vat_rate is not None else company.vat_rate
    split = vat(Decimal(base), mode, rate)
    act.net_amount, act.vat_amount, act.total_amount = split.net, split.vat, split.total
    db.session.flush()


def _check_line(data: dict[str, Any]) -> None:
    if "name" in data and not (data["name"] or "").strip():
        raise ServiceError("Назовите работу.", field="name")
    if "quantity" in data and (data["quantity"] is None or data["quantity"] < 0 or data["quantity"] >= 10**9):
        raise ServiceError("Количество: не меньше нуля.", field="quantity")
    if "price" in data and (data["price"] is None or data["price"] < 0 or data["price"] > MAX_AMOUNT):
        raise ServiceError("Цена: не меньше нуля.", field="price")
    if "unit" in data and not (data["unit"] or "").strip():
        raise ServiceError("Укажите единицу: ч, усл., шт.", field="unit")


def add_line(act: Act, data: dict[str, Any], *, acting: User) -> ActLine:
    _require_edit(act, acting)
    derived.lock_owner(act)
    _require_draft(act)
    data = {"unit": "ч", "quantity": Decimal("1"), "price": Decimal("0"),
            **{k: v for k, v in data.items() if k in LINE_FIELDS and v is not None}}
    _check_line({"name": data.get("name"), **data})
    count = db.session.scalar(sa.select(sa.func.count()).where(ActLine.act_id == act.id))
    if count >= MAX_LINES:
        raise ServiceError(f"В акте не больше {MAX_LINES} строк.")
    position = (db.session.scalar(sa.select(sa.func.max(ActLine.position)).where(ActLine.act_id == act.id)) or 0) + 1
    line = ActLine(act=act, position=position, name=data["name"].strip(), quantity=data["quantity"],
                   unit=data["unit"].strip(), price=data["price"], amount=_amount(data["quantity"], data["price"]))
    db.session.add(line)
    db.session.flush()
    _refresh_totals(act)
    return line


def get_line(act: Act, line_id: int) -> ActLine:
    line = db.session.scalar(sa.select(ActLine).where(ActLine.id == line_id, ActLine.act_id == act.id))
    if line is None:
        raise NotFound("Строка акта не найдена.")
    return line


def update_line(line: ActLine, edit: Edit, *, acting: User) -> list[str]:
    """Save the fields of a draft's line this user changed; its sum follows quantity × price."""
    act = line.act
    _require_edit(act, acting)
    data = saving.changes(line, edit, LINE_FIELDS)
    _check_line(data)
    if "name" in data:
        data["name"] = data["name"].strip()
    if "unit" in data:
        data["unit"] = data["unit"].strip()
    derived.lock_owner(act)
    _require_draft(act)
    changed = saving.write(line, data)
    if {"quantity", "price"} & set(changed):
        line.amount = _amount(line.quantity, line.price)
        db.session.flush()
        _refresh_totals(act)
    return changed


def delete_line(line: ActLine, version: Any, *, acting: User) -> None:
    act = line.act
    _require_edit(act, acting)
    saving.check_delete(line, version)
    derived.lock_owner(act)
    _require_draft(act)
    db.session.delete(line)
    db.session.flush()
    _refresh_totals(act)


def update_draft(act: Act, edit: Edit, *, acting: User) -> list[str]:
    """The draft's period and comment."""
    _require_edit(act, acting)
    data = saving.changes(act, edit, ("period_from", "period_to", "comment"))
    _check_period(data.get("period_from", act.period_from), data.get("period_to", act.period_to))
    return saving.write(act, data)


def delete_draft(act: Act, version: Any, *, acting: User) -> None:
    """A draft goes without a trace in the numbering (it never had a number)."""
    _require_edit(act, acting)
    saving.check_delete(act, version)
    db.session.delete(act)
    db.session.flush()


# --- the moves: issue, sign, cancel -------------------------------------------------------------------------


def _party_json(party) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in dataclasses.asdict(party).items()}


def party_from_json(data: dict[str, Any]):
    """A frozen party back as the ``documents.parties.Party`` it was."""
    from webapp.documents.parties import Party
    from webapp.models.company import SignatoryAuthority

    known = {f.name for f in dataclasses.fields(Party)}
    values = {k: v for k, v in data.items() if k in known}
    for key in ("registered_on", "attorney_date"):
        if values.get(key):
            values[key] = date.fromisoformat(values[key])
    if values.get("authority"):
        values["authority"] = SignatoryAuthority(values["authority"])
    return Party(**values)


def freeze_parties(client: Client) -> dict[str, Any]:
    from webapp.documents.parties import both_parties

    contractor, customer = both_parties(client)
    return {"contractor": _party_json(contractor), "client": _party_json(customer),
            "contract": {"number": client.contract_number or "",
                         "date": client.contract_date.isoformat() if client.contract_date else None}}


def _issue(act: Act, acting: User, values: dict[str, Any]) -> None:
    """Before «выставлен»: under the act's lock, the year's next number, the date, and everything the
    document prints frozen — lines stay as they are, parties, contract, VAT, totals, due dates."""
    access.require(access.can_move_act(acting, act), "Акты выставляет бухгалтерия.")
    derived.lock_owner(act)
    if act.status != ActStatus.DRAFT:
        raise workflow.StatusConflict(act, f"Акт уже {act.status.label.lower()}.")
    if reason := _issue_refusal(act):
        raise ServiceError(reason)
    company = CompanyProfile.cached()
    day = today()
    act.act_date = day
    act.year = day.year
    act.seq = _next_seq(day.year)
    act.number = act_number(company.act_number_format, year=act.year, seq=act.seq)
    act.vat_mode, act.vat_rate = company.vat_mode, company.vat_rate
    act.parties = freeze_parties(act.client)
    act.hours_detail = hours_detail(act)
    act.issued_at, act.issued_by_id = utcnow(), acting.id
    in_force = terms.effective_terms(act.client)
    act.accept_by = add_working_days(day, in_force.acceptance_days)
    act.due_on = add_working_days(day, in_force.payment_days)
    _refresh_totals(act)


def hours_detail(act: Act, lines=None) -> list[dict[str, Any]]:
    """The billable time behind the act's lines (``lines``: the act's, or rows with their ``item_id`` and
    ``name``), for the client's accountant to check: per item, each day's hours with who spent them and what
    was done (one query)."""
    from webapp.models import TimeEntry

    keys = {line.item_id: line.name for line in (act.lines if lines is None else lines) if line.item_id}
    if not keys:
        return []
    rows = db.session.execute(
        sa.select(TimeEntry.item_id, TimeEntry.spent_on, User.full_name, TimeEntry.hours, TimeEntry.comment)
        .outerjoin(User, TimeEntry.user_id == User.id)
        .where(TimeEntry.item_id.in_(list(keys)), TimeEntry.billable.is_(True))
        .order_by(TimeEntry.item_id, TimeEntry.spent_on, TimeEntry.id)).all()
    return [{"item": keys[item_id], "date": spent_on.isoformat(), "who": who or "", "hours": format(hours, "f"),
             "comment": comment or ""} for item_id, spent_on, who, hours, comment in rows]


def _issue_refusal(act: Act) -> str | None:
    if not act.lines:
        return "В акте нет строк: добавьте работы."
    if any(line.amount < 0 for line in act.lines):
        return "Сумма строки не может быть отрицательной."
    if act.total_amount is None or act.total_amount <= 0:
        return "Сумма акта должна быть больше нуля."
    return None


def _sign(act: Act, acting: User, values: dict[str, Any]) -> None:
    """Before «подписан»: when, by whom, how; the payment is due the regulation's days after signing."""
    signed_on = values.get("signed_on")
    if signed_on is None:
        raise ServiceError("Укажите дату подписания.", field="signed_on")
    if act.act_date and signed_on < act.act_date:
        raise ServiceError("Акт не может быть подписан раньше своей даты.", field="signed_on")
    if signed_on > today():
        raise ServiceError("Дата подписания не может быть в будущем.", field="signed_on")
    who = (values.get("signed_by") or "").strip()
    if not who:
        raise ServiceError("Укажите, кто подписал акт со стороны клиента.", field="signed_by")
    try:
        how = SignedHow(values.get("signed_how") or "")
    except ValueError:
        raise ServiceError("Укажите, как получен подписанный акт.", field="signed_how") from None
    act.signed_on, act.signed_by, act.signed_how = signed_on, who[:200], how
    act.due_on = add_working_days(signed_on, terms.effective_terms(act.client).payment_days)


def _accept_items(act: Act, acting: User, values: dict[str, Any]) -> None:
    """After «подписан»: the act's done items are accepted by the client."""
    item_ids = [line.item_id for line in act.lines if line.item_id]
    if not item_ids:
        return
    for item in db.session.scalars(sa.select(BacklogItem).where(BacklogItem.id.in_(item_ids),
                                                                BacklogItem.status == ItemStatus.DONE)):
        item.status = ItemStatus.ACCEPTED
        item.status_changed_at = utcnow()
        tag_action(item, "accept", act=act.number)
    db.session.flush()


def _cancel(act: Act, acting: User, values: dict[str, Any]) -> None:
    reason = (values.get("cancel_reason") or "").strip()
    if not reason:
        raise ServiceError("Укажите причину аннулирования.", field="cancel_reason")
    derived.lock_owner(act)
    if act.paid_amount:
        raise ServiceError("По акту есть оплаты: аннулировать его нельзя.")
    act.cancel_reason = reason[:500]


def _budgets_follow(act: Act, acting: User, values: dict[str, Any]) -> None:
    """Issued, an act's lines become the spent money of its items' budget blocks; cancelled, they stop
    being it (the work counts at its hours again until a new act bills it)."""
    from webapp.services import budgets

    db.session.flush()
    budgets.items_billed([line.item_id for line in act.lines if line.item_id is not None])


workflow.register(Act, can_change=access.can_move_act, denied="Выставляет, подписывает и аннулирует акты бухгалтерия.",
                  before={ActStatus.ISSUED: _issue, ActStatus.SIGNED: _sign, ActStatus.CANCELLED: _cancel},
                  after={ActStatus.ISSUED: _budgets_follow, ActStatus.SIGNED: _accept_items,
                         ActStatus.CANCELLED: _budgets_follow})


def issue(act: Act, *, acting: User) -> Act:
    """Issue a draft now (the service face of the «Выставить акт» move)."""
    workflow.change_status(act, ActStatus.ISSUED, acting=acting, shown_status=ActStatus.DRAFT.value,
                           version=act.version)
    return act


# --- payments -----------------------------------------------------------------------------------------------


def add_payment(act: Act, *, paid_on: date | None, amount: Decimal | None, acting: User, comment: str = "") -> Payment:
    """A payment against an issued or signed act; more than is still owed is refused."""
    access.require(access.can_record_payment(acting, act), "Оплаты записывает бухгалтерия.")
    if paid_on is None:
        raise ServiceError("Укажите дату оплаты.", field="paid_on")
    if paid_on > today():
        raise ServiceError("Оплата не может быть в будущем.", field="paid_on")
    if amount is None or amount <= 0:
        raise ServiceError("Сумма оплаты: больше нуля.", field="amount")
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    derived.lock_owner(act)
    if act.status not in BILLED:
        raise ServiceError("Оплату записывают по выставленному или подписанному акту.")
    owed = act.total_amount - act.paid_amount
    if amount > owed:
        raise ServiceError(f"Переплата: по акту осталось оплатить {money(owed)}, а внесено {money(amount)}. "
                           "Проверьте сумму.", field="amount")
    payment = Payment(act=act, paid_on=paid_on, amount=amount, comment=comment.strip()[:500],
                      created_by_id=acting.id, created_at=utcnow())
    db.session.add(payment)
    db.session.flush()
    _refresh_paid(act)
    return payment


def delete_payment(act: Act, payment_id: int, *, acting: User) -> None:
    access.require(access.can_record_payment(acting, act), "Оплаты записывает бухгалтерия.")
    derived.lock_owner(act)
    payment = db.session.scalar(sa.select(Payment).where(Payment.id == payment_id, Payment.act_id == act.id))
    if payment is None:
        raise NotFound("Оплата не найдена.")
    db.session.delete(payment)
    db.session.flush()
    _refresh_paid(act)


def _refresh_paid(act: Act) -> None:
    act.paid_amount = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Payment.amount), 0))
                                        .where(Payment.act_id == act.id))
    db.session.flush()


# --- documents -----------------------------------------------------------------------------------------------


def act_doc(act: Act):
    """The act as plain data for ``documents.act``: an issued act from what it froze; a draft from
    today's requisites (marked as a draft)."""
    from webapp.documents.act import ActDoc, ActLineDoc, HoursRow
    from webapp.documents.parties import both_parties

    if act.parties:
        contractor = party_from_json(act.parties["contractor"])
        customer = party_from_json(act.parties["client"])
        contract = act.parties.get("contract") or {}
        contract_number = contract.get("number") or ""
        contract_date = date.fromisoformat(contract["date"]) if contract.get("date") else None
    else:
        contractor, customer = both_parties(act.client)
        contract_number, contract_date = act.client.contract_number or "", act.client.contract_date
    company = CompanyProfile.cached()
    # the printed columns, not the lines as audited records (60 of them loaded whole: 0.5 ms of the act's DOCX)
    lines = db.session.execute(
        sa.select(ActLine.item_id, ActLine.name, ActLine.quantity, ActLine.unit, ActLine.price, ActLine.amount)
        .where(ActLine.act_id == act.id).order_by(ActLine.position, ActLine.id)).all()
    detail = act.hours_detail if act.hours_detail is not None else hours_detail(act, lines)
    return ActDoc(
        number=act.number or "", act_date=act.act_date, period_from=act.period_from, period_to=act.period_to,
        contractor=contractor, client=customer, contract_number=contract_number, contract_date=contract_date,
        lines=[ActLineDoc(line.name, line.quantity, line.unit, line.price, line.amount) for line in lines],
        vat_mode=act.vat_mode or company.vat_mode, vat_rate=act.vat_rate if act.vat_rate is not None else company.vat_rate,
        is_draft=act.is_draft, cancelled=act.status == ActStatus.CANCELLED, due_on=act.due_on,
        print_qr=bool(company.invoice_qr),
        hours=[HoursRow(row["item"], date.fromisoformat(row["date"]), row["who"], Decimal(row["hours"]), row["comment"])
               for row in detail])


def filename(act: Act, kind: str = "Акт") -> str:
    number = act.number or f"черновик {act.id}"
    return f"{kind} {number} {act.client.short_name}.docx"


# --- export -------------------------------------------------------------------------------------------------

EXPORT_HEADERS = ["Номер", "Дата", "Клиент", "Период с", "Период по", "Состояние", "Без НДС", "НДС", "Итого",
                  "Оплачено", "Остаток", "Оплатить до", "Оплата"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula («=HYPERLINK(…)») starts with «'»."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


# What the export reads: columns, not acts (6,000 acts built as objects cost two thirds of it).
_EXPORT_COLUMNS = (Act.number, Act.act_date, Client.short_name, Act.period_from, Act.period_to, Act.status,
                   Act.net_amount, Act.vat_amount, Act.total_amount, Act.paid_amount, Act.due_on)


def export_rows(user: User, filters: ActFilters, day: date, limit: int = 50_000) -> list[list[Any]]:
    """The export's rows, in the list's order: the columns of ``EXPORT_HEADERS``."""
    query = (_filtered(access.visible_acts(user), filters, day).with_only_columns(*_EXPORT_COLUMNS)
             .join(Client, Client.id == Act.client_id)
             .order_by(*_NEWEST_FIRST).limit(limit))
    rows = []
    for row in db.session.execute(query):
        act_number, act_date, client, since, until, status, net, vat, total, paid, due_on = row
        state = paid_state(status, total, paid, due_on, day)
        rows.append([act_number or "черновик", act_date, client, since, until, status.label, net, vat, total, paid,
                     balance(total, paid), due_on, state.label if state else ""])
    return rows


def export_csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(EXPORT_HEADERS)
    day = _DayFormat()  # a few hundred days recur over thousands of acts
    # each column written by what it holds (``export_rows``): 78,000 cells asked their type one by one cost a
    # third of the export
    writer.writerows((neutralise(act_number), day[act_date], neutralise(client), day[since], day[until], state,
                      _csv_money(net), _csv_money(vat), _csv_money(total), _csv_money(paid), _csv_money(rest),
                      day[due_on], paid_label)
                     for (act_number, act_date, client, since, until, state, net, vat, total, paid, rest, due_on,
                          paid_label) in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM: Excel reads UTF-8 Cyrillic


class _DayFormat(dict):
    """A day as 26.11.2026 (none as an empty cell), each formatted once."""

    def __missing__(self, day: date | None) -> str:
        text = self[day] = "" if day is None else day.strftime("%d.%m.%Y")
        return text


def _csv_money(amount: Decimal | None) -> str:
    """An amount with a decimal comma, as a Russian spreadsheet reads it."""
    return "" if amount is None else format(amount, "f").replace(".", ",")


def export_xlsx(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Акты")
    sheet.append(EXPORT_HEADERS)
    for row in rows:
        sheet.append([neutralise(v) if isinstance(v, str) else (v if v is not None else "") for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- reminders -------------------------------------------------------------------------------------------------


@dataclass
class Reminder:
    act: Act
    reason: str   # «signature» or «payment»
    text: str
    can_remind: bool = False  # «Напомнил» logs a contact: the client's team


def _reminder_queries(user: User, day: date) -> tuple[sa.Select, sa.Select]:
    """Acts awaiting signature past the acceptance period, and payments due within three days or
    overdue: the user's own clients for a manager, every client for the bookkeepers."""
    unsigned = (access.visible_acts(user).where(Act.status == ActStatus.ISSUED, Act.accept_by < day)
                .order_by(Act.accept_by, Act.id))
    unpaid = (access.visible_acts(user).where(Act.status.in_(BILLED), Act.paid_amount < Act.total_amount,
                                              Act.due_on <= day + timedelta(days=DUE_SOON_DAYS))
              .order_by(Act.due_on, Act.id))
    if not (access.keeps_books(user) or access.is_admin(user)):
        unsigned = unsigned.where(Act.client_id.in_(access.team_client_ids(user)))
        unpaid = unpaid.where(Act.client_id.in_(access.team_client_ids(user)))
    return unsigned, unpaid


# A reminder names its act and client and says what is due: not the frozen parties and hours detail (JSON
# decoded for every row) nor the client's requisites; the client's team says who may mark it reminded.
_REMINDER_ROW = (sa.orm.load_only(Act.id, Act.client_id, Act.status, Act.number, Act.total_amount, Act.paid_amount,
                                  Act.due_on, Act.accept_by, Act.reminded_at, Act.version),
                 *named_client(Act.client, Client.short_name, Client.manager_id, Client.deputy_id))


@functools.lru_cache(maxsize=256)
def _reminder_page(viewer: access.Viewer, day: date, which: int, limit: int | None) -> sa.Select:
    """The signatures' (0) or the payments' (1) page of reminders, kept per user and day."""
    return _reminder_queries(viewer, day)[which].limit(limit).options(*_REMINDER_ROW)


def reminders(user: User, day: date, limit: int | None = None) -> list[Reminder]:
    """The first ``limit`` reminders: signatures first, then payments (two queries)."""
    viewer = access.Viewer.of(user)
    found = []
    for act in db.session.scalars(_reminder_page(viewer, day, 0, limit)):
        found.append(Reminder(act, "signature", f"не подписан, срок приёмки истёк {long_date(act.accept_by)}",
                              access.can_edit_client(user, act.client)))
    rest = None if limit is None else limit - len(found)
    if rest == 0:
        return found
    for act in db.session.scalars(_reminder_page(viewer, day, 1, rest)):
        if act.due_on < day:
            text = f"оплата просрочена с {long_date(act.due_on)}, долг {money(act.balance)}"
        else:
            text = f"оплатить до {long_date(act.due_on)}: {money(act.balance)}"
        found.append(Reminder(act, "payment", text, access.can_edit_client(user, act.client)))
    return found


def log_reminder(act: Act, *, acting: User, channel: Channel = Channel.CALL) -> None:
    """«Напомнил»: a contact with the client about the act (its cadence moves), and the act remembers when."""
    from webapp.services import clients as client_service

    access.require(access.can_edit_client(acting, act.client),
                   "Отметить напоминание может аккаунт-менеджер клиента, заместитель и администратор.")
    if act.status not in BILLED:
        raise ServiceError("Напоминают о выставленном акте.")
    what = "подписать акт" if act.status == ActStatus.ISSUED and act.accept_by and act.accept_by < today() \
        else "оплатить акт"
    client_service.log_touchpoint(act.client, channel=channel, acting=acting,
                                  summary=f"Напомнил {what} № {act.number} на {money(act.balance)}")
    act.reminded_at = utcnow()
    db.session.flush()


def payment_deciders(client: Client) -> list:
    """Who a reminder goes to: the client's decision makers on payment who have an e-mail."""
    return [c for c in client.contacts if c.is_decision_maker and c.decides_payment and (c.email or "").strip()]


def overdue_acts(client: Client, day: date) -> list[Act]:
    """The client's acts with money owed and the due date passed (or within three days)."""
    return list(db.session.scalars(
        sa.select(Act).where(Act.client_id == client.id, Act.status.in_(BILLED), Act.paid_amount < Act.total_amount,
                             Act.due_on <= day + timedelta(days=DUE_SOON_DAYS))
        .order_by(Act.due_on, Act.id)))


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def send_reminder(client: Client, *, contact_id: int | None, acting: User, override_dir=None):
    """One letter per client to the contact who decides payment, covering all its overdue acts, with
    each act and its invoice attached. Without mail configured, the outcome carries the text to copy."""
    from webapp.documents.act import render_act, render_invoice
    from webapp.services import mail

    access.require(access.can_remind_client(acting, client), "Напоминает бухгалтерия и команда клиента.")
    contact = next((c for c in payment_deciders(client) if c.id == contact_id), None)
    if contact is None:
        raise ServiceError("Выберите ЛПР клиента, который решает оплату и у которого указан e-mail.", field="contact_id")
    day = today()
    acts = overdue_acts(client, day)
    if not acts:
        raise ServiceError("У клиента нет актов, оплату которых пора напомнить.")
    rows, files = [], []
    for act in acts:
        late = " (просрочено)" if act.due_on < day else ""
        rows.append(f"— акт № {act.number} от {long_date(act.act_date)}: к оплате {money(act.balance)}, "
                    f"срок оплаты {long_date(act.due_on)}{late}")
        data = act_doc(act)
        files.append(mail.Attachment(filename(act), DOCX, render_act(data, override_dir)))
        files.append(mail.Attachment(filename(act, "Счёт"), DOCX, render_invoice(data, override_dir)))
    company = CompanyProfile.cached()
    total = sum((a.balance for a in acts), Decimal(0))
    text = (f"Здравствуйте, {contact.full_name}!\n\nНапоминаем об оплате оказанных услуг:\n" + "\n".join(rows)
            + f"\n\nИтого к оплате: {money(total)}.\nАкты и счета — во вложении. Если оплата уже прошла, "
              f"пожалуйста, пришлите платёжное поручение.\n\nС уважением,\n{acting.full_name}\n{company.name}\n")
    outcome = mail.send(contact.email.strip(), f"Напоминание об оплате: {client.short_name}", text,
                        about=(Client.__tablename__, client.id), client_id=client.id, acting=acting, attachments=files)
    now = utcnow()
    for act in acts:
        act.reminded_at = now
    db.session.flush()
    return outcome


dashboard.register(dashboard.Section(
    "acts", "Акты: подписание и оплата", 40,
    applies=lambda user: access.leads_clients(user) or access.keeps_books(user),
    load=reminders, counted=_reminder_queries, macro="acts.reminders", refresh_on="act-reminded",
    more=dashboard.Link("acts.index", {"paid": PaidState.OVERDUE.value}, "Все просроченные оплаты"),
    empty="Все выставленные акты подписаны и оплачены в срок."))


# --- the meeting agenda ------------------------------------------------------------------------------------------


def _agenda_points(client: Client, since: datetime | None, day: date) -> list[agenda.Proposal]:
    """Unpaid acts past their due date, one point each, for the next planning meeting."""
    points = []
    for act in db.session.scalars(sa.select(Act).where(
            Act.client_id == client.id, Act.status.in_(BILLED), Act.paid_amount < Act.total_amount, Act.due_on < day)
            .order_by(Act.due_on, Act.id).limit(20)):
        points.append(agenda.Proposal(f"acts-unpaid:{act.id}", f"Оплата акта № {act.number}",
                                      f"{money(act.balance)}, срок оплаты {long_date(act.due_on)}"))
    return points


agenda.register(agenda.AgendaSection("acts-unpaid", "Неоплаченные акты", 50, _agenda_points))


# --- the client's timeline ------------------------------------------------------------------------------------------

_TIMELINE_TITLES = {"issue": "Акт выставлен", "sign": "Акт подписан клиентом", "cancel": "Акт аннулирован"}


def _timeline_query(viewer: access.Viewer, before_kind: str | None, limit: int) -> sa.Select | None:
    """Acts issued, signed and cancelled, and payments received, from the audit trail."""
    if not access.can_see_acts(viewer):
        return None
    act_ids = sa.select(Act.id).where(Act.client_id == timeline.CLIENT)
    payment_ids = sa.select(Payment.id).where(Payment.act_id.in_(act_ids))
    return (sa.select(AuditEvent).where(
        sa.or_(sa.and_(AuditEvent.entity_type == Act.__tablename__, AuditEvent.entity_id.in_(act_ids),
                       AuditEvent.action.in_(list(_TIMELINE_TITLES))),
               sa.and_(AuditEvent.entity_type == Payment.__tablename__, AuditEvent.entity_id.in_(payment_ids),
                       AuditEvent.action == "create")),
        *timeline.older_than("acts", AuditEvent.created_at, AuditEvent.id, before_kind))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit))


def _timeline_entries(client: Client, user: User, events) -> list[timeline.Entry]:
    found = []
    for event in events:
        if event.entity_type == Payment.__tablename__:
            amount = (event.changes or {}).get("amount", [None, None])[1]
            title, text = "Оплата по акту", f"{event.entity_label}: {money(Decimal(str(amount)))}" if amount else event.entity_label
        else:
            title, text = _TIMELINE_TITLES[event.action], event.entity_label
        found.append(timeline.Entry("acts", event.created_at, event.id, title, text, meta=event.actor_name))
    return found


timeline.register("acts", query=_timeline_query, build=_timeline_entries)
