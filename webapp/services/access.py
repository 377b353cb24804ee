"""Who may see and change which records: the one place the scoping rules live.

Routes load records through the scoped queries here, so a record outside the user's scope simply is
not found (404); a visible record that the role may not change is refused (403) by the ``require_*``
checks, which the services call too. Templates receive the ``can_*`` answers as flags and decide
nothing. A new area adds its queries and predicates here, next to the clients'.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from webapp import cache
from webapp.extensions import db
from webapp.models import Act, BacklogItem, Client, Role, Touchpoint, User
from webapp.services import NotFound, PermissionDenied

# --- role groups --------------------------------------------------------------------------------

ADMINS = frozenset({Role.ADMIN})
# Who may lead a client (as its account manager or deputy) and so edit it; an admin edits every one.
ACCOUNT_MANAGERS = frozenset({Role.ADMIN, Role.MANAGER})
# Who reads every client; a specialist reads only the clients of the backlog items assigned to them.
READ_ALL = frozenset({Role.ADMIN, Role.MANAGER, Role.LEAD, Role.ACCOUNTANT})


def require(allowed: bool, message: str = "Недостаточно прав для этого действия.") -> None:
    if not allowed:
        raise PermissionDenied(message)


def is_admin(user: User) -> bool:
    return user.role in ADMINS


# --- people -------------------------------------------------------------------------------------


def is_account_manager(user: User) -> bool:
    """May lead clients: an active manager or admin."""
    return user.active and user.role in ACCOUNT_MANAGERS


def leads_clients(user: User) -> bool:
    """Has clients of their own to keep in touch with (an admin oversees everyone's instead)."""
    return user.role == Role.MANAGER


def account_managers(*, include_inactive: bool = False) -> sa.Select:
    """The people who may lead clients, by name (inactive ones last, for the handover page)."""
    query = sa.select(User).where(User.role.in_(ACCOUNT_MANAGERS))
    if not include_inactive:
        return query.where(User.active.is_(True)).order_by(User.full_name)
    return query.order_by(User.active.desc(), User.full_name)


@dataclass(frozen=True)
class Person:
    """One of us as choices and filters show them: an account manager, an assignee."""

    id: int
    full_name: str


def _load_managers() -> tuple[Person, ...]:
    query = account_managers().with_only_columns(User.id, User.full_name)
    return tuple(Person(*row) for row in db.session.execute(query))


_MANAGERS = cache.Cached("managers", _load_managers)
cache.watch(User, "managers", fields=("full_name", "role", "active"))


def active_account_managers() -> tuple[Person, ...]:
    """``account_managers()`` as (id, name) pairs, kept per process until a user's name, role or
    activity changes (``webapp.cache``): every client list and team form shows them."""
    return _MANAGERS.get()


# --- clients ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """A user as far as the queries of what they may see depend on them: the ``visible_*`` and
    ``team_client_ids`` below read the id and the role and nothing else. A statement built for a
    Viewer (and a day) can be kept and run again for that user («Мой день», a client's history)."""

    id: int
    role: Role

    @classmethod
    def of(cls, user: User) -> "Viewer":
        return cls(user.id, user.role)


def visible_clients(user: User) -> sa.Select:
    """The clients ``user`` may see. A specialist sees the clients of their assigned backlog items."""
    query = sa.select(Client)
    if user.role in READ_ALL:
        return query
    if user.role == Role.SPECIALIST:
        return query.where(Client.id.in_(sa.select(BacklogItem.client_id).where(BacklogItem.assignee_id == user.id)))
    return query.where(sa.false())


def is_on_team(user: User) -> sa.ColumnElement[bool]:
    """«My clients»: those the user leads or stands in for (account manager or deputy)."""
    return sa.or_(Client.manager_id == user.id, Client.deputy_id == user.id)


def team_client_ids(user: User) -> sa.Select:
    """The ids of the clients ``is_on_team``, to narrow a client's records to the user's own."""
    return sa.select(Client.id).where(is_on_team(user))


def visible_client_ids(user: User) -> sa.Select:
    """The ids of ``visible_clients``, for scoping the records that belong to a client."""
    return visible_clients(user).with_only_columns(Client.id)


def get_client(user: User, client_id: int) -> Client:
    client = db.session.scalar(visible_clients(user).where(Client.id == client_id))
    if client is None:
        raise NotFound("Клиент не найден.")
    return client


def can_create_client(user: User) -> bool:
    return user.role in ACCOUNT_MANAGERS


def can_edit_client(user: User, client: Client) -> bool:
    """Admins edit every client; a manager edits the clients they lead or stand in for. Everything
    that belongs to a client (contacts, contact log, regulations) follows the same rule."""
    return is_admin(user) or (user.role in ACCOUNT_MANAGERS and client.is_on_team(user))


def editable_clients(user: User) -> sa.Select:
    """``can_edit_client`` as a query: every client for an admin, a manager's own and deputised ones."""
    if is_admin(user):
        return sa.select(Client)
    if user.role in ACCOUNT_MANAGERS:
        return sa.select(Client).where(is_on_team(user))
    return sa.select(Client).where(sa.false())


def require_edit_client(user: User, client: Client) -> None:
    require(can_edit_client(user, client),
            "Изменять клиента могут его аккаунт-менеджер, заместитель и администратор.")


def can_reassign_client(user: User) -> bool:
    """Changing a client's account manager is a handover: the admin's."""
    return is_admin(user)


def can_hand_over(user: User) -> bool:
    return is_admin(user)


def can_delete_touchpoint(user: User, touchpoint: Touchpoint, client: Client) -> bool:
    """A contact logged by mistake is removed by its author (still on the team) or an admin."""
    return can_edit_client(user, client) and (is_admin(user) or touchpoint.user_id == user.id)


# --- backlog ------------------------------------------------------------------------------------

# Who plans production everywhere: estimates, stages, assignees, statuses, time.
PLANNERS = frozenset({Role.ADMIN, Role.LEAD})
# Who may be given an item to work on.
ASSIGNABLE = frozenset({Role.ADMIN, Role.MANAGER, Role.LEAD, Role.SPECIALIST})


def visible_items(user: User) -> sa.Select:
    """The backlog items ``user`` may see: everyone who reads all clients sees every item; a
    specialist sees the items assigned to them."""
    query = sa.select(BacklogItem)
    if user.role in READ_ALL:
        return query
    if user.role == Role.SPECIALIST:
        return query.where(BacklogItem.assignee_id == user.id)
    return query.where(sa.false())


def sees_all_items(user: User) -> bool:
    """Whether ``visible_items`` is every item (a query may then skip the scope's filter)."""
    return user.role in READ_ALL


def get_item(user: User, item_id: int) -> BacklogItem:
    item = db.session.scalar(visible_items(user).where(BacklogItem.id == item_id))
    if item is None:
        raise NotFound("Задача не найдена.")
    return item


def can_create_item(user: User, client: Client) -> bool:
    """Intake is the account manager's (and the deputy's, and an admin's)."""
    return can_edit_client(user, client)


def can_edit_item(user: User, item: BacklogItem) -> bool:
    """Everything about an item (request, spec, priority, rank, billing, approvals): the client's team."""
    return can_edit_client(user, item.client)


def can_plan_item(user: User, item: BacklogItem) -> bool:
    """Estimates, stages, assignee, status: the client's team, and the head of production everywhere."""
    return can_edit_item(user, item) or user.role in PLANNERS


def is_assignee(user: User, item: BacklogItem) -> bool:
    return item.assignee_id is not None and item.assignee_id == user.id


def can_move_item(user: User, item: BacklogItem) -> bool:
    """Status changes: the planners, and the specialist the item is assigned to."""
    return can_plan_item(user, item) or is_assignee(user, item)


def can_log_time(user: User, item: BacklogItem) -> bool:
    return can_plan_item(user, item) or is_assignee(user, item)


def can_see_all_backlog(user: User) -> bool:
    """The all-clients backlog: whoever reads every client."""
    return user.role in READ_ALL


# --- acts and payments ----------------------------------------------------------------------------

# Who keeps the books: issues, signs and cancels acts and records payments, for every client.
ACT_KEEPERS = frozenset({Role.ADMIN, Role.ACCOUNTANT})


def visible_acts(user: User) -> sa.Select:
    """The acts ``user`` may see: whoever reads every client sees every act; a specialist none (an
    act is money, not the work they were given)."""
    query = sa.select(Act)
    if user.role in READ_ALL:
        return query
    return query.where(sa.false())


def can_see_acts(user: User) -> bool:
    return user.role in READ_ALL


def get_act(user: User, act_id: int) -> Act:
    act = db.session.scalar(visible_acts(user).where(Act.id == act_id))
    if act is None:
        raise NotFound("Акт не найден.")
    return act


def keeps_books(user: User) -> bool:
    return user.role in ACT_KEEPERS


def can_draft_act(user: User, client: Client) -> bool:
    """A draft act: the bookkeepers for every client, and the client's own team (who knows what
    was done) for theirs."""
    return keeps_books(user) or can_edit_client(user, client)


def can_edit_act(user: User, act: Act) -> bool:
    """Lines of a draft: as ``can_draft_act``; an issued act is nobody's to edit."""
    return can_draft_act(user, act.client)


def can_move_act(user: User, act: Act) -> bool:
    """Issue, sign, cancel: the bookkeepers."""
    return keeps_books(user)


def can_record_payment(user: User, act: Act) -> bool:
    return keeps_books(user)


def can_remind_client(user: User, client: Client) -> bool:
    """A reminder to pay or sign: the bookkeepers and the client's team."""
    return keeps_books(user) or can_edit_client(user, client)


# --- company-wide settings ----------------------------------------------------------------------


def can_edit_settings(user: User) -> bool:
    """Users, the company profile, document templates, the regulation standard."""
    return is_admin(user)


# --- budgets ------------------------------------------------------------------------------------


def visible_budgets(user: User) -> sa.Select:
    """Budgets: everyone who reads every client reads them; a specialist none."""
    from webapp.models import Budget

    query = sa.select(Budget)
    return query if user.role in READ_ALL else query.where(sa.false())


def can_see_budgets(user: User) -> bool:
    return user.role in READ_ALL


def get_budget(user: User, client: Client, year: int):
    from webapp.models import Budget

    budget = db.session.scalar(visible_budgets(user).where(Budget.client_id == client.id, Budget.year == year))
    if budget is None:
        raise NotFound("Бюджета на этот год нет.")
    return budget


def can_edit_budget(user: User, budget) -> bool:
    """A budget is its client's: the account manager, the deputy and an admin edit it; the head of
    production and accounting read it."""
    return can_edit_client(user, budget.client)


# --- meetings -----------------------------------------------------------------------------------


def visible_meetings(user: User) -> sa.Select:
    """The meetings ``user`` may see: those of the clients they see."""
    from webapp.models import Meeting

    query = sa.select(Meeting)
    if user.role in READ_ALL:
        return query
    return query.where(Meeting.client_id.in_(visible_client_ids(user)))


def get_meeting(user: User, meeting_id: int):
    from webapp.models import Meeting

    meeting = db.session.scalar(visible_meetings(user).where(Meeting.id == meeting_id))
    if meeting is None:
        raise NotFound("Встреча не найдена.")
    return meeting


def can_plan_meeting(user: User, client: Client) -> bool:
    """Meetings are the account manager's (and the deputy's, and an admin's)."""
    return can_edit_client(user, client)


def can_edit_meeting(user: User, meeting) -> bool:
    """Attendance, the agenda, notes, decisions, action items, finishing and sending the minutes."""
    return can_edit_client(user, meeting.client)


def require_edit_meeting(user: User, meeting) -> None:
    require(can_edit_meeting(user, meeting), "Встречу ведут аккаунт-менеджер клиента, заместитель и администратор.")


def sees_all_meetings(user: User) -> bool:
    """«Встречи» shows everyone's to the admin and the head of production; a manager sees their own."""
    return user.role in (Role.ADMIN, Role.LEAD)
