"""Links drawn by templates, each built once per process.

A page draws a link or two per row: 70 on the client list, 200 on the all-clients backlog, 400 on an
admin's «Мой день» (each manager's list of clients to call). Flask's ``url_for`` costs 4 µs for
``/clients/51`` and 12 µs with a query string (the rule's lookup, its converters, the encoding) — 3 ms of
that page. What it builds depends on the endpoint, the values and the request's script root alone (no
URL defaults, subdomains or host matching here; with URL defaults registered, nothing is kept), so the
templates' ``url_for`` keeps what it built and a repeated link costs a lookup. Absolute links, anchors,
methods and values other than whole numbers and text (``True`` would share a key with ``1``) are built
each time, as before.
"""

import functools

from flask import url_for as flask_url_for
from flask.globals import _cv_request

KEPT = 16_384  # links kept per process (a few MB); the least recently drawn go first


def url_for(endpoint: str, **values) -> str:
    """Flask's ``url_for``, remembered for relative links with plain values (the templates' ``url_for``).

    The request's context is read from its context variable, as ``has_request_context`` reads it:
    ``current_app`` and ``request`` are proxies that look it up again each (~1 µs a link)."""
    context = _cv_request.get(None)
    if context is None or context.app.url_default_functions:
        return flask_url_for(endpoint, **values)
    for key, value in values.items():
        if key[0] == "_" or (type(value) is not int and type(value) is not str):
            return flask_url_for(endpoint, **values)
    return _built(context.request.script_root, endpoint, tuple(values.items()))


@functools.lru_cache(maxsize=KEPT)
def _built(script_root: str, endpoint: str, values: tuple) -> str:
    return flask_url_for(endpoint, **dict(values))
