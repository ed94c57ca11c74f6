"""`replyline slack check`: the Slack token, its scopes, the reviewer and the DM."""

from __future__ import annotations

import sys

import click

from sender_service.cli.common import CommandError, database_url, echo_json, settings_or_fail
from sender_service.cli.lookups import workspace_or_fail
from sender_service.db.engine import session_scope
from sender_service.notify import slack
from sender_service.notify.slack_check import check


@click.group("slack")
def slack_group() -> None:
    """The Slack app behind review DMs and report posts."""


@slack_group.command("check")
@click.option("--workspace", "workspace_id", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check_command(workspace_id: str, as_json: bool) -> None:
    """Call Slack as a review DM does (nothing is posted); exit 1 naming what fails."""
    settings = settings_or_fail()
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id)
        name, reviewer, channel = ws.name, ws.review_slack_email, ws.report_slack_channel
    try:
        client = slack.make_client(settings)
    except slack.SlackError as exc:
        raise CommandError(str(exc)) from None
    result = check(client, reviewer, channel)
    if as_json:
        echo_json(
            {
                "workspace_id": workspace_id,
                "ok": result.ok,
                "steps": [vars(step) for step in result.steps],
                "missing_scopes": sorted(result.missing_scopes),
            }
        )
    else:
        click.echo(f"Slack check for {name} ({workspace_id}), reviewer {reviewer}")
        for step in result.steps:
            click.echo(f"{step.status:<4}  {step.name:<19}  {step.detail}")
        if result.ok:
            click.echo("All good: review DMs can be sent.")
        else:
            click.echo("Not ready: give the Slack app what is missing, then reinstall it.")
    if not result.ok:
        sys.exit(1)
