"""A worker freezes what its first requests loaded, so that the cyclic collector's full passes —
a pause of one request, the p99 of a page — walk only what later requests leave behind (issue 9).

The collector's frozen generation belongs to the whole process, so the worker is played by a
process of its own: in a pytest worker, another test's leftover thread (a live server, a
checkpoint) may freeze or track objects while this one counts."""

import json
import subprocess
import sys
from pathlib import Path

WORKER = """
import gc, json, sys
sys.path.insert(0, sys.argv[1])
from tests.conftest import app_config
from webapp import create_app, gcfreeze
from pathlib import Path

app = create_app(app_config("sqlite://", Path(sys.argv[2])))
gcfreeze.install(app, marks=(3, 5))
client = app.test_client()
frozen = []
for _ in range(7):
    assert client.get("/healthz").status_code == 200
    frozen.append(gc.get_freeze_count())
print(json.dumps({"frozen": frozen, "tracked": len(gc.get_objects())}))
"""


def test_the_worker_freezes_once_at_each_mark_and_the_objects_of_its_start_stay_frozen(tmp_path):
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", WORKER, str(root), str(tmp_path)], capture_output=True,
                          text=True, timeout=120, cwd=root)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    frozen, tracked = figures["frozen"], figures["tracked"]
    start = frozen[0]
    assert frozen[:2] == [start, start]                       # before the first mark: nothing
    assert frozen[2] > start                                  # the third request froze what was loaded
    assert frozen[3] == frozen[2] and frozen[4] > frozen[3]  # then once more at the fifth
    assert frozen[5:] == [frozen[4], frozen[4]]               # and never again
    assert tracked < frozen[2] / 10, (tracked, frozen)        # a full collection walks a tenth or less
