"""The backlog: intake, the spec, estimates and their approval, stages with SLA deadlines, time,
the client's agreed order.

Rules live here: who may do what (``access``), when an approval is needed (the regulation's
threshold from ``terms.effective_terms``), when a new estimate voids one (``APPROVAL_TOLERANCE``),
how item numbers stay unique under concurrent intake, and how the SLA clock pauses while the item
waits on the client. Stored figures (the current estimate, spent hours) are recomputed from their
rows in the same transaction, under a lock on the item (``derived.lock_owner``); item numbers and
ranks are allocated under a lock on the client.
"""

import functools
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from webapp import cache, saving
from webapp.extensions import db
from webapp.intake.email import ParsedEmail
from webapp.formatting import day_start, local, long_date, money, number, plural, today
from webapp.models import (Approval, ApprovalChannel, AuditEvent, BacklogItem, Billing, BudgetBlock, Client,
                           CompanyProfile, Contact, Estimate, IntakeChannel, ItemStatus, ItemWord, Priority,
                           PriorityAgreement, Role, SignedLink, Stage, StageKind, TimeEntry, User)
from webapp.models.audit import tag_action
from webapp.models.clients import named_client
from webapp.models.backlog import (APPROVAL_TOLERANCE, CLOSED, FINISHED, OPEN, RANK_GAP, SLA_PAUSED,
                                   WAITING_ON_CLIENT, approval_missing)
from webapp.models.types import utcnow
from webapp.saving import Edit
from webapp.services import (NotFound, ServiceError, access, agenda, as_id, attachments, budgets, dashboard, derived,
                             links, mail, terms, timeline, workflow)
from webapp.workcalendar import add_working_days, is_working_day, on_or_after

NUMBER_ATTEMPTS = 5
MAX_HOURS = Decimal("10000")

# The stages every item starts with; the SLA kinds take their deadlines from the regulation.
STAGE_TEMPLATE = [
    ("Согласовать объём", "reaction"),
    ("Оценка часов и стоимости", "plain"),
    ("Тестовое задание", "plain"),
    ("Разработка", "plain"),
    ("Сдача", "resolution"),
]


# --- reading -------------------------------------------------------------------------------------


def get_item(user: User, item_id: int) -> BacklogItem:
    """An item the user may see (404 otherwise)."""
    return access.get_item(user, item_id)


