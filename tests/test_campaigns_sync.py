"""Campaign sync through the real EmailBison client against a loopback stub of its API, and
`campaigns list` / `campaigns set-mode` with their bad input."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from sender_service.email_platforms import EmailBisonClient, EmailPlatformError
from tests.cli_helpers import assert_refused, create_workspace, ok_json, run

API_KEY = "eb-test-key-123"


def _serve_campaigns(server: HTTPServer, pages: list[list[dict[str, Any]]]) -> None:
    """EmailBison's shape: Laravel pagination under `data` / `meta`, bearer auth."""
    server.clear()
    for number, items in enumerate(pages, start=1):
        server.expect_request(
            "/api/campaigns",
            query_string={"page": str(number)},
            headers={"Authorization": f"Bearer {API_KEY}"},
        ).respond_with_json(
            {"data": items, "meta": {"current_page": number, "last_page": len(pages)}}
        )


def _workspace_with_platform(
    cli_runner: CliRunner, db_url: str, server: HTTPServer
) -> dict[str, Any]:
    ws = create_workspace(cli_runner, db_url, "--email-platform-url", server.url_for("/"))
    result = run(
        cli_runner, db_url, "workspace", "set-secret", "--workspace", ws["id"],
        "--name", "email_platform_api_key", input=API_KEY + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return ws


def _history(db_url: str) -> list[tuple[str, str | None, str, str, Any]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select c.external_id, h.from_mode, h.to_mode, h.reason, h.changed_by"
            " from campaign_mode_changes h join email_campaigns c on c.id = h.email_campaign_id"
            " order by h.changed_at, h.created_at"
        ).fetchall()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def test_client_follows_pages_and_a_bare_list(httpserver: HTTPServer) -> None:
    _serve_campaigns(httpserver, [[{"id": 1, "name": "A"}], [{"id": 2, "name": ""}]])
    with EmailBisonClient(httpserver.url_for("/"), API_KEY) as client:
        listed = client.list_campaigns()
    assert [(c.external_id, c.name) for c in listed] == [("1", "A"), ("2", "Campaign 2")]

    httpserver.clear()
    httpserver.expect_request("/api/campaigns").respond_with_json([{"id": 9, "name": "Z"}])
    with EmailBisonClient(httpserver.url_for("/"), API_KEY) as client:
        assert [c.external_id for c in client.list_campaigns()] == ["9"]


def test_client_errors_never_carry_the_key(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/campaigns").respond_with_data("no", status=401)
    with EmailBisonClient(httpserver.url_for("/"), API_KEY) as client:
        with pytest.raises(EmailPlatformError, match="HTTP 401") as caught:
            client.list_campaigns()
    assert API_KEY not in str(caught.value)


def test_sync_creates_keeps_renames_archives_and_unarchives(
    db_url: str, cli_runner: CliRunner, httpserver: HTTPServer
) -> None:
    ws = _workspace_with_platform(cli_runner, db_url, httpserver)
    _serve_campaigns(
        httpserver,
        [[{"id": 11, "name": "Founders"}, {"id": 12, "name": "Agencies"}], [{"id": 13}]],
    )
    counts = ok_json(
        run(cli_runner, db_url, "campaigns", "sync", "--workspace", ws["id"], "--json")
    )
    assert counts["created"] == 3 and counts["listed"] == 3

    listed = ok_json(
        run(cli_runner, db_url, "campaigns", "list", "--workspace", ws["id"], "--json")
    )
    assert {c["external_id"]: c["name"] for c in listed} == {
        "11": "Founders",
        "12": "Agencies",
        "13": "Campaign 13",
    }
    assert all(
        c["response_mode"] == "SETTER_MANAGED"
        and c["auto_send_confidence_threshold"] == 0.9
        and c["archived"] is False
        for c in listed
    )
    assert set(listed[0]) == {
        "id", "external_id", "name", "response_mode", "auto_send_confidence_threshold", "archived"
    }  # fmt: skip

    set_mode = ["--campaign", "11", "--mode", "AI_AUTO_SEND", "--threshold", "0.8", "--json"]
    ok_json(run(cli_runner, db_url, "campaigns", "set-mode", "--workspace", ws["id"], *set_mode))

    # 11 renamed but keeps its arm, 12 gone (archived), 13 unchanged, 14 new.
    _serve_campaigns(
        httpserver, [[{"id": 11, "name": "Founders v2"}, {"id": 13}, {"id": 14, "name": "New"}]]
    )
    counts = ok_json(
        run(cli_runner, db_url, "campaigns", "sync", "--workspace", ws["id"], "--json")
    )
    assert (counts["created"], counts["renamed"], counts["archived"], counts["unchanged"]) == (
        1, 1, 1, 1,
    )  # fmt: skip
    by_id = {
        c["external_id"]: c
        for c in ok_json(
            run(cli_runner, db_url, "campaigns", "list", "--workspace", ws["id"], "--json")
        )
    }
    assert by_id["11"]["name"] == "Founders v2"
    assert by_id["11"]["response_mode"] == "AI_AUTO_SEND"
    assert by_id["11"]["auto_send_confidence_threshold"] == 0.8
    assert by_id["12"]["archived"] is True
    assert set(by_id) == {"11", "12", "13", "14"}

    _serve_campaigns(httpserver, [[{"id": 11}, {"id": 12}, {"id": 13}, {"id": 14}]])
    counts = ok_json(
        run(cli_runner, db_url, "campaigns", "sync", "--workspace", ws["id"], "--json")
    )
    assert counts["unarchived"] == 1

    history = _history(db_url)
    created = sorted(h for h in history if h[3] == "created")
    assert created == [
        (e, None, "SETTER_MANAGED", "created", None) for e in ("11", "12", "13", "14")
    ]
    assert [h for h in history if h[3] == "manual"] == [
        ("11", "SETTER_MANAGED", "AI_AUTO_SEND", "manual", None)
    ]


def test_sync_refuses_when_the_platform_fails_or_is_not_configured(
    db_url: str, cli_runner: CliRunner, httpserver: HTTPServer
) -> None:
    bare = create_workspace(cli_runner, db_url)
    assert_refused(
        run(cli_runner, db_url, "campaigns", "sync", "--workspace", bare["id"]), "platform URL"
    )
    ws = create_workspace(cli_runner, db_url, "--email-platform-url", httpserver.url_for("/"))
    assert_refused(
        run(cli_runner, db_url, "campaigns", "sync", "--workspace", ws["id"]),
        "email_platform_api_key",
    )
    ws = _workspace_with_platform(cli_runner, db_url, httpserver)
    assert_refused(
        run(cli_runner, db_url, "campaigns", "sync", "--workspace", ws["id"],
            REPLYLINE_SECRET_KEY=""),
        "REPLYLINE_SECRET_KEY",
    )  # fmt: skip
    httpserver.expect_request("/api/campaigns").respond_with_data("denied", status=401)
    result = run(cli_runner, db_url, "campaigns", "sync", "--workspace", ws["id"])
    assert_refused(result, "HTTP 401")
    assert API_KEY not in result.stderr
    httpserver.clear()
    httpserver.expect_request("/api/campaigns").respond_with_data("<html>", status=200)
    assert_refused(run(cli_runner, db_url, "campaigns", "sync", "--workspace", ws["id"]), "JSON")
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from email_campaigns").fetchone() == (0,)


@pytest.fixture
def two_campaigns(
    db_url: str, cli_runner: CliRunner, httpserver: HTTPServer
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    ws = _workspace_with_platform(cli_runner, db_url, httpserver)
    _serve_campaigns(httpserver, [[{"id": 21, "name": "One"}, {"id": 22, "name": "Two"}]])
    ok_json(run(cli_runner, db_url, "campaigns", "sync", "--workspace", ws["id"], "--json"))
    campaigns = ok_json(
        run(cli_runner, db_url, "campaigns", "list", "--workspace", ws["id"], "--json")
    )
    return ws, campaigns


def test_set_mode_by_either_id_writes_history(
    db_url: str, cli_runner: CliRunner, two_campaigns: tuple[dict[str, Any], list[Any]]
) -> None:
    ws, campaigns = two_campaigns
    by_uuid = ok_json(
        run(cli_runner, db_url, "campaigns", "set-mode", "--workspace", ws["id"],
            "--campaign", campaigns[0]["id"], "--mode", "AI_AUTO_SEND", "--json")
    )  # fmt: skip
    assert by_uuid["response_mode"] == "AI_AUTO_SEND"
    assert by_uuid["auto_send_confidence_threshold"] == 0.9
    # The same mode again is no change and writes no row; a new threshold is one.
    run(cli_runner, db_url, "campaigns", "set-mode", "--workspace", ws["id"],
        "--campaign", campaigns[0]["external_id"], "--mode", "AI_AUTO_SEND")  # fmt: skip
    run(cli_runner, db_url, "campaigns", "set-mode", "--workspace", ws["id"],
        "--campaign", campaigns[0]["external_id"], "--mode", "AI_AUTO_SEND",
        "--threshold", "0.955")  # fmt: skip
    manual = [h[1:] for h in _history(db_url) if h[3] == "manual"]
    assert manual == [
        ("SETTER_MANAGED", "AI_AUTO_SEND", "manual", None),
        ("AI_AUTO_SEND", "AI_AUTO_SEND", "manual", None),
    ]
    with psycopg.connect(db_url) as conn:
        thresholds = conn.execute(
            "select threshold::text from campaign_mode_changes where reason = 'manual'"
            " order by changed_at"
        ).fetchall()
    assert thresholds == [("0.900",), ("0.955",)]


@pytest.mark.parametrize(
    ("campaign", "mode", "threshold", "fragment"),
    [
        ("21", "FULL_AUTO", None, "--mode"),
        ("21", "AI_AUTO_SEND", "1.5", "[0, 1]"),
        ("21", "AI_AUTO_SEND", "-0.1", "[0, 1]"),
        ("21", "AI_AUTO_SEND", "lots", "number"),
        ("21", "AI_AUTO_SEND", "NaN", "[0, 1]"),
        ("21", "AI_AUTO_SEND", "0.9001", "three decimals"),
        ("99", "AI_AUTO_SEND", None, "no campaign"),
    ],
)
def test_set_mode_refuses_bad_input(
    db_url: str,
    cli_runner: CliRunner,
    two_campaigns: tuple[dict[str, Any], list[Any]],
    campaign: str,
    mode: str,
    threshold: str | None,
    fragment: str,
) -> None:
    ws, _ = two_campaigns
    before = _history(db_url)
    args = ["--workspace", ws["id"], "--campaign", campaign, "--mode", mode]
    if threshold is not None:
        args += ["--threshold", threshold]
    assert_refused(run(cli_runner, db_url, "campaigns", "set-mode", *args), fragment)
    assert _history(db_url) == before


def test_set_mode_refuses_an_ambiguous_reference(
    db_url: str, cli_runner: CliRunner, two_campaigns: tuple[dict[str, Any], list[Any]]
) -> None:
    ws, campaigns = two_campaigns
    # A platform whose id for one campaign is another campaign's Replyline id.
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "update email_campaigns set external_id = %s where id = %s",
            (campaigns[0]["id"], campaigns[1]["id"]),
        )
    before = _history(db_url)
    result = run(cli_runner, db_url, "campaigns", "set-mode", "--workspace", ws["id"],
                 "--campaign", campaigns[0]["id"], "--mode", "AI_AUTO_SEND")  # fmt: skip
    assert_refused(result, "ambiguous")
    assert _history(db_url) == before


def test_list_refuses_an_unknown_workspace(db_url: str, cli_runner: CliRunner) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    assert_refused(
        run(cli_runner, db_url, "campaigns", "list", "--workspace", unknown), "no workspace"
    )
