"""Error pages in Russian: a whole page for a browser, the alert block alone for htmx."""

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from webapp import htmx
from webapp.extensions import db

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

CSRF_MESSAGE = ("Форма устарела или отправлена не со страницы AccountDesk (нет проверочного токена). "
                "Обновите страницу и повторите.")


def render_error(status: int, message: str | None = None):
    title, default = ERROR_TEXTS.get(status, ERROR_TEXTS[500 if status >= 500 else 400])
    return htmx.render("errors/error.html", block="alert", status=status,
                       code=status, title=title, message=message or default)


def register(app: Flask) -> None:
    from webapp.documents.render import DocumentTemplateError
    from webapp import saving
    from webapp.services import ServiceError, StaleVersion

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, CSRF_MESSAGE)

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

    @app.errorhandler(DocumentTemplateError)
    def document_template_error(error: DocumentTemplateError):
        # a template that passed its upload check can still fail on real data, or be put in place
        # by hand: the person printing gets the reason and whom to ask, the log gets the details
        db.session.rollback()
        current_app.logger.error("document template refused on %s %s: %s", request.method, request.path,
                                 error)
        return render_error(422, f"Документ не сформирован, шаблон документа неисправен: {error} "
                                 "Сообщите администратору: он может загрузить исправленный шаблон "
                                 "или вернуть стандартный в разделе «Шаблоны документов».")

    @app.errorhandler(StaleDataError)
    def stale_data(error):
        db.session.rollback()
        return render_error(409, StaleVersion(None).message)

    @app.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError):
        """A unique rule that a race broke past the service's check, for routes that commit
        themselves (``submit`` answers it on the form)."""
        db.session.rollback()
        if (refusal := saving.unique_refusal(error)) is None:
            return unexpected(error)
        return render_error(refusal.status, refusal.message)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
