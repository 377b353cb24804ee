"""The item's spec (ТЗ) as a DOCX from its page: what the client signs, built from the item."""

from decimal import Decimal

import pytest

from tests.backlog_fixtures import DECISION_MAKER
from tests.documents_helpers import all_text, read_docx
from webapp.extensions import db
from webapp.models import BacklogItem, Role, User
from webapp.saving import Edit
from webapp.services import backlog as backlog_service

INTERNAL_NOTE = "Заложили запас на кривой обмен, клиенту не говорить"


@pytest.fixture
def spec_item(app, make_user, make_client, make_item):
    """An item of «Ромашка» with its spec written and an estimate carrying an internal note."""
    manager = make_user(Role.MANAGER)
    romashka = make_client(manager, short_name="Ромашка", legal_name="ООО «Ромашка»", contacts=[DECISION_MAKER])
    item = make_item(romashka, manager, title="Выгрузка остатков на сайт")
    with app.app_context():
        acting = db.session.get(User, manager.id)
        stored = db.session.get(BacklogItem, item.id)
        backlog_service.update_item(stored, Edit({
            "goal": "Покупатели видят актуальные остатки.", "current_behaviour": "Выгрузка раз в неделю вручную.",
            "required_behaviour": "Выгрузка каждый час.", "acceptance_criteria": "Остаток на сайте меняется за час.",
        }, stored.version), acting=acting)
        db.session.flush()  # before the estimate's lock re-reads the row
        backlog_service.estimate_item(stored, hours=Decimal("16"), rate=Decimal("3000"), note=INTERNAL_NOTE,
                                      acting=acting)
        db.session.commit()
    return manager, item


def test_the_spec_downloads_with_the_items_text_and_both_parties_but_no_internal_note(app, client, spec_item):
    """Does «Скачать ТЗ (DOCX)» give a DOCX with the spec, the estimate and both parties, and no internal note?"""
    manager, item = spec_item
    client.login(manager)
    page = client.get(f"/backlog/{item.id}").get_data(as_text=True)
    assert f'href="/backlog/{item.id}/spec.docx"' in page and "Скачать ТЗ (DOCX)" in page
    response = client.get(f"/backlog/{item.id}/spec.docx")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["Content-Disposition"]
    text = all_text(read_docx(response.data)).replace("\u00a0", " ")
    for expected in ("ROMASHKA-1", "Выгрузка остатков на сайт", "Покупатели видят актуальные остатки.",
                     "Выгрузка каждый час.", "Остаток на сайте меняется за час.", "48 000", "Ромашка",
                     "Исполнитель", "Заказчик"):
        assert expected in text, expected
    assert INTERNAL_NOTE not in text