@dataclass
class ItemFilters:
    status: str = ""      # an ItemStatus value, "open" (default), "closed" or "all"
    assignee: str = ""    # a user id, "me", "none" or ""
    waiting: str = ""     # "us", "client" or ""
    client: str = ""      # a client id (the all-clients list)
    overdue: str = ""     # "1": only items with an overdue stage
    budget: str = ""      # a budget block, as written on the items

    def args(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


def _filtered(query: sa.Select, user: User, filters: ItemFilters, day: date, *, counting: bool = False) -> sa.Select:
    if filters.status == "closed":
        query = query.where(BacklogItem.status.in_(CLOSED))
    elif filters.status in ItemStatus.__members__.values():
        query = query.where(BacklogItem.status == ItemStatus(filters.status))
    elif filters.status != "all":
        # A page: «not closed» rather than «in OPEN», which no index on the status serves, so a list
        # ordered by its index (rank, time of receipt) walks that index and stops at the page instead
        # of sorting every open item. A count (``counting``): «in OPEN» reads the open ranges of the
        # status index and stops at the cap; «not closed» first skipped 52,000 accepted items.
        query = query.where(BacklogItem.status.in_(OPEN) if counting else BacklogItem.status.not_in(CLOSED))
    if filters.assignee == "me":
        query = query.where(BacklogItem.assignee_id == user.id)
    elif filters.assignee == "none":
        query = query.where(BacklogItem.assignee_id.is_(None))
    elif (assignee_id := as_id(filters.assignee)) is not None:
        query = query.where(BacklogItem.assignee_id == assignee_id)
    if filters.waiting == "client":
        query = query.where(BacklogItem.status.not_in(set(ItemStatus) - WAITING_ON_CLIENT))
    elif filters.waiting == "us":
        query = query.where(BacklogItem.status.not_in(CLOSED | WAITING_ON_CLIENT))
    if (client_id := as_id(filters.client)) is not None:
        query = query.where(BacklogItem.client_id == client_id)
    if budget := filters.budget.strip():
        named = sa.select(BudgetBlock.id).where(BudgetBlock.name == budget)
        query = query.where(sa.or_(BacklogItem.budget_block == budget, BacklogItem.budget_block_id.in_(named)))
    if filters.overdue == "1":
        query = query.where(BacklogItem.id.in_(_overdue_stage_items(day)))
    return query


def _overdue_stage_items(day: date) -> sa.Select:
    return sa.select(Stage.item_id).where(Stage.done_at.is_(None), Stage.due_on < day)


# A row of a list of items shows the item, its client's name and code and its assignee's name: not the
# requester, nor the client's team (``named_client``), which the model joins by default, nor the rest of the
# client's and the assignee's columns (the client's 37, dates and sums among them: a fifth of loading the
# all-clients page's 50 rows); and never the item's texts: the request and the four parts of the spec, which
# may run to pages, stay in the database (a row that read one would cost a query per row: the query-count
# tests would show it).
_TEXTS = tuple(sa.orm.defer(column) for column in (
    BacklogItem.request_text, BacklogItem.goal, BacklogItem.current_behaviour, BacklogItem.required_behaviour,
    BacklogItem.acceptance_criteria))
_LIST_ROW = (lazyload(BacklogItem.requester), *named_client(BacklogItem.client, Client.short_name, Client.code),
             sa.orm.defaultload(BacklogItem.assignee).load_only(User.id, User.full_name), *_TEXTS)
_LIST_ROW_UNASSIGNED = (*_LIST_ROW, lazyload(BacklogItem.assignee))  # «Мой день»: no assignee shown


def _list_options(query: sa.Select) -> sa.Select:
    return query.options(*_LIST_ROW)


def client_backlog(user: User, client: Client, filters: ItemFilters, day: date) -> list[BacklogItem]:
    """The client's ranked list (one query, with the next deadlines loaded in a second)."""
    query = _filtered(access.visible_items(user).where(BacklogItem.client_id == client.id), user, filters, day)
    items = list(db.session.scalars(_list_options(query).order_by(BacklogItem.rank, BacklogItem.id)))
    attach_next_stages(items)
    return items


def attach_next_stages(items: list[BacklogItem]) -> None:
    """Each item's nearest open stage deadline as ``item.next_stage`` (one query for the page)."""
    by_item: dict[int, Stage] = {}
    if items:
        stages = db.session.scalars(sa.select(Stage).where(
            Stage.item_id.in_([i.id for i in items]), Stage.done_at.is_(None), Stage.due_on.is_not(None))
            .options(lazyload(Stage.item)).order_by(Stage.due_on, Stage.position))
        for stage in stages:
            by_item.setdefault(stage.item_id, stage)
    for item in items:
        item.next_stage = by_item.get(item.id)


def all_backlog_query(user: User, filters: ItemFilters, day: date, *, counting: bool = False) -> sa.Select:
    """The all-clients list: scoped, filtered, the longest waiting first (walks the index on the time
    of receipt, so a page of 50 costs the same over 100,000 items); ``counting``: the same rows,
    written for the page count."""
    query = _filtered(access.visible_items(user), user, filters, day, counting=counting)
    if counting:
        return query
    return _list_options(query).order_by(BacklogItem.received_at, BacklogItem.id)


@dataclass
class Workload:
    user_id: int | None
    name: str
    open_items: int
    estimated: Decimal
    spent_week: Decimal


@dataclass
class Overview:
    workload: list[Workload]
    waiting: dict[str, int]  # open items waiting on «us» and on the «client»


@dataclass(frozen=True)
class OpenItems:
    """Open items grouped by (assignee, status, count, estimated hours), and what the workload heading
    sums of them: per assignee the items and hours, and how many wait on us and on the client."""

    rows: tuple[tuple[int | None, ItemStatus, int, Decimal], ...]
    per_assignee: dict[int | None, tuple[int, Decimal]]
    waiting: dict[str, int]

    @classmethod
    def of(cls, rows) -> "OpenItems":
        rows = tuple((assignee_id, ItemStatus(status), count, Decimal(hours))
                     for assignee_id, status, count, hours in rows)
        per_assignee: dict[int | None, tuple[int, Decimal]] = {}
        waiting = {"us": 0, "client": 0}
        for assignee_id, status, count, hours in rows:
            items, estimated = per_assignee.get(assignee_id, (0, Decimal(0)))
            per_assignee[assignee_id] = (items + count, estimated + hours)
            waiting["client" if status in WAITING_ON_CLIENT else "us"] += count
        return cls(rows, per_assignee, waiting)


def _open_by_assignee(items: sa.Select) -> OpenItems:
    """The open items of ``items`` by assignee and status, read from the covering index."""
    return OpenItems.of(db.session.execute(
        items.where(BacklogItem.status.in_(OPEN))
        .with_only_columns(BacklogItem.assignee_id, BacklogItem.status, sa.func.count(),
                           sa.func.coalesce(sa.func.sum(BacklogItem.estimate_hours), 0))
        .group_by(BacklogItem.assignee_id, BacklogItem.status)))


# Every open item grouped is 8 ms at 70,000 open items, read on each visit of /backlog/ by those
# who see every item; it changes only when an item arrives or goes, or its status, assignee or
# estimate does — far less often than the page is read. Kept summed too: some 400 groups folded
# on every visit were a millisecond of Python.
_ALL_OPEN = cache.Cached("backlog_open_by_assignee", lambda: _open_by_assignee(sa.select(BacklogItem)))
cache.watch(BacklogItem, "backlog_open_by_assignee", fields=("status", "assignee_id", "estimate_hours"))


def _week_hours(monday: date, day: date, items: sa.Select | None = None) -> dict[int | None, Decimal]:
    """Hours logged per user from ``monday`` to ``day`` (on ``items`` only, if given)."""
    week = sa.select(TimeEntry.user_id, sa.func.sum(TimeEntry.hours)).where(
        TimeEntry.spent_on >= monday, TimeEntry.spent_on <= day).group_by(TimeEntry.user_id)
    if items is not None:
        week = week.where(TimeEntry.item_id.in_(items))
    return dict(db.session.execute(week).all())


# The week's hours of everyone (the workload heading of those who see every item), kept per process
# by (monday, day) until time is logged, changed or deleted: summed from the index on the day, they
# were the heading's dearest statement.
_WEEK_HOURS = cache.Cached("week_hours", dict)
cache.watch(TimeEntry, "week_hours", fields=("user_id", "hours", "spent_on"))


def counted_open(user: User, filters: ItemFilters) -> int | None:
    """The rows of the all-clients list under ``filters``, counted from the per-process copy of the
    open items by assignee and status, when the copy holds the answer: the user sees every item,
    the list shows open items (all, one open status, those waiting on us or on the client), filtered
    by assignee at most. Otherwise None, and the page counts as it pages. Counted by a scan, the
    head of production's «за нами» read 10,000 index entries on each visit (2.5 ms) to print
    «более чем 10 000»; from the copy, the exact figure."""
    if not access.sees_all_items(user) or filters.client or filters.budget.strip() or filters.overdue == "1":
        return None
    if filters.status in ItemStatus.__members__.values():
        statuses = {ItemStatus(filters.status)}
        if not statuses <= set(OPEN):
            return None
    elif filters.status in ("closed", "all"):
        return None
    else:  # as ``_filtered``: anything else is the open items
        statuses = set(OPEN)
    if filters.waiting == "client":
        statuses &= WAITING_ON_CLIENT
    elif filters.waiting == "us":
        statuses -= WAITING_ON_CLIENT
    assignees: set[int | None] | None = None
    if filters.assignee == "me":
        assignees = {user.id}
    elif filters.assignee == "none":
        assignees = {None}
    elif (assignee_id := as_id(filters.assignee)) is not None:
        assignees = {assignee_id}
    return sum(count for assignee_id, status, count, _ in _ALL_OPEN.get().rows
               if status in statuses and (assignees is None or assignee_id in assignees))


def overview(user: User, day: date) -> Overview:
    """The all-clients backlog's heading: per assignee the open items, their estimated hours and the
    hours logged this week; how many open items wait on us and on the client. The open items are
    read once, grouped by assignee and status, from the covering index (status, assignee, estimate);
    the week's hours from the index on the day."""
    sees_all = access.sees_all_items(user)
    grouped = _ALL_OPEN.get() if sees_all else _open_by_assignee(access.visible_items(user))
    monday = day - timedelta(days=day.weekday())
    if sees_all:
        kept = _WEEK_HOURS.get()
        spent = kept[monday, day] if (monday, day) in kept else kept.setdefault((monday, day), _week_hours(monday, day))
    else:
        spent = _week_hours(monday, day, access.visible_items(user).with_only_columns(BacklogItem.id))
    ids = {u for u in grouped.per_assignee if u} | {u for u in spent if u}
    names = dict(db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(ids))).all()) if ids else {}
    found = {assignee_id: Workload(assignee_id, names.get(assignee_id, "Не назначен") if assignee_id else "Не назначен",
                                   count, hours, Decimal(spent.get(assignee_id) or 0))
             for assignee_id, (count, hours) in grouped.per_assignee.items()}
    for user_id, hours in spent.items():
        if user_id not in found and user_id is not None:
            found[user_id] = Workload(user_id, names.get(user_id, ""), 0, Decimal(0), Decimal(hours))
    return Overview(sorted(found.values(), key=lambda w: (w.user_id is None, w.name)), dict(grouped.waiting))


def _overdue_stages_query(user: User, day: date, *, mine: bool = False) -> sa.Select:
    """Open stages past their deadline on open items (of the user's clients or items when ``mine``),
    the oldest first: a walk of the partial index on open deadlines that stops at the page."""
    query = (sa.select(Stage).join(BacklogItem, Stage.item_id == BacklogItem.id)
             .where(Stage.done_at.is_(None), Stage.due_on < day,  # walks the index on open deadlines
                    BacklogItem.status.not_in(CLOSED | SLA_PAUSED))
             .order_by(Stage.due_on, Stage.id))
    if not access.sees_all_items(user):
        query = query.where(BacklogItem.id.in_(access.visible_items(user).with_only_columns(BacklogItem.id)))
    if mine:
        query = query.where(sa.or_(BacklogItem.assignee_id == user.id, BacklogItem.client_id.in_(access.team_client_ids(user))))
    return query


def overdue_stages(user: User, day: date, *, limit: int | None = 20, mine: bool = False) -> list[Stage]:
    """The first ``limit`` of ``_overdue_stages_query``, each with its item as a list shows it."""
    return list(db.session.scalars(_overdue_page(access.Viewer.of(user), day, limit, mine)))


