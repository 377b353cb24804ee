"""stages: the index on open deadlines holds only open stages, in (due_on, id) order, so that the
first overdue stages of «Мой день» are a walk that stops (PostgreSQL scanned every stage before)

Revision ID: 9b3d5f7a1c2e
Revises: 6e1f0b8c2d4a
Create Date: 2026-11-28 00:35:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b3d5f7a1c2e'
down_revision = '6e1f0b8c2d4a'
branch_labels = None
depends_on = None

OPEN = sa.text("done_at IS NULL")


def upgrade():
    with op.batch_alter_table('stages', schema=None) as batch_op:
        batch_op.drop_index('ix_stages_open_due')
        batch_op.create_index('ix_stages_open_due', ['due_on', 'id'], unique=False,
                              sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade():
    with op.batch_alter_table('stages', schema=None) as batch_op:
        batch_op.drop_index('ix_stages_open_due')
        batch_op.create_index('ix_stages_open_due', ['due_on', 'done_at'], unique=False)
