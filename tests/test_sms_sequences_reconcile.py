"""SMS answers, follow-up sequences and reconciliation end to end: webhooks over HTTP, the
real worker and CLI, GHL / Calendly / EmailBison / LLM reached through their real clients."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from sqlalchemy import delete, select, update
from werkzeug import Response

from sender_service.booking import is_meeting_booked
from sender_service.credentials import cipher, store_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    AIDraft,
    AutoSendDecision,
    EmailCampaign,
    FollowupEnrollment,
    FollowupStep,
    Job,
    Lead,
    Message,
    Workspace,
    WorkspaceSecret,
)
from sender_service.followups.run import run_due
from sender_service.jobs import queue, schedule
from sender_service.jobs.handlers import SEND_DRAFT
from sender_service.jobs.worker import Worker
from sender_service.services import Services
from sender_service.workspaces import create_workspace
from tests import booking_payloads as bp
from tests import emailbison_payloads as eb
from tests.cli_helpers import SECRET_KEY, assert_refused, ok_json, run
from tests.service import Service, run_service
from tests.stubs import Stubs

SIGNING_KEY = "calendly-signing-key"
SEQUENCE_YAML = """
sequences:
  - name: Positive reply, then silence
    steps:
      - delay: 1h
        channel: email
        template: "Hi {firstName}, just checking in. Here is my calendar: {calendarLink}"
      - delay: 3d
        channel: email
        template: "{firstName}, any thoughts? {calendarLink}"