@functools.lru_cache(maxsize=256)
def _overdue_page(viewer: access.Viewer, day: date, limit: int | None, mine: bool) -> sa.Select:
    """Kept per user and day, as the badges are: its joins, eager options and cache key cost more
    to build than SQLite's walk to the first ten."""
    return (_overdue_stages_query(viewer, day, mine=mine).limit(limit)
            .options(sa.orm.contains_eager(Stage.item).options(*_LIST_ROW)))


def history(item: BacklogItem, limit: int = 50) -> list[AuditEvent]:
    """The item's own audit trail, newest first."""
    return list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == BacklogItem.__tablename__, AuditEvent.entity_id == item.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)))


def _load_assignable() -> tuple[access.Person, ...]:
    query = (sa.select(User.id, User.full_name).where(User.active.is_(True), User.role.in_(access.ASSIGNABLE))
             .order_by(User.full_name))
    return tuple(access.Person(*row) for row in db.session.execute(query))


_ASSIGNABLE = cache.Cached("assignable_users", _load_assignable)
cache.watch(User, "assignable_users", fields=("full_name", "role", "active"))


def assignable_users() -> tuple[access.Person, ...]:
    """Who may be given an item, by name: kept per process until a user's name, role or activity
    changes (``webapp.cache``), like the account managers; every backlog list, item and meeting
    offers them."""
    return _ASSIGNABLE.get()


def agreements(client: Client, limit: int = 5) -> list[PriorityAgreement]:
    return list(db.session.scalars(sa.select(PriorityAgreement).where(PriorityAgreement.client_id == client.id)
                                   .order_by(PriorityAgreement.agreed_at.desc()).limit(limit)))


# --- the SLA --------------------------------------------------------------------------------------

_SPAN = re.compile(r"(\d+)\s*(ч|раб|дн|ден)", re.IGNORECASE)
WORKING_HOURS_A_DAY = 8


def sla_days(text: str) -> int | None:
    """A regulation's SLA span in working days: «4 часа» → 0 (the same day), «2 рабочих дня» → 2;
    «по плану работ» has none."""
    found = _SPAN.search(text or "")
    if not found:
        return None
    amount, unit = int(found.group(1)), found.group(2).lower()
    if unit.startswith("ч"):
        return amount // WORKING_HOURS_A_DAY
    return amount


def sla_row(sla: list[dict[str, Any]], priority: Priority) -> dict[str, Any] | None:
    """The regulation's SLA row for a priority: by its name, else by its place (critical first)."""
    for row in sla:
        if (row.get("priority") or "").strip().lower().startswith(priority.label.lower()[:5]):
            return row
    index = list(Priority).index(priority)
    return sla[index] if index < len(sla) else None


def sla_deadline(received: date, text: str) -> date | None:
    days = sla_days(text)
    if days is None:
        return None
    return add_working_days(received, days) if days else on_or_after(received)


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``: how long an item waited."""
    days, current = 0, start
    while current < end:
        current += timedelta(days=1)
        days += is_working_day(current)
    return days


def _sla_due(item: BacklogItem) -> dict[StageKind, date | None]:
    """The SLA deadlines of an item by its priority, from its receipt, moved on by the time it waited."""
    row = sla_row(terms.effective_terms(item.client).sla, item.priority) or {}
    received = local(item.received_at).date()
    due = {}
    for kind in (StageKind.REACTION, StageKind.RESOLUTION):
        day = sla_deadline(received, row.get(kind.value, ""))
        due[kind] = add_working_days(day, item.sla_paused_days) if day and item.sla_paused_days else day
    return due


def _make_stages(item: BacklogItem) -> None:
    due = _sla_due(item)
    for position, (name, kind) in enumerate(STAGE_TEMPLATE):
        kind = StageKind(kind)
        item.stages.append(Stage(name=name, kind=kind, position=position, due_on=due.get(kind)))


def _refresh_sla_stages(item: BacklogItem) -> None:
    """A new priority (or time of receipt) brings the SLA deadlines of the open stages with it."""
    due = _sla_due(item)
    for stage in item.stages:
        if stage.kind != StageKind.PLAIN and stage.done_at is None:
            stage.due_on = due[stage.kind]


def _status_moved(item: BacklogItem, acting: User | None, values: dict[str, Any]) -> None:
    """After every move: when it happened, and the SLA clock — stopped while the item waits on the
    client, and on resuming every open SLA deadline moves on by the working days it waited."""
    item.status_changed_at = utcnow()
    _move_sla_clock(item)
    budgets.item_changed(item)


def _move_sla_clock(item: BacklogItem) -> None:
    day = today()
    if item.status in SLA_PAUSED:
        if item.waiting_since is None:
            item.waiting_since = day
        return
    if item.waiting_since is not None:
        waited = working_days_between(item.waiting_since, day)
        if waited:
            for stage in item.stages:
                if stage.done_at is None and stage.due_on is not None and stage.kind != StageKind.PLAIN:
                    stage.due_on = add_working_days(stage.due_on, waited)
            item.sla_paused_days = (item.sla_paused_days or 0) + waited
        item.waiting_since = None


# The request's files (voice messages, screenshots, documents, a forwarded e-mail) belong to the item.
ATTACHMENT_OWNER = "backlog_item"
attachments.register_owner(ATTACHMENT_OWNER, load=access.get_item, can_change=access.can_edit_item)

def _approved_if_needed(item: BacklogItem) -> str | None:
    """No work on an item that needs the client's approval until a valid one is recorded: the
    regulation's threshold (hours and/or money, from the terms in force) decides which do."""
    if item.estimate_hours is None:
        return None  # the model's own guard says so
    found = terms.effective_terms(item.client)
    if approval_missing(item, found.approval_threshold_hours, found.approval_threshold_amount):
        return "Оценка выше порога регламента: запишите согласование ЛПР клиента."
    return None


workflow.register(BacklogItem, can_change=access.can_move_item,
                  denied="Менять состояние задачи могут команда клиента, руководитель производства и исполнитель.",
                  after={status: _status_moved for status in ItemStatus},
                  guards={ItemStatus.IN_PROGRESS: _approved_if_needed})


def sla_state(item: BacklogItem, day: date) -> tuple[str, str] | None:
    """Which SLA promise is at risk: (style, text) for the page, or None."""
    if item.is_closed:
        return None
    if item.status in SLA_PAUSED and item.waiting_since:
        return "secondary", f"SLA на паузе: ждём клиента с {long_date(item.waiting_since)}"
    for stage in item.stages:
        if stage.kind == StageKind.PLAIN or stage.done_at is not None or stage.due_on is None:
            continue
        promise = "реакции" if stage.kind == StageKind.REACTION else "решения"
        if stage.due_on < day:
            return "danger", f"Срок {promise} по SLA просрочен ({long_date(stage.due_on)})"
        if stage.due_on == day:
            return "warning", f"Срок {promise} по SLA — сегодня"
        return "success", f"Срок {promise} по SLA — {long_date(stage.due_on)}"
    return None


# --- intake ----------------------------------------------------------------------------------------


def _check_requester(client: Client, requester_id: int | None) -> None:
    if requester_id is None:
        return
    if db.session.scalar(sa.select(Contact.id).where(Contact.id == requester_id,
                                                     Contact.client_id == client.id)) is None:
        raise ServiceError("Выберите контакт этого клиента.", field="requester_id")


def _check_assignee(assignee_id: int | None) -> None:
    if assignee_id is None:
        return
    user = db.session.get(User, assignee_id)
    if user is None or not user.active or user.role not in access.ASSIGNABLE:
        raise ServiceError("Выберите активного сотрудника.", field="assignee_id")


