"""Clients, their contacts and the contact log; the cadence bookkeeping that keeps lists fast.

Every write here keeps the client's stored cadence dates and search text in step, in the same
transaction, so lists and the dashboard filter with plain comparisons instead of per-row work. They
are derived figures (``services.derived``): each writer locks the client first and recomputes them
from the touchpoints and contacts in the database.
"""

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, defer, joinedload, lazyload, selectinload

from webapp import saving
from webapp.extensions import db
from webapp.formatting import local, long_date
from webapp.models import User
from webapp.models.audit import tag_action
from webapp.models.clients import (DEFAULT_CADENCE_DAYS, CadenceState, Channel, Client, ClientStatus,
                                   Contact, Touchpoint, cadence_dates, phone_digits)
from webapp.models.types import utcnow
from webapp.saving import Edit
from webapp.services import NotFound, ServiceError, access, as_id, dashboard, derived, terms, timeline

# --- cadence and search bookkeeping ----------------------------------------------------------


def refresh_cadence(client: Client, interval: int | None = None) -> None:
    """Recompute the dates on which the client becomes due, overdue and critical; the interval is
    the one the terms in force give (``terms.effective_terms``), unless the caller read it already."""
    base = local(client.last_contact_at or client.created_at or utcnow()).date()
    if interval is None:
        interval = terms.effective_terms(client).contact_cadence_days
    dates = cadence_dates(base, interval, client.next_contact_on)
    client.due_on, client.overdue_on, client.critical_on = dates.due_on, dates.overdue_on, dates.critical_on


# What a search ignores on both sides: case, ё/е, quotes, and the legal form, which people type or
# leave out at will («ООО Ромашка», «Ромашка», «Ромашка» in ёлочки find the same client).
_QUOTES = re.compile(r"[«»\"'„“”‘’`]")
_LEGAL_FORMS = re.compile(
    r"(?<!\w)(?:ооо|оао|зао|пао|нао|ао|ип|общество с ограниченной ответственностью"
    r"|(?:публичное |непубличное |закрытое |открытое )?акционерное общество"
    r"|индивидуальный предприниматель)(?!\w)")


def search_key(text: str) -> str:
    """«ООО «Соловьёва и Ко»» → «соловьева и ко»: the form in which text is stored and searched."""
    text = _QUOTES.sub(" ", (text or "").lower().replace("ё", "е"))
    return " ".join(_LEGAL_FORMS.sub(" ", text).split())


# The client's own fields in its search text, and those its contact dates are computed from: a save
# of other fields (the address, the bank, the notes) recomputes neither.
SEARCHED_FIELDS = ("short_name", "legal_name", "inn", "kpp", "ogrn", "contract_number")
CADENCE_FIELDS = ("contact_cadence_days",)


def refresh_search_text(client: Client) -> None:
    """One normalised string holding all a search can match: names, ИНН, КПП, ОГРН, the contract,
    contacts with their phones, e-mails and messengers. The contacts are read from the database, not
    from ``client.contacts`` (possibly loaded before the lock: see ``services.derived``)."""
    parts = [getattr(client, name) for name in SEARCHED_FIELDS]
    if client.id is not None:  # a new client has no contacts yet
        for row in db.session.execute(
                sa.select(Contact.full_name, Contact.email, Contact.phone_digits, Contact.messenger)
                .where(Contact.client_id == client.id)
                .order_by(Contact.is_decision_maker.desc(), Contact.full_name, Contact.id)):
            parts += row
    client.search_text = " ".join(search_key(p) for p in parts if p)


def _refresh_last_contact(client: Client) -> None:
    """The newest touchpoint sets the last contact and the planned next contact."""
    newest = db.session.execute(
        sa.select(Touchpoint.occurred_at, Touchpoint.next_contact_on).where(Touchpoint.client_id == client.id)
        .order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc()).limit(1)).first()
    # The terms are read before the client changes: read after, their query flushed the last contact
    # in an UPDATE of its own, and the cadence's dates in a second one.
    interval = terms.effective_terms(client).contact_cadence_days
    client.last_contact_at = newest.occurred_at if newest else None
    client.next_contact_on = newest.next_contact_on if newest else None
    refresh_cadence(client, interval)


# --- clients ------------------------------------------------------------------------------------