"""


@pytest.fixture
def stubs(httpserver: HTTPServer) -> Stubs:
    stubs = Stubs(httpserver)
    stubs.secret_key = SECRET_KEY  # the CLI helper's key, so both read the same credentials
    return stubs


def make_workspace(db_url: str, stubs: Stubs, provider: str) -> dict[str, Any]:
    settings = stubs.settings()
    fernet = cipher(settings)
    with session_scope(db_url) as session:
        ws, secret = create_workspace(
            session,
            name=f"Acme {provider}",
            booking_provider=provider,
            calendly_scheduling_url="https://calendly.com/acme/intro",
            ghl_location_id="loc-1",
            ghl_booking_url="https://book.acme.test/widget/booking/abc",
            email_platform_url=stubs.platform_url,
            review_slack_email="jon@acme.test",
        )
        for name, value in [
            ("email_platform_api_key", "eb-key"),
            ("calendly_signing_key", SIGNING_KEY),
            ("calendly_api_token", "cal-token"),
            ("ghl_api_key", "ghl-key"),
        ]:
            store_secret(session, fernet, ws.id, name, value)
        campaign = EmailCampaign(
            workspace_id=ws.id, external_id="77", name="Spring push", response_mode="AI_AUTO_SEND"
        )
        session.add(campaign)
        session.flush()
        return {"id": ws.id, "secret": secret, "settings": settings, "campaign": campaign.id}


@pytest.fixture
def calendly_ws(db_url: str, stubs: Stubs) -> dict[str, Any]:
    return make_workspace(db_url, stubs, "CALENDLY")


@pytest.fixture
def ghl_ws(db_url: str, stubs: Stubs) -> dict[str, Any]:
    return make_workspace(db_url, stubs, "GHL")


@pytest.fixture
def service(db_url: str, stubs: Stubs) -> Iterator[Service]:
    with run_service(db_url, stubs.settings()) as running:
        yield running


def drain(db_url: str, stubs: Stubs) -> None:
    Worker(db_url, services=Services(db_url, stubs.settings())).run(drain=True)
    with session_scope(db_url) as session:
        stuck = session.execute(select(Job.kind, Job.last_error).where(Job.status != "done")).all()
    assert stuck == []


def outbound(db_url: str) -> list[Message]:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(Message).where(Message.direction == "outbound").order_by(Message.created_at)
        ).scalars()
        return list(rows)


def test_inbound_sms_is_answered_by_sms_exactly_once(
    db_url: str, stubs: Stubs, ghl_ws: dict[str, Any], service: Service
) -> None:
    with session_scope(db_url) as session:
        lead = Lead(
            workspace_id=ghl_ws["id"],
            email_campaign_id=ghl_ws["campaign"],
            external_id="501",
            email="dana@prospect.io",
            first_name="Dana",
            phone="+15550100",
            ghl_contact_id="ct-1",
        )
        session.add(lead)
        session.flush()
        lead_id = lead.id
    payload = bp.inbound_sms("sms-in-1", "ct-1", "Yes! Interested, send me times")
    body = bp.dumps(payload)
    headers = {
        "Content-Type": "application/json",
        "X-Replyline-Secret": ghl_ws["secret"],
    }
    status, answer = service.request("POST", f"/webhooks/ghl/{ghl_ws['id']}", body, headers)
    assert (status, answer["lead_id"]) == (202, str(lead_id))
    assert service.request("POST", f"/webhooks/ghl/{ghl_ws['id']}", body, headers)[0] == 200
    drain(db_url, stubs)

    sent = stubs.calls("/ghl/conversations/messages")
    assert len(sent) == 1
    request = sent[0].get_json()
    assert sent[0].headers["Version"] == "2021-04-15"
    assert request["type"] == "SMS" and request["contactId"] == "ct-1"
    # {calendarLink} in a GHL workspace is the GHL booking widget, prefilled.
    assert "https://book.acme.test/widget/booking/abc?" in request["message"]
    assert "{" not in request["message"]
    [reply] = outbound(db_url)
    assert (reply.channel, reply.sent_by, reply.source, reply.external_id) == (
        "sms",
        "ai",
        "ghl_sms",
        "sms-1",
    )
    assert reply.delivery_status == "sent" and reply.to_address == "+15550100"

    # A duplicate send job (a retry, a second worker) sends nothing more.
    with session_scope(db_url) as session:
        draft_id = session.execute(select(AIDraft.id)).scalar_one()
        queue.enqueue(session, SEND_DRAFT, {"draft_id": str(draft_id)})
    drain(db_url, stubs)
    assert len(stubs.calls("/ghl/conversations/messages")) == 1
    assert len(outbound(db_url)) == 1


@pytest.mark.parametrize(
    ("written", "named"),
    [
        ("Hi Dana! Text my colleague on (312) 555-0147 to get going.", "contact"),
        ("Hi Dana, thanks so much for the reply. " * 9, "sms limit of 320"),
    ],
)
def test_an_ai_sms_the_guard_stops_goes_to_a_person_not_the_lead(
    db_url: str, stubs: Stubs, ghl_ws: dict[str, Any], service: Service, written: str, named: str
) -> None:
    with session_scope(db_url) as session:
        session.add(
            Lead(
                workspace_id=ghl_ws["id"],
                email_campaign_id=ghl_ws["campaign"],
                external_id="501",
                email="dana@prospect.io",
                first_name="Dana",
                phone="+14155550100",
                ghl_contact_id="ct-1",
            )
        )
    stubs.llm["reply_draft"] = {"body": written}
    payload = bp.inbound_sms("sms-in-1", "ct-1", "Yes! Interested, send me times")
    headers = {"Content-Type": "application/json", "X-Replyline-Secret": ghl_ws["secret"]}
    status, _ = service.request("POST", f"/webhooks/ghl/{ghl_ws['id']}", bp.dumps(payload), headers)
    assert status == 202
    drain(db_url, stubs)
    assert stubs.calls("/ghl/conversations/messages") == [] and outbound(db_url) == []
    with session_scope(db_url) as session:
        decision = session.execute(select(AutoSendDecision)).scalar_one()
        assert decision.action == "needs_review" and named in decision.reason
        assert len(decision.guard_rules) == 1


def test_a_lead_turning_positive_gets_its_ghl_contact(
    db_url: str, stubs: Stubs, ghl_ws: dict[str, Any], service: Service
) -> None:
    status, answer = service.post_json(
        f"/webhooks/emailbison/{ghl_ws['id']}",
        eb.lead_replied(),
        {"X-Replyline-Secret": ghl_ws["secret"]},
    )
    assert status == 202
    drain(db_url, stubs)
    with session_scope(db_url) as session:
        lead = session.get_one(Lead, uuid.UUID(answer["lead_id"]))
        assert lead.ghl_contact_id == "ct_new_1"
    searched = [r.args.get("email") for r in stubs.calls("/ghl/contacts/search/duplicate")]
    assert searched == ["dana@prospect.io"]  # then by phone only when the lead has one
    [created] = [r for r in stubs.calls("/ghl/contacts/") if r.method == "POST"]
    assert created.headers["Version"] == "2021-07-28"
    assert created.get_json()["locationId"] == "loc-1"
    # The AI email reply's {calendarLink} is GHL's widget too.
    assert "book.acme.test" in outbound(db_url)[0].body


def test_calendly_reply_ai_answer_follow_up_then_booking_stops_the_sequence(
    db_url: str,
    stubs: Stubs,
    calendly_ws: dict[str, Any],
    service: Service,
    cli_runner: CliRunner,
    tmp_path: Path,
) -> None:
    ws_id = str(calendly_ws["id"])
    file = tmp_path / "sequences.yaml"
    file.write_text(SEQUENCE_YAML)
    applied = ok_json(
        run(cli_runner, db_url, "sequences", "apply", "--workspace", ws_id, str(file))
    )
    assert applied == {
        "created": ["Positive reply, then silence"],
        "updated": [],
        "deactivated": [],
    }

    # The lead replied two hours ago; the first follow-up is due an hour after the reply.
    replied_at = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    payload = eb.lead_replied()
    payload["data"]["reply"]["date_received"] = replied_at
    status, answer = service.post_json(
        f"/webhooks/emailbison/{ws_id}", payload, {"X-Replyline-Secret": calendly_ws["secret"]}
    )
    assert status == 202
    lead_id = answer["lead_id"]
    drain(db_url, stubs)  # classify → draft → send; the lead enters the sequence
    [ai_reply] = outbound(db_url)
    assert ai_reply.sent_by == "ai"
    # {calendarLink} in a Calendly workspace: name, email and our lead reference prefilled.
    assert f"utm_content={lead_id}" in ai_reply.body and "calendly.com/acme/intro" in ai_reply.body

    env = {
        "GHL_BASE_URL": stubs.server.url_for("/ghl"),
        "CALENDLY_BASE_URL": stubs.server.url_for("/calendly"),
    }
    results = ok_json(run(cli_runner, db_url, "followups", "run-due", **env))
    assert [r["status"] for r in results] == ["sent"]
    follow_up = outbound(db_url)[-1]
    assert (follow_up.sent_by, follow_up.follow_up_step, follow_up.channel) == (
        "sequence",
        1,
        "email",
    )
    assert follow_up.body.startswith("Hi Dana, just checking in.") and "{" not in follow_up.body
    assert len(stubs.calls("/eb/api/replies/")) == 2

    # The lead books through Calendly: the sequence stops, step 2 never goes.
    booking = bp.invitee("invitee.created", 1, "dana@prospect.io", utm_content=lead_id)
    booking["created_at"] = datetime.now(UTC).isoformat()
    body = bp.dumps(booking)
    status, _ = service.request(
        "POST", f"/webhooks/calendly/{ws_id}", body, bp.calendly_headers(body, SIGNING_KEY)
    )
    assert status == 202
    with session_scope(db_url) as session:
        enrollment = session.execute(select(FollowupEnrollment)).scalar_one()
        assert (enrollment.status, enrollment.stop_reason, enrollment.last_step_number) == (
            "stopped",
            "booked",
            1,
        )
    assert ok_json(run(cli_runner, db_url, "followups", "run-due", **env)) == []
    assert len(outbound(db_url)) == 2

    explained = run(cli_runner, db_url, "lead", "explain", lead_id)
    assert explained.exit_code == 0, explained.output
    print("\n" + explained.stdout)  # the transcript the issue asks to show
    for fragment in [
        "Booked: yes (confirmed)",
        "reply (Interested)",
        "sent by ai",
        "sent by sequence (follow-up step 1)",
        "CALENDLY created",
        "stopped (booked) after 1 step(s)",
    ]:
        assert fragment in explained.stdout


def test_a_booking_that_lands_mid_step_stops_the_sequence(
    db_url: str, stubs: Stubs, calendly_ws: dict[str, Any], cli_runner: CliRunner, tmp_path: Path
) -> None:
    """The booking is already on the lead when the step is claimed (say reconciliation wrote it
    while the run was picking due steps): the claim re-checks under the lead's lock."""
    file = tmp_path / "s.yaml"
    file.write_text(SEQUENCE_YAML)
    ok_json(
        run(
            cli_runner,
            db_url,
            "sequences",
            "apply",
            "--workspace",
            str(calendly_ws["id"]),
            str(file),
        )
    )
    with session_scope(db_url) as session:
        lead = Lead(workspace_id=calendly_ws["id"], external_id="9", email="x@y.io", first_name="X")
        session.add(lead)
        session.flush()
        sequence_id = session.execute(select(FollowupStep.sequence_id)).scalars().first()
        session.add(
            FollowupEnrollment(
                sequence_id=sequence_id,
                lead_id=lead.id,
                enrolled_at=datetime.now(UTC) - timedelta(days=1),
                next_due_at=datetime.now(UTC) - timedelta(minutes=1),
            )
        )
        lead.calendly_invitee_uri = "https://api.calendly.com/scheduled_events/E/invitees/I"
        lead.appointment_status = "confirmed"
    [result] = ok_json(run(cli_runner, db_url, "followups", "run-due"))
    assert (result["status"], result["reason"]) == ("stopped", "booked")
    assert outbound(db_url) == []


