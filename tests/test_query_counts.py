"""Pages stay fast as the data grows: SQL statements per page do not grow with the rows, macros are
called without a Python layer of ours in between, values are printed through the cheaper escape,
and the per-process copies (``webapp.cache``) follow a change made in another worker at once."""

import re
import sys
from decimal import Decimal
from pathlib import Path

import enum

import jinja2.runtime
import markupsafe
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

import webapp
from webapp import benchdata, cache, create_app, escaping
from webapp.extensions import db
from webapp.models import (ActLine, BacklogItem, Budget, Channel, Client, Meeting, Regulation, RegulationStatus, Role,
                           User)
from webapp.services import clients as client_service
from webapp.services import dashboard
from webapp.templating import MacroNamespace
from tests.conftest import Client as Browser, app_config

WEBAPP = Path(webapp.__file__).parent


def _bench_user(role: Role) -> User:
    return db.session.scalar(sa.select(User).where(User.role == role, User.email.like("%@bench.local"))
                             .order_by(User.id).limit(1))


def _grow(app, clients: int) -> None:
    """More of everything: bench data (clients, contacts, touchpoints, editions, users, audit
    events), the first bench manager leading every other client, and more editions and history for
    the clients the pages show."""
    with app.app_context():
        benchdata.generate(clients=clients)
        manager = _bench_user(Role.MANAGER)
        db.session.execute(sa.update(Client.__table__).where(Client.__table__.c.id % 2 == 0)
                           .values(manager_id=manager.id))
        regulated = _regulated_client()
        signed = db.session.scalar(sa.select(Regulation).where(Regulation.client_id == regulated,
                                                               Regulation.status == RegulationStatus.SIGNED))
        top = db.session.scalar(sa.select(sa.func.max(Regulation.number)).where(Regulation.client_id == regulated))
        columns = {c.key: getattr(signed, c.key) for c in Regulation.__table__.columns if c.key != "id"}
        db.session.execute(sa.insert(Regulation.__table__), [
            {**columns, "number": top + n, "status": RegulationStatus.SUPERSEDED.value} for n in range(1, 4)])
        card = db.session.get(Client, _card(manager))
        for n in range(4):
            client_service.add_contact(card, {"full_name": f"Контакт {clients} {n}"}, acting=manager)
            client_service.log_touchpoint(card, channel=Channel.CALL, summary=f"Созвон {n}", acting=manager,
                                          contact_ids=[c.id for c in card.contacts[:2]])
        db.session.commit()


def _card(manager: User) -> int:
    return db.session.scalar(sa.select(sa.func.min(Client.id)).where(Client.manager_id == manager.id))


def _regulated_client() -> int:
    """The lowest client with an edition in draft (and so a signed one)."""
    return db.session.scalar(sa.select(sa.func.min(Regulation.client_id))
                             .where(Regulation.status == RegulationStatus.DRAFT))


