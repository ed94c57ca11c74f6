"""`replyline workspace ...`: workspaces, their webhook secret and their credentials."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import idna
import yaml
from pydantic import ValidationError
from sqlalchemy import select

from sender_service.ai.context import AIContextFile
from sender_service.booking_sync.ghl import UnusableKeyError, load_public_key
from sender_service.campaigns import CampaignError, find_campaign
from sender_service.cli.common import CommandError, database_url, echo_json, settings_or_fail
from sender_service.cli.lookups import workspace_or_fail
from sender_service.credentials import CredentialError, cipher, store_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    ALERT_KINDS,
    BOOKING_PROVIDERS,
    EMAIL_PLATFORMS,
    MAX_REVISIONS_LIMIT,
    SECRET_NAMES,
    Workspace,
)
from sender_service.email_platforms import DEFAULT_URLS
from sender_service.ingest.lead_fields import HEADCOUNT_NAMES, INDUSTRY_NAMES
from sender_service.users import valid_email
from sender_service.workspaces import (
    create_workspace,
    rotate_webhook_secret,
    set_lead_field_names,
)


def _timezone(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {value!r} (use an IANA name)") from None
    return value


def _hours(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """`9-17`: local opening hours, Monday to Friday, in which setters' response time runs."""
    if value is None:
        return None
    start, _, end = value.strip().partition("-")
    if not (start.isdigit() and end.isdigit() and 0 <= int(start) < int(end) <= 24):
        raise click.BadParameter(
            f"{value!r} is not START-END in whole hours, 0 <= START < END <= 24"
        )
    return f"{int(start)}-{int(end)}"


def _url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"{value!r} is not an http(s) URL")
    return value.strip().rstrip("/")


