"""Entering and leaving a workspace's follow-up sequence (one active enrollment per lead)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from sender_service.booking import is_meeting_booked
from sender_service.db.models import (
    FollowupEnrollment,
    FollowupSequence,
    FollowupStep,
    Lead,
    Message,
    Workspace,
)
from sender_service.definitions import POSITIVE_SENTIMENTS

# An auto-responder is not the lead answering: the sequence carries on.
NOT_THE_LEAD = ("Out of Office", "Automated Reply")


def stop_active(session: Session, lead_id: uuid.UUID, reason: str) -> bool:
    """Stop the lead's active enrollment, if any; whether one was stopped."""
    stopped = session.execute(
        update(FollowupEnrollment)
        .where(FollowupEnrollment.lead_id == lead_id, FollowupEnrollment.status == "active")
        .values(status="stopped", stop_reason=reason, ended_at=func.now(), next_due_at=None)
        .returning(FollowupEnrollment.id)
    ).first()
    return stopped is not None


def active_sequence(session: Session, workspace_id: uuid.UUID) -> FollowupSequence | None:
    return session.execute(
        select(FollowupSequence)
        .where(FollowupSequence.workspace_id == workspace_id, FollowupSequence.active)
        .order_by(FollowupSequence.created_at)
        .limit(1)
    ).scalar_one_or_none()


def step_delay(session: Session, sequence_id: uuid.UUID, step_number: int) -> timedelta | None:
    """A step's delay after enrollment, or None when the sequence has no such step."""
    seconds = session.execute(
        select(FollowupStep.delay_seconds).where(
            FollowupStep.sequence_id == sequence_id, FollowupStep.step_number == step_number
        )
    ).scalar_one_or_none()
    return None if seconds is None else timedelta(seconds=seconds)


def on_reply(session: Session, message: Message) -> None:
    """A classified inbound reply moves the lead's enrollment (docs/flows.md, "Follow-ups").

    Any reply of its own ends the current run of the sequence; a positive reply from a lead
    that has not booked (and may be contacted) starts it afresh, timed from this reply.
    """
    if message.lead_id is None or message.direction != "inbound":
        return
    lead = session.get_one(Lead, message.lead_id)
    workspace = session.get_one(Workspace, lead.workspace_id)
    positive = message.sentiment in POSITIVE_SENTIMENTS
    if message.sentiment in NOT_THE_LEAD or message.is_automated_reply:
        return
    negative = message.sentiment in ("Not Interested", "Blacklist")
    stop_active(session, lead.id, "negative_reply" if negative else "replied")
    if not positive or lead.opted_out or is_meeting_booked(lead, workspace):
        return
    sequence = active_sequence(session, workspace.id)
    if sequence is None:
        return
    first = step_delay(session, sequence.id, 1)
    if first is None:
        return
    enrolled_at: datetime = message.occurred_at
    session.execute(
        insert(FollowupEnrollment)
        .values(
            sequence_id=sequence.id,
            lead_id=lead.id,
            enrolled_at=enrolled_at,
            next_due_at=enrolled_at + first,
        )
        .on_conflict_do_nothing()
    )
