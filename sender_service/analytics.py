"""The analytics the JSON API serves: one workspace's marts rows, read from the published
warehouse (read-only, so a refresh never blocks a reader), as plain JSON values.

A date range is answered by the workspace's `CohortIndex` (sender_service.cohorts, which
states the cohort semantics), built once per published file.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import orjson

from sender_service.cohorts import CohortIndex, DateRange
from sender_service.reports.warehouse import Marts, WarehouseMissingError, json_value

__all__ = ["CAMPAIGN_MARTS", "DateRange", "campaign_analytics", "json_value"]

# Response key → mart. The order is the order of the JSON document.
CAMPAIGN_MARTS: dict[str, str] = {
    "campaigns": "campaign_kpis",
    "segments": "campaign_segment_kpis",
    "ai_vs_setter": "ai_vs_setter",
    "weekly": "weekly_campaign_report",
    "draft_outcomes": "draft_outcomes",
    "setters": "setter_kpis",
}


SENTIMENTS = """
select
    workspace_id, email_campaign_id, sentiment, sum(replies) as replies
from marts.campaign_sentiment_counts
where cast(workspace_id as varchar) = ?
group by workspace_id, email_campaign_id, sentiment
order by email_campaign_id, replies desc, sentiment
"""


def _rows(marts: Marts, name: str, where: str = "", params: tuple[Any, ...] = ()) -> list[Any]:
    table = marts.table(name, where, params)
    return [{k: json_value(v) for k, v in row.items()} for row in table.rows]


def _query(marts: Marts, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    table = marts.query(sql, params)
    return [{k: json_value(v) for k, v in row.items()} for row in table.rows]


def sentiment_counts(marts: Marts) -> list[dict[str, Any]]:
    """Replies per campaign and sentiment label, all time (a range: `CohortIndex`)."""
    return _query(marts, SENTIMENTS, (str(marts.workspace_id),))


Stamp = tuple[int, ...]
_published: dict[str, tuple[Stamp, duckdb.DuckDBPyConnection]] = {}
_published_lock = threading.Lock()


def _stamp(warehouse_path: Path) -> Stamp:
    try:
        stat = warehouse_path.stat()
    except FileNotFoundError:
        raise WarehouseMissingError(
            f"no warehouse at {warehouse_path}: run the warehouse refresh (Dagster) first"
        ) from None
    return (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _as_of(stamp: Stamp) -> datetime:
    """When the published file was written: its mtime."""
    return datetime.fromtimestamp(stamp[2] / 1e9, UTC)


@contextmanager
def published_marts(warehouse_path: Path, workspace_id: uuid.UUID) -> Iterator[Marts]:
    """Marts of the published file through one read-only attachment per file version, kept
    open for the process: opening the file costs tens of milliseconds, a cursor on it none.

    Each version gets its own in-memory DuckDB that ATTACHes the path, rather than
    `duckdb.connect(path)`, whose per-process instance cache would hand back the replaced
    file while any reader still held it. A refresh swaps in a new file (a new stamp); the old
    attachment is dropped and closes once its last cursor is done."""
    stamp = _stamp(warehouse_path)
    key = str(warehouse_path)
    with _published_lock:
        held = _published.get(key)
        if held is None or held[0] != stamp:
            # One thread per query: a workspace's marts are thousands of rows, where a
            # parallel plan costs more than it saves, and concurrent requests already keep
            # every core busy (bench: CPU per ranged answer 14 → 10 ms).
            con = duckdb.connect(":memory:", config={"threads": 1})
            try:
                # ATTACH takes no parameters: the path is ours (settings), quoted as a literal.
                literal = key.replace("'", "''")
                con.execute(f"attach '{literal}' as published (read_only)")
            except duckdb.Error as exc:
                con.close()
                reason = str(exc).splitlines()[0]
                raise WarehouseMissingError(
                    f"cannot open the warehouse at {warehouse_path}: {reason}"
                ) from None
            _published[key] = held = (stamp, con)
        cursor = held[1].cursor()
    try:
        cursor.execute("use published")
        yield Marts(cursor, workspace_id, _as_of(stamp))
    finally:
        cursor.close()


def campaign_analytics(
    warehouse_path: Path,
    workspace_id: uuid.UUID,
    week: date | None = None,
    date_range: DateRange | None = None,
) -> dict[str, Any]:
    """`GET /api/analytics/campaigns`; raises WarehouseMissingError when none is published."""
    if date_range is not None:
        return _ranged_analytics(warehouse_path, workspace_id, week, date_range)
    with published_marts(warehouse_path, workspace_id) as marts:
        document: dict[str, Any] = {
            "workspace_id": str(workspace_id),
            "as_of": marts.as_of.isoformat(),
        }
        for key, mart in CAMPAIGN_MARTS.items():
            document[key] = _rows(marts, mart)
        if week is not None:
            document["weekly"] = _rows(marts, "weekly_campaign_report", "week_start = ?", (week,))
        document["sentiments"] = sentiment_counts(marts)
    return document


def _ranged_analytics(
    warehouse_path: Path, workspace_id: uuid.UUID, week: date | None, date_range: DateRange
) -> dict[str, Any]:
    stamp = _stamp(warehouse_path)
    index = _cohort_index(str(warehouse_path), stamp, workspace_id)
    document: dict[str, Any] = {
        "workspace_id": str(workspace_id),
        "as_of": _as_of(stamp).isoformat(),
        "from": date_range.start.isoformat(),
        "to": date_range.end.isoformat(),
        **index.ranged(date_range),
    }
    if week is not None:
        document["weekly"] = index.weeks("weekly", week, week)
    document["sentiments"] = index.sentiment_counts(date_range)
    return document


# Per worker process: a workspace's index holds ~0.8 MB per 1,000 replied leads (its weekly and
# sentiment rows included); a refresh (a new stamp) is a miss and the old file's indexes age out.
@lru_cache(maxsize=16)
def _cohort_index(path: str, stamp: Stamp, workspace_id: uuid.UUID) -> CohortIndex:
    with published_marts(Path(path), workspace_id) as marts:
        return CohortIndex(marts)


def campaign_analytics_json(
    warehouse_path: Path,
    workspace_id: uuid.UUID,
    week: date | None = None,
    date_range: DateRange | None = None,
) -> bytes:
    """`campaign_analytics` serialised, cached per published file: a published warehouse never
    changes (a refresh swaps in a new file), so its identity and mtime key the answer, and the
    next refresh's file is a miss. Dashboards polling the same workspace then cost a stat."""
    stamp = _stamp(warehouse_path)
    return _cached_json(str(warehouse_path), stamp, workspace_id, week, date_range)


@lru_cache(maxsize=64)
def _cached_json(
    path: str,
    stamp: tuple[int, ...],
    workspace_id: uuid.UUID,
    week: date | None,
    date_range: DateRange | None,
) -> bytes:
    return orjson.dumps(campaign_analytics(Path(path), workspace_id, week, date_range))


def lead_analytics(
    warehouse_path: Path, workspace_id: uuid.UUID, lead_id: uuid.UUID
) -> dict[str, Any] | None:
    """The lead's `lead_booking_status` row, or None when the workspace has no such lead."""
    with published_marts(warehouse_path, workspace_id) as marts:
        rows = _rows(marts, "lead_booking_status", "cast(lead_id as varchar) = ?", (str(lead_id),))
    return rows[0] if rows else None
