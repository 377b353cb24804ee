"""cache token for the word counts of similar items: how many items use each word, kept per
process until an item's words change

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

NAME = "word_counts"
tokens = sa.table("cache_tokens", sa.column("name", sa.String), sa.column("token", sa.String))


def upgrade():
    op.bulk_insert(tokens, [{"name": NAME, "token": secrets.token_hex(16)}])


def downgrade():
    op.execute(tokens.delete().where(tokens.c.name == NAME))
