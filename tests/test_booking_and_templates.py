"""The one booking module and message templates."""

from __future__ import annotations

import ast
import pathlib
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from sender_service.booking import get_booking_link, is_meeting_booked
from sender_service.db.models import Lead, Workspace
from sender_service.templates import render


def workspace(provider: str) -> Workspace:
    return Workspace(
        name="Acme",
        booking_provider=provider,
        calendly_scheduling_url="https://calendly.com/acme/intro",
        ghl_booking_url="https://book.acme.test/widget/booking/abc",
        webhook_secret_hash="0" * 64,
    )


@pytest.mark.parametrize(
    ("provider", "fields", "booked"),
    [
        ("GHL", {"ghl_appointment_id": "apt1", "appointment_status": "confirmed"}, True),
        ("GHL", {"ghl_appointment_id": "apt1", "appointment_status": "showed"}, True),
        ("GHL", {"ghl_appointment_id": "apt1", "appointment_status": "noshow"}, True),
        ("GHL", {"ghl_appointment_id": "apt1", "appointment_status": "canceled"}, False),
        ("GHL", {"calendly_invitee_uri": "https://api.calendly.com/i/1"}, False),
        ("CALENDLY", {"calendly_invitee_uri": "https://api.calendly.com/i/1"}, True),
        ("CALENDLY", {"calendly_scheduled_event_uri": "https://api.calendly.com/e/1"}, True),
        ("CALENDLY", {"calendly_invitee_uri": "u", "appointment_status": "canceled"}, False),
        ("CALENDLY", {"ghl_appointment_id": "apt1", "appointment_status": "confirmed"}, False),
        ("CALENDLY", {}, False),
    ],
)
def test_is_meeting_booked_follows_the_workspace_provider(
    provider: str, fields: dict[str, str], booked: bool
) -> None:
    assert is_meeting_booked(Lead(**fields), workspace(provider)) is booked


def test_booking_links_are_prefilled_per_provider() -> None:
    lead = Lead(first_name="Dana", last_name="Ng", email="dana@initech.test")
    lead.id = uuid.uuid4()
    calendly = urlsplit(get_booking_link(workspace("CALENDLY"), lead) or "")
    assert calendly.netloc == "calendly.com"
    assert parse_qs(calendly.query) == {
        "name": ["Dana Ng"],
        "email": ["dana@initech.test"],
        "utm_content": [str(lead.id)],
    }
    ghl = urlsplit(get_booking_link(workspace("GHL"), lead) or "")
    assert ghl.netloc == "book.acme.test"
    assert parse_qs(ghl.query)["email"] == ["dana@initech.test"]

    bare = workspace("CALENDLY")
    bare.calendly_scheduling_url = None
    assert get_booking_link(bare, lead) is None


def test_no_other_module_compares_a_provider_name() -> None:
    """Only sender_service/booking.py may branch on 'GHL' or 'CALENDLY'."""
    root = pathlib.Path(__file__).resolve().parent.parent
    offenders = []
    # The seed stands in for the providers themselves (it writes what each one's webhooks
    # would), so it is the one other place allowed to know them apart.
    allowed = {root / "sender_service" / "booking.py"}
    for path in [*root.glob("sender_service/**/*.py"), *root.glob("dagster_project/**/*.py")]:
        if path in allowed or "seed" in path.relative_to(root).parts[:2]:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare | ast.MatchValue | ast.Dict):
                names = {
                    n.value
                    for n in ast.walk(node)
                    if isinstance(n, ast.Constant) and n.value in ("GHL", "CALENDLY")
                }
                if names:
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []


def test_templates_resolve_or_refuse() -> None:
    values = {"firstName": "Dana", "companyName": "Initech", "calendarLink": "https://c/x"}
    ok = render("Hi {firstName}, book {calendarLink} for {companyName}.", values)
    assert ok.sendable and ok.text == "Hi Dana, book https://c/x for Initech."

    missing = render("Hi {firstName} {lastName}", values)
    assert not missing.sendable and missing.unresolved == ("lastName",)
    unknown = render("Hi {nickname}", values)
    assert unknown.unresolved == ("nickname",)
    no_link = render("{calendarLink}", {**values, "calendarLink": None})
    assert no_link.unresolved == ("calendarLink",)
    stray = render("Hi {firstName} {", values)
    assert not stray.sendable
