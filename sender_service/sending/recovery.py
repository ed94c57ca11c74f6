"""Sends of unknown outcome: found by a sweep, reconciled against the platform, or handed on.

A send is claimed (committed) before the provider is called. If the worker dies before the
provider's answer is recorded, the claim stays `claimed` forever; the sweep, run by every
worker every `sweep_interval`, marks claims older than the longest provider call `unknown`.
Every `unknown` send — swept, or a timeout/5xx seen live — gets one `reconcile_send` job: it
looks for the message in the lead's thread on the platform; found, the send is recorded as
`sent`; otherwise (not there, or the platform cannot tell) a person is told. Never re-sent.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Final

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from sender_service.db.models import Message
from sender_service.jobs import queue
from sender_service.jobs.handlers import RECONCILE_SEND

# Far longer than any provider call (EmailBison's client times out after 20 s), so a live
# worker's send is never taken for a dead one's.
CLAIM_TIMEOUT: Final = timedelta(minutes=5)


def enqueue_reconcile(session: Session, message_id: uuid.UUID) -> None:
    queue.enqueue(
        session,
        RECONCILE_SEND,
        {"message_id": str(message_id)},
        dedupe_key=f"{RECONCILE_SEND}:{message_id}",
        max_attempts=3,
    )


def sweep_stale_claims(session: Session, older_than: timedelta = CLAIM_TIMEOUT) -> list[uuid.UUID]:
    """Mark claims older than `older_than` as `unknown` and queue their reconciliation."""
    stale = list(
        session.execute(
            update(Message)
            .where(
                Message.delivery_status == "claimed",
                Message.created_at < func.now() - older_than,
            )
            .values(delivery_status="unknown")
            .returning(Message.id)
        ).scalars()
    )
    for message_id in stale:
        enqueue_reconcile(session, message_id)
    return stale
