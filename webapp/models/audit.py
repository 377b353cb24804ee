"""The audit log: one row per change of an audited record, written in the same transaction."""

import enum
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_name: Mapped[str] = mapped_column(sa.String(200), default="")
    entity_type: Mapped[str] = mapped_column(sa.String(60))
    entity_id: Mapped[int | None] = mapped_column(sa.Integer)
    entity_label: Mapped[str] = mapped_column(sa.String(300), default="")
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    # {"field": [old, new]}; values are JSON-ready strings, numbers, booleans or null.
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)



# --- the one mechanism that writes audit rows -------------------------------------------------

ActorProvider = Callable[[], tuple[int | None, str]]


def _no_actor() -> tuple[int | None, str]:
    return None, "система"


_actor_provider: ActorProvider = _no_actor


def set_actor_provider(provider: ActorProvider) -> None:
    """The web layer tells us who acts (the logged-in user); the CLI leaves «система»."""
    global _actor_provider
    _actor_provider = provider


def tag_action(obj: object, action: str, **extra: Any) -> None:
    """Name the next logged change of ``obj`` (e.g. ``deactivate`` instead of ``update``)."""
    session = sa.orm.object_session(obj) or db.session()
    session.info.setdefault("audit_tags", {})[id(obj)] = (action, extra)


def log_event(entity_type: str, entity_id: int | None, label: str, action: str,
              changes: dict[str, Any] | None = None) -> None:
    """Log an event that changes no audited column (a login, a failed login, a password reset
    e-mail): inserted at once, committed with the caller's transaction."""
    _insert_rows(db.session(), [dict(entity_type=entity_type, entity_id=entity_id,
                                     entity_label=label[:300], action=action,
                                     changes=changes or {})])


def _insert_rows(session: sa.orm.Session, rows: list[dict[str, Any]]) -> None:
    actor_id, actor_name = _actor_provider()
    now = utcnow()
    for row in rows:
        row.update(created_at=now, actor_id=actor_id, actor_name=actor_name)
    session.connection().execute(sa.insert(AuditEvent.__table__), rows)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _changes(obj: Any, *, created: bool = False, deleted: bool = False) -> dict[str, list]:
    state = sa.inspect(obj)
    changes: dict[str, list] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in obj.__audit_exclude__:
            continue
        if deleted:
            old, new = state.attrs[key].loaded_value, None
            if old is sa.orm.base.NO_VALUE or old is None:
                continue
        else:
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if created and new is None or old == new:
                continue
        if key in obj.__audit_secret__:
            changes[key] = [None if created else "***", "***"]
        else:
            changes[key] = [_jsonable(old), _jsonable(new)]
    return changes


@sa.event.listens_for(sa.orm.Session, "after_flush")
def _write_audit_rows(session: sa.orm.Session, flush_context) -> None:
    tags = session.info.get("audit_tags", {})
    rows = []
    for kind, objects in (("create", session.new), ("update", session.dirty),
                          ("delete", session.deleted)):
        for obj in objects:
            if not isinstance(obj, Audited):
                continue
            changes = _changes(obj, created=kind == "create", deleted=kind == "delete")
            action, extra = tags.pop(id(obj), (kind, {}))
            if kind == "update" and not changes and not extra:
                continue
            changes.update({k: [None, _jsonable(v)] for k, v in extra.items()})
            rows.append(dict(entity_type=obj.__tablename__, entity_id=sa.inspect(obj).mapper.primary_key_from_instance(obj)[0],
                             entity_label=obj.audit_label[:300], action=action, changes=changes))
    if rows:
        _insert_rows(session, rows)


@sa.event.listens_for(sa.orm.Session, "after_soft_rollback")
def _forget_tags(session: sa.orm.Session, previous_transaction) -> None:
    session.info.pop("audit_tags", None)


# --- what the audit log calls things ---------------------------------------------------------------

