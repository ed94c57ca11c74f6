"""Calendly and GoHighLevel webhook bodies as the providers send them, and their signatures."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sender_service.booking_sync.calendly import sign

CALENDLY = "https://api.calendly.com"


def invitee(
    event: str,
    n: int,
    email: str = "dana@prospect.io",
    *,
    utm_content: str | None = None,
    rescheduled: bool = False,
    start: str = "2026-12-10T15:00:00.000000Z",
) -> dict[str, Any]:
    event_uri = f"{CALENDLY}/scheduled_events/EV{n}"
    return {
        "created_at": "2026-12-01T10:00:00.000000Z",
        "created_by": f"{CALENDLY}/users/U1",
        "event": event,
        "payload": {
            "uri": f"{event_uri}/invitees/INV{n}",
            "email": email,
            "name": "Dana Reyes",
            "status": "active" if event == "invitee.created" else "canceled",
            "rescheduled": rescheduled,
            "scheduled_event": {"uri": event_uri, "start_time": start},
            "tracking": {"utm_content": utm_content, "utm_source": None},
        },
    }


def no_show(n: int) -> dict[str, Any]:
    return {
        "created_at": "2026-12-10T16:00:00.000000Z",
        "event": "invitee_no_show.created",
        "payload": {
            "uri": f"{CALENDLY}/invitee_no_shows/NS{n}",
            "invitee": f"{CALENDLY}/scheduled_events/EV{n}/invitees/INV{n}",
        },
    }


def calendly_headers(body: bytes, key: str, stamp: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if stamp is None else stamp
    return {
        "Content-Type": "application/json",
        "Calendly-Webhook-Signature": sign(body, key, stamp),
    }


def appointment(
    kind: str,
    appointment_id: str,
    contact_id: str,
    status: str = "confirmed",
    *,
    location: str = "loc-1",
    start: str = "2026-12-10T15:00:00+00:00",
) -> dict[str, Any]:
    return {
        "type": kind,
        "locationId": location,
        "appointment": {
            "id": appointment_id,
            "calendarId": "cal-1",
            "contactId": contact_id,
            "appointmentStatus": status,
            "startTime": start,
            "endTime": "2026-12-10T15:30:00+00:00",
            "title": "Intro call",
        },
    }


def inbound_sms(
    message_id: str, contact_id: str, body: str, location: str = "loc-1"
) -> dict[str, Any]:
    return {
        "type": "InboundMessage",
        "locationId": location,
        "contactId": contact_id,
        "conversationId": "conv-1",
        "messageId": message_id,
        "messageType": "SMS",
        "contentType": "text/plain",
        "direction": "inbound",
        "status": "delivered",
        "body": body,
        "dateAdded": "2026-01-05T10:00:00.000Z",
        "attachments": [],
    }


class RSAKeys:
    """A key pair standing in for GHL's webhook signing key."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def sign(self, body: bytes) -> str:
        signature = self.private.sign(body, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
