"""Channel alerts: a post to a workspace's alerts channel when a reply asks for a meeting or a
call, or says no after the AI answered — at most one per lead per hour, or a daily digest.

Alerts are not the review DM: they go to a channel whatever the campaign's response mode, and
never ask anyone to act. A classified reply that qualifies gets a `reply_alerts` row in the
classification's transaction; posting it is a job. The job claims the row under the lead's row
lock, so of two workers with alerts for one lead only the first posts within the hour; the
claim is committed before Slack is called, and a retry of a claimed row first looks for its
earlier post (by a marker in the text) instead of posting again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from sender_service.db.engine import session_scope
from sender_service.db.models import (
    EmailCampaign,
    Lead,
    Message,
    ReplyAlert,
    Workspace,
)
from sender_service.definitions import NEGATIVE_SENTIMENTS
from sender_service.jobs import queue
from sender_service.jobs.handlers import handler
from sender_service.notify import slack
from sender_service.notify.post_once import post_once
from sender_service.services import Services

POST_ALERT: Final = "post_reply_alert"
POST_DIGEST: Final = "post_alerts_digest"
DIGEST_NOTIFICATION: Final = "alerts_digest"
QUIET_PERIOD: Final = timedelta(hours=1)
DIGEST_LIMIT: Final = 50  # lines in one digest; the rest are counted

_KIND_BY_SENTIMENT: Final = {
    "Meeting Requested": "meeting_requested",
    "Call Requested": "call_requested",
}
LABELS: Final = {
    "meeting_requested": "Meeting requested",
    "call_requested": "Call requested",
    "negative_after_ai": "Negative reply after the AI answered",
}


def alert_kind(session: Session, message: Message) -> str | None:
    """Which alert a classified inbound reply is, if any."""
    if message.lead_id is None or message.sentiment is None:
        return None
    if message.sentiment in _KIND_BY_SENTIMENT:
        return _KIND_BY_SENTIMENT[message.sentiment]
    if message.sentiment in NEGATIVE_SENTIMENTS:
        answered = session.execute(
            select(Message.id)
            .where(
                Message.lead_id == message.lead_id,
                Message.direction == "outbound",
                Message.sent_by == "ai",
                Message.delivery_status == "sent",
                # Answered before this reply reached us (a platform's dates can lag or lie).
                Message.created_at < message.created_at,
            )
            .limit(1)
        ).first()
        return "negative_after_ai" if answered else None
    return None


def record(session: Session, message: Message, workspace: Workspace) -> None:
    """Note an alert-worthy reply in the caller's transaction and queue its post (none in
    digest mode). A reclassified reply keeps its one row."""
    if not workspace.alerts_channel or not workspace.alerts_kinds:
        return
    kind = alert_kind(session, message)
    if kind is None or kind not in workspace.alerts_kinds:
        return
    assert message.lead_id is not None
    alert_id = session.execute(
        insert(ReplyAlert)
        .values(
            workspace_id=workspace.id,
            lead_id=message.lead_id,
            message_id=message.id,
            kind=kind,
            status="digest" if workspace.alerts_digest else "pending",
        )
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(ReplyAlert.id)
    ).scalar_one_or_none()
    if alert_id is not None and not workspace.alerts_digest:
        queue.enqueue(
            session, POST_ALERT, {"alert_id": str(alert_id)}, dedupe_key=f"{POST_ALERT}:{alert_id}"
        )


@dataclass(frozen=True)
class AlertView:
    kind: str
    lead: str
    campaign: str | None
    reply: str
    lead_url: str


def _view(session: Session, alert: ReplyAlert, base_url: str) -> AlertView:
    lead = session.get_one(Lead, alert.lead_id)
    message = session.get_one(Message, alert.message_id)
    campaign_id = message.email_campaign_id or lead.email_campaign_id
    campaign = session.get(EmailCampaign, campaign_id) if campaign_id else None
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p)
    who = " ".join(p for p in (name, f"<{lead.email}>" if lead.email else "") if p)
    return AlertView(
        kind=alert.kind,
        lead=who or "Unknown lead",
        campaign=campaign.name if campaign else None,
        reply=message.body,
        lead_url=f"{base_url}/leads/{lead.id}",
    )


def alert_message(view: AlertView, marker: str) -> tuple[str, list[dict[str, Any]]]:
    """The post's fallback text and blocks; everything from the lead or settings is escaped."""
    esc = slack.escape
    label = LABELS[view.kind]
    text = f"{label}: {esc(view.lead)} {marker}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": label}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Lead*\n{esc(view.lead)}"},
                {"type": "mrkdwn", "text": f"*Campaign*\n{esc(view.campaign or '—')}"},
            ],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Reply*\n" + slack.quote(view.reply)},
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open the lead"},
                    "url": view.lead_url,
                }
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": marker}]},
    ]
    return text, blocks


def _marker(alert_id: uuid.UUID) -> str:
    return f"alert:{alert_id}"


