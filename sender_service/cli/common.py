"""Helpers shared by the CLI modules."""

from __future__ import annotations

import json
import uuid
from typing import Any

import click

from sender_service.db.urls import DatabaseURLError
from sender_service.settings import Settings, SettingsError, load_settings


class CommandError(click.ClickException):
    """Bad input or state: printed as one line, exit code 2, nothing changed."""

    exit_code = 2


def settings_or_fail() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise CommandError(str(exc)) from None


def database_url() -> str:
    """The database URL in use, starting the embedded server when it is the default."""
    # Imported here: it brings psycopg, which a command's --help does not need.
    from sender_service.db.resolve import resolve_database_url

    try:
        return resolve_database_url(settings_or_fail())
    except DatabaseURLError as exc:
        raise CommandError(str(exc)) from None


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


def parse_uuid(value: str, option: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CommandError(f"{option} must be an id (a UUID), not {value!r}") from None
