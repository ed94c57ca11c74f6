"""Date-ranged analytics from memory: one workspace's marts read once, any range answered
from them without a query.

Cohort semantics (the marts' yml and the README): a lead is in [from, to] when its first
reply's date (workspace time zone, `marts.lead_funnel.first_reply_date`) is; its positive /
meeting-requested / booked flags are as of the refresh. Weekly marts keep the weeks that
overlap the range; sentiment counts sum the reply days in it.

Each group (campaign, campaign × segment, arm) keeps its leads in first-reply order with
running totals, so a range's counts are two bisections and a subtraction, and its median and
p90 a sort of the range's response times alone. Six DuckDB selects per request cost ~15× the
CPU of this per ranged answer (README, `bench analytics`).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from operator import add, sub
from typing import Any

from sender_service.reports.warehouse import Marts, json_value
from sender_service.stats import wilson_interval

# What a lead adds to its groups' running totals, in this order (`_lead_counts`).
_SUMMED = (
    "leads",
    "positive_leads",
    "meetings_requested_leads",
    "booked_leads",
    "booked_positive_leads",
    "booked_meeting_requested_leads",
    "responded_leads",
    "ai_sends",
    "setter_sends",
    "sequence_sends",
)
# The marts whose rows a range filters by week (`week_start`), by response key.
WEEKLY_MARTS = {
    "weekly": "weekly_campaign_report",
    "draft_outcomes": "draft_outcomes",
    "setters": "setter_kpis",
}

LEADS = """
select
    cast(email_campaign_id as varchar) as email_campaign_id,
    industry_segment,
    headcount_bucket,
    arm,
    first_reply_date,
    is_positive,
    is_meeting_requested,
    is_booked,
    response_seconds,
    ai_sends,
    setter_sends,
    sequence_sends
from marts.lead_funnel
where cast(workspace_id as varchar) = ? and first_reply_date is not null
order by first_reply_date
"""

CAMPAIGN_LIST = """
select workspace_id, email_campaign_id, campaign_name, response_mode, archived
from marts.campaign_kpis
where cast(workspace_id as varchar) = ?
order by campaign_name, email_campaign_id
"""

SENTIMENT_DAYS = """
select
    cast(email_campaign_id as varchar) as email_campaign_id,
    sentiment,
    reply_date,
    sum(replies) as replies
from marts.campaign_sentiment_counts
where cast(workspace_id as varchar) = ?
group by email_campaign_id, sentiment, reply_date
order by reply_date
"""


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
        """The Monday of the week the range starts in."""
        return self.start - timedelta(days=self.start.weekday())


def percentile_cont(ordered: list[int], q: float) -> float | None:
    """DuckDB's `percentile_cont(q)` of sorted values: linear between the closest ranks."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return float(ordered[low])
    # DuckDB's own arithmetic for doubles, so a range's answer equals its SQL to the last bit.
    weight = position - low
    return float(ordered[low]) * (1.0 - weight) + float(ordered[high]) * weight


class _Series:
    """One group's days, ascending, with running totals per day (a tuple, in the order of
    `_SUMMED` or of the caller's counts) and the response times in day order. Rows must be
    added in day order."""

    __slots__ = ("days", "totals", "response_days", "responses")

    def __init__(self, width: int) -> None:
        self.days: list[int] = []  # date ordinals
        self.totals: list[tuple[int, ...]] = [(0,) * width]
        self.response_days = array("l")
        self.responses = array("q")

    def add(self, day: int, counts: tuple[int, ...], response: int | None = None) -> None:
        if self.days and self.days[-1] == day:
            base = self.totals.pop()
        else:
            self.days.append(day)
            base = self.totals[-1]
        self.totals.append(tuple(map(add, base, counts)))
        if response is not None:
            self.response_days.append(day)
            self.responses.append(response)

    def sums(self, first: int, last: int) -> tuple[int, ...] | None:
        """The totals of the rows in [first, last]; None when no row is."""
        start, end = bisect_left(self.days, first), bisect_right(self.days, last)
        if start == end:
            return None
        return tuple(map(sub, self.totals[end], self.totals[start]))

    def responses_in(self, first: int, last: int) -> list[int]:
        """The response times of the rows in [first, last], sorted."""
        start = bisect_left(self.response_days, first)
        return sorted(self.responses[start : bisect_right(self.response_days, last)])


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


_NONE = (0,) * len(_SUMMED)


def _funnel(sums: tuple[int, ...]) -> dict[str, Any]:
    """The funnel counts and rates of campaign_kpis. In a range every lead of the cohort has
    replied (`leads` = `leads_replied`), so a reply rate says nothing: null."""
    leads, positive, meetings, booked, booked_positive, booked_meetings = sums[:6]
    return {
        "leads": leads,
        "leads_replied": leads,
        "positive_leads": positive,
        "meetings_requested_leads": meetings,
        "booked_leads": booked,
        "booked_positive_leads": booked_positive,
        "booked_meeting_requested_leads": booked_meetings,
        "reply_rate": None,
        "positive_rate": _ratio(positive, leads),
        "meeting_request_rate": _ratio(meetings, positive),
        "booking_rate": _ratio(booked_positive, positive),
        "booked_per_meeting_requested": _ratio(booked_meetings, meetings),
    }


def _series(groups: dict[Any, _Series], key: Any, width: int = len(_SUMMED)) -> _Series:
    series = groups.get(key)
    if series is None:
        groups[key] = series = _Series(width)
    return series


