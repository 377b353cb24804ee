import sqlalchemy as sa
from sqlalchemy.orm import joinedload, load_only
from flask import abort, flash, request, url_for
from flask_login import current_user

from webapp import htmx, saving
from webapp.blueprints.clients import bp
from webapp.blueprints.clients.forms import (ClientForm, ContactForm, HandoverForm, RequisitesForm,
                                             TermsForm, TouchpointForm)
from webapp.extensions import db
from webapp.formatting import from_local, today
from webapp.forms import choices
from webapp.models import Channel, Client, User
from webapp.pagination import requested_page
from webapp.permissions import allow
from webapp.saving import DeleteConflict, submit
from webapp.services import access, as_id, budgets, terms, timeline
from webapp.services import acts as act_service
from webapp.services import clients as client_service

EDIT_BLOCKS = {"requisites": RequisitesForm, "terms": TermsForm}
SHOW_BLOCKS = {*EDIT_BLOCKS, "regulation"}
DETAIL = "clients/detail.html"
EDITORS = access.ACCOUNT_MANAGERS


def _load(client_id: int) -> Client:
    """The client if the user may see it; otherwise 404 (scope leaks nothing)."""
    return access.get_client(current_user, client_id)


def _managers() -> tuple[access.Person, ...]:
    return access.active_account_managers()


def _card_context(client: Client, **extra) -> dict:
    return dict(client=client, today=today(), can_edit=access.can_edit_client(current_user, client), **extra)


def _entries(client: Client, before: str | None = None) -> list[timeline.Entry]:
    # Every entry asks what this user may do with it: the user, not Flask-Login's proxy, each time.
    return timeline.entries(client, current_user._get_current_object(), before=before)


# --- list and creation ------------------------------------------------------------------------

# What a row of the list shows: loading only these (and of the team, only names) halves the work
# of turning 50 rows into objects.
LIST_COLUMNS = (
    load_only(Client.id, Client.short_name, Client.inn, Client.status, Client.manager_id, Client.deputy_id,
              Client.last_contact_at, Client.next_contact_on, Client.due_on, Client.overdue_on,
              Client.critical_on, Client.version),
    joinedload(Client.manager, innerjoin=True).load_only(User.id, User.full_name),
    joinedload(Client.deputy).load_only(User.id, User.full_name),
)


@bp.get("/")
@allow()
def index():
    """All clients the user may see: active search, filters, sorting, pagination."""
    args = request.args
    filters = client_service.ClientFilters(q=args.get("q", "")[:100], manager=args.get("manager", ""),
                                           status=args.get("status", "open"),
                                           cadence=args.get("cadence", ""), sort=args.get("sort", "name"))
    query = client_service.client_list_query(current_user, filters, today()).options(*LIST_COLUMNS)
    page = requested_page(query)
    return htmx.render("clients/list.html", block="results", page=page, filters=filters,
                       managers=_managers(), today=today(),
                       matches=client_service.match_notes(page.items, filters.q),
                       can_create=access.can_create_client(current_user),
                       can_hand_over=access.can_hand_over(current_user))


@bp.route("/new", methods=["GET", "POST"])
@allow(*EDITORS)
def new():
    """Add a client; the manager who adds it leads it."""
    form = ClientForm()
    form.set_team_choices(_managers(), can_reassign=access.can_reassign_client(current_user))
    if request.method == "GET":
        if "manager_id" in form:
            form.manager_id.data = current_user.id
        form.hourly_rate.data = None
    outcome = submit(form, lambda: client_service.create_client(form.values(), acting=current_user))
    if outcome.saved:
        flash(f"Клиент «{outcome.result.short_name}» добавлен.", "success")
        return htmx.redirect(url_for("clients.detail", client_id=outcome.result.id, check="namesakes"))
    return htmx.render("clients/new.html", form=form, status=outcome.status)


# --- the card -----------------------------------------------------------------------------------


@bp.get("/<int:client_id>")
@allow()
def detail(client_id: int):
    """The client card: requisites, terms, contacts and the timeline, each editable in place."""
    client = _load(client_id)
    namesakes = client_service.namesakes(current_user, client) if request.args.get("check") == "namesakes" else []
    return htmx.render(DETAIL, **_card_context(client, entries=_entries(client), log_form=_log_form(client, blank=True),
                                               namesakes=namesakes,
                                               budget_alerts=budgets.open_alerts(current_user, client=client),
                                               can_see_budget=access.can_see_budgets(current_user),
                                               terms=terms.effective_terms(client),
                                               act_balance=act_service.client_balance(client, today())
                                               if access.can_see_acts(current_user) else None,
                                               contact_form=ContactForm(prefix="new-contact", formdata=None)))


