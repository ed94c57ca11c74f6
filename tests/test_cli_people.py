"""`replyline user create`, `replyline token create|revoke`, and token authentication."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from click.testing import CliRunner

from sender_service import api_tokens
from sender_service.db.engine import session_scope
from sender_service.workspaces import hash_secret
from tests.cli_helpers import assert_refused, create_workspace, ok_json, run


def _memberships(db_url: str) -> list[tuple[str, str]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select u.email, m.role from memberships m join users u on u.id = m.user_id"
            " order by u.email, m.role"
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


def test_user_create_adds_a_membership_to_an_existing_user(
    db_url: str, cli_runner: CliRunner
) -> None:
    one = create_workspace(cli_runner, db_url)
    two = create_workspace(cli_runner, db_url)
    first = ok_json(
        run(cli_runner, db_url, "user", "create", "--email", "Sam@Example.com",
            "--workspace", one["id"], "--role", "setter", "--json")
    )  # fmt: skip
    assert first["created_user"] is True
    second = ok_json(
        run(cli_runner, db_url, "user", "create", "--email", "sam@example.com",
            "--workspace", two["id"], "--role", "viewer", "--json")
    )  # fmt: skip
    assert second["created_user"] is False
    assert second["user_id"] == first["user_id"]
    # The same workspace again sets the role rather than adding a second membership.
    run(cli_runner, db_url, "user", "create", "--email", "sam@example.com",
        "--workspace", one["id"], "--role", "admin")  # fmt: skip
    assert _memberships(db_url) == [("Sam@Example.com", "admin"), ("Sam@Example.com", "viewer")]


@pytest.mark.parametrize(
    ("email", "workspace", "role", "fragment"),
    [
        ("nope", None, "setter", "email address"),
        ("a@b.co", None, "owner", "--role"),
        ("a@b.co", "not-a-uuid", "setter", "UUID"),
        ("a@b.co", str(uuid.UUID(int=5)), "setter", "no workspace"),
    ],
)
def test_user_create_refuses_bad_input(
    db_url: str,
    cli_runner: CliRunner,
    email: str,
    workspace: str | None,
    role: str,
    fragment: str,
) -> None:
    ws = create_workspace(cli_runner, db_url)
    result = run(
        cli_runner, db_url, "user", "create", "--email", email,
        "--workspace", workspace or ws["id"], "--role", role,
    )  # fmt: skip
    assert_refused(result, fragment)
    assert _memberships(db_url) == []


def test_token_is_shown_once_stored_hashed_and_revocable(
    db_url: str, cli_runner: CliRunner
) -> None:
    ws = create_workspace(cli_runner, db_url)
    run(cli_runner, db_url, "user", "create", "--email", "a@b.co", "--workspace", ws["id"],
        "--role", "admin")  # fmt: skip
    issued = ok_json(run(cli_runner, db_url, "token", "create", "--email", "A@B.co", "--json"))
    token, prefix = issued["token"], issued["token_prefix"]
    assert token.startswith(prefix + "_")
    with psycopg.connect(db_url) as conn:
        stored = conn.execute("select token_prefix, token_hash from api_tokens").fetchall()
    assert stored == [(prefix, hash_secret(token))]

    with session_scope(db_url) as session:
        user = api_tokens.authenticate(session, token)
        assert user is not None and user.email == "a@b.co"
        assert api_tokens.authenticate(session, token + "x") is None
        assert api_tokens.authenticate(session, "garbage") is None

    # Use is recorded to the minute: a second call right after writes nothing (a write per
    # request queued a token's concurrent calls on its row).
    with psycopg.connect(db_url) as conn:
        (first_use,) = conn.execute("select last_used_at from api_tokens").fetchone() or (None,)
        conn.execute("update api_tokens set last_used_at = last_used_at - interval '59 seconds'")
    assert first_use is not None
    with session_scope(db_url) as session:
        assert api_tokens.authenticate(session, token) is not None
    with psycopg.connect(db_url) as conn:
        kept = conn.execute("select now() - last_used_at from api_tokens").fetchone()
        conn.execute("update api_tokens set last_used_at = last_used_at - interval '2 seconds'")
    assert kept is not None and kept[0].total_seconds() >= 59
    with session_scope(db_url) as session:
        assert api_tokens.authenticate(session, token) is not None
    with psycopg.connect(db_url) as conn:
        renewed = conn.execute("select now() - last_used_at from api_tokens").fetchone()
    assert renewed is not None and renewed[0].total_seconds() < 30

    result = run(cli_runner, db_url, "token", "revoke", "--token-prefix", prefix)
    assert result.exit_code == 0, result.stderr
    with session_scope(db_url) as session:
        assert api_tokens.authenticate(session, token) is None
    assert_refused(
        run(cli_runner, db_url, "token", "revoke", "--token-prefix", prefix), "already revoked"
    )


def test_revoking_by_a_pasted_token_never_echoes_it(db_url: str, cli_runner: CliRunner) -> None:
    ws = create_workspace(cli_runner, db_url)
    run(cli_runner, db_url, "user", "create", "--email", "a@b.co", "--workspace", ws["id"],
        "--role", "admin")  # fmt: skip
    token = ok_json(run(cli_runner, db_url, "token", "create", "--email", "a@b.co", "--json"))[
        "token"
    ]
    result = run(cli_runner, db_url, "token", "revoke", "--token-prefix", token)
    assert result.exit_code == 0
    assert token not in result.output


def test_token_commands_refuse_bad_input(db_url: str, cli_runner: CliRunner) -> None:
    assert_refused(run(cli_runner, db_url, "token", "create", "--email", "x@y.co"), "no user")
    assert_refused(run(cli_runner, db_url, "token", "create", "--email", "xy"), "email address")
    assert_refused(
        run(cli_runner, db_url, "token", "revoke", "--token-prefix", "rl_00000000"), "no token"
    )
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from api_tokens").fetchone() == (0,)
