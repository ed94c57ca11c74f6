"""Calendly webhooks: the signature over the raw body, then the invitee events.

`Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under
the webhook subscription's signing key. `invitee.created` books, `invitee.canceled` cancels
(or, with `rescheduled: true`, hands over to the new invitee), `invitee_no_show.created` marks
a no-show.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError

from sender_service.booking_sync.record import BookingUpdate
from sender_service.ingest.events import PayloadError
from sender_service.ingest.guards import Email, ProviderId, load_json, read_time

PROVIDER: Final = "CALENDLY"
DEFAULT_TOLERANCE_SECONDS: Final = 180
# Unix seconds in ASCII digits: `str.isdigit` also accepts `²`, which `int` refuses, and an
# unbounded number overflows the float clock.
_STAMP: Final = re.compile(r"[0-9]{1,12}")


class SignatureError(ValueError):
    """The signature is missing, malformed, stale or wrong; the message says which."""


def verify_signature(
    header: str | None,
    body: bytes,
    key: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    if not header:
        raise SignatureError("missing Calendly-Webhook-Signature")
    parts = dict(p.strip().split("=", 1) for p in header.split(",") if "=" in p)
    stamp, signature = parts.get("t"), parts.get("v1")
    if not stamp or not signature or not _STAMP.fullmatch(stamp):
        raise SignatureError("malformed Calendly-Webhook-Signature")
    if abs((now if now is not None else time.time()) - int(stamp)) > tolerance:
        raise SignatureError("stale Calendly-Webhook-Signature timestamp")
    expected = hmac.new(key.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise SignatureError("bad Calendly-Webhook-Signature")


def sign(body: bytes, key: str, stamp: int) -> str:
    """The header value Calendly would send (for tests and the demo)."""
    digest = hmac.new(key.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def event_id(kind: str, uri: str) -> str:
    """An invitee is created once, canceled once, marked no-show once: the id of each."""
    return f"{kind}:{uri}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ScheduledEvent(_Model):
    uri: ProviderId
    start_time: str | None = None


class Tracking(_Model):
    utm_content: str | None = None


class InviteePayload(_Model):
    uri: ProviderId
    email: Email | None = None
    scheduled_event: ScheduledEvent
    rescheduled: bool = False
    tracking: Tracking | None = None
    created_at: str | None = None
    updated_at: str | None = None


class NoShowPayload(_Model):
    uri: ProviderId
    invitee: ProviderId
    created_at: str | None = None


class Envelope(_Model):
    event: str
    created_at: str | None = None
    payload: dict[str, Any]


_MODELS: Final[dict[str, type[InviteePayload] | type[NoShowPayload]]] = {
    "invitee.created": InviteePayload,
    "invitee.canceled": InviteePayload,
    "invitee_no_show.created": NoShowPayload,
}


def _field(error: ValidationError, prefix: str) -> str:
    first = error.errors()[0]
    return ".".join([prefix, *(str(p) for p in first["loc"])]).strip(".")


def parse(body: bytes) -> BookingUpdate | None:
    """The booking update a webhook body reports; None for an event Replyline ignores."""
    raw = load_json(body)
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        raise PayloadError(
            f"invalid Calendly webhook: {exc.errors()[0]['msg']}", _field(exc, "")
        ) from None
    model = _MODELS.get(envelope.event)
    if model is None:
        return None
    try:
        payload = model.model_validate(envelope.payload)
    except ValidationError as exc:
        raise PayloadError(
            f"invalid {envelope.event} payload: {exc.errors()[0]['msg']}", _field(exc, "payload")
        ) from None
    occurred = read_time(envelope.created_at, "created_at")
    if isinstance(payload, NoShowPayload):
        return BookingUpdate(
            provider=PROVIDER,
            event_type="noshow",
            provider_event_id=event_id(envelope.event, payload.uri),
            status="noshow",
            occurred_at=occurred,
            calendly_invitee_uri=payload.invitee,
            payload=raw,
        )
    assert isinstance(payload, InviteePayload)
    created = envelope.event == "invitee.created"
    return BookingUpdate(
        provider=PROVIDER,
        event_type="created" if created else "rescheduled" if payload.rescheduled else "canceled",
        provider_event_id=event_id(envelope.event, payload.uri),
        status="confirmed" if created else "canceled",
        occurred_at=occurred,
        meeting_start_at=read_time(
            payload.scheduled_event.start_time, "payload.scheduled_event.start_time"
        ),
        calendly_invitee_uri=payload.uri,
        calendly_scheduled_event_uri=payload.scheduled_event.uri,
        invitee_email=payload.email,
        lead_ref=payload.tracking.utm_content if payload.tracking else None,
        payload=raw,
    )
