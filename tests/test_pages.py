"""The pages' rules through Flask's test client: who may change campaigns and the kill switch,
validation that changes nothing on bad input, what the review queue holds, rejecting, viewers
reading only, and the dashboard without a warehouse."""

from __future__ import annotations

import dataclasses
import io
import time
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask.testing import FlaskClient

from sender_service.app import create_app
from sender_service.db.engine import session_scope
from sender_service.db.models import AIDraft, AutoSendDecision, EmailCampaign, Workspace
from sender_service.ingest import journal
from sender_service.passwords import set_password
from sender_service.settings import load_settings
from sender_service.users import add_member
from sender_service.web.exports import ExportTooLong
from tests import factories
from tests.test_sign_in import PASSWORD, _sign_in, _token


@pytest.fixture
def world(db_url: str, tmp_path: Any) -> dict[str, Any]:
    """One workspace, an admin, a setter and a viewer; an AI and a setter-managed campaign with
    one waiting draft each, plus drafts that must not be queued."""
    suffix = uuid.uuid4().hex[:6]
    with session_scope(db_url) as session:
        ws = factories.workspace(session, name="Acme")
        people = {}
        for role in ("admin", "setter", "viewer"):
            user, _, _ = add_member(session, f"{role}-{suffix}@agency.test", ws.id, role)
            set_password(session, user, PASSWORD)
            people[role] = user.email
        ai = factories.campaign(session, ws, "AI_AUTO_SEND")
        manual = factories.campaign(session, ws, "SETTER_MANAGED", name="Manual")
        now = datetime.now(UTC)

        def draft(campaign: EmailCampaign, email: str, age: timedelta, review: bool) -> uuid.UUID:
            lead = factories.lead(session, ws, campaign, email=email, first_name=email[:4])
            reply = factories.inbound(session, lead, "Sounds good", occurred_at=now - age)
            row = AIDraft(
                workspace_id=ws.id,
                lead_id=lead.id,
                inbound_message_id=reply.id,
                body="Hi, here is a time",
                confidence=0.5,
                safe_to_send=True,
            )
            session.add(row)
            session.flush()
            if review:
                session.add(
                    AutoSendDecision(
                        workspace_id=ws.id,
                        lead_id=lead.id,
                        ai_draft_id=row.id,
                        action="needs_review",
                        reason="confidence 0.50 below threshold 0.90",
                    )
                )
            return row.id

        drafts = {
            "ai_review": draft(ai, "olga@x.test", timedelta(hours=3), True),
            "manual": draft(manual, "mike@x.test", timedelta(hours=1), False),
            "ai_unreviewed": draft(ai, "ivan@x.test", timedelta(hours=5), False),
        }
        ids = {"workspace": ws.id, "ai": ai.id, "manual": manual.id}
    settings = load_settings(
        {
            "REPLYLINE_SECRET_KEY": Fernet.generate_key().decode(),
            "WAREHOUSE_PATH": str(tmp_path / "none.duckdb"),
        }
    )
    app = create_app({"DATABASE_URL": db_url, "SETTINGS": settings})
    return {"app": app, "people": people, "drafts": drafts, **ids}


def _as(world: dict[str, Any], role: str) -> FlaskClient:
    client: FlaskClient = world["app"].test_client()
    assert _sign_in(client, world["people"][role]).status_code == 302
    return client


def _campaign_form(client: FlaskClient, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": _token(client, "/campaigns"),
        "mode": "AI_AUTO_SEND",
        "threshold": "0.8",
        "delay_min": "30",
        "delay_max": "120",
        "sending_hours": "business_hours",
        **fields,
    }