class CohortIndex:
    """One workspace's ranged analytics, answered from memory for any date range."""

    def __init__(self, marts: Marts) -> None:
        self.workspace_id = str(marts.workspace_id)
        ws = (self.workspace_id,)
        self.campaigns = [
            {k: json_value(v) for k, v in row.items()}
            for row in marts.query(CAMPAIGN_LIST, ws).rows
        ]
        by_campaign: dict[str, _Series] = {}
        by_segment: dict[tuple[str, str, str], _Series] = {}
        by_arm: dict[str, _Series] = {}
        for row in marts.query(LEADS, ws).rows:
            counts = _lead_counts(row)
            day = row["first_reply_date"].toordinal()
            response = row["response_seconds"]
            campaign = row["email_campaign_id"]
            if campaign is not None:
                _series(by_campaign, campaign).add(day, counts, response)
                for segment in (
                    (campaign, "industry", row["industry_segment"]),
                    (campaign, "headcount_bucket", row["headcount_bucket"]),
                ):
                    _series(by_segment, segment).add(day, counts, response)
            if row["arm"] is not None:
                _series(by_arm, row["arm"]).add(day, counts, response)
        self.by_campaign = by_campaign
        # In the order the answer lists them, with the columns that never change.
        self.segments = [
            (
                {
                    "workspace_id": self.workspace_id,
                    "email_campaign_id": campaign,
                    "segment_type": kind,
                    "segment_value": value,
                },
                by_segment[(campaign, kind, value)],
            )
            for campaign, kind, value in sorted(by_segment)
        ]
        self.arms = sorted(by_arm.items())
        self.weekly: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for key, mart in WEEKLY_MARTS.items():
            self.weekly[key] = [
                (r["week_start"].toordinal(), {k: json_value(v) for k, v in r.items()})
                for r in marts.table(mart).rows
            ]
        self.sentiments: dict[tuple[str, str], _Series] = {}
        for row in marts.query(SENTIMENT_DAYS, ws).rows:
            label = (row["email_campaign_id"], row["sentiment"])
            _series(self.sentiments, label, 1).add(
                row["reply_date"].toordinal(), (int(row["replies"]),)
            )

    def weeks(self, key: str, first: date, last: date) -> list[dict[str, Any]]:
        """The rows of a weekly mart whose week starts in [first, last], in its grain's order."""
        low, high = first.toordinal(), last.toordinal()
        return [dict(row) for week, row in self.weekly[key] if low <= week <= high]

    def ranged(self, date_range: DateRange) -> dict[str, list[dict[str, Any]]]:
        """The campaign analytics of the range's cohort: the same keys and columns as the
        all-time marts."""
        first, last = date_range.start.toordinal(), date_range.end.toordinal()
        document = {
            "campaigns": self._campaigns(first, last),
            "segments": self._segments(first, last),
            "ai_vs_setter": self._arms(first, last),
        }
        for key in WEEKLY_MARTS:
            document[key] = self.weeks(key, date_range.first_week, date_range.end)
        return document

    def sentiment_counts(self, date_range: DateRange) -> list[dict[str, Any]]:
        """Replies per campaign and sentiment label over the range's reply days."""
        first, last = date_range.start.toordinal(), date_range.end.toordinal()
        rows: list[dict[str, Any]] = []
        for (campaign, sentiment), series in self.sentiments.items():
            sums = series.sums(first, last)
            if sums is not None:
                rows.append(
                    {
                        "workspace_id": self.workspace_id,
                        "email_campaign_id": campaign,
                        "sentiment": sentiment,
                        "replies": sums[0],
                    }
                )
        rows.sort(key=lambda r: (r["email_campaign_id"], -r["replies"], r["sentiment"]))
        return rows

    def _campaigns(self, first: int, last: int) -> list[dict[str, Any]]:
        """Every campaign of the workspace, zeros when none of its leads is in the cohort."""
        rows = []
        for campaign in self.campaigns:
            series = self.by_campaign.get(campaign["email_campaign_id"])
            sums = series.sums(first, last) if series is not None else None
            responses = series.responses_in(first, last) if series and sums else []
            sums = sums or _NONE
            rows.append(
                {
                    **campaign,
                    **_funnel(sums),
                    "ai_sends": sums[7],
                    "setter_sends": sums[8],
                    "sequence_sends": sums[9],
                    "median_first_response_seconds": percentile_cont(responses, 0.5),
                }
            )
        return rows

    def _segments(self, first: int, last: int) -> list[dict[str, Any]]:
        rows = []
        for head, series in self.segments:
            sums = series.sums(first, last)
            if sums is not None:
                median = percentile_cont(series.responses_in(first, last), 0.5)
                rows.append({**head, **_funnel(sums), "median_first_response_seconds": median})
        return rows

    def _arms(self, first: int, last: int) -> list[dict[str, Any]]:
        rows = []
        for arm, series in self.arms:
            sums = series.sums(first, last)
            if sums is not None:
                responses = series.responses_in(first, last)
                row = {
                    "workspace_id": self.workspace_id,
                    "arm": arm,
                    "positive_leads": sums[1],
                    "responded_leads": sums[6],
                    "median_response_seconds": percentile_cont(responses, 0.5),
                    "p90_response_seconds": percentile_cont(responses, 0.9),
                    "booked_leads": sums[3],
                }
                rows.append(with_booking_interval(row))
        return rows


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


def _lead_counts(row: dict[str, Any]) -> tuple[int, ...]:
    """One lead's contribution to `_SUMMED`."""
    positive, meeting, booked = (
        bool(row["is_positive"]),
        bool(row["is_meeting_requested"]),
        bool(row["is_booked"]),
    )
    return (
        1,
        int(positive),
        int(meeting),
        int(booked),
        int(booked and positive),
        int(booked and meeting),
        int(row["response_seconds"] is not None),
        int(row["ai_sends"] or 0),
        int(row["setter_sends"] or 0),
        int(row["sequence_sends"] or 0),
    )
