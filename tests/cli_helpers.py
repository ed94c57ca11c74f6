"""Running `replyline` in-process and checking its answer to bad input."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result
from cryptography.fernet import Fernet

from sender_service.cli import cli

SECRET_KEY = Fernet.generate_key().decode()


def run(runner: CliRunner, db_url: str, *args: str, input: str | None = None, **env: str) -> Result:
    return runner.invoke(
        cli,
        list(args),
        input=input,
        env={"DATABASE_URL": db_url, "REPLYLINE_SECRET_KEY": SECRET_KEY, **env},
    )


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, (result.output, result.stderr)
    return json.loads(result.stdout)


def assert_refused(result: Result, *fragments: str) -> None:
    """Exit 2, exactly one line on stderr mentioning each fragment, nothing on stdout."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("replyline: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert result.stdout == ""


def create_workspace(runner: CliRunner, db_url: str, *extra: str) -> dict[str, Any]:
    result = run(
        runner, db_url, "workspace", "create", "--name", "Acme", "--booking-provider", "GHL",
        *extra, "--json",
    )  # fmt: skip
    view: dict[str, Any] = ok_json(result)
    return view
