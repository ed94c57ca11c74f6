"""What a reviewer's click in the review DM does, as a job: approve, send an edit, reject,
regenerate (a new version of the draft, with the reviewer's note).

The clicking Slack user must be a setter or admin of the draft's workspace, found by the
email on their Slack profile (`users.info`); anyone else is told so, and nothing happens.
Sends go through the system sender as a setter's do on the pages, so a draft is sent at most
once however many reviewers click; whoever comes second is told who acted. The DM is then
updated in place: the outcome instead of the buttons, or the new version with its own.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sender_service.ai.llm import LLMError
from sender_service.ai.prompts import Revision
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    AIDraft,
    Lead,
    Membership,
    Message,
    Notification,
    User,
    Workspace,
)
from sender_service.jobs.handlers import REVIEW_FROM_SLACK, PermanentJobError, handler
from sender_service.notify import review, slack
from sender_service.pipeline.jobs import review_request
from sender_service.pipeline.revision import first_version, latest_version, write_version
from sender_service.sending.review import reject_draft
from sender_service.sending.system_sender import send_draft
from sender_service.services import Services

log = logging.getLogger(__name__)

SENDERS: Final = ("setter", "admin")
_REGENERATE_FAILED: Final = (
    "The AI could not write a new draft just now; the current one still stands."
)
_NOT_SENT: Final = {
    "skipped": "Not sent: the lead can no longer be answered (opted out or superseded).",
    "held": "Not sent: the draft waits for a person.",
    "unsendable": "Not sent: the message cannot be sent as written.",
    "not_sent": "Not sent: the email platform refused it. Try again shortly.",
    "unknown": "The platform did not confirm the send. Check the thread before trying again.",
}


def _member(
    session: Session, client: WebClient, workspace_id: uuid.UUID, slack_user: str
) -> User | None:
    """The workspace member allowed to send whose email the Slack account shows, if any."""
    email = slack.user_email(client, slack_user)
    if not email:
        return None
    return session.execute(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            func.lower(User.email) == email.lower(),
            Membership.workspace_id == workspace_id,
            Membership.role.in_(SENDERS),
        )
    ).scalar_one_or_none()


def _dm(session: Session, draft_id: uuid.UUID) -> Notification | None:
    """The review DM about this draft: posted for the first version of its chain."""
    return session.execute(
        select(Notification)
        .where(
            Notification.ai_draft_id == first_version(session, draft_id),
            Notification.slack_ts.is_not(None),
        )
        .order_by(Notification.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _at(moment: datetime, workspace: Workspace) -> str:
    return moment.astimezone(ZoneInfo(workspace.timezone)).strftime("%H:%M %Z")


def handled_by(url: str, draft_id: uuid.UUID) -> tuple[uuid.UUID | None, str]:
    """Who handled the draft and how, as a reviewer reads it ("Sent by ana@x at 10:42 UTC")."""
    with session_scope(url) as session:
        draft = session.get_one(AIDraft, draft_id)
        workspace = session.get_one(Workspace, draft.workspace_id)
        sent = session.execute(
            select(Message.sent_by, Message.sent_by_user_id, Message.created_at, User.email)
            .outerjoin(User, User.id == Message.sent_by_user_id)
            .where(Message.ai_draft_id == draft_id, Message.direction == "outbound")
        ).first()
        if sent is not None:
            who = sent.email or ("the AI" if sent.sent_by == "ai" else "a setter")
            edited = " (edited)" if _edited(session, draft) else ""
            return (
                sent.sent_by_user_id,
                f"Sent{edited} by {who} at {_at(sent.created_at, workspace)}",
            )
        reviewer = (
            session.get(User, draft.reviewed_by_user_id) if draft.reviewed_by_user_id else None
        )
        when = f" at {_at(draft.reviewed_at, workspace)}" if draft.reviewed_at else ""
        by = f" by {reviewer.email}" if reviewer else ""
        regenerated = latest_version(session, draft.id) != draft.id
        what = "Regenerated" if regenerated else draft.status.capitalize()
        return draft.reviewed_by_user_id, f"{what}{by}{when}"


def _edited(session: Session, draft: AIDraft) -> bool:
    body = session.scalar(select(Message.body).where(Message.ai_draft_id == draft.id))
    return body is not None and body.strip() != draft.body.strip()


@handler(REVIEW_FROM_SLACK)
def act(session: Session, payload: dict[str, Any]) -> None:
    services: Services = session.info["services"]
    draft = session.get(AIDraft, uuid.UUID(payload["draft_id"]))
    if draft is None:
        raise PermanentJobError(f"draft {payload['draft_id']} no longer exists")
    slack_user, action = str(payload["slack_user_id"]), str(payload["action"])
    client = services.slack
    dm = _dm(session, draft.id)
    member = _member(session, client, draft.workspace_id, slack_user)
    if member is None:
        _tell(client, dm, slack_user,
              "Nothing was done: your Slack email is not a setter or admin of this workspace"
              " in Replyline.")  # fmt: skip
        return
    if action in (review.APPROVE, review.EDIT):
        edited = payload.get("body")
        body = edited if edited and edited.strip() != draft.body.strip() else None
        result = send_draft(
            services.url, draft.id, services.repliers, sent_by="setter", body=body,
            user_id=member.id,
        )  # fmt: skip
        log.info("draft %s from Slack: %s (%s)", draft.id, result.status, result.reason)
        if result.status not in ("sent", "already_handled"):
            _tell(client, dm, slack_user, _NOT_SENT[result.status])
            return
    elif action == review.REJECT:
        reject_draft(services.url, draft.id, member.id)
    elif action == review.REGENERATE:
        try:
            _regenerate(services, draft.id, member.id, str(payload.get("note") or ""))
        except LLMError as exc:
            log.warning("draft %s: regenerating failed: %s", draft.id, exc)
            _tell(client, dm, slack_user, _REGENERATE_FAILED)
            return
    else:
        raise PermanentJobError(f"unknown review action {action!r}")
    who, outcome = handled_by(services.url, draft.id)
    if who != member.id:
        _tell(client, dm, slack_user, f"Someone got there first: {outcome}. Nothing more was done.")
        return
    session.expire_all()  # what the sends and rewrites above committed on their own
    newest = latest_version(session, draft.id)
    if newest != draft.id:
        _update(session, services, client, dm, newest, notice=f"{outcome}: new draft below")
    else:
        _update(session, services, client, dm, draft.id, outcome=outcome)


def _regenerate(services: Services, draft_id: uuid.UUID, member_id: uuid.UUID, note: str) -> None:
    """A new version of an open draft; a draft handled meanwhile is left as it is."""
    with session_scope(services.url) as session:
        draft = session.get_one(AIDraft, draft_id)
        # The lead's lock, then the draft's, as a send's claim takes them: one or the other.
        session.execute(select(Lead).where(Lead.id == draft.lead_id).with_for_update())
        session.refresh(draft, with_for_update=True)
        claimed = session.scalar(select(Message.id).where(Message.ai_draft_id == draft.id))
        if draft.status not in ("pending", "scheduled") or claimed is not None:
            return
        write_version(session, services.llm, draft, Revision(draft.body, note, "reviewer"))
        draft.reviewed_by_user_id = member_id
        draft.reviewed_at = datetime.now(UTC)


def _tell(client: WebClient, dm: Notification | None, slack_user: str, text: str) -> None:
    if dm is None or not dm.slack_channel:
        log.warning("cannot tell Slack user %s: the draft has no review DM", slack_user)
        return
    slack.post_ephemeral(client, dm.slack_channel, slack_user, text)


def _update(
    session: Session,
    services: Services,
    client: WebClient,
    dm: Notification | None,
    draft_id: uuid.UUID,
    *,
    outcome: str | None = None,
    notice: str | None = None,
) -> None:
    """The DM in place: the same lead and reply, then either the outcome instead of the
    buttons, or a newer draft with its own buttons under a notice."""
    if dm is None or not dm.slack_channel or not dm.slack_ts:
        return
    draft = session.get_one(AIDraft, draft_id)
    request = review_request(
        session, dm.id, draft.inbound_message_id, services.settings.public_base_url, draft.id
    )
    marker = review.marker_for(dm.id)
    text, blocks = review.review_blocks(request, marker, outcome=outcome, notice=notice)
    slack.update_message(
        client, dm.slack_channel, dm.slack_ts, f"{outcome or notice}: {text}", blocks
    )
