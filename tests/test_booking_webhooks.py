"""Both booking providers end to end over HTTP: signatures first, then the lead's record."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from sender_service.booking import is_meeting_booked
from sender_service.credentials import cipher, store_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    BookingEvent,
    Lead,
    Message,
    UnmatchedBooking,
    WebhookDelivery,
    Workspace,
)
from sender_service.workspaces import create_workspace
from tests import booking_payloads as bp
from tests import emailbison_payloads as eb
from tests.service import Service, run_service
from tests.stubs import Stubs

SIGNING_KEY = "calendly-signing-key"
RSA = bp.RSAKeys()


@pytest.fixture
def stubs(httpserver: HTTPServer) -> Stubs:
    return Stubs(httpserver)


@pytest.fixture
def env(db_url: str, stubs: Stubs) -> dict[str, Any]:
    """A Calendly and a GHL workspace, each with a lead; both know both providers' keys, so
    stray events reach the wrong workspace exactly as a misconfigured provider would send."""
    settings = stubs.settings()
    fernet = cipher(settings)
    out: dict[str, Any] = {"settings": settings}
    with session_scope(db_url) as session:
        for provider in ("CALENDLY", "GHL"):
            ws, secret = create_workspace(
                session,
                name=f"Acme {provider}",
                booking_provider=provider,
                calendly_scheduling_url="https://calendly.com/acme/intro",
                ghl_location_id="loc-1",
                ghl_booking_url="https://book.acme.test/widget/booking/abc",
                email_platform_url=stubs.platform_url,
            )
            store_secret(session, fernet, ws.id, "calendly_signing_key", SIGNING_KEY)
            store_secret(session, fernet, ws.id, "ghl_webhook_public_key", RSA.public_pem)
            store_secret(session, fernet, ws.id, "email_platform_api_key", "eb-key")
            lead = Lead(
                workspace_id=ws.id,
                external_id="501",
                email="Dana@Prospect.io",
                first_name="Dana",
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


def calendly(
    service: Service, ws_id: uuid.UUID, payload: dict[str, Any], stamp: int | None = None
) -> tuple[int, dict[str, Any]]:
    body = bp.dumps(payload)
    return service.request(
        "POST", f"/webhooks/calendly/{ws_id}", body, bp.calendly_headers(body, SIGNING_KEY, stamp)
    )


def ghl(
    service: Service, ws: dict[str, Any], payload: dict[str, Any], signature: str | None = None
) -> tuple[int, dict[str, Any]]:
    body = bp.dumps(payload)
    headers = {
        "Content-Type": "application/json",
        "X-Replyline-Secret": ws["secret"],
        "x-wh-signature": signature if signature is not None else RSA.sign(body),
    }
    return service.request("POST", f"/webhooks/ghl/{ws['id']}", body, headers)


def lead_state(db_url: str, lead_id: uuid.UUID) -> tuple[Lead, bool]:
    with session_scope(db_url) as session:
        lead = session.get_one(Lead, lead_id)
        booked = is_meeting_booked(lead, session.get_one(Workspace, lead.workspace_id))
        session.expunge(lead)
        return lead, booked


def count(db_url: str, model: Any) -> int:
    with session_scope(db_url) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_calendly_book_cancel_and_redelivery(
    db_url: str, env: dict[str, Any], service: Service
) -> None:
    ws = env["CALENDLY"]
    lead_ref = str(ws["lead"])
    status, body = calendly(
        service, ws["id"], bp.invitee("invitee.created", 1, utm_content=lead_ref)
    )
    assert (status, body["status"], body["lead_id"]) == (202, "applied", lead_ref)
    lead, booked = lead_state(db_url, ws["lead"])
    assert booked and lead.appointment_status == "confirmed"
    assert lead.calendly_invitee_uri == f"{bp.CALENDLY}/scheduled_events/EV1/invitees/INV1"
    assert lead.calendly_scheduled_event_uri == f"{bp.CALENDLY}/scheduled_events/EV1"
    assert lead.meeting_start_at is not None and lead.booked_at is not None

    # Redelivery changes nothing.
    status, body = calendly(
        service, ws["id"], bp.invitee("invitee.created", 1, utm_content=lead_ref)
    )
    assert (status, body["status"]) == (200, "duplicate")
    assert count(db_url, BookingEvent) == 1

    status, _ = calendly(service, ws["id"], bp.invitee("invitee.canceled", 1))
    assert status == 202
    lead, booked = lead_state(db_url, ws["lead"])
    assert not booked and lead.appointment_status == "canceled"


@pytest.mark.parametrize("new_first", [False, True])
def test_calendly_reschedule_stays_booked_with_the_new_uris(
    db_url: str, env: dict[str, Any], service: Service, new_first: bool
) -> None:
    ws = env["CALENDLY"]
    calendly(service, ws["id"], bp.invitee("invitee.created", 1))  # matched by email
    handover = [
        bp.invitee("invitee.canceled", 1, rescheduled=True),
        bp.invitee("invitee.created", 2, start="2026-12-12T15:00:00Z"),
    ]
    for payload in reversed(handover) if new_first else handover:
        assert calendly(service, ws["id"], payload)[0] == 202
    lead, booked = lead_state(db_url, ws["lead"])
    assert booked and lead.appointment_status == "confirmed"
    assert lead.calendly_invitee_uri == f"{bp.CALENDLY}/scheduled_events/EV2/invitees/INV2"
    assert lead.calendly_scheduled_event_uri == f"{bp.CALENDLY}/scheduled_events/EV2"
    assert lead.meeting_start_at is not None and lead.meeting_start_at.day == 12

    # A no-show was still a booked meeting.
    assert calendly(service, ws["id"], bp.no_show(2))[0] == 202
    lead, booked = lead_state(db_url, ws["lead"])
    assert booked and lead.appointment_status == "noshow"


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("bad", "bad Calendly-Webhook-Signature"),
        ("stale", "stale"),
        ("missing", "missing Calendly-Webhook-Signature"),
    ],
)
def test_calendly_refuses_bad_or_stale_signatures_and_stores_nothing(
    db_url: str, env: dict[str, Any], service: Service, case: str, error: str
) -> None:
    ws = env["CALENDLY"]
    body = bp.dumps(bp.invitee("invitee.created", 1))
    headers = bp.calendly_headers(body, SIGNING_KEY)
    if case == "bad":
        headers = bp.calendly_headers(body, "another key")
    elif case == "stale":
        headers = bp.calendly_headers(body, SIGNING_KEY, int(time.time()) - 181)
    else:
        del headers["Calendly-Webhook-Signature"]
    status, answer = service.request("POST", f"/webhooks/calendly/{ws['id']}", body, headers)
    assert status == 401 and error in answer["error"]
    assert count(db_url, BookingEvent) == 0
    assert not lead_state(db_url, ws["lead"])[1]


def held(db_url: str) -> list[tuple[str, str | None]]:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(WebhookDelivery).where(WebhookDelivery.outcome == "held")
        ).scalars()
        return [(r.provider, r.error_field) for r in rows]


def test_calendly_unusable_payload_is_held_naming_the_field(
    db_url: str, env: dict[str, Any], service: Service
) -> None:
    payload = bp.invitee("invitee.created", 1)
    del payload["payload"]["scheduled_event"]
    status, answer = calendly(service, env["CALENDLY"]["id"], payload)
    assert (status, answer) == (202, {"status": "held"})
    assert held(db_url) == [("calendly", "payload.scheduled_event")]
    assert count(db_url, BookingEvent) == 0


def test_unmatched_calendly_booking_is_matched_when_the_lead_appears(
    db_url: str, env: dict[str, Any], service: Service
) -> None:
    ws = env["CALENDLY"]
    stranger = "sam@newco.io"
    status, body = calendly(service, ws["id"], bp.invitee("invitee.created", 7, stranger))
    assert (status, body["status"]) == (202, "unmatched")
    assert count(db_url, UnmatchedBooking) == 1

    # The lead arrives later through the email platform's webhook.
    payload = eb.event(
        "LEAD_REPLIED",
        lead=eb.lead(902, email="Sam@NewCo.io"),
        campaign=eb.CAMPAIGN,
        reply=eb.reply(9902, from_email_address=stranger),
        sender_email=eb.SENDER,
    )
    status, body = service.post_json(
        f"/webhooks/emailbison/{ws['id']}", payload, {"X-Replyline-Secret": ws["secret"]}
    )
    assert status == 202
    lead, booked = lead_state(db_url, uuid.UUID(body["lead_id"]))
    assert booked and lead.calendly_invitee_uri.endswith("/INV7")  # type: ignore[union-attr]
    with session_scope(db_url) as session:
        unmatched = session.execute(select(UnmatchedBooking)).scalar_one()
        assert unmatched.matched_lead_id == lead.id
        event = session.execute(select(BookingEvent)).scalar_one()
        assert event.lead_id == lead.id


def test_ghl_appointment_lifecycle(db_url: str, env: dict[str, Any], service: Service) -> None:
    ws = env["GHL"]
    status, body = ghl(service, ws, bp.appointment("AppointmentCreate", "apt-1", "ct-1", "booked"))
    assert (status, body["status"]) == (202, "applied")
    lead, booked = lead_state(db_url, ws["lead"])
    assert booked and lead.ghl_appointment_id == "apt-1" and lead.appointment_status == "confirmed"
    assert lead.meeting_start_at is not None

    for status_name, canonical in [("showed", "showed"), ("noshow", "noshow")]:
        assert (
            ghl(service, ws, bp.appointment("AppointmentUpdate", "apt-1", "ct-1", status_name))[0]
            == 202
        )
        lead, booked = lead_state(db_url, ws["lead"])
        assert booked and lead.appointment_status == canonical

    assert (
        ghl(service, ws, bp.appointment("AppointmentUpdate", "apt-1", "ct-1", "cancelled"))[0]
        == 202
    )
    assert lead_state(db_url, ws["lead"])[1] is False

    # Booked again, then deleted.
    ghl(service, ws, bp.appointment("AppointmentCreate", "apt-2", "ct-1", "confirmed"))
    assert lead_state(db_url, ws["lead"])[1] is True
    ghl(service, ws, bp.appointment("AppointmentDelete", "apt-2", "ct-1", "confirmed"))
    lead, booked = lead_state(db_url, ws["lead"])
    assert not booked and lead.appointment_status == "canceled"

    # The same delivery twice is one event.
    payload = bp.appointment("AppointmentCreate", "apt-3", "ct-1")
    assert ghl(service, ws, payload)[0] == 202
    assert ghl(service, ws, payload) == (200, {"status": "duplicate"})


@pytest.mark.parametrize("case", ["wrong_location", "bad_signature", "no_secret"])
def test_ghl_refuses_and_stores_nothing(
    db_url: str, env: dict[str, Any], service: Service, case: str
) -> None:
    ws = env["GHL"]
    payload = bp.appointment("AppointmentCreate", "apt-1", "ct-1")
    if case == "wrong_location":
        status, answer = ghl(
            service, ws, bp.appointment("AppointmentCreate", "apt-1", "ct-1", location="loc-other")
        )
        assert status == 403 and answer["field"] == "locationId"
    elif case == "bad_signature":
        status, answer = ghl(service, ws, payload, signature=RSA.sign(b"something else"))
        assert status == 401 and answer["error"] == "bad x-wh-signature"
    else:
        status, answer = service.request(
            "POST",
            f"/webhooks/ghl/{ws['id']}",
            bp.dumps(payload),
            {"Content-Type": "application/json"},
        )
        assert status == 401
    assert count(db_url, BookingEvent) == 0
    assert not lead_state(db_url, ws["lead"])[1]


def test_an_unusable_stored_ghl_key_is_503_naming_it_and_stores_nothing(
    db_url: str, env: dict[str, Any], service: Service
) -> None:
    ws = env["GHL"]
    # Stored before `set-secret` checked keys, or written around it.
    with session_scope(db_url) as session:
        store_secret(session, cipher(env["settings"]), ws["id"], "ghl_webhook_public_key", "oops")
    payload = bp.appointment("AppointmentCreate", "apt-1", "ct-1")
    status, answer = ghl(service, ws, payload)
    assert status == 503
    assert answer["error"].startswith("the stored ghl_webhook_public_key is unusable")
    assert service.bytes_read[0] == 0  # refused before the body was read
    assert count(db_url, BookingEvent) == 0
    # Fixed, GHL's retry of the same delivery is taken.
    with session_scope(db_url) as session:
        store_secret(
            session, cipher(env["settings"]), ws["id"], "ghl_webhook_public_key", RSA.public_pem
        )
    assert ghl(service, ws, payload)[0] == 202
    assert lead_state(db_url, ws["lead"])[1]


def test_a_stray_provider_never_books_or_revives_a_lead(
    db_url: str, env: dict[str, Any], service: Service
) -> None:
    # GHL workspace: a Calendly invitee is recorded on the lead but is not a booking.
    g = env["GHL"]
    assert (
        calendly(service, g["id"], bp.invitee("invitee.created", 1, utm_content=str(g["lead"])))[0]
        == 202
    )
    lead, booked = lead_state(db_url, g["lead"])
    assert lead.calendly_invitee_uri and not booked and lead.appointment_status is None

    # ...nor does it revive a canceled GHL appointment.
    ghl(service, g, bp.appointment("AppointmentCreate", "apt-1", "ct-1"))
    ghl(service, g, bp.appointment("AppointmentDelete", "apt-1", "ct-1"))
    calendly(service, g["id"], bp.invitee("invitee.created", 2, utm_content=str(g["lead"])))
    lead, booked = lead_state(db_url, g["lead"])
    assert not booked and lead.appointment_status == "canceled"

    # Calendly workspace: a GHL appointment is not a booking.
    c = env["CALENDLY"]
    assert ghl(service, c, bp.appointment("AppointmentCreate", "apt-9", "ct-1"))[0] == 202
    lead, booked = lead_state(db_url, c["lead"])
    assert lead.ghl_appointment_id == "apt-9" and not booked


def test_ghl_unusable_is_held_and_other_types_are_ignored(
    db_url: str, env: dict[str, Any], service: Service
) -> None:
    ws = env["GHL"]
    payload = bp.appointment("AppointmentCreate", "apt-1", "ct-1")
    del payload["appointment"]["id"]
    assert ghl(service, ws, payload) == (202, {"status": "held"})
    assert held(db_url) == [("ghl", "appointment.id")]
    # A status GHL may add one day is kept in the journal and changes nothing.
    weird = bp.appointment("AppointmentCreate", "a", "ct-1", "weird")
    assert ghl(service, ws, weird) == (200, {"status": "ignored"})
    assert ghl(service, ws, {"type": "ContactCreate", "locationId": "loc-1"}) == (
        200,
        {"status": "ignored"},
    )
    # Only the workspace's booking calendar counts once one is set.
    with session_scope(db_url) as session:
        session.get_one(Workspace, ws["id"]).ghl_calendar_id = "cal-sales"
    other = bp.appointment("AppointmentCreate", "apt-2", "ct-1")  # on cal-1
    assert ghl(service, ws, other) == (200, {"status": "ignored"})
    assert count(db_url, BookingEvent) == 0


# --- poison (issue 14, item 8) ---------------------------------------------------------------
# Valid JSON a reader cannot use (an implausible time, an id that is no id) is held: answered
# 202 and journaled `held` naming the field, nothing stored, never a 4xx or a 5xx.

YEAR_10000_UTC = "9999-12-31T23:59:59-14:00"


def assert_held(db_url: str, answer: tuple[int, dict[str, Any]], provider: str, field: str) -> None:
    assert answer == (202, {"status": "held"}), answer
    assert (provider, field) in held(db_url)


def test_calendly_times_outside_the_window_and_oversized_ids_are_not_stored(
    db_url: str, env: dict[str, Any], service: Service
) -> None:
    ws = env["CALENDLY"]["id"]
    late_start = bp.invitee("invitee.created", 1, start=YEAR_10000_UTC)
    assert_held(
        db_url, calendly(service, ws, late_start), "calendly", "payload.scheduled_event.start_time"
    )
    ancient = bp.invitee("invitee.created", 2) | {"created_at": "1970-01-01T00:00:00Z"}
    assert_held(db_url, calendly(service, ws, ancient), "calendly", "created_at")
    huge = bp.invitee("invitee.created", 3)
    huge["payload"]["uri"] = f"{bp.CALENDLY}/invitees/{'9' * 3000}"
    assert_held(db_url, calendly(service, ws, huge), "calendly", "payload.uri")
    assert count(db_url, BookingEvent) == 0
    # A start past year 9999 is no time at all: the booking is kept without one.
    status, body = calendly(service, ws, bp.invitee("invitee.created", 4, start="10000-01-01"))
    assert status == 202, body


@pytest.mark.parametrize("stamp", ["\xb2", "9" * 400, "-5", "1e9"])
def test_a_calendly_signature_header_with_a_poison_timestamp_is_401(
    env: dict[str, Any], service: Service, stamp: str
) -> None:
    headers = {"Calendly-Webhook-Signature": f"t={stamp},v1=00ff", "Content-Type": "text/json"}
    status, body = service.request(
        "POST", f"/webhooks/calendly/{env['CALENDLY']['id']}", b"{}", headers
    )
    assert (status, body["error"]) == (401, "malformed Calendly-Webhook-Signature")


def test_ghl_times_outside_the_window_and_blank_ids_are_not_stored(
    db_url: str, env: dict[str, Any], service: Service
) -> None:
    ws = env["GHL"]
    sms = bp.inbound_sms("sms-1", "ct-1", "Yes please") | {"dateAdded": "0001-01-01T00:00:00+14:00"}
    assert_held(db_url, ghl(service, ws, sms), "ghl", "dateAdded")
    late = bp.appointment("AppointmentCreate", "apt-1", "ct-1", start=YEAR_10000_UTC)
    assert_held(db_url, ghl(service, ws, late), "ghl", "appointment.startTime")
    blank = bp.appointment("AppointmentCreate", " ", "ct-1")
    assert_held(db_url, ghl(service, ws, blank), "ghl", "appointment.id")
    huge = bp.inbound_sms("x" * 3000, "ct-1", "Hi")
    assert_held(db_url, ghl(service, ws, huge), "ghl", "messageId")
    assert count(db_url, BookingEvent) == 0
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0
    # A blank contact id on an appointment is no contact: never matched to a lead by "".
    status, body = ghl(service, ws, bp.appointment("AppointmentCreate", "apt-2", ""))
    assert status == 202 and "lead_id" not in body, body
