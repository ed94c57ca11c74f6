"""What a person does to a draft or a lead, shared by the JSON API and the pages.

The caller has already checked the user's role; these only change state, atomically.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import exists, select

from sender_service.db.engine import session_scope
from sender_service.db.models import AIDraft, Lead, Message

BEING_SENT = "being sent"


def reject_draft(url: str, draft_id: uuid.UUID, user_id: uuid.UUID | None = None) -> str | None:
    """Reject a pending or scheduled draft; else its current status (someone got there first),
    or `BEING_SENT` when a send has claimed it. `user_id`: who rejected it, kept to tell a
    second reviewer.

    Decided under the draft's row lock, which a send's claim also takes: the claim's outbound
    row is committed with the lock held, so whichever comes second sees the first."""
    with session_scope(url) as session:
        row = session.get_one(AIDraft, draft_id, with_for_update=True)
        if row.status not in ("pending", "scheduled"):
            return row.status
        if session.scalar(select(exists().where(Message.ai_draft_id == draft_id))):
            return BEING_SENT
        row.status = "rejected"
        row.reviewed_by_user_id = user_id
        row.reviewed_at = datetime.now(UTC)
    return None


def set_ai_paused(url: str, lead_id: uuid.UUID, paused: bool) -> None:
    """Pausing stops AI sends to the lead, scheduled ones included (the skip rules are
    re-checked just before any send); resuming lets the next replies be answered."""
    with session_scope(url) as session:
        session.get_one(Lead, lead_id, with_for_update=True).ai_paused = paused
