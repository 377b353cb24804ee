"""Demo data: a company, one user per role, a dozen clients with their people and contact history;
later areas add theirs here.

Loaded by `flask seed-demo` (and `make run`) into an empty database, through the services, so the
demo has an audit trail like real data.
"""

import random
from dataclasses import astuple
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from webapp.extensions import db
from webapp.formatting import from_local, today
from webapp.models.clients import cadence_dates, cadence_state
from webapp.models.types import utcnow
from webapp.models import Channel, ClientStatus, CompanyProfile, Role, User, VatMode
from webapp.saving import Edit
from webapp.requisites import make_inn, make_ogrn, with_account_key
from webapp.services import clients as client_service
from webapp.services import company as company_service
from webapp.services import users as user_service
from webapp.services import workflow

DEMO_PASSWORD = "demo-password"

DEMO_USERS = [
    ("admin@demo.local", "Соколова Ирина Викторовна", "Руководитель клиентского отдела", Role.ADMIN),
    ("manager@demo.local", "Петров Алексей Николаевич", "Аккаунт-менеджер", Role.MANAGER),
    ("manager2@demo.local", "Кузнецова Мария Сергеевна", "Аккаунт-менеджер", Role.MANAGER),
    ("lead@demo.local", "Волков Дмитрий Андреевич", "Руководитель отдела сопровождения", Role.LEAD),
    ("specialist@demo.local", "Смирнов Павел Игоревич", "Консультант 1С", Role.SPECIALIST),
    ("accountant@demo.local", "Орлова Татьяна Михайловна", "Главный бухгалтер", Role.ACCOUNTANT),
]


def login_hint(host: str | None = None, port: str | None = None) -> str:
    """How to log in to the demo. The address is printed only when it is known: `make run` gives
    this command and `flask run` the same FLASK_RUN_HOST and FLASK_RUN_PORT; run alone, the command
    cannot know where the server will listen, and says so instead of guessing a port."""
    if port:
        shown_host = "127.0.0.1" if host in (None, "", "0.0.0.0", "::") else host
        if ":" in shown_host:
            shown_host = f"[{shown_host}]"
        where = f"Вход: http://{shown_host}:{port}/login"
    else:
        where = "Вход: страница /login по адресу, который покажет flask run при запуске"
    users = "\n".join(f"  {email:<24} {role.label}" for email, _, _, role in DEMO_USERS)
    return f"{where}\n{users}\n  пароль у всех: {DEMO_PASSWORD}"

OUR_BIK = "044525225"


def seed() -> None:
    seed_company()
    for email, name, position, role in DEMO_USERS:
        user_service.create_user(email=email, full_name=name, role=role, password=DEMO_PASSWORD,
                                 position=position, phone="+7 (495) 123-45-67")
    seed_clients()
    seed_regulations()
    seed_backlog()
    seed_budgets()
    seed_acts()
    seed_meetings()


def seed_company() -> None:
    profile = CompanyProfile.get()
    company_service.update_company(profile, Edit({
        "name": "ООО «ИнфоСофт Консалтинг»",
        "legal_name": "Общество с ограниченной ответственностью «ИнфоСофт Консалтинг»",
        "inn": make_inn("771234567"),
        "kpp": "771201001",
        "ogrn": make_ogrn("117774612345"),
        "address": "123112, г. Москва, Пресненская наб., д. 12, офис 405",
        "phone": "+7 (495) 123-45-67",
        "email": "office@infosoft-consulting.ru",
        "bank_name": "ПАО Сбербанк",
        "bik": OUR_BIK,
        "account": with_account_key(OUR_BIK, "4070281038000012345"),
        "corr_account": "30101810400000000225",
        "signatory_name": "Соколов Андрей Петрович",
        "signatory_position": "Генеральный директор",
        "signatory_basis": "Устава",
        "vat_mode": VatMode.ON_TOP,
        "vat_rate": Decimal("22.00"),
        "default_hourly_rate": Decimal("3500.00"),
    }, profile.version))


