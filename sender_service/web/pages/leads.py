"""`/leads/<id>`, the Slack DM's link: the thread, drafts and decisions with their reasons,
booking, follow-ups, and the AI pause switch."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from sender_service.booking import get_booking_link, is_meeting_booked
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    AIDraft,
    EmailCampaign,
    FollowupEnrollment,
    FollowupSequence,
    Lead,
    Message,
    User,
    Workspace,
)
from sender_service.pipeline.explain import timeline
from sender_service.sending.review import set_ai_paused
from sender_service.web.errors import ApiError
from sender_service.web.pages.base import bp, database_url, member_of, memberships, parse_id

# The thread is shown as messages; the activity log lists everything else.
_THREAD_KINDS = frozenset({"inbound", "outbound"})


def _lead_or_404(session: Session, raw_id: str) -> Lead:
    lead = session.get(Lead, parse_id(raw_id))
    if lead is None:
        raise ApiError(404, "not found")
    return lead


@bp.get("/leads/<lead_id>")
def lead(lead_id: str) -> Any:
    with session_scope(database_url()) as session:
        row = _lead_or_404(session, lead_id)
        member = member_of(session, row.workspace_id)
        workspace = session.get_one(Workspace, row.workspace_id)
        campaign = (
            session.get(EmailCampaign, row.email_campaign_id) if row.email_campaign_id else None
        )
        _, _, entries = timeline(session, row.id)
        thread = session.execute(
            select(Message, User.email)
            .outerjoin(User, User.id == Message.sent_by_user_id)
            .where(Message.lead_id == row.id)
            .order_by(Message.occurred_at, Message.created_at)
        ).all()
        drafts = {
            d.id: d
            for d in session.execute(select(AIDraft).where(AIDraft.lead_id == row.id)).scalars()
        }
        enrollments = session.execute(
            select(FollowupEnrollment, FollowupSequence.name)
            .join(FollowupSequence, FollowupSequence.id == FollowupEnrollment.sequence_id)
            .where(FollowupEnrollment.lead_id == row.id)
            .order_by(FollowupEnrollment.enrolled_at.desc())
        ).all()
        return render_template(
            "lead.html",
            member=member,
            members=memberships(session),
            active="review",
            lead=row,
            workspace=workspace,
            campaign=campaign,
            thread=thread,
            drafts=drafts,
            activity=[e for e in entries if e.kind not in _THREAD_KINDS],
            booked=is_meeting_booked(row, workspace),
            booking_link=get_booking_link(workspace, row),
            enrollments=enrollments,
        )


def _pause(lead_id: str, paused: bool) -> Response:
    with session_scope(database_url()) as session:
        row = _lead_or_404(session, lead_id)
        member_of(session, row.workspace_id, "setter")
        lead_uuid = row.id
    set_ai_paused(database_url(), lead_uuid, paused)
    flash(
        "AI paused: only people answer this lead now." if paused else "AI resumed for this lead.",
        "success",
    )
    return redirect(url_for("pages.lead", lead_id=lead_uuid))


@bp.post("/leads/<lead_id>/pause-ai")
def pause_ai(lead_id: str) -> Response:
    return _pause(lead_id, True)


@bp.post("/leads/<lead_id>/resume-ai")
def resume_ai(lead_id: str) -> Response:
    return _pause(lead_id, False)
