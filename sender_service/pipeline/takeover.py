"""Closing a lead's open AI drafts when a person or the lead makes them pointless.

A setter's reply supersedes them (the setter took over); an opt-out or a bounce rejects them.
Each closed draft gets an `auto_send_decisions` skip row saying why, so `lead explain` and the
warehouse see it. A `send_draft` job still queued for such a draft finds it closed and stops.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sender_service.db.models import AIDraft, AutoSendDecision, Message

OPEN_DRAFT_STATUSES = ("pending", "scheduled")


def close_open_drafts(
    session: Session,
    lead_id: uuid.UUID,
    *,
    status: Literal["superseded", "rejected"],
    reason: str,
    replied_before: datetime | None = None,
    keep: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Close the lead's pending and scheduled drafts; return their ids.

    `replied_before`: only drafts answering replies received up to then (a setter's answer
    does not cancel the draft for a reply that came after it). `keep`: a draft left alone.
    """
    query = (
        update(AIDraft)
        .where(AIDraft.lead_id == lead_id, AIDraft.status.in_(OPEN_DRAFT_STATUSES))
        .values(status=status, evaluation_reason=reason)
        .returning(AIDraft.id, AIDraft.workspace_id, AIDraft.inbound_message_id)
    )
    if replied_before is not None:
        query = query.where(
            AIDraft.inbound_message_id.in_(
                select(Message.id).where(
                    Message.lead_id == lead_id, Message.occurred_at <= replied_before
                )
            )
        )
    if keep is not None:
        query = query.where(AIDraft.id != keep)
    closed = session.execute(query).all()
    for row in closed:
        session.add(
            AutoSendDecision(
                workspace_id=row.workspace_id,
                lead_id=lead_id,
                ai_draft_id=row.id,
                inbound_message_id=row.inbound_message_id,
                action="skip",
                reason=reason,
            )
        )
    return [row.id for row in closed]
