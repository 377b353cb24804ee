"""cache token for the budgets overview's ranking: every budget of a year by forecast over plan,
kept per process until a block's money or a month's spending changes

Revision ID: c3e8a1f5d7b9
Revises: 9b3d5f7a1c2e
Create Date: 2026-11-28 04:40:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3e8a1f5d7b9'
down_revision = '9b3d5f7a1c2e'
branch_labels = None
depends_on = None

NAME = "budget_ranking"
tokens = sa.table("cache_tokens", sa.column("name", sa.String), sa.column("token", sa.String))


def upgrade():
    op.bulk_insert(tokens, [{"name": NAME, "token": secrets.token_hex(16)}])


def downgrade():
    op.execute(tokens.delete().where(tokens.c.name == NAME))
