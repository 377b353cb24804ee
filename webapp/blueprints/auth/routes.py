from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from webapp import htmx
from webapp.blueprints.auth import bp
from webapp.blueprints.auth.forms import ChangePasswordForm, LoginForm
from webapp.extensions import db, limiter
from webapp.permissions import allow, public
from webapp.services import ServiceError
from webapp.services import directory
from webapp.services import users as user_service


def _login_limit() -> str:
    return current_app.config["LOGIN_FAILURE_LIMIT"]


def _account_key() -> str:
    return "account:" + request.form.get("email", "").strip().lower()[:254]


def _failed(response) -> bool:
    return response.status_code == 401


def _own_account_key() -> str:
    return f"user:{getattr(current_user, 'id', '')}"


def _wrong_current_password(response) -> bool:
    return g.get("wrong_current_password", False)


def _fresh_session() -> None:
    """Start a new session at login and logout: a CSRF token (or anything else) that was handed
    out, read or planted before does not carry over into the next one."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF's per-request copy of the signed token


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    # Browsers read «/\\host» and «/<tab>/host» as «//host»: no backslashes or control characters.
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in target) and not urlsplit(target).netloc):
        return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed, scope="login-address")
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed, key_func=_account_key,
               scope="login-account")
def login():
    """Log in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        refusal = None
        try:  # the directory or the local password, as LDAP_MODE says (services/directory.py)
            user = directory.authenticate(form.email.data, form.password.data, request.remote_addr or "")
        except directory.SignInRefused as error:
            user, refusal = None, error
        db.session.commit()
        if user is not None:
            _fresh_session()
            login_user(user)
            return htmx.redirect(_safe_next(request.args.get("next")), full_reload=True)
        form.password.errors = [refusal.message if refusal else
                                "Неверный e-mail или пароль, либо учётная запись отключена."]
        status = refusal.status if refusal else 401
    elif form.is_submitted():
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@allow()
def logout():
    """Log out everywhere: every session of this user ends."""
    user_service.logout(current_user)
    db.session.commit()
    _fresh_session()
    logout_user()
    flash("Вы вышли из AccountDesk.", "info")
    return htmx.redirect(url_for("auth.login"), full_reload=True)


@bp.route("/account", methods=["GET", "POST"])
@allow()
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_wrong_current_password,
               key_func=_own_account_key, scope="current-password")
def account():
    """Your account: who you are, and a new password."""
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user_service.change_own_password(current_user, form.current_password.data, form.password.data,
                                             request.remote_addr or "")
        except user_service.WrongPassword as error:
            form.current_password.errors = [error.message]
            db.session.commit()  # the audited failure; nothing else was changed
            g.wrong_current_password = True
            status = 422
        except ServiceError as error:
            getattr(form, error.field or "password").errors = [error.message]
            db.session.rollback()
            status = 422
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # this session goes on with the new token; others end
            flash("Пароль изменён. На других устройствах нужно войти заново.", "success")
            return htmx.redirect(url_for("auth.account"))
    elif form.is_submitted():
        status = 422
    return render_template("auth/account.html", form=form), status
