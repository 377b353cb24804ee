"""Twenty people at once: stored figures still match their source rows, unique rules hold in the
database, and nobody gets a 500. Real threads, each with its own app context, session and connection,
released together by a barrier, on SQLite and PostgreSQL."""

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tests.conftest import messages, serving_app
from webapp import saving
from webapp.extensions import db
from webapp.formatting import local
from webapp.models import Channel, Client, Contact, Regulation, Role, Touchpoint, User
from webapp.models.clients import cadence_dates
from webapp.requisites import make_inn
from webapp.services import ServiceError, terms, workflow
from webapp.services import clients as client_service
from webapp.services import regulations as regulation_service

WRITERS = 20
ROUNDS = 5
INN, KPP = "7707083893", "773601001"
DUPLICATE_CLIENT = "Клиент с таким ИНН и КПП уже есть"
DUPLICATE_EMAIL = "Пользователь с таким e-mail уже есть."
FIRST_CONTACT = datetime(2025, 3, 3, 7, 0, tzinfo=timezone.utc)


def together(count: int, work) -> list:
    """Run ``work(i, start)`` in ``count`` threads; each calls ``start()`` when it is ready to write,
    and all of them go on from there at once. What each returned, or the exception it raised."""
    barrier = threading.Barrier(count, timeout=60)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            results[i] = work(i, barrier.wait)
        except Exception as error:  # the test inspects it
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return results


@pytest.fixture
def app(database_url, tmp_path):
    """The app with a connection for every writer: twenty threads hold twenty connections at once
    (the default pool of fifteen would keep five of them from the start)."""
    engine = {"pool_pre_ping": True, "pool_size": WRITERS + 2, "max_overflow": 0}
    if database_url.startswith("sqlite"):
        engine["connect_args"] = {"timeout": 10}
    with serving_app(database_url, tmp_path, SQLALCHEMY_ENGINE_OPTIONS=engine) as app:
        yield app


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, full_name="Параллельный Павел Петрович")


def _new_client(app, manager, **fields) -> int:
    with app.app_context():
        client = client_service.create_client({"short_name": "Общий клиент"} | fields,
                                              acting=db.session.get(User, manager.id))
        db.session.commit()
        return client.id


def _logged_in(app, user, count: int) -> list:
    """``count`` browsers of one user, each with its own cookies."""
    browsers = []
    for _ in range(count):
        browser = app.test_client()
        browser.login(user)
        browsers.append(browser)
    return browsers


# --- derived figures ----------------------------------------------------------------------------


def test_locking_an_owner_keeps_what_the_transaction_already_changed(app, manager):
    """Two services in one transaction, each locking the client (a block saved, then a regulation
    drafted from it): the second lock's reload keeps the first one's change, on either database."""
    from webapp.services import derived
    with app.app_context():
        client = client_service.create_client({"short_name": "Ромашка", "status": "active"},
                                              acting=db.session.get(User, manager.id))
        db.session.commit()
        client_service.update_client(client, saving.Edit({"address": "Москва, Тверская, 1"}, client.version),
                                     acting=db.session.get(User, manager.id))
        derived.lock_owner(client)
        assert client.address == "Москва, Тверская, 1"
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Client, client.id).address == "Москва, Тверская, 1"


def test_last_contact_is_the_newest_of_twenty_logged_at_once(app, manager):
    """When twenty people log contacts on one client at once, does the cadence follow the newest?"""
    wrong = []
    for round_ in range(ROUNDS):
        client_id = _new_client(app, manager)
        # one contact a day, logged in shuffled order so the newest is not the last to start
        days = [(7 * i) % WRITERS for i in range(WRITERS)]

        def log(i, start):
            with app.app_context():
                client = db.session.get(Client, client_id)
                acting = db.session.get(User, manager.id)
                occurred = FIRST_CONTACT + timedelta(days=days[i], hours=round_)
                start()
                client_service.log_touchpoint(client, channel=Channel.CALL, summary=f"Звонок {i}", acting=acting,
                                              occurred_at=occurred, next_contact_on=local(occurred).date()
                                              + timedelta(days=5 + i))
                db.session.commit()

        assert [r for r in together(WRITERS, log) if r is not None] == []
        with app.app_context():
            client = db.session.get(Client, client_id)
            newest = db.session.scalars(sa.select(Touchpoint).where(Touchpoint.client_id == client_id)
                                        .order_by(Touchpoint.occurred_at.desc())).first()
            expected = cadence_dates(local(newest.occurred_at).date(),
                                     terms.effective_terms(client).contact_cadence_days, newest.next_contact_on)
            if (client.last_contact_at, client.next_contact_on, client.due_on, client.overdue_on,
                    client.critical_on) != (newest.occurred_at, newest.next_contact_on, expected.due_on,
                                            expected.overdue_on, expected.critical_on):
                wrong.append(round_)
    assert wrong == [], f"the cadence missed the newest contact in {len(wrong)} of {ROUNDS} rounds"


