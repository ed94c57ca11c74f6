"""`replyline campaigns ...`: sync from the email platform, list, switch a campaign's arm."""

from __future__ import annotations

import click
from sqlalchemy import select

from sender_service.campaigns import (
    CampaignError,
    campaign_view,
    find_campaign,
    parse_seconds,
    parse_threshold,
    set_mode,
    set_timing,
    sync_campaigns,
    timing_view,
)
from sender_service.cli.common import CommandError, database_url, echo_json, settings_or_fail
from sender_service.cli.lookups import workspace_or_fail
from sender_service.credentials import CredentialError, cipher, read_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import RESPONSE_MODES, EmailCampaign
from sender_service.email_platforms import EmailPlatformError, client_for


@click.group()
def campaigns() -> None:
    """Email campaigns: sync, list, set-mode, update."""


@campaigns.command()
@click.option("--workspace", "workspace_id", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def sync(workspace_id: str, as_json: bool) -> None:
    """Upsert the platform's campaigns; archive the ones it no longer lists."""
    url = database_url()
    with session_scope(url) as session:
        ws = workspace_or_fail(session, workspace_id)
        if not ws.email_platform_url:
            raise CommandError(
                "the workspace has no email platform URL; "
                "set it with `replyline workspace update --email-platform-url`"
            )
        try:
            api_key = read_secret(
                session, cipher(settings_or_fail()), ws.id, "email_platform_api_key"
            )
        except CredentialError as exc:
            raise CommandError(str(exc)) from None
        if api_key is None:
            raise CommandError(
                "the workspace has no email_platform_api_key; "
                "store it with `replyline workspace set-secret`"
            )
        client = client_for(ws.email_platform, ws.email_platform_url, api_key)
        try:
            listed = client.list_campaigns()
        except EmailPlatformError as exc:
            raise CommandError(str(exc)) from None
        result = sync_campaigns(session, ws.id, listed)
    counts = {
        "listed": len({c.external_id for c in listed}),
        "created": result.created,
        "renamed": result.renamed,
        "archived": result.archived,
        "unarchived": result.unarchived,
        "unchanged": result.unchanged,
    }
    if as_json:
        echo_json(counts)
    else:
        click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


@campaigns.command("list")
@click.option("--workspace", "workspace_id", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_command(workspace_id: str, as_json: bool) -> None:
    """The workspace's campaigns, archived ones included."""
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id)
        rows = session.execute(
            select(EmailCampaign)
            .where(EmailCampaign.workspace_id == ws.id)
            .order_by(EmailCampaign.archived, EmailCampaign.name, EmailCampaign.external_id)
        ).scalars()
        views = [campaign_view(c) for c in rows]
    if as_json:
        echo_json(views)
        return
    for v in views:
        flag = "  (archived)" if v["archived"] else ""
        click.echo(
            f"{v['id']}  {v['external_id']:<10}  {v['response_mode']:<14}  "
            f"{v['auto_send_confidence_threshold']:.3f}  {v['name']}{flag}"
        )


@campaigns.command("set-mode")
@click.option("--workspace", "workspace_id", required=True)
@click.option("--campaign", "ref", required=True, help="Replyline's id or the platform's id.")
@click.option("--mode", required=True, type=click.Choice(RESPONSE_MODES))
@click.option("--threshold", help="Auto-send confidence threshold in [0, 1].")
@click.option("--json", "as_json", is_flag=True, help="Print the campaign as JSON.")
def set_mode_command(
    workspace_id: str, ref: str, mode: str, threshold: str | None, as_json: bool
) -> None:
    """Switch a campaign's arm (and threshold); each change is a history row."""
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id)
        try:
            value = None if threshold is None else parse_threshold(threshold)
            campaign = find_campaign(session, ws.id, ref)
            change = set_mode(session, campaign, mode, value)
        except CampaignError as exc:
            raise CommandError(str(exc)) from None
        view = campaign_view(campaign)
    if as_json:
        echo_json(view)
    elif change is None:
        click.echo(f"campaign {view['external_id']} unchanged: already {mode}")
    else:
        click.echo(
            f"campaign {view['external_id']} is now {mode} "
            f"(threshold {view['auto_send_confidence_threshold']:.3f})"
        )


@campaigns.command("update")
@click.option("--workspace", "workspace_id", required=True)
@click.option("--campaign", "ref", required=True, help="Replyline's id or the platform's id.")
@click.option("--send-delay-min", "delay_min", help="Fewest seconds before an auto-send goes.")
@click.option("--send-delay-max", "delay_max", help="Most seconds before an auto-send goes.")
@click.option(
    "--sending-hours",
    help="always, or business_hours (Mon-Fri 09:00-17:00 in the workspace's time zone).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the campaign as JSON.")
def update_command(
    workspace_id: str,
    ref: str,
    delay_min: str | None,
    delay_max: str | None,
    sending_hours: str | None,
    as_json: bool,
) -> None:
    """Set a campaign's human timing: the auto-send delay window and sending hours."""
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id)
        try:
            campaign = find_campaign(session, ws.id, ref)
            set_timing(
                campaign,
                delay_min=None
                if delay_min is None
                else parse_seconds(delay_min, "--send-delay-min"),
                delay_max=None
                if delay_max is None
                else parse_seconds(delay_max, "--send-delay-max"),
                sending_hours=sending_hours,
            )
        except CampaignError as exc:
            raise CommandError(str(exc)) from None
        view = timing_view(campaign)
    if as_json:
        echo_json(view)
    else:
        click.echo(
            f"campaign {view['external_id']}: auto-sends wait {view['send_delay_min_seconds']}"
            f"-{view['send_delay_max_seconds']} s, sending hours {view['sending_hours']}"
        )
