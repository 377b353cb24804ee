"""Meetings: the weekly planning meeting with a client from its plan to the minutes.

Rules live here: when the weekly meeting falls (the regulation's weekday, time and place from
``terms.effective_terms``, in the installation's zone, stored in UTC); what the agenda proposes (the
areas' sections of ``services.agenda`` plus what the previous meeting left open); what «Следующая
встреча» carries over (undecided points, open action items); that an estimate is approved at the
meeting only by an attending decision maker, through the backlog's own ``approve_item``; and how
the minutes are numbered: per year, gapless, given at finish, one counter row per year that
concurrent finishes queue up on (an UPDATE takes its lock on PostgreSQL and the write lock on
SQLite), the unique index (year, number) as the backstop. A held meeting is a contact with the
client: finishing logs a touchpoint through ``services.clients``, so the cadence moves.
"""

import functools
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload, selectinload

from webapp import saving
from webapp.extensions import db
from webapp.formatting import date_time, day_start, from_local, local, long_date
from webapp.models import (ActionItem, ActionStatus, AgendaPoint, ApprovalChannel, Attendee, BacklogItem, Channel,
                           Client, Contact, IntakeChannel, Meeting, MeetingKind, MeetingStatus, MinutesCounter,
                           User)
from webapp.models.backlog import item_key
from webapp.models.types import utcnow
from webapp.saving import Edit
from webapp.services import (NotFound, ServiceError, access, agenda, dashboard, links, mail, terms, timeline,
                             workflow)
from webapp.services import backlog as backlog_service
from webapp.services import clients as client_service

CARRIED_SECTION = "Перенесено с прошлой встречи"
OWN_SECTION = "Дополнительно"
DEFAULT_TIME = time(10, 0)


# --- reading ---------------------------------------------------------------------------------------


def get_meeting(user: User, meeting_id: int) -> Meeting:
    """A meeting the user may see (404 otherwise)."""
    return access.get_meeting(user, meeting_id)


def client_meetings(user: User, client: Client, limit: int = 100) -> list[Meeting]:
    """The client's meetings, the newest first."""
    return list(db.session.scalars(access.visible_meetings(user).where(Meeting.client_id == client.id)
                                   .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(limit)))


def week_bounds(day: date) -> tuple[datetime, datetime]:
    monday = day - timedelta(days=day.weekday())
    return day_start(monday), day_start(monday + timedelta(days=7))


def _mine(user: User) -> sa.ColumnElement:
    """Meetings of the clients the user leads or stands in for, or that they attend."""
    clients = access.team_client_ids(user)
    attending = sa.select(Attendee.meeting_id).where(Attendee.user_id == user.id)
    return sa.or_(Meeting.client_id.in_(clients), Meeting.id.in_(attending))


# What a row of the week's list shows (``meetings/index.html``): the time, the place, the status, the
# client's name and its manager's; not every column of the client (its notes, its search text) with
# its deputy and the chair, three whole users a row.
_WEEK_ROW = (sa.orm.load_only(Meeting.id, Meeting.client_id, Meeting.status, Meeting.starts_at, Meeting.place),
             lazyload(Meeting.chair),
             sa.orm.joinedload(Meeting.client, innerjoin=True).options(
                 sa.orm.load_only(Client.id, Client.short_name, Client.manager_id), lazyload(Client.deputy),
                 sa.orm.joinedload(Client.manager, innerjoin=True).load_only(User.id, User.full_name)))


def week_meetings(user: User, day: date, *, everyone: bool = False) -> sa.Select:
    """The week's meetings (Monday to Sunday around ``day``), in time order: the user's own, or
    everyone's (a page at a time: a large department holds hundreds a week)."""
    start, end = week_bounds(day)
    query = (access.visible_meetings(user).where(Meeting.starts_at >= start, Meeting.starts_at < end)
             .options(*_WEEK_ROW))
    if not everyone:
        query = query.where(_mine(user))
    return query.order_by(Meeting.starts_at, Meeting.id)


def todays_meetings(user: User, day: date) -> list[Meeting]:
    """«Встречи сегодня»: the user's planned and held meetings of the day."""
    return list(db.session.scalars(_todays_page(access.Viewer.of(user), day_start(day),
                                                day_start(day + timedelta(days=1)))))


@functools.lru_cache(maxsize=256)
def _todays_page(viewer: access.Viewer, start: datetime, end: datetime) -> sa.Select:
    """Kept per user and day (the day's bounds in the installation's zone)."""
    return (access.visible_meetings(viewer)
            .where(Meeting.starts_at >= start, Meeting.starts_at < end, Meeting.status != MeetingStatus.CANCELLED,
                   _mine(viewer))
            .order_by(Meeting.starts_at, Meeting.id).limit(20))


