"""GoHighLevel webhooks: the `x-wh-signature` RSA check, then appointments and inbound SMS.

`x-wh-signature` is base64 RSA-SHA256 (PKCS#1 v1.5) over the raw body, verified with the
public key stored for the workspace. Appointment events move the lead's booking; an
`InboundMessage` of type SMS becomes an inbound reply for the same pipeline as email.

Two shapes arrive. A webhook subscription's event has a top-level `type` (`InboundMessage`,
`AppointmentCreate`…). A location workflow's "Webhook" action has no `type`: it is
contact-centric (`contact_id`, `location.id`, `message.body`, `calendar.*`) plus the workflow's
`customData`; see `workflow` below for the custom data to set. Messages are filtered by channel
before any of their fields is required; an SMS without a `messageId` is keyed by a digest of
its stable fields.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import BaseModel, ConfigDict, ValidationError

from sender_service.booking_sync.record import BookingUpdate
from sender_service.definitions import normalize_appointment_status
from sender_service.ingest.events import Ignored, MessageInfo, NotThisWorkspace, PayloadError
from sender_service.ingest.guards import LenientId, ProviderId, load_json, optional_id, read_time
from sender_service.ingest.lenient import IfObject, Text
from sender_service.providers.ghl import SMS_SOURCE

PROVIDER: Final = "GHL"
APPOINTMENT_TYPES: Final = ("AppointmentCreate", "AppointmentUpdate", "AppointmentDelete")


class SignatureError(ValueError):
    """The RSA signature is missing or does not verify."""


class UnusableKeyError(ValueError):
    """The webhook public key is not a PEM-encoded RSA public key."""


def load_public_key(pem: str) -> RSAPublicKey:
    """GHL's webhook public key, checked when it is stored and again when it is used."""
    try:
        key = load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise UnusableKeyError("not a PEM public key (-----BEGIN PUBLIC KEY-----)") from None
    if not isinstance(key, RSAPublicKey):
        raise UnusableKeyError("not an RSA public key (GHL signs with RSA-SHA256)")
    return key


