"""Record a booking event once and apply it to its lead, whichever provider sent it.

Each event is a `booking_events` row (unique per workspace, provider and provider event id,
so a redelivery changes nothing); the lead row holds the current state. An event whose lead
is not known yet waits in `unmatched_bookings` and is replayed when the lead appears.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from sender_service.booking import books_through, is_meeting_booked
from sender_service.db.models import BookingEvent, Lead, UnmatchedBooking, Workspace
from sender_service.followups.enrollment import stop_active


@dataclass(frozen=True)
class BookingUpdate:
    """One provider event in neutral form; exactly one of the booking keys is set."""

    provider: str
    event_type: str  # created | rescheduled | canceled | showed | noshow
    provider_event_id: str
    status: str  # canonical appointment status the event reports
    occurred_at: datetime | None = None
    meeting_start_at: datetime | None = None
    ghl_appointment_id: str | None = None
    calendly_invitee_uri: str | None = None
    calendly_scheduled_event_uri: str | None = None
    invitee_email: str | None = None
    # How to find the lead: our own reference (Calendly's utm_content), or the GHL contact.
    lead_ref: str | None = None
    ghl_contact_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    status: Literal["applied", "unmatched", "duplicate"]
    booking_event_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None


def record(
    session: Session, workspace: Workspace, event: BookingUpdate, lead: Lead | None = None
) -> Recorded:
    """Store the event (once) and move the lead (found, unless given); caller's transaction."""
    lead = lead or _find_lead(session, workspace.id, event)
    values = {
        "workspace_id": workspace.id,
        "lead_id": lead.id if lead else None,
        "provider": event.provider,
        "event_type": event.event_type,
        "provider_event_id": event.provider_event_id,
        "appointment_status": event.status,
        "ghl_appointment_id": event.ghl_appointment_id,
        "calendly_invitee_uri": event.calendly_invitee_uri,
        "calendly_scheduled_event_uri": event.calendly_scheduled_event_uri,
        "invitee_email": event.invitee_email,
        "meeting_start_at": event.meeting_start_at,
        "occurred_at": event.occurred_at or datetime.now(UTC),
        "payload": event.payload,
    }
    event_id = session.execute(
        insert(BookingEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["workspace_id", "provider", "provider_event_id"])
        .returning(BookingEvent.id)
    ).scalar_one_or_none()
    if event_id is None:
        return Recorded("duplicate", lead_id=lead.id if lead else None)
    row = session.get_one(BookingEvent, event_id)
    if lead is None:
        session.add(
            UnmatchedBooking(
                workspace_id=workspace.id,
                booking_event_id=event_id,
                invitee_email=event.invitee_email,
            )
        )
        return Recorded("unmatched", event_id)
    apply_to_lead(session, workspace, lead, row)
    return Recorded("applied", event_id, lead.id)


def apply_to_lead(session: Session, workspace: Workspace, lead: Lead, event: BookingEvent) -> None:
    """Move the lead's booking state by one recorded event.

    A reschedule's cancel (Calendly cancels the old invitee) leaves the lead alone: the new
    invitee's `created` carries the booking on, in whichever order the two arrive. An event
    about another booking than the lead's current one only matters when it books anew.
    """
    session.refresh(lead, with_for_update=True)
    if event.event_type == "rescheduled" and event.appointment_status == "canceled":
        return
    key, value = _booking_key(event)
    current = getattr(lead, key)
    if current and current != value and event.appointment_status != "confirmed":
        return  # an older booking was canceled or closed; the current one stands
    own = books_through(workspace, event.provider)
    was_booked = is_meeting_booked(lead, workspace)
    setattr(lead, key, value)
    if event.calendly_scheduled_event_uri:
        lead.calendly_scheduled_event_uri = event.calendly_scheduled_event_uri
    if not own:
        return  # a stray event of the other provider never moves the lead's status
    lead.appointment_status = event.appointment_status
    if event.meeting_start_at is not None:
        lead.meeting_start_at = event.meeting_start_at
    if event.appointment_status == "confirmed" and not was_booked:
        lead.booked_at = event.occurred_at
    if is_meeting_booked(lead, workspace):
        stop_active(session, lead.id, "booked")


def _booking_key(event: BookingEvent) -> tuple[str, str | None]:
    if event.ghl_appointment_id:
        return "ghl_appointment_id", event.ghl_appointment_id
    return "calendly_invitee_uri", event.calendly_invitee_uri


def _find_lead(session: Session, workspace_id: uuid.UUID, event: BookingUpdate) -> Lead | None:
    in_workspace = Lead.workspace_id == workspace_id
    if event.lead_ref:
        try:
            ref = uuid.UUID(event.lead_ref)
        except ValueError:
            ref = None
        if ref is not None:
            lead = session.execute(select(Lead).where(in_workspace, Lead.id == ref)).scalar()
            if lead is not None:
                return lead
    candidates = []
    if event.ghl_contact_id:
        candidates.append(Lead.ghl_contact_id == event.ghl_contact_id)
    if event.ghl_appointment_id:
        candidates.append(Lead.ghl_appointment_id == event.ghl_appointment_id)
    if event.calendly_invitee_uri:
        candidates.append(Lead.calendly_invitee_uri == event.calendly_invitee_uri)
    if event.invitee_email:
        candidates.append(func.lower(Lead.email) == event.invitee_email.lower())
    for condition in candidates:
        lead = session.execute(
            select(Lead).where(in_workspace, condition).order_by(Lead.updated_at.desc()).limit(1)
        ).scalar()
        if lead is not None:
            return lead
    return None


def match_unmatched(session: Session, workspace: Workspace, lead: Lead) -> int:
    """Replay, oldest first, the bookings that waited for this lead (by its email, or by its
    GHL contact id, which the provider's events carry instead of an email); how many."""
    keys = []
    if lead.email:
        keys.append(func.lower(UnmatchedBooking.invitee_email) == lead.email.lower())
    if lead.ghl_contact_id:
        keys.append(BookingEvent.payload["appointment"]["contactId"].astext == lead.ghl_contact_id)
    if not keys:
        return 0
    waiting = session.execute(
        select(UnmatchedBooking, BookingEvent)
        .join(BookingEvent, BookingEvent.id == UnmatchedBooking.booking_event_id)
        .where(
            UnmatchedBooking.workspace_id == workspace.id,
            UnmatchedBooking.matched_lead_id.is_(None),
            or_(*keys),
        )
        .order_by(BookingEvent.occurred_at, BookingEvent.created_at)
        .with_for_update(of=UnmatchedBooking, skip_locked=True)
    ).all()
    for unmatched, event in waiting:
        unmatched.matched_lead_id = lead.id
        unmatched.matched_at = datetime.now(UTC)
        event.lead_id = lead.id
        apply_to_lead(session, workspace, lead, event)
    return len(waiting)