def test_only_admins_change_campaigns_and_bad_input_changes_nothing(
    db_url: str, world: dict[str, Any]
) -> None:
    path = f"/campaigns/{world['manual']}"
    setter = _as(world, "setter")
    assert setter.post(path, data=_campaign_form(setter)).status_code == 403
    admin = _as(world, "admin")
    bad = admin.post(path, data=_campaign_form(admin, delay_min="300"), follow_redirects=True)
    assert "above its maximum" in bad.get_data(as_text=True)
    bad = admin.post(path, data=_campaign_form(admin, threshold="1.5"), follow_redirects=True)
    assert "threshold must be in [0, 1]" in bad.get_data(as_text=True)
    with session_scope(db_url) as session:
        row = session.get_one(EmailCampaign, world["manual"])
        assert (row.response_mode, row.send_delay_max_seconds) == ("SETTER_MANAGED", 0)
    ok = admin.post(path, data=_campaign_form(admin), follow_redirects=True)
    assert "Saved Manual: AI_AUTO_SEND" in ok.get_data(as_text=True)
    with session_scope(db_url) as session:
        row = session.get_one(EmailCampaign, world["manual"])
        assert (row.response_mode, str(row.auto_send_confidence_threshold)) == (
            "AI_AUTO_SEND",
            "0.800",
        )
        assert (row.send_delay_min_seconds, row.send_delay_max_seconds) == (30, 120)
        assert row.sending_hours == "business_hours"


def test_the_kill_switch_is_for_admins(db_url: str, world: dict[str, Any]) -> None:
    path = f"/workspaces/{world['workspace']}/auto-send"
    setter = _as(world, "setter")
    form = {"csrf_token": _token(setter, "/campaigns"), "enabled": "false"}
    assert setter.post(path, data=form).status_code == 403
    admin = _as(world, "admin")
    form = {"csrf_token": _token(admin, "/campaigns"), "enabled": "false"}
    assert admin.post(path, data=form).status_code == 302
    with session_scope(db_url) as session:
        assert session.get_one(Workspace, world["workspace"]).auto_send_enabled is False
    assert "Off: no AI draft" in admin.get("/campaigns").get_data(as_text=True)


def test_the_queue_holds_what_waits_for_a_person_oldest_first(world: dict[str, Any]) -> None:
    page = _as(world, "setter").get("/review").get_data(as_text=True)
    drafts = world["drafts"]
    assert str(drafts["ai_unreviewed"]) not in page  # still with the pipeline
    first, second = page.index(str(drafts["ai_review"])), page.index(str(drafts["manual"]))
    assert first < second  # waited 3 h, then 1 h
    assert "confidence 0.50 below threshold 0.90" in page and "3 h 0 min" in page


def test_reject_then_a_second_reject_is_told_it_was_handled(
    db_url: str, world: dict[str, Any]
) -> None:
    setter = _as(world, "setter")
    path = f"/review/{world['drafts']['manual']}/reject"
    first = setter.post(path, data={"csrf_token": _token(setter, "/review")}, follow_redirects=True)
    assert "Draft rejected" in first.get_data(as_text=True)
    again = setter.post(path, data={"csrf_token": _token(setter, "/review")}, follow_redirects=True)
    assert "already handled this draft (it is rejected)" in again.get_data(as_text=True)
    with session_scope(db_url) as session:
        assert session.get_one(AIDraft, world["drafts"]["manual"]).status == "rejected"


def test_viewers_read_the_queue_but_cannot_act(world: dict[str, Any]) -> None:
    viewer = _as(world, "viewer")
    page = viewer.get("/review").get_data(as_text=True)
    assert "Viewers read the queue" in page and ">Send<" not in page
    form = {"csrf_token": _token(viewer, "/review"), "body": "hello"}
    assert viewer.post(f"/review/{world['drafts']['manual']}/send", data=form).status_code == 403


