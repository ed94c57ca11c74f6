"""The delivery journal's periodic jobs: retention (hourly) and the daily held-deliveries post.

Retention deletes rows older than `WEBHOOK_JOURNAL_RETENTION_DAYS`, except held ones (kept
until replayed or discarded). Once a day each workspace with held deliveries and a report
channel gets one Slack message saying how many and how to replay them, once
(`notify.post_once`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sender_service.db.models import WebhookDelivery, Workspace
from sender_service.ingest import journal
from sender_service.jobs.handlers import handler
from sender_service.notify.post_once import post_once
from sender_service.services import Services

log = logging.getLogger(__name__)

PRUNE_JOURNAL: Final = "prune_webhook_journal"
REPORT_HELD: Final = "report_held_deliveries"
NOTIFICATION_KIND: Final = "held_deliveries"


@handler(PRUNE_JOURNAL)
def prune_journal(session: Session, payload: dict[str, Any]) -> None:
    services: Services = session.info["services"]
    days = services.settings.webhook_journal_retention_days
    deleted = journal.delete_expired(session, datetime.now(UTC), days)
    log.info("webhook journal: %d deliveries older than %d days deleted", deleted, days)


def held_text(name: str, count: int) -> str:
    noun = "delivery is" if count == 1 else "deliveries are"
    return (
        f"*{name}*: {count} webhook {noun} held — valid, but not stored yet (no reader could "
        "use them, or they came from an email platform the workspace has left). See them with "
        "`replyline webhooks held`; after a fix, `replyline webhooks replay --held` stores "
        "them (or `webhooks discard` drops them)."
    )


@handler(REPORT_HELD)
def report_held(session: Session, payload: dict[str, Any]) -> None:
    services: Services = session.info["services"]
    day = str(payload["day"])
    rows = session.execute(
        select(Workspace.id, Workspace.name, Workspace.report_slack_channel, func.count())
        .join(WebhookDelivery, WebhookDelivery.workspace_id == Workspace.id)
        .where(
            WebhookDelivery.outcome == "held",
            func.coalesce(Workspace.report_slack_channel, "") != "",
        )
        .group_by(Workspace.id)
    ).all()
    for workspace_id, name, channel, count in rows:
        assert channel is not None
        post_once(
            services,
            workspace_id=workspace_id,
            kind=NOTIFICATION_KIND,
            dedupe_key=f"{NOTIFICATION_KIND}:{workspace_id}:{day}",
            channel=channel,
            text=held_text(name, count),
        )
