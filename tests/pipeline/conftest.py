"""Fixtures of the end-to-end pipeline tests: loopback stubs, a Calendly workspace with
EmailBison credentials whose campaign 77 auto-sends, and the service over HTTP pointed at the
stubs (this `service` replaces the plain one of tests/conftest.py in this folder)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from sender_service.credentials import cipher, store_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import EmailCampaign
from sender_service.workspaces import create_workspace
from tests.service import Service, run_service
from tests.stubs import Stubs


@pytest.fixture
def stubs(httpserver: HTTPServer) -> Stubs:
    return Stubs(httpserver)


@pytest.fixture
def setup(db_url: str, stubs: Stubs) -> dict[str, Any]:
    """A Calendly workspace with EmailBison credentials; campaign 77 auto-sends."""
    settings = stubs.settings()
    with session_scope(db_url) as session:
        ws, secret = create_workspace(
            session,
            name="Acme",
            booking_provider="CALENDLY",
            calendly_scheduling_url="https://calendly.com/acme/intro",
            email_platform_url=stubs.platform_url,
            review_slack_email="jon@acme.test",
        )
        store_secret(session, cipher(settings), ws.id, "email_platform_api_key", "eb-key")
        session.add(
            EmailCampaign(
                workspace_id=ws.id,
                external_id="77",
                name="Spring push",
                response_mode="AI_AUTO_SEND",
            )
        )
    return {"workspace_id": ws.id, "secret": secret, "settings": settings}


@pytest.fixture
def service(db_url: str, setup: dict[str, Any]) -> Iterator[Service]:
    with run_service(db_url, setup["settings"]) as running:
        yield running
