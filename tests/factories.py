"""Small builders for operational rows, shared by the tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from sender_service.campaigns import get_or_create_campaign, record_mode_change
from sender_service.db.models import EmailCampaign, Lead, Message, Workspace
from sender_service.workspaces import create_workspace


def workspace(session: Session, provider: str = "CALENDLY", **fields: Any) -> Workspace:
    defaults: dict[str, Any] = {
        "name": "Acme Outbound",
        "booking_provider": provider,
        "calendly_scheduling_url": "https://calendly.com/acme/intro",
        "ghl_booking_url": "https://book.acme.test/widget/booking/abc",
        "review_slack_email": "jon@acme.test",
        "timezone": "UTC",
    }
    ws, _ = create_workspace(session, **{**defaults, **fields})
    return ws


def campaign(
    session: Session,
    ws: Workspace,
    mode: str = "AI_AUTO_SEND",
    threshold: str = "0.90",
    **fields: Any,
) -> EmailCampaign:
    c, _ = get_or_create_campaign(session, ws.id, f"c-{uuid.uuid4().hex[:8]}", "Spring push")
    if mode != c.response_mode or Decimal(threshold) != c.auto_send_confidence_threshold:
        before = c.response_mode
        c.response_mode = mode
        c.auto_send_confidence_threshold = Decimal(threshold)
        record_mode_change(session, c, before, "manual")
    for key, value in fields.items():
        setattr(c, key, value)
    session.flush()
    return c


def lead(session: Session, ws: Workspace, c: EmailCampaign | None, **fields: Any) -> Lead:
    defaults: dict[str, Any] = {
        "external_id": f"l-{uuid.uuid4().hex[:8]}",
        "email": "dana@initech.test",
        "first_name": "Dana",
        "last_name": "Ng",
        "company": "Initech",
    }
    row = Lead(workspace_id=ws.id, email_campaign_id=c.id if c else None, **{**defaults, **fields})
    session.add(row)
    session.flush()
    return row


def inbound(
    session: Session, ld: Lead, body: str, occurred_at: datetime | None = None, **fields: Any
) -> Message:
    row = Message(
        workspace_id=ld.workspace_id,
        lead_id=ld.id,
        email_campaign_id=ld.email_campaign_id,
        direction="inbound",
        channel="email",
        subject="Quick question",
        body=body,
        from_address=ld.email,
        source="emailbison_reply",
        external_id=uuid.uuid4().hex[:10],
        thread_ref={"reply_id": 4242, "sender_email_id": 7, "lead_email": ld.email},
        occurred_at=occurred_at or datetime.now(UTC),
        **fields,
    )
    session.add(row)
    session.flush()
    return row