@handler(POST_ALERT)
def post_alert(session: Session, payload: dict[str, Any]) -> None:
    """Post one alert unless the lead had one within the hour. Slack's failures fail the job,
    which the queue retries; the pipeline never waits on them."""
    services: Services = session.info["services"]
    alert_id = uuid.UUID(payload["alert_id"])
    with session_scope(services.url) as own:
        lead_id = own.execute(
            select(ReplyAlert.lead_id).where(ReplyAlert.id == alert_id)
        ).scalar_one_or_none()
        if lead_id is None:
            return  # the lead (and so its alert) was deleted
        # The lead's row lock orders every worker posting for this lead.
        own.execute(select(Lead.id).where(Lead.id == lead_id).with_for_update())
        alert = own.get_one(ReplyAlert, alert_id, populate_existing=True)
        if alert.status in ("sent", "suppressed"):
            return
        workspace = own.get_one(Workspace, alert.workspace_id)
        retry_since = alert.claimed_at if alert.status == "posting" else None
        if retry_since is None:
            recent = own.execute(
                select(func.count()).where(
                    ReplyAlert.lead_id == lead_id,
                    ReplyAlert.id != alert_id,
                    ReplyAlert.status.in_(("posting", "sent")),
                    ReplyAlert.claimed_at > func.now() - QUIET_PERIOD,
                )
            ).scalar_one()
            # Also when the alerts were turned off since the reply came.
            if recent or not workspace.alerts_channel or alert.kind not in workspace.alerts_kinds:
                alert.status = "suppressed"
                return
            alert.status, alert.claimed_at = "posting", datetime.now(UTC)
            alert.slack_channel = workspace.alerts_channel
        channel = alert.slack_channel
        assert channel is not None
        text, blocks = alert_message(
            _view(own, alert, services.settings.public_base_url), _marker(alert_id)
        )
    # Committed: the claim is on record before Slack is called.
    ts = None
    if retry_since is not None:
        ts = slack.find_message(
            services.slack, channel, _marker(alert_id), retry_since.timestamp() - 5
        )
    if ts is None:
        try:
            ts = slack.post_message(services.slack, channel, text, blocks)
        except slack.SlackRefused:
            # Surely not posted: the claim is released, and the retry need not look first.
            with session_scope(services.url) as own:
                alert = own.get_one(ReplyAlert, alert_id)
                alert.status, alert.claimed_at = "pending", None
            raise
    with session_scope(services.url) as own:
        alert = own.get_one(ReplyAlert, alert_id)
        alert.status, alert.slack_ts = "sent", ts


def digest_text(workspace_name: str, day: date, views: list[AlertView]) -> str:
    noun = "reply" if len(views) == 1 else "replies"
    lines = [f"*{slack.escape(workspace_name)}*: {len(views)} {noun} worth a look on {day}"]
    for view in views[:DIGEST_LIMIT]:
        campaign = f" ({slack.escape(view.campaign)})" if view.campaign else ""
        lines.append(
            f"• {LABELS[view.kind]} — {slack.escape(view.lead)}{campaign} <{view.lead_url}|open>"
        )
        lines.append(slack.quote(" ".join(view.reply.split()), 200))
    if len(views) > DIGEST_LIMIT:
        lines.append(f"…and {len(views) - DIGEST_LIMIT} more")
    return "\n".join(lines)


@handler(POST_DIGEST)
def post_digest(session: Session, payload: dict[str, Any]) -> None:
    """One post for the digest workspace in the payload (every digest workspace for a job
    queued before digests were per workspace) listing the alert-worthy replies of `day` in
    the workspace's time zone."""
    services: Services = session.info["services"]
    day = date.fromisoformat(str(payload["day"]))
    query = select(Workspace.id).where(
        Workspace.alerts_digest == "daily",
        func.coalesce(Workspace.alerts_channel, "") != "",
    )
    if "workspace_id" in payload:
        query = query.where(Workspace.id == uuid.UUID(str(payload["workspace_id"])))
    for workspace_id in session.execute(query).scalars().all():
        _post_day(services, workspace_id, day)


def _post_day(services: Services, workspace_id: uuid.UUID, day: date) -> None:
    with session_scope(services.url) as own:
        workspace = own.get_one(Workspace, workspace_id)
        zone = ZoneInfo(workspace.timezone)
        # Local midnights: a day with a DST change is 23 or 25 hours long.
        start = datetime.combine(day, time(), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        alerts = (
            own.execute(
                select(ReplyAlert)
                .where(
                    ReplyAlert.workspace_id == workspace.id,
                    ReplyAlert.status == "digest",
                    ReplyAlert.created_at >= start,
                    ReplyAlert.created_at < end,
                )
                .order_by(ReplyAlert.created_at)
            )
            .scalars()
            .all()
        )
        views = [_view(own, alert, services.settings.public_base_url) for alert in alerts]
        name, channel = workspace.name, workspace.alerts_channel
    if not views or not channel:
        return
    ts = post_once(
        services,
        workspace_id=workspace_id,
        kind=DIGEST_NOTIFICATION,
        dedupe_key=f"{DIGEST_NOTIFICATION}:{workspace_id}:{day}",
        channel=channel,
        text=digest_text(name, day, views),
    )
    with session_scope(services.url) as own:
        own.execute(
            update(ReplyAlert)
            .where(ReplyAlert.id.in_([alert.id for alert in alerts]))
            .values(status="sent", slack_channel=channel, slack_ts=ts)
        )
