"""The marts agree with counts computed here, independently, in plain SQL on Postgres.

One module-scoped refresh: `replyline seed` (a few hundred leads, fixed `--as-of`) plus a
hand-made campaign of edge cases (a rescheduled, a cancelled and a showed booking, a GHL lead
with a stray Calendly URI, a mode switch mid-period, leads without a reply, a lead replying
positively three times), then the real `replyline warehouse refresh` (replication, dbt build
with its data and unit tests, publish). The marts are read from the published file, read-only.
"""

from __future__ import annotations

import json
import re
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import psycopg
import pytest
from click.testing import CliRunner
from psycopg.rows import dict_row

from sender_service.cli import cli
from sender_service.definitions import (
    MEETING_REQUESTED_SENTIMENTS,
    POSITIVE_SENTIMENTS,
    headcount_bucket,
)
from tests.seeded_warehouse import refresh, seeded

AS_OF = "2026-11-20"
SWITCH_AT = datetime(2026, 10, 20, tzinfo=UTC)


@dataclass(frozen=True)
class Warehouse:
    pg_url: str
    path: Path
    edge_campaign: uuid.UUID
    edge_leads: dict[str, uuid.UUID]

    def marts(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            cursor = con.execute(sql, params)
            columns = [d[0] for d in cursor.description or []]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def pg(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        with psycopg.connect(self.pg_url, row_factory=dict_row) as conn:
            return conn.execute(sql, params).fetchall()


def _at(day: int, month: int = 10, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _add_edge_cases(url: str) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    """A GHL-workspace campaign switched from setter to AI on SWITCH_AT, and its leads."""
    with psycopg.connect(url) as conn:
        ws = conn.execute(
            "select id from workspaces where booking_provider = 'GHL' order by name limit 1"
        ).fetchone()
        assert ws is not None
        workspace = ws[0]
        campaign = uuid.uuid4()
        conn.execute(
            "insert into email_campaigns (id, workspace_id, external_id, name, response_mode,"
            " created_at) values (%s, %s, 'edge', 'Edge cases', 'AI_AUTO_SEND', %s)",
            (campaign, workspace, _at(1)),
        )
        conn.execute(
            "insert into email_campaigns (workspace_id, external_id, name, archived)"
            " values (%s, 'edge-empty', 'Archived, no leads', true)",
            (workspace,),
        )
        conn.execute(
            "insert into campaign_mode_changes (workspace_id, email_campaign_id, from_mode,"
            " to_mode, threshold, reason, changed_at) values"
            " (%s, %s, null, 'SETTER_MANAGED', 0.9, 'created', %s),"
            " (%s, %s, 'SETTER_MANAGED', 'AI_AUTO_SEND', 0.9, 'manual', %s)",
            (workspace, campaign, _at(1), workspace, campaign, SWITCH_AT),
        )
        leads: dict[str, uuid.UUID] = {}

        def lead(name: str, **columns: Any) -> uuid.UUID:
            leads[name] = uuid.uuid4()
            columns = {"industry": "  Edge   Testing ", "headcount": "1,000+", **columns}
            names = ", ".join(columns)
            marks = ", ".join(["%s"] * len(columns))
            conn.execute(
                f"insert into leads (id, workspace_id, email_campaign_id, external_id, email,"
                f" {names}) values (%s, %s, %s, %s, %s, {marks})",
                (leads[name], workspace, campaign, name, f"{name}@edge.test", *columns.values()),
            )
            return leads[name]

        def message(
            lead_id: uuid.UUID,
            at: datetime,
            sentiment: str | None = None,
            sent_by: str | None = None,
        ) -> None:
            conn.execute(
                "insert into messages (workspace_id, lead_id, direction, source, external_id,"
                " body, sentiment, sent_by, delivery_status, occurred_at)"
                " values (%s, %s, %s, 'edge', %s, 'hi', %s, %s, %s, %s)",
                (
                    workspace,
                    lead_id,
                    "outbound" if sent_by else "inbound",
                    uuid.uuid4().hex,
                    sentiment,
                    sent_by,
                    "sent" if sent_by else None,
                    at,
                ),
            )

        # Rescheduled: the lead row holds the new appointment, still confirmed. Positive three
        # times before the switch: one positive lead, in the setter arm.
        thrice = lead(
            "thrice",
            ghl_appointment_id="appt-new",
            appointment_status="confirmed",
            booked_at=_at(8),
            headcount="51-200",
        )
        for day in (5, 6, 7):
            message(thrice, _at(day), "Interested")
        message(thrice, _at(5, hour=10), sent_by="setter")
        cancelled = lead(
            "cancelled",
            ghl_appointment_id="appt-c",
            appointment_status="canceled",
            booked_at=_at(26),
        )
        message(cancelled, _at(25), "Meeting Requested")
        message(cancelled, _at(25) + timedelta(seconds=60), sent_by="ai")
        showed = lead(
            "showed",
            ghl_appointment_id="appt-s",
            appointment_status="showed",
            booked_at=_at(27),
            industry="",
        )
        message(showed, _at(26), "Call Requested")
        message(showed, _at(26) + timedelta(seconds=90), sent_by="ai")
        stray = lead(
            "stray_calendly",
            calendly_invitee_uri="https://api.calendly.com/invitees/x",
            appointment_status="confirmed",
            booked_at=_at(28),
        )
        message(stray, _at(27), "Interested")
        lead("no_reply_1")
        lead("no_reply_2", headcount=None)
        message(lead("out_of_office"), _at(10), "Out of Office")
        message(lead("unclassified"), _at(11), None)
    return campaign, leads


def _add_guard_stops(url: str) -> None:
    """Decisions on seeded drafts naming the outbound guard's rules: one rule, two rules, a
    draft stopped at decision time and again before its send, and decisions without a rule."""
    with psycopg.connect(url) as conn:
        drafts = conn.execute(
            "select id, workspace_id, lead_id from ai_drafts order by created_at, id limit 30"
        ).fetchall()
        assert len(drafts) == 30
        plans = [["link"], ["pricing", "link"], ["echo"], [], ["language", "length"]]
        for n, (draft_id, workspace_id, lead_id) in enumerate(drafts):
            stops = [plans[n % len(plans)]] + ([["link"]] if n % 7 == 0 else [])
            for rules in stops:
                conn.execute(
                    "insert into auto_send_decisions (workspace_id, lead_id, ai_draft_id, action,"
                    " reason, guard_rules) values (%s, %s, %s, 'needs_review', 'guard', %s)",
                    (workspace_id, lead_id, draft_id, rules),
                )


@pytest.fixture(scope="module")
def warehouse(make_database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    url = make_database()
    tmp = tmp_path_factory.mktemp("marts")
    seed_args = ("--workspaces", "2", "--leads", "300", "--random-seed", "11", "--as-of", AS_OF)
    with seeded(url, tmp, *seed_args) as runner:
        campaign, leads = _add_edge_cases(url)
        _add_guard_stops(url)
        refreshed = refresh(runner)
        assert "dbt_build: done" in refreshed.output
        assert "marts/campaign_kpis: built" in refreshed.output
        yield Warehouse(url, tmp / "warehouse.duckdb", campaign, leads)


# Per lead, from Postgres alone: the funnel flags, the booked rule, the first positive reply,
# the first response after it, and the arm in force then.
LEAD_FACTS = """
with inbound as (
    select
        lead_id,
        bool_or(coalesce(sentiment, '') not in ('Out of Office', 'Automated Reply')) as replied,
        bool_or(sentiment = any(%(positive)s)) as positive,
        bool_or(sentiment = any(%(meeting)s)) as meeting,
        min(occurred_at) filter (where sentiment = any(%(positive)s)) as first_positive_at,
        min(occurred_at) filter (where sentiment = any(%(meeting)s)) as first_meeting_at
    from messages
    where direction = 'inbound' and lead_id is not null
    group by lead_id
)
select
    l.id as lead_id,
    l.workspace_id,
    l.email_campaign_id,
    l.industry,
    l.headcount,
    w.timezone,
    coalesce(i.replied, false) as replied,
    coalesce(i.positive, false) as positive,
    coalesce(i.meeting, false) as meeting,
    i.first_positive_at,
    i.first_meeting_at,
    l.booked_at,
    coalesce(l.appointment_status, '') <> 'canceled' and case w.booking_provider
        when 'GHL' then coalesce(l.ghl_appointment_id, '') <> ''
        else coalesce(l.calendly_invitee_uri, '') <> ''
            or coalesce(l.calendly_scheduled_event_uri, '') <> ''
    end as booked,
    (
        select extract(epoch from min(m.occurred_at) - i.first_positive_at)
        from messages m
        where m.lead_id = l.id and m.direction = 'outbound'
            and m.sent_by in ('ai', 'setter', 'sequence')
            and coalesce(m.delivery_status, 'sent') = 'sent'
            and m.occurred_at >= i.first_positive_at
    ) as response_seconds,
    case when i.first_positive_at is not null then coalesce(
        (select c.to_mode from campaign_mode_changes c
         where c.email_campaign_id = l.email_campaign_id and c.changed_at <= i.first_positive_at
         order by c.changed_at desc limit 1),
        (select coalesce(c.from_mode, c.to_mode) from campaign_mode_changes c
         where c.email_campaign_id = l.email_campaign_id and c.changed_at > i.first_positive_at
         order by c.changed_at limit 1),
        e.response_mode
    ) end as arm
from leads l
join workspaces w on w.id = l.workspace_id
left join email_campaigns e on e.id = l.email_campaign_id
left join inbound i on i.lead_id = l.id
"""

SENDS = """
select coalesce(l.email_campaign_id, m.email_campaign_id) as email_campaign_id, m.sent_by,
       m.occurred_at, w.timezone
from messages m
join workspaces w on w.id = m.workspace_id
left join leads l on l.id = m.lead_id
where m.direction = 'outbound' and coalesce(m.delivery_status, 'sent') = 'sent'
"""


@pytest.fixture(scope="module")
def lead_facts(warehouse: Warehouse) -> list[dict[str, Any]]:
    return warehouse.pg(
        LEAD_FACTS,
        {"positive": sorted(POSITIVE_SENTIMENTS), "meeting": sorted(MEETING_REQUESTED_SENTIMENTS)},
    )


def _funnel(leads: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "leads": len(leads),
        "leads_replied": sum(lead["replied"] for lead in leads),
        "positive_leads": sum(lead["positive"] for lead in leads),
        "meetings_requested_leads": sum(lead["meeting"] for lead in leads),
        "booked_leads": sum(lead["booked"] for lead in leads),
        "booked_positive_leads": sum(lead["booked"] and lead["positive"] for lead in leads),
    }


def _week(ts: datetime, tz: str) -> date:
    local = ts.astimezone(ZoneInfo(tz)).date()
    return local - timedelta(days=local.weekday())


def test_campaign_kpis_match_postgres(
    warehouse: Warehouse, lead_facts: list[dict[str, Any]]
) -> None:
    by_campaign: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for lead in lead_facts:
        by_campaign[lead["email_campaign_id"]].append(lead)
    sends = Counter((s["email_campaign_id"], s["sent_by"]) for s in warehouse.pg(SENDS))
    campaigns = warehouse.pg("select id from email_campaigns")
    mart = {
        row["email_campaign_id"]: row
        for row in warehouse.marts("select * from marts.campaign_kpis")
    }
    assert set(mart) == {c["id"] for c in campaigns}  # archived and empty campaigns included
    for campaign_id, row in mart.items():
        leads = by_campaign.get(campaign_id, [])
        expected = _funnel(leads)
        assert {k: row[k] for k in expected} == expected, row["campaign_name"]
        for sent_by in ("ai", "setter", "sequence"):
            assert row[f"{sent_by}_sends"] == sends[(campaign_id, sent_by)]
        positive = expected["positive_leads"]
        assert row["booking_rate"] == (
            pytest.approx(expected["booked_positive_leads"] / positive) if positive else None
        )
        assert row["reply_rate"] == (
            pytest.approx(expected["leads_replied"] / len(leads)) if leads else None
        )
        waits = [lead["response_seconds"] for lead in leads if lead["response_seconds"] is not None]
        if waits:
            median = float(statistics.median(float(w) for w in waits))
            assert row["median_first_response_seconds"] == pytest.approx(median, abs=1)
    assert sum(row["positive_leads"] for row in mart.values()) > 20  # the seed says something


def test_edge_cases(warehouse: Warehouse) -> None:
    leads = warehouse.edge_leads
    rows = {
        row["lead_id"]: row
        for row in warehouse.marts(
            "select * from marts.lead_booking_status where email_campaign_id = ?",
            (warehouse.edge_campaign,),
        )
    }
    booked = {name for name, lead_id in leads.items() if rows[lead_id]["is_booked"]}
    assert booked == {"thrice", "showed"}  # cancelled and a stray Calendly URI are not booked
    arms = {name: rows[lead_id]["arm"] for name, lead_id in leads.items()}
    assert arms == {
        "thrice": "SETTER_MANAGED",  # positive before the switch
        "cancelled": "AI_AUTO_SEND",
        "showed": "AI_AUTO_SEND",
        "stray_calendly": "AI_AUTO_SEND",
        "no_reply_1": None,
        "no_reply_2": None,
        "out_of_office": None,
        "unclassified": None,
    }
    assert rows[leads["thrice"]]["first_response_by"] == "setter"
    assert rows[leads["cancelled"]]["response_seconds"] == 60
    [kpis] = warehouse.marts(
        "select * from marts.campaign_kpis where email_campaign_id = ?", (warehouse.edge_campaign,)
    )
    assert {k: kpis[k] for k in _funnel([])} == {
        "leads": 8,
        "leads_replied": 5,  # out of office does not count, unclassified does
        "positive_leads": 4,  # three positive replies are one lead
        "meetings_requested_leads": 2,
        "booked_leads": 2,
        "booked_positive_leads": 2,
    }
    [empty] = warehouse.marts(
        "select * from marts.campaign_kpis where campaign_name = 'Archived, no leads'"
    )
    assert (empty["leads"], empty["reply_rate"], empty["booking_rate"]) == (0, None, None)


def test_ai_vs_setter_matches_postgres(
    warehouse: Warehouse, lead_facts: list[dict[str, Any]]
) -> None:
    expected: dict[tuple[uuid.UUID, str], Counter[str]] = defaultdict(Counter)
    for lead in lead_facts:
        if lead["positive"]:
            arm = expected[(lead["workspace_id"], lead["arm"])]
            arm["positive_leads"] += 1
            arm["booked_leads"] += lead["booked"]
            arm["responded_leads"] += lead["response_seconds"] is not None
    mart = {
        (row["workspace_id"], row["arm"]): row
        for row in warehouse.marts("select * from marts.ai_vs_setter")
    }
    assert set(mart) == set(expected)
    assert {arm for _, arm in mart} == {"AI_AUTO_SEND", "SETTER_MANAGED"}
    for key, counts in expected.items():
        row = mart[key]
        assert {k: row[k] for k in counts} == dict(counts)
        low, high = row["booking_rate_ci_low"], row["booking_rate_ci_high"]
        assert 0 <= low <= row["booking_rate"] <= high <= 1


def test_segment_kpis_match_postgres(
    warehouse: Warehouse, lead_facts: list[dict[str, Any]]
) -> None:
    industries = {
        row["id"]: row["segment"]
        for row in warehouse.pg(
            "select id, coalesce(nullif(lower(trim(regexp_replace(industry, '\\s+', ' ', 'g'))),"
            " ''), 'unknown') as segment from leads"
        )
    }
    segments: dict[tuple[uuid.UUID, str, str], list[dict[str, Any]]] = defaultdict(list)
    for lead in lead_facts:
        if lead["email_campaign_id"] is None:
            continue
        campaign = lead["email_campaign_id"]
        segments[(campaign, "industry", industries[lead["lead_id"]])].append(lead)
        segments[(campaign, "headcount_bucket", headcount_bucket(lead["headcount"]))].append(lead)
    mart = {
        (row["email_campaign_id"], row["segment_type"], row["segment_value"]): row
        for row in warehouse.marts("select * from marts.campaign_segment_kpis")
    }
    assert set(mart) == set(segments)
    for key, leads in segments.items():
        expected = _funnel(leads)
        assert {k: mart[key][k] for k in expected} == expected, key
    edge = warehouse.edge_campaign
    assert mart[(edge, "industry", "edge testing")]["leads"] == 7
    assert mart[(edge, "industry", "unknown")]["booked_leads"] == 1
    assert mart[(edge, "headcount_bucket", "1001-5000")]["leads"] == 6  # "1,000+"
    assert mart[(edge, "headcount_bucket", "51-200")]["positive_leads"] == 1


def test_weekly_campaign_report_matches_postgres(
    warehouse: Warehouse, lead_facts: list[dict[str, Any]]
) -> None:
    expected: dict[tuple[uuid.UUID, date], Counter[str]] = defaultdict(Counter)
    for lead in lead_facts:
        if lead["email_campaign_id"] is None:
            continue
        if lead["first_positive_at"] is not None:
            week = _week(lead["first_positive_at"], lead["timezone"])
            expected[(lead["email_campaign_id"], week)]["new_positive_leads"] += 1
        if lead["first_meeting_at"] is not None:
            week = _week(lead["first_meeting_at"], lead["timezone"])
            expected[(lead["email_campaign_id"], week)]["new_meetings_requested_leads"] += 1
        if lead["booked"] and lead["booked_at"] is not None:
            week = _week(lead["booked_at"], lead["timezone"])
            expected[(lead["email_campaign_id"], week)]["new_booked_leads"] += 1
    for send in warehouse.pg(SENDS):
        if send["sent_by"] in ("ai", "setter", "sequence") and send["email_campaign_id"]:
            week = _week(send["occurred_at"], send["timezone"])
            expected[(send["email_campaign_id"], week)][f"{send['sent_by']}_sends"] += 1
    columns = (
        "new_positive_leads",
        "new_meetings_requested_leads",
        "new_booked_leads",
        "ai_sends",
        "setter_sends",
        "sequence_sends",
    )
    mart = {
        (row["email_campaign_id"], row["week_start"]): {c: row[c] for c in columns}
        for row in warehouse.marts("select * from marts.weekly_campaign_report")
    }
    assert set(mart) == set(expected)
    for key, counts in expected.items():
        assert mart[key] == {c: counts[c] for c in columns}, key
    assert sum(row["new_positive_leads"] for row in mart.values()) == sum(
        lead["positive"] for lead in lead_facts if lead["email_campaign_id"]
    )


def _facts(warehouse: Warehouse) -> list[dict[str, Any]]:
    return warehouse.pg(
        LEAD_FACTS,
        {"positive": sorted(POSITIVE_SENTIMENTS), "meeting": sorted(MEETING_REQUESTED_SENTIMENTS)},
    )


def test_marts_match_postgres_after_an_incremental_refresh(warehouse: Warehouse) -> None:
    """Last in the module: it changes Postgres and refreshes. Only the tables downstream of
    the changed sources are rebuilt; the rest is kept, and every mart still equals Postgres."""
    with psycopg.connect(warehouse.pg_url) as conn:
        # A lead replies positively and books, another changes industry, a reply is deleted.
        booked = conn.execute(
            "select l.id, l.workspace_id from leads l join workspaces w on w.id = l.workspace_id"
            " where w.booking_provider = 'GHL' and coalesce(l.ghl_appointment_id, '') = ''"
            " and l.email_campaign_id is not null order by l.id limit 1"
        ).fetchone()
        assert booked is not None
        conn.execute(
            "insert into messages (workspace_id, lead_id, direction, source, external_id, body,"
            " sentiment, occurred_at) values (%s, %s, 'inbound', 'edge', 'late-yes', 'Yes!',"
            " 'Interested', %s)",
            (booked[1], booked[0], _at(14, month=11)),
        )
        conn.execute(
            "update leads set ghl_appointment_id = 'appt-late', appointment_status = 'confirmed',"
            " booked_at = %s where id = %s",
            (_at(15, month=11), booked[0]),
        )
        conn.execute(
            "update leads set industry = 'Logistics' where id in"
            " (select id from leads where industry is distinct from 'Logistics' limit 3)"
        )
        deleted = conn.execute(
            "delete from messages where id = (select id from messages"
            " where direction = 'inbound' and sentiment = any(%s) and external_id <> 'late-yes'"
            " order by id limit 1)",
            (sorted(POSITIVE_SENTIMENTS),),
        ).rowcount
        assert deleted == 1

    refreshed = CliRunner().invoke(cli, ["warehouse", "refresh"], catch_exceptions=False)
    assert refreshed.exit_code == 0, refreshed.output
    out = refreshed.output
    changed = re.search(r"tables downstream of (.+) \(changed since the last build\)", out)
    assert changed is not None, out
    assert {"leads", "messages"} <= set(changed.group(1).split(", ")), changed.group(1)
    assert "models and seeds kept from the last build" in out
    assert "marts/campaign_kpis: built" in out
    assert "intermediate/int_leads_summarised: built" in out
    # Views read `raw` as it is and nothing upstream of them changed: not rebuilt.
    assert "staging/stg_app__workspaces: built" not in out
    assert "staging/stg_app__leads: built" not in out
    assert "published " in out
    # A relationship test from a rebuilt mart to a kept model still runs (and passes).
    results = json.loads((warehouse.path.parent / "dbt-target" / "run_results.json").read_text())
    statuses = {r["unique_id"]: r["status"] for r in results["results"]}
    relationships = [
        status
        for uid, status in statuses.items()
        if uid.startswith("test.replyline.relationships_campaign_kpis_")
    ]
    assert relationships == ["pass"], statuses

    facts = _facts(warehouse)
    test_campaign_kpis_match_postgres(warehouse, facts)
    test_ai_vs_setter_matches_postgres(warehouse, facts)
    test_segment_kpis_match_postgres(warehouse, facts)
    test_weekly_campaign_report_matches_postgres(warehouse, facts)
    # The change reached the marts: the lead is booked and positive now.
    booked_row = warehouse.marts(
        "select is_booked, is_positive from marts.lead_booking_status where lead_id = ?",
        (booked[0],),
    )
    assert booked_row == [{"is_booked": True, "is_positive": True}]


def test_guard_stops_per_rule_match_postgres(warehouse: Warehouse) -> None:
    stops = warehouse.pg(
        """
        select distinct l.email_campaign_id, d.id as draft_id, d.created_at, w.timezone, rule
        from ai_drafts d
        join leads l on l.id = d.lead_id
        join workspaces w on w.id = l.workspace_id
        join auto_send_decisions a on a.ai_draft_id = d.id
        cross join lateral unnest(a.guard_rules) as rule
        where l.email_campaign_id is not null
        """
    )
    expected: Counter[tuple[uuid.UUID, date, str]] = Counter()
    stopped: dict[tuple[uuid.UUID, date], set[uuid.UUID]] = defaultdict(set)
    for row in stops:
        key = (row["email_campaign_id"], _week(row["created_at"], row["timezone"]))
        expected[(*key, row["rule"])] += 1
        stopped[key].add(row["draft_id"])
    rows = warehouse.marts("select * from marts.draft_outcomes")
    rules = ("link", "contact", "pricing", "placeholder", "language", "length", "echo")
    for row in rows:
        week = row["week_start"]
        key = (row["email_campaign_id"], week.date() if isinstance(week, datetime) else week)
        assert row["guard_stopped"] == len(stopped.get(key, ())), key
        for rule in rules:
            assert row[f"guard_stopped_{rule}"] == expected[(*key, rule)], (key, rule)
    assert sum(row["guard_stopped"] for row in rows) == sum(len(s) for s in stopped.values())
    assert sum(row["guard_stopped"] for row in rows) > 20  # the edge data is in the mart
