"""AccountDesk: the intranet workplace of account managers.

``create_app`` reads the configuration (defaults → instance/config.py → ACCOUNTDESK_* variables),
binds the extensions, registers the blueprints, the request gate, the error pages and the CLI.
"""

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import backup, errors, formatting, permissions, querycount, security, templating
from webapp.extensions import csrf, db, limiter, login_manager, migrate


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,  # ACCOUNTDESK_INSTANCE_PATH: another folder (absolute)
                instance_path=os.environ.get("ACCOUNTDESK_INSTANCE_PATH") or None)
    app.config.from_object("webapp.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ACCOUNTDESK")
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _configure_secret_key(app)
    _configure_database(app)
    if app.config.get("TRUSTED_PROXIES"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["TRUSTED_PROXIES"]),
                                x_proto=1, x_host=1)
    app.config["UPLOAD_FOLDER"] = app.config.get("UPLOAD_FOLDER") or os.path.join(app.instance_path, "uploads")
    app.config["DOCUMENT_TEMPLATES"] = Path(app.config.get("DOCUMENT_TEMPLATES")
                                            or os.path.join(app.instance_path, "document_templates"))
    backup.create_owner_only_storage(app)
    formatting.set_timezone(app.config["TIMEZONE"])

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    _configure_login(app)

    security.install_converters(app)
    from webapp.blueprints import register_blueprints
    register_blueprints(app)
    app.before_request(permissions.check_request)
    security.install(app)
    errors.register(app)
    templating.register(app)

    from webapp import cli
    cli.register(app)
    if app.config.get("QUERY_COUNT_HEADER"):  # benchmarks: SQL statements per request in X-Query-Count
        querycount.install(app)
    logging.getLogger("accountdesk").setLevel(logging.INFO)
    return app


def _configure_secret_key(app: Flask) -> None:
    """Never a constant in the code: generated once into instance/secret_key (mode 600)."""
    if app.config.get("SECRET_KEY"):
        return
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    app.config["SECRET_KEY"] = path.read_text().strip()


def _configure_database(app: Flask) -> None:
    url = app.config.get("DATABASE_URL") or "sqlite:///" + os.path.join(app.instance_path, "accountdesk.sqlite3")
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    # PostgreSQL: no JIT compilation and no parallel workers. Our queries are short; on the budgets
    # overview the JIT spent 41 ms compiling a query that then ran in 36, and a parallel worker took
    # 10 ms to start for the ten overdue stages of «Мой день» that one process reads in 3 (settings
    # of the server stay the server's).
    options: dict[str, Any] = {"pool_pre_ping": True,
                               "connect_args": {"options": "-c jit=off -c max_parallel_workers_per_gather=0"}}
    if url.startswith("sqlite"):  # a file: no server that could drop the connection, nothing to ping
        options = {"connect_args": {"timeout": 10}}
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", options)


def _configure_login(app: Flask) -> None:
    from webapp.models import User
    from webapp.models.audit import set_actor_provider

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Войдите, чтобы продолжить."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        """The cookie holds ``id:session_token``; a rotated token refuses an old cookie."""
        ident, _, token = user_id.partition(":")
        if not ident.isdigit() or not token:
            return None
        user = db.session.get(User, int(ident))
        if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
            return None
        return user

    def actor():
        if outsider := g.get("outside_actor"):  # someone without an account, answering by a link
            return None, outsider
        if current_user and current_user.is_authenticated:
            return current_user.id, current_user.full_name
        return None, "система"

    set_actor_provider(lambda: actor() if has_request_context() else (None, "система"))
