"""Send a draft in the lead's thread, at most once, with no user session (DESIGN.md §5).

1. Claim: under the lead's row lock, re-check every gate rule (for AI sends) with the campaign
   and workspace as they are now — a draft the gate would no longer send waits for a setter
   (`held`) — and insert the outbound message with `delivery_status='claimed'` and the
   draft's id — unique, so a second claim of the same draft fails in the database.
   Committed before the provider is called.
2. Call the provider.
3. Record: `sent` with the provider's id; `NotSent` releases the claim (a retry may try
   again); `OutcomeUnknown` marks the send `unknown` and queues its reconciliation
   (`sending.recovery`): the platform's thread or a person decides, never a blind retry.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal, Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sender_service.db.engine import session_scope
from sender_service.db.models import AIDraft, AutoSendDecision, Lead, Message, Workspace
from sender_service.pipeline import facts, outbound_guard
from sender_service.pipeline.context import InboundReply, load_inbound
from sender_service.pipeline.gate import (
    Decision,
    GateFacts,
    campaign_hold,
    decide,
    draft_status_after,
    skip_reason,
)
from sender_service.pipeline.guard_policy import guard_policy
from sender_service.pipeline.takeover import close_open_drafts
from sender_service.sending.errors import NotSent, OutcomeUnknown
from sender_service.sending.recovery import enqueue_reconcile
from sender_service.templates import render

log = logging.getLogger(__name__)

SendStatus = Literal[
    "sent", "already_handled", "skipped", "held", "unsendable", "not_sent", "unknown"
]


class ThreadReplier(Protocol):
    """A provider that answers in a lead's thread and returns its id for the new message.

    `source` names the provider's id space, so a webhook echoing our send is a duplicate.
    """

    @property
    def source(self) -> str: ...

    def close(self) -> None: ...

    def reply_in_thread(
        self, thread: dict[str, object], body: str, *, subject: str | None
    ) -> str | None: ...


class ReplierFactory(Protocol):
    def __call__(self, workspace: Workspace, channel: str) -> ThreadReplier: ...


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    reason: str
    message_id: uuid.UUID | None = None
    retryable: bool = False
    tell_reviewer: bool = False  # `held` in a campaign the AI reviewer watches


def send_draft(
    url: str,
    draft_id: uuid.UUID,
    repliers: ReplierFactory,
    *,
    sent_by: Literal["ai", "setter"] = "ai",
    body: str | None = None,
    user_id: uuid.UUID | None = None,
) -> SendResult:
    claimed = _claim(url, draft_id, repliers, sent_by=sent_by, body=body, user_id=user_id)
    if isinstance(claimed, SendResult):
        return claimed
    message_id, replier, thread, text, subject = claimed
    try:
        provider_id = replier.reply_in_thread(thread, text, subject=subject)
    except NotSent as exc:
        _release(url, message_id)
        log.warning("send of draft %s not sent: %s", draft_id, exc)
        return SendResult("not_sent", str(exc), None, retryable=exc.retryable)
    except OutcomeUnknown as exc:
        _mark(url, message_id, draft_id, "unknown", None)
        log.error("send of draft %s has an unknown outcome: %s", draft_id, exc)
        return SendResult("unknown", str(exc), message_id)
    finally:
        replier.close()
    _mark(url, message_id, draft_id, "sent", provider_id)
    return SendResult("sent", "sent", message_id)


def _claim(
    url: str,
    draft_id: uuid.UUID,
    repliers: ReplierFactory,
    *,
    sent_by: str,
    body: str | None,
    user_id: uuid.UUID | None,
) -> SendResult | tuple[uuid.UUID, ThreadReplier, dict[str, object], str, str | None]:
    now = datetime.now(UTC)
    try:
        with session_scope(url) as session:
            draft = session.get_one(AIDraft, draft_id)
            # The lead's lock serialises every send to one lead, AI and setter alike.
            session.execute(select(Lead).where(Lead.id == draft.lead_id).with_for_update())
            session.refresh(draft, with_for_update=True)
            if draft.status not in ("pending", "scheduled"):
                return SendResult("already_handled", f"the draft is already {draft.status}")
            in_flight = session.execute(
                select(Message.id, Message.delivery_status).where(Message.ai_draft_id == draft.id)
            ).first()
            if in_flight is not None:
                return SendResult(
                    "already_handled",
                    f"the draft's send is {in_flight.delivery_status}",
                    in_flight.id,
                )
            inbound_message = session.get_one(Message, draft.inbound_message_id)
            inbound = load_inbound(session, inbound_message)
            lead, workspace = inbound.lead, inbound.workspace
            assert lead is not None, "drafts are only written for known leads"

            if sent_by == "ai":
                stopped = _recheck(session, inbound, draft, now)
                if stopped is not None:
                    return stopped
            elif lead.opted_out:
                return SendResult("skipped", "the lead opted out")

            text = body if body is not None else draft.body
            rendered = render(text, inbound.placeholder_values())
            if not rendered.sendable:
                names = ", ".join(rendered.unresolved)
                return SendResult("unsendable", f"unresolved placeholders: {names}")
            try:
                replier = repliers(workspace, draft.channel)
            except NotSent as exc:
                return SendResult("not_sent", str(exc), retryable=exc.retryable)
            try:
                subject = inbound_message.subject
                if subject and not subject.lower().startswith("re:"):
                    subject = f"Re: {subject}"
                outbound = Message(
                    workspace_id=workspace.id,
                    lead_id=lead.id,
                    email_campaign_id=inbound_message.email_campaign_id,
                    direction="outbound",
                    channel=draft.channel,
                    subject=subject,
                    body=rendered.text,
                    to_address=lead.email if draft.channel == "email" else lead.phone,
                    sent_by=sent_by,
                    sent_by_user_id=user_id,
                    ai_draft_id=draft.id,
                    delivery_status="claimed",
                    source=replier.source,
                    thread_ref=dict(inbound_message.thread_ref or {}),
                    occurred_at=now,
                )
                session.add(outbound)
                session.flush()
                return (
                    outbound.id,
                    replier,
                    dict(inbound_message.thread_ref or {}),
                    rendered.text,
                    subject,
                )
            except BaseException:
                replier.close()  # the claim did not stick; nothing will call it
                raise
    except IntegrityError:
        # Another sender claimed this draft between our read and our insert.
        return SendResult("already_handled", "the draft was claimed by another send")


def _recheck(
    session: Session, inbound: InboundReply, draft: AIDraft, now: datetime
) -> SendResult | None:
    """Every gate rule again, with the campaign and workspace as they are now; None: send.

    The outbound guard reads the text exactly as it would go out, with today's settings."""
    lead, workspace, message = inbound.lead, inbound.workspace, inbound.message
    assert lead is not None
    campaign = inbound.campaign
    tracked = not (message.thread_ref or {}).get("untracked")
    rendered = render(draft.body, inbound.placeholder_values())
    gate = GateFacts(
        skip=facts.skip_facts(session, workspace, lead, message, draft),
        confidence=draft.confidence,
        safe_to_send=draft.safe_to_send,
        evaluation_reason=draft.evaluation_reason or "",
        threshold=campaign.auto_send_confidence_threshold if campaign else Decimal(1),
        unresolved_placeholders=rendered.unresolved,
        service_failure=None,
        recent_auto_send=facts.recent_auto_send(session, lead, now),
        send_at=None,
        held_for_person=facts.person_hold(message, tracked=tracked)
        or (campaign_hold(campaign) if campaign else "the lead has no campaign"),
        guard=outbound_guard.check(rendered.text, guard_policy(inbound, draft.channel)),
    )
    decision = decide(gate)
    if decision.action == "send_now":
        return None
    skip = skip_reason(gate.skip) if decision.action == "skip" else None
    if skip is not None:
        # Closed for good, or (paused, switched off) pending for a setter; nobody is DMed.
        draft.status = draft_status_after(skip, "pending")
        _decided(
            session, inbound, draft, Decision("skip", f"re-checked before sending: {skip.reason}")
        )
        return SendResult("skipped", skip.reason)
    # The gate would no longer send it: it waits for a setter, on /review. The reviewer is
    # told only while the campaign still auto-sends (never in SETTER_MANAGED or archived).
    draft.status = "pending"
    _decided(
        session,
        inbound,
        draft,
        Decision(
            "needs_review",
            f"re-checked before sending: {decision.reason}; the draft waits for a setter",
            guard_rules=decision.guard_rules,
        ),
    )
    watched = campaign is not None and campaign_hold(campaign) is None
    return SendResult("held", decision.reason, tell_reviewer=watched)


