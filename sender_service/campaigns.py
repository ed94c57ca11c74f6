"""Email campaigns: creation with the defaults, and the history of their mode (the arm)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from sender_service.db.models import (
    DEFAULT_THRESHOLD,
    CampaignModeChange,
    EmailCampaign,
)


def get_or_create_campaign(
    session: Session, workspace_id: uuid.UUID, external_id: str, name: str | None = None
) -> tuple[EmailCampaign, bool]:
    """The workspace's campaign with this platform id, created with the defaults if new.

    Safe under concurrent webhooks: the insert is `on conflict do nothing`, and only the
    transaction that inserted writes the `created` history row.
    """
    inserted = session.execute(
        insert(EmailCampaign)
        .values(
            workspace_id=workspace_id,
            external_id=external_id,
            name=name or external_id,
            response_mode="SETTER_MANAGED",
            auto_send_confidence_threshold=DEFAULT_THRESHOLD,
        )
        .on_conflict_do_nothing(index_elements=["workspace_id", "external_id"])
        .returning(EmailCampaign.id)
    ).scalar_one_or_none()
    campaign = session.execute(
        select(EmailCampaign).where(
            EmailCampaign.workspace_id == workspace_id, EmailCampaign.external_id == external_id
        )
    ).scalar_one()
    if inserted is not None:
        record_mode_change(session, campaign, None, "created")
    return campaign, inserted is not None


def record_mode_change(
    session: Session,
    campaign: EmailCampaign,
    from_mode: str | None,
    reason: str,
    changed_by: uuid.UUID | None = None,
) -> CampaignModeChange:
    """One history row: the campaign's current mode and threshold, and what it was before."""
    change = CampaignModeChange(
        workspace_id=campaign.workspace_id,
        email_campaign_id=campaign.id,
        from_mode=from_mode,
        to_mode=campaign.response_mode,
        threshold=Decimal(campaign.auto_send_confidence_threshold),
        reason=reason,
        changed_by=changed_by,
    )
    session.add(change)
    session.flush()
    return change
