"""cache token for the all-clients backlog's workload: every open item grouped by assignee and
status, kept per process until an item arrives, goes or changes status, assignee or estimate

Revision ID: 6e1f0b8c2d4a
Revises: a1c4e7f2b9d3
Create Date: 2026-11-27 23:50:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6e1f0b8c2d4a'
down_revision = 'a1c4e7f2b9d3'
branch_labels = None
depends_on = None

NAME = "backlog_open_by_assignee"
tokens = sa.table("cache_tokens", sa.column("name", sa.String), sa.column("token", sa.String))


def upgrade():
    op.bulk_insert(tokens, [{"name": NAME, "token": secrets.token_hex(16)}])


def downgrade():
    op.execute(tokens.delete().where(tokens.c.name == NAME))
