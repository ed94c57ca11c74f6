"""`replyline sequences apply|list` and `replyline followups run-due`."""

from __future__ import annotations

from pathlib import Path

import click

from sender_service.cli.common import CommandError, database_url, echo_json, settings_or_fail
from sender_service.cli.lookups import workspace_or_fail
from sender_service.db.engine import session_scope
from sender_service.followups import definitions
from sender_service.followups.run import run_due
from sender_service.sending.providers import Repliers


@click.group("sequences")
def sequences_group() -> None:
    """Follow-up sequences, declared per workspace in YAML."""


@sequences_group.command("apply")
@click.option("--workspace", "workspace_id", required=True, help="Workspace id.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def apply_command(workspace_id: str, file: Path) -> None:
    """Make the workspace's sequences what FILE declares (see the README for the format)."""
    try:
        text = file.read_text()
    except OSError as exc:
        raise CommandError(f"cannot read {file}: {exc.strerror}") from None
    try:
        spec = definitions.load(text)
    except definitions.SequenceFileError as exc:
        raise CommandError(f"{file}: {exc}") from None
    with session_scope(database_url()) as session:
        workspace = workspace_or_fail(session, workspace_id)
        applied = definitions.apply(session, workspace.id, spec)
    echo_json(
        {
            "created": applied.created,
            "updated": applied.updated,
            "deactivated": applied.deactivated,
        }
    )


@sequences_group.command("list")
@click.option("--workspace", "workspace_id", help="Only this workspace's sequences.")
def list_command(workspace_id: str | None) -> None:
    """Every sequence with its steps, as JSON."""
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id).id if workspace_id else None
        echo_json(definitions.describe(session, ws))


@click.group("followups")
def followups_group() -> None:
    """Follow-up sends."""


@followups_group.command("run-due")
def run_due_command() -> None:
    """Send every due follow-up step now (the worker does this each minute)."""
    url = database_url()
    summary = run_due(url, Repliers(url, settings_or_fail()))
    echo_json(
        [
            {
                "enrollment_id": str(r.enrollment_id),
                "status": r.status,
                "reason": r.reason,
                "message_id": str(r.message_id) if r.message_id else None,
            }
            for r in summary.results
        ]
    )
