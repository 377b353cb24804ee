import re
from datetime import date, timedelta

from flask import Response, abort, current_app, flash, make_response, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from webapp import htmx, saving
from webapp.blueprints import status
from webapp.blueprints.meetings import bp
from webapp.blueprints.meetings.forms import (ActionForm, ApproveForm, AttendeeForm, ConfirmationForm, PlanForm,
                                              PointForm, PrioritiesForm, RescheduleForm, SendMinutesForm,
                                              person_choices, person_ids)
from webapp.documents.minutes import render_minutes
from webapp.documents.render import content_disposition
from webapp.extensions import db
from webapp.formatting import from_local, local, today
from webapp.models import ActionStatus, FeedToken, Meeting, MeetingKind, User
from webapp.pagination import requested_page
from webapp.permissions import allow
from webapp.saving import Edit, FieldConflict, decode_shown, encode_shown, fingerprint, submit
from webapp.services import ServiceError, access, calendars, links, workflow
from webapp.services import backlog as backlog_service
from webapp.services import meetings as meeting_service

LIST = "meetings/client.html"
INDEX = "meetings/index.html"
DETAIL = "meetings/detail.html"
CALENDAR = "meetings/calendar.html"
DOCX = meeting_service.DOCX
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEXT_LIMITS = {"title": 500, "notes": 20000, "decision": 20000, "internal_note": 20000, "what": 5000}


def _load(meeting_id: int) -> Meeting:
    """The meeting if the user may see it; otherwise 404."""
    return meeting_service.get_meeting(current_user, meeting_id)


def _editable(meeting_id: int) -> Meeting:
    """The meeting if the user may change it: 404 outside their scope, 403 where they only read it."""
    meeting = _load(meeting_id)
    access.require_edit_meeting(current_user, meeting)
    return meeting


@bp.app_template_global("autosave_shown")
def shown_of(record, *names: str) -> str:
    """The fingerprints of the values one autosaving field shows (``saving.arm`` for one field)."""
    return encode_shown({name: fingerprint(getattr(record, name)) for name in names})


# --- lists -----------------------------------------------------------------------------------------


def _client_context(client, **extra) -> dict:
    can_plan = access.can_plan_meeting(current_user, client)
    form = extra.pop("form", None) or (PlanForm(formdata=None) if can_plan else None)
    return dict(client=client, rows=meeting_service.client_meetings(current_user, client), can_plan=can_plan,
                form=form, **extra)


@bp.get("/clients/<int:client_id>/meetings/")
@allow()
def client_list(client_id: int):
    """The client's meetings, the newest first, and «Запланировать»."""
    client = access.get_client(current_user, client_id)
    return htmx.render(LIST, **_client_context(client))


@bp.post("/clients/<int:client_id>/meetings/new")
@allow(*access.ACCOUNT_MANAGERS)
def plan(client_id: int):
    """Plan a meeting: at the given time, or the regulation's next weekly slot."""
    client = access.get_client(current_user, client_id)
    access.require(access.can_plan_meeting(current_user, client),
                   "Встречи клиента планируют его аккаунт-менеджер, заместитель и администратор.")
    form = PlanForm()
    outcome = submit(form, lambda: meeting_service.plan_meeting(
        client, acting=current_user, starts_at=from_local(form.starts_at.data) if form.starts_at.data else None,
        place=(form.place.data or "").strip() or None, kind=MeetingKind(form.kind.data)))
    if outcome.saved:
        flash("Встреча запланирована, повестка собрана.", "success")
        return htmx.redirect(url_for("meetings.detail", meeting_id=outcome.result.id))
    return htmx.render(LIST, status=outcome.status, **_client_context(client, form=form))


@bp.get("/meetings/")
@allow()
def index():
    """The week's meetings: mine; the admin and the head of production see everyone's (?all=0: their own)."""
    try:
        day = date.fromisoformat(request.args.get("week", "")[:10])
    except ValueError:
        day = today()
    can_all = access.sees_all_meetings(current_user)
    everyone = can_all and request.args.get("all", "1") != "0"
    start, _ = meeting_service.week_bounds(day)
    monday = local(start).date()
    page = requested_page(meeting_service.week_meetings(current_user, day, everyone=everyone))
    return htmx.render(INDEX, rows=page.items, page=page, monday=monday, sunday=monday + timedelta(days=6),
                       previous=monday - timedelta(days=7), following=monday + timedelta(days=7),
                       everyone=everyone, can_all=can_all)