def item_keys(meeting: Meeting) -> dict[int, str]:
    """The keys of the backlog items the agenda and action items link («ROMASHKA-42»), one query."""
    ids = {p.backlog_item_id for p in meeting.points if p.backlog_item_id}
    ids |= {a.backlog_item_id for a in meeting.actions if a.backlog_item_id}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(BacklogItem.id, BacklogItem.number).where(BacklogItem.id.in_(ids)))
    return {item_id: item_key(meeting.client.code, n) for item_id, n in rows}


def approvable_items(meeting: Meeting) -> list[tuple[int, str]]:
    """The client's estimates waiting for approval, what the meeting may approve: (id, «ROMASHKA-42
    title»), read as columns (whole items came with their client, requester and texts)."""
    from webapp.models import ItemStatus
    rows = db.session.execute(sa.select(BacklogItem.id, BacklogItem.number, BacklogItem.title).where(
        BacklogItem.client_id == meeting.client_id, BacklogItem.status == ItemStatus.APPROVAL)
        .order_by(BacklogItem.rank, BacklogItem.id).limit(50))
    return [(item_id, f"{item_key(meeting.client.code, number)} {title}") for item_id, number, title in rows]


def deciders_present(meeting: Meeting) -> list[Contact]:
    """The attending decision makers who decide cost: who may approve an estimate at the meeting."""
    return [a.contact for a in meeting.attendees
            if a.attended and a.contact and a.contact.is_decision_maker and a.contact.decides_cost]


def action_history(action: ActionItem) -> list[ActionItem]:
    """Every meeting an action item passed through: the chain of its carried copies, oldest first."""
    chain = [action]
    while chain[0].carried_from_id is not None and len(chain) < 100:
        earlier = db.session.get(ActionItem, chain[0].carried_from_id)
        if earlier is None:
            break
        chain.insert(0, earlier)
    return chain


# --- the schedule ----------------------------------------------------------------------------------


def next_slot(client: Client, after: datetime) -> tuple[datetime, str]:
    """The client's next weekly meeting strictly after ``after``: the regulation's weekday and time
    in the installation's zone (the standard's without a regulation), and its place."""
    found = terms.effective_terms(client)
    weekday = found.meeting_weekday if found.meeting_weekday is not None else 0
    at = found.meeting_time or DEFAULT_TIME
    day = local(after).date()
    for offset in range(0, 8):
        candidate = day + timedelta(days=offset)
        if candidate.weekday() != weekday:
            continue
        start = from_local(datetime.combine(candidate, at))
        if start > after:
            return start, found.meeting_place
    candidate = day + timedelta(days=7 + (weekday - day.weekday()) % 7)
    return from_local(datetime.combine(candidate, at)), found.meeting_place


def _check_start(starts_at: datetime | None) -> None:
    if starts_at is None:
        raise ServiceError("Укажите дату и время встречи.", field="starts_at")
    if not 2000 <= starts_at.year <= 2100:
        raise ServiceError("Дата встречи — между 2000 и 2100 годом.", field="starts_at")


def plan_meeting(client: Client, *, acting: User, starts_at: datetime | None = None, place: str | None = None,
                 kind: MeetingKind = MeetingKind.WEEKLY, previous: Meeting | None = None) -> Meeting:
    """Plan a meeting: without a time, the next weekly slot of the regulation after the client's last
    planned meeting (or now). Invites the client's decision makers and the account manager, and
    builds the agenda: the areas' proposals and what ``previous`` (the series' last meeting) left."""
    access.require(access.can_plan_meeting(acting, client),
                   "Встречи клиента планируют его аккаунт-менеджер, заместитель и администратор.")
    slot_place = None
    if starts_at is None:
        latest = db.session.scalar(sa.select(sa.func.max(Meeting.starts_at)).where(
            Meeting.client_id == client.id, Meeting.status != MeetingStatus.CANCELLED))
        base = max(latest, utcnow()) if latest else utcnow()
        starts_at, slot_place = next_slot(client, base)
    _check_start(starts_at)
    if previous is None and kind == MeetingKind.WEEKLY:
        previous = db.session.scalar(sa.select(Meeting).where(
            Meeting.client_id == client.id, Meeting.kind == MeetingKind.WEEKLY, Meeting.status == MeetingStatus.HELD,
            Meeting.starts_at < starts_at).order_by(Meeting.starts_at.desc()).limit(1))
    meeting = Meeting(client=client, kind=kind, status=MeetingStatus.PLANNED, starts_at=starts_at,
                      place=(place if place is not None else slot_place if slot_place is not None
                             else terms.effective_terms(client).meeting_place or "").strip()[:300],
                      previous=previous, chair_id=client.manager_id, secretary_id=acting.id,
                      uid=f"{uuid.uuid4()}@accountdesk", sequence=0, created_by_id=acting.id, created_at=utcnow(),
                      minutes_sent_to="", cancel_reason="", minutes_confirmed_by="", minutes_objection="")
    db.session.add(meeting)
    for contact in client.contacts:
        if contact.is_decision_maker:
            meeting.attendees.append(Attendee(contact_id=contact.id, attended=False))
    for user_id in dict.fromkeys(u for u in (client.manager_id, acting.id) if u):
        meeting.attendees.append(Attendee(user_id=user_id, attended=False))
    db.session.flush()
    _carry_over(meeting, previous)
    refresh_agenda(meeting, acting=acting)
    return meeting


