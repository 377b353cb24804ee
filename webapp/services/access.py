"""Who may see and change which records: the one place the scoping rules live.

Routes load records through the scoped queries here, so a record outside the user's scope simply is
not found (404); a visible record that the role may not change is refused (403) by the ``require_*``
checks, which the services call too. Templates receive the ``can_*`` answers as flags and decide
nothing. A new area adds its queries and predicates here, next to the clients'.
"""

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Client, Role, Touchpoint, User
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


# --- clients ------------------------------------------------------------------------------------


def visible_clients(user: User) -> sa.Select:
    """The clients ``user`` may see. A specialist sees the clients of their assigned backlog
    items; until the backlog exists they have none."""
    query = sa.select(Client)
    if user.role in READ_ALL:
        return query
    return query.where(sa.false())


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


# --- company-wide settings ----------------------------------------------------------------------


def can_edit_settings(user: User) -> bool:
    """Users, the company profile, document templates, the regulation standard."""
    return is_admin(user)
