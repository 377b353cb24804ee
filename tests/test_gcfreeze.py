"""A worker freezes what its first requests loaded, so that the cyclic collector's full passes —
a pause of one request, the p99 of a page — walk only what later requests leave behind (issue 9)."""

import gc

from webapp import create_app, gcfreeze
from tests.conftest import app_config


def test_the_worker_freezes_once_at_each_mark_and_the_objects_of_its_start_stay_frozen(tmp_path):
    app = create_app(app_config("sqlite://", tmp_path))
    gcfreeze.install(app, marks=(3, 5))
    client = app.test_client()
    frozen = []
    try:
        for _ in range(7):
            client.get("/healthz")
            frozen.append(gc.get_freeze_count())
        start = frozen[0]
        assert frozen[:2] == [start, start]                       # before the first mark: nothing
        assert frozen[2] > start                                  # the third request froze what was loaded
        assert frozen[3] == frozen[2] and frozen[4] > frozen[3]  # then once more at the fifth
        assert frozen[5:] == [frozen[4], frozen[4]]               # and never again
        tracked = len(gc.get_objects())
        assert tracked < frozen[2] / 10, (tracked, frozen)        # a full collection walks a tenth or less
    finally:
        gc.unfreeze()
