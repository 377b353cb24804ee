"""Budgets: plans that add up exactly, figures computed from the items, alerts once per crossing, the
approval that would overrun a block, concurrent approvals, hour packages across a year boundary."""

import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.budget_fixtures import approve_item, block_figures, charged_item, finish_item
from webapp.extensions import db
from webapp.models import (AlertBasis, BacklogItem, BlockKind, Budget, BudgetAlert, BudgetBlock, CarryOver, Client,
                           User)
from webapp.models.budgets import split_evenly
from webapp.services import budgets as budget_service
from webapp.services.budgets import OverrunNotConfirmed, package_months

amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999999.99"), places=2,
                      allow_nan=False, allow_infinity=False)


# --- plans add up -----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(amounts)
def test_months_add_up_to_the_plan_to_the_kopeck(total):
    """Do twelve even months add up to any plan exactly, the remainder kopecks on the last months?"""
    parts = split_evenly(total)
    assert sum(parts, Decimal(0)) == total
    assert max(parts) - min(parts) <= Decimal("0.01")
    assert parts == sorted(parts)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(amounts, min_size=1, max_size=4), moves=st.lists(
    st.tuples(st.integers(1, 12), st.integers(1, 12), st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000"),
                                                                     places=2)), max_size=3))
def test_blocks_add_up_to_the_budget_and_months_to_the_year(app, budget_team, plans, moves):
    """For any plan of blocks and any moves between months, do the blocks add up to the budget's
    total and each block's months to its year, exactly in Decimal?"""
    manager, client = budget_team
    with app.app_context():
        acting = db.session.get(User, manager.id)
        db.session.execute(sa.delete(Budget))
        budget = budget_service.create_budget(db.session.get(Client, client.id), 2026, acting=acting)
        for n, plan in enumerate(plans):
            block = budget_service.add_block(budget, name=f"Блок {n}", planned_amount=plan, acting=acting)
            for source, target, amount in moves:
                try:
                    budget_service.move_between_months(block, source=source, target=target, amount=amount,
                                                       acting=acting)
                except budget_service.ServiceError:
                    pass  # more than the month holds, or one month: refused, nothing moved
        db.session.commit()
        figures = budget_service.budget_figures(db.session.get(Budget, budget.id), date(2026, 11, 25))
        assert figures.planned == sum(plans, Decimal(0))
        for row in figures.blocks:
            assert sum((m.planned for m in row.months), Decimal(0)) == row.planned
            assert all(m.planned >= 0 for m in row.months)
        assert figures.months[-1].cum_planned == figures.planned
        db.session.rollback()


def test_moving_money_between_months_is_in_the_audit(app, budget_team, make_budget):
    """Is a move of the plan from March to May recorded for both months?"""
    from webapp.models import AuditEvent

    manager, client = budget_team
    ids = make_budget(client, manager, blocks=[("Бухгалтерия", Decimal("12000"))])
    with app.app_context():
        block = db.session.get(BudgetBlock, ids["blocks"]["Бухгалтерия"])
        budget_service.move_between_months(block, source=3, target=5, amount=Decimal("500"),
                                           acting=db.session.get(User, manager.id))
        db.session.commit()
        assert [m.planned for m in block.months][2:5] == [Decimal("500.00"), Decimal("1000.00"), Decimal("1500.00")]
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "budget_months",
                                                                AuditEvent.action == "move")).all()
        assert len(events) == 2


# --- figures from the items ---------------------------------------------------------------------------