def reschedule(meeting: Meeting, edit: Edit, *, acting: User) -> list[str]:
    """Move a planned meeting (time, place, length): calendars get the same event with a higher
    SEQUENCE."""
    access.require_edit_meeting(acting, meeting)
    if not meeting.is_planned:
        raise ServiceError("Перенести можно только запланированную встречу.")
    data = saving.changes(meeting, edit, ("starts_at", "place", "duration_minutes"))
    if "starts_at" in data:
        _check_start(data["starts_at"])
    if "duration_minutes" in data and not 5 <= (data["duration_minutes"] or 0) <= 600:
        raise ServiceError("Длительность — от 5 минут до 10 часов.", field="duration_minutes")
    changed = saving.write(meeting, data)
    if changed:
        meeting.sequence = (meeting.sequence or 0) + 1
    db.session.flush()
    return changed


# --- the agenda ------------------------------------------------------------------------------------


def _since(meeting: Meeting) -> datetime | None:
    """When the meeting before this one (of the same client, held) began: what is «new» since."""
    return db.session.scalar(sa.select(sa.func.max(Meeting.starts_at)).where(
        Meeting.client_id == meeting.client_id, Meeting.status == MeetingStatus.HELD,
        Meeting.starts_at < meeting.starts_at, Meeting.id != meeting.id))


def _next_position(items: list) -> int:
    return max((p.position for p in items), default=0) + 1


def refresh_agenda(meeting: Meeting, *, acting: User) -> int:
    """Add what the areas propose now and the agenda lacks (a point whose ``key`` is on the agenda is
    not proposed again). Returns how many were added."""
    access.require_edit_meeting(acting, meeting)
    if not meeting.is_planned:
        raise ServiceError("Повестку проведённой или отменённой встречи не меняют.")
    known = set(db.session.scalars(sa.select(AgendaPoint.proposal_key).where(
        AgendaPoint.meeting_id == meeting.id, AgendaPoint.proposal_key != "")))
    position = _next_position(meeting.points)
    added = 0
    for proposed in agenda.proposals(meeting.client, _since(meeting), local(meeting.starts_at).date()):
        for proposal in proposed.points:
            if proposal.key in known:
                continue
            known.add(proposal.key)
            meeting.points.append(AgendaPoint(title=proposal.title[:500], section=proposed.section.title[:200],
                                              proposal_key=proposal.key[:100], position=position,
                                              backlog_item_id=proposal.backlog_item_id, notes="", decision="",
                                              internal_note=""))
            position += 1
            added += 1
    db.session.flush()
    return added


def _carry_over(meeting: Meeting, previous: Meeting | None) -> None:
    """The previous meeting's undecided points and open action items, marked as carried."""
    if previous is None:
        return
    position = _next_position(meeting.points)
    for point in previous.points:
        if point.decided:
            continue
        meeting.points.append(AgendaPoint(title=point.title, section=CARRIED_SECTION, position=position,
                                          proposal_key=point.proposal_key, backlog_item_id=point.backlog_item_id,
                                          notes=point.notes, decision="", internal_note=point.internal_note,
                                          carried_from_id=point.id))
        position += 1
    position = _next_position(meeting.actions)
    for action in previous.actions:
        if not action.is_open:
            continue
        meeting.actions.append(ActionItem(what=action.what, contact_id=action.contact_id, user_id=action.user_id,
                                          due_on=action.due_on, status=ActionStatus.OPEN, position=position,
                                          carried_from_id=action.id, backlog_item_id=action.backlog_item_id))
        position += 1
    db.session.flush()


def _editable(meeting: Meeting, acting: User) -> None:
    access.require_edit_meeting(acting, meeting)
    if meeting.is_cancelled:
        raise ServiceError("Встреча отменена: её не меняют.")


