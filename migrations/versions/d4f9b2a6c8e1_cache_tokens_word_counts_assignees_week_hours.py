"""cache tokens for three per-process copies: how many items use each word (similar items), who may
be given an item, the week's hours per user (the all-clients backlog's workload)

Revision ID: d4f9b2a6c8e1
Revises: c3e8a1f5d7b9
Create Date: 2026-11-28 23:30:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f9b2a6c8e1'
down_revision = 'c3e8a1f5d7b9'
branch_labels = None
depends_on = None

NAMES = ("word_counts", "assignable_users", "week_hours")
tokens = sa.table("cache_tokens", sa.column("name", sa.String), sa.column("token", sa.String))


def upgrade():
    op.bulk_insert(tokens, [{"name": name, "token": secrets.token_hex(16)} for name in NAMES])


def downgrade():
    op.execute(tokens.delete().where(tokens.c.name.in_(NAMES)))
