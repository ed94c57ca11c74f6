"""`replyline bookings reconcile`: ask the provider about positive leads without a booking."""

from __future__ import annotations

import click

from sender_service.booking_sync.reconcile import reconcile_workspace
from sender_service.cli.common import CommandError, database_url, echo_json, settings_or_fail
from sender_service.cli.lookups import workspace_or_fail
from sender_service.db.engine import session_scope
from sender_service.providers.factory import NotConfigured


@click.group("bookings")
def bookings_group() -> None:
    """Bookings (GoHighLevel appointments, Calendly invitees)."""


@bookings_group.command("reconcile")
@click.option("--workspace", "workspace_id", required=True, help="Workspace id.")
def reconcile_command(workspace_id: str) -> None:
    """Fix missed booking webhooks for the workspace's positive, unbooked leads."""
    settings = settings_or_fail()
    with session_scope(database_url()) as session:
        workspace = workspace_or_fail(session, workspace_id)
        try:
            summary = reconcile_workspace(session, settings, workspace.id)
        except NotConfigured as exc:
            raise CommandError(f"cannot reach the booking provider: {exc}") from None
    echo_json(
        {
            "workspace_id": workspace_id,
            "checked": summary.checked,
            "fixed": summary.fixed,
            "matched_unmatched": summary.matched,
            "stale_deliveries_booked": summary.stale,
            "errors": summary.errors,
        }
    )