def test_last_contact_follows_deletes_and_logs_at_once(app, manager):
    """When some delete contacts logged by mistake while others log new ones, is the newest kept?"""
    client_id = _new_client(app, manager)
    with app.app_context():
        client, acting = db.session.get(Client, client_id), db.session.get(User, manager.id)
        logged = [client_service.log_touchpoint(client, channel=Channel.CALL, summary=f"Старый {i}", acting=acting,
                                                occurred_at=FIRST_CONTACT + timedelta(days=30 + i)).id
                  for i in range(WRITERS // 2)]
        db.session.commit()

    def work(i, start):
        with app.app_context():
            client, acting = db.session.get(Client, client_id), db.session.get(User, manager.id)
            if i % 2:
                touchpoint = db.session.get(Touchpoint, logged[i // 2])
                start()
                client_service.delete_touchpoint(touchpoint, touchpoint.version, acting=acting)
            else:
                start()
                client_service.log_touchpoint(client, channel=Channel.CALL, summary=f"Новый {i}", acting=acting,
                                              occurred_at=FIRST_CONTACT + timedelta(days=i))
            db.session.commit()

    assert [r for r in together(WRITERS, work) if r is not None] == []
    with app.app_context():
        client = db.session.get(Client, client_id)
        newest = db.session.scalar(sa.select(sa.func.max(Touchpoint.occurred_at))
                                   .where(Touchpoint.client_id == client_id))
        assert newest == FIRST_CONTACT + timedelta(days=WRITERS - 2)
        assert client.last_contact_at == newest


def test_signing_an_edition_keeps_a_contact_logged_since_the_page_opened(app, manager):
    """When an edition with a new cadence is signed from a page opened before a contact was logged,
    do the due dates count from that contact?"""
    client_id = _new_client(app, manager)
    with app.app_context():
        client, acting = db.session.get(Client, client_id), db.session.get(User, manager.id)
        draft = regulation_service.create_draft(client, acting=acting)
        draft.contact_cadence_days = 10
        db.session.flush()
        workflow.change_status(draft, "agreed", acting=acting, shown_status="draft", version=draft.version)
        db.session.commit()
        regulation_id = draft.id
    contact_at = FIRST_CONTACT + timedelta(days=40)
    with app.app_context():
        regulation = db.session.get(Regulation, regulation_id)  # the signer's page, with its client
        assert regulation.client.last_contact_at is None
        with app.app_context():  # meanwhile, a colleague logs a call
            client_service.log_touchpoint(db.session.get(Client, client_id), channel=Channel.CALL, summary="Звонок",
                                          acting=db.session.get(User, manager.id), occurred_at=contact_at)
            db.session.commit()
        workflow.change_status(regulation, "signed", acting=db.session.get(User, manager.id), shown_status="agreed",
                               version=regulation.version, values={"signed_on": FIRST_CONTACT.date()})
        db.session.commit()
    with app.app_context():
        client = db.session.get(Client, client_id)
        expected = cadence_dates(local(contact_at).date(), 10)
        assert client.last_contact_at == contact_at
        assert (client.due_on, client.overdue_on, client.critical_on) == (
            expected.due_on, expected.overdue_on, expected.critical_on)


def test_search_finds_every_one_of_twenty_contacts_added_at_once(app, manager):
    """When twenty people add contacts to one client at once, can a search find each of them?"""
    missing_by_round = []
    for round_ in range(ROUNDS):
        inn = make_inn(f"7707083{round_:02d}")
        client_id = _new_client(app, manager, inn=inn)

        def add(i, start):
            with app.app_context():
                client = db.session.get(Client, client_id)
                acting = db.session.get(User, manager.id)
                list(client.contacts)  # the card was open: the contacts are loaded
                start()
                client_service.add_contact(client, {"full_name": f"Сотрудников{round_}x{i} Иван"}, acting=acting)
                db.session.commit()

        assert [r for r in together(WRITERS, add) if r is not None] == []
        with app.app_context():
            text = db.session.get(Client, client_id).search_text
            missing_by_round.append(sum(f"сотрудников{round_}x{i} иван" not in text for i in range(WRITERS)))
            assert inn in text
    assert sum(missing_by_round) == 0, f"contacts a search cannot find, by round: {missing_by_round}"


def test_search_text_keeps_contacts_and_the_new_name_edited_at_once(app, manager):
    """While some add and rename contacts and one renames the client, does the search keep up with all?"""
    client_id = _new_client(app, manager)
    with app.app_context():
        client, acting = db.session.get(Client, client_id), db.session.get(User, manager.id)
        contact_ids = [client_service.add_contact(client, {"full_name": f"Прежний{i}"}, acting=acting).id
                       for i in range(WRITERS // 2)]
        db.session.commit()

    def work(i, start):
        with app.app_context():
            client, acting = db.session.get(Client, client_id), db.session.get(User, manager.id)
            list(client.contacts)
            if i == 0:
                edit = saving.Edit({"short_name": "Переименованный"}, client.version)
                start()
                client_service.update_client(client, edit, acting=acting)
            elif i % 2:
                contact = db.session.get(Contact, contact_ids[i // 2])
                edit = saving.Edit({"full_name": f"Переименованный{i}"}, contact.version)
                start()
                client_service.update_contact(contact, edit, acting=acting)
            else:
                start()
                client_service.add_contact(client, {"full_name": f"Добавленный{i}"}, acting=acting)
            db.session.commit()

    assert [r for r in together(WRITERS, work) if r is not None] == []
    with app.app_context():
        text = db.session.get(Client, client_id).search_text
        names = db.session.scalars(sa.select(Contact.full_name).where(Contact.client_id == client_id)).all()
        assert "переименованный " in text + " " and len(names) == WRITERS // 2 + (WRITERS - 1) // 2
        assert [name for name in names if name.lower() not in text] == []


# --- unique rules -------------------------------------------------------------------------------


def test_twenty_new_clients_with_one_inn_and_kpp_make_one(app, manager):
    """When twenty people add the same company at once, is it added once and the others told why?"""
    browsers = _logged_in(app, manager, WRITERS)

    def create(i, start):
        start()
        return browsers[i].post("/clients/new", data={
            "short_name": f"Ромашка {i}", "status": "active", "contact_cadence_days": "3", "inn": INN,
            "kpp": KPP, "deputy_id": ""})

    responses = together(WRITERS, create)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [303] + [422] * (WRITERS - 1), Counter(statuses)
    assert all(any(DUPLICATE_CLIENT in m for m in messages(r)) for r in responses if r.status_code == 422)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Client).where(Client.inn == INN)) == 1


def test_twenty_services_adding_one_inn_and_kpp_commit_one(app, manager):
    """Below the pages, does the database itself refuse a second client with one ИНН and КПП?"""

    def create(i, start):
        with app.app_context():
            acting = db.session.get(User, manager.id)
            start()
            try:
                client_service.create_client({"short_name": f"Ромашка {i}", "inn": INN, "kpp": KPP}, acting=acting)
                db.session.commit()
            except IntegrityError as error:
                db.session.rollback()
                return saving.unique_refusal(error)
            except ServiceError as error:
                db.session.rollback()
                return error

    refusals = [r for r in together(WRITERS, create) if r is not None]
    assert len(refusals) == WRITERS - 1
    assert all(isinstance(r, ServiceError) and DUPLICATE_CLIENT in r.message and r.field == "inn"
               for r in refusals), refusals
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 1


def test_a_branch_shares_the_inn_with_its_own_kpp(app, client, login_as, manager):
    """Can a branch be added with the head office's ИНН and its own КПП, and clients without ИНН freely?"""
    login_as(Role.MANAGER)
    form = {"status": "active", "contact_cadence_days": "3", "deputy_id": ""}
    assert client.post("/clients/new", data={**form, "short_name": "Головной", "inn": INN,
                                              "kpp": KPP}).status_code == 303
    assert client.post("/clients/new", data={**form, "short_name": "Филиал", "inn": INN,
                                              "kpp": "773602001"}).status_code == 303
    for name in ("Без ИНН 1", "Без ИНН 2"):
        assert client.post("/clients/new", data={**form, "short_name": name}).status_code == 303
    again = client.post("/clients/new", data={**form, "short_name": "Дубль", "inn": INN, "kpp": KPP})
    assert again.status_code == 422
    assert f"{DUPLICATE_CLIENT}: «Головной»." in " ".join(messages(again))


def test_a_branch_cannot_take_the_head_offices_kpp(app, manager):
    """Is a branch whose КПП is changed to its head office's refused, naming the head office?"""
    _new_client(app, manager, short_name="Головной", inn=INN, kpp=KPP)
    branch = _new_client(app, manager, short_name="Филиал", inn=INN, kpp="773602001")
    with app.app_context():
        record = db.session.get(Client, branch)
        with pytest.raises(ServiceError) as refused:
            client_service.update_client(record, saving.Edit({"kpp": KPP}, record.version),
                                         acting=db.session.get(User, manager.id))
        assert refused.value.message == f"{DUPLICATE_CLIENT}: «Головной». Филиал с тем же ИНН добавьте со своим КПП."


def test_twenty_new_users_with_one_email_make_one(app, make_user):
    """When twenty admins create an account with one e-mail at once, is it created once, without a 500?"""
    admin = make_user(Role.ADMIN)
    browsers = _logged_in(app, admin, WRITERS)

    def create(i, start):
        start()
        return browsers[i].post("/admin/users/new", data={
            "email": "Twin@Example.test" if i % 2 else "twin@example.test", "full_name": f"Двойник {i}",
            "role": "specialist", "password": "first-password-1"})

    responses = together(WRITERS, create)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [303] + [422] * (WRITERS - 1), Counter(statuses)
    assert all(DUPLICATE_EMAIL in messages(r) for r in responses if r.status_code == 422)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)
                                 .where(User.email == "twin@example.test")) == 1


def test_the_database_refuses_one_email_in_two_cases(app, make_user):
    """Does the database itself keep e-mails unique regardless of case, with the service's message?"""
    make_user(Role.MANAGER, email="case@example.test")
    with app.app_context():
        db.session.add(User(email="CASE@example.test", full_name="Регистр", role=Role.MANAGER, password_hash="x"))
        with pytest.raises(IntegrityError) as raised:
            db.session.flush()
        db.session.rollback()
        refusal = saving.unique_refusal(raised.value)
        assert (refusal.message, refusal.field) == (DUPLICATE_EMAIL, "email")


def test_twenty_new_editions_at_once_make_one_draft(app, manager):
    """When twenty people press «Новая редакция» at once, is one draft made, without a 500?"""
    client_id = _new_client(app, manager)
    browsers = _logged_in(app, manager, WRITERS)

    def create(i, start):
        start()
        return browsers[i].post(f"/clients/{client_id}/regulations/")

    responses = together(WRITERS, create)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [303] + [422] * (WRITERS - 1), Counter(statuses)
    assert all(any("неподписанная редакция" in m for m in messages(r)) for r in responses if r.status_code == 422)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Regulation)
                                 .where(Regulation.client_id == client_id)) == 1


def test_a_lost_race_for_an_edition_number_reads_as_the_service_refusal(app, manager):
    """Does a duplicate edition number from the database answer with the service's words, not a 500?"""
    client_id = _new_client(app, manager)
    with app.app_context():
        client, acting = db.session.get(Client, client_id), db.session.get(User, manager.id)
        first = regulation_service.create_draft(client, acting=acting)
        db.session.commit()
        db.session.add(Regulation(client_id=client_id, number=first.number, created_by_id=acting.id,
                                  parties=[], city="г. Москва"))
        with pytest.raises(IntegrityError) as raised:
            db.session.flush()
        db.session.rollback()
        refusal = saving.unique_refusal(raised.value)
        assert "неподписанная редакция" in refusal.message and refusal.status in (409, 422)


def test_unknown_integrity_errors_are_not_dressed_up(app, manager):
    """Is a broken rule that no unique rule names left alone (a real bug stays a 500 in the log)?"""
    with app.app_context():
        db.session.add(Contact(client_id=999_999, full_name="Сирота"))
        with pytest.raises(IntegrityError) as raised:
            db.session.flush()
        db.session.rollback()
        assert saving.unique_refusal(raised.value) is None