def add_point(meeting: Meeting, *, title: str, acting: User, backlog_item_id: int | None = None) -> AgendaPoint:
    _editable(meeting, acting)
    if not (title or "").strip():
        raise ServiceError("Сформулируйте вопрос.", field="title")
    if backlog_item_id is not None and db.session.scalar(sa.select(BacklogItem.id).where(
            BacklogItem.id == backlog_item_id, BacklogItem.client_id == meeting.client_id)) is None:
        raise ServiceError("Выберите задачу этого клиента.", field="backlog_item_id")
    point = AgendaPoint(title=title.strip()[:500], section=OWN_SECTION, position=_next_position(meeting.points),
                        proposal_key="", backlog_item_id=backlog_item_id, notes="", decision="", internal_note="")
    meeting.points.append(point)
    db.session.flush()
    return point


def get_point(meeting: Meeting, point_id: int) -> AgendaPoint:
    point = db.session.scalar(sa.select(AgendaPoint).where(AgendaPoint.id == point_id,
                                                           AgendaPoint.meeting_id == meeting.id))
    if point is None:
        raise NotFound("Пункт повестки не найден.")
    return point


POINT_FIELDS = ("title", "notes", "decision", "internal_note")


def update_point(point: AgendaPoint, edit: Edit, *, acting: User) -> list[str]:
    """Save the fields of a point this user changed (each text is its own field: two people typing
    into different ones never conflict)."""
    _editable(point.meeting, acting)
    data = saving.changes(point, edit, POINT_FIELDS)
    if "title" in data and not (data["title"] or "").strip():
        raise ServiceError("Сформулируйте вопрос.", field="title")
    return saving.write(point, data)


def remove_point(point: AgendaPoint, version: Any, *, acting: User) -> None:
    meeting = point.meeting
    _editable(meeting, acting)
    if not meeting.is_planned:
        raise ServiceError("Повестку проведённой встречи не меняют.")
    saving.check_delete(point, version)
    meeting.points.remove(point)
    db.session.flush()


def move_point(point: AgendaPoint, *, up: bool, acting: User) -> None:
    """Swap the point with its neighbour above (or below)."""
    meeting = point.meeting
    _editable(meeting, acting)
    points = list(meeting.points)
    index = points.index(point)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(points):
        return
    for n, p in enumerate(points, start=1):
        p.position = n
    points[index].position, points[other].position = points[other].position, points[index].position
    db.session.flush()


# --- attendance and action items -------------------------------------------------------------------


def get_attendee(meeting: Meeting, attendee_id: int) -> Attendee:
    found = db.session.scalar(sa.select(Attendee).where(Attendee.id == attendee_id, Attendee.meeting_id == meeting.id))
    if found is None:
        raise NotFound("Участник не найден.")
    return found


def mark_attendance(attendee: Attendee, *, attended: bool, acting: User) -> None:
    _editable(attendee.meeting, acting)
    attendee.attended = attended
    db.session.flush()


def add_attendee(meeting: Meeting, *, acting: User, contact_id: int | None = None,
                 user_id: int | None = None) -> Attendee:
    """Invite one more person: a contact of this client or an active colleague."""
    _editable(meeting, acting)
    if contact_id is not None:
        if db.session.scalar(sa.select(Contact.id).where(Contact.id == contact_id,
                                                         Contact.client_id == meeting.client_id)) is None:
            raise ServiceError("Выберите контакт этого клиента.", field="person")
        if any(a.contact_id == contact_id for a in meeting.attendees):
            raise ServiceError("Этот человек уже в списке.", field="person")
    elif user_id is not None:
        user = db.session.get(User, user_id)
        if user is None or not user.active:
            raise ServiceError("Выберите активного сотрудника.", field="person")
        if any(a.user_id == user_id for a in meeting.attendees):
            raise ServiceError("Этот человек уже в списке.", field="person")
    else:
        raise ServiceError("Выберите, кого добавить.", field="person")
    attendee = Attendee(contact_id=contact_id, user_id=user_id, attended=meeting.is_planned is False)
    meeting.attendees.append(attendee)
    db.session.flush()
    return attendee


def _check_responsible(meeting: Meeting, contact_id: int | None, user_id: int | None) -> None:
    if contact_id is not None and db.session.scalar(sa.select(Contact.id).where(
            Contact.id == contact_id, Contact.client_id == meeting.client_id)) is None:
        raise ServiceError("Выберите контакт этого клиента.", field="who")
    if user_id is not None:
        user = db.session.get(User, user_id)
        if user is None or not user.active:
            raise ServiceError("Выберите активного сотрудника.", field="who")


