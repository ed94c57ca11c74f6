"""One inbound reply through the pipeline (docs/flows.md), in the caller's transaction.

classify → (positive or Follow Up) draft in every campaign → (AI_AUTO_SEND only) evaluate and
decide. An opt-out phrase, an untracked reply or a Follow Up reply holds the draft for a person.
It returns what must happen next — a send, a review DM — for the caller to enqueue in the
same transaction, so a crash anywhere leaves either everything or nothing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sender_service.ai.context import ReplyContext
from sender_service.ai.llm import LLM, LLMError
from sender_service.assignment import assign_lead
from sender_service.db.models import AIDraft, AutoSendDecision, Message, Notification
from sender_service.definitions import DRAFTED_SENTIMENTS
from sender_service.pipeline import facts, outbound_guard, revision, takeover, timing
from sender_service.pipeline.context import InboundReply, load_inbound, reply_context
from sender_service.pipeline.gate import (
    Decision,
    GateFacts,
    campaign_hold,
    decide,
    draft_status_after,
    skip_reason,
    stored_confidence,
)
from sender_service.pipeline.guard_policy import guard_policy
from sender_service.pipeline.opt_out import hold_reason, opt_out_in
from sender_service.pipeline.takeover import OPEN_DRAFT_STATUSES
from sender_service.templates import render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NextStep:
    kind: Literal["send_draft", "notify_review"]
    id: uuid.UUID  # the draft to send, or the notification to deliver
    run_at: datetime | None = None
    message_id: uuid.UUID | None = None  # the reply a review is about


@dataclass
class Outcome:
    sentiment: str | None = None
    draft_id: uuid.UUID | None = None
    decision: Decision | None = None
    next_steps: list[NextStep] = field(default_factory=list)


def process_inbound(
    session: Session,
    message_id: uuid.UUID,
    llm: LLM,
    *,
    now: datetime | None = None,
    allow_auto_send: bool = True,
) -> Outcome:
    """`allow_auto_send=False` (an untracked reply matched by email) drafts but never sends:
    in an AI_AUTO_SEND campaign it is put to the reviewer like any draft the AI may not send."""
    now = now or datetime.now(UTC)
    message = session.get_one(Message, message_id)
    if message.direction != "inbound":
        raise ValueError(f"message {message_id} is not an inbound reply")
    inbound = load_inbound(session, message)
    lead = inbound.lead
    if lead is not None:
        # Lock the lead: replies of one lead are decided one at a time.
        session.refresh(lead, with_for_update=True)
        _supersede_older_drafts(session, message)
    outcome = Outcome()
    context = reply_context(session, inbound)
    campaign = inbound.campaign
    # A reviewer watches AI_AUTO_SEND campaigns: what the AI may not send is put to them.
    reviewed = campaign is not None and campaign.response_mode == "AI_AUTO_SEND"

    if message.sentiment is None:
        try:
            classified = llm.classify(context)
        except LLMError as exc:
            if reviewed and lead is not None:
                _review(
                    session,
                    inbound,
                    None,
                    Decision("needs_review", f"classification failed: {exc}"),
                    outcome,
                )
            return outcome
        message.sentiment = classified.sentiment
        message.sentiment_confidence = Decimal(str(round(classified.confidence, 3)))
    outcome.sentiment = message.sentiment
    if lead is None:
        return outcome  # an unmatched untracked reply is stored and classified, never answered
    if _is_latest_inbound(session, message):
        lead.sentiment_tag = message.sentiment
    if message.sentiment == "Blacklist":
        lead.opted_out = True
        takeover.close_open_drafts(
            session, lead.id, status="rejected", reason="the lead asked not to be contacted"
        )
    if message.sentiment not in DRAFTED_SENTIMENTS or message.is_automated_reply:
        return outcome

    # The newest version: a reviewer's Regenerate keeps the earlier ones.
    draft = session.execute(
        select(AIDraft)
        .where(AIDraft.inbound_message_id == message.id)
        .order_by(AIDraft.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if draft is None:
        try:
            written = llm.draft(context, message.sentiment)
        except LLMError as exc:
            if reviewed:
                _review(
                    session,
                    inbound,
                    None,
                    Decision("needs_review", f"drafting failed: {exc}"),
                    outcome,
                )
            return outcome
        rendered = render(written.body, inbound.placeholder_values())
        draft = AIDraft(
            workspace_id=message.workspace_id,
            lead_id=lead.id,
            inbound_message_id=message.id,
            channel=message.channel,
            body=rendered.text,
        )
        session.add(draft)
        session.flush()
    outcome.draft_id = draft.id
    held = facts.person_hold(message, tracked=allow_auto_send)
    if not reviewed:
        # SETTER_MANAGED: the draft waits for a setter; no send, no DM. An opt-out is still
        # put on the record, so the setter sees why before answering.
        assign_lead(session, lead, now)
        if (found := opt_out_in(message.body)) is not None:
            decision = Decision("needs_review", hold_reason(found))
            _record(session, inbound, draft, decision, None)
            outcome.decision = decision
        return outcome

    assert campaign is not None

    def judge(version: AIDraft) -> revision.Judgement:
        return _judge(session, inbound, context, version, llm, held, now)

    def record(version: AIDraft, judgement: revision.Judgement) -> None:
        _record(session, inbound, version, judgement.decision, judgement.gate)

    draft, judgement = revision.revise(
        session, llm, draft, judge(draft), judge, inbound.workspace.max_revisions, record
    )
    outcome.draft_id = draft.id
    decision, gate = judgement.decision, judgement.gate
    _record(session, inbound, draft, decision, gate)
    outcome.decision = decision
    # No gate: a revision round failed, and the draft goes to the reviewer as it is.
    skip = skip_reason(gate.skip) if gate is not None and decision.action == "skip" else None
    if skip is not None:
        draft.status = draft_status_after(skip, draft.status)
    if gate is not None and decision.action in ("send_now", "send_later"):
        run_at = gate.send_at if decision.action == "send_later" else None
        if run_at is not None:
            draft.status = "scheduled"
        outcome.next_steps.append(NextStep("send_draft", draft.id, run_at))
    elif decision.action == "needs_review":
        _notify(session, inbound, draft, outcome)
    return outcome


def _judge(
    session: Session,
    inbound: InboundReply,
    context: ReplyContext,
    draft: AIDraft,
    llm: LLM,
    held: str | None,
    now: datetime,
) -> revision.Judgement:
    """Evaluate one version of the draft and put it through the gate."""
    message, lead, campaign = inbound.message, inbound.lead, inbound.campaign
    assert lead is not None and campaign is not None
    unresolved = render(draft.body, inbound.placeholder_values()).unresolved
    failure = None
    evaluation = None  # with `held`, a person decides whatever the evaluator would say
    if held is None:
        try:
            evaluation = llm.evaluate(context, draft.body)
            draft.confidence = stored_confidence(evaluation.confidence)
            draft.safe_to_send = evaluation.safe_to_send
            draft.evaluation_reason = evaluation.reason
            draft.revision_hint = evaluation.revision_hint or None
        except LLMError as exc:
            failure = f"evaluation failed: {exc}"
    gate = GateFacts(
        skip=facts.skip_facts(session, inbound.workspace, lead, message, draft),
        confidence=evaluation.confidence if evaluation is not None else None,
        safe_to_send=draft.safe_to_send,
        evaluation_reason=draft.evaluation_reason or "",
        threshold=Decimal(campaign.auto_send_confidence_threshold),
        unresolved_placeholders=unresolved,
        service_failure=failure,
        recent_auto_send=facts.recent_auto_send(session, lead, now),
        send_at=timing.send_at(
            message.occurred_at,
            message.id,
            delay_min=campaign.send_delay_min_seconds,
            delay_max=campaign.send_delay_max_seconds,
            sending_hours=campaign.sending_hours,
            timezone=inbound.workspace.timezone,
            now=now,
        ),
        held_for_person=held or campaign_hold(campaign),
        guard=outbound_guard.check(draft.body, guard_policy(inbound, draft.channel)),
    )
    return revision.Judgement(gate, decide(gate), evaluation)


def _record(
    session: Session,
    inbound: InboundReply,
    draft: AIDraft | None,
    decision: Decision,
    gate: GateFacts | None,
) -> None:
    inputs = {}
    if gate is not None:
        inputs = {
            "skip": vars(gate.skip),
            "confidence": gate.confidence,
            "safe_to_send": gate.safe_to_send,
            "threshold": str(gate.threshold),
            "unresolved_placeholders": list(gate.unresolved_placeholders),
            "service_failure": gate.service_failure,
            "recent_auto_send": gate.recent_auto_send,
            "send_at": gate.send_at.isoformat() if gate.send_at else None,
            "guard": [str(finding) for finding in gate.guard],
        }
    assert inbound.lead is not None
    session.add(
        AutoSendDecision(
            workspace_id=inbound.workspace.id,
            lead_id=inbound.lead.id,
            ai_draft_id=draft.id if draft else None,
            inbound_message_id=inbound.message.id,
            action=decision.action,
            reason=decision.reason,
            confidence=draft.confidence if draft else None,
            threshold=inbound.campaign.auto_send_confidence_threshold if inbound.campaign else None,
            inputs=inputs,
            scheduled_for=gate.send_at if gate and decision.action == "send_later" else None,
            guard_rules=list(decision.guard_rules),
        )
    )


def _review(
    session: Session,
    inbound: InboundReply,
    draft: AIDraft | None,
    decision: Decision,
    outcome: Outcome,
) -> None:
    _record(session, inbound, draft, decision, None)
    outcome.decision = decision
    _notify(session, inbound, draft, outcome)


def _notify(
    session: Session, inbound: InboundReply, draft: AIDraft | None, outcome: Outcome
) -> None:
    """One review notification per draft (or per reply when there is no draft); none for an
    archived campaign, which nobody watches (its drafts wait on /review). The lead waits for
    a person, so it gets a setter."""
    if inbound.lead is not None:
        assign_lead(session, inbound.lead)
    if inbound.campaign is not None and inbound.campaign.archived:
        return
    key = f"review:{draft.id}" if draft else f"review-reply:{inbound.message.id}"
    existing = session.execute(
        select(Notification).where(Notification.dedupe_key == key)
    ).scalar_one_or_none()
    if existing is None:
        existing = Notification(
            workspace_id=inbound.workspace.id,
            lead_id=inbound.lead.id if inbound.lead else None,
            ai_draft_id=draft.id if draft else None,
            kind="review",
            dedupe_key=key,
        )
        session.add(existing)
        session.flush()
    if existing.status != "sent":
        outcome.next_steps.append(
            NextStep("notify_review", existing.id, message_id=inbound.message.id)
        )


def _is_latest_inbound(session: Session, message: Message) -> bool:
    latest = session.execute(
        select(Message.id)
        .where(Message.lead_id == message.lead_id, Message.direction == "inbound")
        .order_by(Message.occurred_at.desc(), Message.created_at.desc())
        .limit(1)
    ).scalar_one()
    return latest == message.id


def _supersede_older_drafts(session: Session, message: Message) -> None:
    older = select(Message.id).where(
        Message.lead_id == message.lead_id,
        Message.direction == "inbound",
        Message.occurred_at < message.occurred_at,
    )
    session.execute(
        update(AIDraft)
        .where(
            AIDraft.lead_id == message.lead_id,
            AIDraft.status.in_(OPEN_DRAFT_STATUSES),
            AIDraft.inbound_message_id.in_(older),
        )
        .values(status="superseded")
    )