# (short name, legal name, address, manager e-mail, status, the cadence state the last contact
#  should leave it in today (None: never contacted), planned next contact in days or None,
#  contacts: (name, position, what a decision maker decides or None))
DEMO_CLIENTS = [
    ("Ромашка", "Общество с ограниченной ответственностью «Ромашка»", "г. Москва, ул. Цветочная, д. 7",
     "manager@demo.local", ClientStatus.ACTIVE, "ok", None, [
         ("Ковалёва Анна Сергеевна", "Генеральный директор", "scope cost payment acceptance"),
         ("Жуков Олег Петрович", "Главный бухгалтер", "payment"),
         ("Лаптев Игорь Васильевич", "Руководитель склада", None)]),
    ("СтройИнвест", "Акционерное общество «СтройИнвест»", "г. Москва, Варшавское ш., д. 35, стр. 2",
     "manager@demo.local", ClientStatus.ACTIVE, "due", None, [
         ("Баранов Сергей Иванович", "Финансовый директор", "cost payment"),
         ("Егорова Дарья Максимовна", "Помощник руководителя", None)]),
    ("Вектор Логистик", "Общество с ограниченной ответственностью «Вектор Логистик»",
     "г. Подольск, ул. Индустриальная, д. 12", "manager@demo.local", ClientStatus.ACTIVE, "overdue", None, [
         ("Мельников Артём Юрьевич", "Директор по логистике", "scope acceptance"),
         ("Соловьёва Ирина Андреевна", "Бухгалтер", None),
         ("Гусев Павел Олегович", "ИТ-специалист", None)]),
    ("Северная Мануфактура", "Общество с ограниченной ответственностью «Северная Мануфактура»",
     "г. Ярославль, пр-т Октября, д. 44", "manager@demo.local", ClientStatus.ACTIVE, "critical", None, [
         ("Воронцов Дмитрий Алексеевич", "Генеральный директор", "scope cost payment acceptance"),
         ("Титова Елена Викторовна", "Главный бухгалтер", "payment"),
         ("Никитин Роман Сергеевич", "Начальник производства", "scope"),
         ("Белова Ольга Николаевна", "Экономист", None)]),
    ("ТД Альфа-Трейд", "Общество с ограниченной ответственностью «Торговый дом «Альфа-Трейд»",
     "г. Москва, ул. Складочная, д. 1, стр. 18", "manager@demo.local", ClientStatus.ACTIVE, "ok", 8, [
         ("Рябов Константин Игоревич", "Коммерческий директор", "scope cost"),
         ("Фомина Светлана Павловна", "Главный бухгалтер", "payment acceptance")]),
    ("ПромТехСнаб", "Общество с ограниченной ответственностью «ПромТехСнаб»",
     "г. Тула, ул. Оружейная, д. 3", "manager@demo.local", ClientStatus.PROSPECT, None, None, [
         ("Киселёв Андрей Викторович", "Директор", "scope cost payment acceptance")]),
    ("МЦ «Здоровье»", "Общество с ограниченной ответственностью «Медицинский центр «Здоровье»",
     "г. Москва, Ленинский пр-т, д. 90", "manager2@demo.local", ClientStatus.ACTIVE, "ok", None, [
         ("Денисова Наталья Игоревна", "Главный врач", "scope acceptance"),
         ("Орехов Виктор Семёнович", "Финансовый директор", "cost payment"),
         ("Павлова Юлия Андреевна", "Администратор", None)]),
    ("Уральский хлебозавод", "Акционерное общество «Уральский хлебозавод»",
     "г. Екатеринбург, ул. Хлебная, д. 21", "manager2@demo.local", ClientStatus.ACTIVE, "due", None, [
         ("Шубин Геннадий Фёдорович", "Генеральный директор", "cost payment"),
         ("Калинина Марина Олеговна", "Главный бухгалтер", "acceptance"),
         ("Зайцев Илья Романович", "Начальник ИТ-отдела", "scope")]),
    ("АгроПродукт", "Общество с ограниченной ответственностью «АгроПродукт»",
     "г. Воронеж, ул. Полевая, д. 5", "manager2@demo.local", ClientStatus.ACTIVE, "critical", None, [
         ("Ефимов Степан Андреевич", "Директор", "scope cost payment acceptance"),
         ("Лебедева Анастасия Игоревна", "Бухгалтер", None)]),
    ("Фармация Плюс", "Общество с ограниченной ответственностью «Фармация Плюс»",
     "г. Москва, ул. Аптекарская, д. 14", "manager2@demo.local", ClientStatus.ACTIVE, "ok", None, [
         ("Голубева Вера Михайловна", "Управляющая", "scope cost acceptance"),
         ("Сафонов Антон Юрьевич", "Главный бухгалтер", "payment")]),
    ("Автосервис Драйв", "Общество с ограниченной ответственностью «Драйв»",
     "г. Химки, Ленинградское ш., вл. 8", "manager2@demo.local", ClientStatus.PROSPECT, "overdue", None, [
         ("Тарасов Михаил Евгеньевич", "Владелец", "scope cost payment acceptance")]),
    ("Сладкий край", "Общество с ограниченной ответственностью «Кондитерская фабрика «Сладкий край»",
     "г. Рязань, ул. Фабричная, д. 2", "manager@demo.local", ClientStatus.PAUSED, "critical", None, [
         ("Миронова Людмила Петровна", "Генеральный директор", "scope cost payment acceptance"),
         ("Кудрявцев Егор Дмитриевич", "Технолог", None)]),
]

