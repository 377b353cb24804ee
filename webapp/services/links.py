"""Ways in without a login: signed, single-use, expiring links, and calendar feed tokens.

A decision maker without an account answers through a link made for one action on one record:
approve or decline an estimate, confirm minutes. An area declares what such a link is for once::

    links.register_purpose("approve_estimate", model=BacklogItem, render="backlog.approval_link",
                           title="Согласование оценки",
                           actions={"approve": approve_by_link, "decline": decline_by_link})

``render`` names a macro drawn inside the page's CSRF-protected form with ``record``, ``link`` and
``error``; it shows the record and one ``<button name="action" value="approve">`` per action (plus
any fields, e.g. a comment). A handler ``handler(record, link, data)`` does the action (``data`` is
the posted form, ``link.recipient`` and ``link.used_at`` say who answered and when, the channel is
«ссылка»), may raise ``ServiceError`` to refuse the input (the link stays usable), and returns the
text the person reads afterwards. ``issue_link`` gives the token for ``link_url``; the page
``/l/<token>`` (blueprints/links) resolves it, and its POST runs ``act``: the link is marked used
by a conditional UPDATE in the same transaction as the handler's changes, so of two concurrent
answers exactly one wins.

Only a token's sha256 is stored: finding a link is an indexed lookup of the hash, which compares
no secret byte by byte and opens nothing from a copy of the database.
"""

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from sqlalchemy.orm.attributes import set_committed_value

from webapp.extensions import db
from webapp.models import FeedToken, SignedLink, User
from webapp.models.audit import log_event
from webapp.models.types import utcnow
from webapp.services import ServiceError, access

TOKEN_BYTES = 32  # 256 random bits: 43 characters in a URL
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,100}\Z")

Handler = Callable[[Any, SignedLink, Mapping[str, str]], str | None]


class LinkRefused(ServiceError):
    """The link cannot be used: 404 for one that never was, 410 for one that was and is no more.
    The message says which, and nothing about the record behind it."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def _invalid() -> LinkRefused:
    return LinkRefused("Ссылка неверна: проверьте, что она скопирована целиком, или попросите прислать её заново.", 404)


def _expired() -> LinkRefused:
    return LinkRefused("Ссылка устарела. Попросите вашего менеджера прислать новую.", 410)


def _used() -> LinkRefused:
    return LinkRefused("Ссылка уже использована: ответ по ней записан. Если нужно что-то изменить, "
                       "напишите вашему менеджеру.", 410)


@dataclass(frozen=True)
class Purpose:
    name: str
    model: type
    render: str  # «area.macro»
    actions: dict[str, Handler]
    title: str


_PURPOSES: dict[str, Purpose] = {}


def register_purpose(name: str, *, model: type, render: str, actions: dict[str, Handler], title: str) -> None:
    """Declare what links of ``name`` act on, how their page looks and what each answer does."""
    if not actions:
        raise ValueError(f"purpose {name} has no actions")
    _PURPOSES[name] = Purpose(name, model, render, dict(actions), title)


def purpose_of(link: SignedLink) -> Purpose:
    return _PURPOSES[link.purpose]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(purpose: str, record: Any, recipient: str, ttl: timedelta, *, acting: User | None = None,
               now: datetime | None = None) -> str:
    """A new link for ``recipient`` (the address or messenger it goes to) to act once on ``record``
    within ``ttl``; returns the token, which is stored nowhere else (``link_url`` makes the URL)."""
    declared = _PURPOSES.get(purpose)
    if declared is None or not isinstance(record, declared.model):
        raise ValueError(f"no link purpose {purpose!r} for {type(record).__name__}")
    if ttl <= timedelta(0):
        raise ValueError("a link must live for some time")
    recipient = " ".join((recipient or "").split())
    if not recipient:
        raise ServiceError("Укажите, кому отправлена ссылка.", field="recipient")
    if len(recipient) > 320:
        raise ServiceError("Адрес получателя слишком длинный.", field="recipient")
    now = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(SignedLink(purpose=purpose, entity_type=record.__tablename__, entity_id=record.id,
                              recipient=recipient, token_hash=digest(token),
                              created_by_id=acting.id if acting else None, created_at=now, expires_at=now + ttl))
    db.session.flush()
    return token


def link_url(token: str) -> str:
    """The full URL to send: under ``LINKS_BASE_URL`` (how clients reach us), else this request's host."""
    base = current_app.config.get("LINKS_BASE_URL") or ""
    if base:
        return base.rstrip("/") + current_app.url_map.bind("").build("links.page", {"token": token})
    if not has_request_context():
        raise RuntimeError("LINKS_BASE_URL is needed to make a link outside a request")
    return url_for("links.page", token=token, _external=True)


