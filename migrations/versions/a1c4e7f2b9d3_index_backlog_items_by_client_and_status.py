"""index backlog items by client and status: «Мой день» lists a manager's new requests and the
estimates waiting for approval from their few clients' rows instead of every item in that status

Revision ID: a1c4e7f2b9d3
Revises: f95f5e742c47
Create Date: 2026-11-27 21:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a1c4e7f2b9d3'
down_revision = 'f95f5e742c47'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('backlog_items', schema=None) as batch_op:
        batch_op.create_index('ix_backlog_items_client_status', ['client_id', 'status', 'received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('backlog_items', schema=None) as batch_op:
        batch_op.drop_index('ix_backlog_items_client_status')