SUMMARIES = [
    ("Обсудили загрузку остатков в 1С:УТ, клиент пришлёт файл до пятницы.", "Проверить файл остатков"),
    ("Клиент прислал голосовое: не печатается счёт-фактура. Передали в сопровождение.", "Сообщить о решении"),
    ("Согласовали приоритеты накопившихся задач, отчёт по продажам — первым.", "Выслать оценку по отчёту"),
    ("Выслал оценку доработки: 16 ч. Ждём согласования стоимости от финансового директора.", "Получить согласование"),
    ("Планёрка на площадке клиента: прошли по списку задач, протокол отправлен.", "Подготовить следующую планёрку"),
    ("Напомнил об оплате акта за октябрь, бухгалтерия обещала оплатить до конца недели.", "Проверить поступление"),
    ("Уточнили ТЗ на обмен с сайтом, договорились о тестовом стенде.", "Передать ТЗ в разработку"),
    ("Звонок-контроль: всё работает, замечаний нет.", ""),
]

DECIDES = {"scope": "decides_scope", "cost": "decides_cost", "payment": "decides_payment",
           "acceptance": "decides_acceptance"}
BANKS = [("ПАО Сбербанк", "044525225", "30101810400000000225"),
         ("АО «Альфа-Банк»", "044525593", "30101810200000000593"),
         ("Банк ВТБ (ПАО)", "044525187", "30101810700000000187")]