def test_spent_and_committed_follow_the_items_charged_to_the_block(app, budget_team, make_budget):
    """Does approving an item commit its estimate, and finishing it move its hours × rate to spent?
    Does warranty work consume nothing?"""
    manager, client = budget_team
    block_id = make_budget(client, manager)["blocks"]["Операционный блок"]
    first = charged_item(app, client, manager, block_id, Decimal("10"), approve=True)
    charged_item(app, client, manager, block_id, Decimal("4"), approve=True, billing="warranty")
    charged_item(app, client, manager, block_id, Decimal("3"))  # estimated, not approved: nothing yet
    assert block_figures(app, block_id)["committed"] == Decimal("20000.00")
    finish_item(app, first, manager, Decimal("12"), date(2026, 11, 20))
    figures = block_figures(app, block_id)
    assert figures["committed"] == Decimal("0.00")
    assert (figures["spent"], figures["spent_hours"]) == (Decimal("24000.00"), Decimal("12.00"))
    with app.app_context():
        page = budget_service.budget_figures(db.session.get(BudgetBlock, block_id).budget, date(2026, 11, 25))
        assert page.months[10].spent == Decimal("24000.00") and page.spent == Decimal("24000.00")
        # spent in November, the run rate over January…October is zero: the forecast is spent + committed
        assert page.forecast == Decimal("24000.00")


def test_spent_is_what_the_act_billed_once_issued_and_the_hours_again_once_cancelled(app, budget_team, make_budget,
                                                                                     make_user):
    """Once acts exist, is a block's «spent» the issued act's line (here billed below the hours), not
    the hours × rate — and, the act cancelled, the hours again? A draft changes nothing."""
    from webapp.models import Act, ActStatus, Role, User
    from webapp.services import acts as act_service
    from webapp.services import workflow

    manager, client = budget_team
    accountant = make_user(Role.ACCOUNTANT)
    block_id = make_budget(client, manager)["blocks"]["Операционный блок"]
    item_id = charged_item(app, client, manager, block_id, Decimal("10"), approve=True)
    finish_item(app, item_id, manager, Decimal("12"), date(2026, 11, 20))
    assert block_figures(app, block_id)["spent"] == Decimal("24000.00")  # 12 h × 2 000 ₽
    with app.app_context():
        act = act_service.create_draft(db.session.get(Client, client.id), period_from=date(2026, 11, 1),
                                       period_to=date(2026, 11, 30), item_ids=[item_id],
                                       acting=db.session.get(User, manager.id))
        [line] = act.lines
        line.quantity, line.price, line.amount = Decimal("10"), Decimal("2000"), Decimal("20000.00")  # 2 h forgiven
        db.session.commit()
        act_id = act.id
    assert block_figures(app, block_id)["spent"] == Decimal("24000.00")  # a draft bills nothing yet
    with app.app_context():
        act_service.issue(db.session.get(Act, act_id), acting=db.session.get(User, accountant.id))
        db.session.commit()
    assert (block_figures(app, block_id)["spent"], block_figures(app, block_id)["spent_hours"]) == (
        Decimal("20000.00"), Decimal("10.00"))
    with app.app_context():
        act = db.session.get(Act, act_id)
        workflow.change_status(act, ActStatus.CANCELLED, acting=db.session.get(User, accountant.id),
                               shown_status="issued", version=act.version, values={"cancel_reason": "Ошибка в периоде"})
        db.session.commit()
    assert block_figures(app, block_id)["spent"] == Decimal("24000.00")


