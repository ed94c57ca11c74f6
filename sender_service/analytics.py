"""The analytics the JSON API serves: one workspace's marts rows, read from the published
warehouse (read-only, so a refresh never blocks a reader), as plain JSON values.

With a date range the lead-level numbers are one aggregation over `marts.lead_funnel`, by
cohort: a lead is in [from, to] when its first reply's date (workspace time zone) is, and its
positive / meeting-requested / booked flags are as of the refresh. Weekly marts keep the
weeks that overlap the range; sentiment counts sum the reply days in it.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import orjson

from sender_service.reports.warehouse import Marts, WarehouseMissingError
from sender_service.stats import wilson_interval

# Response key → mart. The order is the order of the JSON document.
CAMPAIGN_MARTS: dict[str, str] = {
    "campaigns": "campaign_kpis",
    "segments": "campaign_segment_kpis",
    "ai_vs_setter": "ai_vs_setter",
    "weekly": "weekly_campaign_report",
    "draft_outcomes": "draft_outcomes",
    "setters": "setter_kpis",
}


@dataclass(frozen=True)
class DateRange:
    """Both ends included, in the workspace's time zone."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the range ends ({self.end}) before it starts ({self.start})")

    @property
    def first_week(self) -> date:
        return self.start - timedelta(days=self.start.weekday())


# The funnel over lead_funnel rows, as campaign_kpis and campaign_segment_kpis compute it.
# lead_funnel holds leads that replied, so in a range `leads` = `leads_replied`.
_FUNNEL = """
    count(*) as leads,
    count(*) as leads_replied,
    count(case when is_positive then 1 end) as positive_leads,
    count(case when is_meeting_requested then 1 end) as meetings_requested_leads,
    count(case when is_booked then 1 end) as booked_leads,
    count(case when is_booked and is_positive then 1 end) as booked_positive_leads,
    count(case when is_booked and is_meeting_requested then 1 end)
        as booked_meeting_requested_leads,
    percentile_cont(0.5) within group (order by response_seconds)
        as median_first_response_seconds
"""
# In a range every lead of the cohort has replied, so a reply rate says nothing: null.
_RATES = """
    cast(null as double) as reply_rate,
    positive_leads * 1.0 / nullif(leads_replied, 0) as positive_rate,
    meetings_requested_leads * 1.0 / nullif(positive_leads, 0) as meeting_request_rate,
    booked_positive_leads * 1.0 / nullif(positive_leads, 0) as booking_rate,
    booked_meeting_requested_leads * 1.0 / nullif(meetings_requested_leads, 0)
        as booked_per_meeting_requested
"""
# Campaigns, both segment types and the arms of a cohort in one pass over lead_funnel.
RANGED_COHORT = f"""
with groups as (
    select
        grouping(email_campaign_id) as by_arm,
        grouping(industry_segment) = 0 as by_industry,
        grouping(headcount_bucket) = 0 as by_headcount,
        email_campaign_id,
        industry_segment,
        headcount_bucket,
        arm,
        {_FUNNEL},
        count(response_seconds) as responded_leads,
        percentile_cont(0.9) within group (order by response_seconds) as p90_response_seconds,
        sum(ai_sends) as ai_sends,
        sum(setter_sends) as setter_sends,
        sum(sequence_sends) as sequence_sends
    from marts.lead_funnel
    where cast(workspace_id as varchar) = ? and first_reply_date between ? and ?
    group by grouping sets (
        (email_campaign_id),
        (email_campaign_id, industry_segment),
        (email_campaign_id, headcount_bucket),
        (arm)
    )
)
select *, {_RATES} from groups
"""

CAMPAIGN_LIST = """
select workspace_id, email_campaign_id, campaign_name, response_mode, archived
from marts.campaign_kpis
where cast(workspace_id as varchar) = ?
order by campaign_name, email_campaign_id
"""

_COUNTS = (
    "leads",
    "leads_replied",
    "positive_leads",
    "meetings_requested_leads",
    "booked_leads",
    "booked_positive_leads",
    "booked_meeting_requested_leads",
)
_RATE_NAMES = (
    "reply_rate",
    "positive_rate",
    "meeting_request_rate",
    "booking_rate",
    "booked_per_meeting_requested",
)

SENTIMENTS = """
select
    workspace_id, email_campaign_id, sentiment, sum(replies) as replies
from marts.campaign_sentiment_counts
where cast(workspace_id as varchar) = ? {range}
group by workspace_id, email_campaign_id, sentiment
order by email_campaign_id, replies desc, sentiment
"""


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