def add_action(meeting: Meeting, *, what: str, acting: User, contact_id: int | None = None,
               user_id: int | None = None, due_on: date | None = None) -> ActionItem:
    """A new action item: what, who (a contact of the client or one of us), by when."""
    _editable(meeting, acting)
    if not (what or "").strip():
        raise ServiceError("Что нужно сделать?", field="what")
    _check_responsible(meeting, contact_id, user_id)
    action = ActionItem(what=what.strip(), contact_id=contact_id, user_id=user_id, due_on=due_on,
                        status=ActionStatus.OPEN, position=_next_position(meeting.actions))
    meeting.actions.append(action)
    db.session.flush()
    return action


def get_action(meeting: Meeting, action_id: int) -> ActionItem:
    found = db.session.scalar(sa.select(ActionItem).where(ActionItem.id == action_id,
                                                          ActionItem.meeting_id == meeting.id))
    if found is None:
        raise NotFound("Поручение не найдено.")
    return found


ACTION_FIELDS = ("what", "contact_id", "user_id", "due_on", "status")


def update_action(action: ActionItem, edit: Edit, *, acting: User) -> list[str]:
    _editable(action.meeting, acting)
    data = saving.changes(action, edit, ACTION_FIELDS)
    if "what" in data and not (data["what"] or "").strip():
        raise ServiceError("Что нужно сделать?", field="what")
    _check_responsible(action.meeting, data.get("contact_id"), data.get("user_id"))
    return saving.write(action, data)


def action_to_backlog(action: ActionItem, *, acting: User) -> BacklogItem:
    """«В бэклог»: the action item becomes a request of the client, through the backlog's intake."""
    _editable(action.meeting, acting)
    if action.backlog_item_id is not None:
        raise ServiceError("Поручение уже стало задачей бэклога.")
    meeting = action.meeting
    item = backlog_service.create_item(meeting.client, {
        "title": " ".join(action.what.split())[:300], "channel": IntakeChannel.MEETING,
        "request_text": f"Поручение со встречи {date_time(meeting.starts_at)}:\n{action.what}",
        "requester_id": action.contact_id}, acting=acting)
    action.backlog_item_id = item.id
    db.session.flush()
    return item


def approve_estimate(meeting: Meeting, item_id: int | None, *, contact_id: int | None, acting: User):
    """Approve an estimate at the meeting: recorded by the backlog's ``approve_item`` with the
    channel «встреча», as approved by a decision maker who is marked present."""
    _editable(meeting, acting)
    item = db.session.scalar(sa.select(BacklogItem).where(BacklogItem.id == item_id,
                                                          BacklogItem.client_id == meeting.client_id))
    if item is None:
        raise ServiceError("Выберите задачу этого клиента.", field="item_id")
    if contact_id not in {c.id for c in deciders_present(meeting)}:
        raise ServiceError("Согласовать на встрече может присутствующий ЛПР, который решает стоимость.",
                           field="contact_id")
    return backlog_service.approve_item(item, contact_id=contact_id, channel=ApprovalChannel.MEETING, acting=acting,
                                        comment=f"На встрече {date_time(meeting.starts_at)}")


def agree_priorities(meeting: Meeting, *, contact_id: int | None, acting: User):
    """«Зафиксировать приоритеты» from the meeting, by the backlog's own operation."""
    _editable(meeting, acting)
    if contact_id not in {a.contact_id for a in meeting.attendees if a.attended and a.contact_id}:
        raise ServiceError("Порядок согласует присутствующий представитель клиента.", field="contact_id")
    return backlog_service.fix_priorities(meeting.client, contact_id=contact_id, acting=acting,
                                          comment=f"На встрече {date_time(meeting.starts_at)}")


# --- the series, finishing and cancelling -----------------------------------------------------------


def next_meeting(meeting: Meeting, *, acting: User) -> Meeting:
    """«Следующая встреча»: the next one of the series (the regulation's next slot), with this
    meeting's undecided points and open action items carried over; made once."""
    access.require_edit_meeting(acting, meeting)
    if meeting.is_cancelled:
        raise ServiceError("Встреча отменена: следующую планируйте из списка встреч клиента.")
    existing = db.session.scalar(sa.select(Meeting).where(Meeting.previous_id == meeting.id,
                                                          Meeting.status != MeetingStatus.CANCELLED))
    if existing is not None:
        return existing
    starts_at, place = next_slot(meeting.client, max(meeting.starts_at, utcnow()))
    return plan_meeting(meeting.client, acting=acting, starts_at=starts_at, place=place or meeting.place,
                        kind=MeetingKind.WEEKLY, previous=meeting)