def seed_clients() -> None:
    """Clients in every cadence state: on schedule, due, overdue, critical, never contacted."""
    rng = random.Random(7)
    users = {u.email: u for u in db.session.scalars(sa.select(User))}
    day = today()
    for n, (short, legal, address, manager_email, status, state, planned, people) in enumerate(DEMO_CLIENTS):
        manager = users[manager_email]
        deputy = users["manager2@demo.local" if manager_email == "manager@demo.local" else "manager@demo.local"]
        bank, bik, corr = BANKS[n % len(BANKS)]
        client = client_service.create_client({
            "short_name": short, "legal_name": legal, "address": address,
            "inn": make_inn(f"77{n + 10:02d}{rng.randrange(10**5):05d}"), "kpp": f"77{n + 10:02d}01001",
            "ogrn": make_ogrn(f"11677{n + 10:02d}{rng.randrange(10**5):05d}"),
            "bank_name": bank, "bik": bik, "corr_account": corr,
            "account": with_account_key(bik, f"4070281{n % 10}0{rng.randrange(10**10):010d}"),
            "contract_number": f"{n + 1:02d}/С-2026", "contract_date": date(2026, 1 + n % 9, 10 + n),
            "manager_id": manager.id, "deputy_id": deputy.id, "status": status,
            "hourly_rate": Decimal("3500.00") if n % 3 else Decimal("3200.00"),
            "contact_cadence_days": 3 if n % 4 else 4,
        }, acting=users["admin@demo.local"])
        client.created_at = from_local(datetime.combine(day - timedelta(days=40), time(9, 0)))
        contacts = []
        for k, (name, position, decides) in enumerate(people):
            flags = {DECIDES[key]: True for key in (decides or "").split()}
            contacts.append(client_service.add_contact(client, {
                "full_name": name, "position": position, "phone": f"+7 (9{n:02d}) {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{k:02d}",
                "email": f"{['director', 'buh', 'it', 'office'][k % 4]}@{_latin(short)}.ru",
                "messenger": "Telegram" if k % 2 == 0 else "", "is_decision_maker": bool(decides), **flags,
            }, acting=manager))
        # The client's signatory, chosen as a manager would: the head among the decision makers.
        makers = [c for c in contacts if c.is_decision_maker]
        heads = [c for c in makers if c.position.lower().startswith(("генеральный директор", "директор"))]
        if heads or makers:
            client.signatory_contact_id = (heads or makers)[0].id
        client.regulation_appendix = "1"
        if state is None:
            client_service.refresh_cadence(client)
            continue
        last = _days_ago_for(state, client.contact_cadence_days, day)
        # A few weeks of history, then the last contact «last» days ago.
        offsets = sorted({last + 4 * i + rng.randrange(0, 3) for i in range(1, 6)} | {last}, reverse=True)
        for offset in offsets:
            summary, next_step = SUMMARIES[rng.randrange(len(SUMMARIES))]
            when = min(from_local(datetime.combine(day - timedelta(days=offset), time(10 + offset % 7, 15))),
                       utcnow() - timedelta(minutes=5))
            planned_on = day + timedelta(days=planned) if planned and offset == last else None
            client_service.log_touchpoint(
                client, channel=[Channel.CALL, Channel.VISIT, Channel.MESSAGE, Channel.EMAIL][offset % 4],
                summary=summary, next_step=next_step, occurred_at=when, acting=manager,
                contact_ids=[contacts[offset % len(contacts)].id], next_contact_on=planned_on)


def _days_ago_for(state: str, interval: int, day: date) -> int:
    """How long ago the last contact must be for the client to be in ``state`` today, whatever
    the weekday and holidays: the demo shows every state on any day it is loaded."""
    matching = [k for k in range(0, 45)
                if cadence_state(day, *astuple(cadence_dates(day - timedelta(days=k), interval))) == state]
    if state == "ok":
        return matching[-1] if len(matching) > 1 and matching[-1] <= 4 else matching[0]
    return matching[0] + (2 if state == "critical" else 0)


