"""Campaign creation with defaults and history, safe when two webhooks race."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from sender_service.campaigns import get_or_create_campaign
from sender_service.db.engine import session_scope
from sender_service.db.models import DEFAULT_THRESHOLD, CampaignModeChange, EmailCampaign
from sender_service.workspaces import create_workspace, webhook_secret_matches


def test_new_campaign_gets_defaults_and_one_created_row(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws, _ = create_workspace(session, name="Acme", booking_provider="GHL")
        ws_id = ws.id

    barrier = threading.Barrier(8)
    created: list[bool] = []

    def create() -> None:
        barrier.wait()
        with session_scope(db_url) as session:
            created.append(get_or_create_campaign(session, ws_id, "c-1", "Spring push")[1])

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(created) == [False] * 7 + [True]
    with session_scope(db_url) as session:
        campaign = session.execute(select(EmailCampaign)).scalar_one()
        assert campaign.response_mode == "SETTER_MANAGED"
        assert campaign.auto_send_confidence_threshold == DEFAULT_THRESHOLD
        history = session.execute(select(CampaignModeChange)).scalars().all()
        assert [(h.from_mode, h.to_mode, h.reason) for h in history] == [
            (None, "SETTER_MANAGED", "created")
        ]
        assert session.scalar(select(func.count()).select_from(EmailCampaign)) == 1


def test_webhook_secret_is_stored_hashed_and_checked(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws, secret = create_workspace(session, name="Acme", booking_provider="CALENDLY")
        assert secret not in ws.webhook_secret_hash
        assert webhook_secret_matches(ws, secret)
        assert not webhook_secret_matches(ws, secret + "x")
        assert not webhook_secret_matches(ws, None)
        assert not webhook_secret_matches(ws, "")
