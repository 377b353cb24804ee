"""clients: the index on the day a call is due also holds the status, manager and the overdue and
critical days, so the admin's «Мой день» counts its table from the index alone

Revision ID: c4d8e2f6a1b3
Revises: b7e3c9d1f5a2
Create Date: 2026-11-29 12:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4d8e2f6a1b3'
down_revision = 'b7e3c9d1f5a2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index('ix_clients_due_cadence', ['due_on', 'status', 'manager_id', 'overdue_on', 'critical_on'],
                              unique=False)
        batch_op.drop_index('ix_clients_due_on')


def downgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index('ix_clients_due_on', ['due_on'], unique=False)
        batch_op.drop_index('ix_clients_due_cadence')
