"""Which reader reads which provider's webhooks: each email platform is one module and one
line here.

A reader takes the raw body and what it may need to know about the workspace, and returns what
the delivery reports, or `Ignored` with why; it raises `PayloadError` for a body it cannot use
(the delivery is then held for replay). It has no side effects: storing is `deliveries`' job.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sender_service.booking_sync import calendly, ghl
from sender_service.booking_sync.record import BookingUpdate
from sender_service.ingest import emailbison, instantly, lead_fields, smartlead
from sender_service.ingest.events import Event, Ignored
from sender_service.ingest.lead_fields import FieldNames


@dataclass(frozen=True)
class Target:
    """The workspace a delivery is for, as far as a reader needs it."""

    workspace_id: uuid.UUID
    ghl_location_id: str | None = None
    ghl_calendar_id: str | None = None
    fields: FieldNames = FieldNames()  # the workspace's own names for headcount and industry
    email_platform: str | None = None


Reading = Event | BookingUpdate | ghl.InboundSMS | Ignored
Reader = Callable[[bytes, Target], Reading]


def _email_reader(parse: Callable[[bytes], Event | Ignored]) -> Reader:
    def read(body: bytes, target: Target) -> Reading:
        reading = parse(body)
        if isinstance(reading, Event):
            return lead_fields.apply_field_names(reading, target.fields)
        return reading

    return read


def _ghl(body: bytes, target: Target) -> Reading:
    return ghl.read(body, target.ghl_location_id, target.ghl_calendar_id)


def _calendly(body: bytes, target: Target) -> Reading:
    return calendly.parse(body)


READERS: Final[dict[str, Reader]] = {
    "emailbison": _email_reader(emailbison.parse),
    "smartlead": _email_reader(smartlead.parse),
    "instantly": _email_reader(instantly.parse),
    "ghl": _ghl,
    "calendly": _calendly,
}
# The email platforms among them (their webhooks share one route shape and authentication).
EMAIL_PLATFORMS: Final = ("emailbison", "smartlead", "instantly")
