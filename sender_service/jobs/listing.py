"""Reading the job queue for people (`replyline jobs list`), through psycopg alone.

Kept apart from `queue` (SQLAlchemy) so the command an operator types most starts at once.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

_COLUMNS = (
    "id, kind, status, attempts, max_attempts, payload, run_at, dedupe_key, locked_by,"
    " last_error, created_at, finished_at"
)


def list_jobs(url: str, *, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Jobs newest first, as JSON-ready dicts (ids and times as strings)."""
    where = "where status = %(status)s" if status is not None else ""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute(
            f"select {_COLUMNS} from jobs {where} order by created_at desc, id limit %(limit)s",
            {"status": status, "limit": limit},
        ).fetchall()
    return [as_json(row) for row in rows]


def as_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "kind": row["kind"],
        "status": row["status"],
        "attempts": row["attempts"],
        "max_attempts": row["max_attempts"],
        "payload": row["payload"],
        "run_at": row["run_at"].isoformat(),
        "dedupe_key": row["dedupe_key"],
        "locked_by": row["locked_by"],
        "last_error": row["last_error"],
        "created_at": row["created_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
    }
