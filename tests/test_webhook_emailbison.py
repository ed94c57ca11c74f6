"""The EmailBison webhook over real HTTP: every event type, idempotency, the order of checks."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from sender_service.db.engine import session_scope
from sender_service.db.models import (
    CampaignModeChange,
    EmailCampaign,
    Job,
    Lead,
    Message,
    WebhookDelivery,
)
from tests import emailbison_payloads as eb
from tests.service import Service

Workspace = tuple[uuid.UUID, str]


def post(service: Service, ws: Workspace, payload: Any) -> tuple[int, dict[str, Any]]:
    return service.post_json(
        f"/webhooks/emailbison/{ws[0]}", payload, {"X-Replyline-Secret": ws[1]}
    )


def count(db_url: str, model: Any) -> int:
    with session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def one_message(db_url: str) -> Message:
    with session_scope(db_url) as session:
        return session.execute(select(Message)).scalar_one()


def test_lead_replied_stores_lead_campaign_reply_and_job(db_url, service, workspace):
    status, body = post(service, workspace, eb.lead_replied())
    assert status == 202
    assert body["status"] == "accepted"
    with session_scope(db_url) as session:
        message = session.execute(select(Message)).scalar_one()
        assert str(message.id) == body["message_id"]
        assert (message.direction, message.sent_by, message.source, message.external_id) == (
            "inbound",
            None,
            "emailbison_reply",
            "9001",
        )
        assert message.body == "Sounds interesting, can we talk Tuesday?"
        assert message.subject == "Re: quick question"
        assert message.occurred_at.isoformat() == "2025-03-04T15:20:00+00:00"
        assert message.platform_tag is None
        assert message.thread_ref == {
            "reply_id": "9001",
            "reply_uuid": "uuid-9001",
            "sender_email_id": "12",
            "sender_email": "alex@agency-mail.com",
            "lead_email": "dana@prospect.io",
        }
        lead = session.execute(select(Lead)).scalar_one()
        assert (lead.external_id, lead.email, lead.industry, lead.headcount) == (
            "501",
            "dana@prospect.io",
            "SaaS",
            "51-200",
        )
        campaign = session.execute(select(EmailCampaign)).scalar_one()
        assert (campaign.external_id, campaign.name, campaign.response_mode) == (
            "77",
            "Spring push",
            "SETTER_MANAGED",
        )
        assert message.lead_id == lead.id and message.email_campaign_id == campaign.id
        assert lead.email_campaign_id == campaign.id
        history = session.execute(select(CampaignModeChange)).scalar_one()
        assert history.reason == "created"
        job = session.execute(select(Job)).scalar_one()
        assert (job.kind, job.status, job.payload) == (
            "classify_reply",
            "queued",
            {"message_id": body["message_id"], "auto_answer": True},
        )


def test_lead_interested_is_a_hint_on_the_same_reply(db_url, service, workspace):
    assert post(service, workspace, eb.lead_replied())[0] == 202
    status, body = post(service, workspace, eb.lead_replied(event_type="LEAD_INTERESTED"))
    assert (status, body) == (200, {"status": "duplicate"})
    assert one_message(db_url).platform_tag == "LEAD_INTERESTED"
    assert count(db_url, Job) == 1


def test_lead_interested_first_keeps_its_tag(db_url, service, workspace):
    assert post(service, workspace, eb.lead_replied(event_type="LEAD_INTERESTED"))[0] == 202
    assert post(service, workspace, eb.lead_replied())[0] == 200
    assert one_message(db_url).platform_tag == "LEAD_INTERESTED"


def test_untracked_reply_is_matched_by_email_and_never_auto_answered(db_url, service, workspace):
    assert post(service, workspace, eb.email_sent())[0] == 202
    status, body = post(service, workspace, eb.untracked(sender="DANA@prospect.io"))
    assert status == 202
    with session_scope(db_url) as session:
        message = session.get(Message, uuid.UUID(body["message_id"]))
        lead = session.execute(select(Lead)).scalar_one()
        assert message is not None
        assert message.lead_id == lead.id
        assert message.email_campaign_id == lead.email_campaign_id
        assert message.thread_ref["untracked"] is True
        job = session.execute(select(Job)).scalar_one()
        assert job.payload["auto_answer"] is False


def test_untracked_reply_without_a_known_lead_is_stored_unmatched(db_url, service, workspace):
    status, body = post(service, workspace, eb.untracked(sender="stranger@elsewhere.com"))
    assert status == 202
    message = one_message(db_url)
    assert message.lead_id is None and message.email_campaign_id is None
    assert count(db_url, Lead) == 0


def test_email_sent_is_the_campaigns_outbound_email(db_url, service, workspace):
    assert post(service, workspace, eb.email_sent(9001))[0] == 202
    # A sent email and a reply may share a number: different id spaces, two rows.
    assert post(service, workspace, eb.lead_replied(9001))[0] == 202
    with session_scope(db_url) as session:
        sent = session.execute(select(Message).where(Message.direction == "outbound")).scalar_one()
        assert (sent.sent_by, sent.source, sent.external_id, sent.delivery_status) == (
            "campaign",
            "emailbison_sent_email",
            "9001",
            "sent",
        )
        assert sent.to_address == "dana@prospect.io"
        assert sent.from_address == "alex@agency-mail.com"
    assert count(db_url, Job) == 1  # only the inbound reply is classified


def test_manual_email_sent_is_a_setters_outbound(db_url, service, workspace):
    assert post(service, workspace, eb.manual_sent())[0] == 202
    message = one_message(db_url)
    assert (message.direction, message.sent_by, message.source) == (
        "outbound",
        "setter",
        "emailbison_reply",
    )
    assert message.body == "Tuesday 10am works, invite sent."
    assert count(db_url, Job) == 0


@pytest.mark.parametrize(
    ("event_type", "column"), [("LEAD_UNSUBSCRIBED", "opted_out"), ("EMAIL_BOUNCED", "bounced_at")]
)
def test_unsubscribe_and_bounce_are_recorded_on_the_lead(
    db_url, service, workspace, event_type, column
):
    status, body = post(service, workspace, eb.lead_only(event_type))
    assert status == 202
    with session_scope(db_url) as session:
        lead = session.execute(select(Lead)).scalar_one()
        assert str(lead.id) == body["lead_id"]
        assert getattr(lead, column)
    assert post(service, workspace, eb.lead_only(event_type)) == (200, {"status": "duplicate"})
    assert count(db_url, Message) == 0


def test_other_event_types_are_ignored(db_url, service, workspace):
    assert post(service, workspace, eb.event("EMAIL_OPENED", lead=eb.lead())) == (
        200,
        {"status": "ignored"},
    )
    assert count(db_url, Lead) == count(db_url, Message) == 0


def test_sequential_duplicate_is_acknowledged_once(db_url, service, workspace):
    assert post(service, workspace, eb.lead_replied())[0] == 202
    assert post(service, workspace, eb.lead_replied()) == (200, {"status": "duplicate"})
    assert count(db_url, Message) == count(db_url, Job) == count(db_url, Lead) == 1


def test_ten_concurrent_identical_deliveries_give_one_row(db_url, service, workspace):
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def deliver() -> None:
        barrier.wait()
        statuses.append(post(service, workspace, eb.lead_replied())[0])

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 9 + [202]
    assert count(db_url, Message) == count(db_url, Job) == count(db_url, Lead) == 1
    assert count(db_url, EmailCampaign) == count(db_url, CampaignModeChange) == 1


@pytest.mark.parametrize("place", ["bearer", "header", "query"])
def test_secret_is_accepted_from_each_place(db_url, service, workspace, place):
    ws_id, secret = workspace
    path, headers = f"/webhooks/emailbison/{ws_id}", {}
    if place == "bearer":
        headers["Authorization"] = f"Bearer {secret}"
    elif place == "header":
        headers["X-Replyline-Secret"] = secret
    else:
        path += f"?secret={secret}"
    assert service.post_json(path, eb.lead_replied(), headers)[0] == 202


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Replyline-Secret": "wrong"}, {"Authorization": "Bearer wrong"}],
)
def test_missing_or_wrong_secret_is_401_with_body_unread(db_url, service, workspace, headers):
    status, body = service.post_json(
        f"/webhooks/emailbison/{workspace[0]}", eb.lead_replied(), headers
    )
    assert (status, body) == (401, {"error": "unauthorized"})
    assert service.bytes_read == [0]
    assert count(db_url, Message) == 0


@pytest.mark.parametrize("ws_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_unknown_workspace_is_401(service, workspace, ws_id):
    status, _ = service.post_json(
        f"/webhooks/emailbison/{ws_id}", eb.lead_replied(), {"X-Replyline-Secret": workspace[1]}
    )
    assert status == 401
    assert service.bytes_read == [0]


def test_another_workspaces_secret_is_401(db_url, service, workspace):
    from sender_service.workspaces import create_workspace

    with session_scope(db_url) as session:
        other, _ = create_workspace(session, name="Other", booking_provider="CALENDLY")
        other_id = other.id
    status, _ = post(service, (other_id, workspace[1]), eb.lead_replied())
    assert status == 401


def raw_exchange(host: str, port: int, head: bytes, body_part: bytes) -> tuple[bytes, float]:
    """Send a request head and part of a body on a raw socket; the response and its delay."""
    with socket.create_connection((host, port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(head + body_part)
        response = b""
        while b"\r\n\r\n" not in response or not response.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            response += chunk
        return response, time.monotonic() - started


def ten_mb_head(ws_id: uuid.UUID, host: str) -> bytes:
    return (
        f"POST /webhooks/emailbison/{ws_id} HTTP/1.1\r\n"
        f"Host: {host}\r\nContent-Type: application/json\r\n"
        f"X-Replyline-Secret: wrong\r\nContent-Length: {10 * 1024 * 1024}\r\n\r\n"
    ).encode()


def test_wrong_secret_with_10_mb_announced_is_401_promptly(service, workspace):
    head = ten_mb_head(workspace[0], service.host)
    response, elapsed = raw_exchange(service.host, service.port, head, b"{" + b" " * 4096)
    assert response.startswith(b"HTTP/1.1 401"), response[:200]
    assert b"connection: close" in response.lower()
    assert elapsed < 2
    assert service.bytes_read == [0]


def test_two_mib_body_with_the_right_secret_is_413(db_url, service, workspace):
    big = eb.lead_replied()
    big["data"]["reply"]["text_body"] = "x" * (2 * 1024 * 1024)
    status, body = post(service, workspace, big)
    assert status == 413
    assert "body larger than" in body["error"]
    assert service.bytes_read == [0]  # refused on Content-Length, nothing read
    assert count(db_url, Message) == 0


def test_chunked_body_over_the_cap_is_413_while_streaming(db_url, service, workspace):
    def chunks() -> Iterator[bytes]:
        for _ in range(32):  # 32 x 64 KiB = 2 MiB, no Content-Length
            yield b" " * 65536

    status, _ = service.request(
        "POST",
        f"/webhooks/emailbison/{workspace[0]}",
        chunks(),
        {"X-Replyline-Secret": workspace[1]},
    )
    assert status == 413
    assert 1024 * 1024 < service.bytes_read[0] <= 1024 * 1024 + 65536
    assert count(db_url, Message) == 0


def test_chunked_body_under_the_cap_is_accepted(service, workspace):
    import json

    payload = json.dumps(eb.lead_replied()).encode()
    status, _ = service.request(
        "POST",
        f"/webhooks/emailbison/{workspace[0]}",
        iter([payload[:100], payload[100:]]),
        {"X-Replyline-Secret": workspace[1]},
    )
    assert status == 202


def test_malformed_json_is_400_and_journaled(db_url, service, workspace):
    status, body = service.request(
        "POST",
        f"/webhooks/emailbison/{workspace[0]}",
        b'{"event": ',
        {"X-Replyline-Secret": workspace[1]},
    )
    assert status == 400
    assert body["error"] == "body is not valid JSON"
    with session_scope(db_url) as session:
        row = session.execute(select(WebhookDelivery)).scalar_one()
        assert (row.outcome, row.error, row.body) == (
            "rejected",
            "body is not valid JSON",
            b'{"event": ',
        )
        # The secret that authenticated it is never journaled.
        assert workspace[1] not in json.dumps(row.headers)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p["data"]["reply"].pop("id"), "data.reply.id"),
        (lambda p: p["data"].pop("lead"), "data.lead"),
        (lambda p: p.pop("event"), "event"),
        (
            lambda p: p["data"]["reply"].update(date_received="yesterday"),
            "data.reply.date_received",
        ),
    ],
)
def test_unusable_json_is_held_naming_the_field(db_url, service, workspace, mutate, field):
    """Valid JSON a reader cannot use is answered 202 held (a 4xx makes the platform give up)
    and kept in the journal with the error and the field, for a replay after a fix."""
    payload = eb.lead_replied()
    mutate(payload)
    status, body = post(service, workspace, payload)
    assert (status, body) == (202, {"status": "held"})
    assert count(db_url, Message) == 0
    with session_scope(db_url) as session:
        row = session.execute(select(WebhookDelivery)).scalar_one()
        assert (row.provider, row.outcome, row.error_field) == ("emailbison", "held", field)
        assert row.error and field in row.error
        assert json.loads(row.body) == payload


CAMPAIGN_HTML = (
    "<div>Hi Dana,</div><div><br></div><p>We help <b>SaaS</b> teams &amp; agencies."
    "<br>Worth a chat?</p><style>p { color: red }</style>"
)


def test_a_campaign_email_sent_as_html_is_stored_as_text_and_keeps_its_html(
    db_url, service, workspace
):
    payload = eb.email_sent(9002)
    payload["data"]["scheduled_email"]["email_body"] = CAMPAIGN_HTML
    assert post(service, workspace, payload)[0] == 202
    message = one_message(db_url)
    # The text the AI and the exports read: paragraphs and line breaks kept, markup gone.
    assert message.body == "Hi Dana,\n\nWe help SaaS teams & agencies.\nWorth a chat?"
    assert message.body_html == CAMPAIGN_HTML


def test_a_reply_with_only_an_html_body_is_read_as_text(db_url, service, workspace):
    payload = eb.lead_replied(9003)
    payload["data"]["reply"]["text_body"] = None
    payload["data"]["reply"]["html_body"] = "<p>Sounds good,</p><p>Tuesday?<br>Dana</p>"
    assert post(service, workspace, payload)[0] == 202
    message = one_message(db_url)
    assert (message.body, message.body_html) == (
        "Sounds good,\n\nTuesday?\nDana",
        "<p>Sounds good,</p><p>Tuesday?<br>Dana</p>",
    )


def test_a_plain_text_campaign_email_stays_as_it_is(db_url, service, workspace):
    payload = eb.email_sent(9004)
    payload["data"]["scheduled_email"]["email_body"] = "Hi Dana,\nsee <https://acme.test>"
    assert post(service, workspace, payload)[0] == 202
    message = one_message(db_url)
    assert (message.body, message.body_html) == ("Hi Dana,\nsee <https://acme.test>", None)


def test_an_address_too_long_to_be_one_is_held_naming_the_field(db_url, service, workspace):
    payload = eb.lead_replied(9005)
    payload["data"]["lead"]["email"] = "d" * 3000 + "@prospect.io"  # over the index row limit
    status, body = post(service, workspace, payload)
    assert (status, body) == (202, {"status": "held"})
    assert count(db_url, Message) == 0 and count(db_url, Lead) == 0
    with session_scope(db_url) as session:
        row = session.execute(select(WebhookDelivery)).scalar_one()
        assert (row.outcome, row.error_field) == ("held", "data.lead.email")


def test_an_inbox_send_is_credited_to_the_member_whose_mailbox_sent_it(db_url, service, workspace):
    from sender_service.db.models import Membership
    from sender_service.users import add_member

    with session_scope(db_url) as session:
        claimed = add_member(session, "alex@agency.test", workspace[0], "setter")
        claimed[1].sending_mailbox = str(eb.SENDER["email"]).upper()  # any case matches
        add_member(session, "other@agency.test", workspace[0], "setter")
        user_id = claimed[0].id
    assert post(service, workspace, eb.manual_sent())[0] == 202
    assert one_message(db_url).sent_by_user_id == user_id
    with session_scope(db_url) as session:
        session.get_one(Membership, claimed[1].id).sending_mailbox = None
    assert post(service, workspace, eb.manual_sent(9501))[0] == 202
    with session_scope(db_url) as session:
        later = session.execute(select(Message).where(Message.external_id == "9501")).scalar_one()
        assert later.sent_by_user_id is None  # no member claims the mailbox: unknown person
