"""`replyline worker`: run queued jobs (SIGTERM finishes the current one, then exits)."""

from __future__ import annotations

import click

from sender_service import logs, metrics
from sender_service.cli.common import database_url
from sender_service.jobs.worker import Worker


@click.command()
@click.option("--drain", is_flag=True, help="Run every job that is due, then exit.")
@click.option(
    "--poll-interval",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds between polls when no NOTIFY arrives.",
)
@click.option(
    "--reap-interval",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds between checks for jobs whose worker died.",
)
@click.option(
    "--sweep-interval",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds between sweeps for sends whose worker died mid-send.",
)
def worker(drain: bool, poll_interval: float, reap_interval: float, sweep_interval: float) -> None:
    """Process jobs until stopped; several workers may share one database."""
    logs.configure()
    metrics.install_decision_counter()
    # A drain runs what is queued; only a long-running worker offers the periodic jobs.
    runner = Worker(
        database_url(),
        poll_interval=poll_interval,
        reap_interval=reap_interval,
        sweep_interval=sweep_interval,
        periodic=not drain,
    )
    runner.install_signal_handlers()
    processed = runner.run(drain=drain)
    if drain:
        click.echo(f"drained {processed} job(s)")
