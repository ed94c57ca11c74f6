"""`/campaigns`: each campaign's arm, threshold and timing (admins change them, others read),
the change history, and the workspace's auto-send kill switch."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from sender_service.campaigns import (
    CampaignError,
    parse_seconds,
    parse_threshold,
    set_mode,
    set_timing,
)
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    RESPONSE_MODES,
    SENDING_HOURS,
    CampaignModeChange,
    EmailCampaign,
    User,
    Workspace,
)
from sender_service.web.errors import ApiError
from sender_service.web.pages.base import (
    bp,
    caller,
    chosen_member,
    database_url,
    member_of,
    parse_id,
)

HISTORY_ROWS = 50


@bp.get("/campaigns")
def campaigns() -> Any:
    with session_scope(database_url()) as session:
        member, members = chosen_member(session)
        workspace = session.get_one(Workspace, member.workspace_id)
        rows = (
            session.execute(
                select(EmailCampaign)
                .where(EmailCampaign.workspace_id == member.workspace_id)
                .order_by(EmailCampaign.archived, EmailCampaign.name, EmailCampaign.external_id)
            )
            .scalars()
            .all()
        )
        names = {c.id: c.name for c in rows}
        history = session.execute(
            select(CampaignModeChange, User.email)
            .outerjoin(User, User.id == CampaignModeChange.changed_by)
            .where(CampaignModeChange.workspace_id == member.workspace_id)
            .order_by(CampaignModeChange.changed_at.desc(), CampaignModeChange.id)
            .limit(HISTORY_ROWS)
        ).all()
        return render_template(
            "campaigns.html",
            member=member,
            members=members,
            active="campaigns",
            workspace=workspace,
            campaigns=rows,
            names=names,
            history=history,
            modes=RESPONSE_MODES,
            sending_hours=SENDING_HOURS,
        )


def _back(workspace_id: Any) -> Response:
    return redirect(url_for("pages.campaigns", workspace=workspace_id))


@bp.post("/campaigns/<campaign_id>")
def update_campaign(campaign_id: str) -> Response:
    """Admin only. Validated as `replyline campaigns set-mode/update` validate; nothing changes
    unless every field is valid. A mode or threshold change is a history row with the user."""
    form = request.form
    try:
        with session_scope(database_url()) as session:
            campaign = session.get(EmailCampaign, parse_id(campaign_id), with_for_update=True)
            if campaign is None:
                raise ApiError(404, "not found")
            member_of(session, campaign.workspace_id, "admin")
            name, workspace_id = campaign.name, campaign.workspace_id
            # Raising inside the transaction rolls back whatever an earlier field changed.
            set_timing(
                campaign,
                delay_min=parse_seconds(form.get("delay_min", ""), "the minimum delay"),
                delay_max=parse_seconds(form.get("delay_max", ""), "the maximum delay"),
                sending_hours=form.get("sending_hours", ""),
            )
            set_mode(
                session,
                campaign,
                form.get("mode", ""),
                parse_threshold(form.get("threshold", "")),
                changed_by=caller().user_id,
            )
            mode = campaign.response_mode
    except CampaignError as exc:
        flash(f"{name}: {exc}", "error")
    else:
        flash(f"Saved {name}: {mode}.", "success")
    return _back(workspace_id)


@bp.post("/workspaces/<workspace_id>/auto-send")
def kill_switch(workspace_id: str) -> Response:
    """Admin only: turn every AI auto-send in the workspace off (or back on)."""
    ws_id = parse_id(workspace_id)
    enabled = request.form.get("enabled") == "true"
    with session_scope(database_url()) as session:
        member_of(session, ws_id, "admin")
        session.get_one(Workspace, ws_id, with_for_update=True).auto_send_enabled = enabled
    flash("AI auto-send is " + ("on." if enabled else "off for every campaign."), "success")
    return _back(ws_id)
