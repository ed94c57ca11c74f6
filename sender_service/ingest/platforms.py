"""Which reader reads which provider's webhooks: adding Smartlead or Instantly is one module
and one line here.

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
from sender_service.ingest import emailbison
from sender_service.ingest.events import Event, Ignored


@dataclass(frozen=True)
class Target:
    """The workspace a delivery is for, as far as a reader needs it."""

    workspace_id: uuid.UUID
    ghl_location_id: str | None = None
    ghl_calendar_id: str | None = None


Reading = Event | BookingUpdate | ghl.InboundSMS | Ignored
Reader = Callable[[bytes, Target], Reading]


def _emailbison(body: bytes, target: Target) -> Reading:
    return emailbison.parse(body)


def _ghl(body: bytes, target: Target) -> Reading:
    return ghl.read(body, target.ghl_location_id, target.ghl_calendar_id)


def _calendly(body: bytes, target: Target) -> Reading:
    return calendly.parse(body)


READERS: Final[dict[str, Reader]] = {
    "emailbison": _emailbison,
    "ghl": _ghl,
    "calendly": _calendly,
}
# The email platforms among them (their webhooks share one route shape and authentication).
EMAIL_PLATFORMS: Final = ("emailbison",)
