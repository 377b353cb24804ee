"""Screenshots for the README: the demo data in a real Chromium, one PNG per page.

    .venv/bin/python docs/screenshots.py            # all of them, into docs/screenshots/
    .venv/bin/python docs/screenshots.py dashboard  # only those whose name contains "dashboard"

The app runs on a temporary SQLite database migrated from empty and loaded with the demo
(``webapp.demo.seed()``, as `flask seed-demo` does), served on a free port of 127.0.0.1. To add a
page, add one line to ``SHOTS``.
"""

import logging
import os
import secrets
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass(frozen=True)
class Shot:
    name: str             # docs/screenshots/<name>.png
    path: str             # the page's URL path; «{draft}» is the demo's new edition in work
    user: str | None = "manager@demo.local"  # who is logged in; None: nobody
    size: tuple[int, int] = (1366, 768)       # a laptop; (820, 1180) is a tablet held upright


SHOTS = [
    Shot("login", "/login", user=None),
    Shot("dashboard", "/"),
    Shot("clients", "/clients/"),
    Shot("client", "/clients/2"),
    Shot("client-tablet", "/clients/2", size=(820, 1180)),
    Shot("regulation", "/regulations/2"),
    Shot("regulation-editor", "/regulations/{draft}"),
    Shot("regulation-compare", "/regulations/{draft}/compare?with={signed}"),
    Shot("backlog", "/clients/{client}/backlog/"),
    Shot("backlog-item", "/backlog/{item}"),
    Shot("meeting", "/meetings/{meeting}"),
    Shot("budget", "/clients/{over_budget}/budgets/{year}"),
    Shot("acts", "/acts/", user="accountant@demo.local"),
    Shot("act", "/acts/{act}", user="accountant@demo.local"),
    Shot("admin-users", "/admin/users", user="admin@demo.local"),
    Shot("admin-company", "/admin/company", user="admin@demo.local"),
]


def demo_app(workdir: Path):
    """A fresh app on a migrated, demo-filled SQLite file inside ``workdir``."""
    from flask_migrate import upgrade

    from webapp import create_app, demo
    from webapp.extensions import db

    os.environ["ACCOUNTDESK_INSTANCE_PATH"] = str(workdir)  # keep the real instance/ out of it
    app = create_app({
        "DATABASE_URL": f"sqlite:///{workdir / 'demo.sqlite3'}",
        "SECRET_KEY": secrets.token_hex(32),
        "UPLOAD_FOLDER": str(workdir / "uploads"),
    })
    with app.app_context():
        upgrade()
        demo.seed()
        db.session.commit()
    return app


def demo_ids(app) -> dict[str, int]:
    """Ids the demo gives out in its own order: the edition in work and the one it replaces, the
    manager's client with the most requests, today's meeting, the budget over its plan, an issued act."""
    import sqlalchemy as sa

    from webapp.extensions import db
    from webapp.formatting import today
    from webapp.models import (Act, ActStatus, BacklogItem, Budget, BudgetBlock, Client, Meeting, MeetingStatus,
                               Regulation, RegulationStatus, User)

    with app.app_context():
        client_id = db.session.scalar(sa.select(Client.id).where(Client.short_name == "Северная Мануфактура"))
        editions = {r.status: r.id for r in db.session.scalars(sa.select(Regulation).where(Regulation.client_id == client_id))}
        manager_id = db.session.scalar(sa.select(User.id).where(User.email == "manager@demo.local"))
        busiest = db.session.scalar(
            sa.select(BacklogItem.client_id).join(Client).where(Client.manager_id == manager_id)
            .group_by(BacklogItem.client_id).order_by(sa.func.count().desc(), BacklogItem.client_id).limit(1))
        item = db.session.scalar(sa.select(BacklogItem.id).where(BacklogItem.client_id == busiest,
                                                                 BacklogItem.estimate_hours.is_not(None))
                                 .order_by(BacklogItem.id).limit(1))
        meeting = db.session.scalar(sa.select(Meeting.id).join(Client).where(
            Client.manager_id == manager_id, Meeting.status == MeetingStatus.PLANNED).order_by(Meeting.starts_at).limit(1))
        over = db.session.scalar(sa.select(Budget.client_id).join(BudgetBlock).join(Client)
                                 .where(Client.manager_id == manager_id)
                                 .order_by((BudgetBlock.spent + BudgetBlock.committed - BudgetBlock.planned_amount).desc())
                                 .limit(1))
        act = db.session.scalar(sa.select(Act.id).where(Act.status == ActStatus.SIGNED).order_by(Act.id).limit(1))
    return {"draft": editions[RegulationStatus.DRAFT], "signed": editions[RegulationStatus.SIGNED],
            "client": busiest, "item": item, "meeting": meeting, "over_budget": over, "act": act,
            "year": today().year}


def log_in(page: Page, email: str) -> None:
    from webapp.demo import DEMO_PASSWORD

    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Войти").click()
    if "/login" in page.url:
        raise SystemExit(f"could not log in as {email}")


def take(shots: list[Shot], base_url: str, ids: dict[str, int]) -> list[str]:
    """Write the PNGs; return the console errors met on the way (a page should have none)."""
    errors: list[str] = []
    pages: dict[str | None, Page] = {}
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for shot in shots:
            if shot.user not in pages:
                context = browser.new_context(base_url=base_url, locale="ru-RU",
                                              timezone_id="Europe/Moscow")
                page = context.new_page()
                page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
                page.on("pageerror", lambda error: errors.append(str(error)))
                if shot.user:
                    log_in(page, shot.user)
                pages[shot.user] = page
            page = pages[shot.user]
            page.set_viewport_size({"width": shot.size[0], "height": shot.size[1]})
            page.goto(shot.path.format(**ids))
            page.wait_for_load_state("networkidle")
            target = OUT / f"{shot.name}.png"
            page.screenshot(path=target, animations="disabled", caret="hide")
            print(f"{target.relative_to(ROOT)}  {shot.path.format(**ids)}")
        browser.close()
    return errors


def main(argv: list[str]) -> int:
    wanted = [s for s in SHOTS if not argv or any(word in s.name for word in argv)]
    if not wanted:
        print("no screenshot matches " + " ".join(argv), file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="accountdesk-shots-") as tmp:
        app = demo_app(Path(tmp))
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            errors = take(wanted, f"http://127.0.0.1:{server.server_port}", demo_ids(app))
        finally:
            server.shutdown()
            thread.join()
    for error in errors:
        print("console error: " + error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
