"""Email campaigns: creation with the defaults, sync with the platform, and the history of
their mode (the arm)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from sender_service.db.models import (
    DEFAULT_THRESHOLD,
    RESPONSE_MODES,
    SENDING_HOURS,
    CampaignModeChange,
    EmailCampaign,
)
from sender_service.email_platforms.base import PlatformCampaign

# The delay columns are Postgres `integer`.
MAX_DELAY_SECONDS: Final = 2**31 - 1


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


class CampaignError(ValueError):
    """Bad input for a campaign operation; the message says which."""


@dataclass(frozen=True)
class SyncResult:
    created: int
    renamed: int
    archived: int
    unarchived: int
    unchanged: int


def sync_campaigns(
    session: Session, workspace_id: uuid.UUID, listed: Iterable[PlatformCampaign]
) -> SyncResult:
    """Make the workspace's campaigns match what the platform lists.

    New ones get the defaults and a `created` history row; existing ones keep their settings
    and take the platform's name; ones no longer listed are archived (their history and leads
    stay), and come back unarchived if the platform lists them again.
    """
    by_external = {c.external_id: c for c in listed}
    existing = {
        c.external_id: c
        for c in session.execute(
            select(EmailCampaign).where(EmailCampaign.workspace_id == workspace_id)
        ).scalars()
    }
    created = renamed = archived = unarchived = unchanged = 0
    for external_id, listed_campaign in by_external.items():
        campaign = existing.get(external_id)
        if campaign is None:
            get_or_create_campaign(session, workspace_id, external_id, listed_campaign.name)
            created += 1
            continue
        changed = False
        if campaign.name != listed_campaign.name:
            campaign.name = listed_campaign.name
            renamed += 1
            changed = True
        if campaign.archived:
            campaign.archived = False
            unarchived += 1
            changed = True
        unchanged += not changed
    for external_id, campaign in existing.items():
        if external_id not in by_external and not campaign.archived:
            campaign.archived = True
            archived += 1
    session.flush()
    return SyncResult(created, renamed, archived, unarchived, unchanged)


def find_campaign(session: Session, workspace_id: uuid.UUID, ref: str) -> EmailCampaign:
    """The workspace's campaign whose Replyline id or platform id is `ref`."""
    conditions = [EmailCampaign.external_id == ref]
    try:
        conditions.append(EmailCampaign.id == uuid.UUID(ref))
    except ValueError:
        pass
    matches = (
        session.execute(
            select(EmailCampaign).where(
                EmailCampaign.workspace_id == workspace_id, or_(*conditions)
            )
        )
        .scalars()
        .all()
    )
    if not matches:
        raise CampaignError(f"no campaign {ref!r} in this workspace")
    if len(matches) > 1:
        raise CampaignError(
            f"{ref!r} is ambiguous: it is one campaign's id and another's platform id"
        )
    return matches[0]


def parse_threshold(raw: str) -> Decimal:
    """A confidence threshold in [0, 1] with at most three decimals (the column's precision)."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise CampaignError(f"threshold must be a number in [0, 1], not {raw!r}") from None
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise CampaignError(f"threshold must be in [0, 1], not {raw!r}")
    if value != value.quantize(Decimal("0.001")):
        raise CampaignError(f"threshold has at most three decimals, not {raw!r}")
    return value


def set_mode(
    session: Session,
    campaign: EmailCampaign,
    mode: str,
    threshold: Decimal | None = None,
    *,
    reason: str = "manual",
    changed_by: uuid.UUID | None = None,
) -> CampaignModeChange | None:
    """Switch the campaign's arm (and threshold); one history row per real change, else None."""
    if mode not in RESPONSE_MODES:
        raise CampaignError(f"mode must be one of {', '.join(RESPONSE_MODES)}, not {mode!r}")
    new_threshold = campaign.auto_send_confidence_threshold if threshold is None else threshold
    if mode == campaign.response_mode and new_threshold == campaign.auto_send_confidence_threshold:
        return None
    from_mode = campaign.response_mode
    campaign.response_mode = mode
    campaign.auto_send_confidence_threshold = new_threshold
    return record_mode_change(session, campaign, from_mode, reason, changed_by)


def parse_seconds(raw: str, option: str) -> int:
    """A whole, non-negative number of seconds that the delay columns can hold."""
    text = raw.strip()
    # ASCII digits only: `str.isdigit` also accepts "²", which `int` then refuses.
    if not (text.isascii() and text.isdigit()):
        raise CampaignError(f"{option} must be a whole number of seconds (0 or more), not {raw!r}")
    seconds = int(text)
    if seconds > MAX_DELAY_SECONDS:
        raise CampaignError(f"{option} must be at most {MAX_DELAY_SECONDS} seconds, not {text}")
    return seconds


def set_timing(
    campaign: EmailCampaign,
    *,
    delay_min: int | None = None,
    delay_max: int | None = None,
    sending_hours: str | None = None,
) -> None:
    """Change the auto-send delay window and sending hours; nothing changes on bad input."""
    low = campaign.send_delay_min_seconds if delay_min is None else delay_min
    high = campaign.send_delay_max_seconds if delay_max is None else delay_max
    if low > high:
        raise CampaignError(f"the send delay's minimum ({low} s) is above its maximum ({high} s)")
    if sending_hours is not None and sending_hours not in SENDING_HOURS:
        raise CampaignError(
            f"sending hours must be one of {', '.join(SENDING_HOURS)}, not {sending_hours!r}"
        )
    campaign.send_delay_min_seconds = low
    campaign.send_delay_max_seconds = high
    if sending_hours is not None:
        campaign.sending_hours = sending_hours


def campaign_view(campaign: EmailCampaign) -> dict[str, Any]:
    return {
        "id": str(campaign.id),
        "external_id": campaign.external_id,
        "name": campaign.name,
        "response_mode": campaign.response_mode,
        "auto_send_confidence_threshold": float(campaign.auto_send_confidence_threshold),
        "archived": campaign.archived,
    }


def timing_view(campaign: EmailCampaign) -> dict[str, Any]:
    return {
        **campaign_view(campaign),
        "send_delay_min_seconds": campaign.send_delay_min_seconds,
        "send_delay_max_seconds": campaign.send_delay_max_seconds,
        "sending_hours": campaign.sending_hours,
    }
