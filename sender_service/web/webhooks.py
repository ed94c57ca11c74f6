"""`POST /webhooks/<platform>/<workspace_id>`: secret first, then the size cap, then the
delivery journal and the platform's reader (`ingest.deliveries`).

The secret comes from headers or the query string only, so a caller without it never gets a
byte of its body read; neither does one whose body is too large.
"""

from __future__ import annotations

import time
import uuid
from typing import IO, Any, Final

from flask import Blueprint, current_app, jsonify, request

from sender_service.db import pool
from sender_service.ingest import journal
from sender_service.ingest.deliveries import Outcome, receive
from sender_service.ingest.lead_fields import FieldNames
from sender_service.ingest.platforms import EMAIL_PLATFORMS, Target
from sender_service.web.errors import ApiError, json_error
from sender_service.workspaces import secret_matches_hash

MAX_BODY_BYTES: Final = 1024 * 1024
_CHUNK: Final = 64 * 1024
# How long a workspace's secret hash (and its lead field names) is trusted without reading it
# again. A secret that does not match the cached hash is always checked against the database,
# so a new secret works at once; the old one stops working within this many seconds of a
# rotation, and a new field mapping or email platform applies to deliveries within as many.
SECRET_CACHE_SECONDS: Final = 5.0
_secret_hashes: dict[tuple[str, uuid.UUID], tuple[str, Target, float]] = {}

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
    return authenticated_target(workspace_id).workspace_id


def authenticated_target(workspace_id: str) -> Target:
    """`authenticate`, with the workspace's lead field names read in the same round."""
    unauthorized = ApiError(401, "unauthorized", close=True)
    try:
        ws_id = uuid.UUID(workspace_id)
    except ValueError:
        raise unauthorized from None
    url: str = current_app.config["DATABASE_URL"]
    presented = presented_secret()
    cached = _secret_hashes.get((url, ws_id))
    if cached and time.monotonic() < cached[2] and secret_matches_hash(cached[0], presented):
        return cached[1]
    # One autocommit read: no transaction stays open while a slow body streams in.
    with pool.connection(url) as conn:
        row = conn.execute(
            "select webhook_secret_hash, headcount_field, industry_field, email_platform"
            " from workspaces where id = %s",
            (ws_id,),
        ).fetchone()
    if row is None:
        _secret_hashes.pop((url, ws_id), None)
        raise unauthorized
    target = Target(
        ws_id, fields=FieldNames(headcount=row[1], industry=row[2]), email_platform=row[3]
    )
    _secret_hashes[(url, ws_id)] = (row[0], target, time.monotonic() + SECRET_CACHE_SECONDS)
    if not secret_matches_hash(row[0], presented):
        raise unauthorized
    return target


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


def answer(outcome: Outcome) -> Any:
    return jsonify(outcome.answer), outcome.status


def ingest(provider: str, workspace_id: str) -> Any:
    target = authenticated_target(workspace_id)
    entry = journal.Entry(
        provider, target.workspace_id, read_body(), journal.kept_headers(request.headers.items())
    )
    return answer(receive(current_app.config["DATABASE_URL"], entry, target))


def _view(provider: str) -> Any:
    def view(workspace_id: str) -> Any:
        return ingest(provider, workspace_id)

    return view


for _name in EMAIL_PLATFORMS:
    bp.add_url_rule(
        f"/webhooks/{_name}/<workspace_id>",
        endpoint=f"ingest_{_name}",
        view_func=_view(_name),
        methods=["POST"],
    )
