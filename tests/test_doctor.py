"""`replyline doctor`: a healthy deployment is all OK (exit 0); each broken part is a FAIL line
naming its fix (exit 2); warnings alone exit 1. Providers are the stub servers."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from pytest_httpserver import HTTPServer

from sender_service.credentials import cipher, store_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import Job
from sender_service.ingest import journal
from tests import factories
from tests.cli_helpers import run
from tests.stubs import Stubs

PLATFORM_KEY = "eb-key-4f1c9a"


@pytest.fixture
def stubs(httpserver: HTTPServer) -> Stubs:
    stubs = Stubs(httpserver)
    # EmailBison's campaign list: `data` holds the campaigns, Laravel pagination in `meta`.
    httpserver.expect_request(
        "/eb/api/campaigns", headers={"Authorization": f"Bearer {PLATFORM_KEY}"}
    ).respond_with_json(
        {"data": [{"id": 3, "name": "Q3 founders", "status": "active"}],
         "meta": {"current_page": 1, "last_page": 1}}
    )  # fmt: skip
    return stubs


@pytest.fixture
def healthy(db_url: str, stubs: Stubs, tmp_path: Path) -> dict[str, str]:
    """A Calendly workspace with every credential, and a warehouse built a minute ago."""
    settings = stubs.settings()
    with session_scope(db_url) as session:
        ws = factories.workspace(session, email_platform_url=stubs.platform_url)
        for name, value in (
            ("email_platform_api_key", PLATFORM_KEY),
            ("calendly_signing_key", "calendly-signing-9d2"),
        ):
            store_secret(session, cipher(settings), ws.id, name, value)
        workspace_id = str(ws.id)
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(b"")
    return {**stubs.env(WAREHOUSE_PATH=str(warehouse)), "workspace_id": workspace_id}


def doctor(
    runner: CliRunner, db_url: str, env: dict[str, str], *args: str
) -> tuple[int, list[dict[str, Any]]]:
    result = run(runner, db_url, "doctor", "--json", *args, **env)
    return result.exit_code, json.loads(result.stdout)["checks"]


def statuses(checks: list[dict[str, Any]]) -> dict[str, str]:
    worst: dict[str, str] = {}
    order = ["OK", "WARN", "FAIL"]
    for c in checks:
        if order.index(c["status"]) >= order.index(worst.get(c["check"], "OK")):
            worst[c["check"]] = c["status"]
    return worst


def test_a_healthy_deployment_is_all_ok(
    db_url: str, cli_runner: CliRunner, healthy: dict[str, str], stubs: Stubs
) -> None:
    env = {k: v for k, v in healthy.items() if k != "workspace_id"}
    code, checks = doctor(cli_runner, db_url, env)
    assert statuses(checks) == {
        "database": "OK",
        "migrations": "OK",
        "public_base_url": "OK",
        "secret_key": "OK",
        "llm": "OK",
        "warehouse": "OK",
        "jobs_dead": "OK",
        "jobs_late": "OK",
        "webhooks_held": "OK",
        "email_platform": "OK",
        "slack": "OK",
        "booking": "OK",
    }, checks
    assert code == 0
    # The platform and the LLM were really asked; nothing was posted to Slack.
    assert stubs.calls("/eb/api/campaigns") and stubs.calls("/v1/chat/completions")
    assert stubs.slack_posts() == []
    # The human-readable form says the same, one line per check.
    text = run(cli_runner, db_url, "doctor", **env)
    assert text.exit_code == 0
    assert all(line.startswith("OK ") for line in text.stdout.splitlines()), text.stdout


def test_three_broken_parts_are_three_failures_with_their_fixes(
    db_url: str, cli_runner: CliRunner, healthy: dict[str, str], stubs: Stubs
) -> None:
    env = {k: v for k, v in healthy.items() if k != "workspace_id"}
    # 1. the secret key was rotated without re-storing the credentials;
    env["REPLYLINE_SECRET_KEY"] = Fernet.generate_key().decode()
    # 2. the Slack app lost im:write;
    stubs.slack_scopes.remove("im:write")
    # 3. the warehouse has not been rebuilt for an hour, and a job ran out of attempts.
    stale = time.time() - 3600
    os.utime(env["WAREHOUSE_PATH"], (stale, stale))
    with session_scope(db_url) as session:
        session.add(Job(kind="process_reply", status="dead", attempts=8, last_error="boom"))

    code, checks = doctor(cli_runner, db_url, env)
    failed = {c["check"]: c for c in checks if c["status"] == "FAIL"}
    assert set(failed) == {"secret_key", "slack", "warehouse", "jobs_dead"}, checks
    assert code == 2
    assert "cannot decrypt 2 stored credential(s)" in failed["secret_key"]["detail"]
    assert "im:write" in failed["slack"]["detail"]
    assert "built 60 min ago" in failed["warehouse"]["detail"]
    assert "1 process_reply" in failed["jobs_dead"]["detail"]
    assert all(c["fix"] for c in failed.values())
    # No credential leaks into the report.
    report = json.dumps(checks)
    assert PLATFORM_KEY not in report and "calendly-signing-9d2" not in report


def test_missing_credentials_and_an_unreachable_platform_fail_per_workspace(
    db_url: str, cli_runner: CliRunner, stubs: Stubs, tmp_path: Path
) -> None:
    settings = stubs.settings()
    with session_scope(db_url) as session:
        ghl = factories.workspace(session, "GHL", name="No location")
        down = factories.workspace(session, email_platform_url="http://127.0.0.1:9/")
        store_secret(session, cipher(settings), down.id, "email_platform_api_key", PLATFORM_KEY)
        store_secret(session, cipher(settings), down.id, "calendly_signing_key", "k")
    env = stubs.env(WAREHOUSE_PATH=str(tmp_path / "none.duckdb"))
    code, checks = doctor(cli_runner, db_url, env)
    assert code == 2
    by_workspace = {
        (c["workspace_id"], c["check"]): c for c in checks if c["workspace_id"] is not None
    }
    assert by_workspace[(str(ghl.id), "booking")]["status"] == "FAIL"
    assert "location id and API key missing" in by_workspace[(str(ghl.id), "booking")]["detail"]
    assert by_workspace[(str(ghl.id), "email_platform")]["status"] == "FAIL"
    unreachable = by_workspace[(str(down.id), "email_platform")]
    assert unreachable["status"] == "FAIL" and "ConnectError" in unreachable["detail"]
    # --workspace narrows the per-workspace checks to one.
    _, only = doctor(cli_runner, db_url, env, "--workspace", str(down.id))
    assert {c["workspace_id"] for c in only} == {None, str(down.id)}
    code, unknown = doctor(cli_runner, db_url, env, "--workspace", str(uuid.uuid4()))
    assert code == 2 and statuses(unknown)["workspace"] == "FAIL"
    refused = run(cli_runner, db_url, "doctor", "--workspace", "acme", **env)
    assert refused.exit_code == 2 and "--workspace must be an id" in refused.stderr


def test_warnings_alone_exit_1(
    db_url: str, cli_runner: CliRunner, healthy: dict[str, str], stubs: Stubs
) -> None:
    env = {k: v for k, v in healthy.items() if k != "workspace_id"}
    env["LLM_PROVIDER"] = "offline"
    with session_scope(db_url) as session:
        entry = journal.Entry("emailbison", uuid.UUID(healthy["workspace_id"]), b"{}", {})
        journal.add(session, entry, "held", error="no reader", error_field="event")
    code, checks = doctor(cli_runner, db_url, env)
    assert statuses(checks)["llm"] == "WARN"
    assert statuses(checks)["webhooks_held"] == "WARN"
    assert "FAIL" not in statuses(checks).values()
    assert code == 1


def test_an_unreachable_database_is_one_failure(cli_runner: CliRunner, stubs: Stubs) -> None:
    result = run(cli_runner, "postgresql://nobody@127.0.0.1:9/none", "doctor", **stubs.env())
    assert result.exit_code == 2
    first = result.stdout.splitlines()[0]
    assert first.startswith("FAIL  database") and "cannot connect" in first
