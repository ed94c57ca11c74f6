"""The one CLI, `replyline`: a Click group with one module per area.

The group loads a command's module only when that command runs (or its own `--help` is
asked for): the modules behind `demo`, `report` or `serve` pull in matplotlib, the Flask app
and the OpenAI SDK, and `replyline --help` should not wait for them. The short help the group
lists is kept here beside the module's name; a test keeps it equal to each command's own.

Bad input answers with one line on stderr and exit code 2, never Click's usage block.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any, Final, NamedTuple

import click


class Lazy(NamedTuple):
    """Where a command lives (`module:attribute` under `sender_service.cli`) and its one line."""

    target: str
    short_help: str  # as Click shortens the command's docstring to SHORT_HELP_WIDTH


SHORT_HELP_WIDTH: Final = 64


COMMANDS: Final[dict[str, Lazy]] = {
    "analytics": Lazy("analytics:analytics_group", "Analytics read from the published warehouse."),
    "bookings": Lazy(
        "bookings:bookings_group", "Bookings (GoHighLevel appointments, Calendly invitees)."
    ),
    "campaigns": Lazy("campaigns:campaigns", "Email campaigns: sync, list, set-mode, update."),
    "db": Lazy("db:db", "Operational database: URL, migrations, the embedded server."),
    "demo": Lazy("demo:demo", "Seed history, start the service and a worker, replay a..."),
    "doctor": Lazy(
        "doctor:doctor", "Is this deployment healthy? Each check OK, WARN or FAIL with..."
    ),
    "experiment": Lazy(
        "experiment:experiment_group", "The AI auto-send vs setter-managed experiment."
    ),
    "export": Lazy(
        "export:export_group", "Datasets to hand to people and tools outside Replyline."
    ),
    "followups": Lazy("sequences:followups_group", "Follow-up sends."),
    "jobs": Lazy("jobs:jobs", "The durable job queue."),
    "lead": Lazy("lead:lead_group", "Leads."),
    "report": Lazy("report:report_group", "Reports a person reads: the weekly report."),
    "seed": Lazy("seed:seed", "Generate WORKSPACES workspaces (GHL and Calendly in turn) and..."),
    "sends": Lazy("sends:sends", "Outbound sends."),
    "sequences": Lazy(
        "sequences:sequences_group", "Follow-up sequences, declared per workspace in YAML."
    ),
    "serve": Lazy("serve:serve", "Serve the webhooks and the JSON API with Werkzeug's threaded..."),
    "slack": Lazy("slack:slack_group", "The Slack app behind review DMs and report posts."),
    "token": Lazy("people:token", "API tokens: create (shown once) and revoke."),
    "user": Lazy("people:user", "Users, their role in each workspace, and their sign-in password."),
    "warehouse": Lazy(
        "warehouse:warehouse", "The DuckDB warehouse analysts read (WAREHOUSE_PATH)."
    ),
    "webhooks": Lazy("webhooks:webhooks", "Incoming webhooks."),
    "worker": Lazy("worker:worker", "Process jobs until stopped; several workers may share one..."),
    "workspace": Lazy(
        "workspace:workspace", "Workspaces: create, update, list; webhook secret; credentials."
    ),
}


def load(name: str) -> click.Command:
    module, attribute = COMMANDS[name].target.split(":")
    command = getattr(importlib.import_module(f"sender_service.cli.{module}"), attribute)
    assert isinstance(command, click.Command), f"{module}.{attribute} is not a Click command"
    return command


def _database_unreachable(exc: BaseException) -> str | None:
    """The reason, when `exc` is psycopg's or SQLAlchemy's "cannot connect"; else None.

    Looked up in `sys.modules`: a command that never imported a driver cannot raise its error,
    and importing one here would cost every command its start-up time.
    """
    psycopg = sys.modules.get("psycopg")
    sa_exc = sys.modules.get("sqlalchemy.exc")
    kinds = tuple(
        kind
        for kind in (
            getattr(psycopg, "OperationalError", None),
            getattr(sa_exc, "OperationalError", None),
        )
        if kind is not None
    )
    if not kinds or not isinstance(exc, kinds):
        return None
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


class ReplylineGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table, so `--help` imports no command module."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, lazy.short_help) for name, lazy in sorted(COMMANDS.items())])

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(
                args, prog_name or "replyline", complete_var, standalone_mode=False, **extra
            )
        except click.exceptions.Abort:
            click.echo("replyline: aborted", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(f"replyline: error: {exc.format_message()}", err=True)
            sys.exit(2)
        except Exception as exc:
            reason = _database_unreachable(exc)
            if reason is None:
                raise
            click.echo(f"replyline: error: cannot reach the database: {reason}", err=True)
            sys.exit(1)
        if isinstance(result, int) and result:
            sys.exit(result)
        return result


@click.group(cls=ReplylineGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Replyline: answer positive replies fast and safely; measure what books meetings."""


def main() -> None:
    """Console-script entry point."""
    cli.main()
