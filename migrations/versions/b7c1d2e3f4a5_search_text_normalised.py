"""search text normalised: ё = е, quotes and legal forms ignored, КПП and ОГРН searchable

Revision ID: b7c1d2e3f4a5
Revises: 05f46ad080d0
Create Date: 2026-11-27 15:10:00

Data only: every client's stored search text is rebuilt in the new form. The normalisation is copied
here as it stood (a migration must not change meaning when the application's code moves on).
"""
import re

from alembic import op
import sqlalchemy as sa


revision = 'b7c1d2e3f4a5'
down_revision = '05f46ad080d0'
branch_labels = None
depends_on = None

_QUOTES = re.compile(r"[«»\"'„“”‘’`]")
_LEGAL_FORMS = re.compile(
    r"(?<!\w)(?:ооо|оао|зао|пао|нао|ао|ип|общество с ограниченной ответственностью"
    r"|(?:публичное |непубличное |закрытое |открытое )?акционерное общество"
    r"|индивидуальный предприниматель)(?!\w)")

clients = sa.table("clients", sa.column("id", sa.Integer), sa.column("short_name", sa.String),
                   sa.column("legal_name", sa.String), sa.column("inn", sa.String), sa.column("kpp", sa.String),
                   sa.column("ogrn", sa.String), sa.column("contract_number", sa.String),
                   sa.column("search_text", sa.Text))
contacts = sa.table("contacts", sa.column("client_id", sa.Integer), sa.column("full_name", sa.String),
                    sa.column("email", sa.String), sa.column("phone_digits", sa.String),
                    sa.column("messenger", sa.String), sa.column("is_decision_maker", sa.Boolean))


def _key(text):
    text = _QUOTES.sub(" ", (text or "").lower().replace("ё", "е"))
    return " ".join(_LEGAL_FORMS.sub(" ", text).split())


def upgrade():
    bind = op.get_bind()
    people = {}
    for row in bind.execute(sa.select(contacts).order_by(contacts.c.client_id, contacts.c.is_decision_maker.desc(),
                                                         contacts.c.full_name)):
        people.setdefault(row.client_id, []).extend([row.full_name, row.email, row.phone_digits, row.messenger])
    rows = bind.execute(sa.select(clients.c.id, clients.c.short_name, clients.c.legal_name, clients.c.inn,
                                  clients.c.kpp, clients.c.ogrn, clients.c.contract_number)).all()
    for row in rows:
        parts = [row.short_name, row.legal_name, row.inn, row.kpp, row.ogrn, row.contract_number,
                 *people.get(row.id, [])]
        bind.execute(clients.update().where(clients.c.id == row.id)
                     .values(search_text=" ".join(_key(p) for p in parts if p)))


def downgrade():
    pass  # the old form was a subset: searches keep working on the normalised text
