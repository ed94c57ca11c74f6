"""The analytics the JSON API serves: one workspace's marts rows, read from the published
warehouse (read-only, so a refresh never blocks a reader), as plain JSON values."""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from sender_service.reports.warehouse import Marts, WarehouseMissingError, open_marts

# Response key → mart. The order is the order of the JSON document.
CAMPAIGN_MARTS: dict[str, str] = {
    "campaigns": "campaign_kpis",
    "segments": "campaign_segment_kpis",
    "ai_vs_setter": "ai_vs_setter",
    "weekly": "weekly_campaign_report",
    "draft_outcomes": "draft_outcomes",
}


def json_value(value: Any) -> Any:
    """A DuckDB value as JSON: ids as strings, dates ISO 8601, decimals as numbers, no NaN."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rows(marts: Marts, name: str, where: str = "", params: tuple[Any, ...] = ()) -> list[Any]:
    table = marts.table(name, where, params)
    return [{k: json_value(v) for k, v in row.items()} for row in table.rows]


def campaign_analytics(
    warehouse_path: Path, workspace_id: uuid.UUID, week: date | None = None
) -> dict[str, Any]:
    """`GET /api/analytics/campaigns`; raises WarehouseMissingError when none is published."""
    with open_marts(warehouse_path, workspace_id) as marts:
        document: dict[str, Any] = {
            "workspace_id": str(workspace_id),
            "as_of": marts.as_of.isoformat(),
        }
        for key, mart in CAMPAIGN_MARTS.items():
            if key == "weekly" and week is not None:
                document[key] = _rows(marts, mart, "week_start = ?", (week,))
            else:
                document[key] = _rows(marts, mart)
    return document


def campaign_analytics_json(
    warehouse_path: Path, workspace_id: uuid.UUID, week: date | None = None
) -> bytes:
    """`campaign_analytics` serialised, cached per published file: a published warehouse never
    changes (a refresh swaps in a new file), so its identity and mtime key the answer, and the
    next refresh's file is a miss. Dashboards polling the same workspace then cost a stat."""
    try:
        stat = warehouse_path.stat()
    except FileNotFoundError:
        raise WarehouseMissingError(
            f"no warehouse at {warehouse_path}: run the warehouse refresh (Dagster) first"
        ) from None
    stamp = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return _cached_json(str(warehouse_path), stamp, workspace_id, week)


@lru_cache(maxsize=64)
def _cached_json(
    path: str, stamp: tuple[int, ...], workspace_id: uuid.UUID, week: date | None
) -> bytes:
    return orjson.dumps(campaign_analytics(Path(path), workspace_id, week))


def lead_analytics(
    warehouse_path: Path, workspace_id: uuid.UUID, lead_id: uuid.UUID
) -> dict[str, Any] | None:
    """The lead's `lead_booking_status` row, or None when the workspace has no such lead."""
    with open_marts(warehouse_path, workspace_id) as marts:
        rows = _rows(marts, "lead_booking_status", "cast(lead_id as varchar) = ?", (str(lead_id),))
    return rows[0] if rows else None