CLIENT_FIELDS = ("short_name", "legal_name", "inn", "kpp", "ogrn", "address", "bank_name", "bik",
                 "account", "corr_account", "contract_number", "contract_date", "manager_id",
                 "deputy_id", "status", "hourly_rate", "contact_cadence_days", "notes",
                 "phone", "email", "registered_on", "regulation_appendix", "signatory_contact_id",
                 "signatory_position_genitive", "signatory_authority", "signatory_attorney_number",
                 "signatory_attorney_date")


def _check_team(data: dict[str, Any]) -> None:
    for key in ("manager_id", "deputy_id"):
        if data.get(key) is None:
            continue
        user = db.session.get(User, data[key])
        if user is None or not access.is_account_manager(user):
            raise ServiceError("Выберите активного аккаунт-менеджера.", field=key)
    if data.get("deputy_id") is not None and data.get("deputy_id") == data.get("manager_id"):
        raise ServiceError("Заместитель должен отличаться от аккаунт-менеджера.", field="deputy_id")


def create_client(data: dict[str, Any], *, acting: User) -> Client:
    """A new client; a manager who adds one leads it unless they name someone else."""
    access.require(access.can_create_client(acting), "Добавлять клиентов могут аккаунт-менеджеры и администратор.")
    data = {k: v for k, v in data.items() if k in CLIENT_FIELDS}
    data["manager_id"] = data.get("manager_id") or acting.id
    data.setdefault("status", ClientStatus.ACTIVE)
    data["contact_cadence_days"] = data.get("contact_cadence_days") or DEFAULT_CADENCE_DAYS
    _check_team(data)
    _check_unique_inn(data.get("inn"), data.get("kpp"), None)
    client = Client(**data)
    client.created_at = utcnow()
    db.session.add(client)
    refresh_search_text(client)
    refresh_cadence(client)
    db.session.flush()
    return client


# A branch shares its head office's ИНН with a КПП of its own; clients without an ИНН are many.
DUPLICATE_CLIENT = "Клиент с таким ИНН и КПП уже есть{}. Филиал с тем же ИНН добавьте со своим КПП."
saving.unique_rule("uq_clients_inn_kpp", DUPLICATE_CLIENT.format(""), field="inn")


def _check_unique_inn(inn: str | None, kpp: str | None, client_id: int | None) -> None:
    """The check the index ``uq_clients_inn_kpp`` makes again, naming the other client."""
    if not inn:
        return
    query = sa.select(Client.short_name).where(Client.inn == inn, Client.kpp == (kpp or ""))
    if client_id is not None:
        query = query.where(Client.id != client_id)
    if other := db.session.scalar(query.limit(1)):
        raise ServiceError(DUPLICATE_CLIENT.format(f": «{other}»"), field="inn")


def update_client(client: Client, edit: Edit, *, acting: User) -> list[str]:
    """Save one block of the card: only the fields this user changed. Only an admin reassigns the
    account manager (a handover)."""
    access.require_edit_client(acting, client)
    derived.lock_owner(client)
    data = saving.changes(client, edit, CLIENT_FIELDS)
    if "manager_id" in data:
        access.require(access.can_reassign_client(acting),
                       "Сменить аккаунт-менеджера может администратор (передача клиентов).")
    _check_team({"manager_id": data.get("manager_id", client.manager_id),
                 "deputy_id": data.get("deputy_id", client.deputy_id)})
    if "inn" in data or "kpp" in data:
        _check_unique_inn(data.get("inn", client.inn), data.get("kpp", client.kpp), client.id)
    changed = saving.write(client, data)
    if not set(changed).isdisjoint(SEARCHED_FIELDS):
        refresh_search_text(client)
    if not set(changed).isdisjoint(CADENCE_FIELDS):
        refresh_cadence(client)
    return changed


@dataclass
class ClientFilters:
    q: str = ""
    manager: str = ""          # a user id, "me", or "" for everyone
    status: str = ""           # a ClientStatus value, "open" (not closed), "working" (CONTACTED_STATUSES) or ""
    cadence: str = ""          # a CadenceState value or ""
    sort: str = "name"


# The clients the cadence is kept with: «Мой день», the admin's counts and the list's «В работе»
# filter (which the counts link to) all use this one definition.
CONTACTED_STATUSES = (ClientStatus.ACTIVE, ClientStatus.PROSPECT)

_PHONE_QUERY = re.compile(r"^[\d\s()+\-]+$")

