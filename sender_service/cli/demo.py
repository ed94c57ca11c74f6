"""`replyline demo`: the README's first command, end to end on the embedded defaults."""

from __future__ import annotations

import time

import click

from sender_service.cli.common import database_url, settings_or_fail
from sender_service.db import migrate
from sender_service.db.urls import mask_password


@click.command()
def demo() -> None:
    """Start the embedded database, migrate it, and say what was done."""
    settings = settings_or_fail()
    started = time.monotonic()
    url = database_url()
    where = (
        "DATABASE_URL"
        if settings.database_url
        else f"embedded server under {settings.embedded_pgdata}"
    )
    click.echo(f"[1/2] database ready: {mask_password(url)} ({where})")
    before = migrate.current_revision(url)
    migrate.upgrade(url)
    after = migrate.current_revision(url)
    click.echo(f"[2/2] schema migrated: {before or 'empty'} -> {after}")
    click.echo(f"demo finished in {time.monotonic() - started:.1f}s")
