"""Pages of a list whose count never scans more than a bounded number of rows.

``db.paginate`` counts every matching row on every request; a list that grows without end (the audit
log, the clients of a large company) would pay for that on each page. Here the count stops at
``COUNT_CAP`` rows past the current page: below that the total is exact («Всего: 2 000»), above it
the page says «показаны 1–50 из более чем 10 000» and offers pages as far as it counted. A first
page that is not full needs no count at all. A list whose order is kept as a ranking of ids (the
budgets overview) pages through the ids and loads only the records of the page (``ranked_page``).
"""


import sqlalchemy as sa
from flask import current_app, request
from flask_sqlalchemy.pagination import SelectPagination

from webapp.extensions import db
from webapp.services import as_id

COUNT_CAP = 10_000


class CappedPagination(SelectPagination):
    """``db.paginate``'s page, with ``exact`` telling whether ``total`` is the whole count or only
    how far it counted (then ``total - 1`` rows at least exist)."""

    exact: bool = True

    def _query_count(self) -> int:
        known = self._query_args.get("total")
        if known is not None:  # the page's own figures counted these rows already
            return known
        if self.page == 1 and len(self.items) < self.per_page:
            return len(self.items)
        offset = self._query_offset if self.items else 0  # past the last page: count from the start
        counted = self._count_from(offset)
        self.exact = counted <= COUNT_CAP
        return offset + counted

    def _count_from(self, offset: int) -> int:
        count_select = self._query_args.get("count_select")
        rows = ((count_select if count_select is not None else self._query_args["select"]).order_by(None)
                .with_only_columns(sa.literal_column("1"), maintain_column_froms=True)
                .offset(offset).limit(COUNT_CAP + 1).subquery())
        return self._query_args["session"].scalar(sa.select(sa.func.count()).select_from(rows))

    @property
    def first(self) -> int:
        """The number of the first row shown (1-based)."""
        return self._query_offset + 1

    @property
    def last(self) -> int:
        return self._query_offset + len(self.items)


class RankedPagination(CappedPagination):
    """A page of records whose order is known beforehand as a list of ids (a ranking kept per
    process): the page's slice of the ids, then those records in one query, in that order."""

    def _query_items(self) -> list:
        ids = self._query_args["ids"][self._query_offset:self._query_offset + self.per_page]
        select, key = self._query_args["select"], self._query_args["key"]
        found = {key(record): record for record in self._query_args["session"].scalars(select(ids)).unique()}
        return [found[i] for i in ids if i in found]

    def _query_count(self) -> int:
        return len(self._query_args["ids"])


def _asked(per_page: int | None) -> dict:
    """The page the request asks for (``?page=``, the first when absent or not a number) and its
    length: ``PER_PAGE`` rows — what every paged list of the application shows — unless a list of
    records that draw several rows each asks for fewer."""
    return {"page": as_id(request.args.get("page")) or 1, "per_page": per_page or current_app.config["PER_PAGE"]}


def ranked_page(ids, select, per_page: int | None = None, *, key=lambda record: record.id) -> RankedPagination:
    """The page the request asks for of the records ``ids`` name, in their order; ``select(ids)``
    loads the records of one page."""
    return RankedPagination(ids=ids, select=select, key=key, session=db.session(), max_per_page=None,
                            error_out=False, **_asked(per_page))


def paginate(select: sa.Select, *, page: int, per_page: int, count_select: sa.Select | None = None,
             total: int | None = None) -> CappedPagination:
    """One page of ``select``; an out-of-range page is empty rather than a 404. ``count_select``:
    the same rows written the way the database counts them fastest, when that is not the way it
    pages them; ``total``: the exact count, when the page has already counted them for figures
    of its own (no count query then)."""
    return CappedPagination(select=select, session=db.session(), page=page, per_page=per_page,
                            max_per_page=None, error_out=False, count_select=count_select, total=total)


def requested_page(select: sa.Select, per_page: int | None = None, *,
                   count_select: sa.Select | None = None, total: int | None = None) -> CappedPagination:
    """The page of ``select`` the request asks for (``_asked``)."""
    return paginate(select, count_select=count_select, total=total, **_asked(per_page))