SORTS = {
    "name": (Client.short_name,),
    "last_contact": (Client.last_contact_at.asc().nulls_first(), Client.short_name),
    "-last_contact": (Client.last_contact_at.desc().nulls_last(), Client.short_name),
    "due": (Client.due_on.asc(), Client.short_name),
}


def client_list_query(user: User, filters: ClientFilters, today: date) -> sa.Select:
    """The client list: scoped, searched, filtered, sorted — one query, whatever the row count."""
    query = access.visible_clients(user).options(defer(Client.search_text), defer(Client.notes))
    if needles := _needles(filters.q):
        query = query.where(sa.or_(*(Client.search_text.contains(n, autoescape=True) for n in needles)))
    if filters.manager == "me":
        query = query.where(access.is_on_team(user))
    elif (manager_id := as_id(filters.manager)) is not None:
        query = query.where(Client.manager_id == manager_id)
    if filters.status == "open":
        query = query.where(Client.status != ClientStatus.CLOSED)
    elif filters.status == "working":
        query = query.where(Client.status.in_(CONTACTED_STATUSES))
    elif filters.status in ClientStatus.__members__.values():
        query = query.where(Client.status == ClientStatus(filters.status))
    query = query.where(*Client.cadence_condition(filters.cadence, today))
    return query.order_by(*SORTS.get(filters.sort, SORTS["name"]))


@dataclass
class DueRow:
    """One line of «Мой день»: whom to call, what was said last time and what was agreed."""

    client: Client
    person: Contact | None      # a decision maker with a phone first, else any contact with a phone
    last: Touchpoint | None     # the newest contact: its summary and the agreed next step


def _needles(q: str) -> list[str]:
    """What a query looks for in the search text: its normalised words and, for a phone, its digits
    («+7 (912) 345-67-89», «8 912…» and «9123456789» all find the stored «79123456789»)."""
    q = q.strip()
    needles = [key] if (key := search_key(q)) else []  # «ООО» alone: a legal form, ignored
    digits = re.sub(r"\D", "", q, flags=re.ASCII)
    if _PHONE_QUERY.match(q) and len(digits) >= 5:
        needles.append(digits[1:] if len(digits) == 11 and digits[0] in "78" else digits)
    return needles


def match_notes(found: list[Client], q: str) -> dict[int, str]:
    """For each client a search found, which field or contact matched — unless its name did, which
    the list shows anyway. The requisites of the page's clients in one query, then the contacts of
    those still unexplained in another: plain rows of the columns searched, not whole records."""
    needles = _needles(q)
    if not needles or not found:
        return {}
    key, digits = needles[0], needles[1] if len(needles) > 1 else None

    def hit(text: str) -> bool:
        return bool(text) and key in search_key(text)

    ids = [c.id for c in found if not hit(c.short_name)]
    if not ids:
        return {}
    notes = {}
    for row in db.session.execute(sa.select(Client.id, Client.legal_name, Client.inn, Client.kpp, Client.ogrn,
                                            Client.contract_number).where(Client.id.in_(ids))):
        fields = [("полное наименование", row.legal_name), ("ИНН", row.inn), ("КПП", row.kpp),
                  ("ОГРН", row.ogrn), ("договор №", row.contract_number)]
        if note := next((f"{label} {value}" for label, value in fields if hit(value)), None):
            notes[row.id] = note
    unexplained = [i for i in ids if i not in notes]
    people = db.session.execute(
        sa.select(Contact.client_id, Contact.full_name, Contact.phone, Contact.phone_digits, Contact.email,
                  Contact.messenger).where(Contact.client_id.in_(unexplained))
        .order_by(Contact.is_decision_maker.desc(), Contact.full_name)) if unexplained else []
    for person in people:
        if person.client_id in notes:
            continue
        if hit(person.full_name):
            notes[person.client_id] = f"контакт: {person.full_name}"
        elif digits and digits in person.phone_digits or hit(person.phone_digits):
            notes[person.client_id] = f"телефон {person.phone}: {person.full_name}"
        elif hit(person.email):
            notes[person.client_id] = f"e-mail {person.email}: {person.full_name}"
        elif hit(person.messenger):
            notes[person.client_id] = f"мессенджер {person.messenger}: {person.full_name}"
    return notes