def test_reconciliation_fixes_missed_webhooks_for_both_providers(
    db_url: str,
    stubs: Stubs,
    calendly_ws: dict[str, Any],
    ghl_ws: dict[str, Any],
    cli_runner: CliRunner,
) -> None:
    with session_scope(db_url) as session:
        for ws, email in [(calendly_ws, "dana@prospect.io"), (ghl_ws, "lee@prospect.io")]:
            session.add(
                Lead(
                    workspace_id=ws["id"],
                    external_id="1",
                    email=email,
                    first_name="D",
                    sentiment_tag="Meeting Requested",
                )
            )
    event_uri = "https://api.calendly.com/scheduled_events/EV5"
    stubs.calendly_events.append(
        (
            {"uri": event_uri, "status": "active", "start_time": "2026-12-20T15:00:00Z"},
            [
                {
                    "uri": f"{event_uri}/invitees/INV5",
                    "email": "dana@prospect.io",
                    "status": "active",
                    "created_at": "2026-12-01T09:00:00Z",
                }
            ],
        )
    )
    stubs.ghl_contacts["lee@prospect.io"] = "ct-9"
    stubs.ghl_appointments["ct-9"] = [
        {"id": "apt-old", "appointmentStatus": "cancelled", "startTime": "2026-12-01T15:00:00Z"},
        {"id": "apt-7", "appointmentStatus": "confirmed", "startTime": "2026-12-21T15:00:00Z"},
        # Another calendar's appointment (onboarding) is not a sales meeting.
        {"id": "apt-x", "calendarId": "cal-onboarding", "appointmentStatus": "confirmed"},
    ]
    with session_scope(db_url) as session:
        session.get_one(Workspace, ghl_ws["id"]).ghl_calendar_id = "cal-sales"
    env = {
        "GHL_BASE_URL": stubs.server.url_for("/ghl"),
        "CALENDLY_BASE_URL": stubs.server.url_for("/calendly"),
    }
    for ws in (calendly_ws, ghl_ws):
        summary = ok_json(
            run(cli_runner, db_url, "bookings", "reconcile", "--workspace", str(ws["id"]), **env)
        )
        assert (summary["checked"], summary["fixed"], summary["errors"]) == (1, 1, [])
    with session_scope(db_url) as session:
        for lead in session.execute(select(Lead)).scalars():
            workspace = session.get_one(Workspace, lead.workspace_id)
            assert is_meeting_booked(lead, workspace), lead.email
        ghl_lead = session.execute(select(Lead).where(Lead.email == "lee@prospect.io")).scalar_one()
        assert (ghl_lead.ghl_contact_id, ghl_lead.ghl_appointment_id) == ("ct-9", "apt-7")
    assert (
        stubs.calls("/calendly/scheduled_events")[0].headers["Authorization"] == "Bearer cal-token"
    )

    # Booked leads are not asked about again.
    again = ok_json(
        run(
            cli_runner,
            db_url,
            "bookings",
            "reconcile",
            "--workspace",
            str(calendly_ws["id"]),
            **env,
        )
    )
    assert again["checked"] == 0


