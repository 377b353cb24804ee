"""Signed single-use links and calendar feed tokens: the only ways in without a login.

A test purpose «confirm_test» acts on a client: its page shows the client's name and a comment
field, its handler writes an audit event (refusing the comment «плохой»), so each answer is
counted in the database.
"""

import re
import threading
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import database_snapshot, messages
from tests.html_checks import assert_valid
from webapp.extensions import db
from webapp.models import AuditEvent, Client, FeedToken, Role, SignedLink, User
from webapp.models.audit import log_event
from webapp.services import PermissionDenied, ServiceError
from webapp.services import clients as client_service
from webapp.services import links, mail

ISSUED = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
TTL = timedelta(days=7)
HANDLER_PAUSE = {"seconds": 0.0}  # the race test holds the winner inside its transaction a moment

PAGE_MACRO = """{% macro confirm(record, link, error) -%}
<p>Подтвердите получение для клиента «{{ record.short_name }}».</p>
<label class="form-label" for="comment">Комментарий</label>
<textarea class="form-control" id="comment" name="comment"></textarea>
<button type="submit" class="btn btn-primary" name="action" value="confirm">Подтверждаю</button>
<button type="submit" class="btn btn-outline-danger" name="action" value="decline">Отклоняю</button>
{%- endmacro %}"""


def _answer(label: str):
    def handler(client: Client, link: SignedLink, data) -> str:
        comment = data.get("comment", "")
        if comment == "плохой":
            raise ServiceError("Комментарий не принят.", field="comment")
        time.sleep(HANDLER_PAUSE["seconds"])
        log_event("clients", client.id, str(client), "confirm_test", {"answer": [None, label], "comment": [None, comment]})
        return f"Ответ «{label}» записан."
    return handler


links.register_purpose("confirm_test", model=Client, render="linktest.confirm", title="Подтверждение получения",
                       actions={"confirm": _answer("подтверждаю"), "decline": _answer("отклоняю")})


@pytest.fixture
def link_app(app):
    """The app with the test purpose's page macro among the template globals."""
    app.jinja_env.globals["linktest"] = SimpleNamespace(
        confirm=app.jinja_env.from_string(PAGE_MACRO).module.confirm)
    return app


@pytest.fixture
def issue(link_app, make_user):
    """``issue(now=…, ttl=…)`` → (token, client id) for a fresh link on a fresh client."""
    manager = make_user(Role.MANAGER)

    def make(*, now: datetime | None = None, ttl: timedelta = TTL, recipient: str = "lpr@romashka.test"):
        with link_app.app_context():
            acting = db.session.get(User, manager.id)
            card = client_service.create_client({"short_name": "Ромашка"}, acting=acting)
            token = links.issue_link("confirm_test", card, recipient, ttl, acting=acting, now=now)
            db.session.commit()
            return token, card.id
    return make


def _answers(app) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "confirm_test")))
        db.session.expunge_all()
        return found


def _link(app) -> SignedLink:
    with app.app_context():
        link = db.session.scalars(sa.select(SignedLink)).one()
        db.session.expunge(link)
        return link


def test_a_link_opens_its_page_and_answers_once(link_app, client, issue):
    """Does the link show its record, take one answer (who, when, to whom), then refuse a second?"""
    token, _ = issue()
    before = database_snapshot(link_app)
    page = client.get(f"/l/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Подтвердите получение для клиента «Ромашка»" in html and "lpr@romashka.test" in html
    assert database_snapshot(link_app) == before  # opening the page changes nothing

    done = client.post(f"/l/{token}", data={"action": "confirm", "comment": "Всё получили"})
    assert done.status_code == 200
    assert "Ответ «подтверждаю» записан." in done.get_data(as_text=True)
    [answer] = _answers(link_app)
    assert answer.actor_name == "по ссылке: lpr@romashka.test" and answer.actor_id is None
    assert answer.changes["comment"] == [None, "Всё получили"]
    link = _link(link_app)
    assert link.result == "confirm" and link.used_at is not None and link.recipient == "lpr@romashka.test"
    with link_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "link_used")) == 1

    for again in (client.get(f"/l/{token}"), client.post(f"/l/{token}", data={"action": "decline"})):
        assert again.status_code == 410
        assert "Ссылка уже использована" in again.get_data(as_text=True)
        assert "Ромашка" not in again.get_data(as_text=True)
    assert len(_answers(link_app)) == 1


