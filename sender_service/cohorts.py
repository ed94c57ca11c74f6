"""Date-ranged analytics from memory: one workspace's marts read once, any range answered
from them without a query.

Cohort semantics (the marts' yml and the README): a lead is in [from, to] when its first
reply's date (workspace time zone, `marts.lead_funnel.first_reply_date`) is; its positive /
meeting-requested / booked flags are as of the refresh. Weekly marts keep the weeks that
overlap the range; sentiment counts sum the reply days in it.

Each group (campaign, campaign × segment, arm) keeps its leads in first-reply order with
running totals, so a range's counts are two bisections and a subtraction, and its median and
p90 a sort of the range's response times alone. A DuckDB aggregation per request cost the
API ~10 ms of CPU per ranged answer; this costs well under one (`bench analytics`).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sender_service.reports.warehouse import Marts, json_value
from sender_service.stats import wilson_interval

# What a group sums over its leads, in this order (the running totals' tuple).
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
_FUNNEL_COUNTS = _SUMMED[:6]
# The marts whose rows a range filters by week (`week_start`), by response key.
WEEKLY_MARTS = {
    "weekly": "weekly_campaign_report",
    "draft_outcomes": "draft_outcomes",
    "setters": "setter_kpis",
}

LEADS = """
select
    email_campaign_id,
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
select email_campaign_id, sentiment, reply_date, sum(replies) as replies
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
    """One group's days, ascending, with running totals of `names` per day and the response
    times in day order. Rows must be added in day order."""

    __slots__ = ("names", "days", "totals", "response_days", "responses")

    def __init__(self, names: tuple[str, ...] = _SUMMED) -> None:
        self.names = names
        self.days: list[int] = []  # date ordinals
        self.totals: list[tuple[int, ...]] = [(0,) * len(names)]
        self.response_days = array("l")
        self.responses = array("q")

    def add(self, day: int, counts: tuple[int, ...], response: int | None) -> None:
        if self.days and self.days[-1] == day:
            base = self.totals.pop()
        else:
            self.days.append(day)
            base = self.totals[-1]
        self.totals.append(tuple(a + b for a, b in zip(base, counts, strict=True)))
        if response is not None:
            self.response_days.append(day)
            self.responses.append(response)

    def window(self, first: int, last: int) -> tuple[dict[str, int], list[int]] | None:
        """Sums and sorted response times of the rows in [first, last]; None when none is."""
        start, end = bisect_left(self.days, first), bisect_right(self.days, last)
        if start == end:
            return None
        sums = {
            name: high - low
            for name, high, low in zip(
                self.names, self.totals[end], self.totals[start], strict=True
            )
        }
        r_start = bisect_left(self.response_days, first)
        r_end = bisect_right(self.response_days, last)
        return sums, sorted(self.responses[r_start:r_end])


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _funnel(sums: dict[str, int] | None) -> dict[str, Any]:
    """The funnel counts and rates of campaign_kpis. In a range every lead of the cohort has
    replied (`leads` = `leads_replied`), so a reply rate says nothing: null."""
    sums = sums or dict.fromkeys(_SUMMED, 0)
    return {
        "leads": sums["leads"],
        "leads_replied": sums["leads"],
        **{name: sums[name] for name in _FUNNEL_COUNTS[1:]},
        "reply_rate": None,
        "positive_rate": _ratio(sums["positive_leads"], sums["leads"]),
        "meeting_request_rate": _ratio(sums["meetings_requested_leads"], sums["positive_leads"]),
        "booking_rate": _ratio(sums["booked_positive_leads"], sums["positive_leads"]),
        "booked_per_meeting_requested": _ratio(
            sums["booked_meeting_requested_leads"], sums["meetings_requested_leads"]
        ),
    }


