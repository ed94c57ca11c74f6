"""`/review`: drafts waiting for a person, oldest reply first; approve, edit then send, reject.
`?mine=1` keeps the leads assigned to the signed-in setter; a setter or admin hands a lead to
another setter.

Two setters on one draft: `send_draft` sends exactly once, and the second is told it was
handled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import and_, exists, or_, select, true
from werkzeug.wrappers import Response

from sender_service.assignment import AssignmentError, reassign_lead
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    AIDraft,
    AutoSendDecision,
    EmailCampaign,
    Lead,
    Membership,
    Message,
    User,
    Workspace,
)
from sender_service.sending.review import reject_draft
from sender_service.sending.system_sender import send_draft
from sender_service.web.errors import ApiError
from sender_service.web.pages.base import (
    bp,
    caller,
    chosen_member,
    database_url,
    member_of,
    parse_id,
    services,
    waited,
)

_NEEDS_REVIEW = exists().where(
    AutoSendDecision.ai_draft_id == AIDraft.id, AutoSendDecision.action == "needs_review"
)

_SEND_OUTCOMES = {
    "already_handled": ("Someone already handled this draft; nothing was sent again.", "info"),
    "skipped": ("Not sent: the lead can no longer be answered (opted out or superseded).", "error"),
    "held": ("Not sent: the draft waits for a person.", "error"),
    "unsendable": ("Not sent: the message cannot be sent as written.", "error"),
    "not_sent": ("Not sent: the email platform refused it. Try again shortly.", "error"),
    "unknown": (
        "The platform did not confirm the send. Check the thread before trying again.",
        "error",
    ),
}


def _latest_reason(session: Any, draft_id: Any) -> str | None:
    reason: str | None = session.execute(
        select(AutoSendDecision.reason)
        .where(AutoSendDecision.ai_draft_id == draft_id)
        .order_by(AutoSendDecision.decided_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    return reason


def _unknown_send(session: Any, draft_id: Any) -> dict[str, Any] | None:
    """The draft's send whose outcome is unknown, and who sent it: the setter is told here."""
    row = session.execute(
        select(Message.created_at, Message.sent_by, User.email)
        .join(User, User.id == Message.sent_by_user_id, isouter=True)
        .where(Message.ai_draft_id == draft_id, Message.delivery_status == "unknown")
    ).first()
    if row is None:
        return None
    return {
        "at": row.created_at,
        "by": row.email or ("the AI" if row.sent_by == "ai" else "a setter"),
    }


@bp.get("/review")
def review() -> Any:
    now = datetime.now(UTC)
    with session_scope(database_url()) as session:
        member, members = chosen_member(session)
        # With the workspace's auto-send switched off, every open draft is a person's to send.
        auto_send = session.get_one(Workspace, member.workspace_id).auto_send_enabled
        waits = _NEEDS_REVIEW if auto_send else true()
        mine = request.args.get("mine") == "1"
        only_mine = Lead.assigned_user_id == caller().user_id if mine else true()
        setters = {
            row.user_id: row.email
            for row in session.execute(
                select(Membership.user_id, User.email)
                .join(User, User.id == Membership.user_id)
                .where(
                    Membership.workspace_id == member.workspace_id,
                    Membership.role.in_(("setter", "admin")),
                )
                .order_by(User.email)
            )
        }
        rows = session.execute(
            select(AIDraft, Lead, EmailCampaign, Message)
            .join(Lead, Lead.id == AIDraft.lead_id)
            .join(EmailCampaign, EmailCampaign.id == Lead.email_campaign_id)
            .join(Message, Message.id == AIDraft.inbound_message_id)
            .where(
                AIDraft.workspace_id == member.workspace_id,
                AIDraft.status == "pending",
                or_(
                    EmailCampaign.response_mode == "SETTER_MANAGED",
                    and_(EmailCampaign.response_mode == "AI_AUTO_SEND", waits),
                ),
                only_mine,
            )
            .order_by(Message.occurred_at, AIDraft.created_at)
        ).all()
        items = [
            {
                "draft": draft,
                "lead": lead,
                "campaign": campaign,
                "inbound": inbound,
                "waited": waited(inbound.occurred_at, now),
                "reason": _latest_reason(session, draft.id),
                "unknown_send": _unknown_send(session, draft.id),
                "assignee": setters.get(lead.assigned_user_id) if lead.assigned_user_id else None,
            }
            for draft, lead, campaign, inbound in rows
        ]
        return render_template(
            "review.html",
            member=member,
            members=members,
            active="review",
            items=items,
            mine=mine,
            setters=setters,
        )


def _authorised(raw_id: str) -> AIDraft:
    with session_scope(database_url()) as session:
        draft = session.get(AIDraft, parse_id(raw_id))
        if draft is None:
            raise ApiError(404, "not found")
        member_of(session, draft.workspace_id, "setter")
        session.expunge(draft)
        return draft


def _back(draft: AIDraft) -> Response:
    return redirect(url_for("pages.review", workspace=draft.workspace_id))


@bp.post("/review/<draft_id>/send")
def send(draft_id: str) -> Response:
    """Approve as drafted, or send the edited text (recorded as an edit)."""
    draft = _authorised(draft_id)
    edited = request.form.get("body", "").replace("\r\n", "\n").strip()
    body = edited if edited and edited != draft.body.replace("\r\n", "\n").strip() else None
    result = send_draft(
        database_url(),
        draft.id,
        services().repliers,
        sent_by="setter",
        body=body,
        user_id=caller().user_id,
    )
    if result.status == "sent":
        flash("Sent" + (" with your edits." if body else "."), "success")
    else:
        message, category = _SEND_OUTCOMES[result.status]
        flash(message, category)
    return _back(draft)


@bp.post("/review/<draft_id>/reject")
def reject(draft_id: str) -> Response:
    draft = _authorised(draft_id)
    status = reject_draft(database_url(), draft.id, caller().user_id)
    if status is None:
        flash("Draft rejected; the lead stays with you.", "success")
    else:
        flash(f"Someone already handled this draft (it is {status}).", "info")
    return _back(draft)


@bp.post("/review/leads/<lead_id>/assign")
def assign(lead_id: str) -> Response:
    """Hand the lead (and its waiting drafts) to another setter or admin of its workspace."""
    raw_user = request.form.get("user_id", "")
    with session_scope(database_url()) as session:
        lead = session.get(Lead, parse_id(lead_id))
        if lead is None:
            raise ApiError(404, "not found")
        member_of(session, lead.workspace_id, "setter")
        workspace_id = lead.workspace_id
        try:
            user_id = uuid.UUID(raw_user)
        except ValueError:
            raise ApiError(400, "user_id must be a user's id", field="user_id") from None
        try:
            reassign_lead(session, lead.id, user_id)
        except AssignmentError as exc:
            raise ApiError(400, str(exc), field="user_id") from None
    flash("Reassigned.", "success")
    return redirect(url_for("pages.review", workspace=workspace_id))
