"""Smartlead and Instantly end to end: webhooks over HTTP → the real worker → the platform's
real client on a loopback stub (LLM and Slack stubbed as everywhere else).

Each platform, like EmailBison: a positive reply in an AI_AUTO_SEND campaign is answered once
in its thread with the platform's documented request; a redelivery is one row; an unsubscribe
opts the lead out; the platform's label tags the reply; a send whose answer was lost is found
in the thread, never sent twice; campaign sync upserts and archives.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from sender_service.api_tokens import issue_token
from sender_service.credentials import cipher, store_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import AIDraft, EmailCampaign, Job, Lead, Message, WebhookDelivery
from sender_service.jobs.worker import Worker
from sender_service.services import Services
from sender_service.users import add_member
from sender_service.workspaces import create_workspace
from tests import instantly_payloads as inst
from tests import smartlead_payloads as sl
from tests.cli_helpers import ok_json, run
from tests.platform_stubs import INSTANTLY_KEY, SMARTLEAD_KEY, PlatformStubs
from tests.service import Service, run_service
from tests.stubs import Stubs

PLATFORMS = ("smartlead", "instantly")


@dataclass
class Setup:
    platform: str
    workspace_id: uuid.UUID
    secret: str
    stubs: Stubs
    platforms: PlatformStubs
    service: Service
    db_url: str

    def post(
        self, payload: dict[str, Any], platform: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        return self.service.post_json(
            f"/webhooks/{platform or self.platform}/{self.workspace_id}",
            payload,
            {"X-Replyline-Secret": self.secret},
        )

    def drain(self) -> None:
        Worker(self.db_url, services=Services(self.db_url, self.stubs.settings())).run(drain=True)
        with session_scope(self.db_url) as session:
            stuck = session.execute(
                select(Job.kind, Job.last_error).where(Job.status != "done")
            ).all()
        assert stuck == []

    def reply(self) -> dict[str, Any]:
        return sl.email_reply() if self.platform == "smartlead" else inst.reply_received()

    def sends(self) -> list[Any]:
        """The reply requests the platform received."""
        fragment = "/reply-email-thread" if self.platform == "smartlead" else "/emails/reply"
        return self.platforms.calls(fragment)


@pytest.fixture(params=PLATFORMS)
def setup(request: pytest.FixtureRequest, db_url: str, httpserver: HTTPServer) -> Iterator[Setup]:
    """A Calendly workspace on the platform, with its API key; campaign auto-sends."""
    platform: str = request.param
    stubs, platforms = Stubs(httpserver), PlatformStubs(httpserver)
    settings = stubs.settings()
    url = platforms.smartlead_url if platform == "smartlead" else platforms.instantly_url
    campaign = str(sl.CAMPAIGN_ID) if platform == "smartlead" else inst.CAMPAIGN_ID
    with session_scope(db_url) as session:
        ws, secret = create_workspace(
            session,
            name="Acme",
            booking_provider="CALENDLY",
            calendly_scheduling_url="https://calendly.com/acme/intro",
            email_platform=platform,
            email_platform_url=url,
            review_slack_email="jon@acme.test",
        )
        key = SMARTLEAD_KEY if platform == "smartlead" else INSTANTLY_KEY
        store_secret(session, cipher(settings), ws.id, "email_platform_api_key", key)
        session.add(
            EmailCampaign(
                workspace_id=ws.id,
                external_id=campaign,
                name="Spring push",
                response_mode="AI_AUTO_SEND",
            )
        )
    with run_service(db_url, settings) as service:
        yield Setup(platform, ws.id, secret, stubs, platforms, service, db_url)


def rows(db_url: str, model: Any, *where: Any) -> list[Any]:
    with session_scope(db_url) as session:
        return list(session.execute(select(model).where(*where)).scalars())


def test_a_positive_reply_is_answered_once_in_the_thread(setup: Setup) -> None:
    status, answer = setup.post(setup.reply())
    assert (status, answer["status"]) == (202, "accepted")
    setup.drain()

    (sent,) = rows(setup.db_url, Message, Message.direction == "outbound")
    (draft,) = rows(setup.db_url, AIDraft)
    assert (sent.sent_by, sent.delivery_status, sent.ai_draft_id) == ("ai", "sent", draft.id)
    assert draft.status == "sent" and "Hi Dana" in sent.body
    (call,) = setup.sends()
    body = json.loads(call.get_data())
    if setup.platform == "smartlead":
        # POST /api/v1/campaigns/{campaign_id}/reply-email-thread?api_key=...
        assert call.path == f"/sl/api/v1/campaigns/{sl.CAMPAIGN_ID}/reply-email-thread"
        assert call.args["api_key"] == SMARTLEAD_KEY
        assert body["email_stats_id"] == "a891fe37-c45d-21e8"
        assert body["reply_message_id"] == "<CAJZ-reply-1@mail.gmail.com>"
        assert "Hi Dana" in body["email_body"] and "calendly.com/acme/intro" in body["email_body"]
        assert sent.external_id is None  # Smartlead answers no id for the new email
        # The lead replied: Smartlead is asked to pause the rest of its sequence.
        (pause,) = setup.platforms.calls("/pause")
        assert pause.path == f"/sl/api/v1/campaigns/{sl.CAMPAIGN_ID}/leads/{sl.LEAD_ID}/pause"
    else:
        # POST /api/v2/emails/reply, Bearer key, from the mailbox the reply reached.
        assert call.headers["Authorization"] == f"Bearer {INSTANTLY_KEY}"
        assert body["reply_to_uuid"] == inst.reply_received()["email_id"]
        assert body["eaccount"] == inst.MAILBOX
        assert body["subject"] == "Re: quick question"
        assert "Hi Dana" in body["body"]["text"] and "Hi Dana" in body["body"]["html"]
        assert sent.external_id == setup.platforms.instantly_accepted[0]["id"]
        assert setup.platforms.calls("/pause") == []  # Instantly's API has no per-lead stop

    # The platform redelivers the reply: still one reply stored, nothing sent again.
    status, answer = setup.post(setup.reply())
    assert (status, answer["status"]) == (200, "duplicate")
    setup.drain()
    assert len(rows(setup.db_url, Message, Message.direction == "inbound")) == 1
    assert len(setup.sends()) == 1


def test_a_duplicate_delivery_is_one_row(setup: Setup) -> None:
    answers = [setup.post(setup.reply()) for _ in range(3)]
    assert [a[1]["status"] for a in answers] == ["accepted", "duplicate", "duplicate"]
    with ThreadPoolExecutor(10) as pool:  # and ten more at once
        at_once = list(pool.map(lambda _: setup.post(setup.reply())[1]["status"], range(10)))
    assert at_once == ["duplicate"] * 10
    (reply,) = rows(setup.db_url, Message)
    (lead,) = rows(setup.db_url, Lead)
    assert (reply.lead_id, lead.email, lead.first_name) == (lead.id, "dana@prospect.io", "Dana")
    assert reply.body == "Sounds interesting, can we talk Tuesday?"
    journal = rows(setup.db_url, WebhookDelivery)
    assert sorted(d.outcome for d in journal) == ["duplicate"] * 12 + ["stored"]
    assert {d.provider for d in journal} == {setup.platform}


def test_an_unsubscribe_opts_the_lead_out(setup: Setup) -> None:
    setup.post(setup.reply())
    payload = (
        sl.lead_unsubscribed()
        if setup.platform == "smartlead"
        else inst.lead_event("lead_unsubscribed")
    )
    status, answer = setup.post(payload)
    assert (status, answer["status"]) == (202, "accepted")
    (lead,) = rows(setup.db_url, Lead)
    assert lead.opted_out
    setup.drain()  # the reply's draft is never sent to an opted-out lead
    assert setup.sends() == []


def test_a_bounce_marks_the_lead_bounced(setup: Setup) -> None:
    setup.post(setup.reply())
    payload = (
        sl.email_bounce() if setup.platform == "smartlead" else inst.lead_event("email_bounced")
    )
    assert setup.post(payload)[1]["status"] == "accepted"
    (lead,) = rows(setup.db_url, Lead)
    assert lead.opted_out and lead.bounced_at is not None


def test_the_platforms_label_tags_the_reply_and_is_not_our_classification(setup: Setup) -> None:
    setup.post(setup.reply())
    label = (
        sl.lead_category_updated("Interested")
        if setup.platform == "smartlead"
        else inst.lead_event("lead_interested")
    )
    assert setup.post(label)[1]["status"] == "accepted"
    assert setup.post(label)[1]["status"] == "duplicate"
    (reply,) = rows(setup.db_url, Message)
    assert reply.platform_tag == (
        "Interested" if setup.platform == "smartlead" else "lead_interested"
    )
    assert reply.sentiment is None  # ours comes from the classifier only


def test_the_campaigns_own_send_is_stored_as_sent_by_the_campaign(setup: Setup) -> None:
    payload = sl.email_sent() if setup.platform == "smartlead" else inst.email_sent()
    status, answer = setup.post(payload)
    assert (status, answer["status"]) == (202, "accepted")
    (sent,) = rows(setup.db_url, Message)
    assert (sent.direction, sent.sent_by, sent.to_address) == (
        "outbound",
        "campaign",
        sl.LEAD_EMAIL,
    )
    assert sent.body.startswith("Hi Dana,") and "quick" in sent.body
    assert setup.post(payload)[1]["status"] == "duplicate"


def test_a_send_whose_answer_was_lost_is_found_in_the_thread_not_resent(setup: Setup) -> None:
    setup.platforms.lose_answers = True
    setup.post(setup.reply())
    setup.drain()  # the send: unknown; its reconciliation finds it in the lead's thread
    (sent,) = rows(setup.db_url, Message, Message.direction == "outbound")
    assert sent.delivery_status == "sent"
    accepted = (
        setup.platforms.smartlead_accepted
        if setup.platform == "smartlead"
        else setup.platforms.instantly_accepted
    )
    assert len(setup.sends()) == 1
    key = "message_id" if setup.platform == "smartlead" else "id"
    assert sent.external_id == accepted[0][key]
    (draft,) = rows(setup.db_url, AIDraft)
    assert draft.status == "sent"


def test_a_late_delivery_from_the_platform_the_workspace_left_is_kept_until_it_switches_back(
    setup: Setup, cli_runner: CliRunner
) -> None:
    other = "instantly" if setup.platform == "smartlead" else "smartlead"
    late_reply = sl.email_reply() if other == "smartlead" else inst.reply_received()
    status, answer = setup.post(late_reply, platform=other)
    assert (status, answer["status"]) == (202, "held")  # the provider does not retry for ever
    (held,) = rows(setup.db_url, WebhookDelivery)
    assert (held.provider, held.outcome) == (other, "held")
    assert f"email platform is {setup.platform}, not {other}" in (held.error or "")
    assert rows(setup.db_url, Message) == []  # its ids never mix with the current platform's

    def replay() -> None:
        result = run(cli_runner, setup.db_url, "webhooks", "replay", "--held")
        assert result.exit_code == 0, result.stderr

    replay()  # still on the other platform: still held, nothing stored
    assert [d.outcome for d in rows(setup.db_url, WebhookDelivery)] == ["held"]
    assert rows(setup.db_url, Message) == []

    result = run(
        cli_runner, setup.db_url, "workspace", "update", "--workspace", str(setup.workspace_id),
        "--email-platform", other,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    replay()
    assert [d.outcome for d in rows(setup.db_url, WebhookDelivery)] == ["stored"]
    (stored,) = rows(setup.db_url, Message)
    assert (stored.direction, stored.source) == ("inbound", other)


def test_campaign_sync_upserts_and_archives(setup: Setup, cli_runner: CliRunner) -> None:
    if setup.platform == "smartlead":
        setup.platforms.smartlead_campaigns[:] = [
            {"id": 9181, "user_id": 7, "name": "Spring push (renamed)", "status": "ACTIVE"},
            {"id": 9182, "user_id": 7, "name": "Autumn push", "status": "DRAFTED"},
            {"id": 9183, "user_id": 7, "name": "Winter push", "status": "PAUSED"},
        ]
    else:
        setup.platforms.instantly_campaigns[:] = [
            {"id": inst.CAMPAIGN_ID, "name": "Spring push (renamed)", "status": 1},
            {"id": "019ffad2-0000-0000-0000-000000000002", "name": "Autumn push", "status": 0},
            {"id": "019ffad2-0000-0000-0000-000000000003", "name": "Winter push", "status": 2},
        ]
    with session_scope(setup.db_url) as session:
        session.add(EmailCampaign(workspace_id=setup.workspace_id, external_id="gone", name="Old"))
    env = setup.stubs.env()
    counts = ok_json(
        run(
            cli_runner,
            setup.db_url,
            "campaigns",
            "sync",
            "--workspace",
            str(setup.workspace_id),
            "--json",
            **env,
        )
    )
    text = run(
        cli_runner, setup.db_url, "campaigns", "sync", "--workspace", str(setup.workspace_id), **env
    ).stdout
    assert text.strip() == "listed 3, created 0, renamed 0, archived 0, unarchived 0, unchanged 3"
    assert counts == {
        "listed": 3,
        "created": 2,
        "renamed": 1,
        "archived": 1,
        "unarchived": 0,
        "unchanged": 0,
    }
    campaigns = {c.name: c for c in rows(setup.db_url, EmailCampaign)}
    assert campaigns["Old"].archived
    assert campaigns["Spring push (renamed)"].response_mode == "AI_AUTO_SEND"  # settings kept
    new = campaigns["Autumn push"]
    assert (new.response_mode, float(new.auto_send_confidence_threshold)) == ("SETTER_MANAGED", 0.9)


def test_a_reply_without_its_id_is_held_naming_the_field(setup: Setup) -> None:
    payload = setup.reply()
    if setup.platform == "smartlead":
        payload["reply_message"]["message_id"] = None
        payload["message_id"] = ""
        field = "reply_message.message_id"
    else:
        del payload["email_id"]
        field = "email_id"
    status, answer = setup.post(payload)
    assert (status, answer) == (202, {"status": "held"})
    (held,) = rows(setup.db_url, WebhookDelivery)
    assert (held.outcome, held.error_field, held.provider) == ("held", field, setup.platform)
    assert rows(setup.db_url, Message) == []


def test_webhook_urls_name_the_workspaces_own_platform(setup: Setup, cli_runner: CliRunner) -> None:
    env = {**setup.stubs.env(), "PUBLIC_BASE_URL": "https://hooks.acme.test"}
    args = ("webhooks", "urls", "--workspace", str(setup.workspace_id))
    urls = ok_json(run(cli_runner, setup.db_url, *args, "--json", **env))["urls"]
    assert urls[setup.platform] == (
        f"https://hooks.acme.test/webhooks/{setup.platform}/{setup.workspace_id}"
        "?secret=<WEBHOOK_SECRET>"
    )
    assert "emailbison" not in urls
    text = run(cli_runner, setup.db_url, *args, **env).stdout
    assert text.splitlines()[3].split()[0] == setup.platform.capitalize()


def test_a_setter_answers_through_replyline_in_the_platforms_thread(setup: Setup) -> None:
    """Neither platform reports a person's reply from its own inbox; a setter's reply sent
    through Replyline is the setter's, in the same thread, through the platform's API."""
    setup.stubs.llm["auto_send_evaluation"] = {
        "confidence": 0.6,
        "safe_to_send": True,
        "reason": "asks about pricing",
    }
    setup.post(setup.reply())
    setup.drain()
    assert setup.sends() == []  # below the threshold: waits for a person
    (draft,) = rows(setup.db_url, AIDraft)
    with session_scope(setup.db_url) as session:
        user = add_member(session, "sam@acme.test", setup.workspace_id, "setter")[0]
        token = issue_token(session, user)[1]
    status, answer = setup.service.request(
        "POST",
        f"/api/drafts/{draft.id}/send",
        json.dumps({"body": "Hi Dana, pricing is per meeting held. Tuesday at 10?"}).encode(),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert (status, answer["status"]) == (200, "sent")
    (sent,) = rows(setup.db_url, Message, Message.direction == "outbound")
    assert (sent.sent_by, sent.delivery_status) == ("setter", "sent")
    (call,) = setup.sends()
    body = json.loads(call.get_data())
    text = body["email_body"] if setup.platform == "smartlead" else body["body"]["text"]
    assert "pricing is per meeting held" in text


@pytest.mark.parametrize("setup", ["smartlead"], indirect=True)
def test_a_smartlead_untracked_reply_is_matched_by_sender_and_never_auto_answered(
    setup: Setup,
) -> None:
    setup.post(sl.email_reply())
    setup.drain()
    sends = len(setup.sends())
    status, answer = setup.post(sl.untracked_reply())
    assert (status, answer["status"]) == (202, "accepted")
    setup.drain()
    (untracked,) = rows(setup.db_url, Message, Message.thread_ref["untracked"].as_boolean())
    (lead,) = rows(setup.db_url, Lead)
    assert (untracked.lead_id, untracked.from_address) == (lead.id, sl.LEAD_EMAIL)
    assert untracked.sentiment == "Interested"  # classified like any reply
    assert len(setup.sends()) == sends  # but never answered by the AI


@pytest.mark.parametrize("setup", ["smartlead"], indirect=True)
def test_a_category_naming_a_reply_we_do_not_hold_tags_the_latest_reply(setup: Setup) -> None:
    assert setup.post(sl.lead_category_updated("Interested"))[1]["status"] == "ignored"
    setup.post(sl.email_reply())
    label = sl.lead_category_updated("Meeting Request", reply_message_id="<not-ours@x>")
    assert setup.post(label)[1]["status"] == "accepted"
    (reply,) = rows(setup.db_url, Message)
    assert reply.platform_tag == "Meeting Request"
    ignored = [d for d in rows(setup.db_url, WebhookDelivery) if d.outcome == "ignored"]
    assert [d.error for d in ignored] == ["no reply of the lead to tag"]