def test_cli_refuses_bad_input_with_one_line(
    db_url: str, calendly_ws: dict[str, Any], cli_runner: CliRunner, tmp_path: Path
) -> None:
    ws_id = str(calendly_ws["id"])
    assert_refused(run(cli_runner, db_url, "bookings", "reconcile", "--workspace", "nope"), "UUID")
    bad = tmp_path / "bad.yaml"
    bad.write_text(SEQUENCE_YAML.replace("{firstName}", "{first_name}"))
    assert_refused(
        run(cli_runner, db_url, "sequences", "apply", "--workspace", ws_id, str(bad)), "first_name"
    )
    bad.write_text(SEQUENCE_YAML.replace("1h", "soon"))
    assert_refused(
        run(cli_runner, db_url, "sequences", "apply", "--workspace", ws_id, str(bad)),
        "sequences.0.steps.0.delay",
    )
    assert_refused(
        run(
            cli_runner,
            db_url,
            "sequences",
            "apply",
            "--workspace",
            ws_id,
            str(tmp_path / "none.yaml"),
        ),
        "cannot read",
    )
    # A positive lead to ask about, and no API token to ask with.
    with session_scope(db_url) as session:
        session.add(Lead(workspace_id=calendly_ws["id"], email="a@b.c", sentiment_tag="Interested"))
        session.execute(delete(WorkspaceSecret).where(WorkspaceSecret.name == "calendly_api_token"))
    assert_refused(
        run(cli_runner, db_url, "bookings", "reconcile", "--workspace", ws_id),
        "has no calendly_api_token",
    )


