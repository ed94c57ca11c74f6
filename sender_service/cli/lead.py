"""`replyline lead erase`: a lead's personal data, removed everywhere in the operational store."""

from __future__ import annotations

import click

from sender_service.cli.common import CommandError, database_url, parse_uuid
from sender_service.db.engine import session_scope
from sender_service.db.models import Lead
from sender_service.erasure import UnknownLeadError, erase_lead
from sender_service.pipeline.explain import render_timeline


@click.group("lead")
def lead_group() -> None:
    """Leads."""


@lead_group.command("erase")
@click.option("--lead", "lead_id", required=True, help="Lead id.")
def erase_command(lead_id: str) -> None:
    """Erase a lead's personal data; keep the anonymous counts (one transaction)."""
    lead = parse_uuid(lead_id, "--lead")
    with session_scope(database_url()) as session:
        try:
            erased = erase_lead(session, lead)
        except UnknownLeadError as exc:
            raise CommandError(str(exc)) from None
    # Counts only: the command never prints what it erased.
    click.echo(
        f"erased lead {erased.lead_id}: {erased.messages} messages, {erased.drafts} drafts, "
        f"{erased.booking_events} booking events, {erased.unmatched_bookings} unmatched "
        f"bookings, {erased.deliveries} webhook deliveries scrubbed; the warehouse follows "
        "at its next refresh"
    )


@lead_group.command("explain")
@click.argument("lead_id")
def explain_command(lead_id: str) -> None:
    """Print a lead's timeline: every message, draft, decision and DM, and why."""
    lead = parse_uuid(lead_id, "LEAD_ID")
    with session_scope(database_url()) as session:
        if session.get(Lead, lead) is None:
            raise CommandError(f"no lead {lead_id}")
        click.echo(render_timeline(session, lead))