INTAKE_FIELDS = ("title", "request_text", "channel", "requester_id", "received_at", "priority", "billing",
                 "assignee_id", "budget_block")


def create_item(client: Client, data: dict[str, Any], *, acting: User) -> BacklogItem:
    """A new request (intake): numbered next for its client, ranked last, with its stages.

    The number is the client's highest plus one, read under a lock on the client row, so
    concurrent intakes take turns; the unique index (client, number) is the backstop: a clash
    rolls the attempt back and takes the next number.
    """
    access.require(access.can_create_item(acting, client),
                   "Заявки клиента принимают его аккаунт-менеджер, заместитель и администратор.")
    data = {"priority": Priority.NORMAL, "billing": Billing.BILLABLE, "channel": IntakeChannel.MESSAGE,
            "request_text": "", "budget_block": "",
            **{k: v for k, v in data.items() if k in INTAKE_FIELDS and v is not None}}
    if not (data.get("title") or "").strip():
        raise ServiceError("Укажите, о чём задача.", field="title")
    _check_requester(client, data.get("requester_id"))
    _check_assignee(data.get("assignee_id"))
    if data.get("received_at") and data["received_at"] > utcnow() + timedelta(minutes=5):
        raise ServiceError("Заявка не может прийти из будущего.", field="received_at")
    client_id, acting_id = client.id, acting.id
    for attempt in range(NUMBER_ATTEMPTS):
        client = derived.lock_owner(db.session.get(Client, client_id))
        number, rank = db.session.execute(sa.select(
            sa.func.coalesce(sa.func.max(BacklogItem.number), 0) + 1,
            sa.func.coalesce(sa.func.max(BacklogItem.rank), 0) + RANK_GAP).where(BacklogItem.client_id == client_id)).one()
        item = BacklogItem(client=client, number=number, rank=rank, created_by_id=acting_id,
                           status=ItemStatus.NEW, sla_paused_days=0, **data)
        item.received_at = item.received_at or utcnow()
        item.status_changed_at = utcnow()
        _make_stages(item)
        db.session.add(item)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()  # the whole intake again, on the next number
            if attempt == NUMBER_ATTEMPTS - 1:
                raise ServiceError("Не удалось выдать номер заявке: попробуйте ещё раз.") from None
            continue
        refresh_words(item)
        return item
    raise AssertionError("unreachable")


def email_intake(client: Client, parsed: ParsedEmail) -> dict[str, Any]:
    """What a client's e-mail (``intake.email.parse_eml``) says of a new request: the subject is its
    title, the new text its request, the mail's date its receipt; the sender, when a contact of this
    client has that address, is who asked."""
    address = parsed.sender_address.strip().lower()
    requester = next((c for c in client.contacts if address and (c.email or "").strip().lower() == address), None)
    return {"title": parsed.subject.strip()[:300], "request_text": parsed.body.strip()[:20000],
            "received_at": parsed.date, "channel": IntakeChannel.EMAIL,
            "requester_id": requester.id if requester else None}


def attach_email_files(item: BacklogItem, parsed: ParsedEmail, *, acting: User) -> None:
    """The mail's attached files on the item, each through the attachments' content checks."""
    for attached in parsed.attachments:
        attachments.add_attachment(ATTACHMENT_OWNER, item, io.BytesIO(attached.data), attached.name, acting=acting)


# --- editing ----------------------------------------------------------------------------------------

CONTENT_FIELDS = ("title", "request_text", "channel", "requester_id", "received_at", "goal", "current_behaviour",
                  "required_behaviour", "acceptance_criteria", "priority", "due_on", "budget_block", "billing")
PLANNING_FIELDS = ("assignee_id",)
ITEM_FIELDS = CONTENT_FIELDS + PLANNING_FIELDS


def update_item(item: BacklogItem, edit: Edit, *, acting: User) -> list[str]:
    """Save some fields of an item: only those this user changed; the content is the client team's,
    the assignee also the head of production's."""
    data = saving.changes(item, edit, ITEM_FIELDS)
    if any(key in CONTENT_FIELDS for key in data):
        access.require(access.can_edit_item(acting, item),
                       "Задачу клиента ведут его аккаунт-менеджер, заместитель и администратор.")
    if data:
        access.require(access.can_plan_item(acting, item), "Недостаточно прав, чтобы менять задачу.")
    if "title" in data and not (data["title"] or "").strip():
        raise ServiceError("Укажите, о чём задача.", field="title")
    if "requester_id" in data:
        _check_requester(item.client, data["requester_id"])
    if "assignee_id" in data:
        _check_assignee(data["assignee_id"])
    changed = saving.write(item, data)
    if {"priority", "received_at"} & set(changed) and item.waiting_since is None:
        _refresh_sla_stages(item)
    if set(WORD_FIELDS) & set(changed):
        refresh_words(item)
    if "billing" in changed:  # warranty work leaves the block's figures, billable work joins them
        db.session.flush()
        budgets.item_changed(item)
    return changed


# --- similar past items -------------------------------------------------------------------------------

WORD_FIELDS = ("title", "request_text", "goal", "current_behaviour", "required_behaviour", "acceptance_criteria")
SIMILAR_LIMIT = 5
SIMILAR_WORDS = 12     # the rarest words of an item that look for its peers
PROBE_WORDS = 30       # of its words (the title's first), how many are counted at all
COMMON_WORD = 500      # a word of more items than this says too little (and is counted no further)
SIMILAR_BUDGET = 2000  # the rare words' items, summed: what the scoring reads at most


def refresh_words(item: BacklogItem) -> None:
    """The item's stored word set from its title, request and spec (``BacklogItem.words``)."""
    db.session.execute(sa.delete(ItemWord).where(ItemWord.item_id == item.id))
    words = item.words
    if words:
        db.session.execute(sa.insert(ItemWord), [{"item_id": item.id, "word": w} for w in words])


# How many items use each word, kept per process until an item's words change (an item added or
# deleted, an edit of its request or spec): on every view of an item, counting
# its 30 words was the page's dearest statement (30 capped subqueries: 0.8 ms on SQLite, 4 on
# PostgreSQL, and as much again to build). Only the words not counted yet are counted.
_WORD_COUNTS = cache.Cached("word_counts", dict)
cache.watch(BacklogItem, "word_counts", fields=WORD_FIELDS)
WORD_COUNTS_KEPT = 50_000  # words per process; past that the copy starts afresh


def word_counts(words: list[str]) -> dict[str, int]:
    """The items using each of ``words``, each count capped at COMMON_WORD + 1 (the cost stays
    bounded however common a word is)."""
    known = _WORD_COUNTS.get()
    if missing := [w for w in dict.fromkeys(words) if w not in known]:
        capped = [sa.select(ItemWord.word).where(ItemWord.word == w).limit(COMMON_WORD + 1).subquery()
                  for w in missing]
        counted = sa.union_all(*(sa.select(part.c.word) for part in capped)).subquery()
        found = dict(db.session.execute(sa.select(counted.c.word, sa.func.count()).group_by(counted.c.word)).all())
        if len(known) + len(missing) > WORD_COUNTS_KEPT:
            known.clear()
        known.update({w: found.get(w, 0) for w in missing})
    return {w: known[w] for w in words}


@dataclass
class Similar:
    item: BacklogItem
    score: float


