"""unique rules in the database: a client's ИНН + КПП, a user's e-mail regardless of case

The services check both before saving; these indexes make a race between two saves end in a
refusal (mapped to the same message by ``saving.unique_refusal``) instead of a duplicate.

Revision ID: b7d4e2a91c05
Revises: 8362fe79181a
Create Date: 2026-11-27 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d4e2a91c05'
down_revision = '8362fe79181a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('uq_clients_inn_kpp', 'clients', ['inn', 'kpp'], unique=True,
                    sqlite_where=sa.text("inn <> ''"), postgresql_where=sa.text("inn <> ''"))
    op.create_index('uq_users_lower_email', 'users', [sa.text('lower(email)')], unique=True)


def downgrade():
    op.drop_index('uq_users_lower_email', table_name='users')
    op.drop_index('uq_clients_inn_kpp', table_name='clients')
