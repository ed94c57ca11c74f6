"""`POST /webhooks/<platform>/<workspace_id>`: secret first, then the size cap, then parsing.

The secret comes from headers or the query string only, so a caller without it never gets a
byte of its body read; neither does one whose body is too large.
"""

from __future__ import annotations

import uuid
from typing import IO, Any, Final

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.orm import Session

from sender_service.db.engine import engine_for, session_scope
from sender_service.db.models import Workspace
from sender_service.ingest.events import Parser, PayloadError
from sender_service.ingest.platforms import PARSERS
from sender_service.ingest.store import store_event
from sender_service.web.errors import ApiError, json_error
from sender_service.workspaces import webhook_secret_matches

MAX_BODY_BYTES: Final = 1024 * 1024
_CHUNK: Final = 64 * 1024

bp = Blueprint("webhooks", __name__)
bp.register_error_handler(Exception, json_error)


def presented_secret() -> str | None:
    """The secret from `Authorization: Bearer`, `X-Replyline-Secret` or `?secret=`."""
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("X-Replyline-Secret") or request.args.get("secret")


def authenticate(workspace_id: str) -> uuid.UUID:
    """The workspace's id if the presented secret is its own; 401 otherwise, body unread."""
    unauthorized = ApiError(401, "unauthorized", close=True)
    try:
        ws_id = uuid.UUID(workspace_id)
    except ValueError:
        raise unauthorized from None
    # One autocommit read: no transaction stays open while a slow body streams in.
    engine = engine_for(current_app.config["DATABASE_URL"])
    with (
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
        Session(bind=conn) as session,
    ):
        workspace = session.get(Workspace, ws_id)
        if workspace is None or not webhook_secret_matches(workspace, presented_secret()):
            raise unauthorized
    return ws_id


def read_capped(stream: IO[bytes], limit: int) -> bytes | None:
    """Read the body as it streams in (chunked too); None as soon as it exceeds `limit`."""
    body = bytearray()
    while chunk := stream.read(min(_CHUNK, limit + 1 - len(body))):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def read_body() -> bytes:
    too_large = ApiError(413, f"body larger than {MAX_BODY_BYTES} bytes", close=True)
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise too_large
    body = read_capped(request.stream, MAX_BODY_BYTES)
    if body is None:
        raise too_large
    return body


def ingest(parse: Parser, workspace_id: str) -> Any:
    ws_id = authenticate(workspace_id)
    body = read_body()
    try:
        event = parse(body)
    except PayloadError as exc:
        raise ApiError(400, exc.error, field=exc.field) from None
    if event is None:
        return jsonify(status="ignored"), 200
    with session_scope(current_app.config["DATABASE_URL"]) as session:
        stored = store_event(session, ws_id, event)
    if stored.status == "duplicate":
        return jsonify(status="duplicate"), 200
    answer: dict[str, str] = {"status": "accepted"}
    if stored.message_id is not None:
        answer["message_id"] = str(stored.message_id)
    if stored.lead_id is not None:
        answer["lead_id"] = str(stored.lead_id)
    return jsonify(answer), 202


def _view(parse: Parser) -> Any:
    def view(workspace_id: str) -> Any:
        return ingest(parse, workspace_id)

    return view


for _name, _parse in PARSERS.items():
    bp.add_url_rule(
        f"/webhooks/{_name}/<workspace_id>",
        endpoint=f"ingest_{_name}",
        view_func=_view(_parse),
        methods=["POST"],
    )
