"""Mixins every editable record shares: a version counter and audit participation."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


class Versioned:
    """Optimistic concurrency: ``version`` grows with every edit, and an UPDATE made against an
    older version fails (SQLAlchemy's version check) instead of overwriting.

    A form carries the version it was drawn from; ``webapp.saving`` compares it (and what the form showed) before a
    change, so a stale save is refused (409). Columns in ``__unversioned__`` (a login time, a
    session token, a denormalised counter) change without bumping the version, so bookkeeping never
    makes a user's open form stale.
    """

    __unversioned__: frozenset[str] = frozenset()

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version, "version_id_generator": False}


@sa.event.listens_for(sa.orm.Session, "before_flush")
def _bump_versions(session: sa.orm.Session, flush_context, instances) -> None:
    for obj in session.dirty:
        if not isinstance(obj, Versioned):
            continue
        state = sa.inspect(obj)
        edited = any(
            state.attrs[attr.key].history.has_changes()
            for attr in state.mapper.column_attrs
            if attr.key != "version" and attr.key not in obj.__unversioned__
        )
        if edited:
            obj.version = (obj.version or 0) + 1


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
            from webapp.models.audit import AuditEntity, register_entity

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
