import sqlalchemy as sa
from flask import abort, current_app, flash, request, send_file, url_for
from flask_login import current_user

from webapp import htmx, saving
from webapp.blueprints.admin import bp
from webapp.blueprints.admin.forms import (CompanyForm, DirectoryCheckForm, NewUserForm, ResetPasswordForm,
                                           TemplateUploadForm, UserForm)
from webapp.extensions import db
from webapp.documents.render import content_disposition, template_names, template_path
from webapp.forms import choices
from webapp.models import CompanyProfile, Role, User
from webapp.models import audit as audit_log
from webapp.pagination import requested_page
from webapp.permissions import allow
from webapp.saving import submit
from webapp.services import access
from webapp.services import audit as audit_service
from webapp.services import company as company_service
from webapp.services import directory as directory_service
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
    query = user_service.user_list_query(q=q, role=role, state=state)
    page = requested_page(query)
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


TEMPLATE_TITLES = {"regulation.docx": "Регламент взаимодействия", "spec.docx": "Техническое задание (ТЗ)"}


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


@bp.get("/directory")
@admin_only
def directory():
    """Sign-in with the company directory: the settings in force (secrets hidden), a connection
    test and a look-up of what the directory says about a login."""
    return _directory_page()


@bp.post("/directory/test")
@admin_only
def directory_test():
    """Reach the directory, bind the service account, find the base DN and the mapped groups."""
    return _directory_page(block="checks", checks=directory_service.check_connection())


@bp.post("/directory/check")
@admin_only
def directory_check():
    """What the directory says about a login and which role it would give (no password checked)."""
    form = DirectoryCheckForm()
    if not form.validate_on_submit():
        return _directory_page(block="lookup", check_form=form, status=422)
    try:
        lookup = directory_service.look_up(form.login.data)
    except directory_service.DirectoryError as error:
        form.login.errors = [f"Каталог недоступен: {error.detail}"]
        return _directory_page(block="lookup", check_form=form, status=503)
    return _directory_page(block="lookup", check_form=form, lookup=lookup)


def _directory_page(block: str | None = None, status: int = 200, **context):
    context.setdefault("check_form", DirectoryCheckForm(formdata=None))
    return htmx.render("admin/directory.html", block=block, status=status,
                       settings=directory_service.settings(), **context)


@bp.get("/audit")
@admin_only
def audit():
    """The audit log: who changed what and when, filtered by actor, record, action and dates."""
    args = request.args
    query = audit_service.audit_query(audit_service.AuditFilters(
        actor=args.get("actor", ""), entity_type=args.get("entity_type", ""), entity_id=args.get("entity_id", ""),
        action=args.get("action", ""), date_from=args.get("from", ""), date_to=args.get("to", ""),
        signins=args.get("signins") == "1"))
    page = requested_page(query)
    actors = db.session.scalars(sa.select(User).order_by(User.full_name)).all()
    entity_types = db.session.scalars(audit_service.entity_types()).all()
    return htmx.render("admin/audit.html", block="results", page=page, actors=actors, entity_types=entity_types,
                       actions=audit_log.all_actions(), filters=args, entity=audit_log.entity)
