"""acts: an index on (status, acceptance date, id), for the acts awaiting signature past their
acceptance period, oldest first («Мой день»: every issued act was sorted to show ten)

Revision ID: f2b8d4e6a0c3
Revises: d4f9b2a6c8e1
Create Date: 2026-11-28 23:55:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f2b8d4e6a0c3'
down_revision = 'd4f9b2a6c8e1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('acts', schema=None) as batch_op:
        batch_op.create_index('ix_acts_status_accept', ['status', 'accept_by', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('acts', schema=None) as batch_op:
        batch_op.drop_index('ix_acts_status_accept')
