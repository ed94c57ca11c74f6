"""The delivery journal end to end: held deliveries and their replay, Calendly's stale
signatures picked up by reconciliation, erasure and retention, the daily held post."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select, update
from werkzeug import Request, Response

from sender_service.booking import is_meeting_booked
from sender_service.credentials import cipher, store_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    BookingEvent,
    EmailCampaign,
    Job,
    Lead,
    Message,
    Notification,
    WebhookDelivery,
    Workspace,
)
from sender_service.ingest import journal
from sender_service.ingest.events import Event, PayloadError
from sender_service.ingest.journal_jobs import REPORT_HELD
from sender_service.ingest.platforms import READERS, Target
from sender_service.jobs import queue, schedule
from sender_service.jobs.worker import Worker
from sender_service.services import Services
from sender_service.settings import SettingsError, load_settings
from sender_service.workspaces import create_workspace
from tests import booking_payloads as bp
from tests import emailbison_payloads as eb
from tests.cli_helpers import SECRET_KEY, assert_refused, ok_json, run
from tests.service import Service, run_service
from tests.stubs import Stubs

SIGNING_KEY = "calendly-signing-key"


@pytest.fixture
def stubs(httpserver: HTTPServer) -> Stubs:
    stubs = Stubs(httpserver)
    stubs.secret_key = SECRET_KEY  # the CLI helper's key, so both read the same credentials
    return stubs


@pytest.fixture
def ws(db_url: str, stubs: Stubs) -> dict[str, Any]:
    """A Calendly workspace reporting to a Slack channel, with a known campaign."""
    settings = stubs.settings()
    with session_scope(db_url) as session:
        workspace, secret = create_workspace(
            session, name="Acme", booking_provider="CALENDLY", report_slack_channel="C-REPORTS"
        )
        for name, value in [("calendly_signing_key", SIGNING_KEY), ("calendly_api_token", "tok")]:
            store_secret(session, cipher(settings), workspace.id, name, value)
        session.add(EmailCampaign(workspace_id=workspace.id, external_id="77", name="Spring"))
        return {"id": workspace.id, "secret": secret, "settings": settings}


@pytest.fixture
def service(db_url: str, stubs: Stubs) -> Iterator[Service]:
    with run_service(db_url, stubs.settings()) as running:
        yield running


def post(service: Service, ws: dict[str, Any], payload: Any) -> tuple[int, dict[str, Any]]:
    # The secret in the query string, as platforms that cannot set headers send it.
    return service.post_json(f"/webhooks/emailbison/{ws['id']}?secret={ws['secret']}", payload)


def journal_rows(db_url: str) -> list[WebhookDelivery]:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(WebhookDelivery).order_by(WebhookDelivery.received_at)
        ).scalars()
        out = list(rows)
        for row in out:
            session.expunge(row)
        return out


def count(db_url: str, model: Any) -> int:
    with session_scope(db_url) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def drain(db_url: str, stubs: Stubs, **env: str) -> None:
    Worker(db_url, services=Services(db_url, stubs.settings(**env))).run(drain=True)


def test_every_delivery_is_journaled_with_its_outcome_and_no_secret(db_url, ws, service):
    # The first reply creates the campaign's lead (general path); the next ones take the
    # one-statement fast path, which writes the journal row in the same statement.
    assert post(service, ws, eb.lead_replied(9001))[0] == 202
    assert post(service, ws, eb.lead_replied(9002))[0] == 202
    assert post(service, ws, eb.lead_replied(9002)) == (200, {"status": "duplicate"})
    assert post(service, ws, eb.event("EMAIL_OPENED")) == (200, {"status": "ignored"})
    rows = journal_rows(db_url)
    assert [r.outcome for r in rows] == ["stored", "stored", "duplicate", "ignored"]
    with session_scope(db_url) as session:
        lead_id = session.execute(select(Lead.id)).scalar_one()
    assert [r.lead_id for r in rows[:3]] == [lead_id] * 3
    assert all(r.provider == "emailbison" and r.workspace_id == ws["id"] for r in rows)
    assert rows[1].body == bp.dumps(eb.lead_replied(9002))  # verbatim
    for row in rows:
        assert ws["secret"] not in str(row.headers)
        assert row.headers.get("content-type") == "application/json"


def broken_reader(body: bytes, target: Target) -> Event:
    raise PayloadError("test-only reader: cannot read this", "data.reply")


def test_a_broken_reader_holds_and_replay_stores_once(
    db_url, ws, service, cli_runner: CliRunner, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(READERS, "emailbison", broken_reader)
    assert post(service, ws, eb.lead_replied(9301)) == (202, {"status": "held"})
    assert count(db_url, Message) == 0

    [listed] = ok_json(run(cli_runner, db_url, "webhooks", "held", "--json"))
    assert (listed["provider"], listed["outcome"], listed["field"]) == (
        "emailbison",
        "held",
        "data.reply",
    )
    assert listed["error"] == "test-only reader: cannot read this"
    text = run(cli_runner, db_url, "webhooks", "held", "--workspace", str(ws["id"])).stdout
    assert listed["id"] in text and "1 held" in text

    monkeypatch.undo()  # the reader is fixed
    first = run(cli_runner, db_url, "webhooks", "replay", "--held")
    assert first.exit_code == 0, first.output
    assert f"{listed['id']}  held -> stored" in first.stdout
    assert "replayed 1: 1 stored" in first.stdout
    assert count(db_url, Message) == 1
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).where(Job.kind == "classify_reply")) == 1
    [row] = journal_rows(db_url)
    assert row.outcome == "stored" and row.replayed_at is not None and row.lead_id

    second = run(cli_runner, db_url, "webhooks", "replay", "--held")
    assert second.stdout.strip() == "replayed 0: nothing"
    again = run(cli_runner, db_url, "webhooks", "replay", "--id", listed["id"])
    assert "stored -> duplicate" in again.stdout
    assert count(db_url, Message) == 1
    assert ok_json(run(cli_runner, db_url, "webhooks", "held", "--json")) == []


def test_replay_and_discard_refuse_bad_input(db_url, ws, cli_runner: CliRunner):
    assert_refused(run(cli_runner, db_url, "webhooks", "replay"), "exactly one of")
    assert_refused(
        run(cli_runner, db_url, "webhooks", "replay", "--held", "--since", "2026-01-01"),
        "exactly one of",
    )
    assert_refused(run(cli_runner, db_url, "webhooks", "replay", "--since", "soon"), "ISO")
    assert_refused(run(cli_runner, db_url, "webhooks", "replay", "--id", "x"), "UUID")
    missing = str(uuid.uuid4())
    assert_refused(run(cli_runner, db_url, "webhooks", "replay", "--id", missing), missing)
    assert_refused(run(cli_runner, db_url, "webhooks", "discard"), "--held")


def test_discarded_deliveries_leave_the_held_list(db_url, ws, service, cli_runner):
    bad = eb.lead_replied(9401)
    del bad["data"]["reply"]["id"]
    assert post(service, ws, bad) == (202, {"status": "held"})
    assert post(service, ws, bad) == (202, {"status": "held"})
    result = run(cli_runner, db_url, "webhooks", "discard", "--held", "--workspace", str(ws["id"]))
    assert result.stdout.strip() == "discarded 2 held deliveries"
    assert ok_json(run(cli_runner, db_url, "webhooks", "held", "--json")) == []
    assert [r.outcome for r in journal_rows(db_url)] == ["discarded", "discarded"]


def test_a_calendly_delivery_signed_ten_minutes_ago_is_booked_by_reconciliation(
    db_url, ws, stubs, service, cli_runner
):
    with session_scope(db_url) as session:
        lead = Lead(workspace_id=ws["id"], external_id="601", email="sam@newco.io")
        session.add(lead)
        session.flush()
        lead_id = lead.id
    payload = bp.invitee("invitee.created", 31, "sam@newco.io")
    body = bp.dumps(payload)
    late = bp.calendly_headers(body, SIGNING_KEY, int(time.time()) - 600)
    status, answer = service.request("POST", f"/webhooks/calendly/{ws['id']}", body, late)
    assert status == 401 and "stale" in answer["error"]
    assert count(db_url, BookingEvent) == 0
    [row] = journal_rows(db_url)
    assert (row.provider, row.outcome, row.body) == ("calendly", "stale", body)
    # Never replayed from its late body: reconciliation asks the API instead.
    refused = run(cli_runner, db_url, "webhooks", "replay", "--id", str(row.id))
    assert_refused(refused, "stale", "bookings reconcile")
    signature = late["Calendly-Webhook-Signature"]
    assert signature.split("v1=")[1] not in str(row.headers)  # the signature is never kept
    assert row.headers["calendly-signed-at"] == signature.split(",")[0][2:]

    # What the Calendly API knows of that invitee (the stub stands in for it).
    event = payload["payload"]["scheduled_event"]
    stubs.calendly_events.append(
        (
            {"uri": event["uri"], "status": "active", "start_time": event["start_time"]},
            [
                {
                    "uri": payload["payload"]["uri"],
                    "email": "sam@newco.io",
                    "status": "active",
                    "created_at": "2026-12-01T09:00:00Z",
                }
            ],
        )
    )
    summary = ok_json(
        run(
            cli_runner,
            db_url,
            "bookings",
            "reconcile",
            "--workspace",
            str(ws["id"]),
            **stubs.env(),
        )
    )
    assert summary["stale_deliveries_booked"] == 1 and summary["errors"] == []
    with session_scope(db_url) as session:
        booked = session.get_one(Lead, lead_id)
        assert booked.calendly_invitee_uri == payload["payload"]["uri"]
        assert is_meeting_booked(booked, session.get_one(Workspace, ws["id"]))
    [row] = journal_rows(db_url)
    assert (row.outcome, row.lead_id) == ("reconciled", lead_id)
    # The late delivery itself, should Calendly retry it in time, is then a duplicate.
    fresh = bp.calendly_headers(body, SIGNING_KEY)
    assert service.request("POST", f"/webhooks/calendly/{ws['id']}", body, fresh) == (
        200,
        {"status": "duplicate"},
    )


def test_lead_erase_empties_the_leads_journal_bodies(db_url, ws, service, cli_runner):
    assert post(service, ws, eb.lead_replied(9501))[0] == 202
    held = eb.lead_replied(9502)
    del held["data"]["reply"]["id"]  # held, and names the lead only by its email
    held["data"]["lead"]["id"] = 777
    assert post(service, ws, held) == (202, {"status": "held"})
    other = eb.event(
        "LEAD_REPLIED",
        lead=eb.lead(502, "keep@other.test"),
        reply=eb.reply(9503, from_email_address="keep@other.test"),
    )
    assert post(service, ws, other)[0] == 202
    with session_scope(db_url) as session:
        dana = session.execute(select(Lead.id).where(Lead.external_id == "501")).scalar_one()

    result = run(cli_runner, db_url, "lead", "erase", "--lead", str(dana))
    assert result.exit_code == 0 and "2 webhook deliveries scrubbed" in result.stdout
    rows = journal_rows(db_url)
    assert [(r.outcome, r.body) for r in rows[:2]] == [("stored", b""), ("discarded", b"")]
    assert b"keep@other.test" in rows[2].body
    assert not any(b"dana@prospect.io" in r.body for r in rows)


def test_retention_deletes_old_rows_but_keeps_held_ones(db_url, ws, stubs):
    entry = journal.Entry("emailbison", ws["id"], b"{}", {})
    with session_scope(db_url) as session:
        for outcome in ("stored", "ignored", "held", "stored"):
            journal.add(session, entry, outcome)
        ids = list(
            session.execute(select(WebhookDelivery.id).order_by(WebhookDelivery.outcome)).scalars()
        )
    # held, ignored, stored, stored: all but the last were received 8 days ago.
    with session_scope(db_url) as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids[:3]))
            .values(received_at=datetime.now(UTC) - timedelta(days=8))
        )
        schedule.enqueue_periodic(session, datetime.now(UTC))
    drain(db_url, stubs, WEBHOOK_JOURNAL_RETENTION_DAYS="7")
    assert {(r.id, r.outcome) for r in journal_rows(db_url)} == {
        (ids[0], "held"),
        (ids[3], "stored"),
    }


def test_one_slack_message_a_day_while_deliveries_are_held(db_url, ws, stubs):
    entry = journal.Entry("calendly", ws["id"], b'{"event": 1}', {})
    # Early in the hour, so a minute later crosses no quarter-hour (reconciliation) slot.
    now = datetime.now(UTC).replace(minute=1, second=0, microsecond=0)
    with session_scope(db_url) as session:
        journal.add(session, entry, "held", error="invalid Calendly webhook")
        journal.add(session, entry, "held", error="invalid Calendly webhook")
        schedule.enqueue_periodic(session, now)
    drain(db_url, stubs)
    [posted] = stubs.slack_posts()
    assert posted["channel"] == "C-REPORTS"
    assert "2 webhook deliveries are held" in posted["text"]
    assert "webhooks replay --held" in posted["text"]
    # Later the same day: the slot is taken, and a rerun of the job posts nothing either.
    with session_scope(db_url) as session:
        assert schedule.enqueue_periodic(session, now + timedelta(minutes=1)) == 1
        session.execute(update(Job).values(status="queued", run_at=func.now()))
    drain(db_url, stubs)
    assert len(stubs.slack_posts()) == 1
    with session_scope(db_url) as session:
        note = session.execute(select(Notification)).scalar_one()
        assert (note.kind, note.status, note.slack_channel) == (
            "held_deliveries",
            "sent",
            "C-REPORTS",
        )


# 500 and 503 are the answers Slack's SDK retries by itself: a post must not be sent again.
@pytest.mark.parametrize("status", [500, 503, 504])
def test_a_held_notice_whose_answer_was_lost_is_found_in_the_channel_not_posted_again(
    db_url, ws, stubs, status
):
    stubs.slack_history_from_posts = True
    lost: list[str] = []

    def lose_the_answer(req: Request) -> Response | None:
        # Slack took the post (it is in the channel) but its answer never arrived.
        if lost:
            return None
        lost.append(req.path)
        return Response("upstream trouble", status=status)

    stubs.slack_fault = lose_the_answer
    with session_scope(db_url) as session:
        journal.add(session, journal.Entry("calendly", ws["id"], b"{}", {}), "held")
        queue.enqueue(session, REPORT_HELD, {"day": "2026-11-30"})
    drain(db_url, stubs)
    assert len(stubs.slack_posts()) == 1 and lost
    with session_scope(db_url) as session:
        # The retry, once the first attempt cannot still be in flight.
        session.execute(
            update(Notification).values(
                last_attempt_at=Notification.last_attempt_at - timedelta(minutes=3)
            )
        )
        session.execute(update(Job).values(run_at=func.now()))
    drain(db_url, stubs)
    assert len(stubs.slack_posts()) == 1
    assert len(stubs.slack_calls("conversations.history")) == 1
    with session_scope(db_url) as session:
        note = session.execute(select(Notification)).scalar_one()
        assert (note.status, note.attempts) == ("sent", 2)
        assert session.execute(select(Job.status)).scalar_one() == "done"


@pytest.mark.parametrize("raw", ["0", "a week", "-3"])
def test_a_bad_retention_setting_is_refused_with_its_name(raw: str) -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_JOURNAL_RETENTION_DAYS"):
        load_settings({"WEBHOOK_JOURNAL_RETENTION_DAYS": raw})
    assert load_settings({}).webhook_journal_retention_days == 30
