"""Read-only access to the published DuckDB warehouse's marts."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb


class WarehouseMissingError(RuntimeError):
    """No published warehouse (or no marts in it) to read."""


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


# Each mart's rows in the order of its grain (newest facts last), so every list read from the
# marts comes out the same way whatever order a refresh happened to store them in.
MART_ORDER: dict[str, str] = {
    "campaign_kpis": "campaign_name, email_campaign_id",
    "campaign_segment_kpis": "email_campaign_id, segment_type, segment_value",
    "ai_vs_setter": "arm",
    "weekly_campaign_report": "week_start, campaign_name, email_campaign_id",
    "draft_outcomes": "week_start, email_campaign_id",
    "setter_kpis": "week_start, setter_email, user_id",
    "lead_booking_status": "lead_id",
}


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[dict[str, Any]]


@dataclass
class Marts:
    """Marts rows of one workspace, opened read-only so a refresh never waits on us."""

    con: duckdb.DuckDBPyConnection
    workspace_id: uuid.UUID
    as_of: datetime

    def table(self, name: str, where: str = "", params: tuple[Any, ...] = ()) -> Table:
        # `name` is ours, never user input; the id is compared as text whatever its stored type.
        query = f"select * from marts.{name} where cast(workspace_id as varchar) = ?"
        if where:
            query += f" and {where}"
        if name in MART_ORDER:
            query += f" order by {MART_ORDER[name]}"
        try:
            cursor = self.con.execute(query, (str(self.workspace_id), *params))
        except duckdb.CatalogException:
            raise WarehouseMissingError(
                f"the warehouse has no marts.{name}: run the warehouse refresh first"
            ) from None
        columns = [d[0] for d in cursor.description or []]
        return Table(columns, [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()])

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> Table:
        """Our own SQL over the marts; it filters by workspace itself (the caller's id)."""
        try:
            cursor = self.con.execute(sql, params)
        except duckdb.CatalogException as exc:
            reason = str(exc).splitlines()[0]
            raise WarehouseMissingError(
                f"the warehouse lacks a mart this needs ({reason}): run the warehouse refresh"
            ) from None
        columns = [d[0] for d in cursor.description or []]
        return Table(columns, [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()])


@contextmanager
def open_marts(path: Path, workspace_id: uuid.UUID) -> Iterator[Marts]:
    if not path.is_file():
        raise WarehouseMissingError(
            f"no warehouse at {path}: run the warehouse refresh (Dagster) first"
        )
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        raise WarehouseMissingError(f"cannot open the warehouse at {path}: {reason}") from None
    try:
        as_of = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        yield Marts(con, workspace_id, as_of)
    finally:
        con.close()
