"""Draft versions: a draft written again with a note, the earlier version kept and superseded.

A reviewer's Regenerate (from the review DM) writes one new version; each version points at
the one it replaces (`previous_draft_id`), so a reply's drafts read as a chain.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from sender_service.ai.llm import LLM
from sender_service.ai.prompts import Revision
from sender_service.db.models import AIDraft, Message
from sender_service.pipeline.context import load_inbound, reply_context
from sender_service.templates import render


def write_version(session: Session, llm: LLM, draft: AIDraft, revision: Revision) -> AIDraft:
    """A new pending version of `draft` written with `revision`; `draft` is superseded.

    Raises `LLMError` when the model gives no usable answer; nothing is changed then. The
    caller holds the lead's lock, as every send's claim takes it."""
    message = session.get_one(Message, draft.inbound_message_id)
    inbound = load_inbound(session, message)
    written = llm.draft(
        reply_context(session, inbound), message.sentiment or "Interested", revision
    )
    version = AIDraft(
        workspace_id=draft.workspace_id,
        lead_id=draft.lead_id,
        inbound_message_id=draft.inbound_message_id,
        channel=draft.channel,
        body=render(written.body, inbound.placeholder_values()).text,
        previous_draft_id=draft.id,
    )
    draft.status = "superseded"
    session.add(version)
    session.flush()
    return version


def first_version(session: Session, draft_id: uuid.UUID) -> uuid.UUID:
    """The chain's first draft: the one the review DM was posted for."""
    while (previous := session.get_one(AIDraft, draft_id).previous_draft_id) is not None:
        draft_id = previous
    return draft_id


def latest_version(session: Session, draft_id: uuid.UUID) -> uuid.UUID:
    """The newest version written from `draft_id` (itself when none was)."""
    while (
        newer := session.scalar(select(AIDraft.id).where(AIDraft.previous_draft_id == draft_id))
    ) is not None:
        draft_id = newer
    return draft_id
