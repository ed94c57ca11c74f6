"""`replyline slack check` through the real slack_sdk client against the loopback Slack stub."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from sender_service.db.engine import session_scope
from sender_service.workspaces import create_workspace
from tests.cli_helpers import assert_refused, run
from tests.stubs import Stubs


@pytest.fixture
def stubs(httpserver: HTTPServer) -> Stubs:
    return Stubs(httpserver)


@pytest.fixture
def ws_id(db_url: str) -> str:
    with session_scope(db_url) as session:
        ws, _ = create_workspace(
            session, name="Acme", booking_provider="GHL", review_slack_email="jon@acme.test"
        )
        return str(ws.id)


def _check(
    cli_runner: CliRunner, db_url: str, stubs: Stubs, ws_id: str, *extra: str
) -> tuple[int, str]:
    env = {k: v for k, v in stubs.env().items() if k != "REPLYLINE_SECRET_KEY"}
    result = run(cli_runner, db_url, "slack", "check", "--workspace", ws_id, *extra, **env)
    return result.exit_code, result.stdout


def test_a_healthy_token_passes_every_step_and_posts_nothing(
    db_url: str, cli_runner: CliRunner, stubs: Stubs, ws_id: str
) -> None:
    code, out = _check(cli_runner, db_url, stubs, ws_id)
    print(out)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == f"Slack check for Acme ({ws_id}), reviewer jon@acme.test"
    assert [line.split()[:2] for line in lines[1:5]] == [
        ["ok", "auth.test"],
        ["ok", "scopes"],
        ["ok", "users.lookupByEmail"],
        ["ok", "conversations.open"],
    ]
    assert "jon@acme.test is U-REVIEW" in out and "DM with U-REVIEW is D-REVIEW" in out
    assert lines[-1] == "All good: review DMs can be sent."
    # The reviewer was looked up by the workspace's email; nothing was posted.
    (lookup,) = stubs.calls("users.lookupByEmail")
    assert (lookup.form.get("email") or lookup.args.get("email")) == "jon@acme.test"
    assert stubs.calls("chat.postMessage") == []


def test_a_missing_scope_is_named_and_the_check_fails(
    db_url: str, cli_runner: CliRunner, stubs: Stubs, ws_id: str
) -> None:
    stubs.slack_scopes = [s for s in stubs.slack_scopes if s != "im:history"]
    code, out = _check(cli_runner, db_url, stubs, ws_id)
    print(out)
    assert code == 1
    (scopes,) = [line for line in out.splitlines() if line.split()[1:2] == ["scopes"]]
    assert scopes.split()[0] == "fail"
    assert "missing im:history (conversations.history: a retried DM is found" in scopes
    assert out.splitlines()[-1].startswith("Not ready")


def test_without_users_read_email_the_reviewer_lookup_fails_too(
    db_url: str, cli_runner: CliRunner, stubs: Stubs, ws_id: str
) -> None:
    stubs.slack_scopes = [s for s in stubs.slack_scopes if s != "users:read.email"]
    code, out = _check(cli_runner, db_url, stubs, ws_id, "--json")
    assert code == 1
    answer: dict[str, Any] = json.loads(out)
    assert answer["missing_scopes"] == ["users:read.email"]
    steps = {step["name"]: step for step in answer["steps"]}
    assert steps["users.lookupByEmail"]["status"] == "fail"
    assert "missing_scope" in steps["users.lookupByEmail"]["detail"]
    assert steps["conversations.open"]["status"] == "skip"


def test_a_report_channel_needs_files_write(
    db_url: str, cli_runner: CliRunner, stubs: Stubs, ws_id: str
) -> None:
    run(cli_runner, db_url, "workspace", "update", "--workspace", ws_id,
        "--report-slack-channel", "C0123")  # fmt: skip
    stubs.slack_scopes = [s for s in stubs.slack_scopes if s != "files:write"]
    code, out = _check(cli_runner, db_url, stubs, ws_id, "--json")
    assert code == 1 and json.loads(out)["missing_scopes"] == ["files:write"]


def test_a_revoked_token_fails_at_auth_test(
    db_url: str, cli_runner: CliRunner, httpserver: HTTPServer, ws_id: str
) -> None:
    httpserver.expect_request("/slack/api/auth.test").respond_with_json(
        {"ok": False, "error": "invalid_auth"}
    )
    stubs = Stubs(httpserver)
    code, out = _check(cli_runner, db_url, stubs, ws_id)
    assert code == 1
    assert "fail  auth.test            auth.test: invalid_auth" in out
    assert stubs.calls("users.lookupByEmail") == []


def test_without_a_token_it_says_so(db_url: str, cli_runner: CliRunner, ws_id: str) -> None:
    result = run(cli_runner, db_url, "slack", "check", "--workspace", ws_id, SLACK_BOT_TOKEN="")
    assert_refused(result, "SLACK_BOT_TOKEN is not set")
