"""`replyline seed`: a realistic, deterministic data set for demos, benches and the warehouse."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from datetime import time as clock

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from sender_service.cli.common import CommandError, database_url, echo_json
from sender_service.seed.load import SeedError, SeedRequest
from sender_service.seed.load import seed as load_seed


@click.command()
@click.option("--workspaces", type=click.IntRange(1, 50), default=2, show_default=True)
@click.option("--leads", type=click.IntRange(1, 10_000_000), required=True)
@click.option("--random-seed", type=int, required=True, help="Same seed, same data.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the history ends (UTC midnight); default today.",
)
@click.option("--reset", is_flag=True, help="Empty every table first.")
@click.option("--json", "as_json", is_flag=True, help="Print the row counts as JSON.")
def seed(
    workspaces: int,
    leads: int,
    random_seed: int,
    as_of: datetime | None,
    reset: bool,
    as_json: bool,
) -> None:
    """Generate WORKSPACES workspaces (GHL and Calendly in turn) and LEADS leads in all, with
    twelve weeks of threads, drafts, sends and bookings, loaded with COPY in one transaction."""
    day = (as_of or datetime.now(UTC)).date()
    end = datetime.combine(day, clock(), tzinfo=UTC)
    if end > datetime.now(UTC):
        raise CommandError(f"--as-of {day} is in the future: history must be in the past")
    request = SeedRequest(workspaces, leads, random_seed, end, reset)
    url = database_url()
    started = time.monotonic()
    console = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("seeding leads", total=leads)
        try:
            counts = load_seed(url, request, lambda n: progress.advance(task, n))
        except SeedError as exc:
            raise CommandError(str(exc)) from None
    seconds = time.monotonic() - started
    total = sum(counts.values())
    if as_json:
        echo_json({"rows": counts, "total_rows": total, "seconds": round(seconds, 2)})
        return
    for table, n in counts.items():
        click.echo(f"{table:<24}{n:>12,}")
    click.echo(f"{total:,} rows in {seconds:.1f}s ({total / seconds:,.0f} rows/s)")
