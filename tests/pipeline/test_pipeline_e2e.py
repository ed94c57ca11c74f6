"""The seed's success criteria end to end: webhook over HTTP → real worker → LLM, Slack and
EmailBison reached through their real clients on loopback stubs."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update
from werkzeug import Response

from sender_service.api_tokens import issue_token
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    AIDraft,
    AutoSendDecision,
    EmailCampaign,
    Job,
    Lead,
    Message,
    Notification,
    User,
    Workspace,
)
from sender_service.jobs.worker import Worker
from sender_service.services import Services
from sender_service.users import add_member
from sender_service.workspaces import create_workspace
from tests import emailbison_payloads as eb
from tests.service import Service
from tests.stubs import Stubs, completion


def post(service: Service, setup: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    status, body = service.post_json(
        f"/webhooks/emailbison/{setup['workspace_id']}",
        payload,
        {"X-Replyline-Secret": setup["secret"]},
    )
    assert status in (200, 202), body
    return body


def drain(db_url: str, setup: dict[str, Any]) -> None:
    Worker(db_url, services=Services(db_url, setup["settings"])).run(drain=True)
    with session_scope(db_url) as session:
        stuck = session.execute(select(Job.kind, Job.last_error).where(Job.status != "done")).all()
    assert stuck == []


def rows(db_url: str, model: Any, *where: Any) -> list[Any]:
    with session_scope(db_url) as session:
        return list(session.execute(select(model).where(*where)).scalars())


def set_mode(db_url: str, mode: str) -> None:
    with session_scope(db_url) as session:
        session.execute(update(EmailCampaign).values(response_mode=mode))


def outbound(db_url: str) -> list[Message]:
    return rows(db_url, Message, Message.direction == "outbound")


def test_confident_positive_reply_is_answered_within_seconds(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    worker = Worker(db_url, services=Services(db_url, setup["settings"]), poll_interval=0.5)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        post(service, setup, eb.lead_replied(9001))
        while not outbound(db_url) and time.monotonic() - started < 15:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        worker.stop()
        thread.join(10)
    (sent,) = outbound(db_url)
    assert elapsed < 15
    assert (sent.sent_by, sent.delivery_status, sent.source) == ("ai", "sent", "emailbison_reply")
    (draft,) = rows(db_url, AIDraft)
    assert sent.ai_draft_id == draft.id and draft.status == "sent"
    assert "Hi Dana" in sent.body and "calendly.com/acme/intro" in sent.body
    (call,) = stubs.calls("/eb/api/replies/9001/reply")
    assert call.headers["Authorization"] == "Bearer eb-key"
    assert json.loads(call.get_data())["to_emails"][0]["email_address"] == "dana@prospect.io"
    assert stubs.slack_posts() == []


def test_low_confidence_sends_one_dm_and_nothing_to_the_lead(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    stubs.llm["auto_send_evaluation"] = {
        "confidence": 0.62,
        "safe_to_send": True,
        "reason": "asks about a Tuesday slot",
    }
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    drain(db_url, setup)  # a second pass finds nothing more to do
    assert outbound(db_url) == []
    assert stubs.platform_sends() == []
    (dm,) = stubs.slack_posts()
    (lead,) = rows(db_url, Lead)
    blocks = json.dumps(dm["blocks"])
    assert dm["channel"] == "D-REVIEW"
    for expected in (
        "Hi Dana, great to hear",
        "asks about a Tuesday slot",
        "0.62",
        "Sounds interesting, can we talk Tuesday?",
        f"https://app.replyline.test/leads/{lead.id}",
    ):
        assert expected in blocks
    (lookup,) = stubs.calls("users.lookupByEmail")
    assert (
        "jon%40acme.test" in lookup.get_data(as_text=True)
        or lookup.form.get("email") == "jon@acme.test"
    )
    (note,) = rows(db_url, Notification)
    assert note.status == "sent"


def test_setter_managed_gets_a_draft_no_send_no_dm(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    set_mode(db_url, "SETTER_MANAGED")
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "pending"
    assert outbound(db_url) == [] and stubs.platform_sends() == [] and stubs.slack_posts() == []
    assert rows(db_url, AutoSendDecision) == []


def test_negative_reply_gets_no_draft_no_send_no_dm(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    stubs.llm["sentiment_classification"] = {"sentiment": "Not Interested", "confidence": 0.97}
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    assert rows(db_url, AIDraft) == [] and outbound(db_url) == []
    assert stubs.slack_posts() == [] and stubs.platform_sends() == []
    (reply,) = rows(db_url, Message)
    assert reply.sentiment == "Not Interested"


def _token(db_url: str, workspace_id: uuid.UUID, role: str, email: str) -> str:
    with session_scope(db_url) as session:
        user = add_member(session, email, workspace_id, role)[0]
        return issue_token(session, user)[1]


def test_setter_sends_a_draft_through_the_api(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    set_mode(db_url, "SETTER_MANAGED")
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    (draft,) = rows(db_url, AIDraft)
    path = f"/api/drafts/{draft.id}/send"
    setter = _token(db_url, setup["workspace_id"], "setter", "sam@acme.test")
    viewer = _token(db_url, setup["workspace_id"], "viewer", "vic@acme.test")
    with session_scope(db_url) as session:
        other, _ = create_workspace(session, name="Other", booking_provider="GHL")
        other_id = other.id
    outsider = _token(db_url, other_id, "admin", "olga@other.test")

    assert service.request("POST", path)[0] == 401
    assert service.request("POST", path, headers={"Authorization": "Bearer rl_nope_nope"})[0] == 401
    assert service.request("POST", path, headers={"Authorization": f"Bearer {outsider}"})[0] == 404
    status, body = service.request("POST", path, headers={"Authorization": f"Bearer {viewer}"})
    assert status == 403 and "setter" in body["error"]
    assert outbound(db_url) == []

    edited = json.dumps({"body": "Hi Dana — Tuesday 10am works. Invite on its way."}).encode()
    auth = {"Authorization": f"Bearer {setter}", "Content-Type": "application/json"}
    status, body = service.request("POST", path, edited, auth)
    assert (status, body["status"]) == (200, "sent")
    (sent,) = outbound(db_url)
    assert (sent.sent_by, sent.ai_draft_id) == ("setter", draft.id)
    assert sent.body.startswith("Hi Dana — Tuesday 10am")
    received = json.loads(stubs.calls("/eb/api/replies/9001/reply")[0].get_data())
    assert received["content_type"] == "html"
    assert received["message"] == "<p>Hi Dana — Tuesday 10am works. Invite on its way.</p>"

    again, body = service.request("POST", path, edited, auth)
    assert again == 409
    assert service.request("POST", f"/api/drafts/{draft.id}/reject", headers=auth)[0] == 409
    assert len(stubs.platform_sends()) == 1
    status, body = service.request("POST", path, b'{"body": ""}', auth)
    assert (status, body["field"]) == (400, "body")


def test_setter_rejects_a_draft(db_url: str, setup: dict[str, Any], service: Service) -> None:
    set_mode(db_url, "SETTER_MANAGED")
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    (draft,) = rows(db_url, AIDraft)
    auth = {
        "Authorization": f"Bearer {_token(db_url, setup['workspace_id'], 'admin', 'a@acme.test')}"
    }
    status, body = service.request("POST", f"/api/drafts/{draft.id}/reject", headers=auth)
    assert (status, body["status"]) == (200, "rejected")
    status, _ = service.request("POST", f"/api/drafts/{draft.id}/send", headers=auth)
    assert status == 409
    assert outbound(db_url) == []
    (rejected,) = rows(db_url, AIDraft)
    (admin,) = rows(db_url, User, User.email == "a@acme.test")
    assert rejected.reviewed_by_user_id == admin.id  # a Slack reviewer is told who


def _skip_reason(db_url: str) -> str:
    (decision,) = rows(db_url, AutoSendDecision)
    assert decision.action == "skip"
    return str(decision.reason)


def test_skip_kill_switch(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    with session_scope(db_url) as session:
        session.execute(update(Workspace).values(auto_send_enabled=False))
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    assert "switched off" in _skip_reason(db_url)
    assert outbound(db_url) == [] and stubs.slack_posts() == []


def test_skip_opted_out_lead(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    post(service, setup, eb.event("LEAD_UNSUBSCRIBED", lead=eb.lead(), campaign=eb.CAMPAIGN))
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    assert "opted out" in _skip_reason(db_url)
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "rejected"
    assert outbound(db_url) == [] and stubs.slack_posts() == []


def test_skip_setter_already_answered(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    post(service, setup, eb.lead_replied(9001))
    later = eb.manual_sent(9500)
    later["data"]["reply"]["date_received"] = "2025-03-04T15:30:00+00:00"
    post(service, setup, later)
    drain(db_url, setup)
    assert "setter already answered" in _skip_reason(db_url)
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "superseded"  # closed: it will never go out
    assert [m.sent_by for m in outbound(db_url)] == ["setter"]
    assert stubs.platform_sends() == [] and stubs.slack_posts() == []


def test_skip_paused_lead(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    post(service, setup, eb.lead_replied(9001))
    with session_scope(db_url) as session:
        session.execute(update(Lead).values(ai_paused=True))
    drain(db_url, setup)
    assert "took the lead over" in _skip_reason(db_url)
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "pending"  # a setter may still use it
    assert outbound(db_url) == [] and stubs.slack_posts() == []


def test_skip_superseded_by_a_newer_reply(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    post(service, setup, eb.lead_replied(9001))
    newer = eb.lead_replied(9002)
    newer["data"]["reply"]["date_received"] = "2025-03-04T16:00:00+00:00"
    newer["data"]["reply"]["text_body"] = "Actually, can you do Wednesday instead?"
    post(service, setup, newer)
    drain(db_url, setup)
    decisions = {d.inbound_message_id: d for d in rows(db_url, AutoSendDecision)}
    replies = {m.external_id: m.id for m in rows(db_url, Message, Message.direction == "inbound")}
    assert decisions[replies["9001"]].action == "skip"
    assert "superseded" in decisions[replies["9001"]].reason
    assert decisions[replies["9002"]].action == "send_now"
    (sent,) = outbound(db_url)
    assert len(stubs.calls("/eb/api/replies/9002/reply")) == 1
    assert stubs.calls("/eb/api/replies/9001/reply") == []
    assert sent.sent_by == "ai"


def test_automated_reply_is_never_answered(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    auto = eb.lead_replied(9001)
    auto["data"]["reply"]["automated_reply"] = True
    post(service, setup, auto)
    drain(db_url, setup)
    assert outbound(db_url) == [] and stubs.platform_sends() == [] and stubs.slack_posts() == []


def _refusal(_body: dict[str, Any]) -> Response:
    return Response(
        json.dumps(completion(None, refusal="I can't help with that.")),
        content_type="application/json",
    )


def _garbage(_body: dict[str, Any]) -> Response:
    return Response(json.dumps(completion("{not json")), content_type="application/json")


def _server_error(_body: dict[str, Any]) -> Response:
    return Response("upstream exploded", status=503)


@pytest.mark.parametrize(
    "failure", [_refusal, _garbage, _server_error], ids=["refusal", "garbage", "5xx"]
)
@pytest.mark.parametrize(
    "step", ["sentiment_classification", "reply_draft", "auto_send_evaluation"]
)
def test_llm_failure_sends_nothing_keeps_the_reply_and_tells_the_reviewer(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, step: str, failure: Any
) -> None:
    stubs.llm[step] = failure
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    assert outbound(db_url) == [] and stubs.platform_sends() == []
    (reply,) = rows(db_url, Message)
    assert reply.body == "Sounds interesting, can we talk Tuesday?"
    (dm,) = stubs.slack_posts()
    assert "failed" in json.dumps(dm["blocks"])
    (decision,) = rows(db_url, AutoSendDecision)
    assert decision.action == "needs_review"