class CohortIndex:
    """One workspace's ranged analytics, answered from memory for any date range."""

    def __init__(self, marts: Marts) -> None:
        self.workspace_id = str(marts.workspace_id)
        ws = (self.workspace_id,)
        self.campaigns = [
            {k: json_value(v) for k, v in row.items()}
            for row in marts.query(CAMPAIGN_LIST, ws).rows
        ]
        self.by_campaign: dict[str, _Series] = {}
        self.by_segment: dict[tuple[str, str, Any], _Series] = {}
        self.by_arm: dict[str, _Series] = {}
        for row in marts.query(LEADS, ws).rows:
            counts = _lead_counts(row)
            day = row["first_reply_date"].toordinal()
            response = row["response_seconds"]
            campaign = row["email_campaign_id"]
            if campaign is not None:
                campaign = str(campaign)
                keys = (
                    (campaign, "industry", row["industry_segment"]),
                    (campaign, "headcount_bucket", row["headcount_bucket"]),
                )
                self.by_campaign.setdefault(campaign, _Series()).add(day, counts, response)
                for segment in keys:
                    self.by_segment.setdefault(segment, _Series()).add(day, counts, response)
            if row["arm"] is not None:
                self.by_arm.setdefault(row["arm"], _Series()).add(day, counts, response)
        self.weekly: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for key, mart in WEEKLY_MARTS.items():
            rows = marts.table(mart).rows
            self.weekly[key] = [
                (r["week_start"].toordinal(), {k: json_value(v) for k, v in r.items()})
                for r in rows
            ]
        self.sentiments: dict[tuple[str, str], _Series] = {}
        for row in marts.query(SENTIMENT_DAYS, ws).rows:
            label = (str(row["email_campaign_id"]), row["sentiment"])
            self.sentiments.setdefault(label, _Series(("replies",))).add(
                row["reply_date"].toordinal(), (int(row["replies"]),), None
            )

    def weeks(self, key: str, first: date, last: date) -> list[dict[str, Any]]:
        """The rows of a weekly mart whose week starts in [first, last], in the mart's order."""
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
            found = series.window(first, last)
            if found is not None:
                rows.append(
                    {
                        "workspace_id": self.workspace_id,
                        "email_campaign_id": campaign,
                        "sentiment": sentiment,
                        "replies": found[0]["replies"],
                    }
                )
        rows.sort(key=lambda r: (r["email_campaign_id"], -r["replies"], r["sentiment"]))
        return rows

    def _campaigns(self, first: int, last: int) -> list[dict[str, Any]]:
        """Every campaign of the workspace, zeros when none of its leads is in the cohort."""
        rows = []
        for campaign in self.campaigns:
            series = self.by_campaign.get(campaign["email_campaign_id"])
            found = series.window(first, last) if series is not None else None
            sums, responses = found if found is not None else (None, [])
            rows.append(
                {
                    **campaign,
                    **_funnel(sums),
                    **{k: sums[k] if sums else 0 for k in _SUMMED[-3:]},
                    "median_first_response_seconds": percentile_cont(responses, 0.5),
                }
            )
        return rows

    def _segments(self, first: int, last: int) -> list[dict[str, Any]]:
        rows = []
        for (campaign, kind, value), series in self.by_segment.items():
            found = series.window(first, last)
            if found is not None:
                rows.append(
                    {
                        "workspace_id": self.workspace_id,
                        "email_campaign_id": campaign,
                        "segment_type": kind,
                        "segment_value": value,
                        **_funnel(found[0]),
                        "median_first_response_seconds": percentile_cont(found[1], 0.5),
                    }
                )
        rows.sort(key=lambda r: (r["email_campaign_id"], r["segment_type"], r["segment_value"]))
        return rows

    def _arms(self, first: int, last: int) -> list[dict[str, Any]]:
        rows = []
        for arm in sorted(self.by_arm):
            found = self.by_arm[arm].window(first, last)
            if found is not None:
                sums, responses = found
                row = {
                    "workspace_id": self.workspace_id,
                    "arm": arm,
                    "positive_leads": sums["positive_leads"],
                    "responded_leads": sums["responded_leads"],
                    "median_response_seconds": percentile_cont(responses, 0.5),
                    "p90_response_seconds": percentile_cont(responses, 0.9),
                    "booked_leads": sums["booked_leads"],
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