def namesakes(user: User, client: Client) -> list[Client]:
    """Other clients the user can see whose name reads the same once case, ё, quotes and the legal
    form are set aside: a likely duplicate, worth a warning (never a refusal: namesakes exist)."""
    key = search_key(client.short_name)
    if not key:
        return []
    query = (access.visible_clients(user)
             .where(Client.id != client.id, sa.or_(Client.search_text == key, Client.search_text.startswith(key + " ")))
             .options(defer(Client.notes)).order_by(Client.short_name).limit(20))
    return [c for c in db.session.scalars(query) if key in (search_key(c.short_name), search_key(c.legal_name))][:5]


def due_query(user: User, today: date) -> sa.Select:
    """The user's active clients (led or stood in for) that need a contact today, most neglected first."""
    return (access.visible_clients(user)
            .where(Client.status.in_(CONTACTED_STATUSES),
                   access.is_on_team(user),
                   *Client.cadence_condition("attention", today))
            .order_by(Client.due_on, Client.last_contact_at.asc().nulls_first(), Client.short_name))


# The person to call (a decision maker with a phone first) and the newest contact of each due client,
# joined by their ids: built once, they hold nothing of a request.
_PERSON, _LAST = aliased(Contact, name="due_person"), aliased(Touchpoint, name="due_last")
_PERSON_ID = (sa.select(Contact.id).where(Contact.client_id == Client.id, Contact.phone_digits != "")
              .order_by(Contact.is_decision_maker.desc(), Contact.full_name, Contact.id).limit(1)
              .correlate(Client).scalar_subquery())
_LAST_ID = (sa.select(Touchpoint.id).where(Touchpoint.client_id == Client.id)
            .order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc()).limit(1)
            .correlate(Client).scalar_subquery())
_DUE_ROW = (lazyload(Client.manager), lazyload(Client.deputy), defer(Client.search_text), defer(Client.notes),
            lazyload(_LAST.user), lazyload(_LAST.contacts))


def due_clients(user: User, today: date, limit: int | None = None) -> list[DueRow]:
    """«Мой день»: the first ``limit`` clients of ``due_query``, each with the person to call and
    the newest contact, in one statement however many rows. The page shows no team names, so the
    manager and deputy are not joined."""
    return [DueRow(*row) for row in db.session.execute(_due_page(access.Viewer.of(user), today, limit))]


@functools.lru_cache(maxsize=256)
def _due_page(viewer: access.Viewer, today: date, limit: int | None) -> sa.Select:
    """Kept per user and day (``access.Viewer``): built, it cost a quarter of the section."""
    return (due_query(viewer, today).add_columns(_PERSON, _LAST)
            .outerjoin_from(Client, _PERSON, _PERSON.id == _PERSON_ID)
            .outerjoin_from(Client, _LAST, _LAST.id == _LAST_ID).limit(limit).options(*_DUE_ROW))


@dataclass
class ManagerDue:
    """One manager's row on the admin's «Мой день»."""

    manager: access.Person
    critical: int
    overdue: int
    due: int
    neglected: list[Any]  # rows of (id, short_name, manager_id)

    @property
    def total(self) -> int:
        return self.critical + self.overdue + self.due


def due_by_manager(user: User, today: date, *, per_manager: int = 3) -> list[ManagerDue]:
    """«Мой день» for an admin: per manager, how many clients are due, overdue and critical, and
    the most neglected of them — two queries, however large the company."""
    counted, ranked = _by_manager_statements(access.Viewer.of(user), today, per_manager, db.engine.dialect.name)
    counts: dict[int, dict[str, int]] = {}
    for manager_id, value, count in db.session.execute(counted):
        counts.setdefault(manager_id, {})[value] = count
    neglected = db.session.execute(ranked).all()
    managers = {row.id: access.Person(*row) for row in db.session.execute(
        sa.select(User.id, User.full_name).where(User.id.in_(counts)))}  # a deactivated manager's clients too
    rows: dict[int, ManagerDue] = {}
    for client in neglected:
        by_state = counts[client.manager_id]
        rows.setdefault(client.manager_id, ManagerDue(
            managers[client.manager_id], by_state.get(CadenceState.CRITICAL, 0),
            by_state.get(CadenceState.OVERDUE, 0), by_state.get(CadenceState.DUE, 0), []))
        rows[client.manager_id].neglected.append(client)
    return sorted(rows.values(), key=lambda row: row.manager.full_name)


def _most_neglected_first(client=Client) -> tuple:
    """The admin's order of a manager's clients: due first, then the longest without a contact."""
    return client.due_on, client.last_contact_at.asc().nulls_first(), client.id


