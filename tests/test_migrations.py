"""The migrations and the models describe the same schema, and the migrations run both ways."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from tests.conftest import app_config
from webapp import create_app
from webapp.extensions import db


def schema_differences(app) -> list:
    """What `flask db migrate` would write now: empty when every model change has its migration."""
    options = {key: value for key, value in app.extensions["migrate"].configure_args.items()
               if key in ("compare_type", "compare_server_default", "render_as_batch")}
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        return compare_metadata(context, db.metadata)


def test_models_match_the_migrated_database(app):
    """Does every model change come with its migration (autogenerate finds nothing to do)?"""
    assert schema_differences(app) == []


def test_migrations_have_a_single_head(routing_app):
    """Is there one line of migrations, not two heads that `flask db upgrade` cannot choose from?"""
    with routing_app.app_context():
        script = ScriptDirectory.from_config(routing_app.extensions["migrate"].migrate.get_config())
        assert len(script.get_heads()) == 1


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    """Can the schema be taken down to nothing and built up again (on a throwaway SQLite file)?"""
    app = create_app(app_config(f"sqlite:///{tmp_path / 'throwaway.sqlite3'}", tmp_path))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(db.metadata.tables) <= set(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert schema_differences(app) == []