def _pages(app) -> dict[str, tuple[str, str]]:
    """Every list and card: name → (role, path)."""
    with app.app_context():
        manager = _bench_user(Role.MANAGER)
        card = _card(manager)
        regulated = _regulated_client()
        draft, signed = (db.session.scalar(sa.select(Regulation.id).where(
            Regulation.client_id == regulated, Regulation.status == status))
            for status in (RegulationStatus.DRAFT, RegulationStatus.SIGNED))
        item = db.session.scalar(sa.select(sa.func.min(BacklogItem.id)).where(
            BacklogItem.client_id == card, BacklogItem.status.not_in(["accepted", "rejected", "cancelled"])))
        meeting = db.session.scalar(sa.select(sa.func.min(Meeting.id)).where(Meeting.client_id == card))
        act = db.session.scalar(sa.select(ActLine.act_id).group_by(ActLine.act_id)
                                .order_by(sa.func.count().desc(), ActLine.act_id).limit(1))
        year = db.session.scalar(sa.select(sa.func.max(Budget.year)))
        sections = {role: _list_sections(role) for role in ("manager", "admin")}
    return {
        "Клиенты: по телефону": ("manager", "/clients/?q=79"),  # every bench phone is +7 9…
        "Передача клиентов": ("admin", "/clients/handover"),
        "Бэклог клиента": ("manager", f"/clients/{card}/backlog/"),
        "Бэклог всех клиентов": ("manager", "/backlog/"),
        "Бэклог: ждут нас": ("admin", "/backlog/?waiting=us"),
        "Задача бэклога": ("manager", f"/backlog/{item}"),
        "Встречи недели (все)": ("admin", "/meetings/?all=1"),
        "Встречи клиента": ("manager", f"/clients/{card}/meetings/"),
        "Встреча": ("manager", f"/meetings/{meeting}"),
        "Бюджет клиента": ("manager", f"/clients/{card}/budgets/{year}"),
        "Бюджеты: обзор": ("admin", f"/budgets/{year}"),
        "Акты": ("admin", "/acts/"),
        "Акты: просроченные": ("admin", "/acts/?paid=overdue"),
        "Акты клиента": ("admin", f"/clients/{card}/acts/"),
        "Акт": ("admin", f"/acts/{act}"),
        "Клиенты": ("manager", "/clients/"),
        "Клиенты: поиск": ("manager", "/clients/?q=%D1%80%D0%BE%D0%BC"),
        "Клиенты: требуют внимания": ("manager", "/clients/?cadence=attention&sort=last_contact"),
        "Карточка клиента": ("manager", f"/clients/{card}"),
        "История клиента": ("manager", f"/clients/{card}/timeline"),
        "Мой день (менеджер)": ("manager", "/"),
        "Мой день (администратор)": ("admin", "/"),
        # A section of «Мой день» draws ten rows at both sizes, so a query per row hides there: drawn
        # in full (up to 200 rows), each list section shows many more rows for many clients.
        **{f"Мой день: {key} целиком ({role})": (role, f"/?section={key}&all=1")
           for role, keys in sections.items() for key in keys},
        "Регламенты клиента": ("admin", f"/clients/{regulated}/regulations/"),
        "Регламент: проект": ("admin", f"/regulations/{draft}"),
        "Регламент: подписан": ("admin", f"/regulations/{signed}"),
        "Регламенты: сравнение": ("admin", f"/regulations/{draft}/compare?with={signed}"),
        "Пользователи": ("admin", "/admin/users"),
        "Журнал аудита": ("admin", "/admin/audit"),
    }


def _list_sections(role: str) -> list[str]:
    """The keys of the list sections of «Мой день» that the bench user of ``role`` sees."""
    user = _bench_user(Role(role))
    return [key for key, section in dashboard._SECTIONS.items() if section.counted is not None and section.applies(user)]


_TBODY_ROW = re.compile(r"<tbody\b.*?</tbody>", re.S)


# The page count of a list (``webapp.pagination``), which a first page with room to spare does without.
_PAGE_COUNT = re.compile(r"^SELECT count\(\*\) AS count_1\s+FROM \(SELECT 1")


def _measure(app, count_queries) -> dict[str, tuple[int, int]]:
    """Per page: (SQL statements besides the page count, table rows shown), from the second of two
    requests (the first loads the per-process copies)."""
    with app.app_context():
        emails = {role: _bench_user(Role(role)).email for role in ("manager", "admin")}
    browsers = {role: app.test_client() for role in emails}
    for role, email in emails.items():
        browsers[role].login(email, benchdata.BENCH_PASSWORD)
    figures = {}
    for name, (role, path) in _pages(app).items():
        assert browsers[role].get(path).status_code == 200, name
        with count_queries() as queries:
            response = browsers[role].get(path)
        assert response.status_code == 200, name
        body = response.get_data(as_text=True)
        rows = (sum(tbody.count("<tr") for tbody in _TBODY_ROW.findall(body)) + body.count('class="contact-card')
                + body.count('<li class="kind-'))
        figures[name] = (len([q for q in queries if not _PAGE_COUNT.match(q)]), rows)
    return figures


def test_lists_and_cards_run_as_many_queries_for_many_rows_as_for_few(app, count_queries):
    """Does every list and card run the same SQL statements whether it shows a few rows or many?"""
    _grow(app, 16)
    few = _measure(app, count_queries)
    _grow(app, 240)
    many = _measure(app, count_queries)
    assert many["Клиенты"][1] > few["Клиенты"][1] and many["Карточка клиента"][1] > few["Карточка клиента"][1]
    # Never more for many rows; fewer is fine: a section of reminders whose first query fills it skips its second.
    grown = {name: (few[name][0], q) for name, (q, _) in many.items() if q > few[name][0]}
    assert not grown, grown
    assert set(many) == set(few)


# --- macros called directly ---------------------------------------------------------------------


def test_macro_namespaces_hand_out_the_jinja_macros_themselves(app):
    """Is ``clients.status_badge`` (and every macro of every namespace) Jinja's own Macro object?"""
    environment = app.jinja_env
    namespaces = {name: value for name, value in environment.globals.items() if isinstance(value, MacroNamespace)}
    assert {"clients", "forms", "ui"} <= set(namespaces)
    for area, namespace in namespaces.items():
        module = environment.get_template(f"_macros/{area}.html").module
        # Top-level ``{% set %}`` values (a list of sections) are exported too: only macros are called.
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        assert names, area
        for name in names:
            assert type(getattr(namespace, name)) is jinja2.runtime.Macro, f"{area}.{name}"