# --- the meeting -----------------------------------------------------------------------------------


def _detail_context(meeting: Meeting, **extra) -> dict:
    can_edit = access.can_edit_meeting(current_user, meeting)
    client = meeting.client
    users = backlog_service.assignable_users()
    context = dict(meeting=meeting, client=client, can_edit=can_edit, editable=can_edit and not meeting.is_cancelled,
                   planned=meeting.is_planned, moves=workflow.allowed_moves(meeting, current_user),
                   keys=meeting_service.item_keys(meeting), shown_of=shown_of,
                   who_choices=person_choices(client.contacts, users, "— не назначен —"),
                   status_choices=[(s.value, s.label) for s in ActionStatus],
                   minutes_state=meeting_service.minutes_state(meeting, today()))
    context["who_options"] = [(c.value, c.label) for c in context["who_choices"]]
    if can_edit:
        attendee_form = AttendeeForm(formdata=None, prefix="attendee")
        present = {(a.contact_id, a.user_id) for a in meeting.attendees}
        attendee_form.person.choices = person_choices(
            [c for c in client.contacts if (c.id, None) not in present], [u for u in users if (None, u.id) not in present])
        point_form = PointForm(formdata=None, prefix="point")
        point_form.backlog_item_id.choices = [("", "— без задачи —")]
        action_form = ActionForm(formdata=None, prefix="action")
        action_form.who.choices = context["who_choices"]
        approve_form = ApproveForm(formdata=None, prefix="approve")
        approve_form.item_id.choices = [("", "— выберите —"), *meeting_service.approvable_items(meeting)]
        approve_form.contact_id.choices = [("", "— выберите —")] + [
            (c.id, c.full_name) for c in meeting_service.deciders_present(meeting)]
        priorities_form = PrioritiesForm(formdata=None, prefix="priorities")
        priorities_form.contact_id.choices = [("", "— выберите —")] + [
            (a.contact.id, a.contact.full_name) for a in meeting.attendees if a.attended and a.contact]
        send_form = SendMinutesForm(formdata=None, prefix="send",
                                    data={"recipients": ", ".join(meeting_service.minutes_recipients(meeting))})
        reschedule_form = RescheduleForm(formdata=None, prefix="reschedule", data={
            "starts_at": local(meeting.starts_at).replace(tzinfo=None), "place": meeting.place,
            "duration_minutes": meeting.duration_minutes})
        saving.arm(reschedule_form, meeting)
        confirm_form = ConfirmationForm(formdata=None, prefix="confirm")
        confirm_form.contact_id.choices = [("", "— выберите —")] + [
            (c.id, f"{c.full_name} <{c.email}>") for c in meeting_service.confirmers(meeting)]
        context.update(confirm_form=confirm_form, attendee_form=attendee_form, point_form=point_form, action_form=action_form,
                       approve_form=approve_form, priorities_form=priorities_form, send_form=send_form,
                       reschedule_form=reschedule_form)
    context.update(extra)
    return context


@bp.get("/meetings/<int:meeting_id>")
@allow()
def detail(meeting_id: int):
    """The live page: attendance, the agenda with notes and decisions, action items, the minutes."""
    meeting = _load(meeting_id)
    return htmx.render(DETAIL, **_detail_context(meeting))


def _back(meeting: Meeting, anchor: str = "") -> Response:
    return htmx.redirect(url_for("meetings.detail", meeting_id=meeting.id) + anchor)


def _run(meeting: Meeting, work, *, done: str | None = None, anchor: str = "") -> Response:
    """A one-button change of the meeting: done → back to the page; refused → the page with the reason."""
    try:
        work()
        db.session.commit()
    except access.PermissionDenied:
        db.session.rollback()
        raise
    except ServiceError as error:
        db.session.rollback()
        db.session.expire_all()
        return htmx.render(DETAIL, status=error.status, **_detail_context(meeting, page_message=error.message))
    if done:
        flash(done, "success")
    return _back(meeting, anchor)


@bp.post("/meetings/<int:meeting_id>/status")
@allow(*access.ACCOUNT_MANAGERS)
def move(meeting_id: int):
    """Finish (held, the minutes get their number) or cancel with a reason."""
    meeting = _load(meeting_id)

    return status.change_status(meeting, redirect_url=url_for("meetings.detail", meeting_id=meeting.id),
                                page=DETAIL, context=lambda **extra: _detail_context(meeting, **extra))