def test_sequences_apply_replaces_steps_and_lists(
    db_url: str, calendly_ws: dict[str, Any], cli_runner: CliRunner, tmp_path: Path
) -> None:
    ws_id = str(calendly_ws["id"])
    file = tmp_path / "s.yaml"
    file.write_text(SEQUENCE_YAML)
    ok_json(run(cli_runner, db_url, "sequences", "apply", "--workspace", ws_id, str(file)))
    file.write_text(
        SEQUENCE_YAML.replace("Positive reply, then silence", "Nudge")
        + "      - delay: 1w\n        channel: sms\n        template: Last one {firstName}\n"
    )
    applied = ok_json(
        run(cli_runner, db_url, "sequences", "apply", "--workspace", ws_id, str(file))
    )
    assert applied == {
        "created": ["Nudge"],
        "updated": [],
        "deactivated": ["Positive reply, then silence"],
    }
    listed = ok_json(run(cli_runner, db_url, "sequences", "list"))
    by_name = {s["name"]: s for s in listed}
    assert by_name["Nudge"]["active"] and not by_name["Positive reply, then silence"]["active"]
    assert [(s["step"], s["delay_seconds"], s["channel"]) for s in by_name["Nudge"]["steps"]] == [
        (1, 3600, "email"),
        (2, 3 * 86400, "email"),
        (3, 7 * 86400, "sms"),
    ]