@functools.lru_cache(maxsize=64)
def _by_manager_statements(viewer: access.Viewer, today: date, per_manager: int,
                           dialect: str) -> tuple[sa.Select, sa.Select]:
    """The counts by manager and cadence state, and each manager's ``per_manager`` most neglected
    clients: kept per user and day (``access.Viewer``), as the rest of «Мой день».

    PostgreSQL ranks every client due a call in one window (1,500 on the benchmark data: a scan and a
    sort, 1.2–2.5 ms; a LATERAL walk per manager measured no better). SQLite's window cost 3–5 ms
    there, so SQLite walks each manager's clients (their index) to the first few instead: 1.6–1.8 ms.
    Not PostgreSQL's way too: it runs that correlated IN for every pair of user and client (seconds).
    One statement per dialect, kept apart by the cache's key."""
    attention = (access.visible_clients(viewer)
                 .where(Client.status.in_(CONTACTED_STATUSES),
                        *Client.cadence_condition("attention", today)))
    state = Client.cadence_case(today)
    counted = attention.with_only_columns(Client.manager_id, state, sa.func.count()).group_by(Client.manager_id, state)
    if dialect == "sqlite":
        walk = attention.where(Client.manager_id == User.id).order_by(*_most_neglected_first()).limit(per_manager)
        shown = sa.orm.aliased(Client)
        return counted, (sa.select(shown.id, shown.short_name, shown.manager_id)
                         .select_from(User).join(shown, shown.id.in_(walk.with_only_columns(Client.id)))
                         .order_by(shown.manager_id, *_most_neglected_first(shown)))
    ranked = attention.with_only_columns(
        Client.id, Client.short_name, Client.manager_id,
        sa.func.row_number().over(partition_by=Client.manager_id, order_by=_most_neglected_first()).label("rank"),
    ).subquery()
    return counted, (sa.select(ranked.c.id, ranked.c.short_name, ranked.c.manager_id)
                     .where(ranked.c.rank <= per_manager).order_by(ranked.c.manager_id, ranked.c.rank))


dashboard.register(dashboard.Section(
    "due", "Пора связаться", 10, applies=lambda user: access.leads_clients(user),
    load=due_clients, counted=due_query, macro="clients.due_list", refresh_on="contact-logged",
    more=dashboard.Link("clients.index", {"manager": "me", "status": "working", "cadence": "attention", "sort": "due"}),
    empty="Все клиенты в графике: сегодня никому не нужно звонить. Следующие контакты — в списке "
          "клиентов, фильтр «В графике»."))
dashboard.register(dashboard.Section(
    "managers", "Кому из клиентов пора позвонить", 10, applies=access.is_admin,
    load=due_by_manager, count=lambda rows: sum(row.total for row in rows), macro="clients.managers_table",
    empty="Все клиенты в графике: никому из менеджеров сегодня не нужно звонить."))


# --- contacts -----------------------------------------------------------------------------------

CONTACT_FIELDS = ("full_name", "position", "phone", "email", "messenger", "is_decision_maker",
                  "decides_scope", "decides_cost", "decides_payment", "decides_acceptance", "notes")


def _contact_data(data: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in data.items() if k in CONTACT_FIELDS}
    if not data.get("is_decision_maker", True):
        for key in ("decides_scope", "decides_cost", "decides_payment", "decides_acceptance"):
            data[key] = False
    return data


def add_contact(client: Client, data: dict[str, Any], *, acting: User) -> Contact:
    access.require_edit_client(acting, client)
    derived.lock_owner(client)
    contact = Contact(client=client, **_contact_data(data))
    contact.phone_digits = phone_digits(contact.phone)
    db.session.add(contact)
    db.session.flush()
    refresh_search_text(client)
    return contact


def update_contact(contact: Contact, edit: Edit, *, acting: User) -> list[str]:
    access.require_edit_client(acting, contact.client)
    derived.lock_owner(contact.client)
    changed = saving.write(contact, _contact_data(saving.changes(contact, edit, CONTACT_FIELDS)))
    contact.phone_digits = phone_digits(contact.phone)
    refresh_search_text(contact.client)
    return changed


def remove_contact(contact: Contact, version: Any, *, acting: User) -> None:
    """Remove a contact; touchpoints that named them keep their text."""
    client = contact.client
    access.require_edit_client(acting, client)
    derived.lock_owner(client)
    saving.check_delete(contact, version)
    client.contacts.remove(contact)
    db.session.delete(contact)
    db.session.flush()
    refresh_search_text(client)


