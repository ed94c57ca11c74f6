"""Booking jobs: reconcile a workspace (every 15 minutes), find or create a GHL contact."""

from __future__ import annotations

import logging
import uuid
from typing import Any, Final

from sqlalchemy.orm import Session

from sender_service.booking import keeps_provider_contacts
from sender_service.booking_sync.reconcile import reconcile_workspace
from sender_service.booking_sync.record import match_unmatched
from sender_service.db.models import Lead, Workspace
from sender_service.jobs.handlers import handler
from sender_service.providers.factory import NotConfigured, ghl_client
from sender_service.services import Services

log = logging.getLogger(__name__)

RECONCILE_BOOKINGS: Final = "reconcile_bookings"
SYNC_CONTACT: Final = "sync_provider_contact"


@handler(RECONCILE_BOOKINGS)
def reconcile_bookings(session: Session, payload: dict[str, Any]) -> None:
    services: Services = session.info["services"]
    workspace_id = uuid.UUID(payload["workspace_id"])
    if session.get(Workspace, workspace_id) is None:
        return
    try:
        summary = reconcile_workspace(session, services.settings, workspace_id)
    except NotConfigured as exc:
        log.info("workspace %s not reconciled: %s", workspace_id, exc)
        return
    log.info(
        "workspace %s reconciled: %d checked, %d fixed, %d matched, %d errors",
        workspace_id,
        summary.checked,
        summary.fixed,
        summary.matched,
        len(summary.errors),
    )


@handler(SYNC_CONTACT)
def sync_provider_contact(session: Session, payload: dict[str, Any]) -> None:
    """Store the lead's GHL contact id (found by email, then phone; else created)."""
    lead = session.get(Lead, uuid.UUID(payload["lead_id"]))
    if lead is None or lead.ghl_contact_id:
        return
    workspace = session.get_one(Workspace, lead.workspace_id)
    if not keeps_provider_contacts(workspace) or not (lead.email or lead.phone):
        return
    services: Services = session.info["services"]
    try:
        client = ghl_client(session, services.settings, workspace)
    except NotConfigured as exc:
        log.info("lead %s has no GHL contact: %s", lead.id, exc)
        return
    with client:  # a GHLError fails the job, which is retried with backoff
        lead.ghl_contact_id = client.find_or_create_contact(
            email=lead.email,
            phone=lead.phone,
            first_name=lead.first_name,
            last_name=lead.last_name,
            company=lead.company,
        )
    # Appointments booked before the contact was known waited for it.
    match_unmatched(session, workspace, lead)
