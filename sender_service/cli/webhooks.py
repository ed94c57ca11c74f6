"""`replyline webhooks urls`: the webhook URLs to paste into each platform."""

from __future__ import annotations

import click

from sender_service.cli.common import database_url, echo_json, settings_or_fail
from sender_service.cli.lookups import workspace_or_fail
from sender_service.db.engine import session_scope

SECRET_PLACEHOLDER = "<WEBHOOK_SECRET>"
CALENDLY_NOTE = (
    "no secret in this URL: Calendly signs every delivery (Calendly-Webhook-Signature), "
    "checked with the signing key stored by `workspace set-secret --name calendly_signing_key`"
)


@click.group()
def webhooks() -> None:
    """Incoming webhooks."""


@webhooks.command("urls")
@click.option("--workspace", "workspace_id", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def urls(workspace_id: str, as_json: bool) -> None:
    """Print each platform's webhook URL (from PUBLIC_BASE_URL) and how to pass the secret."""
    base = settings_or_fail().public_base_url
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id)
        ws_id, name = str(ws.id), ws.name
    # The secret is stored hashed: only its owner has it. Calendly's URL carries none:
    # Calendly signs each delivery with the workspace's signing key, which is what is checked.
    found = {
        platform: f"{base}/webhooks/{platform}/{ws_id}?secret={SECRET_PLACEHOLDER}"
        for platform in ("emailbison", "ghl")
    }
    found["calendly"] = f"{base}/webhooks/calendly/{ws_id}"
    if as_json:
        echo_json({"workspace_id": ws_id, "urls": found, "notes": {"calendly": CALENDLY_NOTE}})
        return
    click.echo(f"Webhook URLs for {name} ({ws_id}); replace {SECRET_PLACEHOLDER} with the")
    click.echo(
        "workspace's webhook secret (shown once by `workspace create` or "
        "`workspace rotate-webhook-secret`)."
    )
    click.echo("")
    click.echo(f"EmailBison  {found['emailbison']}")
    click.echo(
        "            or without ?secret=, send the header "
        f"'X-Replyline-Secret: {SECRET_PLACEHOLDER}' (or Authorization: Bearer)"
    )
    click.echo(f"GHL         {found['ghl']}")
    click.echo(f"Calendly    {found['calendly']}")
    click.echo(f"            {CALENDLY_NOTE}")
