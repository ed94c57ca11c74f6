"""One reply through classify → draft → evaluate → decide, with the offline LLM."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from sender_service.ai.offline import OfflineLLM
from sender_service.db.engine import session_scope
from sender_service.db.models import AIDraft, AutoSendDecision, Lead, Message, Notification
from sender_service.pipeline.process import Outcome, process_inbound
from tests import factories


def run(db_url: str, message_id: uuid.UUID) -> Outcome:
    with session_scope(db_url) as session:
        outcome = process_inbound(session, message_id, OfflineLLM())
    assert outcome.decision is None or outcome.decision.reason
    return outcome


def action(outcome: Outcome) -> str:
    assert outcome.decision is not None
    return outcome.decision.action


def test_positive_reply_in_auto_send_campaign_is_approved_for_sending(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        c = factories.campaign(session, ws, "AI_AUTO_SEND")
        ld = factories.lead(session, ws, c)
        msg = factories.inbound(session, ld, "Sounds great, happy to chat")
        msg_id, lead_id = msg.id, ld.id
    outcome = run(db_url, msg_id)
    assert outcome.sentiment == "Interested"
    assert action(outcome) == "send_now"
    assert [s.kind for s in outcome.next_steps] == ["send_draft"]
    with session_scope(db_url) as session:
        draft = session.execute(select(AIDraft)).scalar_one()
        assert draft.inbound_message_id == msg_id
        assert "Dana" in draft.body and "calendly.com/acme/intro" in draft.body
        assert "{" not in draft.body
        assert f"utm_content={lead_id}" in draft.body
        assert session.get_one(Lead, lead_id).sentiment_tag == "Interested"
        decision = session.execute(select(AutoSendDecision)).scalar_one()
        assert decision.action == "send_now" and decision.inputs["threshold"] == "0.900"


def test_question_goes_to_review_with_one_notification(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        c = factories.campaign(session, ws, "AI_AUTO_SEND")
        msg = factories.inbound(
            session, factories.lead(session, ws, c), "Interested — what does it cost?"
        )
        msg_id = msg.id
    first = run(db_url, msg_id)
    assert action(first) == "needs_review"
    assert first.decision is not None and "below threshold" in first.decision.reason
    run(db_url, msg_id)  # a retried job
    with session_scope(db_url) as session:
        assert len(session.execute(select(Notification)).scalars().all()) == 1
        assert len(session.execute(select(AIDraft)).scalars().all()) == 1


def test_setter_managed_gets_a_draft_but_no_decision(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        c = factories.campaign(session, ws, "SETTER_MANAGED")
        msg_id = factories.inbound(
            session, factories.lead(session, ws, c), "Yes please, sounds good"
        ).id
    outcome = run(db_url, msg_id)
    assert outcome.draft_id is not None and outcome.decision is None
    assert outcome.next_steps == []


def test_negative_reply_gets_nothing(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        c = factories.campaign(session, ws, "AI_AUTO_SEND")
        msg_id = factories.inbound(
            session, factories.lead(session, ws, c), "No thanks, not interested"
        ).id
    outcome = run(db_url, msg_id)
    assert outcome.sentiment == "Not Interested" and outcome.draft_id is None
    with session_scope(db_url) as session:
        assert session.execute(select(AutoSendDecision)).first() is None


def test_unsubscribe_opts_out_and_rejects_open_drafts(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        c = factories.campaign(session, ws, "SETTER_MANAGED")
        ld = factories.lead(session, ws, c)
        first = factories.inbound(
            session, ld, "Sounds good", datetime.now(UTC) - timedelta(hours=1)
        )
        second = factories.inbound(session, ld, "Actually, please unsubscribe me")
        ids = (first.id, second.id, ld.id)
    run(db_url, ids[0])
    run(db_url, ids[1])
    with session_scope(db_url) as session:
        assert session.get_one(Lead, ids[2]).opted_out
        assert session.execute(select(AIDraft.status)).scalar_one() in ("rejected", "superseded")


def test_no_calendar_link_sends_to_review(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws = factories.workspace(session, calendly_scheduling_url=None)
        c = factories.campaign(session, ws, "AI_AUTO_SEND")
        msg_id = factories.inbound(session, factories.lead(session, ws, c), "Sounds great").id
    outcome = run(db_url, msg_id)
    assert action(outcome) == "needs_review"
    assert outcome.decision is not None and "{calendarLink}" in outcome.decision.reason


def test_business_hours_campaign_sends_later(db_url: str) -> None:
    saturday = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        c = factories.campaign(session, ws, "AI_AUTO_SEND", sending_hours="business_hours")
        msg_id = factories.inbound(
            session, factories.lead(session, ws, c), "Sounds great", saturday
        ).id
    with session_scope(db_url) as session:
        outcome = process_inbound(session, msg_id, OfflineLLM(), now=saturday)
    assert action(outcome) == "send_later"
    (step,) = outcome.next_steps
    assert step.run_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with session_scope(db_url) as session:
        assert session.execute(select(AIDraft.status)).scalar_one() == "scheduled"


def test_untracked_reply_is_classified_never_answered(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        msg = Message(
            workspace_id=ws.id,
            direction="inbound",
            body="Interested!",
            source="emailbison_reply",
            external_id="u1",
        )
        session.add(msg)
        session.flush()
        msg_id = msg.id
    outcome = run(db_url, msg_id)
    assert outcome.sentiment == "Interested" and outcome.draft_id is None


def test_replies_waiting_for_a_person_are_assigned_to_a_setter(db_url: str) -> None:
    from sender_service.users import add_member

    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        setter = add_member(session, f"s-{uuid.uuid4().hex[:6]}@x.test", ws.id, "setter")[0]
        manual = factories.campaign(session, ws, "SETTER_MANAGED")
        auto = factories.campaign(session, ws, "AI_AUTO_SEND")
        waiting = factories.inbound(session, factories.lead(session, ws, manual), "Yes please")
        review = factories.inbound(
            session, factories.lead(session, ws, auto), "Interested — what does it cost?"
        )
        sent = factories.inbound(
            session, factories.lead(session, ws, auto), "Sounds great, happy to chat"
        )
        ids = {"waiting": waiting.id, "review": review.id, "sent": sent.id}
        setter_id = setter.id
    for message_id in ids.values():
        run(db_url, message_id)
    with session_scope(db_url) as session:
        assigned = {
            name: session.get_one(Lead, session.get_one(Message, mid).lead_id).assigned_user_id
            for name, mid in ids.items()
        }
    # The setter-managed draft and the one put to review wait for a person; the AI's send not.
    assert assigned == {"waiting": setter_id, "review": setter_id, "sent": None}
