"""`replyline analytics campaigns`: the campaign analytics of a workspace, any date range."""

from __future__ import annotations

import json
from datetime import date

import click
from rich.console import Console
from rich.table import Table

from sender_service.analytics import DateRange, campaign_analytics
from sender_service.cli.common import CommandError, database_url, parse_uuid, settings_or_fail
from sender_service.db.engine import session_scope
from sender_service.db.models import Workspace
from sender_service.reports.warehouse import WarehouseMissingError


@click.group("analytics")
def analytics_group() -> None:
    """Analytics read from the published warehouse."""


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date YYYY-MM-DD, not {value!r}") from None


def _pct(value: object) -> str:
    return "—" if value is None else f"{float(value):.0%}"  # type: ignore[arg-type]


@analytics_group.command("campaigns")
@click.option("--workspace", "workspace_id", required=True, help="Workspace id.")
@click.option("--from", "start", help="First day (YYYY-MM-DD, workspace time zone).")
@click.option("--to", "end", help="Last day, included.")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON document.")
def campaigns_command(workspace_id: str, start: str | None, end: str | None, as_json: bool) -> None:
    """Per-campaign funnel for the leads whose first reply falls in [--from, --to] (cohort;
    their outcome as of the last refresh); all time without a range."""
    workspace = parse_uuid(workspace_id, "--workspace")
    first, last = _day(start, "--from"), _day(end, "--to")
    if (first is None) != (last is None):
        raise CommandError("--from and --to go together")
    date_range = None
    if first is not None and last is not None:
        try:
            date_range = DateRange(first, last)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    settings = settings_or_fail()
    with session_scope(database_url()) as session:
        if session.get(Workspace, workspace) is None:
            raise CommandError(f"no workspace {workspace}")
    try:
        document = campaign_analytics(settings.warehouse_path, workspace, date_range=date_range)
    except WarehouseMissingError as exc:
        raise CommandError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    span = f"{first} to {last}" if date_range else "all time"
    table = Table(title=f"Campaigns, {span} (as of {document['as_of'][:16]})")
    for column in (
        "campaign",
        "replied",
        "positive",
        "meeting req.",
        "booked",
        "booked/positive",
        "booked/meeting req.",
    ):
        table.add_column(column, justify="left" if column == "campaign" else "right")
    for row in document["campaigns"]:
        table.add_row(
            str(row["campaign_name"]),
            f"{row['leads_replied']:,}",
            f"{row['positive_leads']:,}",
            f"{row['meetings_requested_leads']:,}",
            f"{row['booked_leads']:,}",
            _pct(row["booking_rate"]),
            _pct(row["booked_per_meeting_requested"]),
        )
    Console(highlight=False).print(table)