def get_contact(client: Client, contact_id: int) -> Contact:
    contact = db.session.scalar(sa.select(Contact).where(Contact.id == contact_id,
                                                         Contact.client_id == client.id))
    if contact is None:
        raise NotFound("Контакт не найден.")
    return contact


# --- touchpoints --------------------------------------------------------------------------------

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100  # a contact log's dates; beyond them the calendar overflows


def log_touchpoint(client: Client, *, channel: Channel, summary: str, acting: User,
                   occurred_at: datetime | None = None, contact_ids: list[int] | None = None,
                   next_step: str = "", next_contact_on: date | None = None) -> Touchpoint:
    """Record a contact with the client; it moves the client's cadence at once."""
    access.require_edit_client(acting, client)
    derived.lock_owner(client)
    now = utcnow()
    occurred_at = occurred_at or now
    # Far-off dates overflow the calendar arithmetic (UTC conversion, working days): refuse them.
    if occurred_at.year < EARLIEST_YEAR:
        raise ServiceError(f"Дата контакта не может быть раньше {EARLIEST_YEAR} года.", field="occurred_at")
    if next_contact_on is not None and next_contact_on.year > LATEST_YEAR:
        raise ServiceError(f"Следующий контакт — не позже {LATEST_YEAR} года.", field="next_contact_on")
    if occurred_at > now:
        raise ServiceError("Контакт не может быть в будущем: для плана укажите дату следующего "
                           "контакта.", field="occurred_at")
    if next_contact_on is not None and next_contact_on < local(occurred_at).date():
        raise ServiceError("Следующий контакт не может быть раньше этого.", field="next_contact_on")
    contacts = []
    if contact_ids:
        contacts = list(db.session.scalars(sa.select(Contact).where(
            Contact.id.in_(contact_ids), Contact.client_id == client.id)))
        if len(contacts) != len(set(contact_ids)):
            raise ServiceError("Выберите контакты этого клиента.", field="contact_ids")
    touchpoint = Touchpoint(client_id=client.id, user_id=acting.id, occurred_at=occurred_at,
                            channel=channel, summary=summary.strip(), next_step=next_step.strip(),
                            next_contact_on=next_contact_on, contacts=contacts)
    db.session.add(touchpoint)
    db.session.flush()
    _refresh_last_contact(client)
    return touchpoint


def delete_touchpoint(touchpoint: Touchpoint, version: Any, *, acting: User) -> None:
    """Remove a contact logged by mistake (its author or an admin); the cadence follows."""
    client = touchpoint.client
    access.require(access.can_delete_touchpoint(acting, touchpoint, client),
                   "Удалить запись может её автор или администратор.")
    derived.lock_owner(client)
    saving.check_delete(touchpoint, version)
    db.session.delete(touchpoint)
    db.session.flush()
    _refresh_last_contact(client)


def likely_channel(client: Client) -> Channel:
    """The channel a new log of this client most likely uses: the last one used with it, or a call."""
    last = db.session.scalar(sa.select(Touchpoint.channel).where(Touchpoint.client_id == client.id)
                             .order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc()).limit(1))
    return last or Channel.CALL


def get_touchpoint(client: Client, touchpoint_id: int) -> Touchpoint:
    touchpoint = db.session.scalar(sa.select(Touchpoint).where(
        Touchpoint.id == touchpoint_id, Touchpoint.client_id == client.id))
    if touchpoint is None:
        raise NotFound("Запись не найдена.")
    return touchpoint


# An entry names its author and the people spoken to: of them, only names.
_ENTRY_OPTIONS = (joinedload(Touchpoint.user).load_only(User.id, User.full_name),
                  selectinload(Touchpoint.contacts).load_only(Contact.id, Contact.full_name))


def _touchpoint_query(viewer: access.Viewer, before_kind: str | None, limit: int) -> sa.Select:
    return (sa.select(Touchpoint).where(Touchpoint.client_id == timeline.CLIENT,
                                        *timeline.older_than("touchpoint", Touchpoint.occurred_at, Touchpoint.id,
                                                             before_kind))
            .order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc()).limit(limit).options(*_ENTRY_OPTIONS))


