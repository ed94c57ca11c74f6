"""The issue-14 table, each genuine delivery posted over real HTTP: its status code, and what
was stored or deliberately ignored (and journaled). Bodies from `tests.public_samples`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from sender_service.credentials import cipher, store_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import BookingEvent, Lead, Message, WebhookDelivery
from sender_service.workspaces import create_workspace
from tests import booking_payloads as bp
from tests import public_samples as ps
from tests.service import Service, run_service
from tests.stubs import Stubs

SIGNING_KEY = "calendly-signing-key"
RSA = bp.RSAKeys()
LOCATION = "loc-sample"


@pytest.fixture
def env(db_url: str, httpserver: HTTPServer) -> dict[str, Any]:
    settings = Stubs(httpserver).settings()
    out: dict[str, Any] = {"settings": settings}
    with session_scope(db_url) as session:
        for provider in ("GHL", "CALENDLY"):
            ws, secret = create_workspace(
                session, name=f"Acme {provider}", booking_provider=provider
            )
            ws.ghl_location_id = LOCATION
            store_secret(session, cipher(settings), ws.id, "calendly_signing_key", SIGNING_KEY)
            store_secret(session, cipher(settings), ws.id, "ghl_webhook_public_key", RSA.public_pem)
            lead = Lead(
                workspace_id=ws.id,
                external_id="501",
                email="dana@prospect.io",
                ghl_contact_id="ct-1",
                sentiment_tag="Interested",
            )
            session.add(lead)
            session.flush()
            out[provider] = {"id": ws.id, "secret": secret, "lead": lead.id}
    return out


@pytest.fixture
def service(db_url: str, env: dict[str, Any]) -> Iterator[Service]:
    with run_service(db_url, env["settings"]) as running:
        yield running


def ghl(service: Service, ws: dict[str, Any], payload: dict[str, Any]) -> tuple[int, Any]:
    body = bp.dumps(payload)
    headers = {
        "Content-Type": "application/json",
        "X-Replyline-Secret": ws["secret"],
        "x-wh-signature": RSA.sign(body),
    }
    return service.request("POST", f"/webhooks/ghl/{ws['id']}", body, headers)


def calendly(service: Service, ws: dict[str, Any], payload: dict[str, Any]) -> tuple[int, Any]:
    body = bp.dumps(payload)
    headers = bp.calendly_headers(body, SIGNING_KEY)
    return service.request("POST", f"/webhooks/calendly/{ws['id']}", body, headers)


def emailbison(service: Service, ws: dict[str, Any], payload: dict[str, Any]) -> tuple[int, Any]:
    return service.post_json(
        f"/webhooks/emailbison/{ws['id']}", payload, {"X-Replyline-Secret": ws["secret"]}
    )


def last_journal(db_url: str) -> WebhookDelivery:
    with session_scope(db_url) as session:
        row = session.execute(
            select(WebhookDelivery).order_by(WebhookDelivery.received_at.desc()).limit(1)
        ).scalar_one()
        session.expunge(row)
        return row


def lead(db_url: str, lead_id: uuid.UUID) -> Lead:
    with session_scope(db_url) as session:
        row = session.get_one(Lead, lead_id)
        session.expunge(row)
        return row


def messages(db_url: str, **where: Any) -> list[Message]:
    with session_scope(db_url) as session:
        rows = session.execute(select(Message).filter_by(**where)).scalars().all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def test_ghl_sms_without_message_id_is_stored_once(db_url, env, service):
    ws = env["GHL"]
    sample = ps.ghl_sms_without_message_id("ct-1", "Yes, Tuesday works", LOCATION)
    status, answer = ghl(service, ws, sample)
    assert (status, answer["status"], answer["lead_id"]) == (202, "accepted", str(ws["lead"]))
    [sms] = messages(db_url, channel="sms")
    assert sms.body == "Yes, Tuesday works"
    assert (sms.external_id or "").startswith("digest:")
    # The same delivery again has the same key: one row.
    assert ghl(service, ws, sample) == (200, {"status": "duplicate"})
    assert len(messages(db_url, channel="sms")) == 1
    assert last_journal(db_url).outcome == "duplicate"


@pytest.mark.parametrize("channel", ["Email", "FB", "IG", "Live Chat", "GMB", "Call"])
def test_ghl_messages_of_other_channels_are_ignored(db_url, env, service, channel):
    ws = env["GHL"]
    if channel == "Email":
        sample = ps.ghl_email_message("ct-1", LOCATION)
    else:
        sample = ps.ghl_message_of_channel(channel, "ct-1", LOCATION)
    assert ghl(service, ws, sample) == (200, {"status": "ignored"})
    assert messages(db_url) == []
    row = last_journal(db_url)
    assert row.outcome == "ignored" and f"channel {channel}" in (row.error or "")


@pytest.mark.parametrize(
    ("status", "canonical"), [("active", "confirmed"), ("completed", "showed")]
)
def test_ghl_appointment_statuses_active_and_completed(db_url, env, service, status, canonical):
    ws = env["GHL"]
    status_code, answer = ghl(
        service, ws, ps.ghl_appointment_update("apt-s", "ct-1", status, LOCATION)
    )
    assert (status_code, answer["status"]) == (202, "applied")
    stored = lead(db_url, ws["lead"])
    assert (stored.ghl_appointment_id, stored.appointment_status) == ("apt-s", canonical)


def test_ghl_unknown_future_status_is_kept_raw_and_changes_nothing(db_url, env, service):
    ws = env["GHL"]
    sample = ps.ghl_appointment_update("apt-s", "ct-1", "rescheduling_pending", LOCATION)
    assert ghl(service, ws, sample) == (200, {"status": "ignored"})
    assert lead(db_url, ws["lead"]).appointment_status is None
    row = last_journal(db_url)
    assert row.outcome == "ignored" and b"rescheduling_pending" in row.body


def test_ghl_workflow_webhook_sms_and_appointment(db_url, env, service):
    ws = env["GHL"]
    status, answer = ghl(service, ws, ps.ghl_workflow_sms("ct-1", "Call me at 3", LOCATION))
    assert (status, answer["status"], answer["lead_id"]) == (202, "accepted", str(ws["lead"]))
    assert [m.body for m in messages(db_url, channel="sms")] == ["Call me at 3"]
    sample = ps.ghl_workflow_appointment("ct-1", "apt-wf", "confirmed", LOCATION)
    status, answer = ghl(service, ws, sample)
    assert (status, answer["status"]) == (202, "applied")
    assert lead(db_url, ws["lead"]).ghl_appointment_id == "apt-wf"
    # Another location's workflow is refused, as for subscription events.
    other = ps.ghl_workflow_sms("ct-1", "hi", "loc-other")
    status, answer = ghl(service, ws, other)
    assert (status, answer["field"]) == (403, "location.id")
    assert last_journal(db_url).outcome == "rejected"


def test_calendly_no_show_as_an_invitee_payload(db_url, env, service):
    ws = env["CALENDLY"]
    assert calendly(service, ws, ps.calendly_created(7, "dana@prospect.io"))[0] == 202
    status, answer = calendly(service, ws, ps.calendly_no_show(7, "dana@prospect.io"))
    assert (status, answer["status"]) == (202, "applied")
    assert lead(db_url, ws["lead"]).appointment_status == "noshow"
    with session_scope(db_url) as session:
        kinds = session.execute(select(BookingEvent.event_type).order_by(BookingEvent.created_at))
        assert list(kinds.scalars()) == ["created", "noshow"]


def test_calendly_older_delivery_names_the_event_by_uri(db_url, env, service):
    ws = env["CALENDLY"]
    status, answer = calendly(service, ws, ps.calendly_older_created(8, "dana@prospect.io"))
    assert (status, answer["status"]) == (202, "applied")
    stored = lead(db_url, ws["lead"])
    assert stored.calendly_scheduled_event_uri == f"{ps.CALENDLY}/scheduled_events/PS8"
    assert stored.appointment_status == "confirmed"


def test_emailbison_null_flags_and_loose_custom_variables_keep_the_reply(db_url, env, service):
    ws = env["GHL"]
    status, answer = emailbison(service, ws, ps.emailbison_reply_with_loose_enrichment(9101))
    assert (status, answer["status"]) == (202, "accepted")
    [reply] = messages(db_url, external_id="9101")
    assert reply.is_automated_reply is False
    assert lead(db_url, uuid.UUID(answer["lead_id"])).headcount == "120"


def test_emailbison_composed_email_matches_its_recipient_or_is_ignored(db_url, env, service):
    ws = env["GHL"]
    status, answer = emailbison(service, ws, ps.emailbison_composed_email(9201, "Dana@Prospect.io"))
    assert (status, answer["status"], answer["lead_id"]) == (202, "accepted", str(ws["lead"]))
    [sent] = messages(db_url, external_id="9201")
    assert (sent.direction, sent.sent_by, sent.lead_id) == ("outbound", "setter", ws["lead"])
    stranger = ps.emailbison_composed_email(9202, "nobody@elsewhere.test")
    assert emailbison(service, ws, stranger) == (200, {"status": "ignored"})
    assert messages(db_url, external_id="9202") == []
    row = last_journal(db_url)
    assert row.outcome == "ignored" and b"nobody@elsewhere.test" in row.body


def test_enrichment_fields_of_the_wrong_type_never_refuse_a_delivery(db_url, env, service):
    """Beyond the table: each provider's optional fields null, of another type, or absent."""
    calendly_ws, ghl_ws = env["CALENDLY"], env["GHL"]
    booking = ps.calendly_created(9, "dana@prospect.io")
    booking["payload"].update(tracking="n/a", rescheduled=None, timezone=3)
    booking["payload"]["scheduled_event"]["start_time"] = None
    status, answer = calendly(service, calendly_ws, booking)
    assert (status, answer["status"]) == (202, "applied")

    sms = ps.ghl_sms_without_message_id("ct-1", "ok", LOCATION)
    sms.update(body=None, attachments=[{"url": "https://cdn.example.test/1.jpg"}], dateAdded=7)
    assert ghl(service, ghl_ws, sms)[0] == 202
    appointment = ps.ghl_appointment_update("apt-t", "ct-1", "confirmed", LOCATION)
    appointment["appointment"].update(startTime=None, calendarId=12)
    assert ghl(service, ghl_ws, appointment)[0] == 202

    reply = ps.emailbison_reply_with_loose_enrichment(9102)
    reply["data"]["lead"].update(first_name=None, company=42, custom_variables="none")
    reply["data"]["reply"].update(email_subject=None, from_name=["Dana"])
    assert emailbison(service, ghl_ws, reply)[0] == 202
    assert [r.outcome for r in journal_outcomes(db_url)] == ["stored"] * 4


def journal_outcomes(db_url: str) -> list[WebhookDelivery]:
    with session_scope(db_url) as session:
        rows = session.execute(select(WebhookDelivery).order_by(WebhookDelivery.received_at))
        return [r for r in rows.scalars()]