def test_periodic_jobs_are_offered_once_per_slot(
    db_url: str, stubs: Stubs, calendly_ws: dict[str, Any]
) -> None:
    now = datetime(2026, 12, 1, 10, 7, tzinfo=UTC)
    with session_scope(db_url) as session:
        session.execute(
            update(Workspace)
            .where(Workspace.id == calendly_ws["id"])
            .values(alerts_digest="daily", alerts_channel="C-ALERTS", timezone="Europe/Berlin")
        )
    with session_scope(db_url) as session:
        # Follow-ups, one workspace's reconciliation, the journal's retention, the fingerprint
        # log's compaction, the held report and the workspace's alerts digest of its day before.
        assert schedule.enqueue_periodic(session, now) == 6
    with session_scope(db_url) as session:
        assert schedule.enqueue_periodic(session, now + timedelta(seconds=40)) == 0
        # The next minute brings the follow-ups again; reconciliation waits for 10:15, the
        # journal's retention and the compaction for 11:00, the held report and the digest for
        # tomorrow.
        assert schedule.enqueue_periodic(session, now + timedelta(minutes=1)) == 1
        assert schedule.enqueue_periodic(session, now + timedelta(hours=1)) == 4
        assert schedule.enqueue_periodic(session, now + timedelta(days=1)) == 6
    drain(db_url, stubs)  # every kind runs cleanly with nothing to do


def test_a_ghl_appointment_for_an_unknown_contact_waits_for_it(
    db_url: str, stubs: Stubs, ghl_ws: dict[str, Any], service: Service
) -> None:
    body = bp.dumps(bp.appointment("AppointmentCreate", "apt-early", "ct_new_1"))
    headers = {"Content-Type": "application/json", "X-Replyline-Secret": ghl_ws["secret"]}
    status, answer = service.request("POST", f"/webhooks/ghl/{ghl_ws['id']}", body, headers)
    assert (status, answer["status"]) == (202, "unmatched")

    # The lead replies positively; its contact is created and the appointment applies.
    status, answer = service.post_json(
        f"/webhooks/emailbison/{ghl_ws['id']}",
        eb.lead_replied(),
        {"X-Replyline-Secret": ghl_ws["secret"]},
    )
    drain(db_url, stubs)
    with session_scope(db_url) as session:
        lead = session.get_one(Lead, uuid.UUID(answer["lead_id"]))
        workspace = session.get_one(Workspace, lead.workspace_id)
        assert (lead.ghl_contact_id, lead.ghl_appointment_id) == ("ct_new_1", "apt-early")
        assert is_meeting_booked(lead, workspace)


def enrolled_lead(
    db_url: str, ws: dict[str, Any], cli_runner: CliRunner, tmp_path: Path
) -> uuid.UUID:
    """A lead that replied positively a day ago and whose first step is due."""
    file = tmp_path / "s.yaml"
    file.write_text(SEQUENCE_YAML)
    ok_json(run(cli_runner, db_url, "sequences", "apply", "--workspace", str(ws["id"]), str(file)))
    day_ago = datetime.now(UTC) - timedelta(days=1)
    with session_scope(db_url) as session:
        lead = Lead(
            workspace_id=ws["id"],
            email_campaign_id=ws["campaign"],
            external_id="9",
            email="x@y.io",
            first_name="X",
            sentiment_tag="Interested",
        )
        session.add(lead)
        session.flush()
        session.add(
            Message(
                workspace_id=ws["id"],
                lead_id=lead.id,
                direction="inbound",
                body="Interested!",
                subject="Re: hello",
                sentiment="Interested",
                source="emailbison_reply",
                external_id="r-1",
                thread_ref={"reply_id": 1, "sender_email_id": 2, "lead_email": "x@y.io"},
                occurred_at=day_ago,
            )
        )
        sequence_id = session.execute(select(FollowupStep.sequence_id)).scalars().first()
        session.add(
            FollowupEnrollment(
                sequence_id=sequence_id,
                lead_id=lead.id,
                enrolled_at=day_ago,
                next_due_at=day_ago + timedelta(hours=1),
            )
        )
        return lead.id