def _decided(session: Session, inbound: InboundReply, draft: AIDraft, decision: Decision) -> None:
    assert inbound.lead is not None
    session.add(
        AutoSendDecision(
            workspace_id=inbound.workspace.id,
            lead_id=inbound.lead.id,
            ai_draft_id=draft.id,
            inbound_message_id=inbound.message.id,
            action=decision.action,
            reason=decision.reason,
            confidence=draft.confidence,
            threshold=inbound.campaign.auto_send_confidence_threshold if inbound.campaign else None,
            guard_rules=list(decision.guard_rules),
        )
    )


def _release(url: str, message_id: uuid.UUID) -> None:
    with session_scope(url) as session:
        session.execute(delete(Message).where(Message.id == message_id))


def _mark(
    url: str, message_id: uuid.UUID, draft_id: uuid.UUID, status: str, provider_id: str | None
) -> None:
    try:
        _record_outcome(url, message_id, draft_id, status, provider_id)
    except IntegrityError:
        # The platform's echo of this very send was stored first under the provider's id.
        # The send went out: record it without the id, as reconciliation does, rather than
        # failing and leaving the claim to be swept as `unknown`.
        log.warning("send %s: provider id %s is already stored (its echo)", message_id, provider_id)
        _record_outcome(url, message_id, draft_id, status, None)


def _record_outcome(
    url: str, message_id: uuid.UUID, draft_id: uuid.UUID, status: str, provider_id: str | None
) -> None:
    with session_scope(url) as session:
        message = session.get_one(Message, message_id)
        message.delivery_status = status
        if provider_id:
            message.external_id = provider_id
            session.flush()  # a clash with the echo's row fails here, before anything else
        if status == "sent":
            message.occurred_at = datetime.now(UTC)
            session.get_one(AIDraft, draft_id).status = "sent"
        if status == "unknown":
            enqueue_reconcile(session, message_id)
        if message.sent_by == "setter" and message.lead_id is not None:
            # The setter took over (or may have, when the outcome is unknown): other AI drafts
            # for what the lead said so far stand down.
            close_open_drafts(
                session,
                message.lead_id,
                status="superseded",
                reason="a setter answered through Replyline",
                replied_before=message.occurred_at,
                keep=draft_id,
            )