def verify_signature(header: str | None, body: bytes, key: RSAPublicKey) -> None:
    if not header:
        raise SignatureError("missing x-wh-signature")
    try:
        signature = base64.b64decode(header, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("malformed x-wh-signature") from None
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
    locationId: Text = None  # noqa: N815 (GHL's field names)


class Location(_Model):
    id: Text = None


class WorkflowMessage(_Model):
    type: Text = None
    body: Text = None


class WorkflowCalendar(_Model):
    id: Text = None
    appointmentId: Text = None  # noqa: N815
    status: Text = None
    appoinmentStatus: Text = None  # noqa: N815 (GHL's own spelling in workflow data)
    startTime: Text = None  # noqa: N815


class Workflow(_Model):
    """A workflow "Webhook" action's body (only the fields read)."""

    contact_id: ProviderId
    location: Annotated[Location | None, IfObject] = None
    message: Annotated[WorkflowMessage | None, IfObject] = None
    calendar: Annotated[WorkflowCalendar | None, IfObject] = None
    customData: Annotated[dict[str, Any] | None, IfObject] = None  # noqa: N815


class Appointment(_Model):
    id: ProviderId
    calendarId: Text = None  # noqa: N815
    contactId: LenientId = None  # noqa: N815
    appointmentStatus: Text = None  # noqa: N815
    startTime: Text = None  # noqa: N815


class AppointmentEvent(Envelope):
    appointment: Appointment


class InboundMessage(Envelope):
    contactId: ProviderId  # noqa: N815
    messageId: LenientId = None  # noqa: N815 (absent: keyed by a digest)
    conversationId: Text = None  # noqa: N815
    body: Text = None  # an MMS may carry attachments only
    dateAdded: Text = None  # noqa: N815


@dataclass(frozen=True)
class InboundSMS:
    contact_id: str
    message: MessageInfo


Parsed = BookingUpdate | InboundSMS | Ignored
# The channels GHL names an SMS by: the webhook's `messageType`, a workflow's `message.type`.
SMS_TYPES: Final = ("SMS", "TYPE_SMS", "2")


def _invalid(what: str, exc: ValidationError) -> PayloadError:
    first = exc.errors()[0]
    return PayloadError(f"invalid {what}: {first['msg']}", ".".join(str(p) for p in first["loc"]))


def read(body: bytes, location_id: str | None, calendar_id: str | None = None) -> Parsed:
    """What a GHL delivery for this location reports, or why it is ignored."""
    raw = load_json(body)
    if not isinstance(raw, dict):
        raise PayloadError("body is not a JSON object")
    if "type" not in raw and "contact_id" in raw:
        return _workflow(raw, body, location_id, calendar_id)
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        raise _invalid("GHL webhook", exc) from None
    _check_location(location_id, envelope.locationId, "locationId")
    if envelope.type in APPOINTMENT_TYPES:
        try:
            event = AppointmentEvent.model_validate(raw)
        except ValidationError as exc:
            raise _invalid(envelope.type, exc) from None
        if not on_booking_calendar(calendar_id, event.appointment.calendarId):
            return Ignored("an appointment on another calendar than the workspace's")
        return _appointment(event, raw, body)
    if envelope.type == "InboundMessage":
        channel = str(raw.get("messageType") or "")
        if channel.upper() not in SMS_TYPES:
            return Ignored(f"an InboundMessage of channel {channel or 'unknown'}, not SMS")
        try:
            message = InboundMessage.model_validate(raw)
        except ValidationError as exc:
            raise _invalid("InboundMessage", exc) from None
        return _sms(
            message.contactId,
            message.messageId,
            message.body or "",
            message.dateAdded,
            message.conversationId,
        )
    return Ignored(f"GHL event {envelope.type} is not one Replyline reads")


def _check_location(expected: str | None, given: str | None, field: str) -> None:
    if not expected or given != expected:
        raise NotThisWorkspace(
            "the delivery's location is not this workspace's GHL location", field
        )


def _sms(
    contact_id: str,
    message_id: str | None,
    text: str,
    date_added: str | None,
    conversation_id: str | None,
    *,
    date_field: str = "dateAdded",
) -> InboundSMS:
    occurred_at = read_time(date_added, date_field)
    if not message_id:
        # The same message redelivered has the same fields, hence the same key.
        stable = json.dumps([contact_id, conversation_id, date_added, text]).encode()
        message_id = "digest:" + hashlib.sha256(stable).hexdigest()[:32]
    return InboundSMS(
        contact_id=contact_id,
        message=MessageInfo(
            source=SMS_SOURCE,
            external_id=message_id,
            direction="inbound",
            body=text,
            channel="sms",
            occurred_at=occurred_at,
            thread_ref={"contact_id": contact_id, "conversation_id": conversation_id},
        ),
    )


def _workflow(
    raw: dict[str, Any], body: bytes, location_id: str | None, calendar_id: str | None
) -> Parsed:
    """A workflow "Webhook" action. Its custom data says what it reports:
    `replyline_event` = `inbound_sms` (with the trigger's `message.body`; optionally
    `message_id` and `date_added`) or `appointment` (with `appointment_id`,
    `appointment_status` and optionally `start_time`, `calendar_id`); without it, a body
    with a `calendar` is an appointment and one with a `message` an SMS."""
    try:
        flow = Workflow.model_validate(raw)
    except ValidationError as exc:
        raise _invalid("GHL workflow webhook", exc) from None
    _check_location(location_id, flow.location.id if flow.location else None, "location.id")
    custom = flow.customData or {}
    data = {k: v for k, v in custom.items() if isinstance(v, str | int) and v != ""}
    kind = str(data.get("replyline_event") or "").lower()
    if not kind:
        kind = "appointment" if flow.calendar else "inbound_sms" if flow.message else ""
    if kind == "inbound_sms":
        if flow.message is None:
            raise PayloadError("a workflow SMS needs the trigger's message", "message")
        channel = str(flow.message.type or "SMS")
        if channel.upper() not in SMS_TYPES:
            return Ignored(f"a workflow message of channel {channel}, not SMS")
        return _sms(
            flow.contact_id,
            optional_id(data.get("message_id"), "customData.message_id"),
            flow.message.body or "",
            str(data["date_added"]) if "date_added" in data else None,
            None,
            date_field="customData.date_added",
        )
    if kind == "appointment":
        calendar = flow.calendar or WorkflowCalendar()
        appointment_id = optional_id(
            data.get("appointment_id") or calendar.appointmentId, "customData.appointment_id"
        )
        if appointment_id is None:
            raise PayloadError(
                "a workflow appointment needs customData.appointment_id",
                "customData.appointment_id",
            )
        appointment = Appointment(
            id=appointment_id,
            calendarId=str(data.get("calendar_id") or calendar.id or "") or None,
            contactId=flow.contact_id,
            appointmentStatus=str(
                data.get("appointment_status") or calendar.status or calendar.appoinmentStatus or ""
            )
            or None,
            startTime=str(data.get("start_time") or calendar.startTime or "") or None,
        )
        if not on_booking_calendar(calendar_id, appointment.calendarId):
            return Ignored("an appointment on another calendar than the workspace's")
        event = AppointmentEvent(type="AppointmentUpdate", appointment=appointment)
        return _appointment(event, raw, body)
    return Ignored("a workflow webhook with neither a message nor an appointment")


def _appointment(event: AppointmentEvent, raw: dict[str, Any], body: bytes) -> Parsed:
    appointment = event.appointment
    if event.type == "AppointmentDelete":
        status = "canceled"
    else:
        raw_status = appointment.appointmentStatus or "confirmed"
        try:
            status = normalize_appointment_status(raw_status)
        except ValueError:
            # A status GHL adds later is kept (the journal holds the body) and changes nothing.
            return Ignored(f"unknown GHL appointment status {raw_status[:40]!r}")
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
