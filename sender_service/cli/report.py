"""`replyline report weekly`: the weekly report of one workspace, from the warehouse."""

from __future__ import annotations

from datetime import UTC, date, datetime

import click

from sender_service.cli.common import CommandError, database_url, parse_uuid, settings_or_fail
from sender_service.db.engine import session_scope
from sender_service.db.models import Workspace
from sender_service.reports.warehouse import WarehouseMissingError
from sender_service.reports.weekly import last_complete_week, week_start_of, write_weekly_report


@click.group("report")
def report_group() -> None:
    """Reports a person reads: the weekly report."""


@report_group.command("weekly")
@click.option("--workspace", "workspace_id", required=True, help="Workspace id.")
@click.option("--week", help="Any day of the week to report (YYYY-MM-DD); default: last week.")
def weekly_command(workspace_id: str, week: str | None) -> None:
    """Write report.md, report.html, kpis.csv and the charts into exports/<id>/weekly/<week>/."""
    workspace = parse_uuid(workspace_id, "--workspace")
    day: date | None = None
    if week is not None:
        try:
            day = date.fromisoformat(week)
        except ValueError:
            raise CommandError(f"--week must be a date YYYY-MM-DD, not {week!r}") from None
    settings = settings_or_fail()
    with session_scope(database_url()) as session:
        row = session.get(Workspace, workspace)
        if row is None:
            raise CommandError(f"no workspace {workspace}")
        name, timezone = row.name, row.timezone
    week_start = week_start_of(day) if day else last_complete_week(timezone, datetime.now(UTC))
    try:
        path = write_weekly_report(settings, workspace, week_start, workspace_name=name)
    except WarehouseMissingError as exc:
        raise CommandError(str(exc)) from None
    click.echo(f"wrote the report of the week of {week_start} to {path}")
