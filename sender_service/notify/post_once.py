"""One Slack post per purpose (a day's digest, a day's held-deliveries notice), whatever
retries or crashes happen.

The attempt is recorded on the purpose's `notifications` row and committed before Slack is
called; the post carries a marker line naming that row. A retry after an attempt whose outcome
is unknown (a lost answer, a worker killed before it recorded the post) looks for the marker in
the channel's recent history before posting again (`channels:history` / `groups:history`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from sender_service.db.engine import session_scope
from sender_service.db.models import Notification
from sender_service.notify import slack
from sender_service.services import Services

# Longer than a Slack call can take (10 s timeout, a few retries): an attempt started less
# than this ago may still be in flight.
IN_FLIGHT: Final = timedelta(minutes=2)


class PostInFlight(RuntimeError):
    """Another attempt at the same post may be posting it now; the queue retries later."""


def post_once(
    services: Services,
    *,
    workspace_id: uuid.UUID,
    kind: str,
    dedupe_key: str,
    channel: str,
    text: str,
) -> str:
    """The post's ts: posted now, found in the channel after an earlier attempt whose answer
    was lost, or the one an earlier attempt recorded."""
    with session_scope(services.url) as own:
        own.execute(
            insert(Notification)
            .values(workspace_id=workspace_id, kind=kind, dedupe_key=dedupe_key)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        note = own.execute(
            select(Notification).where(Notification.dedupe_key == dedupe_key).with_for_update()
        ).scalar_one()
        if note.status == "sent":
            return note.slack_ts or ""
        now = datetime.now(UTC)
        if note.last_attempt_at is not None and now - note.last_attempt_at < IN_FLIGHT:
            raise PostInFlight(f"{dedupe_key}: an attempt started at {note.last_attempt_at}")
        note_id, retry_since = note.id, note.last_attempt_at
        # A retry looks where the first attempt posted, even if the channel changed since.
        channel = note.slack_channel or channel
        note.slack_channel, note.last_attempt_at = channel, now
        note.attempts += 1
    marker = f"{kind}:{note_id}"
    ts = None
    if retry_since is not None:
        ts = slack.find_message(services.slack, channel, marker, retry_since.timestamp() - 5)
    if ts is None:
        try:
            ts = slack.post_message(services.slack, channel, f"{text}\n{marker}", [])
        except slack.SlackRefused:
            # Surely not posted: the retry need not look first.
            with session_scope(services.url) as own:
                own.get_one(Notification, note_id).last_attempt_at = None
            raise
    with session_scope(services.url) as own:
        note = own.get_one(Notification, note_id)
        note.slack_ts, note.status, note.sent_at = ts, "sent", datetime.now(UTC)
    return ts