def similar_items(user: User, item: BacklogItem, *, limit: int = SIMILAR_LIMIT) -> list[Similar]:
    """Finished items of any client the user may see that share the rarest words of this one's
    request and spec, the closest first: «why it costs this much», from real examples.

    Two indexed queries whatever the data: how many items use each of the item's words (counted on
    the index on words, each count capped), then the items scored by the rare words they share (a
    word used by few items weighs more), joined to the scoped, finished items."""
    words = item.words[:PROBE_WORDS]
    if not words:
        return []
    frequency = word_counts(words)
    shared, budget = [], SIMILAR_BUDGET
    for word in sorted((w for w in words if 1 < frequency.get(w, 0) <= COMMON_WORD), key=lambda w: (frequency[w], w)):
        if len(shared) == SIMILAR_WORDS or frequency[word] > budget:
            break
        shared.append(word)
        budget -= frequency[word]
    if not shared:
        return []
    weight = sa.case({w: 1.0 / frequency[w] for w in shared}, value=ItemWord.word, else_=0.0)
    scores = (sa.select(ItemWord.item_id, sa.func.sum(weight).label("score"))
              .where(ItemWord.word.in_(shared), ItemWord.item_id != item.id)
              .group_by(ItemWord.item_id).subquery())
    query = (access.visible_items(user).add_columns(scores.c.score)
             .join(scores, scores.c.item_id == BacklogItem.id)
             .where(BacklogItem.status.in_(FINISHED))
             .options(lazyload(BacklogItem.requester), lazyload(BacklogItem.assignee))
             .order_by(scores.c.score.desc(), BacklogItem.id.desc()).limit(limit))
    return [Similar(found, float(score)) for found, score in db.session.execute(query).all()]


# --- estimates and approvals ------------------------------------------------------------------------


def default_rate(client: Client) -> Decimal:
    return client.hourly_rate if client.hourly_rate is not None else CompanyProfile.get().default_hourly_rate


def _refresh_estimate(item: BacklogItem) -> None:
    """The item's current estimate is its newest version."""
    newest = db.session.scalar(sa.select(Estimate).where(Estimate.item_id == item.id)
                               .order_by(Estimate.number.desc()).limit(1))
    item.estimate_hours = newest.hours if newest else None
    item.estimate_cost = newest.cost if newest else None


def estimate_item(item: BacklogItem, *, hours: Decimal, acting: User, rate: Decimal | None = None,
                  lines: list[dict[str, Any]] | None = None, note: str = "") -> Estimate:
    """A new version of the estimate: cost = hours × rate (the client's, else the company's). Given
    ``lines`` (the internal breakdown: work and hours), the hours are their sum; the lines stay ours,
    never printed or sent to the client.

    An approval in force stays valid while the new cost is within ``APPROVAL_TOLERANCE`` of the
    approved one; above it the approval is voided, and an approved item goes back to estimation.
    """
    access.require(access.can_plan_item(acting, item),
                   "Оценивают задачу команда клиента и руководитель производства.")
    if item.is_closed:
        raise ServiceError("Задача закрыта: оценка не меняется.")
    lines = [{"title": (row.get("title") or "").strip(), "hours": row.get("hours")} for row in (lines or [])
             if (row.get("title") or "").strip() or row.get("hours") is not None]
    for row in lines:
        if not row["title"] or row["hours"] is None or Decimal(row["hours"]) <= 0:
            raise ServiceError("Каждой строке оценки нужны работа и часы больше нуля.")
    if lines:
        hours = sum((Decimal(row["hours"]) for row in lines), Decimal(0))
    if hours is None or hours <= 0:
        raise ServiceError("Укажите часы: больше нуля.", field="hours")
    if hours >= MAX_HOURS:
        raise ServiceError("Слишком много часов для одной задачи: разбейте её.", field="hours")
    rate = rate if rate is not None else default_rate(item.client)
    if rate < 0:
        raise ServiceError("Ставка не может быть отрицательной.", field="rate")
    derived.lock_owner(item)
    number = (db.session.scalar(sa.select(sa.func.max(Estimate.number)).where(Estimate.item_id == item.id)) or 0) + 1
    cost = (hours * rate).quantize(Decimal("0.01"))
    estimate = Estimate(item=item, number=number, hours=hours, rate=rate, cost=cost, note=note.strip(),
                        lines=[{"title": r["title"], "hours": format(Decimal(r["hours"]), "f")} for r in lines],
                        created_by_id=acting.id, created_at=utcnow())
    db.session.add(estimate)
    db.session.flush()
    _refresh_estimate(item)
    approval = item.approval
    if approval is not None and cost > approval.estimate.cost * (1 + APPROVAL_TOLERANCE):
        approval.void = True
        approval.void_reason = (f"Новая оценка {cost} ₽ выше согласованной {approval.estimate.cost} ₽ "
                                f"более чем на {int(APPROVAL_TOLERANCE * 100)} %")
        if item.status == ItemStatus.APPROVED:
            item.status = ItemStatus.ESTIMATE
            tag_action(item, "void_approval")
            _status_moved(item, acting, {})
    db.session.flush()
    budgets.item_changed(item)
    return estimate


def approve_item(item: BacklogItem, *, contact_id: int | None, channel: ApprovalChannel, acting: User,
                 approved_at: datetime | None = None, comment: str = "", confirm_overrun: bool = False) -> Approval:
    """Record the client's approval of the current estimate: only a decision maker of this client
    who decides cost approves. An approval that takes the item's budget block over its plan is
    refused (422, ``budgets.OverrunNotConfirmed``, saying by how much) until ``confirm_overrun``.
    The meetings page records approvals through this same operation, so it asks the same."""
    access.require(access.can_edit_item(acting, item),
                   "Согласование записывают аккаунт-менеджер клиента, заместитель и администратор.")
    if item.is_closed:
        raise ServiceError("Задача закрыта.")
    estimate = db.session.scalar(sa.select(Estimate).where(Estimate.item_id == item.id)
                                 .order_by(Estimate.number.desc()).limit(1))
    if estimate is None:
        raise ServiceError("Нечего согласовывать: сначала оцените задачу.")
    contact = db.session.get(Contact, contact_id) if contact_id else None
    if contact is None or contact.client_id != item.client_id:
        raise ServiceError("Выберите ЛПР клиента.", field="contact_id")
    if not (contact.is_decision_maker and contact.decides_cost):
        raise ServiceError(f"{contact.full_name} не решает вопросы стоимости: согласовать может ЛПР, "
                           "который решает стоимость.", field="contact_id")
    approved_at = approved_at or utcnow()
    if approved_at > utcnow() + timedelta(minutes=5):
        raise ServiceError("Согласование не может быть в будущем.", field="approved_at")
    budgets.check_approval(item, confirmed=confirm_overrun)
    approval = Approval(item=item, estimate=estimate, contact=contact, approved_at=approved_at, channel=channel,
                        comment=comment.strip(), recorded_by_id=acting.id, created_at=utcnow())
    db.session.add(approval)
    if item.status in (ItemStatus.NEW, ItemStatus.SPEC, ItemStatus.ESTIMATE, ItemStatus.APPROVAL):
        item.status = ItemStatus.APPROVED
        tag_action(item, "approve")
        _status_moved(item, acting, {})
    db.session.flush()
    return approval


# --- approval by link -----------------------------------------------------------------------------------

APPROVAL_LINK_TTL = timedelta(days=7)
APPROVAL_PURPOSE = "approve_estimate"


def link_deciders(client: Client) -> list[Contact]:
    """Whom an approval link can go to: the client's decision makers on cost who have an e-mail."""
    return [c for c in client.contacts if c.is_decision_maker and c.decides_cost and (c.email or "").strip()]