@bp.post("/meetings/<int:meeting_id>/reschedule")
@allow(*access.ACCOUNT_MANAGERS)
def reschedule(meeting_id: int):
    """«Перенести»: a new time or place; calendars get the same event with a higher SEQUENCE."""
    meeting = _editable(meeting_id)
    form = RescheduleForm(prefix="reschedule")
    outcome = submit(form, lambda: meeting_service.reschedule(meeting, saving.edit_of(form), acting=current_user))
    if outcome.saved:
        flash("Встреча перенесена.", "success")
        return _back(meeting)
    return htmx.render(DETAIL, status=outcome.status,
                       **_detail_context(meeting, reschedule_form=form, conflict=outcome.conflict))


@bp.post("/meetings/<int:meeting_id>/next")
@allow(*access.ACCOUNT_MANAGERS)
def next_meeting(meeting_id: int):
    """«Следующая встреча»: the next of the series, with what is open carried over."""
    meeting = _editable(meeting_id)
    try:
        saving.check_delete(meeting, request.form.get("version"))
        following = meeting_service.next_meeting(meeting, acting=current_user)
        db.session.commit()
    except access.PermissionDenied:
        db.session.rollback()
        raise
    except ServiceError as error:
        db.session.rollback()
        db.session.expire_all()
        return htmx.render(DETAIL, status=error.status, **_detail_context(meeting, page_message=error.message))
    flash("Следующая встреча запланирована: нерешённые вопросы и открытые поручения перенесены.", "success")
    return htmx.redirect(url_for("meetings.detail", meeting_id=following.id))


@bp.post("/meetings/<int:meeting_id>/agenda/refresh")
@allow(*access.ACCOUNT_MANAGERS)
def refresh_agenda(meeting_id: int):
    """«Обновить повестку»: what the areas propose now and the agenda lacks."""
    meeting = _editable(meeting_id)
    def refresh():
        saving.check_delete(meeting, request.form.get("version"))
        meeting_service.refresh_agenda(meeting, acting=current_user)

    return _run(meeting, refresh,
                done="Повестка обновлена.", anchor="#agenda")


# --- attendance ----------------------------------------------------------------------------------


@bp.post("/meetings/<int:meeting_id>/attendees")
@allow(*access.ACCOUNT_MANAGERS)
def add_attendee(meeting_id: int):
    """Invite one more person (a contact of the client or a colleague)."""
    meeting = _editable(meeting_id)
    contact_id, user_id = person_ids(request.form.get("attendee-person"))
    return _run(meeting, lambda: meeting_service.add_attendee(meeting, contact_id=contact_id, user_id=user_id,
                                                              acting=current_user), anchor="#attendees")


@bp.post("/meetings/<int:meeting_id>/attendees/<int:attendee_id>")
@allow(*access.ACCOUNT_MANAGERS)
def attendance(meeting_id: int, attendee_id: int):
    """Mark a person present (or not)."""
    meeting = _editable(meeting_id)
    attendee = meeting_service.get_attendee(meeting, attendee_id)
    if request.form.get("attended") not in ("0", "1"):
        abort(422)
    return _run(meeting, lambda: meeting_service.mark_attendance(
        attendee, attended=request.form.get("attended") == "1", acting=current_user), anchor="#attendees")


# --- the agenda ------------------------------------------------------------------------------------


@bp.post("/meetings/<int:meeting_id>/points")
@allow(*access.ACCOUNT_MANAGERS)
def add_point(meeting_id: int):
    """A point of the manager's own."""
    meeting = _editable(meeting_id)
    form = PointForm(prefix="point")
    outcome = submit(form, lambda: meeting_service.add_point(
        meeting, title=form.title.data, backlog_item_id=form.backlog_item_id.data, acting=current_user))
    if outcome.saved:
        return _back(meeting, f"#point-{outcome.result.id}")
    form.backlog_item_id.choices = [("", "— без задачи —")]
    return htmx.render(DETAIL, status=outcome.status, **_detail_context(meeting, point_form=form))


