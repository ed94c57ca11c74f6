"""Job handlers, keyed by job kind. A handler gets the job's session and payload.

The session is the job's one transaction: what the handler writes commits together with the
job's `done`, or not at all. Register a handler with `@handler("kind")`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy.orm import Session

from sender_service.db.models import Message

Handler = Callable[[Session, dict[str, Any]], None]

CLASSIFY_REPLY: Final = "classify_reply"

HANDLERS: dict[str, Handler] = {}

log = logging.getLogger(__name__)


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


class PermanentJobError(Exception):
    """Retrying cannot help (e.g. the data is gone): the job goes straight to `dead`."""


@handler(CLASSIFY_REPLY)
def classify_reply(session: Session, payload: dict[str, Any]) -> None:
    """For now only notes that the reply awaits classification; the AI pipeline plugs in here."""
    message = session.get(Message, uuid.UUID(payload["message_id"]))
    if message is None:
        raise PermanentJobError(f"message {payload['message_id']} no longer exists")
    log.info(
        "reply %s awaits classification (auto_answer=%s)",
        message.id,
        payload.get("auto_answer", False),
    )