def _calls_while(action) -> tuple[dict[str, int], list[str]]:
    """Calls of our Python functions (webapp/*.py, not templates) per function while ``action``
    runs, and the callers of every Jinja macro call that are not Jinja itself."""
    ours: dict[str, int] = {}
    wrapped: list[str] = []
    macro_call = jinja2.runtime.Macro.__call__.__code__
    jinja = str(Path(jinja2.runtime.__file__).parent)

    def profile(frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        if code is macro_call:
            caller = frame.f_back.f_code.co_filename
            if not (caller.startswith(jinja) or caller.endswith(".html")):
                wrapped.append(f"{caller}:{frame.f_back.f_code.co_name}")
        elif code.co_filename.startswith(str(WEBAPP)) and code.co_filename.endswith(".py"):
            key = f"{Path(code.co_filename).relative_to(WEBAPP)}:{code.co_name}"
            ours[key] = ours.get(key, 0) + 1

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return ours, wrapped


def test_client_list_rows_call_macros_without_a_python_layer_of_ours(app, client, make_user):
    """Are the 50 rows of the client list drawn by calling Jinja macros straight from the template,
    with no function of our macro machinery (a wrapper, a lookup) called per row?"""
    with app.app_context():
        benchdata.generate(clients=60)
        db.session.commit()
        email = _bench_user(Role.MANAGER).email
    client.login(email, benchdata.BENCH_PASSWORD)

    def page(path):
        def get():
            response = client.get(path)
            assert response.status_code == 200
        return get

    page("/clients/")()  # warm: templates compiled, macros looked up once
    few, wrapped_few = _calls_while(page("/clients/?q=%D1%80%D0%BE%D0%BC%D0%B0%D1%88%D0%BA%D0%B0%20%D0%BB"))
    many, wrapped_many = _calls_while(page("/clients/"))
    assert wrapped_few == wrapped_many == []
    machinery = {"templating.py", "escaping.py", "htmx.py"}
    printing = "escaping.py:escape"  # markupsafe.escape's stand-in: once per printed value, as that was
    per_row = {name: (few.get(name, 0), count) for name, count in many.items()
               if name.split(":")[0] in machinery and name != printing and count > few.get(name, 0)}
    assert per_row == {}


# --- printing through the cheaper escape ---------------------------------------------------------


class _Shown:
    def __html__(self):
        return "<b>готово</b>"


class _Level(enum.IntEnum):
    HIGH = 3


class _Text(str):
    pass


@given(st.one_of(st.text(), st.integers(), st.booleans(), st.none(), st.decimals(allow_nan=False),
                 st.text().map(markupsafe.Markup), st.text().map(_Text),
                 st.sampled_from([_Shown(), _Level.HIGH, 1.5, ["<a>"]])))
def test_the_cheaper_escape_gives_what_markupsafe_gives(value):
    """For text, markup, numbers, enums, objects that print themselves: the same safe text?"""
    ours, theirs = escaping.escape(value), markupsafe.escape(value)
    assert (type(ours), str(ours)) == (type(theirs), str(theirs))


def test_templates_print_through_the_cheaper_escape(app):
    """Does every template of the application print its values through ``escaping.escape``, and
    does Jinja's compiled code still look the name up where it is replaced (a Jinja upgrade that
    renamed it would leave pages on the slower one, and fail here)?"""
    with app.test_request_context():
        environment = app.jinja_env
        for name in ("base.html", "_macros/clients.html", "clients/list.html"):
            template = environment.get_template(name)
            assert template.root_render_func.__globals__["escape"] is escaping.escape, name
        page = environment.from_string("<p title=\"{{ title }}\">{{ text }} {{ count }}</p>")
        assert "escape" in page.root_render_func.__code__.co_names
        assert page.render(title='"x" & y', text="<script>", count=3) == (
            '<p title="&#34;x&#34; &amp; y">&lt;script&gt; 3</p>')


# --- per-process copies follow a change in another worker --------------------------------------


@pytest.fixture
def other_worker(app, database_url, tmp_path):
    """A second app on the same database, as a second gunicorn worker would be."""
    other = create_app(app_config(database_url, tmp_path / "other"))
    other.test_client_class = Browser
    with app.app_context():  # the migration's token rows (the fixture emptied every table)
        cache.invalidate(db.session, ["managers", "company_profile", "regulation_standard", "backlog_open_by_assignee",
                                      "budget_ranking", "assignable_users", "week_hours"])
        db.session.commit()
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_manager_renamed_in_one_worker_is_shown_renamed_by_another_at_once(app, client, other_worker,
                                                                            make_user, login_as):
    """After an admin renames a manager through one worker, does the client list of another worker
    offer the new name in its manager filter on the very next request?"""
    renamed = make_user(Role.MANAGER, full_name="Прежнее Имя")
    login_as(Role.MANAGER)
    assert "Прежнее Имя" in client.get("/clients/").get_data(as_text=True)
    assert "Прежнее Имя" in client.get("/clients/").get_data(as_text=True)  # served from the copy

    admin_browser = other_worker.test_client()
    with other_worker.app_context():
        admin = make_user(Role.ADMIN)
    admin_browser.login(admin)
    form = admin_browser.get(f"/admin/users/{renamed.id}").get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="(version(?:_shown)?)"[^>]*value="([^"]*)"', form))
    answer = admin_browser.post(f"/admin/users/{renamed.id}", data={
        **fields, "full_name": "Новое Имя", "email": renamed.email, "role": "manager", "position": "",
        "phone": "", "active": "y"})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]

    page = client.get("/clients/").get_data(as_text=True)
    assert "Новое Имя" in page and "Прежнее Имя" not in page


