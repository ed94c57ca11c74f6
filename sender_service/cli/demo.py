"""`replyline demo`: the README's first command, end to end on the embedded defaults."""

from __future__ import annotations

import re

import click

from sender_service.cli.common import CommandError, settings_or_fail
from sender_service.db.models import EMAIL_PLATFORMS
from sender_service.demo.run import run


@click.command()
@click.option(
    "--leads",
    default=2000,
    show_default=True,
    type=click.IntRange(100, 200_000),
    help="Leads of seeded history behind the live day.",
)
@click.option("--random-seed", default=7, show_default=True, type=int)
@click.option(
    "--database",
    default="replyline_demo",
    show_default=True,
    help="The database the demo (re)creates on the configured server.",
)
@click.option(
    "--platform",
    type=click.Choice(EMAIL_PLATFORMS),
    default="emailbison",
    show_default=True,
    help="The email platform the demo workspace runs on (its webhooks and reply API).",
)
def demo(leads: int, random_seed: int, database: str, platform: str) -> None:
    """Seed history, start the service and a worker, replay a recorded day of webhooks, and
    print what was sent, what went to review and why; then stop everything it started."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", database):
        raise CommandError("--database must be a plain lower-case name (letters, digits, _)")
    run(
        settings_or_fail(),
        click.echo,
        leads=leads,
        random_seed=random_seed,
        database=database,
        platform=platform,
    )
