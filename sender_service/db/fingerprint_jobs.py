"""The hourly compaction of the row fingerprint log, so it stays a few rows per table even
where the warehouse is never refreshed (the refresh compacts it too, before each copy)."""

from __future__ import annotations

import logging
from typing import Any, Final

import psycopg
from sqlalchemy.orm import Session

from sender_service.db import fingerprints
from sender_service.db.models import REPLICATED_TABLES
from sender_service.jobs.handlers import handler

log = logging.getLogger(__name__)

COMPACT_FINGERPRINTS: Final = "compact_row_fingerprints"


@handler(COMPACT_FINGERPRINTS)
def compact_fingerprints(session: Session, payload: dict[str, Any]) -> None:
    conn = session.connection().connection.driver_connection
    assert isinstance(conn, psycopg.Connection)
    removed = fingerprints.compact(conn, REPLICATED_TABLES)
    log.info("row fingerprint log: %d rows compacted away", removed)
