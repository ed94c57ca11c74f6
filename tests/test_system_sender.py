"""The system sender through the real EmailBison client against a loopback stub."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Literal

from cryptography.fernet import Fernet
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from sender_service.ai.offline import OfflineLLM
from sender_service.credentials import cipher, store_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import AIDraft, AutoSendDecision, Lead, Message
from sender_service.pipeline.process import process_inbound
from sender_service.sending.providers import Repliers
from sender_service.sending.system_sender import send_draft
from sender_service.settings import load_settings
from tests import factories

KEY = Fernet.generate_key().decode()
SETTINGS = load_settings({"REPLYLINE_SECRET_KEY": KEY})


def prepared_draft(db_url: str, server: HTTPServer, mode: str = "AI_AUTO_SEND") -> uuid.UUID:
    with session_scope(db_url) as session:
        ws = factories.workspace(session, email_platform_url=server.url_for("/"))
        store_secret(session, cipher(SETTINGS), ws.id, "email_platform_api_key", "eb-key-123")
        c = factories.campaign(session, ws, mode)
        msg_id = factories.inbound(session, factories.lead(session, ws, c), "Sounds great").id
    with session_scope(db_url) as session:
        outcome = process_inbound(session, msg_id, OfflineLLM())
    assert outcome.draft_id is not None
    return outcome.draft_id


def outbound(db_url: str) -> list[Message]:
    with session_scope(db_url) as session:
        return list(
            session.execute(select(Message).where(Message.direction == "outbound")).scalars()
        )


def test_the_reply_goes_as_html_keeping_its_lines_and_the_text_is_stored(
    httpserver: HTTPServer, db_url: str
) -> None:
    httpserver.expect_request("/api/replies/4242/reply", method="POST").respond_with_json(
        {"data": {"success": True, "reply": {"id": 99002}}}
    )
    draft_id = prepared_draft(db_url, httpserver)
    text = (
        "Hi Dana,\n\nTuesday 10am works for us & the call stays short (<30 min).\nTalk soon,\nAlex"
    )
    with session_scope(db_url) as session:
        session.get_one(AIDraft, draft_id).body = text
    assert send_draft(db_url, draft_id, Repliers(db_url, SETTINGS)).status == "sent"

    ((req, _),) = httpserver.log
    sent_html = json.loads(req.get_data())
    print(f"\n  EmailBison received: {json.dumps(sent_html)}")
    assert sent_html["content_type"] == "html"
    assert sent_html["message"] == (
        "<p>Hi Dana,</p>\n"
        "<p>Tuesday 10am works for us &amp; the call stays short (&lt;30 min).<br>\n"
        "Talk soon,<br>\nAlex</p>"
    )
    (sent,) = outbound(db_url)
    assert sent.body == text and sent.body_html is None


def test_sends_in_thread_once_and_records_it(httpserver: HTTPServer, db_url: str) -> None:
    httpserver.expect_request("/api/replies/4242/reply", method="POST").respond_with_json(
        {"data": {"success": True, "reply": {"id": 99001}}}
    )
    draft_id = prepared_draft(db_url, httpserver)
    repliers = Repliers(db_url, SETTINGS)
    result = send_draft(db_url, draft_id, repliers)
    assert result.status == "sent"

    ((req, _),) = httpserver.log
    assert req.headers["Authorization"] == "Bearer eb-key-123"
    body = json.loads(req.get_data())
    assert body["sender_email_id"] == 7
    assert body["to_emails"] == [{"name": None, "email_address": "dana@initech.test"}]
    assert body["inject_previous_email_body"] is False
    # HTML built from the draft's text; the text is what is stored (below).
    assert body["content_type"] == "html"
    assert body["message"].startswith("<p>Hi Dana")

    (sent,) = outbound(db_url)
    assert (sent.sent_by, sent.ai_draft_id, sent.delivery_status) == ("ai", draft_id, "sent")
    assert (sent.source, sent.external_id) == ("emailbison_reply", "99001")
    with session_scope(db_url) as session:
        assert session.get_one(AIDraft, draft_id).status == "sent"

    again = send_draft(db_url, draft_id, repliers)
    assert again.status == "already_handled"
    assert len(httpserver.log) == 1


def test_concurrent_sends_of_one_draft_call_the_platform_once(
    httpserver: HTTPServer, db_url: str
) -> None:
    def slow(_req: Request) -> Response:
        time.sleep(0.3)
        return Response(json.dumps({"data": {"reply": {"id": 5}}}), content_type="application/json")

    httpserver.expect_request("/api/replies/4242/reply").respond_with_handler(slow)
    draft_id = prepared_draft(db_url, httpserver)
    barrier = threading.Barrier(6)
    results: list[str] = []

    def go(sent_by: Literal["ai", "setter"]) -> None:
        barrier.wait()
        results.append(
            send_draft(db_url, draft_id, Repliers(db_url, SETTINGS), sent_by=sent_by).status
        )

    threads = [threading.Thread(target=go, args=("ai" if i % 2 else "setter",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already_handled"] * 5 + ["sent"]
    assert len(httpserver.log) == 1
    assert len(outbound(db_url)) == 1


def test_platform_5xx_leaves_an_unknown_send_never_retried(
    httpserver: HTTPServer, db_url: str
) -> None:
    httpserver.expect_request("/api/replies/4242/reply").respond_with_data("boom", status=502)
    draft_id = prepared_draft(db_url, httpserver)
    assert send_draft(db_url, draft_id, Repliers(db_url, SETTINGS)).status == "unknown"
    assert send_draft(db_url, draft_id, Repliers(db_url, SETTINGS)).status == "already_handled"
    assert len(httpserver.log) == 1
    (row,) = outbound(db_url)
    assert row.delivery_status == "unknown"


def test_platform_refusal_releases_the_claim(httpserver: HTTPServer, db_url: str) -> None:
    answers = iter([422, 200])

    def handler(_req: Request) -> Response:
        status = next(answers)
        return Response(
            json.dumps({"data": {"reply": {"id": 8}}}),
            status=status,
            content_type="application/json",
        )

    httpserver.expect_request("/api/replies/4242/reply").respond_with_handler(handler)
    draft_id = prepared_draft(db_url, httpserver)
    first = send_draft(db_url, draft_id, Repliers(db_url, SETTINGS))
    assert (first.status, first.retryable) == ("not_sent", False)
    assert outbound(db_url) == []
    assert (
        send_draft(db_url, draft_id, Repliers(db_url, SETTINGS), sent_by="setter").status == "sent"
    )
    (row,) = outbound(db_url)
    assert row.sent_by == "setter"


def test_skip_rules_are_rechecked_just_before_sending(httpserver: HTTPServer, db_url: str) -> None:
    draft_id = prepared_draft(db_url, httpserver)
    with session_scope(db_url) as session:
        draft = session.get_one(AIDraft, draft_id)
        session.get_one(Lead, draft.lead_id).ai_paused = True
    result = send_draft(db_url, draft_id, Repliers(db_url, SETTINGS))
    assert result.status == "skipped" and "took the lead over" in result.reason
    assert httpserver.log == []
    with session_scope(db_url) as session:
        assert session.get_one(AIDraft, draft_id).status == "pending"
        reasons = session.execute(select(AutoSendDecision.reason)).scalars().all()
        assert any("re-checked before sending" in r for r in reasons)


def test_missing_credentials_send_nothing(httpserver: HTTPServer, db_url: str) -> None:
    draft_id = prepared_draft(db_url, httpserver)
    no_key = Repliers(db_url, load_settings({}))
    result = send_draft(db_url, draft_id, no_key)
    assert result.status == "not_sent" and "REPLYLINE_SECRET_KEY" in result.reason
    assert outbound(db_url) == []
