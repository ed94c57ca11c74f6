"""Send the follow-up steps that are due, each at most once (`replyline followups run-due`).

Per step: (1) claim — under the lead's row lock re-check every exit (booked, opted out,
replied, a setter wrote, a negative reply), render the template, insert the outbound row
(unique per enrollment and step) and advance the enrollment, then commit; (2) call and
(3) record through the one system sender (`sending.system_sender.deliver`), which also
queues the reconciliation of a send of unknown outcome. A booking takes the same lead lock,
so it either lands before the claim (and the step is never sent) or after it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from sender_service.booking import is_meeting_booked
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    FollowupEnrollment,
    FollowupStep,
    Lead,
    Message,
    Workspace,
)
from sender_service.followups.enrollment import NOT_THE_LEAD as _NOT_THE_LEAD
from sender_service.followups.enrollment import step_delay
from sender_service.sending.errors import NotSent
from sender_service.sending.system_sender import Claim, ReplierFactory, deliver
from sender_service.templates import lead_values, render

log = logging.getLogger(__name__)

RETRY_AFTER: Final = timedelta(minutes=5)
_NEGATIVE: Final = ("Not Interested", "Blacklist")

StepStatus = Literal["sent", "stopped", "completed", "not_due", "retry", "unknown"]


@dataclass(frozen=True)
class StepResult:
    enrollment_id: uuid.UUID
    status: StepStatus
    reason: str
    message_id: uuid.UUID | None = None


@dataclass
class RunSummary:
    results: list[StepResult] = field(default_factory=list)

    def count(self, status: StepStatus) -> int:
        return sum(r.status == status for r in self.results)


def run_due(
    url: str, repliers: ReplierFactory, *, now: datetime | None = None, limit: int = 200
) -> RunSummary:
    now = now or datetime.now(UTC)
    with session_scope(url) as session:
        due = list(
            session.execute(
                select(FollowupEnrollment.id)
                .join(Lead, Lead.id == FollowupEnrollment.lead_id)
                .join(Workspace, Workspace.id == Lead.workspace_id)
                .where(
                    FollowupEnrollment.status == "active",
                    FollowupEnrollment.next_due_at <= now,
                    # The workspace kill switch holds follow-ups too; they resume when it is on.
                    Workspace.auto_send_enabled,
                )
                .order_by(FollowupEnrollment.next_due_at)
                .limit(limit)
            ).scalars()
        )
    summary = RunSummary()
    for enrollment_id in due:
        result = send_step(url, enrollment_id, repliers, now=now)
        log.info("follow-up %s: %s (%s)", enrollment_id, result.status, result.reason)
        summary.results.append(result)
    return summary


def send_step(
    url: str, enrollment_id: uuid.UUID, repliers: ReplierFactory, *, now: datetime
) -> StepResult:
    claimed = _claim(url, enrollment_id, repliers, now)
    if isinstance(claimed, StepResult):
        return claimed
    claim, number = claimed
    released: list[StepResult] = []

    def on_not_sent(session: Session, exc: NotSent) -> None:
        released.append(_after_not_sent(session, enrollment_id, number, exc, now))

    delivered = deliver(url, claim, on_not_sent)
    if released:
        return released[0]
    if delivered.error is not None:
        return StepResult(enrollment_id, "unknown", str(delivered.error), claim.message_id)
    return StepResult(enrollment_id, "sent", f"step {number}", claim.message_id)


def _exit_reason(session: Session, workspace: Workspace, lead: Lead, e: FollowupEnrollment) -> str:
    if is_meeting_booked(lead, workspace):
        return "booked"
    if lead.opted_out or lead.sentiment_tag == "Blacklist":
        return "opted_out"
    if lead.sentiment_tag in _NEGATIVE:
        return "negative_reply"
    if lead.ai_paused:
        return "setter_took_over"
    since = e.enrolled_at

    def after(*where: ColumnElement[bool]) -> bool:
        return bool(
            session.scalar(
                select(
                    exists().where(Message.lead_id == lead.id, Message.occurred_at > since, *where)
                )
            )
        )

    lead_wrote = or_(Message.sentiment.is_(None), Message.sentiment.not_in(_NOT_THE_LEAD))
    if after(Message.direction == "inbound", Message.is_automated_reply.is_(False), lead_wrote):
        return "replied"
    if after(Message.direction == "outbound", Message.sent_by == "setter"):
        return "setter_message"
    return ""


def _stop(e: FollowupEnrollment, status: str, reason: str | None, now: datetime) -> None:
    e.status, e.stop_reason, e.ended_at, e.next_due_at = status, reason, now, None


def _claim(
    url: str, enrollment_id: uuid.UUID, repliers: ReplierFactory, now: datetime
) -> StepResult | tuple[Claim, int]:
    try:
        with session_scope(url) as session:
            lead_id = session.execute(
                select(FollowupEnrollment.lead_id).where(FollowupEnrollment.id == enrollment_id)
            ).scalar_one_or_none()
            if lead_id is None:
                return StepResult(enrollment_id, "not_due", "the enrollment is gone")
            # The lead's lock orders this claim with bookings, replies and other sends.
            lead = session.execute(
                select(Lead).where(Lead.id == lead_id).with_for_update()
            ).scalar_one()
            e = session.execute(
                select(FollowupEnrollment)
                .where(FollowupEnrollment.id == enrollment_id)
                .with_for_update()
            ).scalar_one()
            if e.status != "active" or e.next_due_at is None or e.next_due_at > now:
                return StepResult(enrollment_id, "not_due", f"enrollment is {e.status}")
            workspace = session.get_one(Workspace, lead.workspace_id)
            if not workspace.auto_send_enabled:
                return StepResult(enrollment_id, "not_due", "the workspace's kill switch is off")
            if reason := _exit_reason(session, workspace, lead, e):
                _stop(e, "stopped", reason, now)
                return StepResult(enrollment_id, "stopped", reason)
            number = e.last_step_number + 1
            step = session.execute(
                select(FollowupStep).where(
                    FollowupStep.sequence_id == e.sequence_id, FollowupStep.step_number == number
                )
            ).scalar_one_or_none()
            if step is None:
                _stop(e, "completed", None, now)
                return StepResult(enrollment_id, "completed", "no more steps")
            rendered = render(step.template, lead_values(workspace, lead))
            if not rendered.sendable:
                reason = f"unsendable: unresolved {', '.join(rendered.unresolved)}"
                _stop(e, "stopped", reason, now)
                return StepResult(enrollment_id, "stopped", reason)
            thread, subject, campaign_id = _thread(session, lead, step)
            try:
                replier = repliers(workspace, step.channel)
            except NotSent as exc:
                _stop(e, "stopped", f"could not send: {exc}", now)
                return StepResult(enrollment_id, "stopped", str(exc))
            try:
                outbound = Message(
                    workspace_id=workspace.id,
                    lead_id=lead.id,
                    email_campaign_id=campaign_id,
                    direction="outbound",
                    channel=step.channel,
                    subject=subject,
                    body=rendered.text,
                    to_address=lead.email if step.channel == "email" else lead.phone,
                    sent_by="sequence",
                    delivery_status="claimed",
                    source=replier.source,
                    thread_ref=thread,
                    follow_up_step=number,
                    followup_enrollment_id=e.id,
                    occurred_at=now,
                )
                session.add(outbound)
                e.last_step_number = number
                following = step_delay(session, e.sequence_id, number + 1)
                if following is None:
                    _stop(e, "completed", None, now)
                else:
                    e.next_due_at = e.enrolled_at + following
                session.flush()
                claim = Claim(
                    outbound.id, replier, thread, rendered.text, subject, step.channel, "sequence"
                )
                return claim, number
            except BaseException:
                replier.close()
                raise
    except IntegrityError:
        return StepResult(enrollment_id, "not_due", "the step was claimed by another run")


def _thread(
    session: Session, lead: Lead, step: FollowupStep
) -> tuple[dict[str, object], str | None, uuid.UUID | None]:
    """Where the step goes: the lead's latest thread on that channel (the GHL contact for SMS)."""
    latest = session.execute(
        select(Message)
        .where(
            Message.lead_id == lead.id,
            Message.channel == step.channel,
            Message.direction == "inbound",
        )
        .order_by(Message.occurred_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    thread: dict[str, object] = dict(latest.thread_ref or {}) if latest else {}
    if step.channel == "sms" and lead.ghl_contact_id:
        thread.setdefault("contact_id", lead.ghl_contact_id)
    subject = step.subject
    if subject is None and latest is not None and latest.subject:
        subject = (
            latest.subject if latest.subject.lower().startswith("re:") else f"Re: {latest.subject}"
        )
    campaign_id = lead.email_campaign_id or (latest.email_campaign_id if latest else None)
    return thread, subject, campaign_id


def _after_not_sent(
    session: Session, enrollment_id: uuid.UUID, step_number: int, exc: NotSent, now: datetime
) -> StepResult:
    """The provider did not send (the claim is gone, in this transaction): retry the step
    later, or stop for good."""
    e = session.get_one(FollowupEnrollment, enrollment_id, with_for_update=True)
    if e.status == "stopped":
        return StepResult(enrollment_id, "stopped", e.stop_reason or str(exc))
    if not exc.retryable:
        _stop(e, "stopped", f"could not send: {exc}", now)
        return StepResult(enrollment_id, "stopped", str(exc))
    e.status, e.stop_reason, e.ended_at = "active", None, None
    e.last_step_number = step_number - 1
    e.next_due_at = now + RETRY_AFTER
    return StepResult(enrollment_id, "retry", str(exc))