def test_a_link_expires_after_its_time(link_app, client, issue):
    """Is a link valid until its time is up, and «устарела» (410) after, on the page too?"""
    token, _ = issue(now=ISSUED, ttl=timedelta(hours=48))
    with link_app.app_context():
        assert links.resolve(token, now=ISSUED + timedelta(hours=47, minutes=59)).purpose == "confirm_test"
        with pytest.raises(links.LinkRefused, match="Ссылка устарела") as refused:
            links.resolve(token, now=ISSUED + timedelta(hours=48))
        assert refused.value.status == 410
        link = links.resolve(token, now=ISSUED)
        with pytest.raises(links.LinkRefused, match="устарела"):  # expired between opening and answering
            links.use(link, "confirm", now=ISSUED + timedelta(days=3))
        db.session.rollback()
    # ISSUED is long past by the real clock: the page says so and takes no answer
    for response in (client.get(f"/l/{token}"), client.post(f"/l/{token}", data={"action": "confirm"})):
        assert response.status_code == 410
        assert "Ссылка устарела" in response.get_data(as_text=True)
    assert _answers(link_app) == []


def _tampered(token: str) -> list[str]:
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    return [flipped, token[:-1], token + "x", token.upper(), "x" * 43, "a" * 500,
            token[:20] + "%D0%AF" + token[22:], "..", "-" * 43]


def test_a_tampered_token_is_refused(link_app, client, issue):
    """Is a token changed by a character, cut, padded or garbled a 404 «неверна», never a 500?"""
    token, _ = issue()
    for bad in _tampered(token):
        for response in (client.get(f"/l/{bad}"), client.post(f"/l/{bad}", data={"action": "confirm"})):
            assert response.status_code == 404, bad
            text = response.get_data(as_text=True)
            assert "Ссылка неверна" in text and "Ромашка" not in text
    assert client.get(f"/l/%00{token}").status_code == 400  # a NUL is refused before any route
    assert _answers(link_app) == []
    assert client.get(f"/l/{token}").status_code == 200  # the real one still works


def test_an_answer_without_the_pages_csrf_token_is_refused(link_app, client, issue):
    """Is a POST to a link that did not come from its page (no CSRF token) refused, the link kept?"""
    token, _ = issue()
    response = client.post(f"/l/{token}", data={"action": "confirm"}, csrf=False)
    assert response.status_code == 400
    assert "проверочного токена" in response.get_data(as_text=True)
    assert _answers(link_app) == [] and _link(link_app).used_at is None