def test_a_specialist_deactivated_in_one_worker_is_no_longer_offered_by_another(app, client, other_worker,
                                                                                make_user, login_as):
    """The assignees a backlog list offers are a per-process copy: after an admin deactivates a
    specialist through one worker, does another worker's filter stop offering them at once?"""
    leaving = make_user(Role.SPECIALIST, full_name="Уходящий Исполнитель")
    login_as(Role.LEAD)
    assert "Уходящий Исполнитель" in client.get("/backlog/").get_data(as_text=True)
    assert "Уходящий Исполнитель" in client.get("/backlog/").get_data(as_text=True)  # served from the copy

    with other_worker.app_context():
        db.session.get(User, leaving.id).active = False
        db.session.commit()

    assert "Уходящий Исполнитель" not in client.get("/backlog/").get_data(as_text=True)


def test_the_standard_saved_in_one_worker_gives_new_terms_in_another_at_once(app, client, other_worker,
                                                                            login_as, make_user):
    """After an admin changes the standard's payment days through one worker, does a client card
    without a regulation show the new days in another worker on the very next request?"""
    from webapp.services import clients as client_service
    from webapp.services import terms

    me = login_as(Role.MANAGER)
    with app.app_context():
        card = client_service.create_client({"short_name": "Ромашка"}, acting=db.session.get(User, me.id))
        db.session.commit()
        card_id = card.id
    assert "5 / 10 раб. дн." in client.get(f"/clients/{card_id}").get_data(as_text=True)
    assert "5 / 10 раб. дн." in client.get(f"/clients/{card_id}").get_data(as_text=True)

    with other_worker.test_request_context():
        standard = terms.get_standard()
        db.session.add(standard)
        standard.payment_days = 12
        db.session.commit()

    assert "5 / 12 раб. дн." in client.get(f"/clients/{card_id}").get_data(as_text=True)


def test_the_backlog_workload_follows_an_item_taken_in_another_worker(app, client, other_worker, login_as,
                                                                     make_user, make_client):
    """The all-clients backlog keeps every open item grouped by assignee per process: after an item
    arrives and is assigned through another worker, is it counted on the very next request?"""
    from webapp.services import backlog as backlog_service

    manager = make_user(Role.MANAGER)
    specialist = make_user(Role.SPECIALIST, full_name="Исполнитель Иван")
    customer = make_client(manager, short_name="Ромашка")
    login_as(Role.LEAD)

    def waiting_on_us() -> str:
        return re.search(r"За нами: (\d+)", client.get("/backlog/").get_data(as_text=True)).group(1)

    assert waiting_on_us() == "0" and waiting_on_us() == "0"  # the second from the copy
    with other_worker.test_request_context():
        acting = db.session.get(User, manager.id)
        item = backlog_service.create_item(db.session.get(Client, customer.id), {"title": "Отчёт"}, acting=acting)
        db.session.commit()
        item_id = item.id
    assert waiting_on_us() == "1"
    with other_worker.test_request_context():
        stored = db.session.get(BacklogItem, item_id)
        stored.assignee_id = specialist.id
        db.session.commit()
    page = client.get("/backlog/").get_data(as_text=True)
    assert re.search(r"Исполнитель Иван</a></th>\s*<td class=\"text-end\">1</td>", page)


