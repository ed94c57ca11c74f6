"""Calendly webhooks: the signature over the raw body, then the invitee events.

`Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under
the webhook subscription's signing key. `invitee.created` books, `invitee.canceled` cancels
(or, with `rescheduled: true`, hands over to the new invitee), `invitee_no_show.created` marks
a no-show. Every payload is an invitee (the no-show one carries `no_show {uri, created_at}`);
an older delivery names its scheduled event by URI in `event` instead of `scheduled_event`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Annotated, Any, Final, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from sender_service.booking_sync.record import BookingUpdate
from sender_service.ingest.events import Ignored, PayloadError
from sender_service.ingest.guards import Email, LenientId, ProviderId, load_json, read_time
from sender_service.ingest.lenient import Flag, IfObject, Text

PROVIDER: Final = "CALENDLY"
DEFAULT_TOLERANCE_SECONDS: Final = 180
# Unix seconds in ASCII digits: `str.isdigit` also accepts `²`, which `int` refuses, and an
# unbounded number overflows the float clock.
_STAMP: Final = re.compile(r"[0-9]{1,12}")


class SignatureError(ValueError):
    """The signature is missing, malformed, stale or wrong; the message says which."""


class StaleSignature(SignatureError):
    """A valid signature made too long ago: refused (replay protection), but journaled."""


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
    expected = hmac.new(key.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise SignatureError("bad Calendly-Webhook-Signature")
    # Checked after the HMAC, so only Calendly's own (late) deliveries are called stale.
    if abs((now if now is not None else time.time()) - int(stamp)) > tolerance:
        raise StaleSignature("stale Calendly-Webhook-Signature timestamp")


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
    start_time: Text = None


class Tracking(_Model):
    utm_content: Text = None


class NoShow(_Model):
    uri: LenientId = None
    created_at: Text = None


class InviteePayload(_Model):
    uri: ProviderId
    email: Email = None
    scheduled_event: Annotated[ScheduledEvent | None, IfObject] = None
    event: LenientId = None  # older deliveries: the scheduled event's URI
    rescheduled: Flag = False
    tracking: Annotated[Tracking | None, IfObject] = None
    no_show: Annotated[NoShow | None, IfObject] = None

    def event_uri(self) -> str:
        uri = self.scheduled_event.uri if self.scheduled_event else self.event
        if not uri:
            raise PayloadError(
                "invalid invitee payload: no scheduled_event (nor event)",
                "payload.scheduled_event",
            )
        return uri


class NoShowResource(_Model):
    """The invitee no-show API resource, as some deliveries carry it."""

    uri: ProviderId
    invitee: ProviderId


class Envelope(_Model):
    event: str
    created_at: Text = None
    payload: dict[str, Any]


M = TypeVar("M", bound=_Model)
EVENTS: Final = ("invitee.created", "invitee.canceled", "invitee_no_show.created")


def _field(error: ValidationError, prefix: str) -> str:
    first = error.errors()[0]
    return ".".join([prefix, *(str(p) for p in first["loc"])]).strip(".")


def parse(body: bytes) -> BookingUpdate | Ignored:
    """The booking update a webhook body reports, or why Replyline ignores it."""
    raw = load_json(body)
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        raise PayloadError(
            f"invalid Calendly webhook: {exc.errors()[0]['msg']}", _field(exc, "")
        ) from None
    if envelope.event not in EVENTS:
        return Ignored(f"Calendly event {envelope.event[:60]} is not one Replyline reads")
    occurred = read_time(envelope.created_at, "created_at")
    if envelope.event == "invitee_no_show.created" and "invitee" in envelope.payload:
        resource = _validate(NoShowResource, envelope)
        return BookingUpdate(
            provider=PROVIDER,
            event_type="noshow",
            provider_event_id=event_id(envelope.event, resource.uri),
            status="noshow",
            occurred_at=occurred,
            calendly_invitee_uri=resource.invitee,
            payload=raw,
        )
    payload = _validate(InviteePayload, envelope)
    lead_ref = payload.tracking.utm_content if payload.tracking else None
    if envelope.event == "invitee_no_show.created":
        marked = payload.no_show.uri if payload.no_show and payload.no_show.uri else payload.uri
        return BookingUpdate(
            provider=PROVIDER,
            event_type="noshow",
            provider_event_id=event_id(envelope.event, marked),
            status="noshow",
            occurred_at=occurred,
            calendly_invitee_uri=payload.uri,
            invitee_email=payload.email,
            lead_ref=lead_ref,
            payload=raw,
        )
    created = envelope.event == "invitee.created"
    start = payload.scheduled_event.start_time if payload.scheduled_event else None
    return BookingUpdate(
        provider=PROVIDER,
        event_type="created" if created else "rescheduled" if payload.rescheduled else "canceled",
        provider_event_id=event_id(envelope.event, payload.uri),
        status="confirmed" if created else "canceled",
        occurred_at=occurred,
        meeting_start_at=read_time(start, "payload.scheduled_event.start_time"),
        calendly_invitee_uri=payload.uri,
        calendly_scheduled_event_uri=payload.event_uri(),
        invitee_email=payload.email,
        lead_ref=lead_ref,
        payload=raw,
    )


def _validate(model: type[M], envelope: Envelope) -> M:
    try:
        return model.model_validate(envelope.payload)
    except ValidationError as exc:
        raise PayloadError(
            f"invalid {envelope.event} payload: {exc.errors()[0]['msg']}", _field(exc, "payload")
        ) from None