def send_approval_link(item: BacklogItem, *, contact_id: int | None, acting: User) -> mail.Outcome:
    """«Отправить на согласование по ссылке»: a single-use link for the chosen decision maker,
    e-mailed to them (without mail configured the outcome carries the text with the link to copy)."""
    access.require(access.can_edit_item(acting, item),
                   "Согласование запрашивают аккаунт-менеджер клиента, заместитель и администратор.")
    if item.status != ItemStatus.APPROVAL:
        raise ServiceError("По ссылке согласуют оценку, которая ждёт согласования клиента.")
    contact = next((c for c in link_deciders(item.client) if c.id == contact_id), None)
    if contact is None:
        raise ServiceError("Выберите ЛПР клиента, который решает стоимость и у которого указан e-mail.",
                           field="contact_id")
    token = links.issue_link(APPROVAL_PURPOSE, item, contact.email.strip(), APPROVAL_LINK_TTL, acting=acting)
    url = links.link_url(token)
    until = long_date(local(utcnow() + APPROVAL_LINK_TTL).date())
    text = (f"Здравствуйте, {contact.full_name}!\n\nПросим согласовать оценку задачи {item.key} «{item.title}»: "
            f"{number(item.estimate_hours)} ч, {money(item.estimate_cost)}.\n"
            f"Техническое задание и кнопки «Согласовать» и «Отклонить» — по ссылке (действует до {until}, "
            f"ответить можно один раз):\n{url}\n")
    return mail.send(contact.email.strip(), f"Согласование оценки: {item.key} {item.title}", text,
                     about=(BacklogItem.__tablename__, item.id), client_id=item.client_id, acting=acting)


def _link_contact(item: BacklogItem, link: SignedLink) -> Contact:
    """The decision maker the link was sent to, still one who decides cost."""
    address = link.recipient.strip().lower()
    contact = next((c for c in link_deciders(item.client) if c.email.strip().lower() == address), None)
    if contact is None:
        raise ServiceError("Адресата ссылки больше нет среди ЛПР клиента: попросите менеджера прислать новую.")
    if item.status != ItemStatus.APPROVAL:
        raise ServiceError("Оценка больше не ждёт согласования: уточните у вашего менеджера.")
    if link.created_by is None or not link.created_by.active:
        raise ServiceError("Менеджера, отправившего ссылку, больше нет: попросите прислать новую.")
    newest = db.session.scalar(sa.select(sa.func.max(Estimate.created_at)).where(Estimate.item_id == item.id))
    if newest is not None and newest > link.created_at:
        # The decision maker agrees to the cost they were sent, never to one changed after it.
        raise ServiceError("Оценку изменили после отправки ссылки: попросите менеджера прислать новую.")
    return contact


def _approve_by_link(item: BacklogItem, link: SignedLink, data) -> str:
    contact = _link_contact(item, link)
    # The client's own decision maker approves the cost knowing their budget: nobody to ask again.
    approve_item(item, contact_id=contact.id, channel=ApprovalChannel.LINK, acting=link.created_by,
                 approved_at=link.used_at, comment=(data.get("comment") or "")[:2000], confirm_overrun=True)
    return f"Оценка задачи {item.key} согласована. Спасибо!"


def _decline_by_link(item: BacklogItem, link: SignedLink, data) -> str:
    """The decision maker declines the estimate: back to estimation, with their comment in the history."""
    contact = _link_contact(item, link)
    item.status = ItemStatus.ESTIMATE
    tag_action(item, "decline_estimate", contact=contact.full_name,
               comment=(data.get("comment") or "").strip()[:2000])
    _status_moved(item, None, {})
    db.session.flush()
    return f"Оценка задачи {item.key} отклонена: менеджер свяжется с вами."


links.register_purpose(APPROVAL_PURPOSE, model=BacklogItem, render="backlog.approval_link",
                       title="Согласование оценки", actions={"approve": _approve_by_link, "decline": _decline_by_link})


# --- the spec for the client --------------------------------------------------------------------------


def spec_data(item: BacklogItem):
    """The item's spec as plain data for ``documents.spec``: both parties from ``documents.parties``,
    the four spec texts and the current estimate; the estimate's internal note is never passed on."""
    from webapp.documents.parties import both_parties
    from webapp.documents.spec import SpecDoc

    client, company = item.client, CompanyProfile.cached()
    contractor, customer = both_parties(client)
    return SpecDoc(key=item.key, title=item.title, contractor=contractor, client=customer, goal=item.goal or "",
                   current_behaviour=item.current_behaviour or "", required_behaviour=item.required_behaviour or "",
                   acceptance_criteria=item.acceptance_criteria or "", estimate_hours=item.estimate_hours,
                   estimate_cost=item.estimate_cost, vat_mode=company.vat_mode,
                   contract_number=client.contract_number or "", contract_date=client.contract_date)


# --- stages ------------------------------------------------------------------------------------------


def get_stage(item: BacklogItem, stage_id: int) -> Stage:
    stage = db.session.scalar(sa.select(Stage).where(Stage.id == stage_id, Stage.item_id == item.id))
    if stage is None:
        raise NotFound("Этап не найден.")
    return stage


def update_stage(stage: Stage, edit: Edit, *, acting: User) -> list[str]:
    access.require(access.can_plan_item(acting, stage.item), "Этапы ведут команда клиента и руководитель производства.")
    data = saving.changes(stage, edit, ("name", "due_on"))
    if "name" in data and not (data["name"] or "").strip():
        raise ServiceError("Назовите этап.", field="name")
    return saving.write(stage, data)


def complete_stage(stage: Stage, version: Any, *, done: bool, acting: User) -> None:
    """Mark a stage done (or not done after all)."""
    access.require(access.can_move_item(acting, stage.item), "Этапы отмечают команда клиента, руководитель и исполнитель.")
    saving.check_delete(stage, version)
    stage.done_at = utcnow() if done else None
    db.session.flush()


def add_stage(item: BacklogItem, *, name: str, due_on: date | None, acting: User) -> Stage:
    access.require(access.can_plan_item(acting, item), "Этапы ведут команда клиента и руководитель производства.")
    if not name.strip():
        raise ServiceError("Назовите этап.", field="name")
    position = (max((s.position for s in item.stages), default=-1)) + 1
    stage = Stage(item=item, name=name.strip(), due_on=due_on, position=position, kind=StageKind.PLAIN)
    db.session.add(stage)
    db.session.flush()
    return stage


# --- time ---------------------------------------------------------------------------------------------


def log_time(item: BacklogItem, *, spent_on: date, hours: Decimal, acting: User, comment: str = "",
             billable: bool | None = None) -> TimeEntry:
    """«+ часы»: hours on a day; the item's spent hours are recomputed under a lock on it. Warranty
    work is never billable."""
    access.require(access.can_log_time(acting, item), "Время списывают исполнитель, команда клиента и руководитель.")
    if hours is None or hours <= 0 or hours > 24:
        raise ServiceError("Часы за день: больше нуля и не больше 24.", field="hours")
    if spent_on > today():
        raise ServiceError("Нельзя списать время на будущий день.", field="spent_on")
    if billable is None:
        billable = item.billing == Billing.BILLABLE
    if item.billing == Billing.WARRANTY:
        billable = False
    derived.lock_owner(item)
    entry = TimeEntry(item=item, user_id=acting.id, spent_on=spent_on, hours=hours, comment=comment.strip(),
                      billable=billable, created_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    refresh_spent(item)
    budgets.item_changed(item)
    return entry


def refresh_spent(item: BacklogItem) -> None:
    """The item's spent hours from its time entries (the caller holds the item's lock)."""
    item.spent_hours = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(TimeEntry.hours), 0))
                                         .where(TimeEntry.item_id == item.id))
    db.session.flush()


