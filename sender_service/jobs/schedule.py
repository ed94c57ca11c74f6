"""Periodic jobs, enqueued by every worker's loop with one dedupe key per time slot.

Why the loop and not self-rescheduling jobs: a chain of jobs that each enqueue the next dies
for good when one of them goes `dead`, and needs seeding on a fresh database; here every
running worker offers the current slot's jobs, the dedupe key lets exactly one through
however many workers there are, and a restarted worker simply offers the next slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sender_service.booking_sync.jobs import RECONCILE_BOOKINGS
from sender_service.db.fingerprint_jobs import COMPACT_FINGERPRINTS
from sender_service.db.models import Workspace
from sender_service.followups.jobs import RUN_DUE_FOLLOWUPS
from sender_service.ingest.journal_jobs import PRUNE_JOURNAL, REPORT_HELD
from sender_service.jobs import queue
from sender_service.notify.alerts import POST_DIGEST

FOLLOWUPS_EVERY_MINUTES: Final = 1
RECONCILE_EVERY_MINUTES: Final = 15
PRUNE_JOURNAL_EVERY_MINUTES: Final = 60


def _slot(now: datetime, minutes: int) -> str:
    minute = (now.hour * 60 + now.minute) // minutes * minutes
    return f"{now:%Y%m%d}T{minute // 60:02d}{minute % 60:02d}"


def enqueue_periodic(session: Session, now: datetime) -> int:
    """Offer this slot's periodic jobs; how many were new (0 when another worker won)."""
    added = 0
    slot = _slot(now, FOLLOWUPS_EVERY_MINUTES)
    if queue.enqueue(session, RUN_DUE_FOLLOWUPS, {}, dedupe_key=f"{RUN_DUE_FOLLOWUPS}:{slot}"):
        added += 1
    slot = _slot(now, RECONCILE_EVERY_MINUTES)
    for workspace_id in session.execute(select(Workspace.id)).scalars():
        key = f"{RECONCILE_BOOKINGS}:{workspace_id}:{slot}"
        if queue.enqueue(
            session, RECONCILE_BOOKINGS, {"workspace_id": str(workspace_id)}, dedupe_key=key
        ):
            added += 1
    slot = _slot(now, PRUNE_JOURNAL_EVERY_MINUTES)
    if queue.enqueue(session, PRUNE_JOURNAL, {}, dedupe_key=f"{PRUNE_JOURNAL}:{slot}"):
        added += 1
    if queue.enqueue(
        session, COMPACT_FINGERPRINTS, {}, dedupe_key=f"{COMPACT_FINGERPRINTS}:{slot}"
    ):
        added += 1
    day = f"{now:%Y-%m-%d}"
    if queue.enqueue(session, REPORT_HELD, {"day": day}, dedupe_key=f"{REPORT_HELD}:{day}"):
        added += 1
    # A digest covers the workspace's own day (its time zone), so it goes out once that day
    # is over there: a New York agency gets the day it worked, not 7 pm to 7 pm.
    digest_workspaces = session.execute(
        select(Workspace.id, Workspace.timezone).where(
            Workspace.alerts_digest == "daily",
            func.coalesce(Workspace.alerts_channel, "") != "",
        )
    )
    for workspace_id, zone in digest_workspaces:
        yesterday = (now.astimezone(ZoneInfo(zone)).date() - timedelta(days=1)).isoformat()
        if queue.enqueue(
            session,
            POST_DIGEST,
            {"workspace_id": str(workspace_id), "day": yesterday},
            dedupe_key=f"{POST_DIGEST}:{workspace_id}:{yesterday}",
        ):
            added += 1
    return added
