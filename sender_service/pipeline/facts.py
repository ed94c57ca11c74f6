"""The facts behind the gate's rules, read fresh from the database each time they are needed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from sender_service.db.models import AIDraft, Lead, Message, Workspace
from sender_service.definitions import POSITIVE_SENTIMENTS
from sender_service.pipeline.gate import SkipFacts
from sender_service.pipeline.opt_out import hold_reason, opt_out_in

RECENT_AUTO_SEND = timedelta(hours=24)


def skip_facts(
    session: Session, workspace: Workspace, lead: Lead, inbound: Message, draft: AIDraft | None
) -> SkipFacts:
    newer_inbound = session.scalar(
        select(
            exists().where(
                Message.lead_id == lead.id,
                Message.direction == "inbound",
                Message.occurred_at > inbound.occurred_at,
            )
        )
    )
    setter_answered = session.scalar(
        select(
            exists().where(
                Message.lead_id == lead.id,
                Message.direction == "outbound",
                Message.sent_by == "setter",
                Message.occurred_at >= inbound.occurred_at,
            )
        )
    )
    return SkipFacts(
        auto_send_enabled=workspace.auto_send_enabled,
        opted_out=lead.opted_out,
        blacklisted=lead.sentiment_tag == "Blacklist" or inbound.sentiment == "Blacklist",
        automated_reply=inbound.is_automated_reply or inbound.sentiment == "Automated Reply",
        superseded=bool(newer_inbound) or (draft is not None and draft.status == "superseded"),
        setter_answered=bool(setter_answered),
        ai_paused=lead.ai_paused,
    )


def recent_auto_send(session: Session, lead: Lead, now: datetime) -> bool:
    """An AI send to this lead (delivered, or in flight) within the last 24 hours."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    Message.lead_id == lead.id,
                    Message.direction == "outbound",
                    Message.sent_by == "ai",
                    Message.delivery_status.in_(("claimed", "sent", "unknown")),
                    Message.occurred_at > now - RECENT_AUTO_SEND,
                )
            )
        )
    )


def person_hold(message: Message, *, tracked: bool) -> str | None:
    """Why the reply's draft is for a person whatever the evaluator says, or None.

    `tracked`: the reply came in on the campaign's own thread (an untracked one, matched to
    the lead by email, is never auto-answered)."""
    found = opt_out_in(message.body)
    if found is not None:
        return hold_reason(found)
    if not tracked:
        return "an untracked reply (matched to the lead by email) is answered by a person"
    if message.sentiment not in POSITIVE_SENTIMENTS:
        return (
            f"a {message.sentiment} reply gets a draft for a person; "
            "only positive replies auto-send"
        )
    return None
