"""cache tokens: per-process copies of the managers, company profile and standard

Revision ID: 5d2c7a41b9e0
Revises: b7c1d2e3f4a5
Create Date: 2026-11-27 15:05:00.000000

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2c7a41b9e0'
down_revision = 'b7c1d2e3f4a5'
branch_labels = None
depends_on = None

# The values webapp.cache keeps (a database without its row is never cached).
NAMES = ("managers", "company_profile", "regulation_standard")


def upgrade():
    table = op.create_table('cache_tokens',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_tokens'))
    )
    op.bulk_insert(table, [{"name": name, "token": secrets.token_hex(16)} for name in NAMES])


def downgrade():
    op.drop_table('cache_tokens')
