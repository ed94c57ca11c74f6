"""Which PostgreSQL to use: DATABASE_URL, or the embedded server (started if needed).

Apart from `engine`, so commands that talk to the database through psycopg alone (`replyline
jobs list`) start without importing SQLAlchemy.
"""

from __future__ import annotations

from sender_service.db import embedded
from sender_service.db.urls import libpq_url
from sender_service.settings import Settings, load_settings


def resolve_database_url(settings: Settings | None = None) -> str:
    """The libpq URL in use: DATABASE_URL, or the embedded server (started if needed)."""
    settings = settings or load_settings()
    if settings.database_url:
        return libpq_url(settings.database_url)
    return embedded.app_url(settings.embedded_pgdata)
