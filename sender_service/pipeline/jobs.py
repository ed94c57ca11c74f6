"""The pipeline's jobs: classify a reply, send an approved draft, DM the reviewer, settle a
send of unknown outcome, ask the platform to stop a campaign's emails to a lead who replied.

Each runs in the worker with the job's session; what must commit on its own (a send's claim,
a Slack attempt) opens its own transactions through `session.info["url"]`.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sender_service.db.engine import session_scope
from sender_service.db.models import (
    AIDraft,
    AutoSendDecision,
    EmailCampaign,
    Lead,
    Message,
    Notification,
    Workspace,
)
from sender_service.email_platforms.base import EmailPlatformError
from sender_service.jobs import queue
from sender_service.jobs.handlers import (
    CLASSIFY_REPLY,
    NOTIFY_REVIEW,
    RECONCILE_SEND,
    SEND_DRAFT,
    STOP_CAMPAIGN_EMAILS,
    PermanentJobError,
    handler,
)
from sender_service.notify import review, slack
from sender_service.pipeline.after_classify import after_classify
from sender_service.pipeline.process import NextStep, process_inbound
from sender_service.sending.errors import NotSent
from sender_service.sending.system_sender import send_draft as system_send
from sender_service.services import Services

log = logging.getLogger(__name__)


def _services(session: Session) -> Services:
    services: Services = session.info["services"]
    return services


def enqueue_steps(session: Session, steps: list[NextStep]) -> None:
    """Queue what the pipeline decided, in the caller's transaction, once per draft or DM."""
    for step in steps:
        if step.kind == "send_draft":
            queue.enqueue(
                session,
                SEND_DRAFT,
                {"draft_id": str(step.id)},
                dedupe_key=f"{SEND_DRAFT}:{step.id}",
                run_at=step.run_at,
            )
        else:
            queue.enqueue(
                session,
                NOTIFY_REVIEW,
                {"notification_id": str(step.id), "message_id": str(step.message_id)},
                dedupe_key=f"{NOTIFY_REVIEW}:{step.id}",
            )


@handler(CLASSIFY_REPLY)
def classify_reply(session: Session, payload: dict[str, Any]) -> None:
    message_id = uuid.UUID(payload["message_id"])
    if session.get(Message, message_id) is None:
        raise PermanentJobError(f"message {message_id} no longer exists")
    outcome = process_inbound(
        session,
        message_id,
        _services(session).llm,
        allow_auto_send=bool(payload.get("auto_answer", True)),
    )
    enqueue_steps(session, outcome.next_steps)
    if payload.get("auto_answer", True):
        _enqueue_stop_campaign(session, message_id)
    after_classify(session, message_id)
    if outcome.decision:
        log.info("reply %s: %s (%s)", message_id, outcome.decision.action, outcome.decision.reason)


@handler(SEND_DRAFT)
def send_approved_draft(session: Session, payload: dict[str, Any]) -> None:
    draft_id = uuid.UUID(payload["draft_id"])
    services = _services(session)
    result = system_send(services.url, draft_id, services.repliers, sent_by="ai")
    log.info("draft %s: %s (%s)", draft_id, result.status, result.reason)
    if result.status == "not_sent" and result.retryable:
        raise RuntimeError(f"not sent, will retry: {result.reason}")  # the claim was released
    if result.status in ("not_sent", "unsendable"):
        _review_failed_send(session, draft_id, f"could not send: {result.reason}")
    if result.status == "held" and result.tell_reviewer:
        # The re-check recorded why; the DM reads it from there.
        draft = session.get_one(AIDraft, draft_id)
        _notify(session, draft, "review", f"review:{draft.id}")
    # "unknown": the system sender queued its reconciliation, which tells the reviewer.


