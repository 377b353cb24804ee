"""Acts of completed work: the draft from done billable items, the gapless yearly number (also under
20 concurrent issues), frozen content, signing, cancelling, payments and the paid state."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.acts_fixtures import item_status, load_act, set_company
from webapp.extensions import db
from webapp.models import Act, ActStatus, Client, ItemStatus, PaidState, User
from webapp.models.company import VatMode
from webapp.services import ServiceError, workflow
from webapp.services import acts as act_service


def test_a_draft_offers_done_billable_items_at_hours_or_fixed_price(app, books, make_done_item, make_act):
    """Does a draft bill done items at spent hours × the client's rate, and one without time at its estimate?"""
    hourly = make_done_item(books, title="Выгрузка остатков", hours=Decimal("12.5"))
    fixed = make_done_item(books, title="Настройка прав", hours=None, estimate=Decimal("3"))
    act = load_act(app, make_act(books))
    assert act.status == ActStatus.DRAFT and act.number is None and act.seq is None
    lines = {line.item_id: line for line in act.lines}
    assert (lines[hourly].quantity, lines[hourly].unit, lines[hourly].price, lines[hourly].amount) == (
        Decimal("12.50"), "ч", Decimal("3500.00"), Decimal("43750.00"))
    assert (lines[fixed].quantity, lines[fixed].unit, lines[fixed].amount) == (Decimal("1.00"), "усл.", Decimal("10500.00"))
    assert act.net_amount == Decimal("54250.00") and act.total_amount == Decimal("66185.00")
    # billed once: a second draft offers nothing more
    with app.app_context():
        assert act_service.candidates(db.session.get(Client, books.client.id), date(2026, 11, 30)) == []


def test_a_new_act_offers_the_unbilled_items_found_among_the_clients_own_acts(app, books, make_done_item, make_act,
                                                                              count_queries):
    """The items offered for a new act leave out those already billed, looked up among the client's own
    acts' lines, not every act's (issue 9: the client's acts page read all 18,000 lines, 13 ms)."""
    make_done_item(books, title="Уже в акте")
    make_act(books)
    fresh = make_done_item(books, title="Новая")
    with app.app_context():
        with count_queries() as statements:
            offered = act_service.candidates(db.session.get(Client, books.client.id), date(2026, 11, 30))
        assert [item.id for item in offered] == [fresh]
    lines = [s for s in statements if "FROM act_lines" in s]
    assert lines and all("acts.client_id" in s for s in lines), lines


def test_issue_numbers_freeze_the_content_and_refuse_edits(app, books, make_done_item, make_act):
    """Does issuing give «2026-0001», freeze VAT and parties, and then refuse any edit of a line?"""
    make_done_item(books)
    act_id = make_act(books, issue=True)
    set_company(app, vat_mode=VatMode.NONE, legal_name="Общество с ограниченной ответственностью «Другое»")
    act = load_act(app, act_id)
    assert (act.number, act.year, act.seq, act.act_date) == ("2026-0001", 2026, 1, date(2026, 11, 25))
    assert act.vat_mode == VatMode.ON_TOP and act.vat_rate == Decimal("22.00")
    assert act.parties["contractor"]["legal_name"] == "Общество с ограниченной ответственностью «ИнфоСофт»"
    assert act.parties["contract"] == {"number": "15/26", "date": "2026-01-15"}
    # due in 10 working days, acceptance in 5 (the company standard)
    assert act.accept_by == date(2026, 12, 2) and act.due_on == date(2026, 12, 9)
    with app.app_context():
        stored = db.session.get(Act, act_id)
        with pytest.raises(ServiceError, match="не меняется"):
            act_service.add_line(stored, {"name": "Ещё", "quantity": Decimal(1), "price": Decimal(1)},
                                 acting=db.session.get(User, books.accountant.id))


def test_numbering_continues_from_the_company_start_and_drafts_leave_no_gap(app, books, make_done_item, make_act):
    """With 1C's numbering at 147, is the next act 148; does a deleted draft leave no gap?"""
    set_company(app, act_number_start=148, act_number_format="АК-{seq}/{year}")
    make_done_item(books)
    draft = make_act(books)
    with app.app_context():
        act = db.session.get(Act, draft)
        act_service.delete_draft(act, act.version, acting=db.session.get(User, books.accountant.id))
        db.session.commit()
    make_done_item(books, title="Вторая")
    first = load_act(app, make_act(books, issue=True))
    make_done_item(books, title="Третья")
    second = load_act(app, make_act(books, issue=True))
    assert (first.number, second.number) == ("АК-148/2026", "АК-149/2026")


