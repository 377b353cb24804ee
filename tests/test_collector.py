"""A gunicorn worker keeps the cyclic garbage collector off its requests (issue 9): it freezes what
its first requests loaded, so that full passes walk only what later requests leave behind, and it
collects after each response is sent instead of in the middle of a page.

The collector belongs to the whole process, so the worker is played by a process of its own: in a
pytest worker, another test's leftover thread (a live server, a checkpoint) may freeze, track or
collect objects while this one counts."""

import json
import subprocess
import sys
from pathlib import Path

WORKER = """
import gc, json, sys
sys.path.insert(0, sys.argv[1])
from tests.conftest import app_config
from webapp import collector, create_app
from pathlib import Path

app = create_app(app_config("sqlite://", Path(sys.argv[2])))
"""

FREEZES = WORKER + """
collector.install(app, marks=(3, 5))
client = app.test_client()
frozen = []
for _ in range(7):
    assert client.get("/healthz").status_code == 200
    frozen.append(gc.get_freeze_count())
print(json.dumps({"frozen": frozen, "tracked": len(gc.get_objects())}))
"""

COLLECTS = WORKER + """
from webapp.permissions import public

class Cycle:  # garbage only the cyclic collector frees
    def __init__(self):
        self.me = self


@app.get("/cycles")
@public
def cycles():
    serving[0] = True
    for _ in range(5000):  # seven young collections' worth of new objects
        Cycle()
    serving[0] = False
    return "made"

kept = [Cycle() for _ in range(int(sys.argv[3]))]  # what lives as long as the worker, not frozen
gc.collect()
collections = []  # (generation, objects freed, during a request)
serving = [False]
gc.callbacks.append(lambda phase, info: phase == "stop" and collections.append(
    (info["generation"], info["collected"], serving[0])))
if sys.argv[5] == "ours":
    collector.install(app, marks=())
else:  # CPython's own collector, for comparison: the responses' closing does nothing
    gc.collect()
client = app.test_client()
after = []
for _ in range(int(sys.argv[4])):
    answer = client.get("/cycles")
    assert answer.status_code == 200
    before_close = len(collections)
    answer.close()  # what a WSGI server does once the body is sent
    after.append((before_close, len(collections)))
print(json.dumps({"collections": collections, "after": after}))
"""


def run(script: str, tmp_path: Path, *args) -> dict:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", script, str(root), str(tmp_path), *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_worker_freezes_once_at_each_mark_and_the_objects_of_its_start_stay_frozen(tmp_path):
    figures = run(FREEZES, tmp_path)
    frozen, tracked = figures["frozen"], figures["tracked"]
    start = frozen[0]
    assert frozen[:2] == [start, start]                       # before the first mark: nothing
    assert frozen[2] > start                                  # the third request froze what was loaded
    assert frozen[3] == frozen[2] and frozen[4] > frozen[3]  # then once more at the fifth
    assert frozen[5:] == [frozen[4], frozen[4]]               # and never again
    assert tracked < frozen[2] / 10, (tracked, frozen)        # a full collection walks a tenth or less


def test_the_worker_collects_once_each_response_is_sent_never_during_a_request(tmp_path):
    figures = run(COLLECTS, tmp_path, 0, 25, "ours")
    collections, after = figures["collections"], figures["after"]
    assert not [c for c in collections if c[2]], "a collection ran in the middle of a request"
    # each response's closing collected, and its first collection freed the 5,000 cycles the request left
    assert all(closed > sent for sent, closed in after), after
    assert all(collections[sent][1] >= 5000 for sent, _ in after), collections
    # the older generations on CPython's schedule: the middle one every eleventh time, the oldest never yet
    generations = [generation for generation, _, _ in collections]
    assert generations.count(1) == 2 and generations.count(2) == 0, generations


def test_the_oldest_generation_is_walked_no_more_often_than_cpython_walks_it(tmp_path):
    """A worker holds many long-lived objects that no freeze took (caches filled late): CPython
    walks them all only once a quarter of them is new since its last full pass. Requests whose
    garbage dies young must not bring a full pass every hundred and twenty responses."""
    def full_passes(collector: str) -> int:
        figures = run(COLLECTS, tmp_path, 200_000, 1000, collector)
        return [generation for generation, _, _ in figures["collections"]].count(2)

    ours, cpythons = full_passes("ours"), full_passes("cpython")
    assert ours <= max(cpythons, 1), (ours, cpythons)
