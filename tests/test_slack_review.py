"""The review DM through the real slack_sdk client against a loopback Slack stub."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from slack_sdk import WebClient
from werkzeug import Request, Response

from sender_service.db.engine import session_scope
from sender_service.db.models import Notification
from sender_service.notify import slack
from sender_service.notify.review import ReviewRequest, deliver, marker_for
from sender_service.settings import load_settings
from sender_service.workspaces import create_workspace

REQUEST = ReviewRequest(
    lead_name="Dana Ng",
    lead_email="dana@initech.test",
    campaign_name="Spring push",
    inbound_text="What would this cost us for 3 seats?",
    draft_text="Hi Dana, happy to walk you through pricing: https://cal/x",
    confidence=0.55,
    reason="the lead asks about price",
    lead_url="http://localhost:8000/leads/123",
)


def client_for(server: HTTPServer) -> WebClient:
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": server.url_for("/api")}
    )
    return slack.make_client(settings)


def stub_slack(server: HTTPServer, history: list[dict[str, Any]] | None = None) -> None:
    server.expect_request("/api/users.lookupByEmail").respond_with_json(
        {"ok": True, "user": {"id": "U123"}}
    )
    server.expect_request("/api/conversations.open").respond_with_json(
        {"ok": True, "channel": {"id": "D456"}}
    )
    server.expect_request("/api/conversations.history").respond_with_json(
        {"ok": True, "messages": history or []}
    )
    server.expect_request("/api/chat.postMessage").respond_with_json(
        {"ok": True, "channel": "D456", "ts": "1700000000.000100"}
    )


def calls(server: HTTPServer, method: str) -> list[Request]:
    return [req for req, _ in server.log if req.path.endswith(method)]


def form(req: Request) -> dict[str, Any]:
    if req.is_json:
        return dict(req.get_json())
    return dict(req.form)


@pytest.fixture
def notification_id(db_url: str) -> uuid.UUID:
    with session_scope(db_url) as session:
        ws, _ = create_workspace(
            session, name="Acme", booking_provider="GHL", review_slack_email="jon@acme.test"
        )
        note = Notification(workspace_id=ws.id, kind="review", dedupe_key=f"review:{uuid.uuid4()}")
        session.add(note)
        session.flush()
        return note.id


def test_one_dm_with_everything_the_reviewer_needs(
    httpserver: HTTPServer, db_url: str, notification_id: uuid.UUID
) -> None:
    stub_slack(httpserver)
    client = client_for(httpserver)
    ts = deliver(db_url, client, notification_id, REQUEST)
    assert ts == "1700000000.000100"

    (lookup,) = calls(httpserver, "users.lookupByEmail")
    assert form(lookup)["email"] == "jon@acme.test"
    assert lookup.headers["Authorization"] == "Bearer xoxb-test"
    (post,) = calls(httpserver, "chat.postMessage")
    body = form(post)
    assert body["channel"] == "D456"
    blocks = json.dumps(body["blocks"])
    for expected in (
        "Dana Ng",
        "What would this cost us",
        "Hi Dana, happy to walk",
        "0.55",
        "the lead asks about price",
        "http://localhost:8000/leads/123",
    ):
        assert expected in blocks

    # Delivering again (a retried job) sends nothing more.
    assert deliver(db_url, client, notification_id, REQUEST) == ts
    assert len(calls(httpserver, "chat.postMessage")) == 1
    with session_scope(db_url) as session:
        note = session.get_one(Notification, notification_id)
        assert (note.status, note.slack_channel, note.attempts) == ("sent", "D456", 1)


def test_reviewer_id_is_cached(
    httpserver: HTTPServer, db_url: str, notification_id: uuid.UUID
) -> None:
    stub_slack(httpserver)
    client = client_for(httpserver)
    deliver(db_url, client, notification_id, REQUEST)
    with session_scope(db_url) as session:
        first = session.get_one(Notification, notification_id)
        second = Notification(workspace_id=first.workspace_id, kind="review", dedupe_key="review:2")
        session.add(second)
        session.flush()
        second_id = second.id
    deliver(db_url, client, second_id, REQUEST)
    assert len(calls(httpserver, "users.lookupByEmail")) == 1
    assert len(calls(httpserver, "chat.postMessage")) == 2


def test_an_attempt_that_died_after_posting_is_not_posted_twice(
    httpserver: HTTPServer, db_url: str, notification_id: uuid.UUID
) -> None:
    with session_scope(db_url) as session:
        note = session.get_one(Notification, notification_id)
        note.attempts = 1
        note.slack_channel = "D456"
        note.last_attempt_at = datetime.now(UTC) - timedelta(seconds=30)
    earlier_post = {
        "ts": "1699999999.000001",
        "text": f"Review needed ... {marker_for(notification_id)}",
    }
    stub_slack(httpserver, history=[earlier_post])
    assert deliver(db_url, client_for(httpserver), notification_id, REQUEST) == earlier_post["ts"]
    assert calls(httpserver, "chat.postMessage") == []


def test_rate_limit_is_honoured_then_sent(
    httpserver: HTTPServer, db_url: str, notification_id: uuid.UUID
) -> None:
    answers = iter([429, 200])

    def post(_req: Request) -> Response:
        if next(answers) == 429:
            return Response(
                '{"ok": false, "error": "ratelimited"}',
                status=429,
                headers={"Retry-After": "1"},
                content_type="application/json",
            )
        return Response(
            json.dumps({"ok": True, "ts": "1.2", "channel": "D456"}),
            content_type="application/json",
        )

    httpserver.expect_request("/api/chat.postMessage").respond_with_handler(post)
    stub_slack(httpserver)
    assert deliver(db_url, client_for(httpserver), notification_id, REQUEST) == "1.2"
    assert len(calls(httpserver, "chat.postMessage")) == 2


def test_slack_failure_is_an_error_and_nothing_is_marked_sent(
    httpserver: HTTPServer, db_url: str, notification_id: uuid.UUID
) -> None:
    httpserver.expect_request("/api/users.lookupByEmail").respond_with_json(
        {"ok": False, "error": "users_not_found"}
    )
    with pytest.raises(slack.SlackError, match="users_not_found"):
        deliver(db_url, client_for(httpserver), notification_id, REQUEST)
    with session_scope(db_url) as session:
        note = session.get_one(Notification, notification_id)
        assert note.status == "pending" and note.slack_ts is None


def test_missing_token_is_a_clear_error() -> None:
    with pytest.raises(slack.SlackError, match="SLACK_BOT_TOKEN"):
        slack.make_client(load_settings({}))
