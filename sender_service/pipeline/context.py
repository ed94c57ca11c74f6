"""Everything the LLM and the rules need about one inbound reply, read from the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sender_service.ai.context import AIContext, ReplyContext, ThreadMessage
from sender_service.db.models import EmailCampaign, Lead, Message, Workspace
from sender_service.templates import lead_values

# Enough history for the model to see the conversation, bounded so prompts stay small.
THREAD_LIMIT = 20


@dataclass(frozen=True)
class InboundReply:
    message: Message
    lead: Lead | None
    campaign: EmailCampaign | None
    workspace: Workspace

    def placeholder_values(self) -> dict[str, str | None]:
        return lead_values(self.workspace, self.lead)


def load_inbound(session: Session, message: Message) -> InboundReply:
    workspace = session.get_one(Workspace, message.workspace_id)
    lead = session.get(Lead, message.lead_id) if message.lead_id else None
    campaign_id = (lead.email_campaign_id if lead else None) or message.email_campaign_id
    campaign = session.get(EmailCampaign, campaign_id) if campaign_id else None
    return InboundReply(message, lead, campaign, workspace)


def reply_context(session: Session, inbound: InboundReply) -> ReplyContext:
    message, lead = inbound.message, inbound.lead
    thread: list[ThreadMessage] = []
    if lead is not None:
        earlier = session.execute(
            select(Message)
            .where(Message.lead_id == lead.id, Message.occurred_at < message.occurred_at)
            .order_by(Message.occurred_at.desc())
            .limit(THREAD_LIMIT)
        ).scalars()
        thread = [
            ThreadMessage(m.direction, m.sent_by, m.body, m.occurred_at)
            for m in reversed(list(earlier))
        ]
    workspace_ctx: dict[str, Any] = inbound.workspace.ai_context or {}
    campaign_ctx: dict[str, Any] | None = inbound.campaign.ai_context if inbound.campaign else None
    return ReplyContext(
        reply_text=message.body,
        subject=message.subject,
        lead_first_name=lead.first_name if lead else None,
        lead_company=lead.company if lead else None,
        channel=message.channel,
        thread=tuple(thread),
        ai_context=AIContext.merged(workspace_ctx, campaign_ctx),
    )
