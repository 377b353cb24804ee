"""Our small htmx helper: tell partial requests from full ones, render a page or one of its blocks,
and answer writes with client-side navigation or events."""

import json
from typing import Any

from flask import Response, make_response, redirect as flask_redirect, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_partial() -> bool:
    """An htmx request that swaps a region (not a boosted full-page navigation)."""
    return is_htmx() and request.headers.get("HX-Request-Type", "partial") != "full"


def render(template: str, block: str | None = None, status: int = 200, **context: Any) -> Response:
    """The whole page, or only ``block`` of it for a partial htmx request: one template, no drift."""
    if block is not None and is_partial():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def render_fragment(template: str, *blocks: str, status: int = 200, **context: Any) -> Response:
    """Always just these blocks, in order (an inline form or row that has no page of its own; a
    second block may be an out-of-band swap, e.g. the record's new version)."""
    body = "".join(render_block(template, block, **context) for block in blocks)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def redirect(url: str, *, full_reload: bool = False) -> Response:
    """After a write: htmx navigates with HX-Location (HX-Redirect reloads); plain forms get 303."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect" if full_reload else "HX-Location"] = url
        return response
    return flask_redirect(url, code=303)


def trigger(response: Response, event: str, detail: dict[str, Any] | None = None,
            target: str = "body") -> Response:
    """Add a client event to HX-Trigger, merging with any already there.

    htmx 4 fires it after the swap on the requesting element, which an outerHTML swap has just
    replaced; aiming it at ``body`` lets ``hx-trigger="event from:body"`` listeners hear it.
    """
    events: dict[str, Any] = {}
    if existing := response.headers.get("HX-Trigger"):
        try:
            events = json.loads(existing)
        except ValueError:
            events = {name.strip(): None for name in existing.split(",")}
    events[event] = {**(detail or {}), "target": target}
    response.headers["HX-Trigger"] = json.dumps(events)
    return response
