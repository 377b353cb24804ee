"""Who may see and change which records: the one place the scoping rules live.

Routes load records through these queries, so a record outside the user's scope simply is not
found (404); a visible record that the role may not change is refused (403) by ``require``.
"""

from webapp.models import Role, User
from webapp.services import PermissionDenied

# Roles that read every client; a specialist reads only the clients of their own backlog items.
READ_ALL = frozenset({Role.ADMIN, Role.MANAGER, Role.LEAD, Role.ACCOUNTANT})


def require(allowed: bool, message: str = "Недостаточно прав для этого действия.") -> None:
    if not allowed:
        raise PermissionDenied(message)


def is_admin(user: User) -> bool:
    return user.role == Role.ADMIN