def _autosave(meeting: Meeting, record, fields: dict[str, tuple[str, ...]], save, block: str) -> Response:
    """Save one field as it is typed (``data-autosave``): only this field, checked against what the
    page showed of it, so colleagues typing into other fields never conflict; a real conflict
    answers 409 with both texts, re-armed so that saving again keeps the user's own text."""
    name = request.form.get("field", "")
    if name not in fields:
        abort(422)
    values, message, status_code = {}, None, 200
    try:
        values = _field_values(meeting, name)
    except ServiceError as error:
        message, status_code = error.message, error.status
    conflict = None
    if message is None:
        edit = Edit(values, request.form.get("version"), decode_shown(request.form.get("version_shown")))
        for attempt in range(2):
            try:
                save(record, edit, acting=current_user)
                db.session.commit()
                break
            except StaleDataError:
                db.session.rollback()
                if attempt:
                    message, status_code = "Запись сохраняет другой пользователь: повторите.", 409
            except FieldConflict:
                db.session.rollback()
                db.session.refresh(record)
                conflict = {"theirs": _display(record, name), "yours": _display_values(values, name)}
                status_code = 409
                break
            except access.PermissionDenied:
                db.session.rollback()
                raise
            except ServiceError as error:
                db.session.rollback()
                db.session.refresh(record)
                message, status_code = error.message, error.status
                break
    # The field's state block reads the record and these alone: not the page's context (its people,
    # forms and agenda: seven statements and most of the time of a save made as someone types).
    return htmx.render_fragment(DETAIL, block, status=status_code, record=record, name=name, names=fields[name],
                                state_message=message, conflict=conflict, saved=status_code == 200)


def _field_values(meeting: Meeting, name: str) -> dict:
    raw = request.form.get("value", "")
    if name == "who":
        contact_id, user_id = person_ids(raw)
        return {"contact_id": contact_id, "user_id": user_id}
    if name == "due_on":
        if not raw:
            return {"due_on": None}
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            raise ServiceError("Введите дату.") from None
        if not 2000 <= value.year <= 2100:
            raise ServiceError("Срок — между 2000 и 2100 годом.")
        return {"due_on": value}
    if name == "status":
        try:
            return {"status": ActionStatus(raw)}
        except ValueError:
            raise ServiceError("Неизвестное состояние.") from None
    if _CONTROL.search(raw):
        raise ServiceError("Текст содержит недопустимые управляющие символы.")
    if len(raw) > TEXT_LIMITS.get(name, 20000):
        raise ServiceError(f"Слишком длинный текст: не больше {TEXT_LIMITS.get(name, 20000)} символов.")
    return {name: raw.replace("\r\n", "\n")}


def _display(record, name: str) -> str:
    if name == "who":
        return record.who or "—"
    return saving.display(getattr(record, name)) if name in ("due_on", "status") else (getattr(record, name) or "—")


def _display_values(values: dict, name: str) -> str:
    if name == "who":
        return "другой ответственный"
    return saving.display(values.get(name)) if name in ("due_on", "status") else (values.get(name) or "—")


POINT_FIELDS = {name: (name,) for name in meeting_service.POINT_FIELDS}
ACTION_FIELDS = {"what": ("what",), "who": ("contact_id", "user_id"), "due_on": ("due_on",), "status": ("status",)}


@bp.post("/meetings/<int:meeting_id>/points/<int:point_id>")
@allow(*access.ACCOUNT_MANAGERS)
def save_point(meeting_id: int, point_id: int):
    """Autosave of one field of a point (notes, decision, internal note, title)."""
    meeting = _editable(meeting_id)
    point = meeting_service.get_point(meeting, point_id)
    return _autosave(meeting, point, POINT_FIELDS, meeting_service.update_point, "field_state")


@bp.post("/meetings/<int:meeting_id>/points/<int:point_id>/move")
@allow(*access.ACCOUNT_MANAGERS)
def move_point(meeting_id: int, point_id: int):
    """Move a point up or down the agenda."""
    meeting = _editable(meeting_id)
    point = meeting_service.get_point(meeting, point_id)
    if request.form.get("up") not in ("0", "1"):
        abort(422)
    return _run(meeting, lambda: meeting_service.move_point(point, up=request.form.get("up") == "1",
                                                            acting=current_user), anchor=f"#point-{point.id}")


@bp.post("/meetings/<int:meeting_id>/points/<int:point_id>/delete")
@allow(*access.ACCOUNT_MANAGERS)
def remove_point(meeting_id: int, point_id: int):
    """Take a point off the agenda."""
    meeting = _editable(meeting_id)
    point = meeting_service.get_point(meeting, point_id)
    return _run(meeting, lambda: meeting_service.remove_point(point, request.form.get("version"), acting=current_user),
                done="Пункт убран из повестки.", anchor="#agenda")