def test_the_page_carries_its_own_csrf_token(link_app, issue):
    """Can a visitor with no session answer with the token the page itself carries?"""
    token, _ = issue()
    browser = link_app.test_client()
    html = browser.get(f"/l/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = browser.post(f"/l/{token}", data={"action": "decline", "csrf_token": csrf}, csrf=False)
    assert response.status_code == 200
    assert [a.changes["answer"] for a in _answers(link_app)] == [[None, "отклоняю"]]


def test_refused_input_leaves_the_link_usable(link_app, client, issue):
    """Does an answer the area refuses show its message (422) and leave the link for a second try?"""
    token, _ = issue()
    refused = client.post(f"/l/{token}", data={"action": "confirm", "comment": "плохой"})
    assert refused.status_code == 422
    assert "Комментарий не принят." in messages(refused)
    assert_valid(refused)
    unknown = client.post(f"/l/{token}", data={"action": "delete_everything"})
    assert unknown.status_code == 422 and "Выберите один из ответов на странице." in messages(unknown)
    assert _link(link_app).used_at is None and _answers(link_app) == []
    assert client.post(f"/l/{token}", data={"action": "confirm", "comment": "хороший"}).status_code == 200


def test_two_concurrent_answers_exactly_one_wins(link_app, issue):
    """When two browsers answer the same link at the same moment, is exactly one answer recorded?"""
    token, _ = issue()
    HANDLER_PAUSE["seconds"] = 0.3  # the first to claim the link is still inside its transaction
    barrier, statuses = threading.Barrier(2), []

    def answer(action: str) -> None:
        browser = link_app.test_client()
        assert browser.get(f"/l/{token}").status_code == 200
        barrier.wait()
        statuses.append(browser.post(f"/l/{token}", data={"action": action}).status_code)

    threads = [threading.Thread(target=answer, args=(action,)) for action in ("confirm", "decline")]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        HANDLER_PAUSE["seconds"] = 0.0
    assert sorted(statuses) == [200, 410]
    [answer] = _answers(link_app)
    assert _link(link_app).result == {"подтверждаю": "confirm", "отклоняю": "decline"}[answer.changes["answer"][1]]


def test_a_mailed_link_arrives_and_opens_its_page(mail_app, issue, client):
    """Does the e-mail with the link reach the SMTP server, and does its link open the page?"""
    mail_app.jinja_env.globals["linktest"] = SimpleNamespace(
        confirm=mail_app.jinja_env.from_string(PAGE_MACRO).module.confirm)
    mail_app.config["LINKS_BASE_URL"] = "https://desk.company.test/"
    token, client_id = issue()
    with mail_app.app_context():
        url = links.link_url(token)
        assert url == f"https://desk.company.test/l/{token}"
        assert mail.send("lpr@romashka.test", "Подтвердите получение",
                         f"Добрый день!\nОтветьте по ссылке: {url}\nСсылка действует 7 дней.",
                         about=("clients", client_id), client_id=client_id).sent
        db.session.commit()
    [received] = mail_app.inbox.messages
    body = received.get_body(("plain",)).get_content()
    [found] = re.findall(r"https://desk\.company\.test(/l/[A-Za-z0-9_-]+)", body)
    page = client.get(found)
    assert page.status_code == 200 and "«Ромашка»" in page.get_data(as_text=True)


def test_link_pages_are_private_and_valid(link_app, client, issue):
    """Are the link's page, its answer and its refusals valid HTML, never cached nor indexed, and
    is the token kept out of the Referer?"""
    token, _ = issue()
    responses = [client.get(f"/l/{token}"), client.post(f"/l/{token}", data={"action": "confirm"}),
                 client.get(f"/l/{token}"), client.get("/l/" + "x" * 43)]
    assert [r.status_code for r in responses] == [200, 200, 410, 404]
    for response in responses:
        assert_valid(response)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Robots-Tag"] == "noindex"


def test_a_link_to_a_deleted_record_is_gone(link_app, client, issue):
    """Does a link whose record was deleted answer 410 and say so?"""
    token, client_id = issue()
    with link_app.app_context():
        db.session.execute(sa.delete(Client).where(Client.id == client_id))
        db.session.commit()
    response = client.get(f"/l/{token}")
    assert response.status_code == 410 and "запись, о которой она, удалена" in response.get_data(as_text=True)


def test_the_public_pages_are_rate_limited(link_app, client, issue):
    """Does one address guessing tokens get 429 after LINKS_RATE_LIMIT tries?"""
    link_app.config["LINKS_RATE_LIMIT"] = "5 per minute"
    statuses = [client.get("/l/" + f"{n:043d}").status_code for n in range(7)]
    assert statuses == [404] * 5 + [429] * 2


def test_only_the_token_hash_is_stored(link_app, issue):
    """Does the database hold the token's sha256 and never the token itself?"""
    token, _ = issue()
    snapshot = repr(database_snapshot(link_app))
    assert token not in snapshot and links.digest(token) in snapshot
    assert len(token) >= 43


def test_a_link_needs_a_registered_purpose_and_an_addressee(link_app, issue, make_user):
    """Is a link for an unknown purpose, the wrong record, no addressee or no time refused?"""
    issue()
    with link_app.app_context():
        card = db.session.scalars(sa.select(Client)).one()
        user = db.session.scalars(sa.select(User)).first()
        with pytest.raises(ValueError):
            links.issue_link("no_such_purpose", card, "a@b.test", TTL)
        with pytest.raises(ValueError):
            links.issue_link("confirm_test", user, "a@b.test", TTL)
        with pytest.raises(ValueError):
            links.issue_link("confirm_test", card, "a@b.test", timedelta(0))
        with pytest.raises(ServiceError, match="кому отправлена"):
            links.issue_link("confirm_test", card, "  \n ", TTL)


# --- calendar feeds ---------------------------------------------------------------------------


def test_a_revoked_feed_token_answers_404(app, client, make_user):
    """Does the calendar feed open by its token, and stop when the token is reissued or revoked?"""
    owner = make_user(Role.MANAGER)
    with app.app_context():
        user = db.session.get(User, owner.id)
        first = links.issue_feed_token(user, acting=user)
        db.session.commit()
    response = client.get(f"/feeds/{first}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.get_data(as_text=True).startswith("BEGIN:VCALENDAR\r\n")
    assert response.headers["Cache-Control"] == "no-store"

    with app.app_context():
        user = db.session.get(User, owner.id)
        second = links.issue_feed_token(user, acting=user)
        db.session.commit()
    assert client.get(f"/feeds/{first}.ics").status_code == 404
    assert client.get(f"/feeds/{second}.ics").status_code == 200

    with app.app_context():
        user = db.session.get(User, owner.id)
        assert links.revoke_feed_token(user, acting=user) is True
        assert links.revoke_feed_token(user, acting=user) is False
        db.session.commit()
        assert db.session.scalars(sa.select(FeedToken)).all() == []
    assert client.get(f"/feeds/{second}.ics").status_code == 404
    for bad in ("x" * 43, "short", "a" * 500):
        assert client.get(f"/feeds/{bad}.ics").status_code == 404


def test_a_feed_token_belongs_to_its_user(app, client, make_user):
    """May only the user (or an admin) issue their feed token, and does a disabled user's feed stop?"""
    owner, other, admin = make_user(Role.MANAGER), make_user(Role.MANAGER), make_user(Role.ADMIN)
    with app.app_context():
        user = db.session.get(User, owner.id)
        with pytest.raises(PermissionDenied):
            links.issue_feed_token(user, acting=db.session.get(User, other.id))
        token = links.issue_feed_token(user, acting=db.session.get(User, admin.id))
        db.session.commit()
    assert client.get(f"/feeds/{token}.ics").status_code == 200
    with app.app_context():
        db.session.get(User, owner.id).active = False
        db.session.commit()
    assert client.get(f"/feeds/{token}.ics").status_code == 404


def test_a_link_url_points_where_clients_reach_us(link_app):
    """Is a link's URL built on LINKS_BASE_URL, else on the host the manager is using?"""
    with link_app.test_request_context(base_url="https://intranet.test"):
        assert links.link_url("abc") == "https://intranet.test/l/abc"
        link_app.config["LINKS_BASE_URL"] = "https://desk.company.test/"
        assert links.link_url("abc") == "https://desk.company.test/l/abc"
    link_app.config["LINKS_BASE_URL"] = ""
    with link_app.app_context(), pytest.raises(RuntimeError):
        links.link_url("abc")  # a command has no host to guess: a relative link would be useless
