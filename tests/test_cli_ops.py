"""Ops commands of issue 6: campaign timing, sends of unknown outcome, webhook URLs; and the
JSON log lines with a request id."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from click.testing import CliRunner

from sender_service import logs
from sender_service.db.engine import session_scope
from sender_service.db.models import EmailCampaign, Message, Notification
from tests import factories
from tests.cli_helpers import assert_refused, ok_json, run
from tests.service import Service


@pytest.fixture
def campaign(db_url: str) -> dict[str, Any]:
    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        c = factories.campaign(session, ws)
        return {"workspace": str(ws.id), "campaign": c.external_id, "id": c.id}


def test_campaigns_update_sets_human_timing(
    db_url: str, cli_runner: CliRunner, campaign: dict[str, Any]
) -> None:
    base = ["campaigns", "update", "--workspace", campaign["workspace"]]
    base += ["--campaign", campaign["campaign"]]
    view = ok_json(
        run(cli_runner, db_url, *base, "--send-delay-min", "60", "--send-delay-max", "300",
            "--sending-hours", "business_hours", "--json")
    )  # fmt: skip
    assert (view["send_delay_min_seconds"], view["send_delay_max_seconds"]) == (60, 300)
    assert view["sending_hours"] == "business_hours"
    view = ok_json(run(cli_runner, db_url, *base, "--send-delay-max", "120", "--json"))
    assert (view["send_delay_min_seconds"], view["send_delay_max_seconds"]) == (60, 120)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--send-delay-min", "-5"], "--send-delay-min"),
        (["--send-delay-max", "1.5"], "--send-delay-max"),
        (["--send-delay-min", "90", "--send-delay-max", "30"], "above its maximum"),
        (["--sending-hours", "nights"], "sending hours"),
    ],
)
def test_campaigns_update_refuses_bad_input_and_changes_nothing(
    db_url: str, cli_runner: CliRunner, campaign: dict[str, Any], args: list[str], fragment: str
) -> None:
    base = ["campaigns", "update", "--workspace", campaign["workspace"]]
    base += ["--campaign", campaign["campaign"], "--sending-hours", "always"]
    assert_refused(run(cli_runner, db_url, *base, *args), fragment)
    with session_scope(db_url) as session:
        row = session.get_one(EmailCampaign, campaign["id"])
        assert (row.send_delay_min_seconds, row.send_delay_max_seconds) == (0, 0)
        assert row.sending_hours == "always"


def test_sends_unknown_lists_them_with_the_reviewers_dm(db_url: str, cli_runner: CliRunner) -> None:
    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        ld = factories.lead(session, ws, factories.campaign(session, ws))
        unknown = Message(
            workspace_id=ws.id, lead_id=ld.id, direction="outbound", channel="email",
            body="Hi Dana", to_address=ld.email, sent_by="ai", delivery_status="unknown",
            source="emailbison_reply",
        )  # fmt: skip
        session.add(unknown)
        session.flush()
        session.add(
            Notification(
                workspace_id=ws.id, lead_id=ld.id, kind="unknown_send",
                dedupe_key=f"unknown-send:{unknown.id}", status="sent",
            )
        )  # fmt: skip
        unknown_id = unknown.id
    (listed,) = ok_json(run(cli_runner, db_url, "sends", "unknown", "--json"))
    assert listed["message_id"] == str(unknown_id)
    assert (listed["lead_email"], listed["reviewer_dm"]) == ("dana@initech.test", "sent")


def test_webhooks_urls_prints_each_platforms_url(db_url: str, cli_runner: CliRunner) -> None:
    with session_scope(db_url) as session:
        ws_id = str(factories.workspace(session).id)
    env = {"PUBLIC_BASE_URL": "https://hooks.acme.test/"}
    urls = ok_json(
        run(cli_runner, db_url, "webhooks", "urls", "--workspace", ws_id, "--json", **env)
    )
    assert urls["urls"] == {
        **{
            p: f"https://hooks.acme.test/webhooks/{p}/{ws_id}?secret=<WEBHOOK_SECRET>"
            for p in ("emailbison", "ghl")
        },
        # Calendly never reads a shared secret: its deliveries are signed.
        "calendly": f"https://hooks.acme.test/webhooks/calendly/{ws_id}",
    }
    assert "signs every delivery" in urls["notes"]["calendly"]
    text = run(cli_runner, db_url, "webhooks", "urls", "--workspace", ws_id, **env).stdout
    assert "X-Replyline-Secret" in text
    (calendly,) = [line for line in text.splitlines() if line.startswith("Calendly")]
    assert calendly.split() == ["Calendly", f"https://hooks.acme.test/webhooks/calendly/{ws_id}"]
    assert "no secret in this URL: Calendly signs every delivery" in text
    assert_refused(run(cli_runner, db_url, "webhooks", "urls", "--workspace", "nope"), "UUID")


def test_log_lines_are_json_with_the_request_id_and_no_secret(
    service: Service, workspace: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure()
    try:
        ws_id, secret = workspace
        conn_headers = {"X-Request-Id": "req-42", "Content-Type": "application/json"}
        status, _ = service.request(
            "POST", f"/webhooks/emailbison/{ws_id}?secret={secret}", b"{", conn_headers
        )
        assert status == 400
        logging.getLogger("sender_service.test").info("no context here, secret=%s", secret)
        token = logs.request_id.set("req-43")
        logging.getLogger("sender_service.test").warning("calling ?secret=%s", secret)
        logs.request_id.reset(token)
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert secret not in json.dumps(lines)
    assert {"request_id": "req-43", "level": "warning"}.items() <= lines[-1].items()
    assert "request_id" not in lines[-2]
