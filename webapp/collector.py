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
  page's objects are gone and what is left is walked in a tenth of a millisecond. Which generation
  a collection takes is left to CPython's own schedule (``_collect``): it walks the oldest only
  once a quarter of it is new, so the caches a worker fills after its last freeze are walked
  rarely (collecting the oldest every 121 responses instead put a pause of tens of milliseconds
  after every few hundred requests of the small pages). The benchmark's pages answered 3–8 %
  more requests per second at 4 connections.
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
    """The collection CPython's own schedule calls for now: the young generation, or an older one
    with those below it — the oldest only once a quarter of what it holds is new since its last
    pass, a rule CPython keeps to itself. So the schedule is CPython's: the young limit is lowered
    for the time it takes to make one new object, which starts the collection as any allocation
    past the limit would."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(1, middle, old)
    try:
        _Nudge()
    finally:
        gc.set_threshold(YOUNG_LIMIT, middle, old)


class _Nudge:
    """A new container object (an instance of a class comes from no free list, so making one
    always counts as an allocation)."""