def _query(marts: Marts, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    table = marts.query(sql, params)
    return [{k: json_value(v) for k, v in row.items()} for row in table.rows]


def with_booking_interval(arm: dict[str, Any]) -> dict[str, Any]:
    """An arm row with its booking rate and Wilson 95 % interval, as ai_vs_setter has them."""
    booked, positive = int(arm["booked_leads"]), int(arm["positive_leads"])
    interval = wilson_interval(booked, positive)
    return {
        **arm,
        "booking_rate": booked / positive if positive else None,
        "booking_rate_ci_low": interval[0] if interval else None,
        "booking_rate_ci_high": interval[1] if interval else None,
    }


def sentiment_counts(marts: Marts, date_range: DateRange | None) -> list[dict[str, Any]]:
    """Replies per campaign and sentiment label, over the range's reply days (else all)."""
    ws = str(marts.workspace_id)
    if date_range is None:
        return _query(marts, SENTIMENTS.format(range=""), (ws,))
    sql = SENTIMENTS.format(range="and reply_date between ? and ?")
    return _query(marts, sql, (ws, date_range.start, date_range.end))


def _funnel(row: dict[str, Any] | None) -> dict[str, Any]:
    row = row or {}
    return {
        **{c: row.get(c) or 0 for c in _COUNTS},
        **{c: row.get(c) for c in _RATE_NAMES},
    }


def _cohort_rows(
    marts: Marts, date_range: DateRange
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Campaigns (every campaign of the workspace, zeros when none is in the cohort),
    segments and arms of the cohort: the same columns as the all-time marts."""
    ws = str(marts.workspace_id)
    groups = _query(marts, RANGED_COHORT, (ws, date_range.start, date_range.end))
    per_campaign: dict[str, dict[str, Any]] = {}
    segments: list[dict[str, Any]] = []
    arms: list[dict[str, Any]] = []
    for g in groups:
        if g["by_arm"]:
            if g["arm"] is not None:
                arms.append(
                    {
                        "workspace_id": ws,
                        "arm": g["arm"],
                        "positive_leads": g["positive_leads"],
                        "responded_leads": g["responded_leads"],
                        "median_response_seconds": g["median_first_response_seconds"],
                        "p90_response_seconds": g["p90_response_seconds"],
                        "booked_leads": g["booked_leads"],
                    }
                )
        elif g["by_industry"] or g["by_headcount"]:
            if g["email_campaign_id"] is not None:
                kind = "industry" if g["by_industry"] else "headcount_bucket"
                segments.append(
                    {
                        "workspace_id": ws,
                        "email_campaign_id": g["email_campaign_id"],
                        "segment_type": kind,
                        "segment_value": g["industry_segment" if g["by_industry"] else kind],
                        **_funnel(g),
                        "median_first_response_seconds": g["median_first_response_seconds"],
                    }
                )
        else:
            per_campaign[g["email_campaign_id"]] = g
    campaigns = []
    for c in _query(marts, CAMPAIGN_LIST, (ws,)):
        found = per_campaign.get(c["email_campaign_id"])
        campaigns.append(
            {
                **c,
                **_funnel(found),
                **{
                    k: (found or {}).get(k) or 0
                    for k in ("ai_sends", "setter_sends", "sequence_sends")
                },
                "median_first_response_seconds": (found or {}).get("median_first_response_seconds"),
            }
        )
    segments.sort(key=lambda r: (r["email_campaign_id"], r["segment_type"], r["segment_value"]))
    arms.sort(key=lambda r: r["arm"])
    return campaigns, segments, [with_booking_interval(a) for a in arms]


def ranged_marts(marts: Marts, date_range: DateRange) -> dict[str, list[dict[str, Any]]]:
    """The campaign analytics for the cohort of leads whose first reply is in the range."""
    campaigns, segments, arms = _cohort_rows(marts, date_range)
    weeks = "week_start between ? and ?"
    week_params = (date_range.first_week, date_range.end)
    return {
        "campaigns": campaigns,
        "segments": segments,
        "ai_vs_setter": arms,
        "weekly": _rows(marts, "weekly_campaign_report", weeks, week_params),
        "draft_outcomes": _rows(marts, "draft_outcomes", weeks, week_params),
        "setters": _rows(marts, "setter_kpis", weeks, week_params),
    }


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
        as_of = datetime.fromtimestamp(stamp[2] / 1e9, UTC)
        yield Marts(cursor, workspace_id, as_of)
    finally:
        cursor.close()


def campaign_analytics(
    warehouse_path: Path,
    workspace_id: uuid.UUID,
    week: date | None = None,
    date_range: DateRange | None = None,
) -> dict[str, Any]:
    """`GET /api/analytics/campaigns`; raises WarehouseMissingError when none is published."""
    with published_marts(warehouse_path, workspace_id) as marts:
        document: dict[str, Any] = {
            "workspace_id": str(workspace_id),
            "as_of": marts.as_of.isoformat(),
        }
        if date_range is not None:
            document["from"] = date_range.start.isoformat()
            document["to"] = date_range.end.isoformat()
            document.update(ranged_marts(marts, date_range))
        else:
            for key, mart in CAMPAIGN_MARTS.items():
                document[key] = _rows(marts, mart)
        if week is not None:
            document["weekly"] = _rows(marts, "weekly_campaign_report", "week_start = ?", (week,))
        document["sentiments"] = sentiment_counts(marts, date_range)
    return document


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
