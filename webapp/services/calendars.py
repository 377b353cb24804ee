"""Meetings as iCalendar: one meeting's ``.ics``, an invitation, and each user's private feed.

Built with the ``icalendar`` library: times in the installation's zone with its VTIMEZONE, the place,
a UID that never changes, a SEQUENCE that the service raises on every reschedule or cancellation, and
a cancelled meeting as STATUS:CANCELLED, so Outlook and Thunderbird update the same event.
"""

import functools
from datetime import timedelta

from icalendar import Calendar, Event, Timezone

from webapp.extensions import db
from webapp.formatting import local
from webapp.models import Meeting, User
from webapp.models.types import utcnow
from webapp.services import access, links

FEED_PAST = timedelta(days=60)
FEED_LIMIT = 500


def _calendar(method: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//AccountDesk//RU")
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    return calendar


def _event(meeting: Meeting) -> Event:
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence or 0)
    event.add("dtstamp", utcnow())
    event.add("dtstart", local(meeting.starts_at))
    event.add("dtend", local(meeting.ends_at))
    event.add("summary", f"{meeting.kind.label}: {meeting.client.short_name}")
    if meeting.place:
        event.add("location", meeting.place)
    event.add("status", "CANCELLED" if meeting.is_cancelled else "CONFIRMED")
    if meeting.is_cancelled and meeting.cancel_reason:
        event.add("description", f"Отменена: {meeting.cancel_reason}")
    return event


def _ics(calendar: Calendar, meetings: list[Meeting]) -> bytes:
    for meeting in meetings:
        calendar.add_component(_event(meeting))
    # What ``calendar.add_missing_timezones()`` does, with each zone built once per process
    zones = [zone for zone in map(_timezone, sorted(calendar.get_missing_tzids())) if zone is not None]
    calendar.subcomponents[:0] = zones  # before the events that name them
    return calendar.to_ical()


@functools.lru_cache(maxsize=8)
def _timezone(tzid: str) -> Timezone | None:
    """The VTIMEZONE of ``tzid`` (None for a zone icalendar does not know). Building it walks the
    zone's transitions from 1970 to 2038: 10 of a meeting's .ics 11 ms, and icalendar's own advice
    is to cache it. Shared by every calendar, which only serializes it."""
    try:
        return Timezone.from_tzid(tzid)
    except ValueError:
        return None


def meeting_calendar(meeting: Meeting, *, method: str | None = None) -> bytes:
    """One meeting as an .ics file (``method``: REQUEST or CANCEL for an invitation by mail)."""
    return _ics(_calendar(method), [meeting])


def user_feed(user: User) -> str:
    """The meetings of ``user``'s clients and those they attend, from two months back."""
    from webapp.services.meetings import _mine

    query = (access.visible_meetings(user).where(Meeting.starts_at >= utcnow() - FEED_PAST, _mine(user))
             .order_by(Meeting.starts_at, Meeting.id).limit(FEED_LIMIT))
    meetings = list(db.session.scalars(query))
    return _ics(_calendar(), meetings).decode()


links.register_feed(user_feed)