@pytest.mark.parametrize(
    ("event", "outcome"),
    [
        ("setter_message", ("stopped", "setter_message")),
        ("reply", ("stopped", "replied")),
        ("out_of_office", ("sent", "step 1")),
        ("opt_out", ("stopped", "opted_out")),
        ("taken_over", ("stopped", "setter_took_over")),
    ],
)
def test_a_sequence_leaves_on_the_lead_or_a_setter_acting(
    db_url: str,
    stubs: Stubs,
    calendly_ws: dict[str, Any],
    cli_runner: CliRunner,
    tmp_path: Path,
    event: str,
    outcome: tuple[str, str],
) -> None:
    lead_id = enrolled_lead(db_url, calendly_ws, cli_runner, tmp_path)
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    common: dict[str, Any] = {
        "workspace_id": calendly_ws["id"],
        "lead_id": lead_id,
        "source": "emailbison_reply",
        "occurred_at": hour_ago,
    }
    with session_scope(db_url) as session:
        lead = session.get_one(Lead, lead_id)
        if event == "setter_message":
            session.add(Message(direction="outbound", sent_by="setter", body="Hi", **common))
        elif event == "reply":
            session.add(
                Message(direction="inbound", body="One more thing", external_id="r-2", **common)
            )
        elif event == "out_of_office":
            session.add(
                Message(
                    direction="inbound",
                    body="I am away",
                    external_id="r-3",
                    is_automated_reply=True,
                    sentiment="Out of Office",
                    thread_ref={"reply_id": 3, "sender_email_id": 2, "lead_email": "x@y.io"},
                    **common,
                )
            )
        elif event == "opt_out":
            lead.opted_out = True
        else:
            lead.ai_paused = True
    [result] = ok_json(run(cli_runner, db_url, "followups", "run-due"))
    assert (result["status"], result["reason"]) == outcome
    sent = [m for m in outbound(db_url) if m.sent_by == "sequence"]
    assert len(sent) == (1 if outcome[0] == "sent" else 0)


def test_concurrent_runs_send_a_step_once(
    db_url: str, stubs: Stubs, calendly_ws: dict[str, Any], cli_runner: CliRunner, tmp_path: Path
) -> None:
    enrolled_lead(db_url, calendly_ws, cli_runner, tmp_path)
    repliers = Services(db_url, stubs.settings()).repliers
    with ThreadPoolExecutor(4) as pool:
        summaries = list(pool.map(lambda _: run_due(db_url, repliers), range(4)))
    statuses = sorted(r.status for s in summaries for r in s.results)
    assert statuses.count("sent") == 1
    assert len(stubs.calls("/eb/api/replies/")) == 1
    [step] = [m for m in outbound(db_url) if m.sent_by == "sequence"]
    assert (step.follow_up_step, step.delivery_status, step.subject) == (1, "sent", "Re: hello")
    with session_scope(db_url) as session:
        enrollment = session.execute(select(FollowupEnrollment)).scalar_one()
        # Step 2 is due three days after the reply that enrolled the lead.
        assert enrollment.last_step_number == 1 and enrollment.status == "active"
        assert enrollment.next_due_at == enrollment.enrolled_at + timedelta(days=3)


