"""Small builders of operational rows for tests: a workspace with campaigns, leads, threads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from sender_service.campaigns import get_or_create_campaign
from sender_service.db.models import EmailCampaign, Lead, Message, Workspace
from sender_service.workspaces import create_workspace

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@dataclass
class Built:
    workspace: Workspace
    campaigns: list[EmailCampaign] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)


def workspace(session: Session, name: str, provider: str = "GHL") -> Built:
    ws, _ = create_workspace(session, name=name, booking_provider=provider)
    return Built(ws)


def campaign(session: Session, built: Built, name: str) -> EmailCampaign:
    camp, _ = get_or_create_campaign(session, built.workspace.id, f"ext-{uuid.uuid4().hex}", name)
    built.campaigns.append(camp)
    return camp


def lead(session: Session, built: Built, camp: EmailCampaign | None, **fields: Any) -> Lead:
    row = Lead(
        workspace_id=built.workspace.id,
        email_campaign_id=camp.id if camp else None,
        external_id=f"lead-{uuid.uuid4().hex}",
        **fields,
    )
    session.add(row)
    session.flush()
    built.leads.append(row)
    return row


def message(
    session: Session,
    built: Built,
    lead_row: Lead,
    direction: str,
    minutes: int,
    **fields: Any,
) -> Message:
    defaults: dict[str, Any] = {
        "channel": "email",
        "body": f"{direction} body {minutes}",
        "subject": "Re: hello",
        "source": "emailbison",
    }
    if direction == "outbound":
        defaults["sent_by"] = "setter"
    row = Message(
        workspace_id=built.workspace.id,
        lead_id=lead_row.id,
        email_campaign_id=lead_row.email_campaign_id,
        direction=direction,
        external_id=f"msg-{uuid.uuid4().hex}",
        occurred_at=T0 + timedelta(minutes=minutes),
        **{**defaults, **fields},
    )
    session.add(row)
    session.flush()
    built.messages.append(row)
    return row
