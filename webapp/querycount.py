"""Count the SQL statements of each request and report them in the ``X-Query-Count`` header.

For the benchmark (``benchmarks/run.py``) and for looking at a page by hand: installed by
``create_app`` only when ``QUERY_COUNT_HEADER`` is true (``ACCOUNTDESK_QUERY_COUNT_HEADER=true``),
never in production. Statements run outside a request (CLI, tests without a request) are not counted.
"""

import sqlalchemy as sa
from flask import Flask, Response, g, has_request_context

from webapp.extensions import db

HEADER = "X-Query-Count"


def _count_statement(conn, cursor, statement, parameters, context, executemany) -> None:
    if has_request_context():
        g.query_count = g.get("query_count", 0) + 1


def _add_header(response: Response) -> Response:
    response.headers[HEADER] = str(g.get("query_count", 0))
    return response


def install(app: Flask) -> None:
    """Listen on the app's engine and add the header to every response."""
    with app.app_context():
        engine = db.engine
    if not sa.event.contains(engine, "before_cursor_execute", _count_statement):
        sa.event.listen(engine, "before_cursor_execute", _count_statement)
    # after_request functions run in reverse order of registration: put ours first in the list so it
    # runs last and also counts what the other after_request functions query.
    app.after_request_funcs.setdefault(None, []).insert(0, _add_header)
