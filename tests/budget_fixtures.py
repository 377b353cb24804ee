"""Factories for budgets (through the services) and items charged to their blocks."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.backlog_fixtures import DECISION_MAKER
from webapp.extensions import db
from webapp.models import ApprovalChannel, BacklogItem, BudgetBlock, Client, Contact, ItemStatus, Role, User
from webapp.services import backlog as backlog_service
from webapp.services import budgets as budget_service
from webapp.services import workflow


@pytest.fixture
def budget_team(make_user, make_client):
    """A manager and the client they lead (rate 2 000 ₽/h, one cost decision maker)."""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка", contacts=[DECISION_MAKER], hourly_rate=Decimal("2000"))
    return manager, client


@pytest.fixture
def make_budget(app):
    """``make_budget(client, manager, year, blocks=[("Операционный блок", Decimal(...)), …])`` → ids
    {"budget": id, "blocks": {name: id}}."""

    def make(client, manager, year: int = 2026, blocks=(("Операционный блок", Decimal("100000")),), **kind):
        with app.app_context():
            acting = db.session.get(User, manager.id)
            budget = budget_service.create_budget(db.session.get(Client, client.id), year, acting=acting)
            ids = {}
            for name, amount in blocks:
                ids[name] = budget_service.add_block(budget, name=name, planned_amount=amount, acting=acting,
                                                     **kind).id
            db.session.commit()
            return {"budget": budget.id, "blocks": ids}

    return make


def charged_item(app, client, manager, block_id: int, hours: Decimal, *, approve: bool = False,
                 billing: str = "billable") -> int:
    """An item charged to a block, estimated at ``hours`` (and approved, confirming any overrun)."""
    with app.app_context():
        acting = db.session.get(User, manager.id)
        item = backlog_service.create_item(db.session.get(Client, client.id),
                                           {"title": "Задача по бюджету", "billing": billing}, acting=acting)
        item.budget_block_id = block_id
        db.session.flush()  # estimating locks (and reloads) the item
        backlog_service.estimate_item(item, hours=hours, acting=acting)
        if approve:
            approve_item(item, acting, confirm=True)
        db.session.commit()
        return item.id


def approve_item(item: BacklogItem, acting: User, *, confirm: bool = False):
    contact = db.session.scalar(sa.select(Contact).where(Contact.client_id == item.client_id,
                                                         Contact.decides_cost.is_(True)))
    return backlog_service.approve_item(item, contact_id=contact.id, channel=ApprovalChannel.EMAIL, acting=acting,
                                        confirm_overrun=confirm)


def finish_item(app, item_id: int, manager, hours: Decimal, day: date) -> None:
    """Work the item: start, log ``hours`` on ``day``, finish."""
    with app.app_context():
        acting = db.session.get(User, manager.id)
        item = db.session.get(BacklogItem, item_id)
        if item.status != ItemStatus.IN_PROGRESS:
            workflow.change_status(item, "in_progress", acting=acting, shown_status=item.status.value)
        backlog_service.log_time(item, spent_on=day, hours=hours, acting=acting)
        workflow.change_status(item, "done", acting=acting, shown_status="in_progress")
        db.session.commit()


def block_figures(app, block_id: int) -> dict:
    with app.app_context():
        block = db.session.get(BudgetBlock, block_id)
        return {"spent": block.spent, "committed": block.committed, "spent_hours": block.spent_hours,
                "committed_hours": block.committed_hours}