def _latin(name: str) -> str:
    table = str.maketrans("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "abvgdeejzijklmnoprstufhccss_y_eua")
    return "".join(ch for ch in name.lower().translate(table) if ch.isalnum()) or "client"


def seed_regulations() -> None:
    """Signed regulations for the active clients, a draft for a prospect and a new edition in work."""
    from webapp.models import Client, RegulationStatus
    from webapp.services import regulations as regulation_service

    clients = {c.short_name: c for c in db.session.scalars(sa.select(Client))}
    day = today()
    for n, (short, client) in enumerate(sorted(clients.items())):
        acting = client.manager
        if client.status == ClientStatus.PROSPECT:
            if short == "ПромТехСнаб":
                regulation_service.create_draft(client, acting=acting)
            continue
        regulation = regulation_service.create_draft(client, acting=acting)
        regulation.meeting_weekday = n % 5
        db.session.flush()
        for target, values in ((RegulationStatus.AGREED, {}),
                               (RegulationStatus.SIGNED, {"signed_on": client.contract_date or day - timedelta(days=60)})):
            workflow.change_status(regulation, target, acting=acting, shown_status=regulation.status.value,
                                   version=regulation.version, values=values)
        if short == "Северная Мануфактура":
            draft = regulation_service.create_draft(client, acting=acting)
            regulation_service.update_draft(draft, Edit({"contact_cadence_days": 2, "payment_days": 15},
                                                        draft.version), acting=acting)


# (title, the request as the client sent it, channel)
REQUESTS = [
    ("Не печатается счёт-фактура", "Голосовое: «Добрый день, у нас опять не печатается счёт-фактура из реализации, "
     "выдаёт ошибку, бухгалтерия стоит». Расшифровка менеджера.", "voice"),
    ("Отчёт по продажам по менеджерам", "Нужен отчёт по продажам в разрезе менеджеров и месяцев, с планом.", "message"),
    ("Обмен с сайтом: заказы не приходят", "Fwd: с утра заказы с сайта не загружаются в 1С, проверьте обмен.", "email"),
    ("Загрузка остатков из Excel", "Пришлём файл с остатками по складам, надо загрузить на 1 число.", "message"),
    ("Доработка печатной формы ТОРГ-12", "В ТОРГ-12 добавить артикул и штрихкод.", "email"),
    ("Права доступа для кладовщиков", "Кладовщики видят цены закупки — закройте, пожалуйста.", "call"),
    ("Ошибка при проведении возврата", "Возврат от покупателя не проводится: «Не хватает остатка».", "voice"),
    ("Автоматическое закрытие месяца", "Хотим, чтобы закрытие месяца запускалось само по регламенту.", "meeting"),
    ("Интеграция с банком", "Подключить 1С:ДиректБанк для Сбера.", "email"),
    ("Обновление конфигурации", "Обновить 1С:УТ до актуального релиза на выходных.", "message"),
    ("Отчёт о движении денег", "Нужен ДДС по статьям с детализацией до документа.", "meeting"),
    ("Маркировка: ошибка в ЭДО", "Документы УПД с маркировкой не уходят контрагенту.", "voice"),
]
DEMO_ITEMS_PER_CLIENT = 24
# The states the demo shows, spread over every client's items (most of a backlog is done and accepted).
DEMO_STATUSES = ["new", "spec", "estimate", "approval", "approved", "in_progress", "in_progress", "done",
                 "accepted", "accepted", "on_hold", "rejected", "cancelled"]


def seed_backlog() -> None:
    """A few hundred items over the demo clients, in every state, with estimates, approvals, time,
    stages overdue here and there, and an agreed priority list for «Ромашка»."""
    from webapp.models import Billing, Client, IntakeChannel, ItemStatus, Priority
    from webapp.services import backlog as backlog_service

    rng = random.Random(11)
    users = {u.email: u for u in db.session.scalars(sa.select(User))}
    specialist, lead = users["specialist@demo.local"], users["lead@demo.local"]
    now = utcnow()
    for client in db.session.scalars(sa.select(Client).order_by(Client.id)).all():
        manager = client.manager
        approver = next((c for c in client.contacts if c.is_decision_maker and c.decides_cost), None)
        for n in range(DEMO_ITEMS_PER_CLIENT):
            title, text, channel = REQUESTS[(n + client.id) % len(REQUESTS)]
            status = ItemStatus(DEMO_STATUSES[(n * 5 + client.id) % len(DEMO_STATUSES)])
            received = now - timedelta(days=rng.randrange(0, 45), hours=rng.randrange(0, 8))
            item = backlog_service.create_item(client, {
                "title": title, "request_text": text, "channel": IntakeChannel(channel), "received_at": received,
                "requester_id": client.contacts[n % len(client.contacts)].id if client.contacts else None,
                "priority": list(Priority)[rng.choice([0, 1, 1, 2, 2, 2, 3])],
                "billing": Billing.WARRANTY if n % 11 == 5 else Billing.BILLABLE,
                "assignee_id": specialist.id if n % 3 else lead.id,
            }, acting=manager)
            _drive(item, status, manager, approver, rng)
        if client.short_name == "Ромашка" and approver is not None:
            backlog_service.fix_priorities(client, contact_id=approver.id, acting=manager,
                                           agreed_at=now - timedelta(days=3), comment="Согласовали на планёрке")


def _drive(item, status, manager, approver, rng) -> None:
    """Walk an item along the workflow to ``status``, as people would."""
    from webapp.models import ApprovalChannel, ItemStatus
    from webapp.services import backlog as backlog_service

    def move(target) -> None:
        workflow.change_status(item, target, acting=manager, shown_status=item.status.value)

    if status == ItemStatus.NEW:
        return
    item.goal = "Пользователи работают без ошибок и обходных путей."
    item.required_behaviour = "Документ печатается и проводится; отчёт формируется за минуту."
    item.acceptance_criteria = "Проверено на копии базы вместе с ответственным сотрудником клиента."
    backlog_service.refresh_words(item)
    move(ItemStatus.SPEC)
    if status in (ItemStatus.SPEC, ItemStatus.REJECTED, ItemStatus.CANCELLED, ItemStatus.ON_HOLD):
        if status != ItemStatus.SPEC:
            move(status)
        return
    move(ItemStatus.ESTIMATE)
    small = approver is None or rng.random() < 0.3  # below the regulation's threshold: no approval needed
    hours = Decimal(rng.choice([1, 2, 3])) if small else Decimal(rng.choice([6, 8, 12, 16, 24, 40]))
    # A big estimate comes broken into lines (ours only): analysis, the work itself, testing.
    lines = ([{"title": "Анализ и ТЗ", "hours": hours / 4}, {"title": "Разработка", "hours": hours / 2},
              {"title": "Тестирование и сдача", "hours": hours / 4}] if hours > 10 else None)
    backlog_service.estimate_item(item, hours=hours, lines=lines, acting=manager,
                                  note="Внутренняя заметка: риск по обмену" if hours > 10 else "")
    item.stages[0].done_at = utcnow()
    if status == ItemStatus.ESTIMATE:
        return
    if not small:
        move(ItemStatus.APPROVAL)
        if status == ItemStatus.APPROVAL:
            item.status_changed_at = utcnow() - timedelta(days=rng.randrange(1, 9))
            return
        backlog_service.approve_item(item, contact_id=approver.id, acting=manager,
                                     channel=rng.choice(list(ApprovalChannel)), comment="Согласовано")
    if status == ItemStatus.APPROVED:
        return
    move(ItemStatus.IN_PROGRESS)
    item.stages[1].done_at = utcnow()
    for day_back in range(rng.randrange(1, 4)):
        backlog_service.log_time(item, spent_on=today() - timedelta(days=day_back + 1),
                                 hours=Decimal(rng.choice(["1", "1.5", "2", "4"])), acting=manager,
                                 comment="Разработка и тестирование")
    if status == ItemStatus.IN_PROGRESS:
        return
    move(ItemStatus.DONE)
    for stage in item.stages:
        stage.done_at = stage.done_at or utcnow()
    if status == ItemStatus.ACCEPTED:
        move(ItemStatus.ACCEPTED)


# How each demo client's plan compares with its forecast: the first is over, the second about to be.
DEMO_BUDGET_HEADROOM = [Decimal("0.85"), Decimal("1.12")]


def seed_budgets() -> None:
    """This year's budget of every demo client in two blocks, the billable items charged to them in
    turn, the plans set against the forecast so that one client is over and one about to overrun."""
    from webapp.models import BacklogItem, Billing, Client
    from webapp.models.budgets import split_evenly
    from webapp.services import budgets as budget_service

    day = today()
    for n, client in enumerate(db.session.scalars(sa.select(Client).order_by(Client.id)).all()):
        manager = client.manager
        budget = budget_service.create_budget(client, day.year, acting=manager)
        blocks = [budget_service.add_block(budget, name=name, planned_amount=Decimal("1"), acting=manager)
                  for name in ("Операционный блок", "Бухгалтерия")]
        items = db.session.scalars(sa.select(BacklogItem).where(BacklogItem.client_id == client.id,
                                                                BacklogItem.billing == Billing.BILLABLE)
                                   .order_by(BacklogItem.id)).all()
        for k, item in enumerate(items):
            item.budget_block_id = blocks[k % 2].id
        db.session.flush()
        for block in blocks:
            budget_service.refresh_block(block, day)
        figures = budget_service.budget_figures(budget, day)
        headroom = DEMO_BUDGET_HEADROOM[n] if n < len(DEMO_BUDGET_HEADROOM) else Decimal("1.6")
        for row in figures.blocks:
            plan = max(Decimal("50000"), (row.forecast * headroom).quantize(Decimal("1000")))
            row.block.planned_amount = plan
            for month, part in zip(row.block.months, split_evenly(plan), strict=True):
                month.planned = part
        db.session.flush()
        for block in blocks:
            budget_service.refresh_block(block, day)


# Per demo client with done work: what became of its act (and under which VAT regime it was issued).
DEMO_ACT_STORIES = [("signed_paid", "on_top"), ("partly_paid", "included"), ("overdue", "none"),
                    ("cancelled", "on_top"), ("unsigned_late", "included"), ("draft", None)]


def seed_acts() -> None:
    """Acts in every state — draft, issued, signed, cancelled and reissued, partly paid, overdue — for clients
    billed under each VAT mode. The company is on VAT on top today; an act issued under another regime keeps
    the mode it froze (set here directly, as the demo has no history of the company's regime)."""
    from webapp.models import ActStatus, Client
    from webapp.services import acts as act_service

    users = {u.email: u for u in db.session.scalars(sa.select(User))}
    accountant = users["accountant@demo.local"]
    day = today()
    period_to = day.replace(day=1) - timedelta(days=1)
    period_from = period_to.replace(day=1)
    stories = iter(DEMO_ACT_STORIES)
    for client in db.session.scalars(sa.select(Client).order_by(Client.id)).all():
        if not act_service.candidates(client, day):
            continue
        story = next(stories, None)
        if story is None:
            return
        state, mode = story
        act = act_service.create_draft(client, period_from=period_from, period_to=day, item_ids=None, acting=accountant)
        if state == "draft":
            continue
        act_service.issue(act, acting=accountant)
        if mode != "on_top":
            act.vat_mode = VatMode(mode)
            act_service._refresh_totals(act)
        if state in ("overdue", "unsigned_late", "partly_paid"):
            # issued a month ago: the acceptance period and (for some) the payment term are over
            back = timedelta(days=35 if state != "partly_paid" else 5)
            act.act_date, act.accept_by, act.due_on = act.act_date - back, act.accept_by - back, act.due_on - back
            act.period_to = min(act.period_to, act.act_date)
            act.period_from = min(act.period_from, act.period_to.replace(day=1))
        if state in ("signed_paid", "partly_paid", "overdue"):
            signer = next((c.full_name for c in client.contacts if c.decides_acceptance), None) or "Директор"
            workflow.change_status(act, ActStatus.SIGNED, acting=accountant, shown_status="issued", version=act.version,
                                   values={"signed_on": act.act_date, "signed_by": signer, "signed_how": "edo"})
        if state == "signed_paid":
            act_service.add_payment(act, paid_on=day, amount=act.total_amount, acting=accountant, comment="п/п 512")
        elif state == "partly_paid":
            act_service.add_payment(act, paid_on=day, amount=(act.total_amount / 2).quantize(Decimal("0.01")),
                                    acting=accountant, comment="п/п 97, первая часть")
        elif state == "cancelled":
            workflow.change_status(act, ActStatus.CANCELLED, acting=accountant, shown_status="issued",
                                   version=act.version, values={"cancel_reason": "Неверный период: выставлен заново"})
            act_service.issue(act_service.create_draft(client, period_from=period_from, period_to=day, item_ids=None,
                                                       acting=accountant), acting=accountant)


DEMO_MEETING_POINTS = [
    ("Статус доработок за неделю", "Доработки по складу сданы, печать счетов — в тестировании.",
     "Принять доработки по складу; печать счетов проверить до пятницы."),
    ("Бюджет часов на следующий месяц", "Остаток пакета — 12 часов.", ""),
    ("Обновление конфигурации", "Вышел новый релиз, требуется обновление и проверка обменов.",
     "Обновить тестовую базу в выходные, рабочую — после проверки."),
]
DEMO_ACTIONS = [("Прислать пример файла выгрузки", "client", 3), ("Подготовить оценку доработки отчёта", "us", 5),
                ("Согласовать окно для обновления", "client", 7)]


def seed_meetings() -> None:
    """For each demo manager: two held weekly meetings with two clients (minutes numbered and sent,
    one action item left open and carried over) and a planned meeting today with the first of them."""
    from webapp.models import ActionStatus, Client, MeetingKind
    from webapp.services import meetings as meeting_service

    managers = db.session.scalars(sa.select(User).where(User.email.in_(["manager@demo.local",
                                                                          "manager2@demo.local"])).order_by(User.id))
    day = today()
    for manager in managers:
        clients = db.session.scalars(sa.select(Client).where(Client.manager_id == manager.id)
                                     .order_by(Client.id).limit(2)).all()
        for n, client in enumerate(clients):
            previous = None
            for weeks_back in (2, 1):
                starts = from_local(datetime.combine(day - timedelta(weeks=weeks_back), time(10 + n * 2, 0)))
                meeting = meeting_service.plan_meeting(client, acting=manager, starts_at=starts,
                                                       kind=MeetingKind.WEEKLY, previous=previous)
                for attendee in meeting.attendees:
                    attendee.attended = True
                for title, heard, decision in DEMO_MEETING_POINTS:
                    if any(p.title == title for p in meeting.points):
                        continue  # carried over from the week before
                    point = meeting_service.add_point(meeting, title=title, acting=manager)
                    point.notes, point.decision = heard, decision
                    if title.startswith("Бюджет"):
                        point.internal_note = "Клиент просит скидку — обсудить с руководителем."
                contact = next((c for c in client.contacts), None)
                for what, side, due in DEMO_ACTIONS[:2] if weeks_back == 2 else DEMO_ACTIONS[2:]:
                    action = meeting_service.add_action(
                        meeting, what=what, acting=manager, due_on=local_day(starts) + timedelta(days=due),
                        contact_id=contact.id if side == "client" and contact else None,
                        user_id=manager.id if side == "us" or not contact else None)
                    if side == "us":
                        action.status = ActionStatus.DONE
                meeting_service.finish(meeting, acting=manager)
                meeting_service.mark_minutes_sent(meeting, meeting_service.minutes_recipients(meeting), acting=manager)
                previous = meeting
            if n == 0 and previous is not None:
                starts = from_local(datetime.combine(day, time(15, 0)))
                meeting_service.plan_meeting(client, acting=manager, starts_at=starts, kind=MeetingKind.WEEKLY,
                                             previous=previous)


def local_day(moment: datetime) -> date:
    from webapp.formatting import local
    return local(moment).date()