# --- action items ----------------------------------------------------------------------------------


@bp.post("/meetings/<int:meeting_id>/actions")
@allow(*access.ACCOUNT_MANAGERS)
def add_action(meeting_id: int):
    """A new action item."""
    meeting = _editable(meeting_id)
    form = ActionForm(prefix="action")
    form.who.choices = []
    contact_id, user_id = person_ids(form.who.data if form.is_submitted() else None)
    outcome = submit(form, lambda: meeting_service.add_action(
        meeting, what=form.what.data, contact_id=contact_id, user_id=user_id, due_on=form.due_on.data,
        acting=current_user))
    if outcome.saved:
        return _back(meeting, "#actions")
    context = _detail_context(meeting)
    form.who.choices = context["who_choices"]
    context["action_form"] = form
    return htmx.render(DETAIL, status=outcome.status, **context)


@bp.post("/meetings/<int:meeting_id>/actions/<int:action_id>")
@allow(*access.ACCOUNT_MANAGERS)
def save_action(meeting_id: int, action_id: int):
    """Autosave of one field of an action item (what, who, due date, status)."""
    meeting = _editable(meeting_id)
    action = meeting_service.get_action(meeting, action_id)
    return _autosave(meeting, action, ACTION_FIELDS, meeting_service.update_action, "field_state")


@bp.post("/meetings/<int:meeting_id>/actions/<int:action_id>/backlog")
@allow(*access.ACCOUNT_MANAGERS)
def action_to_backlog(meeting_id: int, action_id: int):
    """«В бэклог»: the action item becomes a request of the client."""
    meeting = _editable(meeting_id)
    action = meeting_service.get_action(meeting, action_id)

    def convert():
        saving.check_delete(action, request.form.get("version"))
        meeting_service.action_to_backlog(action, acting=current_user)

    return _run(meeting, convert,
                done="Поручение стало задачей бэклога.", anchor="#actions")


@bp.get("/meetings/<int:meeting_id>/actions/<int:action_id>/history")
@allow()
def action_history(meeting_id: int, action_id: int):
    """The meetings an action item passed through: in place, the block alone reads the chain; the
    whole page (a link opened in a new tab) everything else."""
    meeting = _load(meeting_id)
    action = meeting_service.get_action(meeting, action_id)
    chain = meeting_service.action_history(action)
    if htmx.is_partial():
        return htmx.render_fragment(DETAIL, "action_history", action=action, chain=chain)
    return htmx.render(DETAIL, **_detail_context(meeting, action=action, chain=chain))


# --- decisions through the backlog -----------------------------------------------------------------


@bp.post("/meetings/<int:meeting_id>/approve")
@allow(*access.ACCOUNT_MANAGERS)
def approve(meeting_id: int):
    """Approve an estimate at the meeting, by an attending decision maker."""
    meeting = _editable(meeting_id)
    form = ApproveForm(prefix="approve")
    outcome = submit(form, lambda: meeting_service.approve_estimate(
        meeting, form.item_id.data, contact_id=form.contact_id.data, acting=current_user))
    if outcome.saved:
        flash("Оценка согласована на встрече.", "success")
        return _back(meeting, "#decisions")
    context = _detail_context(meeting)
    form.item_id.choices, form.contact_id.choices = context["approve_form"].item_id.choices, \
        context["approve_form"].contact_id.choices
    context["approve_form"] = form
    return htmx.render(DETAIL, status=outcome.status, **context)


@bp.post("/meetings/<int:meeting_id>/priorities")
@allow(*access.ACCOUNT_MANAGERS)
def agree_priorities(meeting_id: int):
    """Agree the order of the client's open items at the meeting."""
    meeting = _editable(meeting_id)
    form = PrioritiesForm(prefix="priorities")
    outcome = submit(form, lambda: meeting_service.agree_priorities(meeting, contact_id=form.contact_id.data,
                                                                    acting=current_user))
    if outcome.saved:
        flash("Порядок задач согласован на встрече.", "success")
        return _back(meeting, "#decisions")
    context = _detail_context(meeting)
    form.contact_id.choices = context["priorities_form"].contact_id.choices
    context["priorities_form"] = form
    return htmx.render(DETAIL, status=outcome.status, **context)


