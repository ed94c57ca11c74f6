"""`POST /webhooks/calendly/<workspace_id>` and `POST /webhooks/ghl/<workspace_id>`.

Calendly: the size cap, then the HMAC signature over the raw bytes (the signature is the
credential). GHL: the workspace secret before the body is read (as for the email webhook),
the size cap, then — when a public key is stored — the RSA signature over the raw bytes.
Nothing is parsed before its signature holds. Then, as for every provider, the journal and the
reader (`ingest.deliveries`); the GHL reader checks the location (403 when it is another's).
A Calendly delivery whose valid signature is too old is refused but journaled as `stale`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, request
from sqlalchemy.orm import Session

from sender_service.booking_sync import calendly, ghl
from sender_service.credentials import CredentialError, cipher, read_secret
from sender_service.db import pool
from sender_service.db.engine import engine_for
from sender_service.db.models import Workspace
from sender_service.ingest import journal
from sender_service.ingest.deliveries import receive
from sender_service.ingest.platforms import Target
from sender_service.services import Services
from sender_service.web.errors import ApiError, json_error
from sender_service.web.webhooks import answer, authenticate, read_body

bp = Blueprint("booking_webhooks", __name__)
bp.register_error_handler(Exception, json_error)


@dataclass(frozen=True)
class _Target:
    workspace_id: uuid.UUID
    location_id: str | None
    calendar_id: str | None
    secret: str | None


def _services() -> Services:
    services: Services = current_app.extensions["replyline_services"]
    return services


def _load(workspace_id: uuid.UUID | str, secret_name: str) -> _Target | None:
    """The workspace and one of its credentials, read in one autocommit round."""
    try:
        ws_id = uuid.UUID(str(workspace_id))
    except ValueError:
        return None
    engine = engine_for(current_app.config["DATABASE_URL"])
    with (
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
        Session(bind=conn) as session,
    ):
        workspace = session.get(Workspace, ws_id)
        if workspace is None:
            return None
        try:
            value = read_secret(session, cipher(_services().settings), ws_id, secret_name)
        except CredentialError:
            raise ApiError(503, f"the stored {secret_name} cannot be read") from None
        return _Target(ws_id, workspace.ghl_location_id, workspace.ghl_calendar_id, value)


@bp.post("/webhooks/calendly/<workspace_id>")
def calendly_webhook(workspace_id: str) -> Any:
    target = _load(workspace_id, "calendly_signing_key")
    if target is None or not target.secret:
        raise ApiError(401, "unauthorized", close=True)
    body = read_body()
    entry = journal.Entry(
        "calendly", target.workspace_id, body, journal.kept_headers(request.headers.items())
    )
    try:
        calendly.verify_signature(
            request.headers.get("Calendly-Webhook-Signature"),
            body,
            target.secret,
            tolerance=_services().settings.calendly_signature_tolerance_seconds,
        )
    except calendly.StaleSignature as exc:
        # Calendly's own, but late: refused, and kept for the booking reconciliation.
        with pool.connection(current_app.config["DATABASE_URL"]) as conn:
            journal.write(conn, entry, "stale", error=str(exc))
        raise ApiError(401, str(exc)) from None
    except calendly.SignatureError as exc:
        raise ApiError(401, str(exc)) from None
    return answer(receive(current_app.config["DATABASE_URL"], entry, Target(target.workspace_id)))


@bp.post("/webhooks/ghl/<workspace_id>")
def ghl_webhook(workspace_id: str) -> Any:
    ws_id = authenticate(workspace_id)
    target = _load(ws_id, "ghl_webhook_public_key")
    assert target is not None
    key = None
    if target.secret:
        try:
            key = ghl.load_public_key(target.secret)
        except ghl.UnusableKeyError as exc:
            # Our configuration, not the sender's fault: GHL retries a 5xx once it is fixed.
            raise ApiError(
                503, f"the stored ghl_webhook_public_key is unusable: {exc}", close=True
            ) from None
    body = read_body()
    if key is not None:
        try:
            ghl.verify_signature(request.headers.get("x-wh-signature"), body, key)
        except ghl.SignatureError as exc:
            raise ApiError(401, str(exc)) from None
    entry = journal.Entry("ghl", ws_id, body, journal.kept_headers(request.headers.items()))
    reader_target = Target(ws_id, target.location_id, target.calendar_id)
    return answer(receive(current_app.config["DATABASE_URL"], entry, reader_target))