@bp.route("/<int:client_id>/edit/<block>", methods=["GET", "POST"])
@allow(*EDITORS)
def edit_block(client_id: int, block: str):
    """Inline edit of one block of the card (click → form → save → the block)."""
    client = _load(client_id)
    access.require_edit_client(current_user, client)
    if block not in EDIT_BLOCKS:
        abort(404)
    form = EDIT_BLOCKS[block](obj=client, data={"status": client.status.value} if block == "terms" else None)
    if block == "terms":
        form.set_team_choices(_managers(), can_reassign=access.can_reassign_client(current_user))
    if request.method == "GET":
        saving.arm(form, client)
    outcome = submit(form, lambda: client_service.update_client(client, saving.edit_of(form), acting=current_user))
    context = _card_context(client, form=form, conflict=outcome.conflict)
    if outcome.saved:
        response = htmx.render_fragment(DETAIL, f"{block}_view", "heading", heading_oob=True, **context)
        return htmx.trigger(response, "client-changed", {"client": client.id})
    return htmx.render_fragment(DETAIL, f"{block}_form", status=outcome.status, **context)


@bp.get("/<int:client_id>/show/<block>")
@allow()
def show_block(client_id: int, block: str):
    """One block of the card as displayed (the «Отмена» of an inline edit, or a block refreshing
    itself after a change elsewhere on the page)."""
    client = _load(client_id)
    if block not in SHOW_BLOCKS:
        abort(404)
    return htmx.render_fragment(DETAIL, f"{block}_view", **_card_context(client, terms=terms.effective_terms(client)))


# --- contacts -----------------------------------------------------------------------------------


def _contacts_block(client: Client, form: ContactForm | None = None, status: int = 200, **extra):
    db.session.refresh(client, ["contacts"])
    return htmx.render_fragment(DETAIL, "contacts", status=status, **_card_context(
        client, contact_form=form or ContactForm(prefix="new-contact", formdata=None), **extra))


@bp.post("/<int:client_id>/contacts")
@allow(*EDITORS)
def add_contact(client_id: int):
    """Add a person on the client's side."""
    client = _load(client_id)
    access.require_edit_client(current_user, client)
    form = ContactForm(prefix="new-contact")
    outcome = submit(form, lambda: client_service.add_contact(client, form.values(), acting=current_user))
    if outcome.saved:
        return htmx.trigger(_contacts_block(client), "contacts-changed", {"client": client.id})
    return _contacts_block(client, form, outcome.status, adding=True)


@bp.route("/<int:client_id>/contacts/<int:contact_id>", methods=["GET", "POST"])
@allow()
def contact(client_id: int, contact_id: int):
    """A contact's row: GET shows it (or its form with ?edit=1), POST saves it."""
    client = _load(client_id)
    person = client_service.get_contact(client, contact_id)
    editing = request.method == "POST" or request.args.get("edit") == "1"
    if not editing:
        return htmx.render_fragment(DETAIL, "contact_row", **_card_context(client, contact=person))
    access.require_edit_client(current_user, client)
    form = ContactForm(obj=person, prefix=f"contact{person.id}")
    return saving.row_edit(
        form, person, lambda edit: client_service.update_contact(person, edit, acting=current_user),
        saved=lambda: htmx.trigger(htmx.render_fragment(DETAIL, "contact_row", **_card_context(client, contact=person)),
                                   "contacts-changed", {"client": client.id}),
        drawn=lambda outcome: htmx.render_fragment(DETAIL, "contact_form_row", status=outcome.status, **_card_context(
            client, contact=person, form=form, conflict=outcome.conflict)))


@bp.post("/<int:client_id>/contacts/<int:contact_id>/delete")
@allow(*EDITORS)
def delete_contact(client_id: int, contact_id: int):
    """Remove a contact; one changed since it was shown is asked about again, in its row."""
    client = _load(client_id)
    person = client_service.get_contact(client, contact_id)
    try:
        client_service.remove_contact(person, request.form.get("version"), acting=current_user)
    except DeleteConflict as conflict:
        db.session.rollback()
        return htmx.render_fragment(DETAIL, "contact_row", status=409, **_card_context(
            client, contact=person, delete_conflict=conflict.message))
    db.session.commit()
    return htmx.trigger(_contacts_block(client), "contacts-changed", {"client": client.id})


# --- touchpoints --------------------------------------------------------------------------------


def _log_form(client: Client, *, blank: bool = False) -> TouchpointForm:
    """The quick contact log of this client (prefixed: «Мой день» holds several at once)."""
    form = TouchpointForm(prefix=f"c{client.id}", **({"formdata": None} if blank else {}))
    form.set_contacts(client.contacts)
    if blank or not form.is_submitted():
        form.channel.data = client_service.likely_channel(client).value
    return form


@bp.get("/<int:client_id>/touchpoints/new")
@allow(*EDITORS)
def new_touchpoint(client_id: int):
    """The quick log form, opened in place (from «Мой день» or the client list); ``?part=contacts``
    is its «С кем» list alone, refreshed when the client's contacts change."""
    client = _load(client_id)
    access.require_edit_client(current_user, client)
    form = _log_form(client)
    if request.args.get("part") == "contacts":
        return htmx.render_fragment(DETAIL, "log_contacts", **_card_context(client, log_form=form))
    return htmx.render_fragment(DETAIL, "log_form", **_card_context(
        client, log_form=form, origin=request.args.get("origin", "card")))


