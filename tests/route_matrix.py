"""The role × route matrix: which status each role gets on every route of the app, and how to
build a real URL for each. The permission, security and HTML suites walk the routes through it.

A new route needs a row in ``EXPECTED`` (and, if its rule has parts to fill, a row in ``URL_ARGS``
and its record in the ``sample_records`` fixture), or ``test_matrix_covers_every_route`` fails.
"""

from collections.abc import Callable

from flask import Flask, url_for

from webapp.models import Role

ADMIN, MANAGER, LEAD, SPECIALIST, ACCOUNTANT = Role
EVERY_ROLE = frozenset(Role)
ADMIN_ONLY = frozenset({ADMIN})
EDITORS = frozenset({ADMIN, MANAGER})
ANYONE = "anyone"  # a public route: no login needed


def on_record(*, admin=200, manager=200, lead=200, specialist=404, accountant=200) -> dict[Role, int]:
    """A route on one sample record, which belongs to another manager: what each role gets.
    A role that may not see the record gets 404 (scope leaks nothing); one that sees it but may
    not change it gets 403; a role the route itself is not for gets 403 at the gate."""
    return {ADMIN: admin, MANAGER: manager, LEAD: lead, SPECIALIST: specialist, ACCOUNTANT: accountant}


READ_ONLY_FOR_OTHERS = dict(manager=403, lead=403, specialist=403, accountant=403)

