"""Ranged analytics and setter_kpis agree with an independent computation on Postgres.

One module-scoped refresh: `replyline seed` (its leads are assigned to setters) plus a New
York workspace built by hand: leads whose first reply falls exactly on the edges of October,
and two setter timelines — one across the weekend on which US daylight saving time ends, one
where the lead takes a day to write back. Then the real `replyline warehouse refresh`.
"""

from __future__ import annotations

import math
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.rows import dict_row

from sender_service.analytics import DateRange, campaign_analytics
from sender_service.definitions import MEETING_REQUESTED_SENTIMENTS, POSITIVE_SENTIMENTS
from tests.seeded_warehouse import refresh, seeded

AS_OF = "2026-11-20"
NY = ZoneInfo("America/New_York")
OCTOBER = DateRange(date(2026, 10, 1), date(2026, 10, 31))
NOT_REPLIES = ("Out of Office", "Automated Reply")


def _ny(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NY)


@dataclass(frozen=True)
class World:
    url: str
    path: Path
    edge: uuid.UUID  # the New York workspace
    setter: uuid.UUID
    leads: dict[str, uuid.UUID]

    def pg(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            return conn.execute(sql, params).fetchall()


def _build_edge(url: str) -> tuple[uuid.UUID, uuid.UUID, dict[str, uuid.UUID]]:
    ws, setter, campaign = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    leads: dict[str, uuid.UUID] = {}
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into workspaces (id, name, timezone, booking_provider, webhook_secret_hash)"
            " values (%s, 'Edge NY', 'America/New_York', 'GHL', repeat('0', 64))",
            (ws,),
        )
        conn.execute("insert into users (id, email) values (%s, 'sam@edge.test')", (setter,))
        conn.execute(
            "insert into memberships (user_id, workspace_id, role) values (%s, %s, 'setter')",
            (setter, ws),
        )
        conn.execute(
            "insert into email_campaigns (id, workspace_id, external_id, name)"
            " values (%s, %s, 'edge', 'Edge October')",
            (campaign, ws),
        )

        def lead(name: str, first_reply: datetime, sentiment: str, **columns: Any) -> uuid.UUID:
            leads[name] = uuid.uuid4()
            names = "".join(f", {c}" for c in columns)
            marks = "".join(", %s" for _ in columns)
            conn.execute(
                f"insert into leads (id, workspace_id, email_campaign_id, external_id{names})"
                f" values (%s, %s, %s, %s{marks})",
                (leads[name], ws, campaign, name, *columns.values()),
            )
            message(name, first_reply, sentiment=sentiment)
            return leads[name]

        def message(name: str, at: datetime, sentiment: str | None = None, **sent: Any) -> None:
            outbound = bool(sent)
            conn.execute(
                "insert into messages (workspace_id, lead_id, direction, source, external_id,"
                " body, sentiment, sent_by, sent_by_user_id, delivery_status, occurred_at)"
                " values (%s, %s, %s, 'edge', %s, 'hi', %s, %s, %s, %s, %s)",
                (
                    ws,
                    leads[name],
                    "outbound" if outbound else "inbound",
                    uuid.uuid4().hex,
                    sentiment,
                    sent.get("sent_by"),
                    sent.get("user"),
                    "sent" if outbound else None,
                    at,
                ),
            )

        lead("before_from", _ny(2026, 9, 30, 23, 59, 59), "Interested")
        lead("at_from", _ny(2026, 10, 1), "Meeting Requested")
        lead(
            "at_to",
            _ny(2026, 10, 31, 23, 59, 59),
            "Meeting Requested",
            ghl_appointment_id="appt-1",
            appointment_status="confirmed",
            booked_at=_ny(2026, 11, 2, 12),
        )
        lead("after_to", _ny(2026, 11, 1), "Interested")
        # Friday 16:00 EDT → Monday 10:00 EST (DST ended on Sunday 1 November): 1 h + 1 h.
        friday = _ny(2026, 10, 30, 16)
        lead("weekend", friday, "Interested", assigned_user_id=setter, assigned_at=friday)
        message("weekend", _ny(2026, 11, 2, 10), sent_by="setter", user=setter)
        # Monday 09:00 reply, a follow-up at 10:00, the lead writes back Tuesday 14:00 and is
        # answered at 15:00: the setter kept them waiting one hour, not a day and six hours.
        monday = _ny(2026, 11, 2, 9)
        lead("slow_lead", monday, "Interested", assigned_user_id=setter, assigned_at=monday)
        message("slow_lead", _ny(2026, 11, 2, 10), sent_by="sequence")
        message("slow_lead", _ny(2026, 11, 3, 14), sentiment="Interested")
        message("slow_lead", _ny(2026, 11, 3, 15), sent_by="setter", user=None)
        # Assigned and never answered.
        lead("waiting", monday, "Interested", assigned_user_id=setter, assigned_at=monday)
    return ws, setter, leads


