"""Generated data for benchmarks: large, reproducible, fast to insert.

Bulk inserts bypass the audit on purpose: this is load for measuring pages, not history.
"""

import random

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from webapp.extensions import db
from webapp.models import AuditEvent, Role, User
from webapp.models.types import utcnow

FIRST = ["Анна", "Иван", "Ольга", "Сергей", "Елена", "Дмитрий", "Наталья", "Алексей", "Мария", "Павел"]
LAST = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров"]

BENCH_PASSWORD = "bench-password"


def generate(*, clients: int, random_seed: int = 1) -> dict[str, int]:
    rng = random.Random(random_seed)
    password_hash = generate_password_hash(BENCH_PASSWORD, method="pbkdf2:sha256:1000")
    existing = db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0
    managers = max(clients // 40, 2)
    users = []
    for i in range(managers + 5):
        role = Role.MANAGER if i < managers else list(Role)[i % 5]
        users.append(dict(email=f"bench{existing + i}@bench.local", role=role.value,
                          full_name=f"{rng.choice(LAST)} {rng.choice(FIRST)} {i}", position="Аккаунт-менеджер",
                          phone="", active=True, password_hash=password_hash, session_token=f"t{existing + i}",
                          created_at=utcnow(), version=1))
    db.session.execute(sa.insert(User.__table__), users)
    events = [dict(created_at=utcnow(), actor_id=None, actor_name="bench", entity_type="users",
                   entity_id=i, entity_label="bench", action="update", changes={"position": ["a", "b"]})
              for i in range(clients * 5)]
    db.session.execute(sa.insert(AuditEvent.__table__), events)
    return {"users": len(users), "audit_events": len(events)}