# --- minutes and calendars -------------------------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>/minutes.docx")
@allow()
def minutes(meeting_id: int):
    """The minutes as a DOCX in the protocol form: internal notes are never printed."""
    meeting = _load(meeting_id)
    body = render_minutes(meeting_service.minutes_data(meeting),
                          override_dir=current_app.config["DOCUMENT_TEMPLATES"])
    response = make_response(body)
    response.headers["Content-Type"] = DOCX
    response.headers["Content-Disposition"] = content_disposition(meeting_service.minutes_filename(meeting))
    return response


@bp.post("/meetings/<int:meeting_id>/minutes/send")
@allow(*access.ACCOUNT_MANAGERS)
def send_minutes(meeting_id: int):
    """Send the minutes by e-mail with the DOCX attached (without mail: the text to copy)."""
    meeting = _editable(meeting_id)
    form = SendMinutesForm(prefix="send")
    outcome = submit(form, lambda: meeting_service.send_minutes(
        meeting, form.addresses(), acting=current_user, override_dir=current_app.config["DOCUMENT_TEMPLATES"]))
    return htmx.render(DETAIL, block="minutes", status=outcome.status,
                       **_detail_context(meeting, send_form=form, mail_outcome=outcome.result if outcome.saved else None))


@bp.post("/meetings/<int:meeting_id>/minutes/confirmation")
@allow(*access.ACCOUNT_MANAGERS)
def request_confirmation(meeting_id: int):
    """Send a decision maker a signed link to confirm the minutes or object to them."""
    meeting = _editable(meeting_id)
    form = ConfirmationForm(prefix="confirm")
    outcome = submit(form, lambda: meeting_service.request_confirmation(meeting, contact_id=form.contact_id.data,
                                                                        acting=current_user))
    context = _detail_context(meeting, mail_outcome=outcome.result if outcome.saved else None)
    form.contact_id.choices = context["confirm_form"].contact_id.choices
    context["confirm_form"] = form
    return htmx.render(DETAIL, block="minutes", status=outcome.status, **context)


@bp.post("/meetings/<int:meeting_id>/minutes/sent")
@allow(*access.ACCOUNT_MANAGERS)
def mark_sent(meeting_id: int):
    """«Отправлено»: the minutes went out by hand (mail is not configured)."""
    meeting = _editable(meeting_id)
    form = SendMinutesForm(prefix="send")
    outcome = submit(form, lambda: meeting_service.mark_minutes_sent(meeting, form.addresses(), acting=current_user))
    if outcome.saved:
        flash("Протокол отмечен отправленным.", "success")
        return _back(meeting, "#minutes")
    return htmx.render(DETAIL, status=outcome.status, **_detail_context(meeting, send_form=form))


@bp.post("/meetings/<int:meeting_id>/invite")
@allow(*access.ACCOUNT_MANAGERS)
def invite(meeting_id: int):
    """Send the client's attendees the meeting as an iCalendar invitation (or its cancellation)."""
    meeting = _editable(meeting_id)
    outcome = None
    try:
        outcome = meeting_service.send_invitation(meeting, acting=current_user)
        db.session.commit()
    except access.PermissionDenied:
        db.session.rollback()
        raise
    except ServiceError as error:
        db.session.rollback()
        return htmx.render(DETAIL, status=error.status, **_detail_context(meeting, page_message=error.message))
    return htmx.render(DETAIL, **_detail_context(meeting, invite_outcome=outcome))


@bp.get("/meetings/<int:meeting_id>.ics")
@allow()
def ics(meeting_id: int):
    """The meeting for a calendar program."""
    meeting = _load(meeting_id)
    response = make_response(calendars.meeting_calendar(meeting))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition(f"Встреча {meeting.client.short_name}.ics")
    return response


def _feed_active() -> bool:
    return db.session.scalar(db.select(FeedToken.id).where(FeedToken.user_id == current_user.id)) is not None


@bp.route("/meetings/calendar", methods=["GET", "POST"])
@allow()
def calendar():
    """«Мой календарь»: a private feed URL for Outlook or Thunderbird; a new one revokes the old."""
    feed_url = None
    if request.method == "POST":
        acting = db.session.get(User, current_user.id)
        if request.form.get("action") == "revoke":
            links.revoke_feed_token(acting, acting=acting)
            flash("Ссылка на календарь отозвана: старый адрес больше не работает.", "success")
        else:
            token = links.issue_feed_token(acting, acting=acting)
            feed_url = url_for("links.feed", token=token, _external=True)
        db.session.commit()
    return htmx.render(CALENDAR, feed_url=feed_url, active=_feed_active())
