"""`/api/campaigns`: list a workspace's campaigns (viewer and above) and change one (admin).

A change of mode or threshold is a `campaign_mode_changes` row naming the user, as the CLI's
are (with no user); the timing rules are `campaigns.set_timing`'s, shared with the CLI.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import select

from sender_service.campaigns import CampaignError, set_mode, set_timing, timing_view
from sender_service.db.engine import session_scope
from sender_service.db.models import EmailCampaign
from sender_service.web.access import current_caller, require_role
from sender_service.web.api_models import CampaignPatch
from sender_service.web.errors import ApiError, json_error
from sender_service.web.params import database_url, json_body, path_id, workspace_param

bp = Blueprint("campaigns", __name__, url_prefix="/api/campaigns")
bp.register_error_handler(Exception, json_error)


@bp.get("")
def list_campaigns() -> Any:
    workspace_id = workspace_param()
    with session_scope(database_url()) as session:
        require_role(session, current_caller(session), workspace_id, "viewer")
        rows = session.execute(
            select(EmailCampaign)
            .where(EmailCampaign.workspace_id == workspace_id)
            .order_by(EmailCampaign.archived, EmailCampaign.name, EmailCampaign.external_id)
        ).scalars()
        return jsonify(workspace_id=str(workspace_id), campaigns=[timing_view(c) for c in rows])


@bp.patch("/<campaign_id>")
def update_campaign(campaign_id: str) -> Any:
    campaign_uuid = path_id(campaign_id)
    with session_scope(database_url()) as session:
        caller = current_caller(session)
        campaign = session.get(EmailCampaign, campaign_uuid, with_for_update=True)
        if campaign is None:
            raise ApiError(404, "not found")
        require_role(session, caller, campaign.workspace_id, "admin")
        patch = json_body(CampaignPatch)
        if patch.response_mode is not None or patch.auto_send_confidence_threshold is not None:
            set_mode(
                session,
                campaign,
                patch.response_mode or campaign.response_mode,
                patch.auto_send_confidence_threshold,
                changed_by=caller.user_id,
            )
        try:
            set_timing(
                campaign,
                delay_min=patch.send_delay_min_seconds,
                delay_max=patch.send_delay_max_seconds,
                sending_hours=patch.sending_hours,
            )
        except CampaignError as exc:
            # The one rule left to set_timing here: the window's ends against each other.
            raise ApiError(400, str(exc), field="send_delay_min_seconds") from None
        return jsonify(timing_view(campaign))