def test_an_hour_package_is_billed_as_its_monthly_fee_plus_the_hours_over(app, budget_team, make_budget, make_user):
    """Does a draft act for November bill the package as its fee (10 h × 2 500 ₽) plus the 3 hours
    worked over it, and does a second draft for the same month, once the first is issued, not bill
    the month again?"""
    from webapp.models import Act, Role, User
    from webapp.services import acts as act_service

    manager, client = budget_team
    accountant = make_user(Role.ACCOUNTANT)
    block_id = make_budget(client, manager, blocks=[("Сопровождение", None)], kind=BlockKind.HOURS,
                           hours_per_month=Decimal("10"), rate=Decimal("2500"))["blocks"]["Сопровождение"]
    item_id = charged_item(app, client, manager, block_id, Decimal("13"), approve=True, billing="package")
    finish_item(app, item_id, manager, Decimal("13"), date(2026, 11, 18))

    def draft():
        with app.app_context():
            act = act_service.create_draft(db.session.get(Client, client.id), period_from=date(2026, 11, 1),
                                           period_to=date(2026, 11, 30), item_ids=None,
                                           acting=db.session.get(User, manager.id))
            db.session.commit()
            return act.id, [(line.name, line.quantity, line.unit, line.amount) for line in act.lines]

    act_id, lines = draft()
    assert lines == [
        ("Абонентское обслуживание «Сопровождение», ноябрь 2026 (10 ч)", Decimal("1"), "мес.", Decimal("25000.00")),
        ("Часы сверх пакета «Сопровождение», ноябрь 2026", Decimal("3"), "ч", Decimal("7500.00"))]
    with app.app_context():
        act_service.issue(db.session.get(Act, act_id), acting=db.session.get(User, accountant.id))
        db.session.commit()
    assert draft()[1] == []


# --- the approval that overruns a block ------------------------------------------------------------------


def test_an_approval_crossing_the_plan_warns_first(app, budget_team, make_budget):
    """Is an approval that takes the block to 104 % refused until confirmed, with the consequence said?"""
    manager, client = budget_team
    block_id = make_budget(client, manager, blocks=[("Операционный блок", Decimal("50000"))])["blocks"]["Операционный блок"]
    charged_item(app, client, manager, block_id, Decimal("20"), approve=True)  # 40 000
    item_id = charged_item(app, client, manager, block_id, Decimal("6"))       # +12 000 → 104 %
    with app.app_context():
        item = db.session.get(BacklogItem, item_id)
        assert budget_service.approval_consequence(item) == "Операционный блок: 104 % после согласования"
        with pytest.raises(OverrunNotConfirmed) as refused:
            approve_item(item, db.session.get(User, manager.id))
        assert refused.value.status == 422 and "104 %" in refused.value.message
        db.session.rollback()
        approve_item(db.session.get(BacklogItem, item_id), db.session.get(User, manager.id), confirm=True)
        db.session.commit()
    assert block_figures(app, block_id)["committed"] == Decimal("52000.00")


def test_the_backlog_page_asks_to_confirm_an_overrunning_approval(app, client, budget_team, make_budget):
    """Does the item page say «… 104 % после согласования», answer 422 without the tick and record the
    approval with it?"""
    manager, record = budget_team
    block_id = make_budget(record, manager, blocks=[("Операционный блок", Decimal("50000"))])["blocks"]["Операционный блок"]
    charged_item(app, record, manager, block_id, Decimal("20"), approve=True)
    item_id = charged_item(app, record, manager, block_id, Decimal("6"))
    client.login(manager)
    page = client.get(f"/backlog/{item_id}").get_data(as_text=True)
    assert "Операционный блок: 104 % после согласования" in page
    with app.app_context():
        contact_id = db.session.scalar(sa.text("select id from contacts where client_id = :c"), {"c": record.id})
    data = {"approval-contact_id": str(contact_id), "approval-channel": "email"}
    refused = client.post(f"/backlog/{item_id}/approval", data=data)
    assert refused.status_code == 422
    assert "104 %" in refused.get_data(as_text=True)
    done = client.post(f"/backlog/{item_id}/approval", data={**data, "approval-confirm_overrun": "y"})
    assert done.status_code in (200, 303)
    assert block_figures(app, block_id)["committed"] == Decimal("52000.00")


# --- alerts ------------------------------------------------------------------------------------------------