def _enqueue_stop_campaign(session: Session, message_id: uuid.UUID) -> None:
    """Queue the best-effort request that the campaign stop emailing a lead who replied."""
    message = session.get_one(Message, message_id)
    if message.lead_id is None or message.email_campaign_id is None:
        return
    workspace = session.get_one(Workspace, message.workspace_id)
    if not workspace.email_platform_url:
        return  # nothing to ask
    queue.enqueue(
        session,
        STOP_CAMPAIGN_EMAILS,
        {"lead_id": str(message.lead_id), "campaign_id": str(message.email_campaign_id)},
        dedupe_key=f"{STOP_CAMPAIGN_EMAILS}:{message.lead_id}:{message.email_campaign_id}",
        max_attempts=5,
    )


@handler(STOP_CAMPAIGN_EMAILS)
def stop_campaign_emails(session: Session, payload: dict[str, Any]) -> None:
    """Its own job: a failure is retried with backoff and logged, and blocks nothing else."""
    lead = session.get_one(Lead, uuid.UUID(payload["lead_id"]))
    campaign = session.get_one(EmailCampaign, uuid.UUID(payload["campaign_id"]))
    workspace = session.get_one(Workspace, lead.workspace_id)
    if not lead.external_id:
        return  # the platform does not know this lead by an id of its own
    try:
        client = _services(session).repliers.email_platform(workspace)
    except NotSent as exc:
        log.info("not asking the platform to stop lead %s's emails: %s", lead.id, exc)
        return
    try:
        if not client.stop_future_emails(campaign.external_id, lead.external_id):
            return  # the platform's API cannot; its campaign settings decide
    finally:
        client.close()
    log.info("asked the platform to stop campaign %s's emails to lead %s", campaign.id, lead.id)


@handler(RECONCILE_SEND)
def reconcile_send(session: Session, payload: dict[str, Any]) -> None:
    """Settle a send of unknown outcome from the platform's thread, or hand it to a person."""
    message = session.get(Message, uuid.UUID(payload["message_id"]), with_for_update=True)
    if message is None or message.delivery_status != "unknown":
        return  # settled meanwhile
    found, why = _look_in_thread(session, message)
    if found is not None:
        message.delivery_status = "sent"
        taken = session.scalar(
            select(Message.id).where(
                Message.workspace_id == message.workspace_id,
                Message.channel == message.channel,
                Message.source == message.source,
                Message.external_id == found,
            )
        )
        if taken is None:
            message.external_id = found
        if message.ai_draft_id is not None:
            session.get_one(AIDraft, message.ai_draft_id).status = "sent"
        log.warning("send %s of unknown outcome found in the thread: sent", message.id)
        return
    if message.ai_draft_id is None:
        log.warning("send %s of unknown outcome: %s", message.id, why)
        return
    campaign_id = message.email_campaign_id or (
        session.get_one(Lead, message.lead_id).email_campaign_id if message.lead_id else None
    )
    campaign = session.get(EmailCampaign, campaign_id) if campaign_id else None
    # The AI reviewer watches AI_AUTO_SEND campaigns only. Elsewhere the setter who sent it
    # sees it on the draft in the review queue (and in `replyline sends unknown`).
    dm = campaign is not None and campaign.response_mode == "AI_AUTO_SEND"
    log.warning(
        "send %s of unknown outcome: %s; telling %s",
        message.id,
        why,
        "the reviewer" if dm else "the setter in the review queue",
    )
    _review_unknown_send(session, message.ai_draft_id, message.id, why, dm=dm)


def _look_in_thread(session: Session, message: Message) -> tuple[str | None, str]:
    """The platform's id for the message if the thread shows it, else why it cannot be told."""
    lead = session.get(Lead, message.lead_id) if message.lead_id else None
    if message.channel != "email" or lead is None or not lead.external_id or not message.to_address:
        return None, "the platform cannot tell whether it went out"
    workspace = session.get_one(Workspace, message.workspace_id)
    try:
        client = _services(session).repliers.email_platform(workspace)
    except NotSent as exc:
        return None, f"the platform cannot be asked: {exc}"
    try:
        found = client.find_sent_reply(
            lead.external_id, message.to_address, message.body, thread=dict(message.thread_ref)
        )
    except EmailPlatformError as exc:
        return None, f"the platform could not be asked: {exc}"
    finally:
        client.close()
    return found, "it is not in the lead's thread yet"