def _next_minutes_number(year: int) -> int:
    """The year's next minutes number. The UPDATE of the year's counter row makes concurrent
    finishes take turns (a row lock on PostgreSQL, the write lock on SQLite); a rolled-back finish
    rolls its number back too, so the numbers stay gapless."""
    for _ in range(3):
        bumped = db.session.execute(sa.update(MinutesCounter).where(MinutesCounter.year == year)
                                    .values(last=MinutesCounter.last + 1)
                                    .execution_options(synchronize_session=False)).rowcount
        if bumped:
            return db.session.scalar(sa.select(MinutesCounter.last).where(MinutesCounter.year == year))
        try:
            with db.session.begin_nested():
                db.session.add(MinutesCounter(year=year, last=0))
        except IntegrityError:
            pass  # another finish made the row first: bump it
    raise ServiceError("Не удалось присвоить номер протоколу: попробуйте ещё раз.")


def _finished(meeting: Meeting, acting: User, values: dict[str, Any]) -> None:
    """Held: the minutes' number within the meeting's year, and a touchpoint for the cadence."""
    now = utcnow()
    meeting.held_at = now
    meeting.minutes_year = local(meeting.starts_at).year
    meeting.minutes_number = _next_minutes_number(meeting.minutes_year)
    present = [a.contact_id for a in meeting.attendees if a.attended and a.contact_id]
    decided = sum(1 for p in meeting.points if p.decided)
    summary = (f"Планёрка, протокол № {meeting.minutes_number}: пунктов повестки {len(meeting.points)}, "
               f"решений {decided}, поручений {len(meeting.actions)}.")
    client_service.log_touchpoint(meeting.client, channel=Channel.MEETING, summary=summary, acting=acting,
                                  occurred_at=min(meeting.starts_at, now), contact_ids=present)
    db.session.flush()


def _cancelled(meeting: Meeting, acting: User, values: dict[str, Any]) -> None:
    meeting.cancel_reason = (values.get("reason") or "").strip()[:500]
    meeting.sequence = (meeting.sequence or 0) + 1


def finish(meeting: Meeting, *, acting: User) -> None:
    """Finish the meeting (the same move as the page's button)."""
    workflow.change_status(meeting, MeetingStatus.HELD.value, acting=acting, shown_status=meeting.status.value)


def cancel(meeting: Meeting, *, reason: str, acting: User) -> None:
    workflow.change_status(meeting, MeetingStatus.CANCELLED.value, acting=acting, shown_status=meeting.status.value,
                           values={"reason": reason})


workflow.register(Meeting, can_change=access.can_edit_meeting,
                  denied="Встречу ведут аккаунт-менеджер клиента, заместитель и администратор.",
                  before={MeetingStatus.CANCELLED: _cancelled}, after={MeetingStatus.HELD: _finished})


# --- the minutes ---------------------------------------------------------------------------------


def minutes_data(meeting: Meeting):
    """The minutes as plain data for ``documents.minutes``: internal notes are never passed on."""
    from webapp.documents.minutes import MinutesAction, MinutesDoc, MinutesPerson, MinutesPoint
    from webapp.documents.parties import both_parties

    contractor, customer = both_parties(meeting.client)
    present = [a for a in meeting.attendees if a.attended] or list(meeting.attendees)

    def person(attendee: Attendee) -> MinutesPerson:
        return MinutesPerson(attendee.name, attendee.position)

    return MinutesDoc(
        number=meeting.minutes_label, held_on=local(meeting.starts_at).date(),
        starts_at=local(meeting.starts_at).strftime("%H:%M"), place=meeting.place or "",
        contractor=contractor, client=customer,
        chair=MinutesPerson(meeting.chair.full_name, meeting.chair.position) if meeting.chair else None,
        secretary=MinutesPerson(meeting.secretary.full_name, meeting.secretary.position) if meeting.secretary else None,
        client_side=[person(a) for a in present if a.is_client_side],
        our_side=[person(a) for a in present if not a.is_client_side],
        points=[MinutesPoint(p.title, p.notes or "", p.decision or "") for p in meeting.points],
        actions=[MinutesAction(a.what, a.who, a.due_on) for a in meeting.actions])


def minutes_filename(meeting: Meeting) -> str:
    number = f" № {meeting.minutes_number}" if meeting.minutes_number else ""
    return f"Протокол{number} {meeting.client.short_name} {local(meeting.starts_at):%d.%m.%Y}.docx"


def minutes_recipients(meeting: Meeting) -> list[str]:
    """Who the minutes go to by default: the attending contacts and staff with an e-mail."""
    found = []
    for attendee in meeting.attendees:
        person = attendee.contact or attendee.user
        address = (getattr(person, "email", "") or "").strip()
        if attendee.attended and address and address not in found:
            found.append(address)
    return found


