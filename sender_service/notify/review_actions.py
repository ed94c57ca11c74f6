"""What a reviewer's click in the review DM does, as a job: approve, send an edit, reject.

The clicking Slack user must be a setter or admin of the draft's workspace, found by the
email on their Slack profile (`users.info`); anyone else is told so, and nothing happens.
Sends go through the system sender as a setter's do on the pages, so a draft is sent at most
once however many reviewers click; whoever comes second is told who acted. The DM is then
updated in place with the outcome and loses its buttons.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sender_service.db.engine import session_scope
from sender_service.db.models import AIDraft, Membership, Message, Notification, User, Workspace
from sender_service.jobs.handlers import REVIEW_FROM_SLACK, PermanentJobError, handler
from sender_service.notify import review, slack
from sender_service.pipeline.jobs import review_request
from sender_service.sending.review import reject_draft
from sender_service.sending.system_sender import send_draft
from sender_service.services import Services

log = logging.getLogger(__name__)

SENDERS: Final = ("setter", "admin")
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
    """The review DM posted for this draft."""
    return session.execute(
        select(Notification)
        .where(Notification.ai_draft_id == draft_id, Notification.slack_ts.is_not(None))
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
        return draft.reviewed_by_user_id, f"{draft.status.capitalize()}{by}{when}"


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
    else:
        raise PermanentJobError(f"unknown review action {action!r}")
    who, outcome = handled_by(services.url, draft.id)
    if who != member.id:
        _tell(client, dm, slack_user, f"Someone got there first: {outcome}. Nothing more was done.")
        return
    _update(session, services, client, dm, outcome)


def _tell(client: WebClient, dm: Notification | None, slack_user: str, text: str) -> None:
    if dm is None or not dm.slack_channel:
        log.warning("cannot tell Slack user %s: the draft has no review DM", slack_user)
        return
    slack.post_ephemeral(client, dm.slack_channel, slack_user, text)


def _update(
    session: Session, services: Services, client: WebClient, dm: Notification | None, outcome: str
) -> None:
    """The DM in place: the same lead, reply and draft, the outcome instead of the buttons."""
    if dm is None or not dm.slack_channel or not dm.slack_ts:
        return
    draft = session.get_one(AIDraft, dm.ai_draft_id)
    request = review_request(
        session, dm.id, draft.inbound_message_id, services.settings.public_base_url
    )
    text, blocks = review.review_blocks(request, review.marker_for(dm.id), outcome=outcome)
    slack.update_message(client, dm.slack_channel, dm.slack_ts, f"{outcome}: {text}", blocks)
