"""stages: a partial index on (item_id, due_on) of open stages, for the overdue stages of a
manager's items («Мой день»'s badge probed every stage of every item for two columns)

Revision ID: b7e3c9d1f5a2
Revises: f2b8d4e6a0c3
Create Date: 2026-11-29 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e3c9d1f5a2'
down_revision = 'f2b8d4e6a0c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stages', schema=None) as batch_op:
        batch_op.create_index('ix_stages_item_open', ['item_id', 'due_on'], unique=False,
                              sqlite_where=sa.text('done_at IS NULL'), postgresql_where=sa.text('done_at IS NULL'))


def downgrade():
    with op.batch_alter_table('stages', schema=None) as batch_op:
        batch_op.drop_index('ix_stages_item_open')
