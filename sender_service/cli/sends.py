"""`replyline sends unknown`: sends whose outcome is unknown, for a person to check."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import func, select

from sender_service.cli.common import database_url, echo_json
from sender_service.db.engine import session_scope
from sender_service.db.models import EmailCampaign, Lead, Message, Notification, User


@click.group()
def sends() -> None:
    """Outbound sends."""


@sends.command("unknown")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def unknown(as_json: bool) -> None:
    """Sends that may or may not have gone out (never retried; a person was told)."""
    with session_scope(database_url()) as session:
        rows = session.execute(
            select(Message, Lead, User.email, EmailCampaign.response_mode)
            .join(Lead, Lead.id == Message.lead_id, isouter=True)
            .join(
                EmailCampaign,
                EmailCampaign.id
                == func.coalesce(Message.email_campaign_id, Lead.email_campaign_id),
                isouter=True,
            )
            .join(User, User.id == Message.sent_by_user_id, isouter=True)
            .where(Message.direction == "outbound", Message.delivery_status == "unknown")
            .order_by(Message.created_at)
        ).all()
        notified = {
            n.dedupe_key: n.status
            for n in session.execute(
                select(Notification).where(Notification.kind == "unknown_send")
            ).scalars()
        }
        views: list[dict[str, Any]] = [
            {
                "message_id": str(m.id),
                "workspace_id": str(m.workspace_id),
                "lead_id": str(m.lead_id) if m.lead_id else None,
                "lead_email": lead.email if lead else m.to_address,
                "draft_id": str(m.ai_draft_id) if m.ai_draft_id else None,
                "sent_by": m.sent_by,
                "sent_by_user": setter,
                # Who was told: the reviewer by DM (AI_AUTO_SEND campaigns), or else the setter
                # on the draft in the review queue.
                "told": (
                    f"reviewer DM {notified.get(f'unknown-send:{m.id}', 'not yet')}"
                    if mode == "AI_AUTO_SEND"
                    else f"{setter or 'the setter'} in the review queue"
                ),
                "channel": m.channel,
                "claimed_at": m.created_at.isoformat(),
                "reviewer_dm": notified.get(f"unknown-send:{m.id}", "not yet"),
                "body": m.body,
            }
            for m, lead, setter, mode in rows
        ]
    if as_json:
        echo_json(views)
        return
    if not views:
        click.echo("no sends of unknown outcome")
    for v in views:
        click.echo(
            f"{v['message_id']}  {v['claimed_at']}  {v['sent_by']:<6}  {v['lead_email'] or '-'}"
            f"  told: {v['told']}"
        )
