"""cache token for the week's hours per user: the workload heading of the all-clients backlog, kept
per process until time is logged, changed or deleted

Revision ID: a5c7e9b1d3f4
Revises: f2b8d4e6a0c3
Create Date: 2026-11-29 00:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5c7e9b1d3f4'
down_revision = 'f2b8d4e6a0c3'
branch_labels = None
depends_on = None

NAME = "week_hours"
tokens = sa.table("cache_tokens", sa.column("name", sa.String), sa.column("token", sa.String))


def upgrade():
    op.bulk_insert(tokens, [{"name": NAME, "token": secrets.token_hex(16)}])


def downgrade():
    op.execute(tokens.delete().where(tokens.c.name == NAME))
