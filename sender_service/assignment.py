"""Replies that wait for a person go to a setter, by smooth weighted round-robin.

Each active setter (role `setter`, not paused, weight > 0) gains its weight in credit at every
assignment; the one with most credit gets the lead and pays back the total weight. Over any run
of assignments each setter's share follows its weight, and the order interleaves rather than
batching (weights 2:1 give A, B, A, A, B, A, ...). The workspace's setter rows are locked while
choosing, so two concurrent replies never read the same credits. A lead keeps its setter:
later replies of an assigned lead are not re-assigned.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sender_service.db.models import Lead, Membership


class AssignmentError(ValueError):
    """A reassignment to someone who cannot take it."""


def _active_setters(session: Session, workspace_id: uuid.UUID) -> list[Membership]:
    return list(
        session.execute(
            select(Membership)
            .where(Membership.workspace_id == workspace_id, Membership.role == "setter")
            .order_by(Membership.user_id)
            .with_for_update()
        ).scalars()
    )


def next_setter(session: Session, workspace_id: uuid.UUID) -> uuid.UUID | None:
    """Pick (and charge) the next setter; None when the workspace has no active setter."""
    members = [
        m
        for m in _active_setters(session, workspace_id)
        if not m.assignment_paused and m.assignment_weight > 0
    ]
    if not members:
        return None
    total = sum(m.assignment_weight for m in members)
    for m in members:
        m.assignment_credit += m.assignment_weight
    chosen = max(members, key=lambda m: (m.assignment_credit, -members.index(m)))
    chosen.assignment_credit -= total
    session.flush()
    return chosen.user_id


def assign_lead(session: Session, lead: Lead, now: datetime | None = None) -> uuid.UUID | None:
    """Give a lead waiting for a person a setter, unless it already has one."""
    if lead.assigned_user_id is not None:
        return lead.assigned_user_id
    user_id = next_setter(session, lead.workspace_id)
    if user_id is not None:
        lead.assigned_user_id = user_id
        lead.assigned_at = now or datetime.now(UTC)
        session.flush()
    return user_id


def reassign_lead(session: Session, lead_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Hand a lead to another setter of its workspace (paused ones too: a person chose)."""
    lead = session.get_one(Lead, lead_id, with_for_update=True)
    member = session.execute(
        select(Membership).where(
            Membership.workspace_id == lead.workspace_id,
            Membership.user_id == user_id,
            Membership.role.in_(("setter", "admin")),
        )
    ).scalar_one_or_none()
    if member is None:
        raise AssignmentError("the user is not a setter or admin of the lead's workspace")
    session.execute(
        update(Lead)
        .where(Lead.id == lead_id)
        .values(assigned_user_id=user_id, assigned_at=datetime.now(UTC))
    )
