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

from flask import Flask, abort, current_app, has_request_context, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import formatting, htmx, permissions, querycount
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
    formatting.set_timezone(app.config["TIMEZONE"])

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    _configure_login(app)

    app.url_map.converters["int"] = _IdConverter  # before the routes: /clients/<int:…> stays in range
    from webapp.blueprints import register_blueprints
    register_blueprints(app)
    app.before_request(permissions.check_request)
    app.before_request(_refuse_nul_in_url)
    app.after_request(_security_headers)
    _register_error_pages(app)
    _register_template_helpers(app)

    from webapp import cli
    cli.register(app)
    if app.config.get("QUERY_COUNT_HEADER"):  # benchmarks: SQL statements per request in X-Query-Count
        querycount.install(app)
    logging.getLogger("accountdesk").setLevel(logging.INFO)
    return app


class _IdConverter(IntegerConverter):
    """``<int:…>`` with an upper bound: an id beyond the database's integers is a 404, not a 500
    (SQLite and PostgreSQL drivers refuse to bind such a number)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        from webapp.services import MAX_ID
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)


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
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 10}
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
        if current_user and current_user.is_authenticated:
            return current_user.id, current_user.full_name
        return None, "система"

    set_actor_provider(lambda: actor() if has_request_context() else (None, "система"))


def _refuse_nul_in_url():
    """A NUL byte in a query or path value would reach PostgreSQL as text and fail there (500);
    forms refuse control characters themselves (``BaseForm``)."""
    values = [*(v for vs in request.args.listvalues() for v in vs), *(request.view_args or {}).values()]
    if any(isinstance(value, str) and "\x00" in value for value in values):
        abort(400, "Адрес содержит недопустимые символы.")


def _security_headers(response):
    """Headers on every response: no inline code, no framing, no sniffing, no caching of pages."""
    config = current_app.config
    headers = response.headers
    headers.setdefault("Content-Security-Policy", config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), geolocation=(), microphone=(self)")
    if config.get("HSTS"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if current_user and getattr(current_user, "is_authenticated", False):
        headers.setdefault("Cache-Control", "no-store")
    return response


ERROR_TEXTS = {
    400: ("Неверный запрос", "Запрос не удалось обработать."),
    403: ("Доступ запрещён", "У вас нет прав на это действие или страницу."),
    404: ("Страница не найдена", "Такой страницы или записи нет, или она вам недоступна."),
    405: ("Метод не поддерживается", "Это действие так не выполняется."),
    409: ("Конфликт изменений", "Запись изменил другой пользователь. Обновите страницу и повторите."),
    413: ("Файл слишком большой", "Размер запроса превышает допустимый."),
    422: ("Данные не приняты", "Проверьте введённые значения."),
    429: ("Слишком много попыток", "Подождите минуту и попробуйте снова."),
    500: ("Внутренняя ошибка", "Что-то пошло не так. Мы уже записали ошибку в журнал; попробуйте ещё раз."),
}


def render_error(status: int, message: str | None = None):
    title, default = ERROR_TEXTS.get(status, ERROR_TEXTS[500 if status >= 500 else 400])
    return htmx.render("errors/error.html", block="alert", status=status,
                       code=status, title=title, message=message or default)


def _register_error_pages(app: Flask) -> None:
    from webapp.services import ServiceError, StaleVersion

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, "Форма устарела или отправлена не со страницы AccountDesk "
                                 "(нет проверочного токена). Обновите страницу и повторите.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code and error.code < 400:
            return error
        description = None if error.description == type(error).description else error.description
        return render_error(error.code or 500, description)

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        db.session.rollback()
        return render_error(error.status, error.message)

    @app.errorhandler(StaleDataError)
    def stale_data(error):
        db.session.rollback()
        return render_error(409, StaleVersion(None).message)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)


def _register_template_helpers(app: Flask) -> None:
    from webapp.models import Role

    app.jinja_env.filters.update(formatting.FILTERS)
    app.jinja_env.globals.update(Role=Role, plural=formatting.plural, today=formatting.today)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    _register_macros(app)

    @app.context_processor
    def navigation():
        from webapp.blueprints import nav_items
        return {"nav_items": nav_items(current_user) if current_user.is_authenticated else []}


class _Macro:
    """A macro of templates/_macros/, looked up at call time (so template reloads apply)."""

    def __init__(self, environment, template: str, name: str):
        self.environment, self.template, self.name = environment, template, name

    def __call__(self, *args, **kwargs):
        return getattr(self.environment.get_template(self.template).module, self.name)(*args, **kwargs)


def _register_macros(app: Flask) -> None:
    """Every macro in templates/_macros/ becomes a Jinja global.

    A block rendered alone for an htmx request (jinja2-fragments) does not run its template's
    top-level imports; globals are always there, so page and fragment use the same macros.
    """
    from jinja2 import nodes

    environment = app.jinja_env
    for name in sorted(environment.list_templates(filter_func=lambda n: n.startswith("_macros/"))):
        source, _, _ = environment.loader.get_source(environment, name)
        for macro in environment.parse(source).find_all(nodes.Macro):
            if macro.name.startswith("_"):
                continue
            if macro.name in environment.globals:
                raise RuntimeError(f"macro {macro.name} of {name} is defined twice")
            environment.globals[macro.name] = _Macro(environment, name, macro.name)
