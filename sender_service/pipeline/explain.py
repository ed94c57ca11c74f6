"""A lead's timeline: every message, draft, decision, notification and booking, and why."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sender_service.booking import is_meeting_booked
from sender_service.db.models import (
    AIDraft,
    AutoSendDecision,
    BookingEvent,
    EmailCampaign,
    FollowupEnrollment,
    FollowupSequence,
    Lead,
    Message,
    Notification,
    Workspace,
)


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    text: str


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def timeline(session: Session, lead_id: uuid.UUID) -> tuple[Lead, list[str], list[Entry]]:
    """The lead, a header of who and where, and its entries in time order."""
    lead = session.get_one(Lead, lead_id)
    workspace = session.get_one(Workspace, lead.workspace_id)
    campaign = (
        session.get(EmailCampaign, lead.email_campaign_id) if lead.email_campaign_id else None
    )
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or "(no name)"
    header = [
        f"Lead {lead.id}: {name} <{lead.email or 'no email'}> at {lead.company or '—'}",
        f"Workspace {workspace.name} (books through {workspace.booking_provider})",
        f"Campaign {campaign.name if campaign else '—'}"
        + (
            f" [{campaign.response_mode}, threshold {campaign.auto_send_confidence_threshold}]"
            if campaign
            else ""
        ),
        "Booked: "
        + ("yes" if is_meeting_booked(lead, workspace) else "no")
        + (f" ({lead.appointment_status})" if lead.appointment_status else "")
        + ("; opted out" if lead.opted_out else "")
        + ("; AI paused" if lead.ai_paused else ""),
    ]
    entries: list[Entry] = []
    for m in session.execute(select(Message).where(Message.lead_id == lead.id)).scalars():
        if m.direction == "inbound":
            label = f"reply ({m.sentiment or 'not yet classified'})"
            if m.is_automated_reply:
                label += " [automated]"
        else:
            label = f"sent by {m.sent_by}"
            if m.delivery_status and m.delivery_status != "sent":
                label += f" [{m.delivery_status}]"
            if m.follow_up_step:
                label += f" (follow-up step {m.follow_up_step})"
        entries.append(Entry(m.occurred_at, m.direction, f"{label}: {_short(m.body)}"))
    for d in session.execute(select(AIDraft).where(AIDraft.lead_id == lead.id)).scalars():
        scored = ""
        if d.confidence is not None:
            scored = f", confidence {d.confidence}, safe={d.safe_to_send}"
        entries.append(
            Entry(d.created_at, "draft", f"AI draft [{d.status}{scored}]: {_short(d.body)}")
        )
    decisions = select(AutoSendDecision).where(AutoSendDecision.lead_id == lead.id)
    for a in session.execute(decisions).scalars():
        when = f" for {a.scheduled_for:%Y-%m-%d %H:%M %Z}" if a.scheduled_for else ""
        entries.append(Entry(a.decided_at, "decision", f"{a.action}{when}: {a.reason}"))
    for n in session.execute(select(Notification).where(Notification.lead_id == lead.id)).scalars():
        state = f"{n.status} after {n.attempts} attempt(s)" + (
            f": {n.last_error}" if n.last_error else ""
        )
        entries.append(Entry(n.sent_at or n.created_at, "slack", f"{n.kind} DM {state}"))
    for b in session.execute(select(BookingEvent).where(BookingEvent.lead_id == lead.id)).scalars():
        start = f", meeting {b.meeting_start_at:%Y-%m-%d %H:%M %Z}" if b.meeting_start_at else ""
        entries.append(Entry(b.occurred_at, "booking", f"{b.provider} {b.event_type}{start}"))
    enrollments = (
        select(FollowupEnrollment, FollowupSequence.name)
        .join(FollowupSequence, FollowupSequence.id == FollowupEnrollment.sequence_id)
        .where(FollowupEnrollment.lead_id == lead.id)
    )
    for e, sequence in session.execute(enrollments).all():
        due = ""
        if e.status == "active" and e.next_due_at:
            due = f"; step {e.last_step_number + 1} due {e.next_due_at:%Y-%m-%d %H:%M %Z}"
        entries.append(Entry(e.enrolled_at, "sequence", f"entered {sequence!r}{due}"))
        if e.ended_at:
            how = f"stopped ({e.stop_reason})" if e.status == "stopped" else e.status
            entries.append(
                Entry(e.ended_at, "sequence", f"{how} after {e.last_step_number} step(s)")
            )
    entries.sort(key=lambda e: e.at)
    return lead, header, entries


def render_timeline(session: Session, lead_id: uuid.UUID) -> str:
    _, header, entries = timeline(session, lead_id)
    lines = [*header, ""]
    lines += [f"{e.at:%Y-%m-%d %H:%M:%S %Z}  {e.kind:<8}  {e.text}" for e in entries]
    return "\n".join(lines)
