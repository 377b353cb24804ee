"""Generated data for benchmarks: large, reproducible, fast to insert.

Bulk inserts bypass the services and the audit on purpose (this is load for measuring pages, not
history), but fill the same denormalised columns the services keep: cadence dates, search text.
"""

import random
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from webapp import cache
from webapp.extensions import db
from webapp.formatting import local, today
from webapp.models import (Act, ActCounter, ActLine, AuditEvent, BacklogItem, Client, CompanyProfile, Contact, ItemWord,
                           Regulation, RegulationStatus, Role, Stage, TimeEntry, Touchpoint, User, touchpoint_contacts)
from webapp.models.backlog import RANK_GAP, ItemStatus, Priority, item_words
from webapp.models.clients import cadence_dates, phone_digits
from webapp.models.types import utcnow
from webapp.requisites import make_inn
from webapp.services.terms import DEFAULT_STANDARD

FIRST = ["Анна", "Иван", "Ольга", "Сергей", "Елена", "Дмитрий", "Наталья", "Алексей", "Мария", "Павел"]
LAST = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров"]
WORDS = ["Ромашка", "Вектор", "Альфа", "Север", "Прогресс", "Гранит", "Олимп", "Меридиан", "Восток", "Орбита"]
KINDS = ["Логистик", "Трейд", "Строй", "Агро", "Фарм", "Маркет", "Инвест", "Снаб", "Пром", "Сервис"]

BENCH_PASSWORD = "bench-password"
CONTACTS_PER_CLIENT = 5
TOUCHPOINTS_PER_CLIENT = 50
ITEMS_PER_CLIENT = 50  # 2,000 clients: 100,000 backlog items
ITEM_TITLES = ["Не печатается счёт-фактура", "Отчёт по продажам по менеджерам", "Обмен с сайтом",
               "Загрузка остатков", "Доработка печатной формы", "Права доступа для склада", "Ошибка при проведении"]
# A printed form's code in some titles: a word few items share, so «similar past items» has peers to find.
FORM_CODES = 2000
# Most items are done and accepted, as in a real backlog some years old; the rest in every state.
ITEM_STATUSES = [ItemStatus.ACCEPTED] * 10 + list(ItemStatus)
REGULATION_EVERY = 2  # every second client of a manager has a signed regulation; every fourth a draft too
ACTS_PER_CLIENT = 3  # 2,000 clients: 6,000 acts, the first with 60 lines (the DOCX benchmark's)
BIG_ACT_LINES = 60
CHUNK = 5000


def _insert(table: sa.Table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(sa.insert(table), rows[start:start + CHUNK])


def _max_id(model) -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(model.id), 0)))


