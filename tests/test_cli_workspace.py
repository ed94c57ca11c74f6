"""`replyline workspace ...`: create, update, rotate, list, set-secret, and their bad input."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sender_service.credentials import cipher, read_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import Workspace
from sender_service.settings import load_settings
from sender_service.workspaces import hash_secret, webhook_secret_matches
from tests.booking_payloads import RSAKeys
from tests.cli_helpers import SECRET_KEY, assert_refused, create_workspace, ok_json, run


def _count(db_url: str, table: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(f"select count(*) from {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_create_prints_the_secret_once_and_stores_its_hash(
    db_url: str, cli_runner: CliRunner
) -> None:
    view = create_workspace(
        cli_runner, db_url, "--timezone", "Europe/Paris", "--ghl-location-id", "loc1",
        "--ghl-booking-url", "https://book.example.com/x/", "--review-slack-email", "r@x.io",
        "--email-platform", "emailbison", "--email-platform-url", "https://bison.example.com/",
    )  # fmt: skip
    assert view["booking_provider"] == "GHL"
    assert view["timezone"] == "Europe/Paris"
    assert view["email_platform_url"] == "https://bison.example.com"
    assert view["ghl_booking_url"] == "https://book.example.com/x"
    assert view["review_slack_email"] == "r@x.io"
    assert view["auto_send_enabled"] is True
    with session_scope(db_url) as session:
        ws = session.get(Workspace, uuid.UUID(view["id"]))
        assert ws is not None
        assert ws.webhook_secret_hash == hash_secret(view["webhook_secret"])

    listed = ok_json(run(cli_runner, db_url, "workspace", "list", "--json"))
    assert [w["id"] for w in listed] == [view["id"]]
    assert "webhook_secret" not in listed[0]
    assert "webhook_secret_hash" not in listed[0]


def test_defaults_and_a_lower_case_provider(db_url: str, cli_runner: CliRunner) -> None:
    view = ok_json(
        run(cli_runner, db_url, "workspace", "create", "--name", "B", "--booking-provider",
            "calendly", "--calendly-url", "https://calendly.com/b/intro", "--json")
    )  # fmt: skip
    assert view["booking_provider"] == "CALENDLY"
    assert view["timezone"] == "UTC"
    assert view["review_slack_email"] == "jon@zeroriskgrowth.com"
    assert view["email_platform"] == "emailbison"


def test_choosing_smartlead_or_instantly_sets_its_api_address(
    db_url: str, cli_runner: CliRunner
) -> None:
    view = create_workspace(cli_runner, db_url, "--email-platform", "smartlead")
    assert (view["email_platform"], view["email_platform_url"]) == (
        "smartlead",
        "https://server.smartlead.ai",
    )

    def update(*args: str) -> dict[str, str]:
        out: dict[str, str] = ok_json(
            run(
                cli_runner,
                db_url,
                "workspace",
                "update",
                "--workspace",
                view["id"],
                *args,
                "--json",
            )
        )
        return out

    moved = update("--email-platform", "instantly")
    assert moved["email_platform_url"] == "https://api.instantly.ai"
    proxied = update("--email-platform-url", "https://proxy.acme.test/instantly")
    # Naming the platform again keeps a URL someone set on purpose.
    assert (
        update("--email-platform", "instantly")["email_platform_url"]
        == (proxied["email_platform_url"])
    )
    back = update("--email-platform", "emailbison", "--email-platform-url", "https://b.acme.test")
    assert (back["email_platform"], back["email_platform_url"]) == (
        "emailbison",
        "https://b.acme.test",
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--booking-provider", "HUBSPOT"], "booking-provider"),
        (["--timezone", "Mars/Olympus"], "time zone"),
        (["--calendly-url", "calendly.com/x"], "http(s) URL"),
        (["--review-slack-email", "not-an-email"], "email address"),
        (["--email-platform", "lemlist"], "email-platform"),
    ],
)
def test_create_refuses_bad_input(
    db_url: str, cli_runner: CliRunner, args: list[str], fragment: str
) -> None:
    base = {"--name": "Acme", "--booking-provider": "GHL"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [part for pair in base.items() for part in pair]
    assert_refused(run(cli_runner, db_url, "workspace", "create", *flat, "--json"), fragment)
    assert _count(db_url, "workspaces") == 0


def test_create_refuses_a_blank_name(db_url: str, cli_runner: CliRunner) -> None:
    result = run(
        cli_runner, db_url, "workspace", "create", "--name", "  ", "--booking-provider", "GHL"
    )
    assert_refused(result, "blank")
    assert _count(db_url, "workspaces") == 0


def test_update_changes_only_what_is_given(db_url: str, cli_runner: CliRunner) -> None:
    ws = create_workspace(cli_runner, db_url, "--ghl-location-id", "loc1")
    view = ok_json(
        run(cli_runner, db_url, "workspace", "update", "--workspace", ws["id"],
            "--auto-send-enabled", "false", "--name", "Acme 2", "--json")
    )  # fmt: skip
    assert view["auto_send_enabled"] is False
    assert view["name"] == "Acme 2"
    assert view["ghl_location_id"] == "loc1"
    assert view["business_hours"] == "9-17"  # the default
    view = ok_json(
        run(cli_runner, db_url, "workspace", "update", "--workspace", ws["id"],
            "--business-hours", "8-18", "--json")
    )  # fmt: skip
    assert view["business_hours"] == "8-18" and view["name"] == "Acme 2"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--workspace", "nope"], "UUID"),
        (["--workspace", str(uuid.UUID(int=1))], "no workspace"),
        (["--auto-send-enabled", "maybe"], "auto-send-enabled"),
        (["--timezone", "Nowhere"], "time zone"),
        (["--business-hours", "17-9"], "START-END"),
        (["--business-hours", "nine to five"], "START-END"),
        ([], "nothing to update"),
    ],
)
def test_update_refuses_bad_input(
    db_url: str, cli_runner: CliRunner, args: list[str], fragment: str
) -> None:
    ws = create_workspace(cli_runner, db_url)
    if "--workspace" not in args:
        args = ["--workspace", ws["id"], *args]
    if fragment in ("UUID", "no workspace"):
        args = [*args, "--name", "Renamed"]
    assert_refused(run(cli_runner, db_url, "workspace", "update", *args), fragment)
    with session_scope(db_url) as session:
        row = session.get(Workspace, uuid.UUID(ws["id"]))
        assert row is not None and row.name == "Acme" and row.auto_send_enabled


def test_alerts_are_set_digested_and_turned_off(db_url: str, cli_runner: CliRunner) -> None:
    ws = create_workspace(cli_runner, db_url)
    update = ("workspace", "update", "--workspace", ws["id"], "--json")
    view = ok_json(
        run(cli_runner, db_url, *update, "--alerts-channel", "C0123ALERTS",
            "--alerts", "Meeting_Requested, negative_after_ai")
    )  # fmt: skip
    assert view["alerts_channel"] == "C0123ALERTS"
    assert view["alerts"] == ["meeting_requested", "negative_after_ai"]
    assert view["alerts_digest"] is None
    view = ok_json(run(cli_runner, db_url, *update, "--alerts-digest", "daily"))
    assert view["alerts_digest"] == "daily" and view["alerts_channel"] == "C0123ALERTS"
    view = ok_json(run(cli_runner, db_url, *update, "--alerts", "off", "--alerts-digest", "off"))
    assert (view["alerts"], view["alerts_digest"]) == ([], None)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--alerts-channel", "C1", "--alerts", "meeting,call"], "unknown alert meeting, call"),
        (["--alerts-channel", "C1", "--alerts", ","], "unknown alert"),
        (["--alerts-channel", "two words", "--alerts", "call_requested"], "Slack channel"),
        (["--alerts", "call_requested"], "--alerts-channel"),
        (["--alerts-digest", "weekly"], "alerts-digest"),
    ],
)
def test_bad_alert_settings_are_refused_and_nothing_changes(
    db_url: str, cli_runner: CliRunner, args: list[str], fragment: str
) -> None:
    ws = create_workspace(cli_runner, db_url)
    assert_refused(
        run(cli_runner, db_url, "workspace", "update", "--workspace", ws["id"], *args), fragment
    )
    with session_scope(db_url) as session:
        row = session.get_one(Workspace, uuid.UUID(ws["id"]))
        assert (row.alerts_channel, row.alerts_kinds, row.alerts_digest) == (None, [], None)


def test_rotate_replaces_the_secret(db_url: str, cli_runner: CliRunner) -> None:
    ws = create_workspace(cli_runner, db_url)
    rotated = ok_json(
        run(cli_runner, db_url, "workspace", "rotate-webhook-secret", "--workspace", ws["id"],
            "--json")
    )  # fmt: skip
    assert rotated["webhook_secret"] != ws["webhook_secret"]
    with session_scope(db_url) as session:
        row = session.get(Workspace, uuid.UUID(ws["id"]))
        assert row is not None
        assert webhook_secret_matches(row, rotated["webhook_secret"])
        assert not webhook_secret_matches(row, ws["webhook_secret"])
    assert_refused(
        run(cli_runner, db_url, "workspace", "rotate-webhook-secret", "--workspace", "x"), "UUID"
    )


def test_set_secret_reads_stdin_and_stores_it_encrypted(db_url: str, cli_runner: CliRunner) -> None:
    ws = create_workspace(cli_runner, db_url)
    value = "eb_live_s3cr3t value"
    result = run(
        cli_runner, db_url, "workspace", "set-secret", "--workspace", ws["id"],
        "--name", "email_platform_api_key", input=value + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert value not in result.output and value not in result.stderr
    with psycopg.connect(db_url) as conn:
        row = conn.execute("select ciphertext from workspace_secrets").fetchone()
    assert row is not None and value.encode() not in bytes(row[0])
    settings = load_settings({"REPLYLINE_SECRET_KEY": SECRET_KEY})
    with session_scope(db_url) as session:
        fernet = cipher(settings)
        ws_id = uuid.UUID(ws["id"])
        assert read_secret(session, fernet, ws_id, "email_platform_api_key") == value

    # Setting it again replaces it.
    run(cli_runner, db_url, "workspace", "set-secret", "--workspace", ws["id"],
        "--name", "email_platform_api_key", input="second")  # fmt: skip
    with session_scope(db_url) as session:
        assert read_secret(session, fernet, ws_id, "email_platform_api_key") == "second"
    assert _count(db_url, "workspace_secrets") == 1


@pytest.mark.parametrize(
    ("extra_args", "stdin", "env", "fragment"),
    [
        ([], "v", {"REPLYLINE_SECRET_KEY": ""}, "REPLYLINE_SECRET_KEY is not set"),
        ([], "v", {"REPLYLINE_SECRET_KEY": "short"}, "not a Fernet key"),
        ([], "\n", {}, "no secret on stdin"),
        (["--name", "aws_key"], "v", {}, "--name"),
        (["--workspace", str(uuid.UUID(int=2))], "v", {}, "no workspace"),
    ],
)
def test_set_secret_refuses_bad_input(
    db_url: str,
    cli_runner: CliRunner,
    extra_args: list[str],
    stdin: str,
    env: dict[str, str],
    fragment: str,
) -> None:
    ws = create_workspace(cli_runner, db_url)
    options = {"--workspace": ws["id"], "--name": "ghl_api_key"}
    for flag, value in zip(extra_args[::2], extra_args[1::2], strict=True):
        options[flag] = value
    flat = [part for pair in options.items() for part in pair]
    result = run(cli_runner, db_url, "workspace", "set-secret", *flat, input=stdin, **env)
    assert_refused(result, fragment)
    assert _count(db_url, "workspace_secrets") == 0


_EC_PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


@pytest.mark.parametrize(
    ("stdin", "fragment"),
    [
        ("not a key at all", "not a PEM public key"),
        (RSAKeys().public_pem.replace("A", "B", 40), "not a PEM public key"),  # corrupted body
        (_EC_PEM, "not an RSA public key"),
    ],
)
def test_set_secret_refuses_a_ghl_public_key_it_cannot_use(
    db_url: str, cli_runner: CliRunner, stdin: str, fragment: str
) -> None:
    ws = create_workspace(cli_runner, db_url)
    args = ["workspace", "set-secret", "--workspace", ws["id"], "--name", "ghl_webhook_public_key"]
    result = run(cli_runner, db_url, *args, input=stdin)
    assert_refused(result, "ghl_webhook_public_key", fragment, "nothing stored")
    assert _count(db_url, "workspace_secrets") == 0
    # A genuine RSA public key (PEM, as GHL publishes it) is stored.
    good = RSAKeys().public_pem
    assert run(cli_runner, db_url, *args, input=good).exit_code == 0
    with session_scope(db_url) as session:
        fernet = cipher(load_settings({"REPLYLINE_SECRET_KEY": SECRET_KEY}))
        stored = read_secret(session, fernet, uuid.UUID(ws["id"]), "ghl_webhook_public_key")
        assert stored == good.removesuffix("\n")


def test_a_secret_stored_under_another_key_is_reported_not_leaked(db_url: str) -> None:
    from sender_service.credentials import CredentialError, store_secret

    with session_scope(db_url) as session:
        ws = Workspace(name="A", booking_provider="GHL", webhook_secret_hash="0" * 64)
        session.add(ws)
        session.flush()
        store_secret(session, Fernet(Fernet.generate_key()), ws.id, "ghl_api_key", "k")
        with pytest.raises(CredentialError, match="cannot be decrypted") as caught:
            read_secret(session, Fernet(SECRET_KEY.encode()), ws.id, "ghl_api_key")
        assert "'k'" not in str(caught.value)


def test_the_outbound_guard_settings(db_url: str, cli_runner: CliRunner) -> None:
    ws = create_workspace(cli_runner, db_url)
    assert (ws["allowed_link_domains"], ws["allow_pricing_talk"]) == ([], False)
    assert (ws["max_email_chars"], ws["max_sms_chars"]) == (1200, 320)
    view = ok_json(
        run(cli_runner, db_url, "workspace", "update", "--workspace", ws["id"],
            "--allowed-link-domains", " Acme.com, bücher.example., acme.com ,",
            "--allow-pricing-talk", "true", "--max-email-chars", "800",
            "--max-sms-chars", "160", "--json")
    )  # fmt: skip
    # Stored as DNS reads them, so a look-alike never equals an allowed host.
    assert view["allowed_link_domains"] == ["acme.com", "xn--bcher-kva.example"]
    assert (view["allow_pricing_talk"], view["max_email_chars"], view["max_sms_chars"]) == (
        True,
        800,
        160,
    )
    cleared = ok_json(
        run(cli_runner, db_url, "workspace", "update", "--workspace", ws["id"],
            "--allowed-link-domains", "", "--json")
    )  # fmt: skip
    assert cleared["allowed_link_domains"] == [] and cleared["max_email_chars"] == 800


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--allowed-link-domains", "https://acme.com/x"], "not a domain"),
        (["--allowed-link-domains", "acme.com,localhost"], "not a domain"),
        (["--allowed-link-domains", "a b.com"], "not a domain"),
        (["--allowed-link-domains", "bad_label-.com"], "not a valid domain"),
        (["--max-email-chars", "0"], "max-email-chars"),
        (["--max-sms-chars", "ten"], "max-sms-chars"),
        (["--allow-pricing-talk", "perhaps"], "allow-pricing-talk"),
    ],
)
def test_bad_guard_settings_are_refused_and_nothing_changes(
    db_url: str, cli_runner: CliRunner, args: list[str], fragment: str
) -> None:
    ws = create_workspace(cli_runner, db_url)
    result = run(cli_runner, db_url, "workspace", "update", "--workspace", ws["id"], *args)
    assert_refused(result, fragment)
    with session_scope(db_url) as session:
        row = session.get_one(Workspace, uuid.UUID(ws["id"]))
        assert (row.allowed_link_domains, row.max_email_chars, row.max_sms_chars) == ([], 1200, 320)
