"""Erasure of one lead's personal data, keeping the anonymous facts KPIs count.

Rows stay (a lead, its messages, drafts, bookings), as do sentiments, sent_by, statuses and
timestamps; every name, address, text and provider payload that could identify the person is
blanked, and the raw webhook bodies that name the person are emptied in the delivery journal.
Provider ids that decide booked-ness are replaced by a tombstone, so a booked lead
still counts as booked. The updated_at triggers carry the change to the warehouse.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, case, func, or_, update
from sqlalchemy.orm import Session

from sender_service.db.models import (
    AIDraft,
    AutoSendDecision,
    BookingEvent,
    Lead,
    Message,
    UnmatchedBooking,
)
from sender_service.ingest import journal

TOMBSTONE = "erased"


class UnknownLeadError(LookupError):
    """No lead has this id."""


@dataclass(frozen=True)
class Erased:
    lead_id: uuid.UUID
    messages: int
    drafts: int
    decisions: int
    booking_events: int
    unmatched_bookings: int
    deliveries: int


def _tombstoned(column: Any) -> Any:
    """A non-empty provider id becomes the tombstone: booked-ness stays, the id goes."""
    return case((func.coalesce(column, "") != "", TOMBSTONE), else_=column)


def _rows(result: Any) -> int:
    """Rows an UPDATE touched."""
    return int(cast(CursorResult[Any], result).rowcount)


def erase_lead(session: Session, lead_id: uuid.UUID) -> Erased:
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise UnknownLeadError(f"no lead {lead_id}")
    ws = lead.workspace_id
    email = (lead.email or "").strip().lower()
    # What names the person in a raw webhook body, read before the row is blanked.
    identifiers = [
        v
        for v in (email, lead.ghl_contact_id, lead.phone, lead.calendly_invitee_uri)
        if v and v != TOMBSTONE
    ]

    def same_email(column: Any) -> Any:
        return func.lower(func.trim(column)) == email

    def tomb(value: str | None) -> str | None:
        return TOMBSTONE if value else value

    lead.email = lead.first_name = lead.last_name = lead.title = None
    lead.phone = lead.company = None
    lead.custom_variables = None
    lead.ghl_contact_id = tomb(lead.ghl_contact_id)
    lead.ghl_appointment_id = tomb(lead.ghl_appointment_id)
    lead.calendly_invitee_uri = tomb(lead.calendly_invitee_uri)
    lead.calendly_scheduled_event_uri = tomb(lead.calendly_scheduled_event_uri)

    thread: Any = Message.lead_id == lead_id
    if email:
        thread = or_(thread, same_email(Message.from_address), same_email(Message.to_address))
    messages = _rows(
        session.execute(
            update(Message)
            .where(Message.workspace_id == ws, thread)
            .values(
                subject=None,
                body="",
                body_html=None,
                from_address=None,
                to_address=None,
                thread_ref={},
            )
        )
    )
    drafts = _rows(
        session.execute(
            update(AIDraft)
            .where(AIDraft.lead_id == lead_id)
            .values(body="", evaluation_reason=None)
        )
    )
    decisions = _rows(
        session.execute(
            update(AutoSendDecision).where(AutoSendDecision.lead_id == lead_id).values(inputs={})
        )
    )
    booking_match: Any = BookingEvent.lead_id == lead_id
    if email:
        booking_match = or_(booking_match, same_email(BookingEvent.invitee_email))
    booking_events = _rows(
        session.execute(
            update(BookingEvent)
            .where(BookingEvent.workspace_id == ws, booking_match)
            .values(
                invitee_email=None,
                payload={},
                ghl_appointment_id=_tombstoned(BookingEvent.ghl_appointment_id),
                calendly_invitee_uri=_tombstoned(BookingEvent.calendly_invitee_uri),
                calendly_scheduled_event_uri=_tombstoned(BookingEvent.calendly_scheduled_event_uri),
            )
        )
    )
    unmatched_match: Any = UnmatchedBooking.matched_lead_id == lead_id
    if email:
        unmatched_match = or_(unmatched_match, same_email(UnmatchedBooking.invitee_email))
    unmatched = _rows(
        session.execute(
            update(UnmatchedBooking)
            .where(UnmatchedBooking.workspace_id == ws, unmatched_match)
            .values(invitee_email=None)
        )
    )
    deliveries = journal.scrub_for_lead(session, ws, lead_id, identifiers)
    session.flush()
    return Erased(lead_id, messages, drafts, decisions, booking_events, unmatched, deliveries)