# Endpoint → the roles that may use it (200 for them, 403 for the rest), or each role's status.
EXPECTED: dict[str, frozenset[Role] | str | dict[Role, int]] = {
    "auth.login": ANYONE,
    "auth.logout": EVERY_ROLE,
    "auth.account": EVERY_ROLE,
    "dashboard.index": EVERY_ROLE,
    "health.check": ANYONE,
    "links.page": ANYONE,  # a signed link: the token is the key (a made-up one here: 404)
    "links.feed": ANYONE,  # a calendar feed: the feed token is the key
    "admin.users": ADMIN_ONLY,
    "admin.new_user": ADMIN_ONLY,
    "admin.edit_user": ADMIN_ONLY,
    "admin.reset_password": ADMIN_ONLY,
    "admin.company": ADMIN_ONLY,
    "admin.audit": ADMIN_ONLY,
    "admin.templates": ADMIN_ONLY,
    "admin.template_file": ADMIN_ONLY,
    "admin.reset_template": ADMIN_ONLY,
    "admin.directory": ADMIN_ONLY,
    "admin.directory_test": ADMIN_ONLY,  # no directory configured: the page says what is missing
    "admin.directory_check": {**dict.fromkeys(Role, 403), ADMIN: 422},  # the empty probe form: no login
    "clients.index": EVERY_ROLE,
    "clients.new": EDITORS,
    "clients.handover": ADMIN_ONLY,
    "clients.detail": on_record(),
    "clients.show_block": on_record(),
    "clients.timeline": on_record(),
    "clients.contact": on_record(),
    "clients.edit_block": on_record(**READ_ONLY_FOR_OTHERS),
    "clients.new_touchpoint": on_record(**READ_ONLY_FOR_OTHERS),
    # POST-only: the empty probe form gets past the gate and the scope, then is refused (422)
    "clients.add_contact": on_record(admin=422, **READ_ONLY_FOR_OTHERS),
    "clients.delete_contact": on_record(admin=422, **READ_ONLY_FOR_OTHERS),
    "clients.log_touchpoint": on_record(admin=422, **READ_ONLY_FOR_OTHERS),
    "clients.delete_touchpoint": on_record(admin=422, **READ_ONLY_FOR_OTHERS),
    "regulations.standard": ADMIN_ONLY,
    "regulations.index": on_record(),
    "regulations.detail": on_record(),
    "regulations.show_group": on_record(),
    "regulations.edit_group": on_record(**READ_ONLY_FOR_OTHERS),
    "regulations.compare": on_record(),
    "regulations.document": on_record(),
    "regulations.revise": on_record(admin=422, **READ_ONLY_FOR_OTHERS),  # the sample is a draft already
    "regulations.delete": on_record(admin=422, **READ_ONLY_FOR_OTHERS),
    # no target status: refused as a malformed request before the rights are weighed
    "regulations.move": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=403),
    # a file follows the scope of the record that owns it (here the sample client): every role
    # passes the gate, one outside the record gets 404, a reader 403 on a change
    "files.open_file": on_record(),
    "files.item": on_record(),
    "files.transcript": on_record(manager=403, lead=403, accountant=403),
    "files.delete": on_record(admin=422, manager=403, lead=403, accountant=403),  # no version: asked again
    "files.upload": on_record(admin=422, manager=403, lead=403, accountant=403),  # no file chosen
    "backlog.index": frozenset({ADMIN, MANAGER, LEAD, ACCOUNTANT}),
    "backlog.choose_client": EDITORS,
    "backlog.client_list": on_record(),
    "backlog.print_order": on_record(),
    "backlog.export_order": on_record(),
    "backlog.new_item": on_record(**READ_ONLY_FOR_OTHERS),
    "backlog.fix_priorities": on_record(admin=422, **READ_ONLY_FOR_OTHERS),
    "backlog.reorder": on_record(admin=422, **READ_ONLY_FOR_OTHERS),
    "backlog.detail": on_record(),
    "backlog.spec_document": on_record(),
    "backlog.show_block": on_record(),
    "backlog.stage": on_record(),
    "backlog.edit_block": on_record(manager=403, specialist=403, accountant=403),
    "backlog.move": on_record(admin=422, manager=403, lead=422, accountant=403),
    "backlog.estimate": on_record(admin=422, manager=403, lead=422, specialist=403, accountant=403),
    "backlog.add_stage": on_record(admin=422, manager=403, lead=422, specialist=403, accountant=403),
    "backlog.stage_done": on_record(admin=422, manager=403, lead=422, accountant=403),
    "backlog.log_time": on_record(admin=422, manager=403, lead=422, accountant=403),
    "backlog.approve": on_record(admin=422, **READ_ONLY_FOR_OTHERS),
    "backlog.send_approval_link": on_record(admin=422, **READ_ONLY_FOR_OTHERS),
    "budgets.index": frozenset({ADMIN, MANAGER, LEAD, ACCOUNTANT}),
    "budgets.detail": on_record(specialist=403),
    "budgets.workbook": on_record(specialist=403),
    "budgets.appendix": on_record(specialist=403),
    "budgets.block_page": on_record(specialist=403),
    "budgets.create": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=403),
    "budgets.add_block": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=403),
    "budgets.edit_block": on_record(manager=403, lead=403, specialist=403, accountant=403),
    "budgets.move_money": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=403),
    "budgets.approve": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=403),
    "budgets.move": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=403),
    "budgets.next_year": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=403),
    # acts: every reader of all clients sees them; the bookkeepers (admin, accountant) change them,
    # the client's team prepares drafts; a specialist is stopped at the gate
    "acts.index": frozenset({ADMIN, MANAGER, LEAD, ACCOUNTANT}),
    "acts.export_csv": frozenset({ADMIN, MANAGER, LEAD, ACCOUNTANT}),
    "acts.export_xlsx": frozenset({ADMIN, MANAGER, LEAD, ACCOUNTANT}),
    "acts.client_list": on_record(specialist=403),
    "acts.new_act": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=422),
    "acts.send_reminder": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=422),
    "acts.detail": on_record(specialist=403),
    "acts.document": on_record(specialist=403),
    "acts.invoice": on_record(specialist=403),
    "acts.totals": on_record(specialist=403),
    "acts.line": on_record(specialist=403),
    "acts.move": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=422),
    "acts.delete": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=422),  # no version
    "acts.add_line": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=422),
    "acts.delete_line": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=422),
    "acts.add_payment": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=422),
    "acts.reminded": on_record(admin=422, manager=403, lead=403, specialist=403, accountant=403),
    "meetings.index": EVERY_ROLE,
    "meetings.calendar": EVERY_ROLE,
    "meetings.client_list": on_record(),
    "meetings.detail": on_record(),
    "meetings.minutes": on_record(),
    "meetings.ics": on_record(),
    "meetings.action_history": on_record(),
    # POST-only, the client team's: the empty probe form is refused (422) after the gate and the scope
    **{f"meetings.{name}": on_record(admin=422, **READ_ONLY_FOR_OTHERS)
       for name in ("plan", "move", "reschedule", "next_meeting", "refresh_agenda", "add_attendee", "attendance",
                    "add_point", "save_point", "move_point", "remove_point", "add_action", "save_action",
                    "action_to_backlog", "approve", "agree_priorities", "send_minutes", "mark_sent", "invite",
                    "request_confirmation")},
}