def test_each_threshold_alert_fires_once_per_crossing(app, budget_team, make_budget):
    """Crossing 80 % and then 100 % raises one alert each (by spent and by forecast), refreshing again
    raises none, and falling back under then crossing again raises a new one."""
    manager, client = budget_team
    block_id = make_budget(client, manager, blocks=[("Бухгалтерия", Decimal("20000"))])["blocks"]["Бухгалтерия"]

    def alerts():
        with app.app_context():
            return sorted((a.threshold, a.basis.value, a.cleared_at is None)
                          for a in db.session.scalars(sa.select(BudgetAlert).where(BudgetAlert.block_id == block_id)))

    first = charged_item(app, client, manager, block_id, Decimal("8"), approve=True)  # 16 000 = 80 % forecast
    assert alerts() == [(80, "forecast", True)]
    finish_item(app, first, manager, Decimal("8"), date(2026, 11, 2))                  # 80 % spent too
    assert alerts() == [(80, "forecast", True), (80, "spent", True)]
    second = charged_item(app, client, manager, block_id, Decimal("3"), approve=True)  # forecast 110 %
    with app.app_context():
        for _ in range(3):
            budget_service.refresh_block(db.session.get(BudgetBlock, block_id))
        db.session.commit()
    assert alerts() == [(80, "forecast", True), (80, "spent", True), (100, "forecast", True)]
    with app.app_context():  # the second item is cancelled: back under 100 % by forecast
        from webapp.services import workflow
        item = db.session.get(BacklogItem, second)
        workflow.change_status(item, "cancelled", acting=db.session.get(User, manager.id), shown_status="approved")
        db.session.commit()
    assert (100, "forecast", False) in alerts()
    charged_item(app, client, manager, block_id, Decimal("3"), approve=True)           # crossing again
    assert alerts().count((100, "forecast", True)) == 1 and len(alerts()) == 4


def test_alerts_show_on_my_day_the_client_card_and_the_agenda(app, client, budget_team, make_budget):
    """Does a block past 80 % show on its manager's «Мой день», the client's card and among the next
    meeting's points?"""
    from webapp.services import agenda

    manager, record = budget_team
    block_id = make_budget(record, manager, blocks=[("Бухгалтерия", Decimal("10000"))])["blocks"]["Бухгалтерия"]
    charged_item(app, record, manager, block_id, Decimal("5"), approve=True)
    client.login(manager)
    page = client.get("/").get_data(as_text=True)
    assert "Бюджеты: предупреждения" in page and "Бухгалтерия: 100 % плана по прогнозу" in page
    card = client.get(f"/clients/{record.id}").get_data(as_text=True)
    assert "Бухгалтерия: 100 % плана по прогнозу" in card
    with app.app_context():
        sections = agenda.proposals(db.session.get(Client, record.id), None, date(2026, 11, 30))
        points = [p.title for s in sections if s.section.key == "budget-alerts" for p in s.points]
    assert "Бухгалтерия: 100 % плана по прогнозу (порог 100 %)" in points


# --- concurrency -------------------------------------------------------------------------------------------


def test_concurrent_approvals_keep_committed_equal_to_its_items(app, budget_team, make_budget):
    """Do eight approvals at once on one block, in real threads, leave its committed figure equal to
    the sum of its approved items?"""
    manager, client = budget_team
    block_id = make_budget(client, manager, blocks=[("Операционный блок", Decimal("1000000"))])["blocks"]["Операционный блок"]
    items = [charged_item(app, client, manager, block_id, Decimal(n + 1)) for n in range(8)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(items))

    def approve(item_id: int) -> None:
        try:
            start.wait(timeout=60)
            with app.app_context():
                approve_item(db.session.get(BacklogItem, item_id), db.session.get(User, manager.id), confirm=True)
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=approve, args=(item_id,)) for item_id in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with app.app_context():
        expected = db.session.scalar(sa.select(sa.func.sum(BacklogItem.estimate_cost))
                                     .where(BacklogItem.budget_block_id == block_id))
    assert block_figures(app, block_id)["committed"] == expected == Decimal("72000.00")


# --- hour packages ---------------------------------------------------------------------------------------------

hours = st.decimals(min_value=Decimal("0"), max_value=Decimal("40"), places=1)