def _review_failed_send(session: Session, draft_id: uuid.UUID, reason: str) -> None:
    draft = session.get_one(AIDraft, draft_id)
    session.add(
        AutoSendDecision(
            workspace_id=draft.workspace_id,
            lead_id=draft.lead_id,
            ai_draft_id=draft.id,
            inbound_message_id=draft.inbound_message_id,
            action="needs_review",
            reason=reason,
        )
    )
    _notify(session, draft, "review", f"review:{draft.id}")


def _review_unknown_send(
    session: Session, draft_id: uuid.UUID, message_id: uuid.UUID, reason: str, *, dm: bool
) -> None:
    draft = session.get_one(AIDraft, draft_id)
    session.add(
        AutoSendDecision(
            workspace_id=draft.workspace_id,
            lead_id=draft.lead_id,
            ai_draft_id=draft.id,
            inbound_message_id=draft.inbound_message_id,
            action="needs_review",
            reason=f"the send's outcome is unknown ({reason}); check the thread before "
            "answering again",
        )
    )
    if dm:
        _notify(session, draft, "unknown_send", f"unknown-send:{message_id}")


def _notify(session: Session, draft: AIDraft, kind: str, key: str) -> None:
    note = session.execute(
        select(Notification).where(Notification.dedupe_key == key)
    ).scalar_one_or_none()
    if note is None:
        note = Notification(
            workspace_id=draft.workspace_id,
            lead_id=draft.lead_id,
            ai_draft_id=draft.id,
            kind=kind,
            dedupe_key=key,
        )
        session.add(note)
        session.flush()
    if note.status != "sent":
        enqueue_steps(
            session, [NextStep("notify_review", note.id, message_id=draft.inbound_message_id)]
        )


@handler(NOTIFY_REVIEW)
def notify_reviewer(session: Session, payload: dict[str, Any]) -> None:
    notification_id = uuid.UUID(payload["notification_id"])
    services = _services(session)
    request = review_request(
        session,
        notification_id,
        uuid.UUID(payload["message_id"]),
        services.settings.public_base_url,
    )
    try:
        review.deliver(services.url, services.slack, notification_id, request)
    except slack.SlackError as exc:
        # Recorded on its own: the job's transaction rolls back when the retry is raised.
        with session_scope(services.url) as own:
            own.get_one(Notification, notification_id).last_error = str(exc)
        raise


def review_request(
    session: Session,
    notification_id: uuid.UUID,
    message_id: uuid.UUID,
    base_url: str,
    draft_id: uuid.UUID | None = None,
) -> review.ReviewRequest:
    """What the review DM shows; `draft_id`: a newer version of the notification's draft."""
    note = session.get_one(Notification, notification_id)
    inbound = session.get_one(Message, message_id)
    lead = session.get(Lead, note.lead_id) if note.lead_id else None
    draft_id = draft_id or note.ai_draft_id
    draft = session.get(AIDraft, draft_id) if draft_id else None
    campaign_id = (lead.email_campaign_id if lead else None) or inbound.email_campaign_id
    campaign = session.get(EmailCampaign, campaign_id) if campaign_id else None
    decision = session.execute(
        select(AutoSendDecision)
        .where(
            AutoSendDecision.inbound_message_id == inbound.id,
            AutoSendDecision.action == "needs_review",
        )
        .order_by(AutoSendDecision.decided_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p) if lead else ""
    return review.ReviewRequest(
        lead_name=name or (lead.email if lead and lead.email else "Unknown lead"),
        lead_email=lead.email if lead else inbound.from_address,
        campaign_name=campaign.name if campaign else None,
        inbound_text=inbound.body,
        draft_text=draft.body if draft else "(no draft: the AI could not write one)",
        confidence=float(draft.confidence) if draft and draft.confidence is not None else None,
        reason=decision.reason if decision else "needs a person",
        lead_url=f"{base_url}/leads/{lead.id}" if lead else f"{base_url}/",
        draft_id=draft.id if draft and draft.status in ("pending", "scheduled") else None,
    )