# --- the client's order ---------------------------------------------------------------------------------


def move_rank(item: BacklogItem, *, acting: User, before: BacklogItem | None = None,
              after: BacklogItem | None = None) -> None:
    """Put ``item`` just before ``before`` (or just after ``after``) in its client's order. Only
    the moved item changes, in the gap between its new neighbours; a gap used up renumbers the
    client's items with fresh gaps (rare: 1024 moves into one spot)."""
    access.require(access.can_edit_item(acting, item), "Порядок задач клиента ведёт его аккаунт-менеджер.")
    anchor = before or after
    if anchor is None or anchor.id == item.id:
        return
    if anchor.client_id != item.client_id:
        raise ServiceError("Задачи разных клиентов не упорядочиваются вместе.")
    derived.lock_owner(item.client)
    for attempt in range(2):
        db.session.refresh(anchor, ["rank"])
        neighbour_query = sa.select(BacklogItem.rank).where(BacklogItem.client_id == item.client_id,
                                                             BacklogItem.id != item.id)
        if before is not None:
            low = db.session.scalar(neighbour_query.where(
                sa.tuple_(BacklogItem.rank, BacklogItem.id) < sa.tuple_(anchor.rank, anchor.id))
                .order_by(BacklogItem.rank.desc(), BacklogItem.id.desc()).limit(1))
            low, high = (low if low is not None else anchor.rank - 2 * RANK_GAP), anchor.rank
        else:
            high = db.session.scalar(neighbour_query.where(
                sa.tuple_(BacklogItem.rank, BacklogItem.id) > sa.tuple_(anchor.rank, anchor.id))
                .order_by(BacklogItem.rank, BacklogItem.id).limit(1))
            low, high = anchor.rank, (high if high is not None else anchor.rank + 2 * RANK_GAP)
        if high - low > 1:
            item.rank = (low + high) // 2
            db.session.flush()
            return
        _respace(item.client_id)
    raise AssertionError("a respaced list always has a gap")


def _respace(client_id: int) -> None:
    items = db.session.scalars(sa.select(BacklogItem).where(BacklogItem.client_id == client_id)
                               .order_by(BacklogItem.rank, BacklogItem.id))
    for n, other in enumerate(items, start=1):
        other.rank = n * RANK_GAP
    db.session.flush()


def fix_priorities(client: Client, *, contact_id: int | None, acting: User, agreed_at: datetime | None = None,
                   comment: str = "") -> PriorityAgreement:
    """«Зафиксировать приоритеты»: the open items' order as it stands, agreed with whom and when."""
    access.require(access.can_edit_client(acting, client), "Приоритеты фиксирует аккаунт-менеджер клиента.")
    contact = db.session.get(Contact, contact_id) if contact_id else None
    if contact is None or contact.client_id != client.id:
        raise ServiceError("Выберите, кто со стороны клиента согласовал порядок.", field="contact_id")
    items = db.session.scalars(sa.select(BacklogItem).where(BacklogItem.client_id == client.id,
                                                            BacklogItem.status.in_(OPEN))
                               .order_by(BacklogItem.rank, BacklogItem.id))
    agreement = PriorityAgreement(client_id=client.id, contact=contact, agreed_at=agreed_at or utcnow(),
                                  items=[{"id": i.id, "key": i.key, "title": i.title} for i in items],
                                  comment=comment.strip(), recorded_by_id=acting.id, created_at=utcnow())
    if not agreement.items:
        raise ServiceError("Открытых задач нет: фиксировать нечего.")
    db.session.add(agreement)
    db.session.flush()
    return agreement


@dataclass
class AgreedOrder:
    """The client's open items in their order, with the last «Зафиксировать приоритеты»."""

    items: list[BacklogItem]
    agreement: PriorityAgreement | None
    changed: bool  # the order (or the set of open items) is no longer what was agreed


def agreed_order(user: User, client: Client, day: date) -> AgreedOrder:
    """What the printed list and the export show: the open items the user may see, ranked, and the
    last agreement of the order; whether the order moved on since."""
    items = client_backlog(user, client, ItemFilters(), day)
    last = next(iter(agreements(client, limit=1)), None)
    changed = False
    if last is not None:
        shown = {i.id for i in items}
        changed = [row["id"] for row in last.items if row["id"] in shown] != [i.id for i in items]
    return AgreedOrder(items, last, changed)


def order_sheet(order: AgreedOrder, client: Client):
    """The agreed order as plain data for ``documents.backlog_order``: no notes, no internal lines."""
    from webapp.documents.backlog_order import OrderRow, OrderSheet

    last = order.agreement
    agreed = "не согласован"
    if last is not None:
        agreed = (f"{last.contact.full_name if last.contact else 'контакт удалён'}, "
                  f"{local(last.agreed_at).strftime('%d.%m.%Y %H:%M')}")
    rows = [OrderRow(n, i.key, i.title, i.priority.label, i.status.label, i.estimate_hours, i.estimate_cost)
            for n, i in enumerate(order.items, start=1)]
    return OrderSheet(client_name=client.short_name, agreed=agreed, rows=rows,
                      exported=local(utcnow()).strftime("%d.%m.%Y %H:%M"),
                      note="Порядок изменён после согласования." if order.changed else "")


# --- «Мой день» ------------------------------------------------------------------------------------------

APPROVAL_WAIT_DAYS = 2  # calendar days an estimate may wait on the client before it shows


@dataclass
class Waiting:
    item: BacklogItem
    days: int


def _approvals_query(user: User, day: date) -> sa.Select:
    """Items of the user's clients (every client for an admin) waiting for the client's approval
    ``APPROVAL_WAIT_DAYS`` calendar days or more on ``day`` (as their rows count them), longest first."""
    since = day_start(day - timedelta(days=APPROVAL_WAIT_DAYS - 1))
    query = (access.visible_items(user).where(BacklogItem.status == ItemStatus.APPROVAL,
                                              BacklogItem.status_changed_at < since)
             .order_by(BacklogItem.status_changed_at))
    if not access.is_admin(user):
        query = query.where(BacklogItem.client_id.in_(access.team_client_ids(user)))
    return query


def approvals_waiting(user: User, day: date, limit: int | None = None) -> list[Waiting]:
    query = _first_rows(_approvals_query, access.Viewer.of(user), day, limit=limit)
    return [Waiting(item, (day - local(item.status_changed_at).date()).days) for item in db.session.scalars(query)]


@functools.lru_cache(maxsize=512)
def _first_rows(query, viewer: access.Viewer, *args, limit: int | None) -> sa.Select:
    """The first ``limit`` items of ``query(viewer, *args)`` as «Мой день» lists them, kept per user
    (and day, for a query that takes one), as the badges are (``access.Viewer``)."""
    return query(viewer, *args).limit(limit).options(*_LIST_ROW_UNASSIGNED)


def _my_items_query(user: User) -> sa.Select:
    """A specialist's (or lead's) open items, in the clients' order of importance."""
    priority_order = sa.case({p.value: n for n, p in enumerate(Priority)}, value=BacklogItem.priority)
    return (access.visible_items(user).where(BacklogItem.assignee_id == user.id, BacklogItem.status.in_(OPEN))
            .order_by(priority_order, BacklogItem.rank))


def my_items(user: User, day: date, limit: int | None = None) -> list[BacklogItem]:
    items = list(db.session.scalars(_first_rows(_my_items_query, access.Viewer.of(user), limit=limit)))
    attach_next_stages(items)
    return items