def test_the_weeks_hours_follow_time_logged_in_another_worker(app, client, other_worker, login_as, make_user,
                                                            make_client):
    """The workload heading keeps the week's hours per user per process: after a specialist logs
    time through another worker, does the very next page count it?"""
    from webapp.formatting import today
    from webapp.services import backlog as backlog_service

    manager = make_user(Role.MANAGER)
    specialist = make_user(Role.SPECIALIST, full_name="Исполнитель Иван")
    customer = make_client(manager, short_name="Ромашка")
    with app.test_request_context():
        item = backlog_service.create_item(db.session.get(Client, customer.id), {"title": "Отчёт"},
                                           acting=db.session.get(User, manager.id))
        item.assignee_id = specialist.id
        db.session.commit()
        item_id = item.id
    login_as(Role.LEAD)

    def logged_this_week() -> str:
        page = client.get("/backlog/").get_data(as_text=True)
        return re.search(r"Исполнитель Иван</a></th>\s*<td[^>]*>1</td><td[^>]*>[^<]*</td><td[^>]*>([^<]*)</td>",
                         page).group(1)

    assert logged_this_week() == "0" and logged_this_week() == "0"  # the second from the copy
    with other_worker.test_request_context():
        backlog_service.log_time(db.session.get(BacklogItem, item_id), spent_on=today(), hours=Decimal("2.5"),
                                 acting=db.session.get(User, specialist.id))
        db.session.commit()
    assert logged_this_week() == "2,5"


def test_the_budget_ranking_follows_spending_charged_in_another_worker(app, client, other_worker, make_user,
                                                                        make_client, make_budget):
    """The budgets overview keeps its ranking per process: after hours are committed to the safer
    budget through another worker, does it lead the very next page?"""
    from tests.budget_fixtures import DECISION_MAKER, charged_item

    manager = make_user(Role.MANAGER)
    blocks = {}
    for name in ("Альфа", "Бета"):
        customer = make_client(manager, short_name=name, contacts=[DECISION_MAKER], hourly_rate=Decimal("2000"))
        blocks[name] = (customer, make_budget(customer, manager, blocks=[("Операционный блок", Decimal("10000"))]))
    client.login(manager)

    def leader() -> str:
        page = client.get("/budgets/2026").get_data(as_text=True)
        return min(("Альфа", "Бета"), key=page.find)

    assert leader() == "Альфа" and leader() == "Альфа"  # equal risk: by name; the second from the copy
    customer, ids = blocks["Бета"]
    charged_item(other_worker, customer, manager, ids["blocks"]["Операционный блок"], Decimal("8"), approve=True)
    assert leader() == "Бета"


def test_the_company_profile_copy_follows_a_save_in_another_worker(app, other_worker):
    """Does the profile a document prints come from the latest save, whichever worker made it?"""
    from webapp.models import CompanyProfile

    with app.test_request_context():
        assert CompanyProfile.cached().name == ""
    with other_worker.test_request_context():
        profile = CompanyProfile.get()
        db.session.add(profile)
        profile.name = "ООО «Сопровождение»"
        db.session.commit()
    with app.test_request_context():
        copy = CompanyProfile.cached()
        assert copy.name == "ООО «Сопровождение»"
        assert copy not in db.session  # a copy to read, never a row to edit by accident


# --- page counts that stop ----------------------------------------------------------------------


def test_a_list_longer_than_the_count_reaches_says_more_than_and_still_pages_on(app, client, login_as,
                                                                                 monkeypatch):
    """When the audit log holds more events than the page count reads, does the page say «из более
    чем» instead of a total, and still offer the next page, which counts on from there?"""
    from webapp import pagination

    with app.app_context():
        benchdata.generate(clients=6)  # 30 audit events
        db.session.commit()
    monkeypatch.setattr(pagination, "COUNT_CAP", 15)
    app.config["PER_PAGE"] = 10
    login_as(Role.ADMIN)

    first = client.get("/admin/audit").get_data(as_text=True)
    assert "Показаны 1–10 из более чем 15" in first and "Всего:" not in first
    assert 'rel="next"' in first
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "Показаны 11–20 из более чем 25" in second


def test_a_short_list_still_says_its_exact_total(app, client, login_as):
    """Does a list within the count's reach still show «Всего: N», as it always did?"""
    with app.app_context():
        benchdata.generate(clients=6)
        db.session.commit()
    login_as(Role.MANAGER)
    assert "Всего: 6" in client.get("/clients/").get_data(as_text=True)
