"""`POST /webhooks/calendly/<workspace_id>` and `POST /webhooks/ghl/<workspace_id>`.

Calendly: the size cap, then the HMAC signature over the raw bytes (the signature is the
credential). GHL: the workspace secret before the body is read (as for the email webhook),
the size cap, then — when a public key is stored — the RSA signature over the raw bytes,
then the location. Nothing is parsed before its signature holds; nothing is stored on a 4xx.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from sender_service.booking_sync import calendly, ghl
from sender_service.booking_sync.record import Recorded, record
from sender_service.credentials import CredentialError, cipher, read_secret
from sender_service.db.engine import engine_for, session_scope
from sender_service.db.models import Lead, Workspace
from sender_service.ingest.events import PayloadError
from sender_service.ingest.store import Stored, store_message
from sender_service.services import Services
from sender_service.web.errors import ApiError, json_error
from sender_service.web.webhooks import authenticate, read_body

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


def _recorded(result: Recorded) -> Any:
    if result.status == "duplicate":
        return jsonify(status="duplicate"), 200
    answer = {"status": result.status, "booking_event_id": str(result.booking_event_id)}
    if result.lead_id is not None:
        answer["lead_id"] = str(result.lead_id)
    return jsonify(answer), 202


@bp.post("/webhooks/calendly/<workspace_id>")
def calendly_webhook(workspace_id: str) -> Any:
    target = _load(workspace_id, "calendly_signing_key")
    if target is None or not target.secret:
        raise ApiError(401, "unauthorized", close=True)
    body = read_body()
    try:
        calendly.verify_signature(
            request.headers.get("Calendly-Webhook-Signature"),
            body,
            target.secret,
            tolerance=_services().settings.calendly_signature_tolerance_seconds,
        )
    except calendly.SignatureError as exc:
        raise ApiError(401, str(exc)) from None
    try:
        update = calendly.parse(body)
    except PayloadError as exc:
        raise ApiError(400, exc.error, field=exc.field) from None
    if update is None:
        return jsonify(status="ignored"), 200
    with session_scope(current_app.config["DATABASE_URL"]) as session:
        workspace = session.get_one(Workspace, target.workspace_id)
        return _recorded(record(session, workspace, update))


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
    try:
        raw, envelope = ghl.location_of(body)
        if not target.location_id or envelope.locationId != target.location_id:
            raise ApiError(
                403, "locationId is not this workspace's GHL location", field="locationId"
            )
        parsed = ghl.parse(raw, envelope, body, target.calendar_id)
    except PayloadError as exc:
        raise ApiError(400, exc.error, field=exc.field) from None
    if parsed is None:
        return jsonify(status="ignored"), 200
    with session_scope(current_app.config["DATABASE_URL"]) as session:
        if isinstance(parsed, ghl.InboundSMS):
            return _stored(_store_sms(session, ws_id, parsed))
        workspace = session.get_one(Workspace, ws_id)
        return _recorded(record(session, workspace, parsed))


def _store_sms(session: Session, workspace_id: uuid.UUID, sms: ghl.InboundSMS) -> Stored:
    """An SMS from a known contact is a reply like an email; an unknown one is only kept."""
    lead = session.execute(
        select(Lead)
        .where(Lead.workspace_id == workspace_id, Lead.ghl_contact_id == sms.contact_id)
        .order_by(Lead.updated_at.desc())
        .limit(1)
    ).scalar()
    return store_message(
        session,
        workspace_id,
        lead.id if lead else None,
        lead.email_campaign_id if lead else None,
        sms.message,
        auto_answer=lead is not None,
    )


def _stored(stored: Stored) -> Any:
    if stored.status == "duplicate":
        return jsonify(status="duplicate"), 200
    answer = {"status": "accepted", "message_id": str(stored.message_id)}
    if stored.lead_id is not None:
        answer["lead_id"] = str(stored.lead_id)
    return jsonify(answer), 202
