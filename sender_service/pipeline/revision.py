"""Draft versions and the revision loop.

A draft is written again with a note, the earlier version kept and superseded; each version
points at the one it replaces (`previous_draft_id`), so a reply's drafts read as a chain. A
reviewer's Regenerate (from the review DM) writes one such version. The loop writes them when
the evaluator stops a draft for a reason a rewrite can fix (its `revisable` and
`revision_hint`), at most the workspace's `max_revisions` rounds, and fails closed: whatever
still stops the last version, or a round's LLM failure, sends it to a person.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sender_service.ai.llm import LLM, LLMError
from sender_service.ai.prompts import Revision
from sender_service.ai.schemas import AutoSendEvaluation
from sender_service.db.models import AIDraft, Message
from sender_service.pipeline.context import load_inbound, reply_context
from sender_service.pipeline.gate import Decision, GateFacts
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


@dataclass(frozen=True)
class Judgement:
    """One version's evaluation and the gate's decision on it. No gate: the round failed."""

    gate: GateFacts | None
    decision: Decision
    evaluation: AutoSendEvaluation | None


def can_revise(judgement: Judgement) -> bool:
    """Only the evaluator stopped the draft, and it says a rewrite can fix what it found.

    Policy stops are never revised: a hold for a person (opt-out, untracked, the campaign's
    mode), a failed service, unresolved placeholders, anything the outbound guard found
    (pricing, links, contacts, length), an automatic reply already sent within 24 h."""
    gate, evaluation = judgement.gate, judgement.evaluation
    return (
        judgement.decision.action == "needs_review"
        and gate is not None
        and evaluation is not None
        and evaluation.revisable
        and gate.held_for_person is None
        and gate.service_failure is None
        and not gate.unresolved_placeholders
        and not gate.guard
        and not gate.recent_auto_send
    )


def revise(
    session: Session,
    llm: LLM,
    draft: AIDraft,
    first: Judgement,
    judge: Callable[[AIDraft], Judgement],
    max_rounds: int,
    record: Callable[[AIDraft, Judgement], None],
) -> tuple[AIDraft, Judgement]:
    """Rewrite with the evaluator's hint and judge again while a rewrite can help, at most
    `max_rounds` times; the last version and its judgement. Each stopped version keeps its
    evaluation and a `revise` decision (`record`); a round whose LLM call fails ends the loop
    with that version sent to a person."""
    judgement, rounds = first, 0
    while rounds < max_rounds and can_revise(judgement):
        assert judgement.evaluation is not None
        rounds += 1
        hint = judgement.evaluation.revision_hint.strip() or judgement.decision.reason
        why = f"round {rounds}: {judgement.decision.reason}; rewriting: {hint}"
        record(draft, Judgement(judgement.gate, Decision("revise", why), judgement.evaluation))
        try:
            draft = write_version(session, llm, draft, Revision(draft.body, hint, "evaluator"))
        except LLMError as exc:
            failed = f"revision round {rounds} failed, sent to a person: {exc}"
            return draft, Judgement(None, Decision("needs_review", failed), None)
        draft.revision_round = rounds
        judgement = judge(draft)  # an evaluation failure is a service failure: needs_review
    if rounds and can_revise(judgement):
        reason = f"still stopped after {rounds} revision(s): {judgement.decision.reason}"
        judgement = Judgement(
            judgement.gate, Decision("needs_review", reason), judgement.evaluation
        )
    return draft, judgement
