"""`replyline db ...` and the CLI's answer to bad input, through the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import psycopg
from click.testing import CliRunner

from sender_service.cli import cli
from sender_service.db import migrate


def replyline(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console script, as an operator would."""
    exe = os.path.join(os.path.dirname(sys.executable), "replyline")
    return subprocess.run(
        [exe, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_upgrade_and_downgrade_through_the_cli(
    make_database: Callable[[], str], cli_runner: CliRunner
) -> None:
    url = make_database()
    env = {"DATABASE_URL": url}
    result = cli_runner.invoke(cli, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert migrate.head_revision() in result.output
    assert migrate.current_revision(url) == migrate.head_revision()

    result = cli_runner.invoke(cli, ["db", "downgrade", "base"], env=env)
    assert result.exit_code == 0, result.output
    assert migrate.current_revision(url) is None


def test_db_url_masks_the_password(cli_runner: CliRunner) -> None:
    result = cli_runner.invoke(
        cli, ["db", "url"], env={"DATABASE_URL": "postgresql://app:hunter2@db.internal:5432/rl"}
    )
    assert result.exit_code == 0
    assert result.output.strip() == "postgresql://app:***@db.internal:5432/rl"
    assert "hunter2" not in result.output


def test_db_url_accepts_the_socket_form(cli_runner: CliRunner) -> None:
    url = "postgresql://app@/rl?host=/var/run/postgresql"
    result = cli_runner.invoke(cli, ["db", "url"], env={"DATABASE_URL": url})
    assert result.output.strip() == url


def _one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("replyline: error:")
    assert fragment in lines[0]


def test_bad_input_is_one_line_and_exit_2(make_database: Callable[[], str]) -> None:
    url = make_database()
    env = {"DATABASE_URL": url}
    _one_line_error(replyline("db", "frobnicate", env=env), "No such command")
    _one_line_error(replyline("db", "upgrade", "--force", env=env), "No such option")
    _one_line_error(replyline("db", "upgrade", "no-such-rev", env=env), "unknown revision")
    _one_line_error(replyline("db", "downgrade", env=env), "Missing argument")
    _one_line_error(replyline("db", "downgrade", "base", env=env), "no Replyline schema")
    _one_line_error(
        replyline("db", "url", env={"DATABASE_URL": "mysql://u:topsecret@h/d"}), "libpq URL"
    )
    _one_line_error(
        replyline("db", "upgrade", env={**env, "LLM_PROVIDER": "magic"}), "LLM_PROVIDER"
    )
    # Nothing was half-done: the database is still empty.
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "select count(*) from pg_tables where schemaname='public'"
        ).fetchone() == (0,)


def test_no_password_in_any_output(pg_server_url: str) -> None:
    bad = "postgresql://app:Sup3rS3cret@127.0.0.1:1/none"
    for args in (["db", "url"], ["db", "upgrade"]):
        result = replyline(*args, env={"DATABASE_URL": bad})
        assert "Sup3rS3cret" not in result.stdout + result.stderr
    unreachable = replyline("db", "upgrade", env={"DATABASE_URL": bad})
    assert unreachable.returncode == 1
    assert "cannot reach the database" in unreachable.stderr
