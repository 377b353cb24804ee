"""The version counter every editable record shares (``Audited``, audit participation, is in
``models.audit``, beside the log it writes)."""

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