def _email(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not valid_email(value.strip()):
        raise click.BadParameter(f"{value!r} is not an email address")
    return None if value is None else value.strip()


def _text(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("must not be blank")
    return None if value is None else value.strip()


def _domains(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    """`a.com,b.com` → the hosts as DNS sees them (punycode, lower case); `''` → none."""
    if value is None:
        return None
    hosts: list[str] = []
    for item in value.split(","):
        name = item.strip().rstrip(".").lower()
        if not name:
            continue
        if any(ch in name for ch in "/:@?# ") or "." not in name:
            raise click.BadParameter(f"{item.strip()!r} is not a domain (give hosts like a.com)")
        try:
            hosts.append(idna.encode(name, uts46=True).decode("ascii"))
        except (idna.IDNAError, UnicodeError):
            raise click.BadParameter(f"{item.strip()!r} is not a valid domain name") from None
    return list(dict.fromkeys(hosts))


def _channel(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A Slack channel id (C0123ABCD) or name (#deals)."""
    if value is None:
        return None
    channel = value.strip()
    if not channel or any(ch.isspace() for ch in channel):
        raise click.BadParameter(f"{value!r} is not a Slack channel (give its id or #name)")
    return channel


def _alert_kinds(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    """`meeting_requested,call_requested` → those kinds; `off` → none (alerts stop)."""
    if value is None:
        return None
    if value.strip().lower() == "off":
        return []
    kinds = [k.strip().lower() for k in value.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in ALERT_KINDS]
    if unknown or not kinds:
        raise click.BadParameter(
            f"unknown alert {', '.join(unknown) or repr(value)} "
            f"(choose from {', '.join(ALERT_KINDS)}, or off)"
        )
    return list(dict.fromkeys(kinds))


# Options shared by create and update: (flag, column, validator).
_FIELD_OPTIONS: tuple[tuple[str, str, Callable[..., Any]], ...] = (
    ("--timezone", "timezone", _timezone),
    ("--calendly-url", "calendly_scheduling_url", _url),
    ("--ghl-location-id", "ghl_location_id", _text),
    ("--ghl-calendar-id", "ghl_calendar_id", _text),
    ("--ghl-booking-url", "ghl_booking_url", _url),
    ("--review-slack-email", "review_slack_email", _email),
    ("--email-platform-url", "email_platform_url", _url),
    ("--report-slack-channel", "report_slack_channel", _text),
)


def _field_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for flag, column, check in reversed(_FIELD_OPTIONS):
        command = click.option(flag, column, callback=check)(command)
    # The outbound guard's settings (`pipeline.outbound_guard`).
    guard_options = (
        click.option(
            "--allowed-link-domains",
            callback=_domains,
            help="Hosts AI messages may link to besides the booking link ('' for none).",
        ),
        click.option("--allow-pricing-talk", type=click.BOOL, help="Let AI messages name prices."),
        click.option("--max-email-chars", type=click.IntRange(1, 100_000)),
        click.option("--max-sms-chars", type=click.IntRange(1, 10_000)),
    )
    for option in reversed(guard_options):
        command = option(command)
    command = click.option(
        "--max-revisions",
        type=click.IntRange(0, MAX_REVISIONS_LIMIT),
        help="Rewrites the AI may try when the evaluator says one can fix a draft (default 2).",
    )(command)
    return click.option("--email-platform", type=click.Choice(EMAIL_PLATFORMS))(command)


def _default_platform_url(values: dict[str, Any], current: Workspace | None) -> None:
    """Smartlead and Instantly have one API address each: choosing the platform sets it,
    unless a URL is given (a proxy, a test stub). EmailBison's is per instance: no default."""
    platform = values.get("email_platform")
    if platform in DEFAULT_URLS and "email_platform_url" not in values:
        if current is None or current.email_platform != platform or not current.email_platform_url:
            values["email_platform_url"] = DEFAULT_URLS[platform]


def workspace_view(workspace: Workspace) -> dict[str, Any]:
    """What the CLI shows of a workspace: never the secret's hash, never credentials."""
    return {
        "id": str(workspace.id),
        "name": workspace.name,
        "timezone": workspace.timezone,
        "booking_provider": workspace.booking_provider,
        "calendly_scheduling_url": workspace.calendly_scheduling_url,
        "ghl_location_id": workspace.ghl_location_id,
        "ghl_calendar_id": workspace.ghl_calendar_id,
        "ghl_booking_url": workspace.ghl_booking_url,
        "email_platform": workspace.email_platform,
        "email_platform_url": workspace.email_platform_url,
        "review_slack_email": workspace.review_slack_email,
        "report_slack_channel": workspace.report_slack_channel,
        "auto_send_enabled": workspace.auto_send_enabled,
        "headcount_field": workspace.headcount_field,
        "industry_field": workspace.industry_field,
        "allowed_link_domains": list(workspace.allowed_link_domains or []),
        "allow_pricing_talk": workspace.allow_pricing_talk,
        "max_email_chars": workspace.max_email_chars,
        "max_sms_chars": workspace.max_sms_chars,
        "business_hours": f"{workspace.business_hours_start}-{workspace.business_hours_end}",
        "max_revisions": workspace.max_revisions,
        "alerts_channel": workspace.alerts_channel,
        "alerts": list(workspace.alerts_kinds or []),
        "alerts_digest": workspace.alerts_digest,
    }


@click.group()
def workspace() -> None:
    """Workspaces: create, update, list; webhook secret; credentials."""


@workspace.command()
@click.option("--name", required=True, callback=_text)
@click.option(
    "--booking-provider", required=True, type=click.Choice(BOOKING_PROVIDERS, case_sensitive=False)
)
@_field_options
@click.option("--json", "as_json", is_flag=True, help="Print the workspace as JSON.")
def create(name: str, booking_provider: str, as_json: bool, **fields: Any) -> None:
    """Create a workspace; its webhook secret is shown once and stored only as a hash."""
    values = {k: v for k, v in fields.items() if v is not None}
    _default_platform_url(values, None)
    with session_scope(database_url()) as session:
        ws, secret = create_workspace(
            session, name=name, booking_provider=booking_provider.upper(), **values
        )
        session.refresh(ws)
        view = {**workspace_view(ws), "webhook_secret": secret}
    if as_json:
        echo_json(view)
    else:
        click.echo(f"created workspace {view['id']} ({name})")
        click.echo(f"webhook secret (shown once): {secret}")


@workspace.command()
@click.option("--workspace", "workspace_id", required=True)
@click.option("--name", callback=_text)
@click.option("--booking-provider", type=click.Choice(BOOKING_PROVIDERS, case_sensitive=False))
@_field_options
@click.option("--auto-send-enabled", type=click.BOOL, help="The workspace kill switch.")
@click.option(
    "--business-hours", callback=_hours, help="Setters' hours, e.g. 9-17 (local, Mon-Fri)."
)
@click.option("--alerts-channel", callback=_channel, help="The Slack channel alerts go to.")
@click.option(
    "--alerts",
    "alerts_kinds",
    callback=_alert_kinds,
    help=f"Replies to post to the alerts channel: some of {','.join(ALERT_KINDS)}; off to stop.",
)
@click.option(
    "--alerts-digest",
    type=click.Choice(["daily", "off"]),
    help="daily: one post a day listing the alerts instead of one post each; off: one each.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the workspace as JSON.")
def update(workspace_id: str, as_json: bool, **fields: Any) -> None:
    """Change a workspace's settings; options not given stay as they are."""
    values = {k: v for k, v in fields.items() if v is not None}
    if values.get("alerts_digest") == "off":
        values["alerts_digest"] = None
    if "business_hours" in values:
        start, end = values.pop("business_hours").split("-")
        values["business_hours_start"], values["business_hours_end"] = int(start), int(end)
    if not values:
        raise CommandError("nothing to update: give at least one option")
    if "booking_provider" in values:
        values["booking_provider"] = values["booking_provider"].upper()
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id)
        _default_platform_url(values, ws)
        for column, value in values.items():
            setattr(ws, column, value)
        if ws.alerts_kinds and not ws.alerts_channel:
            raise CommandError("alerts need a channel: give --alerts-channel too")
        session.flush()
        session.refresh(ws)
        view = workspace_view(ws)
    if as_json:
        echo_json(view)
    else:
        click.echo(f"updated workspace {view['id']}: {', '.join(sorted(values))}")


@workspace.command("rotate-webhook-secret")
@click.option("--workspace", "workspace_id", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print {id, webhook_secret} as JSON.")
def rotate(workspace_id: str, as_json: bool) -> None:
    """Replace the webhook secret; the new one is shown once, the old one stops working."""
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id)
        secret = rotate_webhook_secret(ws)
        ws_id = str(ws.id)
    if as_json:
        echo_json({"id": ws_id, "webhook_secret": secret})
    else:
        click.echo(f"new webhook secret (shown once): {secret}")


@workspace.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_command(as_json: bool) -> None:
    """Every workspace."""
    with session_scope(database_url()) as session:
        rows = session.execute(select(Workspace).order_by(Workspace.created_at, Workspace.name))
        views = [workspace_view(ws) for ws in rows.scalars()]
    if as_json:
        echo_json(views)
        return
    for view in views:
        click.echo(f"{view['id']}  {view['booking_provider']:<8}  {view['name']}")


@workspace.command("set-secret")
@click.option("--workspace", "workspace_id", required=True)
@click.option("--name", required=True, type=click.Choice(SECRET_NAMES))
def set_secret(workspace_id: str, name: str) -> None:
    """Store a credential read from stdin (never from the command line), encrypted."""
    try:
        fernet = cipher(settings_or_fail())
    except CredentialError as exc:
        raise CommandError(str(exc)) from None
    if sys.stdin.isatty():
        value = click.prompt(f"{name}", hide_input=True, prompt_suffix=" (hidden): ")
    else:
        value = sys.stdin.read().removesuffix("\n").removesuffix("\r")
    if not value.strip():
        raise CommandError("no secret on stdin: pipe the value in, e.g. `... < keyfile`")
    if name == "ghl_webhook_public_key":
        try:
            load_public_key(value)
        except UnusableKeyError as exc:
            raise CommandError(f"{name}: {exc}; nothing stored") from None
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id)
        store_secret(session, fernet, ws.id, name, value)
    click.echo(f"stored {name} for workspace {workspace_id}")


@workspace.command("set-fields")
@click.option("--workspace", "workspace_id", required=True)
@click.option("--headcount", help="The custom variable holding headcount ('' for the usual names).")
@click.option("--industry", help="The custom variable holding industry ('' for the usual names).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def set_fields(
    workspace_id: str, headcount: str | None, industry: str | None, as_json: bool
) -> None:
    """Name the platform's custom variables for headcount and industry; stored leads are read
    again at once, and the next warehouse refresh re-buckets them."""
    if headcount is None and industry is None:
        raise CommandError("nothing to set: give --headcount NAME, --industry NAME or both")
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id)
        changed = set_lead_field_names(
            session,
            ws,
            ws.headcount_field if headcount is None else headcount,
            ws.industry_field if industry is None else industry,
        )
        fields = {"headcount": ws.headcount_field, "industry": ws.industry_field}
    if as_json:
        echo_json({"workspace_id": workspace_id, "fields": fields, "leads_changed": changed})
        return
    usual = {"headcount": HEADCOUNT_NAMES, "industry": INDUSTRY_NAMES}
    for what, name in fields.items():
        names = ", ".join(repr(n) for n in usual[what])
        first = f"{name!r}, then " if name else ""
        click.echo(f"{what}: read from {first}{names} (case, spaces and _ ignored)")
    click.echo(
        f"{changed} stored lead(s) changed; the next warehouse refresh re-buckets them "
        "(`replyline warehouse refresh`)."
    )


@workspace.command("set-context")
@click.option("--workspace", "workspace_id", required=True)
@click.option("--campaign", "campaign_ref", help="A campaign's id or platform id: its override.")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="YAML with offer, faq, signature, tone, never_say (a list).",
)
def set_context(workspace_id: str, campaign_ref: str | None, path: str) -> None:
    """Give the AI its context (offer, FAQ, signature, tone, phrases never to use)."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f) or {}
        context = AIContextFile.model_validate(raw)
    except yaml.YAMLError as exc:
        raise CommandError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise CommandError(f"{path}: {where}: {first['msg']}") from None
    value = context.model_dump()
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id)
        if campaign_ref:
            try:
                campaign = find_campaign(session, ws.id, campaign_ref)
            except CampaignError as exc:
                raise CommandError(str(exc)) from None
            campaign.ai_context = value
            target = f"campaign {campaign.name}"
        else:
            ws.ai_context = value
            target = f"workspace {ws.name}"
    click.echo(f"AI context set for {target}")
