"""acts of completed work, their lines, payments and the yearly number counter

Revision ID: 263b7b6af1b8
Revises: 04a93a5f512e
Create Date: 2026-11-27 17:35:04.935974

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.types


# revision identifiers, used by Alembic.
revision = '263b7b6af1b8'
down_revision = "04a93a5f512e"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('act_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_act_counters'))
    )
    op.create_table('acts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'issued', 'signed', 'cancelled', name='act_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('act_date', sa.Date(), nullable=True),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('vat_mode', sa.Enum('on_top', 'included', 'none', name='act_vat_mode', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('vat_rate', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('parties', sa.JSON(), nullable=True),
    sa.Column('hours_detail', sa.JSON(), nullable=True),
    sa.Column('net_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('vat_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('accept_by', sa.Date(), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('signed_by', sa.String(length=200), nullable=False),
    sa.Column('signed_how', sa.Enum('original', 'edo', name='act_signed_how', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('reminded_at', webapp.models.types.UTCDateTime(), nullable=True),
    sa.Column('issued_at', webapp.models.types.UTCDateTime(), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', webapp.models.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_acts_client_id_clients'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_acts_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_acts_issued_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acts')),
    sa.UniqueConstraint('year', 'seq', name=op.f('uq_acts_year_seq'))
    )
    with op.batch_alter_table('acts', schema=None) as batch_op:
        batch_op.create_index('ix_acts_client_date', ['client_id', 'act_date'], unique=False)
        batch_op.create_index('ix_acts_date_id', ['act_date', 'id'], unique=False)
        batch_op.create_index('ix_acts_status_due', ['status', 'due_on'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('act_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', webapp.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['act_id'], ['acts.id'], name=op.f('fk_payments_act_id_acts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_payments_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_act_id'), ['act_id'], unique=False)

    op.create_table('act_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('act_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=1000), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('price', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['act_id'], ['acts.id'], name=op.f('fk_act_lines_act_id_acts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['backlog_items.id'], name=op.f('fk_act_lines_item_id_backlog_items'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_act_lines'))
    )
    with op.batch_alter_table('act_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_act_lines_act_id'), ['act_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_act_lines_item_id'), ['item_id'], unique=False)

    with op.batch_alter_table('company_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('act_number_start', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('invoice_qr', sa.Boolean(), nullable=False, server_default=sa.true()))



def downgrade():
    with op.batch_alter_table('company_profile', schema=None) as batch_op:
        batch_op.drop_column('invoice_qr')
        batch_op.drop_column('act_number_start')

    with op.batch_alter_table('act_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_act_lines_item_id'))
        batch_op.drop_index(batch_op.f('ix_act_lines_act_id'))

    op.drop_table('act_lines')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_act_id'))

    op.drop_table('payments')
    with op.batch_alter_table('acts', schema=None) as batch_op:
        batch_op.drop_index('ix_acts_status_due')
        batch_op.drop_index('ix_acts_date_id')
        batch_op.drop_index('ix_acts_client_date')

    op.drop_table('acts')
    op.drop_table('act_counters')