def _touchpoint_entries(client: Client, user: User, touchpoints) -> list[timeline.Entry]:
    """The contact log in the client's history."""
    found = []
    for t in touchpoints:
        lines = []
        if t.next_step:
            lines.append(("Дальше", t.next_step + (f" — {long_date(t.next_contact_on)}" if t.next_contact_on else "")))
        elif t.next_contact_on:
            lines.append(("Следующий контакт", long_date(t.next_contact_on)))
        actions = []
        if access.can_delete_touchpoint(user, t, client):
            actions.append(timeline.Action("Удалить запись", "clients.delete_touchpoint",
                                           {"client_id": client.id, "touchpoint_id": t.id}, t.version,
                                           confirm="Удалить эту запись о контакте?"))
        found.append(timeline.Entry(
            "touchpoint", t.occurred_at, t.id, t.channel.label, t.summary, t.user,
            meta="с кем: " + ", ".join(c.full_name for c in t.contacts) if t.contacts else "",
            lines=lines, actions=actions))
    return found


timeline.register("touchpoint", query=_touchpoint_query, build=_touchpoint_entries)


# --- handover -----------------------------------------------------------------------------------


@dataclass
class HandoverPlan:
    """What a handover moves: the clients a manager leads and those where they are the deputy."""

    led: list[Client]
    deputy: list[Client]


def handover_plan(from_user: User, client_ids: list[int] | None = None) -> HandoverPlan:
    """The preview of a handover, and the list it then moves: one query."""
    query = (sa.select(Client).where(sa.or_(Client.manager_id == from_user.id, Client.deputy_id == from_user.id))
             .options(defer(Client.search_text), defer(Client.notes)).order_by(Client.short_name))
    if client_ids is not None:
        query = query.where(Client.id.in_(client_ids))
    found = list(db.session.scalars(query))
    return HandoverPlan([c for c in found if c.manager_id == from_user.id],
                        [c for c in found if c.deputy_id == from_user.id])


@dataclass
class HandoverResult:
    """What a handover did, counted honestly: led clients and deputy roles apart."""

    led: list[int]
    deputy: list[int]
    deputy_cleared: int   # led clients whose deputy was the new manager: they have no deputy now
    deputy_kept: int      # deputy roles not asked to move

    def message(self, from_user: User, to_user: User) -> str:
        parts = [f"{to_user.full_name} ведёт {len(self.led)} {_clients(len(self.led))} вместо {from_user.full_name}"]
        if self.deputy:
            parts.append(f"заместитель у {len(self.deputy)} {_clients(len(self.deputy))}")
        if self.deputy_kept:
            parts.append(f"роль заместителя у {self.deputy_kept} {_clients(self.deputy_kept)} осталась за "
                         f"{from_user.full_name}")
        if self.deputy_cleared:
            parts.append(f"у {self.deputy_cleared} {_clients(self.deputy_cleared)} {to_user.full_name} был "
                         "заместителем — теперь заместителя нет")
        return "; ".join(parts) + "."


def _clients(n: int) -> str:
    return "клиента" if n % 10 == 1 and n % 100 != 11 else "клиентов"


def hand_over(from_user: User, to_user: User, *, acting: User, as_deputy: bool = False,
              client_ids: list[int] | None = None) -> HandoverResult:
    """Move a manager's clients to another manager (vacation, leaving); deputy roles move only when
    asked. Each moved client is audited; ``client_ids`` limits the move (handing back)."""
    access.require(access.can_hand_over(acting), "Передавать клиентов может администратор.")
    if from_user.id == to_user.id:
        raise ServiceError("Выберите другого менеджера.", field="to_user")
    if not access.is_account_manager(to_user):
        raise ServiceError("Принять клиентов может только активный аккаунт-менеджер.", field="to_user")
    plan = handover_plan(from_user, client_ids)
    result = HandoverResult([], [], 0, 0 if as_deputy else len(plan.deputy))
    for client in plan.led:
        client.manager_id = to_user.id
        if client.deputy_id == to_user.id:
            client.deputy_id = None
            result.deputy_cleared += 1
        tag_action(client, "handover", **{"from": from_user.full_name, "to": to_user.full_name})
        result.led.append(client.id)
    for client in plan.deputy if as_deputy else []:
        client.deputy_id = None if client.manager_id == to_user.id else to_user.id
        tag_action(client, "handover", **{"from": from_user.full_name, "to": to_user.full_name})
        result.deputy.append(client.id)
    if not result.led and not result.deputy:
        raise ServiceError(f"У {from_user.full_name} нет клиентов для передачи.", field="from_user")
    db.session.flush()
    return result