def generate(*, clients: int, random_seed: int = 1) -> dict[str, int]:
    rng = random.Random(random_seed)
    now = utcnow()
    day = today()
    password_hash = generate_password_hash(BENCH_PASSWORD, method="pbkdf2:sha256:1000")
    if not CompanyProfile.get().bik:  # our requisites, as the demo's: the invoices print their payment QR code
        from webapp import demo
        demo.seed_company()
    first_user = _max_id(User) + 1
    managers = max(clients // 40, 2)
    users = []
    for i in range(managers + 5):
        role = Role.MANAGER if i < managers else list(Role)[i % 5]
        users.append(dict(id=first_user + i, email=f"bench{first_user + i}@bench.local", role=role.value,
                          full_name=f"{rng.choice(LAST)} {rng.choice(FIRST)} {i}", position="Аккаунт-менеджер",
                          phone="", active=True, password_hash=password_hash,
                          session_token=f"t{first_user + i}", created_at=now, version=1))
    _insert(User.__table__, users)

    first_client, first_contact, first_touch = _max_id(Client) + 1, _max_id(Contact) + 1, _max_id(Touchpoint) + 1
    client_rows, contact_rows, touch_rows, link_rows = [], [], [], []
    for c in range(clients):
        client_id = first_client + c
        manager_id = first_user + c % managers
        name = f"{rng.choice(WORDS)} {rng.choice(KINDS)} {c}"
        interval = rng.choice([3, 3, 4])
        contacts = []
        for k in range(CONTACTS_PER_CLIENT):
            phone = f"+7 (9{rng.randrange(10, 99)}) {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}"
            contact = dict(id=first_contact + c * CONTACTS_PER_CLIENT + k, client_id=client_id,
                           full_name=f"{rng.choice(LAST)} {rng.choice(FIRST)}", position="Бухгалтер",
                           phone=phone, phone_digits=phone_digits(phone), email=f"user{k}@client{c}.ru",
                           messenger="", is_decision_maker=k == 0, decides_scope=k == 0, decides_cost=k == 0,
                           decides_payment=k == 0, decides_acceptance=k == 0, notes="", version=1)
            contacts.append(contact)
        contact_rows += contacts
        last_days = rng.randrange(0, 20)
        for t in range(TOUCHPOINTS_PER_CLIENT):
            touch_id = first_touch + c * TOUCHPOINTS_PER_CLIENT + t
            touch_rows.append(dict(id=touch_id, client_id=client_id, user_id=manager_id,
                                   occurred_at=now - timedelta(days=last_days + 3 * t, hours=rng.randrange(8)),
                                   channel="call", summary=f"Созвон {t}: обсудили задачи и оплату",
                                   next_step="", next_contact_on=None, created_at=now, version=1))
            link_rows.append(dict(touchpoint_id=touch_id, contact_id=contacts[t % CONTACTS_PER_CLIENT]["id"]))
        last_contact = now - timedelta(days=last_days)
        dates = cadence_dates(local(last_contact).date(), interval)
        inn = make_inn(f"{770000000 + client_id:09d}")  # unique across repeated runs
        search = " ".join([name, inn]
                          + [f"{x['full_name']} {x['email']} {x['phone_digits']}" for x in contacts]).lower()
        client_rows.append(dict(
            id=client_id, short_name=name, code=f"B{client_id}", legal_name=f"ООО «{name}»", inn=inn,
            kpp="770101001", ogrn="", address="г. Москва", bank_name="", bik="", account="", corr_account="",
            contract_number=f"{c}/С", contract_date=day - timedelta(days=300), manager_id=manager_id,
            deputy_id=first_user + (c + 1) % managers, status="active", hourly_rate=None,
            contact_cadence_days=interval, notes="", created_at=now - timedelta(days=400),
            last_contact_at=last_contact, next_contact_on=None, due_on=dates.due_on, overdue_on=dates.overdue_on,
            critical_on=dates.critical_on, search_text=search, version=1))
    _insert(Client.__table__, client_rows)
    _insert(Contact.__table__, contact_rows)
    _insert(Touchpoint.__table__, touch_rows)
    _insert(touchpoint_contacts, link_rows)
    regulation_rows = _regulations(client_rows, contact_rows, first_user, day, now)
    _insert(Regulation.__table__, regulation_rows)
    backlog = _generate_backlog(rng, first_client, clients, first_user, managers + 5, now, day)
    meetings = _generate_meetings(client_rows, contact_rows, now)
    backlog.update(_generate_acts(rng, first_client, clients, first_user, now, day))
    events = [dict(created_at=now, actor_id=None, actor_name="bench", entity_type="clients",
                   entity_id=first_client + i % max(clients, 1), entity_label="bench", action="update",
                   changes={"notes": ["a", "b"]}) for i in range(clients * 5)]
    _insert(AuditEvent.__table__, events)
    _fix_sequences()
    cache.invalidate(db.session, ["managers"])  # bulk inserts pass no flush, so say it here
    return {"users": len(users), "clients": len(client_rows), "contacts": len(contact_rows),
            "touchpoints": len(touch_rows), "regulations": len(regulation_rows), "audit_events": len(events),
            **backlog, **meetings}


HELD_MEETINGS_PER_CLIENT = 3
POINTS_PER_HELD, POINTS_PER_PLANNED = 4, 20  # the live page of the benchmark: a meeting with 20 points


def _generate_meetings(client_rows: list[dict], contact_rows: list[dict], now) -> dict[str, int]:
    """Each client's last weekly meetings (held, minutes numbered in their year) and the next one
    planned this week with a long agenda; two attendees and a few action items each."""
    from webapp.models import ActionItem, AgendaPoint, Attendee, Meeting, MinutesCounter

    first_meeting, first_point = _max_id(Meeting) + 1, _max_id(AgendaPoint) + 1
    first_attendee, first_action = _max_id(Attendee) + 1, _max_id(ActionItem) + 1
    decider = {c["client_id"]: c["id"] for c in contact_rows if c["is_decision_maker"]}
    numbers = dict(db.session.execute(sa.select(MinutesCounter.year, MinutesCounter.last)).all())
    meetings, points, attendees, actions = [], [], [], []
    for client in client_rows:
        for k in range(HELD_MEETINGS_PER_CLIENT + 1):
            meeting_id = first_meeting + len(meetings)
            held = k < HELD_MEETINGS_PER_CLIENT
            starts = now + timedelta(days=7 * (k - HELD_MEETINGS_PER_CLIENT) + 1, hours=client["id"] % 8)
            year = local(starts).year
            number = None
            if held:
                numbers[year] = number = numbers.get(year, 0) + 1
            meetings.append(dict(
                id=meeting_id, client_id=client["id"], kind="weekly", status="held" if held else "planned",
                starts_at=starts, duration_minutes=60, place="офис Заказчика",
                previous_id=meeting_id - 1 if k else None, chair_id=client["manager_id"],
                secretary_id=client["manager_id"], minutes_year=year if held else None, minutes_number=number,
                minutes_sent_at=starts + timedelta(hours=3) if held else None, minutes_sent_to="",
                cancel_reason="", minutes_confirmed_at=None, minutes_confirmed_by="", minutes_objection="",
                held_at=starts if held else None, uid=f"bench-{meeting_id}@accountdesk",
                sequence=0, created_by_id=client["manager_id"], created_at=starts - timedelta(days=7), version=1))
            for person in ({"contact_id": decider.get(client["id"]), "user_id": None},
                           {"contact_id": None, "user_id": client["manager_id"]}):
                if person["contact_id"] or person["user_id"]:
                    attendees.append(dict(id=first_attendee + len(attendees), meeting_id=meeting_id,
                                          attended=held, **person))
            for n in range(POINTS_PER_HELD if held else POINTS_PER_PLANNED):
                points.append(dict(id=first_point + len(points), meeting_id=meeting_id, position=n + 1,
                                   title=f"Вопрос {n + 1}: статус задач и сроки", section="Дополнительно",
                                   proposal_key="", backlog_item_id=None, notes="Обсудили" if held else "",
                                   decision="Принять к сведению" if held and n % 2 else "", internal_note="",
                                   carried_from_id=None, version=1))
            for n in range(2 if held else 5):
                actions.append(dict(id=first_action + len(actions), meeting_id=meeting_id, position=n + 1,
                                    what=f"Поручение {n + 1}", contact_id=decider.get(client["id"]), user_id=None,
                                    due_on=local(starts).date() + timedelta(days=7), status="done" if held else "open",
                                    carried_from_id=None, backlog_item_id=None, version=1))
    _insert(Meeting.__table__, meetings)
    _insert(Attendee.__table__, attendees)
    _insert(AgendaPoint.__table__, points)
    _insert(ActionItem.__table__, actions)
    for year, last in numbers.items():
        updated = db.session.execute(sa.update(MinutesCounter).where(MinutesCounter.year == year)
                                     .values(last=last)).rowcount
        if not updated:
            db.session.add(MinutesCounter(year=year, last=last))
    db.session.flush()
    return {"meetings": len(meetings), "agenda_points": len(points), "action_items": len(actions)}


def _generate_backlog(rng: random.Random, first_client: int, clients: int, first_user: int, users: int,
                      now, day) -> dict[str, int]:
    """Each client's items in every state, with their two SLA stages, once started time, and the
    stored word set that «similar past items» reads."""
    first_item, first_stage, first_entry = _max_id(BacklogItem) + 1, _max_id(Stage) + 1, _max_id(TimeEntry) + 1
    items, stages, entries, words = [], [], [], []
    priorities = list(Priority)
    for c in range(clients):
        client_id = first_client + c
        for n in range(ITEMS_PER_CLIENT):
            item_id = first_item + c * ITEMS_PER_CLIENT + n
            status = rng.choice(ITEM_STATUSES)
            received = now - timedelta(days=rng.randrange(0, 700), hours=rng.randrange(10))
            hours = Decimal(rng.randrange(1, 40))
            estimated = status not in (ItemStatus.NEW, ItemStatus.SPEC)
            started = status in (ItemStatus.IN_PROGRESS, ItemStatus.DONE, ItemStatus.ACCEPTED)
            spent = hours * Decimal(rng.randrange(50, 130)) / 100 if started else Decimal(0)
            title = f"{rng.choice(ITEM_TITLES)} ПФ{rng.randrange(FORM_CODES):04d} {n}"
            request_text = "Клиент прислал голосовое: нужно поправить"
            words += [{"item_id": item_id, "word": w} for w in item_words(title, request_text)]
            items.append(dict(
                id=item_id, client_id=client_id, number=n + 1, title=title,
                request_text=request_text, channel="message", requester_id=None,
                received_at=received, goal="", current_behaviour="", required_behaviour="", acceptance_criteria="",
                priority=rng.choice(priorities).value, rank=(n + 1) * RANK_GAP,
                assignee_id=first_user + rng.randrange(users), due_on=None, budget_block="", billing="billable",
                status=status.value, status_changed_at=received + timedelta(days=1),
                estimate_hours=hours if estimated else None, estimate_cost=hours * 3000 if estimated else None,
                spent_hours=spent.quantize(Decimal("0.01")), waiting_since=None, sla_paused_days=0,
                created_by_id=None, created_at=received, version=1))
            done = started or status in (ItemStatus.REJECTED, ItemStatus.CANCELLED)
            for k, (name, kind, days) in enumerate((("Согласовать объём", "reaction", 1), ("Сдача", "resolution", 10))):
                stages.append(dict(id=first_stage + len(stages), item_id=item_id, position=k, name=name, kind=kind,
                                   due_on=(received + timedelta(days=days)).date(),
                                   done_at=received + timedelta(days=days) if done or k == 0 and estimated else None,
                                   version=1))
            if started:
                entries.append(dict(id=first_entry + len(entries), item_id=item_id, user_id=items[-1]["assignee_id"],
                                    spent_on=min((received + timedelta(days=2)).date(), day),
                                    hours=spent.quantize(Decimal("0.01")), comment="Работа", billable=True,
                                    created_at=received))
    budgets = _generate_budgets(items, entries, day)
    _insert(BacklogItem.__table__, items)
    _insert(Stage.__table__, stages)
    _insert(TimeEntry.__table__, entries)
    _insert(ItemWord.__table__, words)
    return {"backlog_items": len(items), "stages": len(stages), "time_entries": len(entries),
            "backlog_item_words": len(words), **budgets}


BUDGET_BLOCKS = ("Операционный блок", "Бухгалтерия")


def _generate_budgets(items: list[dict], entries: list[dict], day) -> dict[str, int]:
    """This year's budget of every client in two blocks, its items charged to them in turn, the blocks'
    stored figures computed as ``services.budgets`` keeps them (spent: done work logged this year at
    the estimate's rate; committed: approved work at its estimate). Inserted before the items."""
    from webapp.models import Budget, BudgetBlock, BudgetMonth
    from webapp.models.budgets import split_evenly

    first_budget, first_block, first_month = _max_id(Budget) + 1, _max_id(BudgetBlock) + 1, _max_id(BudgetMonth) + 1
    logged = {e["item_id"]: e for e in entries}
    budgets, blocks, months, figures = [], [], [], {}
    by_month: dict[int, dict[int, list[Decimal]]] = {}
    by_client: dict[int, list[int]] = {}
    for item in items:
        client_id = item["client_id"]
        if client_id not in by_client:
            budget_id = first_budget + len(budgets)
            budgets.append(dict(id=budget_id, client_id=client_id, year=day.year, status="draft", warn_percent=80,
                                limit_percent=100, note="", created_at=item["created_at"], version=1))
            by_client[client_id] = []
            for position, name in enumerate(BUDGET_BLOCKS):
                block_id = first_block + len(blocks)
                by_client[client_id].append(block_id)
                blocks.append(dict(id=block_id, budget_id=budget_id, position=position, name=name, kind="money",
                                   planned_hours=Decimal("0.00"), carry_over="burn", version=1))
                figures[block_id] = [Decimal(0)] * 4
                by_month[block_id] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        block_id = by_client[client_id][item["number"] % 2]
        item["budget_block_id"] = block_id
        status, cost, hours = item["status"], item["estimate_cost"], item["estimate_hours"]
        entry = logged.get(item["id"])
        if status in ("done", "accepted") and entry and entry["spent_on"].year == day.year and hours:
            money = (entry["hours"] * cost / hours).quantize(Decimal("0.01"))
            figures[block_id][0] += money
            figures[block_id][2] += entry["hours"]
            by_month[block_id][entry["spent_on"].month][0] += money
            by_month[block_id][entry["spent_on"].month][1] += entry["hours"]
        elif status in ("approved", "in_progress") and cost is not None:
            figures[block_id][1] += cost
            figures[block_id][3] += hours
    for n, block in enumerate(blocks):
        spent, committed, spent_hours, committed_hours = figures[block["id"]]
        # plans around the forecast: a few blocks over, most within
        plan = ((spent + committed) * Decimal("0.9" if n % 7 == 0 else "1.4")).quantize(Decimal("1000")) \
            or Decimal("100000")
        block.update(planned_amount=plan, spent=spent, committed=committed, spent_hours=spent_hours,
                     committed_hours=committed_hours)
        for month, part in enumerate(split_evenly(plan), start=1):
            spent_money, spent_hours = by_month[block["id"]][month]
            months.append(dict(id=first_month + len(months), block_id=block["id"], month=month, planned=part,
                               spent=spent_money, spent_hours=spent_hours))
    _insert(Budget.__table__, budgets)
    _insert(BudgetBlock.__table__, blocks)
    _insert(BudgetMonth.__table__, months)
    return {"budgets": len(budgets), "budget_blocks": len(blocks)}


def _generate_acts(rng: random.Random, first_client: int, clients: int, first_user: int, now, day) -> dict[str, int]:
    """Each client's acts of the past months, issued or signed, paid, partly paid or not, numbered in one
    gapless sequence per year; the very first act has ``BIG_ACT_LINES`` lines."""
    first_act, first_line = _max_id(Act) + 1, _max_id(ActLine) + 1
    last_seq = dict(db.session.execute(sa.select(ActCounter.year, ActCounter.last_seq)).all())
    acts, lines = [], []
    for c in range(clients):
        for n in range(ACTS_PER_CLIENT):
            act_id = first_act + len(acts)
            act_date = day - timedelta(days=30 * (ACTS_PER_CLIENT - n) + rng.randrange(5))
            seq = last_seq[act_date.year] = last_seq.get(act_date.year, 0) + 1
            count = BIG_ACT_LINES if not acts else 3
            amounts = [Decimal(rng.randrange(2, 40)) * 3000 for _ in range(count)]
            net = sum(amounts, Decimal(0))
            vat = (net * Decimal("0.22")).quantize(Decimal("0.01"))
            paid = rng.choice([net + vat, Decimal(0), ((net + vat) / 2).quantize(Decimal("0.01"))])
            signed = rng.random() < 0.7
            acts.append(dict(
                id=act_id, client_id=first_client + c, status="signed" if signed else "issued",
                number=f"{act_date.year}-{seq:04d}", year=act_date.year, seq=seq, act_date=act_date,
                period_from=act_date.replace(day=1), period_to=act_date, vat_mode="on_top", vat_rate=Decimal("22.00"),
                parties=None, net_amount=net, vat_amount=vat, total_amount=net + vat, paid_amount=paid,
                due_on=act_date + timedelta(days=14), accept_by=act_date + timedelta(days=7),
                signed_on=act_date + timedelta(days=3) if signed else None, signed_by="Директор" if signed else "",
                signed_how="edo" if signed else None, cancel_reason="", comment="", reminded_at=None,
                issued_at=now, issued_by_id=first_user, created_by_id=first_user, created_at=now, version=1))
            for k, amount in enumerate(amounts):
                lines.append(dict(id=first_line + len(lines), act_id=act_id, item_id=None, position=k,
                                  name=f"{rng.choice(ITEM_TITLES)} {k}", quantity=amount / 3000, unit="ч",
                                  price=Decimal(3000), amount=amount, version=1))
    _insert(Act.__table__, acts)
    _insert(ActLine.__table__, lines)
    for year, seq in last_seq.items():
        db.session.merge(ActCounter(year=year, last_seq=seq))
    db.session.flush()
    return {"acts": len(acts), "act_lines": len(lines)}


def _regulations(clients: list[dict], contacts: list[dict], created_by: int, day, now) -> list[dict]:
    """A signed edition 1 (the standard's wording) for every second client of each manager, and an
    edition 2 in draft for every fourth, so the regulation pages have editions to show and compare."""
    first_regulation = _max_id(Regulation) + 1
    decision_makers = {c["client_id"]: c for c in contacts if c["is_decision_maker"]}
    rows = []
    managers = len({client["manager_id"] for client in clients})
    for n, client in enumerate(clients):
        nth = n // managers  # the how-many-th client of its manager: every manager has some of each
        if nth % REGULATION_EVERY != 1:
            continue
        person = decision_makers[client["id"]]
        parties = [{"side": "client", "name": person["full_name"], "position": person["position"],
                    "role": "ЛПР", "phone": person["phone"], "email": person["email"]}]
        clauses = {**DEFAULT_STANDARD, "contact_cadence_days": client["contact_cadence_days"],
                   "meeting_weekday": n % 5}
        common = dict(client_id=client["id"], city="г. Москва", parties=parties, created_by_id=created_by,
                      created_at=now, version=1, **clauses)
        signed_id = first_regulation + len(rows)
        rows.append(dict(id=signed_id, number=1, status=RegulationStatus.SIGNED.value, based_on_id=None,
                         signed_on=day - timedelta(days=200), effective_date=day - timedelta(days=200), **common))
        if nth % (2 * REGULATION_EVERY) == 1:
            rows.append(dict(id=first_regulation + len(rows), number=2, status=RegulationStatus.DRAFT.value,
                             based_on_id=signed_id, signed_on=None, effective_date=None,
                             **{**common, "payment_days": 15}))
    return rows


def _fix_sequences() -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the rows."""
    if db.engine.dialect.name != "postgresql":
        return
    from webapp.models import ActionItem, AgendaPoint, Attendee, Budget, BudgetBlock, BudgetMonth, Meeting

    for model in (User, Client, Contact, Touchpoint, Regulation, BacklogItem, Stage, TimeEntry, Budget, BudgetBlock,
                  BudgetMonth, Meeting, AgendaPoint, Attendee, ActionItem):
        table = model.__tablename__
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
