"""`replyline jobs ...`: look at the job queue and put dead jobs back."""

from __future__ import annotations

import uuid

import click

from sender_service.cli.common import CommandError, database_url, echo_json
from sender_service.jobs import JOB_STATUSES


@click.group()
def jobs() -> None:
    """The durable job queue."""


@jobs.command("list")
@click.option("--dead", is_flag=True, help="Only dead jobs (out of attempts).")
@click.option("--status", type=click.Choice(JOB_STATUSES), help="Only jobs in this status.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(dead: bool, status: str | None, limit: int, as_json: bool) -> None:
    """List jobs, newest first."""
    if dead and status not in (None, "dead"):
        raise CommandError("--dead and --status disagree")
    from sender_service.jobs.listing import list_jobs

    rows = list_jobs(database_url(), status=status or ("dead" if dead else None), limit=limit)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        error = f"  {row['last_error']}" if row["last_error"] else ""
        click.echo(
            f"{row['id']}  {row['kind']:<16} {row['status']:<8} "
            f"{row['attempts']}/{row['max_attempts']}  {row['run_at']}{error}"
        )


@jobs.command()
@click.argument("job_id")
def retry(job_id: str) -> None:
    """Queue a dead (or waiting) job to run now, with a fresh set of attempts."""
    from sender_service.db.engine import session_scope
    from sender_service.jobs import queue

    try:
        parsed = uuid.UUID(job_id)
    except ValueError:
        raise CommandError(f"not a job id: {job_id!r}") from None
    with session_scope(database_url()) as session:
        try:
            job = queue.retry(session, parsed)
        except queue.RetryError as exc:
            raise CommandError(str(exc)) from None
        click.echo(f"job {job.id} ({job.kind}) queued")
