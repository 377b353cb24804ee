"""Factories for acts (through the services): a company with bank details, a client with requisites, done
billable items with time logged, a draft act, an issued one."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from webapp import requisites
from webapp.extensions import db
from webapp.models import Act, BacklogItem, Client, CompanyProfile, ItemStatus, Role, User
from webapp.models.company import VatMode
from webapp.saving import Edit
from webapp.services import acts as act_service
from webapp.services import backlog as backlog_service
from webapp.services import company as company_service

BIK = "044525225"
COMPANY = {
    "name": "ООО «ИнфоСофт»", "legal_name": "Общество с ограниченной ответственностью «ИнфоСофт»",
    "inn": requisites.make_inn("770708389"), "kpp": "770701001", "address": "125009, г. Москва, ул. Тверская, д. 1",
    "bank_name": "ПАО Сбербанк", "bik": BIK, "corr_account": "30101810400000000225",
    "account": requisites.with_account_key(BIK, "4070281000000001234"),
    "signatory_name": "Соколов Андрей Петрович", "signatory_position": "Генеральный директор",
    "vat_mode": VatMode.ON_TOP, "vat_rate": Decimal("22.00"), "default_hourly_rate": Decimal("3000.00"),
}


def set_company(app, **changes) -> None:
    with app.app_context():
        profile = CompanyProfile.get()
        company_service.update_company(profile, Edit({**COMPANY, **changes}, profile.version))
        db.session.commit()


@pytest.fixture
def books(app, make_user, make_client):
    """The company with its bank details, an accountant, a manager and their client «Ромашка» with
    requisites, a contract and a payment decision maker."""
    set_company(app)
    manager = make_user(Role.MANAGER, full_name="Петров Алексей Николаевич")
    accountant = make_user(Role.ACCOUNTANT, full_name="Бухова Ольга Ивановна")
    client = make_client(manager, short_name="Ромашка", legal_name="Общество с ограниченной ответственностью «Ромашка»",
                         inn=requisites.make_inn("773620754"), kpp="773601001", address="117997, г. Москва, ул. Садовая, д. 2",
                         contract_number="15/26", contract_date=date(2026, 1, 15), hourly_rate=Decimal("3500.00"),
                         contacts=[{"full_name": "Ковалёва Анна Сергеевна", "position": "Финансовый директор",
                                    "email": "kovaleva@romashka.test", "is_decision_maker": True,
                                    "decides_payment": True, "decides_cost": True}])
    return SimpleNamespace(manager=manager, accountant=accountant, client=client)


@pytest.fixture
def make_done_item(app):
    """``make_done_item(books, title=..., hours=Decimal(...))``: a billable item, done, with the hours
    logged (or, without hours, an estimate to bill as a fixed price)."""

    def make(team, *, title: str = "Отчёт по продажам", hours: Decimal | None = Decimal("4"),
             estimate: Decimal | None = None) -> int:
        with app.app_context():
            acting = db.session.get(User, team.manager.id)
            client = db.session.get(Client, team.client.id)
            item = backlog_service.create_item(client, {"title": title}, acting=acting)
            if estimate is not None:
                backlog_service.estimate_item(item, hours=estimate, acting=acting)
            if hours:
                backlog_service.log_time(item, spent_on=date(2026, 11, 20), hours=hours, acting=acting)
            item.status = ItemStatus.DONE
            db.session.commit()
            return item.id

    return make


@pytest.fixture
def make_act(app):
    """``make_act(books, issue=True)``: a draft act of November 2026 from every done item; issued by
    the accountant when asked."""

    def make(team, *, issue: bool = False) -> int:
        with app.app_context():
            client = db.session.get(Client, team.client.id)
            act = act_service.create_draft(client, period_from=date(2026, 11, 1), period_to=date(2026, 11, 30),
                                           item_ids=None, acting=db.session.get(User, team.accountant.id))
            db.session.commit()
            if issue:
                act_service.issue(act, acting=db.session.get(User, team.accountant.id))
                db.session.commit()
            return act.id

    return make


def load_act(app, act_id: int) -> Act:
    with app.app_context():
        act = db.session.get(Act, act_id)
        act.lines, act.payments  # noqa: B018 -- loaded before the session goes
        db.session.expunge_all()
        return act


def item_status(app, item_id: int) -> ItemStatus:
    with app.app_context():
        return db.session.get(BacklogItem, item_id).status
