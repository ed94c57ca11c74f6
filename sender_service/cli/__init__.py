"""The one CLI, `replyline`: a Click group with one module per area.

Bad input answers with one line on stderr and exit code 2, never Click's usage block.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click
import psycopg
from sqlalchemy.exc import OperationalError

from sender_service.cli.analytics import analytics_group
from sender_service.cli.bookings import bookings_group
from sender_service.cli.campaigns import campaigns
from sender_service.cli.db import db
from sender_service.cli.demo import demo
from sender_service.cli.experiment import experiment_group
from sender_service.cli.export import export_group
from sender_service.cli.jobs import jobs
from sender_service.cli.lead import lead_group
from sender_service.cli.people import token, user
from sender_service.cli.report import report_group
from sender_service.cli.seed import seed
from sender_service.cli.sends import sends
from sender_service.cli.sequences import followups_group, sequences_group
from sender_service.cli.serve import serve
from sender_service.cli.slack import slack_group
from sender_service.cli.warehouse import warehouse
from sender_service.cli.webhooks import webhooks
from sender_service.cli.worker import worker
from sender_service.cli.workspace import workspace


class ReplylineGroup(click.Group):
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
        except (psycopg.OperationalError, OperationalError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            click.echo(f"replyline: error: cannot reach the database: {reason}", err=True)
            sys.exit(1)
        if isinstance(result, int) and result:
            sys.exit(result)
        return result


@click.group(cls=ReplylineGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Replyline: answer positive replies fast and safely; measure what books meetings."""


cli.add_command(db)
cli.add_command(demo)
cli.add_command(workspace)
cli.add_command(user)
cli.add_command(token)
cli.add_command(campaigns)
cli.add_command(seed)
cli.add_command(jobs)
cli.add_command(serve)
cli.add_command(worker)
cli.add_command(warehouse)
cli.add_command(export_group)
cli.add_command(report_group)
cli.add_command(experiment_group)
cli.add_command(lead_group)
cli.add_command(sends)
cli.add_command(webhooks)
cli.add_command(bookings_group)
cli.add_command(sequences_group)
cli.add_command(followups_group)
cli.add_command(slack_group)
cli.add_command(analytics_group)


def main() -> None:
    """Console-script entry point."""
    cli.main()
