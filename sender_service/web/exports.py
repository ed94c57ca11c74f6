"""`GET /api/export/chatgpt`: the workspace's "dataset for ChatGPT" zip, streamed as it is read.

The zip is produced chunk by chunk as Postgres streams the rows (`exports.chatgpt`) and handed
to the server as a generator, so memory stays flat whatever the workspace's size. `iter(export)`
connects and plans before the response starts, so a refusal is an error answer; an error after
the first byte propagates out of the generator and the server drops the connection.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, request

from sender_service.db.engine import session_scope
from sender_service.exports.chatgpt import ExportFilters, chatgpt_export
from sender_service.web.access import current_caller, require_role
from sender_service.web.errors import ApiError, json_error
from sender_service.web.params import database_url, workspace_param

bp = Blueprint("exports", __name__, url_prefix="/api/export")
bp.register_error_handler(Exception, json_error)

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")
# The shortest time a write is given once the deadline is (nearly) reached: the chunk being
# written when the deadline passes, as before, ends the download.
_LAST_WRITE_SECONDS = 0.05
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, zero seconds


def _moment(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ApiError(
            400, f"{name} must be an ISO 8601 date-time with a zone, not {raw!r}", field=name
        ) from None


def _listed(name: str) -> frozenset[str] | None:
    raw = request.args.get(name)
    return None if raw is None else frozenset(v.strip() for v in raw.split(",") if v.strip())


def _filters() -> ExportFilters:
    """The query's filters; each is checked on its own first so a 400 names the bad one."""
    raw_positive = request.args.get("positive_only", "false").strip().lower()
    if raw_positive not in _TRUE + _FALSE:
        raise ApiError(
            400, f"positive_only must be true or false, not {raw_positive!r}", field="positive_only"
        )
    given: dict[str, tuple[str, Any]] = {
        "positive_only": ("positive_only", raw_positive in _TRUE),
        "occurred_from": ("from", _moment("from")),
        "occurred_to": ("to", _moment("to")),
        "channels": ("channels", _listed("channels")),
        "directions": ("directions", _listed("directions")),
    }
    values = {key: value for key, (_, value) in given.items() if value is not None}
    for key, (param, value) in given.items():
        if value is not None:
            try:
                ExportFilters(**{key: value})
            except ValueError as exc:
                raise ApiError(400, str(exc), field=param) from None
    try:
        return ExportFilters(**values)
    except ValueError as exc:  # only the pair can fail now: from must be before to
        raise ApiError(400, str(exc), field="from") from None


class ExportTooLong(RuntimeError):
    """The download streamed past EXPORT_MAX_SECONDS."""


def capped(
    chunks: Iterator[bytes], seconds: float, sock: socket.socket | None = None
) -> Iterator[bytes]:
    """The chunks until `seconds` have passed since the first; then an error, which aborts
    the connection (no final chunk: the client cannot take a cut zip for a whole one) and
    closes the export's cursors. A client reading slowly cannot hold a thread for longer.

    The server writes each chunk after it is yielded, and a client that stops reading blocks
    that write however long it takes: with the connection's `sock`, each write may only
    block until the deadline (its send times out and the server drops the connection)."""
    deadline = time.monotonic() + seconds
    blocking = sock.gettimeout() if sock is not None else None
    finished = False
    try:
        for chunk in chunks:
            if sock is not None:
                sock.settimeout(max(deadline - time.monotonic(), _LAST_WRITE_SECONDS))
            yield chunk
            if time.monotonic() > deadline:
                raise ExportTooLong(f"the export streamed past EXPORT_MAX_SECONDS ({seconds:g} s)")
        finished = True
    finally:
        if sock is not None:
            with suppress(OSError):  # already closed by the server
                sock.settimeout(blocking)  # as the server had it, for the next request
                if not finished:
                    # Reset when the server closes it: what is still queued for the client
                    # is part of a zip that can never be whole, so it is dropped, not drained.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def connection_socket() -> socket.socket | None:
    """The client connection's socket, as gunicorn and werkzeug's server expose it."""
    for key in ("gunicorn.socket", "werkzeug.socket"):
        sock = request.environ.get(key)
        if isinstance(sock, socket.socket):
            return sock
    return None


@bp.get("/chatgpt")
def chatgpt() -> Any:
    workspace_id = workspace_param()
    filters = _filters()
    with session_scope(database_url()) as session:
        require_role(session, current_caller(session), workspace_id, "viewer")
    export = chatgpt_export(database_url(), workspace_id, filters)
    limit = current_app.extensions["replyline_services"].settings.export_max_seconds
    # A plain generator, not `stream_with_context`: the export needs nothing from the request
    # (its database URL and filters are bound above), and an abandoned download then closes
    # its cursor and transaction without a request context to unwind.
    return Response(
        capped(iter(export), limit, connection_socket()),
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",  # personal data
        },
    )
