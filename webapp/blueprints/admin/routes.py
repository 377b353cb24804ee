from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import abort, current_app, flash, request, send_file, url_for
from flask_login import current_user

from webapp import htmx, saving
from webapp.blueprints.admin import bp
from webapp.blueprints.admin.forms import (CompanyForm, NewUserForm, ResetPasswordForm, TemplateUploadForm,
                                           UserForm)
from webapp.extensions import db
from webapp.documents.render import content_disposition, template_names, template_path
from webapp.forms import choices
from webapp.formatting import day_start
from webapp.models import AuditEvent, CompanyProfile, Role, User
from webapp.models import audit as audit_log
from webapp.pagination import paginate
from webapp.permissions import allow
from webapp.saving import submit
from webapp.services import access, as_id
from webapp.services import company as company_service
from webapp.services import templates as template_service
from webapp.services import users as user_service

admin_only = allow(*access.ADMINS)


@bp.get("/users")
@admin_only
def users():
    """Staff accounts, filtered by role, activity and a search string."""
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role", "")
    state = request.args.get("state", "active")
    query = sa.select(User).order_by(User.active.desc(), User.full_name)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(sa.or_(sa.func.lower(User.full_name).like(like), User.email.like(like)))
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    if state == "active":
        query = query.where(User.active.is_(True))
    elif state == "inactive":
        query = query.where(User.active.is_(False))
    page = paginate(query, page=as_id(request.args.get("page")) or 1, per_page=current_app.config["PER_PAGE"])
    return htmx.render("admin/users.html", block="results", page=page, q=q, role=role, state=state, roles=list(Role))


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def new_user():
    """Create a staff account."""
    form = NewUserForm()
    outcome = submit(form, lambda: user_service.create_user(
        email=form.email.data, full_name=form.full_name.data, role=Role(form.role.data),
        password=form.password.data, position=form.position.data or "", phone=form.phone.data or ""))
    if outcome.saved:
        flash(f"Пользователь «{outcome.result.full_name}» создан.", "success")
        return htmx.redirect(url_for("admin.users"))
    return htmx.render("admin/user_new.html", form=form, status=outcome.status)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def edit_user(user_id: int):
    """Edit an account: name, role, activity (deactivating ends its sessions)."""
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user, data={"role": user.role.value})
    if request.method == "GET":
        saving.arm(form, user)
    outcome = submit(form, lambda: user_service.update_user(user, saving.edit_of(form), acting=current_user))
    if outcome.saved:
        flash("Изменения сохранены.", "success")
        return htmx.redirect(url_for("admin.edit_user", user_id=user.id))
    return htmx.render("admin/user_edit.html", user=user, form=form, password_form=ResetPasswordForm(),
                       conflict=outcome.conflict, status=outcome.status)


@bp.post("/users/<int:user_id>/password")
@admin_only
def reset_password(user_id: int):
    """Set a new password for an account; its sessions end."""
    user = db.get_or_404(User, user_id)
    password_form = ResetPasswordForm()
    outcome = submit(password_form, lambda: user_service.reset_password(user, password_form.password.data))
    if outcome.saved:
        flash(f"Пароль пользователя «{user.full_name}» изменён, его сеансы завершены.", "success")
        return htmx.redirect(url_for("admin.edit_user", user_id=user.id))
    form = UserForm(obj=user, data={"role": user.role.value}, formdata=None)
    return htmx.render("admin/user_edit.html", user=user, form=form, password_form=password_form,
                       conflict=[], status=outcome.status)


@bp.route("/company", methods=["GET", "POST"])
@admin_only
def company():
    """Our requisites, signatory, VAT and default hourly rate."""
    profile = CompanyProfile.get()
    form = CompanyForm(obj=profile, data={"vat_mode": profile.vat_mode.value if profile.vat_mode else "on_top"})
    if request.method == "GET" and profile.id is not None:
        saving.arm(form, profile)
    outcome = submit(form, lambda: company_service.update_company(profile, saving.edit_of(form)))
    if outcome.saved:
        flash("Профиль компании сохранён.", "success")
        return htmx.redirect(url_for("admin.company"))
    return htmx.render("admin/company.html", form=form, profile=profile, conflict=outcome.conflict,
                       status=outcome.status)


TEMPLATE_TITLES = {"regulation.docx": "Регламент взаимодействия"}


@bp.route("/templates", methods=["GET", "POST"])
@admin_only
def templates():
    """Document templates: download the current one, upload an edited one (checked by a test render)."""
    override_dir = current_app.config["DOCUMENT_TEMPLATES"]
    form = TemplateUploadForm()
    form.name.choices = choices((name, TEMPLATE_TITLES.get(name, name)) for name in template_names())
    outcome = submit(form, lambda: template_service.install_template(form.name.data, form.file.data.read(),
                                                                     override_dir))
    if outcome.saved:
        flash("Шаблон проверен и загружен: документы печатаются по нему.", "success")
        return htmx.redirect(url_for("admin.templates"))
    return htmx.render("admin/templates.html", form=form, titles=TEMPLATE_TITLES,
                       items=template_service.list_templates(override_dir), status=outcome.status)


@bp.get("/templates/<name>")
@admin_only
def template_file(name: str):
    """The template in use (the installation's or the shipped one), to edit in Word."""
    if name not in template_names():
        abort(404)
    path = template_path(name, current_app.config["DOCUMENT_TEMPLATES"])
    response = send_file(path, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


@bp.post("/templates/<name>/reset")
@admin_only
def reset_template(name: str):
    """Go back to the shipped template."""
    template_service.remove_override(name, current_app.config["DOCUMENT_TEMPLATES"])
    db.session.commit()
    flash("Восстановлен стандартный шаблон.", "success")
    return htmx.redirect(url_for("admin.templates"))


@bp.get("/audit")
@admin_only
def audit():
    """The audit log: who changed what and when, filtered by actor, record, action and dates."""
    args = request.args
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    if (actor := as_id(args.get("actor"))) is not None:
        query = query.where(AuditEvent.actor_id == actor)
    if entity_type := args.get("entity_type", "")[:60]:
        query = query.where(AuditEvent.entity_type == entity_type)
    if (entity_id := as_id(args.get("entity_id"))) is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    actions = audit_log.all_actions()
    if (action := args.get("action", "")) in actions:
        query = query.where(AuditEvent.action == action)
    elif args.get("signins") != "1":  # sign-ins would drown the changes: shown when asked
        query = query.where(AuditEvent.action.not_in(audit_log.SIGN_IN_ACTIONS))
    date_from, date_to = _parse_date(args.get("from")), _parse_date(args.get("to"))
    if date_from:
        query = query.where(AuditEvent.created_at >= day_start(date_from))
    if date_to:
        query = query.where(AuditEvent.created_at < day_start(date_to) + timedelta(days=1))
    page = paginate(query, page=as_id(request.args.get("page")) or 1, per_page=current_app.config["PER_PAGE"])
    actors = db.session.scalars(sa.select(User).order_by(User.full_name)).all()
    entity_types = db.session.scalars(sa.select(AuditEvent.entity_type).distinct().order_by(AuditEvent.entity_type)).all()
    return htmx.render("admin/audit.html", block="results", page=page, actors=actors,
                       entity_types=entity_types, actions=actions, filters=args, entity=audit_log.entity)


def _parse_date(value: str | None):
    try:
        day = datetime.strptime(value or "", "%Y-%m-%d").date()
    except ValueError:
        return None
    # Year 1 or 9999 overflows once moved to UTC or a day on: such a filter is no filter.
    return day if 1900 <= day.year <= 2999 else None
