"""Ask the provider about positive leads without a booking and fix their record.

Webhooks get lost (a provider gives up, the service was down); every 15 minutes, and on
`replyline bookings reconcile`, each such lead is looked up — GHL: its contact's
appointments; Calendly: scheduled events by invitee email — and what is found is recorded
as booking events, exactly like a webhook would have been. Calendly deliveries refused for a
stale signature (journaled `stale`) are picked up too: their invitee's email is looked up in
the Calendly API, so an outage longer than the signature tolerance loses no booking.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sender_service.booking import is_meeting_booked, reconciler
from sender_service.booking_sync import calendly, ghl
from sender_service.booking_sync.record import BookingUpdate, match_unmatched, record
from sender_service.db.models import Lead, UnmatchedBooking, WebhookDelivery, Workspace
from sender_service.definitions import POSITIVE_SENTIMENTS, normalize_appointment_status
from sender_service.ingest import journal
from sender_service.ingest.events import PayloadError
from sender_service.providers.calendly import CalendlyClient, CalendlyError, Invitee
from sender_service.providers.factory import calendly_client, ghl_client
from sender_service.providers.ghl import GHLClient, GHLError
from sender_service.settings import Settings

log = logging.getLogger(__name__)

# Bounds one run's calls to the provider (GHL allows about 100 requests per 10 s).
MAX_LEADS_PER_RUN: Final = 500


class ProviderError(RuntimeError):
    """The provider could not answer about a lead; the run carries on with the next."""


class Reconciler(Protocol):
    def client(
        self, session: Session, settings: Settings, workspace: Workspace
    ) -> AbstractContextManager[Any]: ...

    def bookings(self, client: Any, workspace: Workspace, lead: Lead) -> list[BookingUpdate]: ...


class GHLReconciler:
    def client(self, session: Session, settings: Settings, workspace: Workspace) -> GHLClient:
        return ghl_client(session, settings, workspace)

    def bookings(self, client: GHLClient, workspace: Workspace, lead: Lead) -> list[BookingUpdate]:
        try:
            if not lead.ghl_contact_id:
                if not (lead.email or lead.phone):
                    return []
                lead.ghl_contact_id = client.find_or_create_contact(
                    email=lead.email,
                    phone=lead.phone,
                    first_name=lead.first_name,
                    last_name=lead.last_name,
                    company=lead.company,
                )
            appointments = client.contact_appointments(lead.ghl_contact_id)
        except GHLError as exc:
            raise ProviderError(str(exc)) from None
        updates = []
        for appointment in appointments:
            if not ghl.on_booking_calendar(workspace.ghl_calendar_id, appointment.calendar_id):
                continue
            try:
                status = normalize_appointment_status(appointment.status)
            except ValueError:
                continue
            updates.append(ghl.reconciled(appointment.id, status, appointment.start_time))
        # Closed appointments first, so an active one ends up the lead's current booking.
        return sorted(updates, key=lambda u: u.status == "confirmed")


class CalendlyReconciler:
    def client(self, session: Session, settings: Settings, workspace: Workspace) -> CalendlyClient:
        return calendly_client(session, settings, workspace)

    def bookings(
        self, client: CalendlyClient, workspace: Workspace, lead: Lead
    ) -> list[BookingUpdate]:
        if not lead.email:
            return []
        try:
            invitees = client.invitees_by_email(lead.email)
        except CalendlyError as exc:
            raise ProviderError(str(exc)) from None
        return invitee_updates(invitees, lead.email, str(lead.id))


def invitee_updates(
    invitees: list[Invitee], email: str, lead_ref: str | None
) -> list[BookingUpdate]:
    """What the Calendly API says of these invitees, closed ones first (so an active one ends
    up the lead's current booking)."""
    updates = []
    for invitee in invitees:
        active = invitee.status == "active"
        kind = "invitee.created" if active else "invitee.canceled"
        updates.append(
            BookingUpdate(
                provider=calendly.PROVIDER,
                event_type="created" if active else "canceled",
                # The id the webhook would have had: a late webhook is then a duplicate.
                provider_event_id=calendly.event_id(kind, invitee.uri),
                status="confirmed" if active else "canceled",
                occurred_at=invitee.created_at,
                meeting_start_at=invitee.start_time,
                calendly_invitee_uri=invitee.uri,
                calendly_scheduled_event_uri=invitee.event_uri,
                invitee_email=email,
                lead_ref=lead_ref,
                payload={"source": "reconciliation"},
            )
        )
    return sorted(updates, key=lambda u: u.status == "confirmed")


@dataclass
class Summary:
    checked: int = 0
    fixed: int = 0
    matched: int = 0
    stale: int = 0
    errors: list[str] = field(default_factory=list)


def candidates(session: Session, workspace: Workspace) -> list[Lead]:
    """Positive, contactable leads without a booking, most recently active first."""
    leads = session.execute(
        select(Lead)
        .where(
            Lead.workspace_id == workspace.id,
            Lead.sentiment_tag.in_(sorted(POSITIVE_SENTIMENTS)),
            Lead.opted_out.is_(False),
        )
        .order_by(Lead.updated_at.desc())
        .limit(MAX_LEADS_PER_RUN * 4)
    ).scalars()
    return [lead for lead in leads if not is_meeting_booked(lead, workspace)][:MAX_LEADS_PER_RUN]


def match_waiting(session: Session, workspace: Workspace) -> int:
    """Apply unmatched bookings whose lead has since appeared (by any path)."""
    emails: list[str] = list(
        session.execute(
            select(func.lower(UnmatchedBooking.invitee_email))
            .where(
                UnmatchedBooking.workspace_id == workspace.id,
                UnmatchedBooking.matched_lead_id.is_(None),
                UnmatchedBooking.invitee_email.is_not(None),
            )
            .distinct()
        ).scalars()
    )
    matched = 0
    for email in emails:
        lead = session.execute(
            select(Lead)
            .where(Lead.workspace_id == workspace.id, func.lower(Lead.email) == email)
            .order_by(Lead.updated_at.desc())
            .limit(1)
        ).scalar()
        if lead is not None:
            matched += match_unmatched(session, workspace, lead)
    return matched


def reconcile_workspace(session: Session, settings: Settings, workspace_id: uuid.UUID) -> Summary:
    """One pass over the workspace; raises `NotConfigured` when it has no provider access."""
    workspace = session.get_one(Workspace, workspace_id)
    summary = Summary(matched=match_waiting(session, workspace))
    strategy = reconciler(workspace)
    stale = journal.stale(session, workspace.id) if isinstance(strategy, CalendlyReconciler) else []
    leads = candidates(session, workspace)
    if not leads and not stale:
        return summary
    with strategy.client(session, settings, workspace) as client:
        for delivery in stale:
            try:
                summary.stale += reconcile_stale(session, client, workspace, delivery)
            except ProviderError as exc:
                summary.errors.append(f"delivery {delivery.id}: {exc}")
        for lead in leads:
            summary.checked += 1
            try:
                updates = strategy.bookings(client, workspace, lead)
            except ProviderError as exc:
                summary.errors.append(f"lead {lead.id}: {exc}")
                continue
            # Looking the lead up may have given it a provider contact others waited for.
            fixed = match_unmatched(session, workspace, lead) > 0
            for update in updates:
                fixed |= record(session, workspace, update, lead).status == "applied"
            if fixed:
                summary.fixed += 1
                log.info(
                    "reconciled lead %s: booked=%s", lead.id, is_meeting_booked(lead, workspace)
                )
    return summary


def reconcile_stale(
    session: Session, client: CalendlyClient, workspace: Workspace, delivery: WebhookDelivery
) -> int:
    """Ask the Calendly API about the invitee of a delivery refused as stale; record what it
    says (never the late body itself: it may be a replay) and mark the delivery `reconciled`.
    How many booking events were new."""
    try:
        reading = calendly.parse(delivery.body) if delivery.body else None
    except PayloadError:
        reading = None
    email = reading.invitee_email if isinstance(reading, BookingUpdate) else None
    if not email:
        journal.set_outcome(
            session, delivery.id, "reconciled", error="stale; no invitee email to look up"
        )
        return 0
    try:
        invitees = client.invitees_by_email(email)
    except CalendlyError as exc:
        raise ProviderError(str(exc)) from None
    assert isinstance(reading, BookingUpdate)
    new, lead_id = 0, None
    for update in invitee_updates(invitees, email, reading.lead_ref):
        recorded = record(session, workspace, update)
        new += recorded.status != "duplicate"
        lead_id = recorded.lead_id or lead_id
    journal.set_outcome(
        session,
        delivery.id,
        "reconciled",
        error=f"stale; {len(invitees)} invitee(s) fetched from the Calendly API",
        lead_id=lead_id,
    )
    return new