@bp.post("/<int:client_id>/touchpoints")
@allow(*EDITORS)
def log_touchpoint(client_id: int):
    """Record a contact; the client's cadence moves at once."""
    client = _load(client_id)
    access.require_edit_client(current_user, client)
    form = _log_form(client)
    origin = request.form.get("origin", "card")
    outcome = submit(form, lambda: client_service.log_touchpoint(
        client, channel=Channel(form.channel.data), summary=form.summary.data, acting=current_user,
        occurred_at=from_local(form.occurred_at.data) if form.occurred_at.data else None,
        contact_ids=form.contact_ids.data or [], next_step=form.next_step.data or "",
        next_contact_on=form.next_contact_on.data))
    if not outcome.saved:
        return htmx.render_fragment(DETAIL, "log_form", status=outcome.status,
                                    **_card_context(client, log_form=form, origin=origin))
    if not htmx.is_htmx():
        flash("Контакт записан.", "success")
        return htmx.redirect(url_for("clients.detail", client_id=client.id))
    if origin == "dashboard":
        # The row leaves the due list; the dashboard counts refresh on the event.
        return htmx.trigger(htmx.render_fragment("dashboard/index.html", "logged_row", client=client,
                                                 today=today()), "contact-logged", {"client": client.id})
    response = htmx.render_fragment(DETAIL, "log_form", "timeline", "heading", **_card_context(
        client, entries=_entries(client), log_form=_log_form(client, blank=True), logged=True,
        timeline_oob=True, heading_oob=True))
    return htmx.trigger(response, "client-changed", {"client": client.id})


@bp.post("/<int:client_id>/touchpoints/<int:touchpoint_id>/delete")
@allow(*EDITORS)
def delete_touchpoint(client_id: int, touchpoint_id: int):
    """Remove a contact logged by mistake; one changed since it was shown is asked about again."""
    client = _load(client_id)
    touchpoint = client_service.get_touchpoint(client, touchpoint_id)
    status, message = 200, None
    try:
        client_service.delete_touchpoint(touchpoint, request.form.get("version"), acting=current_user)
        db.session.commit()
    except DeleteConflict as conflict:
        db.session.rollback()
        status, message = 409, conflict.message
    response = htmx.render_fragment(DETAIL, "history", "heading", status=status, **_card_context(
        client, entries=_entries(client), log_form=_log_form(client, blank=True), heading_oob=True,
        history_message=message))
    return htmx.trigger(response, "client-changed", {"client": client.id}) if status == 200 else response


@bp.get("/<int:client_id>/timeline", endpoint="timeline")
@allow()
def timeline_page(client_id: int):
    """Older entries of the timeline («Показать ещё»)."""
    client = _load(client_id)
    return htmx.render_fragment(DETAIL, "timeline_entries", **_card_context(
        client, entries=_entries(client, request.args.get("before"))))


# --- handover -----------------------------------------------------------------------------------


@bp.route("/handover", methods=["GET", "POST"])
@allow(*access.ADMINS)
def handover():
    """Move a manager's clients to another manager (vacation, leaving): choose, preview, confirm;
    after it, a way to hand the same clients back."""
    form = HandoverForm()
    everyone = list(db.session.scalars(access.account_managers(include_inactive=True)))
    form.from_user.choices = choices([("", "— выберите —")] + [(u.id, u.full_name + ("" if u.active else " (отключён)")) for u in everyone])
    form.to_user.choices = choices([("", "— выберите —")] + [(u.id, u.full_name) for u in everyone if u.active])
    args = request.args
    if request.method == "GET":  # a preview (or the hand-back offer) comes as ?from_user=…&to_user=…
        form.from_user.data, form.to_user.data = as_id(args.get("from_user")), as_id(args.get("to_user"))
        form.as_deputy.data = args.get("as_deputy") in ("y", "1")
        form.clients.data = args.get("clients", "")
    giver, taker = db.session.get(User, form.from_user.data or 0), db.session.get(User, form.to_user.data or 0)
    outcome = submit(form, lambda: client_service.hand_over(
        giver, taker, acting=current_user, as_deputy=form.as_deputy.data, client_ids=form.client_ids()))
    if outcome.saved:
        done = outcome.result
        flash(done.message(giver, taker), "success")
        return htmx.redirect(url_for("clients.handover", from_user=taker.id, to_user=giver.id, back=1,
                                     as_deputy="y" if done.deputy else "",
                                     clients=",".join(map(str, done.led + done.deputy))))
    plan = client_service.handover_plan(giver, form.client_ids()) if giver else None
    counts = dict(db.session.execute(sa.select(Client.manager_id, sa.func.count()).group_by(Client.manager_id)).all())
    return htmx.render("clients/handover.html", form=form, managers=everyone, counts=counts, plan=plan,
                       giver=giver, taker=taker, handing_back=args.get("back") == "1", status=outcome.status)
