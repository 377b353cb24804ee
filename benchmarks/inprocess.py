"""In-process cost of pages: the CPU time of one request through Flask's test client, no HTTP.

Run by ``benchmarks/run.py`` (with the working directory and PYTHONPATH of the code to measure, and the
ACCOUNTDESK_* variables of the benchmark's database): reads ``[{"path", "user_id", "htmx"}, …]`` on
stdin, prints one JSON list of milliseconds, in the same order. CPU time (``time.process_time``), not
wall time, so that other work on the machine does not count; the database is in the same process
for SQLite, so its work counts too.

As in a warm gunicorn worker (``wsgi.py``, ``webapp/collector.py``), what the application and a page's
warm-up loaded is frozen out of the cyclic garbage collector before the page is timed (otherwise a
full collection of everything loaded so far, ~80 ms, falls on whichever page happens to be timed
then, and doubles its figure), and the collector runs after each response is closed, as a WSGI
server closes it once the body is sent; its time counts, as it counts on a worker's CPU.
"""

import gc
import json
import sys
import time

import sqlalchemy as sa

from webapp import create_app
from webapp.extensions import db

try:
    from webapp import collector
except ImportError:  # ``--before`` an older commit: its workers left the collector to CPython
    collector = None

WARMUP = 3


def main() -> None:
    requests = int(sys.argv[1])
    pages = json.loads(sys.stdin.read())
    app = create_app({"QUERY_COUNT_HEADER": False})
    if collector is not None:
        collector.install(app, marks=())  # frozen below, once per page
    with app.app_context():
        tokens = dict(db.session.execute(sa.text("SELECT id, session_token FROM users")).all())
    figures = []
    for page in pages:
        client = app.test_client()
        with client.session_transaction() as session:  # what Flask-Login keeps after a login
            session["_user_id"] = f"{page['user_id']}:{tokens[page['user_id']]}"
            session["_fresh"] = True
        headers = {"HX-Request": "true"} if page["htmx"] else {}
        for _ in range(WARMUP):
            answer = client.get(page["path"], headers=headers)
            answer.close()
            if answer.status_code != 200:
                sys.exit(f"{page['path']} answered {answer.status_code} in-process")
        gc.collect()
        gc.freeze()
        started = time.process_time()
        for _ in range(requests):
            client.get(page["path"], headers=headers).close()
        figures.append((time.process_time() - started) / requests * 1000)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
