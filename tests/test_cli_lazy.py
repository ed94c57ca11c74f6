"""`replyline --help` lists every command without importing any command's module; each
command still runs, with the one line the group shows equal to its own docstring's."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from sender_service.cli import COMMANDS, SHORT_HELP_WIDTH, cli, load

HEAVY = ("matplotlib", "flask", "openai", "sqlalchemy", "psycopg", "dagster", "pandas")


def test_help_lists_every_command_and_imports_none_of_them() -> None:
    probe = (
        "import sys\n"
        "from sender_service.cli import cli\n"
        "try:\n"
        "    cli.main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('LOADED', *sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "print('COMMAND_MODULES', *sorted(m for m in sys.modules\n"
        "      if m.startswith('sender_service.cli.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    lines = out.splitlines()
    assert "LOADED" in lines and "COMMAND_MODULES" in lines, lines[-2:]
    listed = {line.split()[0] for line in lines if line.startswith("  ") and line.split()}
    assert set(COMMANDS) <= listed


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_listed_line_is_the_command_s_own(name: str) -> None:
    command = load(name)
    assert command.name is not None
    assert command.get_short_help_str(SHORT_HELP_WIDTH) == COMMANDS[name].short_help


def test_an_unknown_command_is_one_line_and_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sender_service", "nosuch"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["replyline: error: No such command 'nosuch'."]


def test_a_command_s_own_help_loads_it() -> None:
    ctx = click.Context(cli)
    command = cli.get_command(ctx, "jobs")
    assert isinstance(command, click.Group)
    assert "list" in command.list_commands(ctx)
