"""The WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

import gc

from webapp import collector, create_app

app = create_app()

# Everything loaded so far (the application, SQLAlchemy's mappers, Babel's locale data: some 200,000
# objects) lives as long as the worker. Frozen, the cyclic collector stops walking it on each full
# collection, a pause of tens of milliseconds that showed as the p99 of every page.
gc.freeze()
# and what the first requests load, once they have (webapp/collector.py)
collector.install(app)