def resolve(token: str, *, now: datetime | None = None) -> SignedLink:
    """The live link behind ``token``, or LinkRefused (неверна 404; устарела, использована 410)."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.match(token):
        raise _invalid()
    link = db.session.scalar(sa.select(SignedLink).where(SignedLink.token_hash == digest(token)))
    if link is None or link.purpose not in _PURPOSES:
        raise _invalid()
    if link.used_at is not None:
        raise _used()
    if link.expires_at <= (now or utcnow()):
        raise _expired()
    return link


def record_of(link: SignedLink) -> Any:
    """The record the link acts on; gone with it, the link is gone too."""
    record = db.session.get(purpose_of(link).model, link.entity_id)
    if record is None:
        raise LinkRefused("Ссылка больше не действует: запись, о которой она, удалена.", 410)
    return record


def use(link: SignedLink, result: str, *, now: datetime | None = None) -> None:
    """Mark ``link`` used with ``result`` in the caller's transaction. The UPDATE only matches an
    unused, unexpired row, so of two concurrent answers one changes it and the other finds it used
    (PostgreSQL waits on the row lock, SQLite on its write lock, then re-reads)."""
    now = now or utcnow()
    changed = db.session.execute(
        sa.update(SignedLink)
        .where(SignedLink.id == link.id, SignedLink.used_at.is_(None), SignedLink.expires_at > now)
        .values(used_at=now, result=result)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        db.session.refresh(link)
        raise _used() if link.used_at is not None else _expired()
    set_committed_value(link, "used_at", now)
    set_committed_value(link, "result", result)
    log_event(SignedLink.__tablename__, link.id, str(link), "link_used",
              {"result": [None, result], "recipient": [None, link.recipient]})


def act(link: SignedLink, action: str, data: Mapping[str, str], *, now: datetime | None = None) -> str | None:
    """Answer through ``link``: claim it, then run the purpose's handler, in one transaction that
    the caller commits (or rolls back on a ServiceError, leaving the link usable)."""
    purpose = purpose_of(link)
    handler = purpose.actions.get(action)
    if handler is None:
        raise ServiceError("Выберите один из ответов на странице.", field="action")
    record = record_of(link)
    use(link, action, now=now)
    return handler(record, link, data)


# --- calendar feeds --------------------------------------------------------------------------

EMPTY_CALENDAR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//AccountDesk//RU\r\nEND:VCALENDAR\r\n"

_feed: Callable[[User], str] | None = None


def register_feed(build: Callable[[User], str]) -> None:
    """The meetings area: ``build(user)`` returns the user's calendar as iCalendar text."""
    global _feed
    _feed = build


def calendar_feed(user: User) -> str:
    return _feed(user) if _feed else EMPTY_CALENDAR


def issue_feed_token(user: User, *, acting: User) -> str:
    """A new calendar feed token for ``user`` (the old one stops working); returned once."""
    access.require(acting.id == user.id or access.is_admin(acting),
                   "Ссылку на календарь выдаёт сам сотрудник или администратор.")
    _delete_feed_token(user)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(FeedToken(user_id=user.id, token_hash=digest(token)))
    db.session.flush()
    return token


def revoke_feed_token(user: User, *, acting: User) -> bool:
    """Stop ``user``'s calendar feed; False when there was none."""
    access.require(acting.id == user.id or access.is_admin(acting),
                   "Отозвать ссылку на календарь может сам сотрудник или администратор.")
    return _delete_feed_token(user)


def _delete_feed_token(user: User) -> bool:
    existing = db.session.scalar(sa.select(FeedToken).where(FeedToken.user_id == user.id))
    if existing is None:
        return False
    db.session.delete(existing)
    db.session.flush()  # before a new row for the same user, which is unique
    return True


def feed_owner(token: str) -> User | None:
    """The active user whose calendar ``token`` opens, or None."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.match(token):
        return None
    feed = db.session.scalar(sa.select(FeedToken).where(FeedToken.token_hash == digest(token)))
    return feed.user if feed is not None and feed.user.active else None
