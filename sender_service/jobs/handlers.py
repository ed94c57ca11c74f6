"""Job handlers, keyed by job kind. A handler gets the job's session and payload.

The session is the job's one transaction: what the handler writes commits together with the
job's `done`, or not at all. Register a handler with `@handler("kind")`; the pipeline's live
in `sender_service.pipeline.jobs`. `session.info` carries the worker's `url` and `services`
for handlers that must commit on their own (a send is claimed before the provider is called).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from sqlalchemy.orm import Session

Handler = Callable[[Session, dict[str, Any]], None]

CLASSIFY_REPLY: Final = "classify_reply"
SEND_DRAFT: Final = "send_draft"
NOTIFY_REVIEW: Final = "notify_review"
RECONCILE_SEND: Final = "reconcile_send"
STOP_CAMPAIGN_EMAILS: Final = "stop_campaign_emails"
REVIEW_FROM_SLACK: Final = "review_from_slack"

HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


class PermanentJobError(Exception):
    """Retrying cannot help (e.g. the data is gone): the job goes straight to `dead`."""
