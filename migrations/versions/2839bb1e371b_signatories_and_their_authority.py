"""signatories and their authority for both parties, client phone and e-mail, edition numbering

Revision ID: 2839bb1e371b
Revises: f6fc67fe9409
Create Date: 2026-11-27 14:30:22.989610

On SQLite a new foreign key makes batch mode recreate ``clients``. With foreign keys on, dropping
the old table would cascade-delete every contact and touchpoint, so they are switched off for the
duration (the pragma works only outside a transaction: the revision refuses to run inside one).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2839bb1e371b'
down_revision = 'f6fc67fe9409'
branch_labels = None
depends_on = None

AUTHORITY_CHECK = "signatory_authority IN ('charter', 'attorney', 'sole_trader')"


def _foreign_keys(enabled: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    op.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
    if not enabled and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("SQLite keeps foreign keys on inside a transaction; recreating «clients» "
                           "would delete its contacts. Run this migration on its own connection.")


def _signatory_columns() -> list[sa.Column]:
    return [
        sa.Column('signatory_position_genitive', sa.String(length=200), nullable=False, server_default=''),
        sa.Column('signatory_authority', sa.String(length=20), nullable=False, server_default='charter'),
        sa.Column('signatory_attorney_number', sa.String(length=60), nullable=False, server_default=''),
        sa.Column('signatory_attorney_date', sa.Date(), nullable=True),
        sa.Column('registered_on', sa.Date(), nullable=True),
    ]


def upgrade():
    _foreign_keys(False)
    with op.batch_alter_table('clients', schema=None) as batch_op:
        for column in _signatory_columns():
            batch_op.add_column(column)
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('regulation_appendix', sa.String(length=20), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('signatory_contact_id', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_clients_signatory_authority'), AUTHORITY_CHECK)
        batch_op.create_foreign_key(batch_op.f('fk_clients_signatory_contact_id_contacts'), 'contacts',
                                    ['signatory_contact_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('company_profile', schema=None) as batch_op:
        for column in _signatory_columns():
            batch_op.add_column(column)
        batch_op.add_column(sa.Column('seal_mark', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('regulation_number_format', sa.String(length=60), nullable=False,
                                      server_default='РВ-{client}-{edition}'))
        batch_op.create_check_constraint(batch_op.f('ck_company_profile_signatory_authority'), AUTHORITY_CHECK)
    _foreign_keys(True)
    # A basis typed as text before («доверенности № 5 от …») becomes the power-of-attorney kind.
    op.execute("UPDATE company_profile SET signatory_authority = 'attorney' "
               "WHERE lower(signatory_basis) LIKE '%доверен%'")


def downgrade():
    _foreign_keys(False)
    names = ['signatory_position_genitive', 'signatory_authority', 'signatory_attorney_number',
             'signatory_attorney_date', 'registered_on']
    with op.batch_alter_table('company_profile', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_company_profile_signatory_authority'), type_='check')
        for name in names + ['seal_mark', 'regulation_number_format']:
            batch_op.drop_column(name)
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_clients_signatory_contact_id_contacts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('ck_clients_signatory_authority'), type_='check')
        for name in names + ['signatory_contact_id', 'phone', 'email', 'regulation_appendix']:
            batch_op.drop_column(name)
    _foreign_keys(True)
