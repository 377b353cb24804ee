"""A client with its team and decision makers, and meetings planned for it through the services."""

from dataclasses import dataclass
from datetime import datetime

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Client, Meeting, Role, User
from webapp.services import meetings as meeting_service

BOSS = {"full_name": "Ковалёва Анна Сергеевна", "position": "Генеральный директор", "is_decision_maker": True,
        "decides_cost": True, "email": "kovaleva@romashka.test"}
ACCOUNTANT = {"full_name": "Ильина Ольга Сергеевна", "position": "Главный бухгалтер", "is_decision_maker": True,
              "email": "ilina@romashka.test"}


@dataclass
class Team:
    manager: User
    deputy: User
    client: object  # the ``ClientRecord`` of conftest


@pytest.fixture
def team(make_user, make_client) -> Team:
    """A manager (with a deputy) leading «Ромашка», whose two decision makers have e-mails."""
    manager = make_user(Role.MANAGER, full_name="Петров Алексей Николаевич", position="Аккаунт-менеджер",
                        email="petrov@company.test")
    deputy = make_user(Role.MANAGER, full_name="Смирнова Ирина Павловна", position="Аккаунт-менеджер")
    record = make_client(manager, short_name="Ромашка", legal_name="ООО «Ромашка»", deputy=deputy,
                         contacts=[BOSS, ACCOUNTANT])
    return Team(manager, deputy, record)


@pytest.fixture
def plan(app):
    """``plan(team, starts_at=None, **kw)`` → the id of a meeting planned by the team's manager."""

    def make(team: Team, starts_at: datetime | None = None, **kwargs) -> int:
        with app.app_context():
            acting = db.session.get(User, team.manager.id)
            meeting = meeting_service.plan_meeting(db.session.get(Client, team.client.id), acting=acting,
                                                   starts_at=starts_at, **kwargs)
            db.session.commit()
            return meeting.id

    return make


def load_meeting(meeting_id: int) -> Meeting:
    """In an app context: the meeting, fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(sa.select(Meeting).where(Meeting.id == meeting_id))