def test_the_pages_download_is_never_cached(world: dict[str, Any]) -> None:
    """The zip holds personal data: like the API's, the page's download says no-store."""
    response = _as(world, "viewer").get(f"/export/chatgpt?workspace_id={world['workspace']}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert archive.testzip() is None and "messages.jsonl" in archive.namelist()


def test_the_pages_download_is_capped_like_the_apis(db_url: str, world: dict[str, Any]) -> None:
    """A page download still streaming past EXPORT_MAX_SECONDS is cut off, as the API's is."""
    settings = world["app"].extensions["replyline_services"].settings
    app = create_app(
        {"DATABASE_URL": db_url, "SETTINGS": dataclasses.replace(settings, export_max_seconds=0.2)}
    )
    client: FlaskClient = app.test_client()
    assert _sign_in(client, world["people"]["viewer"]).status_code == 302
    response = client.get(f"/export/chatgpt?workspace_id={world['workspace']}", buffered=False)
    assert response.status_code == 200
    chunks = iter(response.response)
    next(chunks)
    time.sleep(0.4)  # a slow reader
    with pytest.raises(ExportTooLong):
        for _ in chunks:
            pass
    response.close()


def test_the_dashboard_says_when_there_is_no_warehouse(world: dict[str, Any]) -> None:
    client = _as(world, "viewer")
    page = client.get("/").get_data(as_text=True)
    assert "No warehouse yet" in page and "Download dataset for ChatGPT" in page
    bad = client.get(f"/export/chatgpt?workspace_id={world['workspace']}&channels=fax")
    assert bad.status_code == 400 and "unknown channel" in bad.get_data(as_text=True)
    other = client.get(f"/export/chatgpt?workspace_id={uuid.uuid4()}")
    assert other.status_code == 404


def test_the_dashboard_warns_of_held_deliveries(db_url: str, world: dict[str, Any]) -> None:
    client = _as(world, "viewer")
    assert 'data-testid="held-deliveries"' not in client.get("/").get_data(as_text=True)
    entry = journal.Entry("emailbison", world["workspace"], b'{"event": {}}', {})
    with session_scope(db_url) as session:
        for outcome in ("held", "held", "stored", "discarded"):
            journal.add(session, entry, outcome, error="event.type: missing")
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="held-deliveries"' in page
    assert "2 webhook deliveries are held" in page and "webhooks replay --held" in page


def test_assigned_to_me_and_reassignment(db_url: str, world: dict[str, Any]) -> None:
    from sender_service.db.models import Lead
    from sender_service.users import find_user

    with session_scope(db_url) as session:
        setter_id = find_user(session, world["people"]["setter"]).id  # type: ignore[union-attr]
        admin_id = find_user(session, world["people"]["admin"]).id  # type: ignore[union-attr]
        manual = session.get_one(AIDraft, world["drafts"]["manual"])
        lead = session.get_one(Lead, manual.lead_id)
        lead.assigned_user_id = setter_id
        lead_id = lead.id
    setter = _as(world, "setter")
    mine = setter.get("/review?mine=1").get_data(as_text=True)
    assert str(world["drafts"]["manual"]) in mine
    assert str(world["drafts"]["ai_review"]) not in mine  # nobody's yet
    everything = setter.get("/review").get_data(as_text=True)
    assert str(world["drafts"]["ai_review"]) in everything

    path = f"/review/leads/{lead_id}/assign"
    viewer = _as(world, "viewer")
    form = {"csrf_token": _token(viewer, "/review"), "user_id": str(admin_id)}
    assert viewer.post(path, data=form).status_code == 403
    bad = {"csrf_token": _token(setter, "/review"), "user_id": str(uuid.uuid4())}
    assert setter.post(path, data=bad).status_code == 400
    form = {"csrf_token": _token(setter, "/review"), "user_id": str(admin_id)}
    assert setter.post(path, data=form).status_code == 302
    with session_scope(db_url) as session:
        assert session.get_one(Lead, lead_id).assigned_user_id == admin_id
    assert str(world["drafts"]["manual"]) not in setter.get("/review?mine=1").get_data(as_text=True)
    admin_page = _as(world, "admin").get("/review?mine=1").get_data(as_text=True)
    assert str(world["drafts"]["manual"]) in admin_page
