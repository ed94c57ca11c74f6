"""`replyline webhooks`: the URLs to paste into each platform, and the delivery journal
(`held`, `replay`, `discard`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import select

from sender_service.cli.common import (
    CommandError,
    database_url,
    echo_json,
    parse_uuid,
    settings_or_fail,
)
from sender_service.cli.lookups import workspace_or_fail
from sender_service.db.engine import session_scope
from sender_service.db.models import WebhookDelivery
from sender_service.ingest import deliveries, journal

SECRET_PLACEHOLDER = "<WEBHOOK_SECRET>"
PLATFORM_NAMES = {"emailbison": "EmailBison", "smartlead": "Smartlead", "instantly": "Instantly"}
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
        ws_id, name, platform = str(ws.id), ws.name, ws.email_platform
    # The secret is stored hashed: only its owner has it. Calendly's URL carries none:
    # Calendly signs each delivery with the workspace's signing key, which is what is checked.
    # Only the workspace's own email platform: the others' deliveries are refused.
    found = {
        provider: f"{base}/webhooks/{provider}/{ws_id}?secret={SECRET_PLACEHOLDER}"
        for provider in (platform, "ghl")
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
    click.echo(f"{PLATFORM_NAMES[platform]:<11} {found[platform]}")
    click.echo(
        "            or without ?secret=, send the header "
        f"'X-Replyline-Secret: {SECRET_PLACEHOLDER}' (or Authorization: Bearer)"
    )
    click.echo(f"GHL         {found['ghl']}")
    click.echo(f"Calendly    {found['calendly']}")
    click.echo(f"            {CALENDLY_NOTE}")


def _delivery_json(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "workspace_id": str(row.workspace_id),
        "provider": row.provider,
        "received_at": row.received_at.isoformat(),
        "outcome": row.outcome,
        "error": row.error,
        "field": row.error_field,
        "bytes": len(row.body),
    }


@webhooks.command("held")
@click.option("--workspace", "workspace_id", help="Only this workspace's deliveries.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def held_command(workspace_id: str | None, as_json: bool) -> None:
    """List the deliveries held because no reader could use them (oldest first)."""
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id).id if workspace_id else None
        rows = [_delivery_json(r) for r in journal.held(session, ws)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no held deliveries")
        return
    for r in rows:
        click.echo(
            f"{r['id']}  {r['received_at'][:19]}  {r['provider']:<10}  "
            f"workspace {r['workspace_id']}  {r['field'] or '-'}: {r['error']}"
        )
    click.echo(f"{len(rows)} held; after a fix, `replyline webhooks replay --held` stores them")


@webhooks.command("replay")
@click.option("--id", "delivery_id", help="One journaled delivery, whatever its outcome.")
@click.option("--held", "only_held", is_flag=True, help="Every held delivery.")
@click.option("--since", help="Every delivery received since this ISO time (not discarded).")
@click.option("--workspace", "workspace_id", help="Only this workspace's deliveries.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def replay_command(
    delivery_id: str | None,
    only_held: bool,
    since: str | None,
    workspace_id: str | None,
    as_json: bool,
) -> None:
    """Run journaled deliveries through today's readers; a stored event stays one row."""
    if sum(x is not None and x is not False for x in (delivery_id, only_held, since)) != 1:
        raise CommandError("give exactly one of --id, --held, --since")
    query = select(WebhookDelivery.id).order_by(WebhookDelivery.received_at)
    if delivery_id:
        query = query.where(WebhookDelivery.id == parse_uuid(delivery_id, "--id"))
    elif only_held:
        query = query.where(WebhookDelivery.outcome == "held")
    else:
        assert since is not None
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise CommandError(f"--since must be an ISO time, not {since!r}") from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        # A stale Calendly delivery is booked through the API by reconciliation, never from
        # its late body (which could be a replay).
        query = query.where(
            WebhookDelivery.received_at >= start,
            WebhookDelivery.outcome.not_in(("discarded", "stale")),
        )
    url = database_url()
    with session_scope(url) as session:
        if workspace_id:
            query = query.where(
                WebhookDelivery.workspace_id == workspace_or_fail(session, workspace_id).id
            )
        ids = list(session.execute(query).scalars())
    if delivery_id and not ids:
        raise CommandError(f"no journaled delivery {delivery_id}")
    if delivery_id:
        with session_scope(url) as session:
            if session.get_one(WebhookDelivery, ids[0]).outcome == "stale":
                raise CommandError(
                    f"delivery {delivery_id} is a stale Calendly delivery: "
                    "`replyline bookings reconcile` books it from the Calendly API"
                )
    results = []
    for one in ids:
        # One transaction each: a delivery that fails again leaves the others replayed.
        with session_scope(url) as session:
            row = session.get_one(WebhookDelivery, one)
            before = row.outcome
            if not row.body:
                continue  # scrubbed by an erasure: nothing left to read
            outcome = deliveries.replay(session, row)
        results.append(
            {
                "id": str(one),
                "was": before,
                "now": outcome.outcome,
                "error": outcome.error,
                "field": outcome.error_field,
            }
        )
    if as_json:
        echo_json(results)
        return
    for r in results:
        detail = f"  ({r['field'] or '-'}: {r['error']})" if r["error"] else ""
        click.echo(f"{r['id']}  {r['was']} -> {r['now']}{detail}")
    totals = Counter(r["now"] for r in results)
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(totals.items())) or "nothing"
    click.echo(f"replayed {len(results)}: {summary}")


@webhooks.command("discard")
@click.option("--id", "delivery_ids", multiple=True, help="A held delivery (repeatable).")
@click.option("--held", "all_held", is_flag=True, help="Every held delivery.")
@click.option("--workspace", "workspace_id", help="Only this workspace's deliveries.")
def discard_command(
    delivery_ids: tuple[str, ...], all_held: bool, workspace_id: str | None
) -> None:
    """Give up on held deliveries: they are no longer listed and retention deletes them."""
    if bool(delivery_ids) == all_held:
        raise CommandError("give --id (one or more) or --held")
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id).id if workspace_id else None
        if all_held:
            ids = [r.id for r in journal.held(session, ws)]
        else:
            ids = [parse_uuid(d, "--id") for d in delivery_ids]
        count = journal.discard(session, ids)
    click.echo(f"discarded {count} held deliver{'y' if count == 1 else 'ies'}")