# Actions every record may have; a model adds its own (``__audit_actions__``, its workflow's moves).
COMMON_ACTIONS = {
    "create": "создание", "update": "изменение", "delete": "удаление", "login": "вход", "logout": "выход",
    "login_failed": "неудачный вход", "deactivate": "отключение", "activate": "включение",
    "password_reset": "сброс пароля", "password_change": "смена пароля",
    "password_check_failed": "неверный текущий пароль",
}
# Columns many records share; a model names the rest in ``__audit_labels__``.
COMMON_LABELS = {"id": "№ записи", "created_at": "Создано", "client_id": "Клиент", "user_id": "Сотрудник",
                 "created_by_id": "Создал"}
# Sign-in events: the log hides them unless asked, they would drown the changes.
SIGN_IN_ACTIONS = frozenset({"login", "logout", "login_failed"})


class AuditEntity:
    """What the audit log knows of one entity type: its name, field labels, actions and link."""

    def __init__(self, entity_type: str, name: str, labels: dict[str, str] | None = None,
                 actions: dict[str, str] | Callable[[], dict[str, str]] | None = None,
                 link: Callable[[int], tuple[str, dict]] | None = None):
        self.entity_type, self.name = entity_type, name
        self.labels, self._actions, self.link = {**COMMON_LABELS, **(labels or {})}, actions or {}, link

    @property
    def actions(self) -> dict[str, str]:
        """Read when asked: a workflow may gain moves after the model is declared."""
        return self._actions() if callable(self._actions) else self._actions

    def label(self, field: str) -> str:
        return self.labels.get(field, field)

    def url_args(self, entity_id: int | None) -> tuple[str, dict] | None:
        return self.link(entity_id) if self.link and entity_id is not None else None


_ENTITIES: dict[str, AuditEntity] = {}


def register_entity(entity: AuditEntity) -> None:
    """An entity that is not a model (a document template) or that a model declares."""
    _ENTITIES[entity.entity_type] = entity


def entity(entity_type: str) -> AuditEntity:
    return _ENTITIES.get(entity_type) or AuditEntity(entity_type, entity_type)


def all_actions() -> dict[str, str]:
    actions = dict(COMMON_ACTIONS)
    for known in _ENTITIES.values():
        actions.update(known.actions)
    return actions


register_entity(AuditEntity("document_templates", "Шаблон документа",
                            actions={"template_upload": "загрузка шаблона", "template_reset": "сброс шаблона"}))


class Audited:
    """Marks a model whose inserts, updates and deletes are written to ``AuditEvent``, and says how
    the audit log speaks of it, so a new model needs no admin code.

    ``__audit_exclude__`` names columns never logged (hashes, tokens); ``__audit_secret__`` names
    columns logged only as «изменено» without their values. ``__audit_name__`` is the Russian noun
    («Клиент»), ``__audit_labels__`` the Russian name of every logged column, ``__audit_actions__``
    the model's named actions (its workflow's moves are added by themselves), ``__audit_link__`` the
    endpoint and id argument of the record's page.
    """

    __audit_exclude__: frozenset[str] = frozenset({"version"})
    __audit_secret__: frozenset[str] = frozenset()
    __audit_name__: str = ""
    __audit_labels__: dict[str, str] = {}
    __audit_actions__: dict[str, str] = {}
    __audit_link__: tuple[str, str] | None = None  # ("clients.detail", "client_id")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__tablename__" in cls.__dict__:
            def actions(cls=cls) -> dict[str, str]:
                workflow = getattr(cls, "workflow", None)
                return {**cls.__audit_actions__, **(workflow.action_labels() if workflow else {})}

            link = cls.__audit_link__
            register_entity(AuditEntity(cls.__tablename__, cls.__audit_name__ or cls.__tablename__,
                                        cls.__audit_labels__, actions,
                                        (lambda ident, link=link: (link[0], {link[1]: ident})) if link else None))

    @property
    def audit_label(self) -> str:
        return str(self)
