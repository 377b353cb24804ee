"""The cyclic garbage collector kept off what lives as long as a worker.

A gunicorn worker holds some 200,000 objects once the application is made (``wsgi.py`` freezes
them) and gathers another 100,000 in its first requests: compiled templates, SQLAlchemy's
statement cache and mappers' loaders, Babel's locale data, the per-process copies. A full
collection walks every object it tracks — on the benchmark data, 30 ms once the pages were warm
(90 ms without the first freeze), a pause that falls on one request and shows as the p99 of a page.
So after ``AFTER_REQUESTS`` requests (again at each later mark) the worker collects once, at the end
of a request, and freezes what is left: later full collections walk only what requests leave behind
(4 ms). What a frozen object refers to is never collected by the cycle collector; a request's
objects live on only if they are cyclic and alive at that moment — a few hundred, twice.
"""

import gc
import itertools

from flask import Flask

AFTER_REQUESTS = (200, 2000)  # the pages of a day are warm after the first, any stragglers after the second


def install(app: Flask, marks: tuple[int, ...] = AFTER_REQUESTS) -> None:
    """Collect and freeze at the end of the request that reaches each of ``marks`` in this process."""
    served = itertools.count(1)
    pending = set(marks)

    @app.teardown_request
    def freeze_when_warm(_exc: BaseException | None = None) -> None:
        if not pending:
            return
        number = next(served)
        if number in pending:
            pending.discard(number)
            gc.collect()
            gc.freeze()
