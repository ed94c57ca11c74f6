"""GoHighLevel webhooks: the `x-wh-signature` RSA check, then appointments and inbound SMS.

`x-wh-signature` is base64 RSA-SHA256 (PKCS#1 v1.5) over the raw body, verified with the
public key stored for the workspace. Appointment events move the lead's booking; an
`InboundMessage` of type SMS becomes an inbound reply for the same pipeline as email.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import BaseModel, ConfigDict, ValidationError

from sender_service.booking_sync.record import BookingUpdate
from sender_service.definitions import normalize_appointment_status
from sender_service.ingest.events import MessageInfo, PayloadError
from sender_service.ingest.guards import OptionalProviderId, ProviderId, load_json, read_time
from sender_service.providers.ghl import SMS_SOURCE

PROVIDER: Final = "GHL"
APPOINTMENT_TYPES: Final = ("AppointmentCreate", "AppointmentUpdate", "AppointmentDelete")


class SignatureError(ValueError):
    """The RSA signature is missing or does not verify."""


def verify_signature(header: str | None, body: bytes, public_key_pem: str) -> None:
    if not header:
        raise SignatureError("missing x-wh-signature")
    try:
        signature = base64.b64decode(header, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("malformed x-wh-signature") from None
    key = load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, RSAPublicKey):
        raise SignatureError("the stored GHL webhook public key is not an RSA key")
    try:
        key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureError("bad x-wh-signature") from None


def on_booking_calendar(workspace_calendar: str | None, calendar: str | None) -> bool:
    """Only the workspace's booking calendar counts, when one is set (a contact may also have
    appointments on other calendars: onboarding, support)."""
    return not workspace_calendar or not calendar or calendar == workspace_calendar


def event_id(kind: str, appointment_id: str, body: bytes) -> str:
    """GHL sends no event id: the same delivery again has the same body, hence the digest."""
    return f"{kind}:{appointment_id}:{hashlib.sha256(body).hexdigest()[:16]}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Envelope(_Model):
    type: str
    locationId: str | None = None  # noqa: N815 (GHL's field names)


class Appointment(_Model):
    id: ProviderId
    calendarId: str | None = None  # noqa: N815
    contactId: OptionalProviderId = None  # noqa: N815
    appointmentStatus: str | None = None  # noqa: N815
    startTime: str | None = None  # noqa: N815
    endTime: str | None = None  # noqa: N815


class AppointmentEvent(Envelope):
    appointment: Appointment


class InboundMessage(Envelope):
    contactId: ProviderId  # noqa: N815
    messageId: ProviderId  # noqa: N815
    messageType: str | None = None  # noqa: N815
    conversationId: str | None = None  # noqa: N815
    body: str = ""
    dateAdded: str | None = None  # noqa: N815
    direction: str | None = None


@dataclass(frozen=True)
class InboundSMS:
    contact_id: str
    message: MessageInfo


Parsed = BookingUpdate | InboundSMS | None


def _invalid(what: str, exc: ValidationError) -> PayloadError:
    first = exc.errors()[0]
    return PayloadError(f"invalid {what}: {first['msg']}", ".".join(str(p) for p in first["loc"]))


def location_of(body: bytes) -> tuple[dict[str, Any], Envelope]:
    raw = load_json(body)
    try:
        return raw, Envelope.model_validate(raw)
    except ValidationError as exc:
        raise _invalid("GHL webhook", exc) from None


def parse(
    raw: dict[str, Any], envelope: Envelope, body: bytes, calendar_id: str | None = None
) -> Parsed:
    """The event; None for a type Replyline ignores or another calendar's appointment."""
    if envelope.type in APPOINTMENT_TYPES:
        try:
            event = AppointmentEvent.model_validate(raw)
        except ValidationError as exc:
            raise _invalid(envelope.type, exc) from None
        if not on_booking_calendar(calendar_id, event.appointment.calendarId):
            return None
        return _appointment(event, raw, body)
    if envelope.type == "InboundMessage":
        try:
            message = InboundMessage.model_validate(raw)
        except ValidationError as exc:
            raise _invalid("InboundMessage", exc) from None
        if (message.messageType or "").upper() != "SMS":
            return None
        return InboundSMS(
            contact_id=message.contactId,
            message=MessageInfo(
                source=SMS_SOURCE,
                external_id=message.messageId,
                direction="inbound",
                body=message.body,
                channel="sms",
                occurred_at=read_time(message.dateAdded, "dateAdded"),
                thread_ref={
                    "contact_id": message.contactId,
                    "conversation_id": message.conversationId,
                },
            ),
        )
    return None


def _appointment(event: AppointmentEvent, raw: dict[str, Any], body: bytes) -> BookingUpdate:
    appointment = event.appointment
    if event.type == "AppointmentDelete":
        status = "canceled"
    else:
        try:
            status = normalize_appointment_status(appointment.appointmentStatus or "confirmed")
        except ValueError as exc:
            raise PayloadError(str(exc), "appointment.appointmentStatus") from None
    start = read_time(appointment.startTime, "appointment.startTime")
    kind = "created" if event.type == "AppointmentCreate" else status
    if kind == "confirmed":
        kind = "rescheduled"  # an update that keeps the appointment on: moved or edited
    return BookingUpdate(
        provider=PROVIDER,
        event_type=kind,
        provider_event_id=event_id(event.type, appointment.id, body),
        status=status,
        meeting_start_at=start,
        ghl_appointment_id=appointment.id,
        ghl_contact_id=appointment.contactId,
        payload=raw,
    )


def reconciled(appointment_id: str, status: str, start: datetime | None) -> BookingUpdate:
    """What reconciliation learned about an appointment, as an event of its own."""
    when = start.isoformat() if start else ""
    return BookingUpdate(
        provider=PROVIDER,
        event_type="created" if status == "confirmed" else status,
        provider_event_id=f"reconcile:{appointment_id}:{status}:{when}",
        status=status,
        meeting_start_at=start,
        ghl_appointment_id=appointment_id,
        payload={"source": "reconciliation"},
    )