# Routes whose rule has parts to fill: endpoint → their values, from the ``sample_records`` fixture.
URL_ARGS: dict[str, Callable[..., dict]] = {
    "admin.edit_user": lambda r: {"user_id": r.user.id},
    "admin.reset_password": lambda r: {"user_id": r.user.id},
    "admin.template_file": lambda r: {"name": "regulation.docx"},
    "admin.reset_template": lambda r: {"name": "regulation.docx"},
    "links.page": lambda r: {"token": "made-up-token-of-the-right-length-abcdefghijk"},
    "links.feed": lambda r: {"token": "made-up-token-of-the-right-length-abcdefghijk"},
    "clients.detail": lambda r: {"client_id": r.client.id},
    "clients.edit_block": lambda r: {"client_id": r.client.id, "block": "requisites"},
    "clients.show_block": lambda r: {"client_id": r.client.id, "block": "requisites"},
    "clients.timeline": lambda r: {"client_id": r.client.id},
    "clients.contact": lambda r: {"client_id": r.client.id, "contact_id": r.contact.id},
    "clients.add_contact": lambda r: {"client_id": r.client.id},
    "clients.delete_contact": lambda r: {"client_id": r.client.id, "contact_id": r.contact.id},
    "clients.new_touchpoint": lambda r: {"client_id": r.client.id},
    "clients.log_touchpoint": lambda r: {"client_id": r.client.id},
    "clients.delete_touchpoint": lambda r: {"client_id": r.client.id, "touchpoint_id": r.touchpoint.id},
    "regulations.index": lambda r: {"client_id": r.client.id},
    "regulations.detail": lambda r: {"regulation_id": r.regulation.id},
    "regulations.show_group": lambda r: {"regulation_id": r.regulation.id, "group": "sla"},
    "regulations.edit_group": lambda r: {"regulation_id": r.regulation.id, "group": "sla"},
    "regulations.compare": lambda r: {"regulation_id": r.regulation.id, "with": r.regulation.id},
    "regulations.document": lambda r: {"regulation_id": r.regulation.id},
    "regulations.revise": lambda r: {"regulation_id": r.regulation.id},
    "regulations.delete": lambda r: {"regulation_id": r.regulation.id},
    "regulations.move": lambda r: {"regulation_id": r.regulation.id},
    "files.open_file": lambda r: {"attachment_id": r.attachment.id},
    "files.item": lambda r: {"attachment_id": r.attachment.id},
    "files.transcript": lambda r: {"attachment_id": r.attachment.id},
    "files.delete": lambda r: {"attachment_id": r.attachment.id},
    "files.upload": lambda r: {"owner_type": "sample_client", "owner_id": r.client.id},
    "backlog.client_list": lambda r: {"client_id": r.client.id},
    "backlog.print_order": lambda r: {"client_id": r.client.id},
    "backlog.export_order": lambda r: {"client_id": r.client.id},
    "backlog.new_item": lambda r: {"client_id": r.client.id},
    "backlog.fix_priorities": lambda r: {"client_id": r.client.id},
    "backlog.reorder": lambda r: {"item_id": r.item.id},
    "backlog.detail": lambda r: {"item_id": r.item.id},
    "backlog.spec_document": lambda r: {"item_id": r.item.id},
    "backlog.show_block": lambda r: {"item_id": r.item.id, "block": "summary"},
    "backlog.edit_block": lambda r: {"item_id": r.item.id, "block": "summary"},
    "backlog.move": lambda r: {"item_id": r.item.id},
    "backlog.estimate": lambda r: {"item_id": r.item.id},
    "backlog.approve": lambda r: {"item_id": r.item.id},
    "backlog.send_approval_link": lambda r: {"item_id": r.item.id},
    "backlog.log_time": lambda r: {"item_id": r.item.id},
    "backlog.add_stage": lambda r: {"item_id": r.item.id},
    "backlog.stage": lambda r: {"item_id": r.item.id, "stage_id": r.stage.id},
    "backlog.stage_done": lambda r: {"item_id": r.item.id, "stage_id": r.stage.id},
    "budgets.index": lambda r: {"year": 2026},
    "budgets.detail": lambda r: {"client_id": r.client.id, "year": 2026},
    "budgets.workbook": lambda r: {"client_id": r.client.id, "year": 2026},
    "budgets.appendix": lambda r: {"client_id": r.client.id, "year": 2026},
    "budgets.create": lambda r: {"client_id": r.client.id, "year": 2026},
    "budgets.add_block": lambda r: {"client_id": r.client.id, "year": 2026},
    "budgets.approve": lambda r: {"client_id": r.client.id, "year": 2026},
    "budgets.move": lambda r: {"client_id": r.client.id, "year": 2026},
    "budgets.next_year": lambda r: {"client_id": r.client.id, "year": 2026},
    "budgets.block_page": lambda r: {"block_id": r.block.id},
    "budgets.edit_block": lambda r: {"block_id": r.block.id},
    "budgets.move_money": lambda r: {"block_id": r.block.id},
    "acts.client_list": lambda r: {"client_id": r.client.id},
    "acts.new_act": lambda r: {"client_id": r.client.id},
    "acts.send_reminder": lambda r: {"client_id": r.client.id},
    "acts.detail": lambda r: {"act_id": r.act.id},
    "acts.document": lambda r: {"act_id": r.act.id},
    "acts.invoice": lambda r: {"act_id": r.act.id},
    "acts.totals": lambda r: {"act_id": r.act.id},
    "acts.line": lambda r: {"act_id": r.act.id, "line_id": r.act_line.id},
    "acts.move": lambda r: {"act_id": r.act.id},
    "acts.delete": lambda r: {"act_id": r.act.id},
    "acts.add_line": lambda r: {"act_id": r.act.id},
    "acts.delete_line": lambda r: {"act_id": r.act.id, "line_id": r.act_line.id},
    "acts.add_payment": lambda r: {"act_id": r.act.id},
    "acts.reminded": lambda r: {"act_id": r.act.id},
    "meetings.client_list": lambda r: {"client_id": r.client.id},
    "meetings.plan": lambda r: {"client_id": r.client.id},
    **{f"meetings.{name}": lambda r: {"meeting_id": r.meeting.id}
       for name in ("detail", "minutes", "ics", "move", "reschedule", "next_meeting", "refresh_agenda",
                    "add_attendee", "add_point", "add_action", "approve", "agree_priorities", "send_minutes",
                    "mark_sent", "invite", "request_confirmation")},
    "meetings.attendance": lambda r: {"meeting_id": r.meeting.id, "attendee_id": r.attendee.id},
    **{f"meetings.{name}": lambda r: {"meeting_id": r.meeting.id, "point_id": r.point.id}
       for name in ("save_point", "move_point", "remove_point")},
    **{f"meetings.{name}": lambda r: {"meeting_id": r.meeting.id, "action_id": r.action.id}
       for name in ("save_action", "action_to_backlog", "action_history")},
}