def send_minutes(meeting: Meeting, recipients: list[str], *, acting: User, override_dir=None) -> mail.Outcome:
    """Send the minutes with the DOCX attached; recorded as sent (when and to whom) only when the mail
    went out; without mail the outcome carries the text to copy."""
    from webapp.documents.minutes import render_minutes

    access.require_edit_meeting(acting, meeting)
    if not meeting.is_held:
        raise ServiceError("Протокол отправляют после завершения встречи.")
    recipients = [r.strip() for r in recipients if r and r.strip()]
    if not recipients:
        raise ServiceError("Укажите, кому отправить протокол.", field="recipients")
    body = render_minutes(minutes_data(meeting), override_dir)
    subject = f"Протокол встречи № {meeting.minutes_number} от {long_date(meeting.starts_at)} — {meeting.client.short_name}"
    text = (f"Здравствуйте!\n\nНаправляем протокол планёрки {long_date(meeting.starts_at)} "
            f"(№ {meeting.minutes_number}).\nЕсли у вас есть замечания к протоколу, ответьте на это письмо.\n")
    outcome = mail.send(recipients, subject, text, about=(Meeting.__tablename__, meeting.id),
                        client_id=meeting.client_id, acting=acting,
                        attachments=[mail.Attachment(minutes_filename(meeting), DOCX, body)])
    if outcome.sent:
        mark_minutes_sent(meeting, recipients, acting=acting)
    return outcome


def mark_minutes_sent(meeting: Meeting, recipients: list[str], *, acting: User) -> None:
    """«Отправлено»: the minutes went out (by mail, or by hand without mail configured)."""
    access.require_edit_meeting(acting, meeting)
    meeting.minutes_sent_at = utcnow()
    meeting.minutes_sent_to = ", ".join(recipients)[:5000]
    db.session.flush()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- the client's confirmation of the minutes ----------------------------------------------------

CONFIRM_PURPOSE = "confirm_minutes"


def confirmers(meeting: Meeting) -> list[Contact]:
    """Who may confirm the minutes by link: the client's decision makers at the meeting with an e-mail."""
    return [a.contact for a in meeting.attendees
            if a.contact and a.contact.is_decision_maker and (a.contact.email or "").strip()]


def acceptance_deadline(meeting: Meeting) -> date | None:
    """The day by which silence counts as acceptance: the regulation's acceptance period, in
    working days, from the day the minutes went out."""
    if meeting.minutes_sent_at is None:
        return None
    from webapp.workcalendar import add_working_days
    return add_working_days(local(meeting.minutes_sent_at).date(), terms.effective_terms(meeting.client).acceptance_days)


def minutes_state(meeting: Meeting, day: date) -> str:
    """What the page says of the minutes: confirmed, objected to, accepted by silence, or waiting."""
    if meeting.minutes_objection:
        return f"Возражения ({meeting.minutes_confirmed_by}): {meeting.minutes_objection}"
    if meeting.minutes_confirmed_at is not None:
        return f"Подтверждён: {meeting.minutes_confirmed_by}, {date_time(meeting.minutes_confirmed_at)}"
    deadline = acceptance_deadline(meeting)
    if deadline is None:
        return ""
    if day > deadline:
        return f"Принят: возражений не поступило до {long_date(deadline)} (срок по регламенту)"
    return f"Ждём подтверждения; без возражений до {long_date(deadline)} протокол считается принятым"


def request_confirmation(meeting: Meeting, *, contact_id: int | None, acting: User) -> mail.Outcome:
    """A signed, single-use link for a decision maker to confirm the minutes or object to them,
    valid for the acceptance period (without mail, the text with the link to copy)."""
    access.require_edit_meeting(acting, meeting)
    if not meeting.is_held:
        raise ServiceError("Подтверждают протокол проведённой встречи.")
    contact = next((c for c in confirmers(meeting) if c.id == contact_id), None)
    if contact is None:
        raise ServiceError("Выберите ЛПР клиента с e-mail, который был на встрече.", field="contact_id")
    days = terms.effective_terms(meeting.client).acceptance_days
    token = links.issue_link(CONFIRM_PURPOSE, meeting, contact.email.strip(), timedelta(days=max(days, 1) + 7),
                             acting=acting)
    text = (f"Здравствуйте, {contact.full_name}!\n\nПросим подтвердить протокол № {meeting.minutes_number} "
            f"планёрки {long_date(meeting.starts_at)} или написать возражения — по ссылке (ответить можно один "
            f"раз):\n{links.link_url(token)}\n\nЕсли возражений не будет в течение {days} рабочих дней, "
            "протокол считается принятым.\n")
    return mail.send(contact.email.strip(), f"Подтверждение протокола № {meeting.minutes_number}", text,
                     about=(Meeting.__tablename__, meeting.id), client_id=meeting.client_id, acting=acting)


