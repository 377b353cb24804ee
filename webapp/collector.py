"""The cyclic garbage collector kept off the requests of a gunicorn worker (``wsgi.py``).

Two things made it a pause inside a page:

- **Full passes over what lives as long as the worker.** A worker holds some 200,000 objects once
  the application is made (``wsgi.py`` freezes them) and gathers another 100,000 in its first
  requests: compiled templates, SQLAlchemy's statement cache and mappers' loaders, Babel's locale
  data, the per-process copies. A full collection walked every one of them — on the benchmark data
  30 ms once the pages were warm (90 ms without the first freeze), the p99 of a page. So after
  ``AFTER_REQUESTS`` requests (again at each later mark) the worker collects once and freezes what
  is left: later full collections walk only what requests leave behind. What a frozen object refers
  to is never collected by the cycle collector; a request's objects live on only if they are cyclic
  and alive at that moment — a few hundred, twice.
- **Young collections in the middle of a page.** CPython collects its young generation every 700
  new container objects; a list of 50 rows (ORM instances, their states, Jinja's contexts) makes
  that 3–4 times, each collection walking what the page still holds and moving it into the older
  generations, whose collections then follow (the middle one 0.5–0.9 ms, every tenth). So the
  worker leaves the young generation alone up to ``YOUNG_LIMIT`` new objects (a safety valve for
  the rare request that allocates more, an export) and collects after each response has been sent
  (``call_on_close``: a WSGI server closes the response once its body is written) — by then the
  page's objects are gone and what is left is walked in a tenth of a millisecond; the older
  generations are collected after the response as CPython would have, every tenth time. The
  benchmark's pages answered 3–8 % more requests per second at 4 connections.
"""

import gc
import itertools

from flask import Flask, Response

AFTER_REQUESTS = (200, 2000)  # the pages of a day are warm after the first, any stragglers after the second
YOUNG_LIMIT = 100_000  # new container objects before a collection inside a request


def install(app: Flask, marks: tuple[int, ...] = AFTER_REQUESTS) -> None:
    """Collect after each response, and freeze at the end of the request that reaches each of
    ``marks`` in this process."""
    served = itertools.count(1)
    pending = set(marks)
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_LIMIT, middle, old)

    @app.after_request
    def collect_once_sent(response: Response) -> Response:
        response.call_on_close(_collect)
        return response

    @app.teardown_request
    def freeze_when_warm(_exc: BaseException | None = None) -> None:
        if not pending:
            return
        number = next(served)
        if number in pending:
            pending.discard(number)
            gc.collect()
            gc.freeze()


def _collect() -> None:
    """What CPython's own schedule would collect now: the young generation, or an older one (with
    those below it) once the collections of the generation below it since its last pass exceed its
    threshold."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    for generation in (2, 1):
        if counts[generation] > thresholds[generation]:
            gc.collect(generation)
            return
    gc.collect(0)
