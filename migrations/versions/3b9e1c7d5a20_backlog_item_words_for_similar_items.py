"""backlog: the stored word set of each item, for «similar past items» while estimating; a covering
index for the all-clients overview

Revision ID: 3b9e1c7d5a20
Revises: fad421b2d1fd
Create Date: 2026-11-27 17:45:00

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b9e1c7d5a20'
down_revision = 'fad421b2d1fd'
branch_labels = None
depends_on = None

_WORD = re.compile(r"[0-9a-zа-я]+")
_STOP = frozenset("""чтобы нужно надо нужна нужен нужны этот этого этой было будет если также может можно
после через когда просим прошу пожалуйста сделать здравствуйте спасибо очень который которые которая сейчас
должно должен должна должны клиент клиента задача задачи есть быть всех весь была были тоже только with that
this from have""".split())


def _words(*texts):
    """As ``models.backlog.item_words`` at the time of this revision (a migration never imports it)."""
    found = {}
    for text in texts:
        for word in _WORD.findall((text or "").lower().replace("ё", "е")):
            if len(word) < 4 or word.isdigit() or word in _STOP:
                continue
            found.setdefault(word[:6])
            if len(found) >= 60:
                return list(found)
    return list(found)


def upgrade():
    words = op.create_table('backlog_item_words',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('word', sa.String(length=6), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['backlog_items.id'], name=op.f('fk_backlog_item_words_item_id_backlog_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'word', name=op.f('pk_backlog_item_words'))
    )
    with op.batch_alter_table('backlog_item_words', schema=None) as batch_op:
        batch_op.create_index('ix_backlog_item_words_word', ['word', 'item_id'], unique=False)
    with op.batch_alter_table('backlog_items', schema=None) as batch_op:
        batch_op.create_index('ix_backlog_items_status_assignee_estimate', ['status', 'assignee_id', 'estimate_hours'], unique=False)
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, title, request_text, goal, current_behaviour, required_behaviour, acceptance_criteria "
        "FROM backlog_items")).all()
    batch = []
    for row in rows:
        batch += [{"item_id": row[0], "word": w} for w in _words(*row[1:])]
        if len(batch) > 5000:
            op.bulk_insert(words, batch)
            batch = []
    if batch:
        op.bulk_insert(words, batch)


def downgrade():
    with op.batch_alter_table('backlog_items', schema=None) as batch_op:
        batch_op.drop_index('ix_backlog_items_status_assignee_estimate')
    with op.batch_alter_table('backlog_item_words', schema=None) as batch_op:
        batch_op.drop_index('ix_backlog_item_words_word')
    op.drop_table('backlog_item_words')