def _new_requests_query(user: User) -> sa.Select:
    """Requests of the user's clients nobody has started on yet (no spec, no estimate), oldest first."""
    return (access.visible_items(user).where(BacklogItem.status == ItemStatus.NEW,
                                             BacklogItem.client_id.in_(access.team_client_ids(user)))
            .order_by(BacklogItem.received_at))


def new_requests(user: User, day: date, limit: int | None = None) -> list[BacklogItem]:
    return list(db.session.scalars(_first_rows(_new_requests_query, access.Viewer.of(user), limit=limit)))


def _overdue_mine(user: User) -> bool:
    """«Мой день» shows planners and admins every overdue stage, the others their clients' and items'."""
    return not (access.is_admin(user) or user.role in access.PLANNERS)


dashboard.register(dashboard.Section(
    "new-requests", "Новые заявки", 12, applies=access.leads_clients, load=new_requests,
    counted=lambda user, day: _new_requests_query(user), macro="backlog.new_requests",
    more=dashboard.Link("backlog.index", {"status": ItemStatus.NEW.value}),
    empty="Все заявки разобраны. Новую заявку принимают из карточки клиента или в разделе «Бэклог»."))
dashboard.register(dashboard.Section(
    "approvals", "Ждут согласования клиента", 20,
    applies=lambda user: access.leads_clients(user) or access.is_admin(user),
    load=approvals_waiting, counted=_approvals_query,
    macro="backlog.waiting_list", more=dashboard.Link("backlog.index", {"status": ItemStatus.APPROVAL.value}),
    empty=f"Ни одна оценка не ждёт согласования {APPROVAL_WAIT_DAYS} "
          f"{plural(APPROVAL_WAIT_DAYS, 'день', 'дня', 'дней')} и дольше."))
dashboard.register(dashboard.Section(
    "overdue-stages", "Просроченные этапы", 30,
    applies=lambda user: user.role in (Role.ADMIN, Role.MANAGER, Role.LEAD, Role.SPECIALIST),
    load=lambda user, day, limit: overdue_stages(user, day, limit=limit, mine=_overdue_mine(user)),
    counted=lambda user, day: _overdue_stages_query(user, day, mine=_overdue_mine(user)),
    macro="backlog.overdue_list", more=dashboard.Link("backlog.index", {"overdue": "1"}), empty="Просроченных этапов нет."))
dashboard.register(dashboard.Section(
    "my-items", "Мои задачи", 15, applies=lambda user: user.role in (Role.SPECIALIST, Role.LEAD),
    load=my_items, counted=lambda user, day: _my_items_query(user), macro="backlog.my_items",
    more=dashboard.Link("backlog.index", {"assignee": "me"}), refresh_on="item-changed",
    empty="На вас нет открытых задач."))


# --- the client's timeline ---------------------------------------------------------------------------------

_TIMELINE_ACTIONS = {"create": "Новая заявка", "approve": "Согласована клиентом"}


def _timeline_query(viewer: access.Viewer, before_kind: str | None, limit: int) -> sa.Select:
    """Items received, their status moves and approvals, from the audit trail of the client's items."""
    item_ids = access.visible_items(viewer).where(BacklogItem.client_id == timeline.CLIENT).with_only_columns(BacklogItem.id)
    actions = [m.action for m in BacklogItem.workflow.moves] + ["create"]
    return (sa.select(AuditEvent).where(AuditEvent.entity_type == BacklogItem.__tablename__,
                                        AuditEvent.entity_id.in_(item_ids), AuditEvent.action.in_(actions),
                                        *timeline.older_than("backlog", AuditEvent.created_at, AuditEvent.id,
                                                             before_kind))
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit))


def _timeline_entries(client: Client, user: User, events) -> list[timeline.Entry]:
    labels = BacklogItem.workflow.action_labels()
    found = []
    for event in events:
        title = _TIMELINE_ACTIONS.get(event.action) or ("Задача: " + labels.get(event.action, event.action))
        found.append(timeline.Entry("backlog", event.created_at, event.id, title, event.entity_label,
                                    meta=event.actor_name))
    return found


timeline.register("backlog", query=_timeline_query, build=_timeline_entries)


# --- the planning meeting's agenda -------------------------------------------------------------------

AGENDA_LIMIT = 20


def _agenda_new(client: Client, since: datetime | None, day: date) -> list[agenda.Proposal]:
    """Requests received since the last meeting (every open new one before the first meeting)."""
    query = sa.select(BacklogItem).where(BacklogItem.client_id == client.id, BacklogItem.status.in_(OPEN))
    query = query.where(BacklogItem.received_at >= since) if since else query.where(BacklogItem.status == ItemStatus.NEW)
    items = db.session.scalars(query.options(lazyload(BacklogItem.requester))
                               .order_by(BacklogItem.received_at, BacklogItem.id).limit(AGENDA_LIMIT))
    return [agenda.Proposal(f"backlog-new:{i.id}", f"Новая заявка {i.key}: {i.title}", backlog_item_id=i.id)
            for i in items]


def _agenda_approvals(client: Client, since: datetime | None, day: date) -> list[agenda.Proposal]:
    items = db.session.scalars(sa.select(BacklogItem).where(BacklogItem.client_id == client.id,
                                                            BacklogItem.status == ItemStatus.APPROVAL)
                               .options(lazyload(BacklogItem.requester))
                               .order_by(BacklogItem.rank, BacklogItem.id).limit(AGENDA_LIMIT))
    return [agenda.Proposal(f"backlog-approval:{i.id}:{number(i.estimate_hours)}",
                            f"Согласовать оценку {i.key}: {i.title} — {number(i.estimate_hours)} ч, "
                            f"{money(i.estimate_cost)}", backlog_item_id=i.id) for i in items]


def _agenda_overdue(client: Client, since: datetime | None, day: date) -> list[agenda.Proposal]:
    stages = db.session.scalars(
        sa.select(Stage).join(BacklogItem, Stage.item_id == BacklogItem.id)
        .where(BacklogItem.client_id == client.id, Stage.done_at.is_(None), Stage.due_on < day,
               BacklogItem.status.in_(OPEN), BacklogItem.status.not_in(SLA_PAUSED))
        .options(sa.orm.contains_eager(Stage.item), lazyload(Stage.item, BacklogItem.requester))
        .order_by(Stage.due_on, Stage.id).limit(AGENDA_LIMIT))
    return [agenda.Proposal(f"backlog-overdue:{s.id}",
                            f"Просрочен этап «{s.name}» задачи {s.item.key} (срок {long_date(s.due_on)})",
                            backlog_item_id=s.item_id) for s in stages]


def _agenda_priorities(client: Client, since: datetime | None, day: date) -> list[agenda.Proposal]:
    count = db.session.scalar(sa.select(sa.func.count()).where(BacklogItem.client_id == client.id,
                                                               BacklogItem.status.in_(OPEN)))
    if not count:
        return []
    return [agenda.Proposal(f"backlog-priorities:{day.isoformat()}",
                            f"Согласовать порядок открытых задач ({count})")]


agenda.register(agenda.AgendaSection("backlog-new", "Новые заявки", 10, _agenda_new))
agenda.register(agenda.AgendaSection("backlog-approval", "Оценки на согласовании", 20, _agenda_approvals))
agenda.register(agenda.AgendaSection("backlog-overdue", "Просроченные этапы", 30, _agenda_overdue))
agenda.register(agenda.AgendaSection("backlog-priorities", "Приоритеты задач", 40, _agenda_priorities))
