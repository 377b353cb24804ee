"""cache token for the assignable users: who may be given a backlog item, kept per process until
a user's name, role or activity changes

Revision ID: e7a3c5b9d1f2
Revises: d4f9b2a6c8e1
Create Date: 2026-11-28 23:45:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a3c5b9d1f2'
down_revision = 'd4f9b2a6c8e1'
branch_labels = None
depends_on = None

NAME = "assignable_users"
tokens = sa.table("cache_tokens", sa.column("name", sa.String), sa.column("token", sa.String))


def upgrade():
    op.bulk_insert(tokens, [{"name": NAME, "token": secrets.token_hex(16)}])


def downgrade():
    op.execute(tokens.delete().where(tokens.c.name == NAME))
