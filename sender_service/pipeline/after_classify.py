"""What a classified reply sets off beyond the auto-send path: the follow-up sequence, a
provider contact for a lead that turned positive (so its appointments can be matched), and
the workspace's channel alert."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from sender_service.booking import keeps_provider_contacts
from sender_service.booking_sync.jobs import SYNC_CONTACT
from sender_service.db.models import Lead, Message, Workspace
from sender_service.definitions import POSITIVE_SENTIMENTS
from sender_service.followups.enrollment import on_reply
from sender_service.jobs import queue
from sender_service.notify import alerts


def after_classify(session: Session, message_id: uuid.UUID) -> None:
    message = session.get_one(Message, message_id)
    if message.lead_id is None or message.sentiment is None:
        return
    on_reply(session, message)
    lead = session.get_one(Lead, message.lead_id)
    workspace = session.get_one(Workspace, lead.workspace_id)
    alerts.record(session, message, workspace)
    if (
        message.sentiment in POSITIVE_SENTIMENTS
        and not lead.ghl_contact_id
        and keeps_provider_contacts(workspace)
    ):
        queue.enqueue(
            session, SYNC_CONTACT, {"lead_id": str(lead.id)}, dedupe_key=f"{SYNC_CONTACT}:{lead.id}"
        )