@settings(max_examples=40, deadline=None)
@given(rule=st.sampled_from(list(CarryOver)), used=st.lists(hours, min_size=24, max_size=24))
def test_a_package_follows_its_carry_over_rule_across_a_year_boundary(rule, used):
    """Over two years, does every month's included + carried in = used − over + carried out + burnt,
    and does each rule carry what it promises into the next year's January?"""
    included = Decimal("10")
    first = package_months(rule, included, used[:12])
    second = package_months(rule, included, used[12:], first[-1].carried_out)
    for month in first + second:
        assert month.included + month.carried_in == month.used - month.over + month.carried_out + month.burnt
        assert month.burnt >= 0 and month.over >= 0
    december = first[-1]
    if rule == CarryOver.BURN or rule == CarryOver.QUARTER:
        assert second[0].carried_in == 0  # December ends a quarter: nothing crosses the year
    else:
        own_unused = max(Decimal(0), included - max(Decimal(0), december.used - december.carried_in))
        assert second[0].carried_in == own_unused


def test_carry_over_rules_on_a_known_year_end():
    """10 h a month, 4 h used in November and December: what does January get under each rule?"""
    used = [Decimal(10)] * 10 + [Decimal(4), Decimal(4)]
    assert package_months(CarryOver.BURN, Decimal(10), used)[-1].carried_out == 0
    nxt = package_months(CarryOver.NEXT_MONTH, Decimal(10), used)
    # December uses 4 of November's 6 carried hours first (the other 2 burn) and carries its own 10
    assert (nxt[-1].carried_in, nxt[-1].carried_out, nxt[-1].burnt) == (Decimal(6), Decimal(10), Decimal(2))
    quarter = package_months(CarryOver.QUARTER, Decimal(10), used)
    assert (quarter[-1].carried_in, quarter[-1].carried_out) == (Decimal(6), Decimal(0))
    assert package_months(CarryOver.QUARTER, Decimal(10), [Decimal(25)])[0].over == Decimal(15)


def test_a_package_page_carries_december_into_the_next_january(app, budget_team, make_budget):
    """Does next year's package page start January with the hours December left (carry to next month)?"""
    manager, client = budget_team
    kind = dict(kind=BlockKind.HOURS, hours_per_month=Decimal("10"), carry_over=CarryOver.NEXT_MONTH)
    old = make_budget(client, manager, 2025, blocks=[("Абонентское обслуживание", None)], **kind)
    new = make_budget(client, manager, 2026, blocks=[("Абонентское обслуживание", None)], **kind)
    with app.app_context():
        budget = db.session.get(Budget, new["budget"])
        figures = budget_service.budget_figures(budget, date(2026, 11, 25))
        assert figures.blocks[0].planned == Decimal("240000.00")  # 10 h × 12 × 2 000 ₽
        assert figures.blocks[0].package[0].carried_in == Decimal("10")  # nothing used in December 2025
        assert old["budget"] != new["budget"]


def test_next_year_starts_a_draft_from_this_years_blocks(app, budget_team, make_budget):
    """Does «Бюджет на следующий год» copy the blocks grown by the percentage, as a draft?"""
    manager, client = budget_team
    ids = make_budget(client, manager, blocks=[("Операционный блок", Decimal("100000")), ("Бухгалтерия", Decimal("0.05"))])
    with app.app_context():
        new = budget_service.next_year(db.session.get(Budget, ids["budget"]), growth_percent=Decimal("10"),
                                       acting=db.session.get(User, manager.id))
        db.session.commit()
        assert (new.year, new.status.value) == (2027, "draft")
        assert [(b.name, b.planned_amount) for b in new.blocks] == [("Операционный блок", Decimal("110000.00")),
                                                                    ("Бухгалтерия", Decimal("0.06"))]
        assert all(sum((m.planned for m in b.months), Decimal(0)) == b.planned_amount for b in new.blocks)


def test_alert_basis_labels():
    """Are both bases named in Russian?"""
    assert {b.label for b in AlertBasis} == {"израсходовано", "по прогнозу"}