@pytest.fixture(scope="module")
def world(make_database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = make_database()
    tmp = tmp_path_factory.mktemp("marts_ranges")
    seed_args = ("--workspaces", "2", "--leads", "300", "--random-seed", "3", "--as-of", AS_OF)
    with seeded(url, tmp, *seed_args) as runner:
        edge, setter, leads = _build_edge(url)
        refresh(runner)
        yield World(url, tmp / "warehouse.duckdb", edge, setter, leads)


# -- ranged campaign funnel ----------------------------------------------------------------------

# Per lead, from Postgres alone: its first reply's local date (the cohort) and its flags.
COHORT = """
with inbound as (
    select
        lead_id,
        min(occurred_at) filter (
            where coalesce(sentiment, '') not in ('Out of Office', 'Automated Reply')
        ) as first_reply_at,
        bool_or(sentiment = any(%(positive)s)) as positive,
        bool_or(sentiment = any(%(meeting)s)) as meeting
    from messages
    where direction = 'inbound' and lead_id is not null
    group by lead_id
)
select
    l.id as lead_id,
    l.workspace_id,
    l.email_campaign_id,
    (i.first_reply_at at time zone w.timezone)::date as cohort_day,
    i.positive,
    i.meeting,
    coalesce(l.appointment_status, '') <> 'canceled' and case w.booking_provider
        when 'GHL' then coalesce(l.ghl_appointment_id, '') <> ''
        else coalesce(l.calendly_invitee_uri, '') <> ''
            or coalesce(l.calendly_scheduled_event_uri, '') <> ''
    end as booked
from leads l
join workspaces w on w.id = l.workspace_id
join inbound i on i.lead_id = l.id
where i.first_reply_at is not null and l.workspace_id = %(workspace)s
"""


def _cohort(world: World, workspace: uuid.UUID, span: DateRange) -> list[dict[str, Any]]:
    rows = world.pg(
        COHORT,
        {
            "positive": sorted(POSITIVE_SENTIMENTS),
            "meeting": sorted(MEETING_REQUESTED_SENTIMENTS),
            "workspace": workspace,
        },
    )
    return [r for r in rows if span.start <= r["cohort_day"] <= span.end]


def _workspaces(world: World) -> list[uuid.UUID]:
    return [r["id"] for r in world.pg("select id from workspaces order by name")]


def test_a_month_of_campaigns_matches_postgres(world: World) -> None:
    checked = 0
    for workspace in _workspaces(world):
        by_campaign: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
        for lead in _cohort(world, workspace, OCTOBER):
            by_campaign[lead["email_campaign_id"]].append(lead)
        document = campaign_analytics(world.path, workspace, date_range=OCTOBER)
        assert (document["from"], document["to"]) == ("2026-10-01", "2026-10-31")
        rows = {uuid.UUID(r["email_campaign_id"]): r for r in document["campaigns"]}
        campaigns = world.pg("select id from email_campaigns where workspace_id = %s", (workspace,))
        assert set(rows) == {c["id"] for c in campaigns}
        for campaign_id, row in rows.items():
            leads = by_campaign.get(campaign_id, [])
            meeting = [lead for lead in leads if lead["meeting"]]
            expected = {
                "leads": len(leads),
                "positive_leads": sum(lead["positive"] for lead in leads),
                "meetings_requested_leads": len(meeting),
                "booked_leads": sum(lead["booked"] for lead in leads),
                "booked_meeting_requested_leads": sum(lead["booked"] for lead in meeting),
            }
            assert {k: row[k] for k in expected} == expected, row["campaign_name"]
            if meeting:
                assert row["booked_per_meeting_requested"] == pytest.approx(
                    expected["booked_meeting_requested_leads"] / len(meeting)
                )
            else:
                assert row["booked_per_meeting_requested"] is None
            checked += len(leads)
        positive = [lead for leads in by_campaign.values() for lead in leads if lead["positive"]]
        arms = document["ai_vs_setter"]
        assert sum(a["positive_leads"] for a in arms) == len(positive)
    assert checked > 20  # the month holds enough of the seed to mean something


def test_the_cohort_includes_both_edges_in_the_workspace_zone(world: World) -> None:
    october = campaign_analytics(world.path, world.edge, date_range=OCTOBER)
    [row] = october["campaigns"]
    # at_from, at_to and weekend (30 Oct); not 30 Sep 23:59:59 nor 1 Nov 00:00 New York time.
    assert row["leads"] == 3
    assert row["meetings_requested_leads"] == 2 and row["booked_leads"] == 1
    assert row["booked_per_meeting_requested"] == pytest.approx(0.5)
    last_day = campaign_analytics(
        world.path, world.edge, date_range=DateRange(date(2026, 10, 31), date(2026, 10, 31))
    )
    assert last_day["campaigns"][0]["leads"] == 1  # at_to alone
    first_day = campaign_analytics(
        world.path, world.edge, date_range=DateRange(date(2026, 10, 1), date(2026, 10, 1))
    )
    assert first_day["campaigns"][0]["leads"] == 1  # at_from alone
    november = campaign_analytics(
        world.path, world.edge, date_range=DateRange(date(2026, 11, 1), date(2026, 11, 30))
    )
    assert november["campaigns"][0]["leads"] == 3  # after_to, slow_lead, waiting


def test_sentiment_counts_sum_the_replies_of_the_range(world: World) -> None:
    for workspace in _workspaces(world):
        expected = world.pg(
            "select m.email_campaign_id, coalesce(m.sentiment, 'Unclassified') as sentiment,"
            " count(*) as replies from ("
            "  select l.email_campaign_id, i.sentiment,"
            "  (i.occurred_at at time zone w.timezone)::date as day"
            "  from messages i join leads l on l.id = i.lead_id"
            "  join workspaces w on w.id = i.workspace_id"
            "  where i.direction = 'inbound' and l.email_campaign_id is not null"
            "  and i.workspace_id = %s) m where m.day between %s and %s group by 1, 2",
            (workspace, OCTOBER.start, OCTOBER.end),
        )
        document = campaign_analytics(world.path, workspace, date_range=OCTOBER)
        got = {
            (uuid.UUID(r["email_campaign_id"]), r["sentiment"]): r["replies"]
            for r in document["sentiments"]
        }
        assert got == {(r["email_campaign_id"], r["sentiment"]): r["replies"] for r in expected}


# What the ranged answer must equal: DuckDB's own aggregation of the range's lead_funnel rows.
DUCKDB_COHORT = """
select
    cast(email_campaign_id as varchar) as campaign,
    industry_segment,
    headcount_bucket,
    arm,
    grouping(email_campaign_id, industry_segment, headcount_bucket, arm) as grouping_id,
    count(*) as leads,
    count(case when is_positive then 1 end) as positive_leads,
    count(case when is_booked then 1 end) as booked_leads,
    count(case when is_booked and is_meeting_requested then 1 end)
        as booked_meeting_requested_leads,
    percentile_cont(0.5) within group (order by response_seconds) as median,
    percentile_cont(0.9) within group (order by response_seconds) as p90,
    sum(ai_sends) as ai_sends
from marts.lead_funnel
where cast(workspace_id as varchar) = ? and first_reply_date between ? and ?
group by grouping sets (
    (email_campaign_id), (email_campaign_id, industry_segment),
    (email_campaign_id, headcount_bucket), (arm)
)
"""


def _ranges(world: World) -> list[DateRange]:
    """Every week of the seed, a few long spans, single days and a range with no replies."""
    import duckdb

    with duckdb.connect(str(world.path), read_only=True) as con:
        row = con.execute(
            "select min(first_reply_date), max(first_reply_date) from marts.lead_funnel"
        ).fetchone()
    assert row is not None
    first, last = row
    spans = [
        DateRange(first + timedelta(days=d), first + timedelta(days=d + 6))
        for d in range(0, (last - first).days + 1, 7)
    ]
    spans += [DateRange(first, last), DateRange(first + timedelta(days=9), last), OCTOBER]
    spans += [DateRange(first + timedelta(days=d), first + timedelta(days=d)) for d in (0, 5, 20)]
    return [*spans, DateRange(date(2020, 1, 1), date(2020, 1, 31))]


def test_every_range_equals_duckdbs_own_aggregation(world: World) -> None:
    """Segments, arms, medians and p90s (which Postgres above does not check) are what
    DuckDB computes over the same rows, to the last bit, for ranges all over the seed."""
    import duckdb

    checked = 0
    with duckdb.connect(str(world.path), read_only=True) as con:
        for workspace in _workspaces(world):
            for span in _ranges(world):
                cursor = con.execute(DUCKDB_COHORT, (str(workspace), span.start, span.end))
                columns = [d[0] for d in cursor.description or []]
                groups = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
                document = campaign_analytics(world.path, workspace, date_range=span)
                segments = {
                    (r["email_campaign_id"], r["segment_type"], r["segment_value"]): r
                    for r in document["segments"]
                }
                campaigns = {r["email_campaign_id"]: r for r in document["campaigns"]}
                arms = {r["arm"]: r for r in document["ai_vs_setter"]}
                expected_segments = 0
                for g in groups:
                    if g["campaign"] is None and g["grouping_id"] != 0b1110:
                        continue  # a lead of no campaign counts in its arm only
                    if g["grouping_id"] == 0b0111:  # campaign
                        row = campaigns[g["campaign"]]
                        assert row["ai_sends"] == g["ai_sends"]
                    elif g["grouping_id"] == 0b1110:  # arm
                        if g["arm"] is None:
                            continue
                        row = arms[g["arm"]]
                        assert row["p90_response_seconds"] == g["p90"]
                        assert row["median_response_seconds"] == g["median"]
                        assert row["booked_leads"] == g["booked_leads"]
                        assert row["positive_leads"] == g["positive_leads"]
                        continue
                    else:
                        industry = g["grouping_id"] == 0b0011
                        kind = "industry" if industry else "headcount_bucket"
                        value = g["industry_segment"] if industry else g["headcount_bucket"]
                        row = segments[(g["campaign"], kind, value)]
                        expected_segments += 1
                    assert row["leads"] == g["leads"]
                    assert row["positive_leads"] == g["positive_leads"]
                    assert (
                        row["booked_meeting_requested_leads"]
                        == (g["booked_meeting_requested_leads"])
                    )
                    assert row["median_first_response_seconds"] == g["median"]
                    checked += 1
                assert len(segments) == expected_segments
                in_range = {g["campaign"] for g in groups if g["grouping_id"] == 0b0111}
                assert all(
                    r["leads"] == 0 and r["median_first_response_seconds"] is None
                    for campaign, r in campaigns.items()
                    if campaign not in in_range
                )
    assert checked > 500


@pytest.mark.parametrize(
    "values",
    [
        [5074, 14729, 71067],
        [1, 2],
        [7],
        [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5],
        list(range(0, 10**6, 37)),
    ],
)
def test_percentiles_interpolate_as_duckdb_does(values: list[int]) -> None:
    import duckdb

    from sender_service.cohorts import percentile_cont as cohort_percentile

    for q in (0.5, 0.9):
        (expected,) = duckdb.sql(
            f"select percentile_cont({q}) within group (order by x) from unnest(?) t(x)",
            params=[values],
        ).fetchone() or (None,)
        assert cohort_percentile(sorted(values), q) == expected  # equal, not approximately


# -- setter_kpis ---------------------------------------------------------------------------------


def business_seconds(start: datetime, end: datetime, tz: str, opens: int, closes: int) -> int:
    """Seconds of [start, end] inside opening hours, Monday to Friday, in the zone."""
    zone = ZoneInfo(tz)
    total = 0.0
    day = start.astimezone(zone).date()
    while day <= end.astimezone(zone).date():
        if day.weekday() < 5:
            window_open = datetime(day.year, day.month, day.day, opens, tzinfo=zone)
            window_close = (
                datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(hours=closes)
                if closes == 24
                else datetime(day.year, day.month, day.day, closes, tzinfo=zone)
            )
            overlap = (min(end, window_close) - max(start, window_open)).total_seconds()
            total += max(0.0, overlap)
        day += timedelta(days=1)
    return round(total)


def percentile_cont(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _setter_expected(world: World) -> dict[tuple[uuid.UUID, date], dict[str, Any]]:
    leads = world.pg(
        "select l.id, l.assigned_user_id, l.assigned_at, w.timezone, w.business_hours_start,"
        " w.business_hours_end, coalesce(l.appointment_status, '') <> 'canceled' and case"
        " w.booking_provider when 'GHL' then coalesce(l.ghl_appointment_id, '') <> ''"
        " else coalesce(l.calendly_invitee_uri, '') <> ''"
        " or coalesce(l.calendly_scheduled_event_uri, '') <> '' end as booked"
        " from leads l join workspaces w on w.id = l.workspace_id"
        " where l.assigned_user_id is not null"
    )
    messages: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for m in world.pg(
        "select lead_id, id, direction, sentiment, sent_by, sent_by_user_id, occurred_at"
        " from messages where lead_id in (select id from leads where assigned_user_id is not null)"
        " and (direction = 'inbound' or coalesce(delivery_status, 'sent') = 'sent')"
        " order by occurred_at, id"
    ):
        messages[m["lead_id"]].append(m)
    groups: dict[tuple[uuid.UUID, date], dict[str, Any]] = {}
    for lead in leads:
        thread = messages[lead["id"]]
        positives = [
            m["occurred_at"]
            for m in thread
            if m["direction"] == "inbound" and m["sentiment"] in POSITIVE_SENTIMENTS
        ]
        if not positives:
            continue
        local = lead["assigned_at"].astimezone(ZoneInfo(lead["timezone"])).date()
        key = (lead["assigned_user_id"], local - timedelta(days=local.weekday()))
        group = groups.setdefault(key, {"assigned": 0, "waits": [], "booked": 0})
        group["assigned"] += 1
        group["booked"] += lead["booked"]
        answer = next(
            (
                m
                for m in thread
                if m["direction"] == "outbound"
                and m["sent_by"] == "setter"
                and m["sent_by_user_id"] in (None, lead["assigned_user_id"])
                and m["occurred_at"] >= min(positives)
            ),
            None,
        )
        if answer is None:
            continue
        before = [
            m["occurred_at"]
            for m in thread
            if m["direction"] == "outbound" and m["occurred_at"] < answer["occurred_at"]
        ]
        since = min(
            m["occurred_at"]
            for m in thread
            if m["direction"] == "inbound"
            and (m["sentiment"] or "") not in NOT_REPLIES
            and m["occurred_at"] <= answer["occurred_at"]
            and (not before or m["occurred_at"] > max(before))
        )
        group["waits"].append(
            business_seconds(
                since,
                answer["occurred_at"],
                lead["timezone"],
                lead["business_hours_start"],
                lead["business_hours_end"],
            )
        )
    return groups


def test_setter_kpis_match_postgres(world: World) -> None:
    import duckdb

    with duckdb.connect(str(world.path), read_only=True) as con:
        cursor = con.execute("select * from marts.setter_kpis")
        columns = [d[0] for d in cursor.description or []]
        mart = {
            (row["user_id"], row["week_start"]): row
            for row in (dict(zip(columns, r, strict=True)) for r in cursor.fetchall())
        }
    expected = _setter_expected(world)
    assert set(mart) == set(expected)
    assert len({user for user, _ in mart}) >= 4  # seeded setters of both workspaces, and Sam
    for key, group in expected.items():
        row = mart[key]
        assert row["assigned_positive_leads"] == group["assigned"]
        assert row["answered_leads"] == len(group["waits"])
        assert row["booked_leads"] == group["booked"]
        assert row["booking_rate"] == pytest.approx(group["booked"] / group["assigned"])
        if group["waits"]:
            # Within a second: the mart counts whole seconds, the seed's times have fractions.
            assert row["median_first_response_business_seconds"] == pytest.approx(
                statistics.median(group["waits"]), abs=1
            )
            assert row["p90_first_response_business_seconds"] == pytest.approx(
                percentile_cont(group["waits"], 0.9), abs=1
            )
        else:
            assert row["median_first_response_business_seconds"] is None


def test_business_hours_on_one_timeline(world: World) -> None:
    document = campaign_analytics(world.path, world.edge)
    rows = {r["week_start"]: r for r in document["setters"]}
    # Week of Friday 30 October: the weekend lead, 1 h on Friday + 1 h on Monday after DST.
    assert rows["2026-10-26"]["median_first_response_business_seconds"] == 7200
    # Week of 2 November: the slow lead (1 h: its own day never counts) and one unanswered.
    november = rows["2026-11-02"]
    assert (november["assigned_positive_leads"], november["answered_leads"]) == (2, 1)
    assert november["median_first_response_business_seconds"] == 3600
    assert november["setter_email"] == "sam@edge.test"