def test_a_follow_up_of_unknown_outcome_is_reconciled_never_resent(
    db_url: str, stubs: Stubs, calendly_ws: dict[str, Any], cli_runner: CliRunner, tmp_path: Path
) -> None:
    """The platform fails mid-send (5xx): the step goes through the one system sender, so it
    is marked unknown and reconciled like an AI send; the next run does not send it again."""
    enrolled_lead(db_url, calendly_ws, cli_runner, tmp_path)
    stubs.eb_fault = lambda _req: Response("upstream timeout", status=504)
    [result] = ok_json(run(cli_runner, db_url, "followups", "run-due"))
    assert result["status"] == "unknown"
    [step] = [m for m in outbound(db_url) if m.sent_by == "sequence"]
    assert step.delivery_status == "unknown"
    with session_scope(db_url) as session:
        jobs = session.execute(select(Job.kind, Job.payload)).all()
    assert ("reconcile_send", {"message_id": str(step.id)}) in [tuple(j) for j in jobs]
    stubs.eb_fault = None
    assert ok_json(run(cli_runner, db_url, "followups", "run-due")) == []
    assert len(stubs.platform_sends()) == 1


def test_the_kill_switch_holds_follow_ups_until_it_is_back_on(
    db_url: str, stubs: Stubs, calendly_ws: dict[str, Any], cli_runner: CliRunner, tmp_path: Path
) -> None:
    enrolled_lead(db_url, calendly_ws, cli_runner, tmp_path)
    with session_scope(db_url) as session:
        session.execute(update(Workspace).values(auto_send_enabled=False))
    assert ok_json(run(cli_runner, db_url, "followups", "run-due")) == []
    with session_scope(db_url) as session:
        session.execute(update(Workspace).values(auto_send_enabled=True))
    [result] = ok_json(run(cli_runner, db_url, "followups", "run-due"))
    assert result["status"] == "sent"


def test_reconciliation_keeps_a_booking_but_not_an_implausible_start_time(
    db_url: str,
    stubs: Stubs,
    calendly_ws: dict[str, Any],
    ghl_ws: dict[str, Any],
    cli_runner: CliRunner,
) -> None:
    """An API answer with year 10000 in UTC: the booking counts, the time is dropped, the job
    does not fail (what a webhook would refuse is never stored by the back door)."""
    with session_scope(db_url) as session:
        for ws, email in [(calendly_ws, "dana@prospect.io"), (ghl_ws, "lee@prospect.io")]:
            session.add(
                Lead(
                    workspace_id=ws["id"],
                    external_id="1",
                    email=email,
                    sentiment_tag="Meeting Requested",
                )
            )
    poison = "9999-12-31T23:59:59-14:00"
    event_uri = "https://api.calendly.com/scheduled_events/EV6"
    invitee = {"uri": f"{event_uri}/invitees/INV6", "email": "dana@prospect.io"}
    stubs.calendly_events.append(
        (
            {"uri": event_uri, "status": "active", "start_time": poison},
            [invitee | {"status": "active", "created_at": poison}],
        )
    )
    stubs.ghl_contacts["lee@prospect.io"] = "ct-9"
    stubs.ghl_appointments["ct-9"] = [
        {"id": "apt-8", "appointmentStatus": "confirmed", "startTime": poison}
    ]
    env = {
        "GHL_BASE_URL": stubs.server.url_for("/ghl"),
        "CALENDLY_BASE_URL": stubs.server.url_for("/calendly"),
    }
    for ws in (calendly_ws, ghl_ws):
        summary = ok_json(
            run(cli_runner, db_url, "bookings", "reconcile", "--workspace", str(ws["id"]), **env)
        )
        assert (summary["fixed"], summary["errors"]) == (1, []), summary
    with session_scope(db_url) as session:
        leads = session.execute(select(Lead)).scalars().all()
        assert [lead.meeting_start_at for lead in leads] == [None, None]
        assert all(
            is_meeting_booked(lead, session.get_one(Workspace, lead.workspace_id)) for lead in leads
        )