def _link_contact(meeting: Meeting, link) -> Contact:
    address = link.recipient.strip().lower()
    contact = next((c for c in confirmers(meeting) if c.email.strip().lower() == address), None)
    if contact is None:
        raise ServiceError("Адресата ссылки больше нет среди ЛПР клиента: попросите менеджера прислать новую.")
    if meeting.minutes_confirmed_at is not None or meeting.minutes_objection:
        raise ServiceError("По протоколу уже ответили.")
    return contact


def _confirm_by_link(meeting: Meeting, link, data) -> str:
    contact = _link_contact(meeting, link)
    meeting.minutes_confirmed_at = link.used_at
    meeting.minutes_confirmed_by = contact.full_name[:200]
    db.session.flush()
    return f"Протокол № {meeting.minutes_number} подтверждён. Спасибо!"


def _object_by_link(meeting: Meeting, link, data) -> str:
    contact = _link_contact(meeting, link)
    comment = (data.get("comment") or "").strip()[:5000]
    if not comment:
        raise ServiceError("Напишите, с чем вы не согласны.", field="comment")
    meeting.minutes_objection = comment
    meeting.minutes_confirmed_by = contact.full_name[:200]
    db.session.flush()
    return "Возражения записаны: менеджер свяжется с вами."


links.register_purpose(CONFIRM_PURPOSE, model=Meeting, render="meetings.confirm_link", title="Протокол встречи",
                       actions={"confirm": _confirm_by_link, "object": _object_by_link})


# --- calendars -----------------------------------------------------------------------------------


def send_invitation(meeting: Meeting, *, acting: User) -> mail.Outcome:
    """The client's attendees (who have no account) get the meeting as an iCalendar invitation
    (METHOD:REQUEST; a cancelled meeting goes as METHOD:CANCEL with the same UID)."""
    from webapp.services import calendars

    access.require_edit_meeting(acting, meeting)
    recipients = [a.contact.email.strip() for a in meeting.attendees if a.contact and (a.contact.email or "").strip()]
    if not recipients:
        raise ServiceError("У участников со стороны клиента не указан e-mail.")
    method = "CANCEL" if meeting.is_cancelled else "REQUEST"
    body = calendars.meeting_calendar(meeting, method=method)
    what = "Отмена встречи" if meeting.is_cancelled else "Приглашение на встречу"
    subject = f"{what}: {meeting.client.short_name}, {date_time(meeting.starts_at)}"
    text = (f"Здравствуйте!\n\n{what} {date_time(meeting.starts_at)} (время московское)"
            f"{', ' + meeting.place if meeting.place else ''}.\n")
    return mail.send(recipients, subject, text, about=(Meeting.__tablename__, meeting.id),
                     client_id=meeting.client_id, acting=acting,
                     attachments=[mail.Attachment("invite.ics", f"text/calendar; method={method}", body)])


# --- «Мой день» and the client's timeline -----------------------------------------------------------

dashboard.register(dashboard.Section(
    "meetings-today", "Встречи сегодня", 5,
    applies=lambda user: access.leads_clients(user) or access.is_admin(user),
    load=todays_meetings, count=len, macro="meetings.today_list",
    empty="Сегодня встреч нет."))


def _timeline_query(viewer: access.Viewer, before_kind: str | None, limit: int) -> sa.Select:
    """Held meetings in the client's history, each with the titles and decisions of its points
    (not its client and chair, which an entry does not name)."""
    return (access.visible_meetings(viewer).where(
        Meeting.client_id == timeline.CLIENT, Meeting.status == MeetingStatus.HELD,
        *timeline.older_than("meeting", Meeting.starts_at, Meeting.id, before_kind))
        .options(lazyload(Meeting.client), lazyload(Meeting.chair),
                 selectinload(Meeting.points).load_only(AgendaPoint.title, AgendaPoint.decision))
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(limit))


def _timeline_entries(client: Client, user: User, meetings) -> list[timeline.Entry]:
    """The minutes' number and the first five decisions of each meeting."""
    found = []
    for meeting in meetings:
        decisions = [(p.title, p.decision) for p in meeting.points if p.decided][:5]
        found.append(timeline.Entry("meeting", meeting.starts_at, meeting.id,
                                    f"Встреча проведена, протокол № {meeting.minutes_number}",
                                    meeting.place or "", meta="", lines=decisions))
    return found


timeline.register("meeting", query=_timeline_query, build=_timeline_entries)

