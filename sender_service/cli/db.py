"""`replyline db ...`: the operational database."""

from __future__ import annotations

import click
from alembic.util.exc import CommandError as AlembicCommandError

from sender_service.cli.common import CommandError, database_url, settings_or_fail
from sender_service.db import embedded, migrate
from sender_service.db.urls import DatabaseURLError, libpq_url, mask_password


@click.group()
def db() -> None:
    """Operational database: URL, migrations, the embedded server."""


@db.command("url")
def url_command() -> None:
    """Print the database URL in use, password masked."""
    settings = settings_or_fail()
    if settings.database_url:
        try:
            click.echo(mask_password(libpq_url(settings.database_url)))
        except DatabaseURLError as exc:
            raise CommandError(str(exc)) from None
    else:
        click.echo(mask_password(database_url()))


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate the schema up to REVISION (default: head)."""
    url = database_url()
    _check_revision(revision)
    migrate.upgrade(url, revision)
    click.echo(f"database at {migrate.current_revision(url)}")


@db.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Migrate the schema down to REVISION ('base' removes every table)."""
    url = database_url()
    _check_revision(revision)
    current = migrate.current_revision(url)
    if current is None:
        raise CommandError("the database has no Replyline schema to downgrade")
    migrate.downgrade(url, revision)
    click.echo(f"database at {migrate.current_revision(url) or 'base'}")


@db.command()
def stop() -> None:
    """Stop the embedded PostgreSQL server (no-op when DATABASE_URL is set)."""
    settings = settings_or_fail()
    if settings.database_url:
        raise CommandError("DATABASE_URL is set: Replyline does not manage that server")
    if embedded.stop(settings.embedded_pgdata):
        click.echo(f"stopped the embedded server under {settings.embedded_pgdata}")
    else:
        click.echo("the embedded server was not running")


def _check_revision(revision: str) -> None:
    if revision in ("head", "base"):
        return
    try:
        known = migrate.known_revisions()
    except AlembicCommandError as exc:  # pragma: no cover - broken install
        raise CommandError(str(exc)) from None
    if revision not in known:
        raise CommandError(
            f"unknown revision {revision!r}; known: head, base, {', '.join(sorted(known))}"
        )