# What a role that may use a route gets when that is not a 200 page (rows given as role sets).
ALLOWED_STATUS = {
    "auth.login": 302,  # a logged-in user is sent on
    "auth.logout": 303,
    "links.page": 404,  # no such link; tests/test_links.py opens real ones
    "links.feed": 404,
    "admin.reset_password": 422,  # the empty probe form is let in, then refused as incomplete
    "admin.reset_template": 422,  # nothing to reset: the shipped template is in use
}


def all_routes(app: Flask) -> dict[str, set[str]]:
    """Every endpoint of the app (static files aside) → the methods its rules accept."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            found.setdefault(rule.endpoint, set()).update(rule.methods or ())
    return found


def routes(app: Flask) -> dict[str, set[str]]:
    """The routes the matrix knows. A route without a row fails ``test_matrix_covers_every_route``
    alone, instead of every walk over the routes failing with a KeyError."""
    return {e: methods for e, methods in all_routes(app).items() if e in EXPECTED}


def get_routes(app: Flask) -> list[str]:
    """The endpoints that answer GET: pages and the fragments htmx fetches."""
    return sorted(endpoint for endpoint, methods in routes(app).items() if "GET" in methods)


def url_of(app: Flask, endpoint: str, records) -> str:
    with app.test_request_context():
        return url_for(endpoint, **URL_ARGS.get(endpoint, lambda r: {})(records))


def expected_status(endpoint: str, role: Role) -> int:
    row = EXPECTED[endpoint]
    if isinstance(row, dict):
        return row[role]
    if row == ANYONE or role in row:
        return ALLOWED_STATUS.get(endpoint, 200)
    return 403