def test_twenty_concurrent_issues_get_twenty_consecutive_numbers(app, books, make_done_item):
    """Do 20 acts issued at once, in real threads, get 1…20, each once?"""
    make_done_item(books)
    with app.app_context():
        client = db.session.get(Client, books.client.id)
        acting = db.session.get(User, books.accountant.id)
        ids = []
        for n in range(20):
            act = act_service.create_draft(client, period_from=date(2026, 11, 1), period_to=date(2026, 11, 30),
                                           item_ids=[], acting=acting)
            act_service.add_line(act, {"name": f"Работа {n}", "quantity": Decimal(1), "price": Decimal(100)},
                                 acting=acting)
            ids.append(act.id)
        db.session.commit()
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def issue(act_id: int) -> None:
        try:
            start.wait(timeout=60)
            with app.app_context():
                act_service.issue(db.session.get(Act, act_id), acting=db.session.get(User, books.accountant.id))
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=issue, args=(act_id,)) for act_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with app.app_context():
        numbers = sorted(db.session.scalars(sa.select(Act.seq).where(Act.id.in_(ids))))
    assert numbers == list(range(1, 21))


def _move(app, act_id: int, target: ActStatus, user_id: int, **values):
    with app.app_context():
        act = db.session.get(Act, act_id)
        workflow.change_status(act, target, acting=db.session.get(User, user_id), shown_status=act.status.value,
                               version=act.version, values=values)
        db.session.commit()


def test_signing_records_who_and_how_and_accepts_the_items(app, books, make_done_item, make_act):
    """Does «подписан» record the date, signer and ЭДО, accept the act's items, and set payment due?"""
    item_id = make_done_item(books)
    act_id = make_act(books, issue=True)
    _move(app, act_id, ActStatus.SIGNED, books.accountant.id, signed_on=date(2026, 11, 25),
          signed_by="Ковалёва А. С.", signed_how="edo")
    act = load_act(app, act_id)
    assert (act.status, act.signed_by, act.signed_how.value) == (ActStatus.SIGNED, "Ковалёва А. С.", "edo")
    assert act.due_on == date(2026, 12, 9)
    assert item_status(app, item_id) == ItemStatus.ACCEPTED


def test_cancelling_keeps_the_number_used_and_frees_the_items(app, books, make_done_item, make_act):
    """Is a cancelled act's number never given again, and are its items offered to a new act?"""
    make_done_item(books)
    first = make_act(books, issue=True)
    with app.app_context():
        act = db.session.get(Act, first)
        with pytest.raises(ServiceError, match="причина"):
            workflow.change_status(act, ActStatus.CANCELLED, acting=db.session.get(User, books.accountant.id),
                                   shown_status="issued", version=act.version, values={"cancel_reason": ""})
        db.session.rollback()
    _move(app, first, ActStatus.CANCELLED, books.accountant.id, cancel_reason="Ошибка в периоде")
    second = load_act(app, make_act(books, issue=True))
    assert load_act(app, first).cancel_reason == "Ошибка в периоде"
    assert second.number == "2026-0002" and len(second.lines) == 1


def test_payments_part_full_and_overpayment_refused(app, books, make_done_item, make_act, clock):
    """Is an act unpaid, then partly paid, overdue after its due date, paid — and is overpaying refused?"""
    make_done_item(books, hours=Decimal("2"))  # 7 000 + 22 % = 8 540
    act_id = make_act(books, issue=True)
    with app.app_context():
        act = db.session.get(Act, act_id)
        accountant = db.session.get(User, books.accountant.id)
        assert act.paid_state(date(2026, 11, 25)) == PaidState.UNPAID
        act_service.add_payment(act, paid_on=date(2026, 11, 25), amount=Decimal("3000"), acting=accountant)
        assert act.paid_state(date(2026, 11, 25)) == PaidState.PARTLY
        assert act.paid_state(act.due_on + timedelta(days=1)) == PaidState.OVERDUE
        with pytest.raises(ServiceError, match="Переплата"):
            act_service.add_payment(act, paid_on=date(2026, 11, 25), amount=Decimal("5540.01"), acting=accountant)
        act_service.add_payment(act, paid_on=date(2026, 11, 25), amount=Decimal("5540.00"), acting=accountant)
        assert act.paid_amount == act.total_amount == Decimal("8540.00")
        assert act.paid_state(date(2027, 1, 1)) == PaidState.PAID
        db.session.commit()


def test_a_manager_drafts_but_only_the_accountant_issues(app, books, make_done_item, make_act):
    """May the client's manager prepare a draft yet not issue it?"""
    make_done_item(books)
    with app.app_context():
        client = db.session.get(Client, books.client.id)
        manager = db.session.get(User, books.manager.id)
        act = act_service.create_draft(client, period_from=date(2026, 11, 1), period_to=date(2026, 11, 30),
                                       item_ids=None, acting=manager)
        with pytest.raises(ServiceError) as refused:
            act_service.issue(act, acting=manager)
        assert refused.value.status == 403


@pytest.mark.parametrize("number_format, problem", [
    ("{year}-{seq:04d}", None), ("А-{seq}", None), ("{year}", "{seq}"), ("{seq}-{client}", "Неизвестное поле"),
    ("{seq}}", "Фигурные скобки"),
])
def test_act_number_format_is_checked(number_format, problem):
    """Is a number format without {seq} or with unknown fields refused with a reason?"""
    found = act_service.check_act_number_format(number_format)
    assert (found is None) if problem is None else (problem in found)
