"""Human timing for auto-sends: a per-campaign delay window and sending hours.

The delay is drawn deterministically from the reply's id, so a retried job lands on the same
moment; business hours are Monday–Friday 09:00–17:00 in the workspace's time zone.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

BUSINESS_START = time(9, 0)
BUSINESS_END = time(17, 0)


def delay_seconds(reply_id: uuid.UUID, low: int, high: int) -> int:
    if high <= low:
        return low
    digest = int.from_bytes(hashlib.sha256(reply_id.bytes).digest()[:8], "big")
    return low + digest % (high - low + 1)


def next_business_moment(moment: datetime, timezone: str) -> datetime:
    """`moment` if it falls in business hours, else the start of the next business window."""
    local = moment.astimezone(ZoneInfo(timezone))
    while True:
        if local.weekday() < 5 and BUSINESS_START <= local.time() < BUSINESS_END:
            return local
        if local.weekday() < 5 and local.time() < BUSINESS_START:
            return local.replace(hour=9, minute=0, second=0, microsecond=0)
        local = (local + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


def send_at(
    received_at: datetime,
    reply_id: uuid.UUID,
    *,
    delay_min: int,
    delay_max: int,
    sending_hours: str,
    timezone: str,
    now: datetime,
) -> datetime | None:
    """When an approved auto-send may go out; None means right away."""
    moment = max(
        received_at + timedelta(seconds=delay_seconds(reply_id, delay_min, delay_max)), now
    )
    if sending_hours == "business_hours":
        moment = next_business_moment(moment, timezone)
    return None if moment <= now else moment
