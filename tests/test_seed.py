"""`replyline seed`: the same seed gives the same data, and the data keeps the locked
definitions and the product's rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sender_service.booking import is_meeting_booked
from sender_service.booking_sync import calendly
from sender_service.booking_sync.record import BookingUpdate, apply_to_lead
from sender_service.db import migrate
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    TABLES,
    BookingEvent,
    FollowupEnrollment,
    FollowupStep,
    Lead,
    Message,
    RowFingerprintDelta,
    Workspace,
)
from sender_service.definitions import (
    HEADCOUNT_BUCKETS,
    POSITIVE_SENTIMENTS,
    SENTIMENTS,
    headcount_bucket,
)
from sender_service.templates import lead_values, render
from tests.cli_helpers import assert_refused, ok_json, run

AS_OF = "2026-11-02"
LEADS = "600"
POSITIVES = tuple(sorted(POSITIVE_SENTIMENTS))


def _seed(cli_runner: CliRunner, url: str, *extra: str) -> dict[str, Any]:
    result = run(
        cli_runner, url, "seed", "--leads", LEADS, "--random-seed", "42", "--as-of", AS_OF,
        "--json", *extra,
    )  # fmt: skip
    counts: dict[str, Any] = ok_json(result)
    return counts


def _checksums(url: str) -> dict[str, str]:
    """One digest per table over every column but `updated_at` (the load time). The row
    fingerprint log by what it means, each table's sums: its rows' own ids are random."""
    sums = {}
    with psycopg.connect(url) as conn:
        for table in TABLES:
            query = (
                f"select md5(coalesce(string_agg((to_jsonb(t) - 'updated_at')::text, '|'"
                f" order by t.id), '')) from {table} t"
            )
            if table == RowFingerprintDelta.__tablename__:
                query = (
                    f"select md5(string_agg(concat_ws(',', table_name, n, ids), '|'"
                    f" order by table_name)) from (select table_name, sum(rows) as n,"
                    f" sum(id_checksum) as ids from {table} group by table_name) t"
                )
            row = conn.execute(query).fetchone()
            assert row is not None
            sums[table] = row[0]
    return sums


def _scalar(conn: psycopg.Connection[Any], query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture(scope="module")
def seeded(make_database: Callable[[], str]) -> str:
    """One seeded database shared by the invariant tests (they only read it)."""
    url = make_database()
    migrate.upgrade(url)
    _seed(CliRunner(), url)
    return url


def test_same_seed_same_data_other_seed_other_data(
    seeded: str, make_database: Callable[[], str], cli_runner: CliRunner
) -> None:
    again = make_database()
    migrate.upgrade(again)
    counts = _seed(cli_runner, again)
    assert counts["rows"]["leads"] == int(LEADS)
    assert _checksums(again) == _checksums(seeded)

    result = run(
        cli_runner, again, "seed", "--leads", LEADS, "--random-seed", "43", "--as-of", AS_OF,
        "--reset", "--json",
    )  # fmt: skip
    ok_json(result)
    other = _checksums(again)
    assert other["leads"] != _checksums(seeded)["leads"]
    with psycopg.connect(again) as conn:
        assert _scalar(conn, "select count(*) from leads") == int(LEADS)
        assert _scalar(conn, "select count(*) from workspaces") == 2


def test_replies_drafts_and_sends_follow_the_rules(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        query = "select distinct sentiment from messages where sentiment is not null"
        sentiments = {r[0] for r in conn.execute(query)}
        assert sentiments == set(SENTIMENTS)
        senders = {r[0] for r in conn.execute("select distinct sent_by from messages")}
        assert senders == {None, "campaign", "ai", "setter", "sequence"}
        # Every positive inbound reply has a draft; no other message does.
        assert _scalar(conn, """
            select count(*) from messages m
            where m.direction = 'inbound' and m.sentiment = any(%s)
              and not exists (select 1 from ai_drafts d where d.inbound_message_id = m.id)
        """, list(POSITIVES)) == 0  # fmt: skip
        assert _scalar(conn, """
            select count(*) from ai_drafts d join messages m on m.id = d.inbound_message_id
            where m.direction <> 'inbound' or not (m.sentiment = any(%s))
        """, list(POSITIVES)) == 0  # fmt: skip
        # Every AI send carries a draft that is marked sent, and every sent draft has its send.
        assert _scalar(conn, """
            select count(*) from messages m left join ai_drafts d on d.id = m.ai_draft_id
            where m.sent_by = 'ai' and (d.id is null or d.status <> 'sent')
        """) == 0  # fmt: skip
        assert _scalar(conn, """
            select count(*) from ai_drafts d
            where d.status = 'sent'
              and not exists (select 1 from messages m where m.ai_draft_id = d.id)
        """) == 0  # fmt: skip
        # AI sends only where the arm in force when the reply arrived was AI_AUTO_SEND.
        assert _scalar(conn, """
            select count(*) from messages s
            join ai_drafts d on d.id = s.ai_draft_id
            join messages i on i.id = d.inbound_message_id
            where s.sent_by = 'ai' and (
                select h.to_mode from campaign_mode_changes h
                where h.email_campaign_id = i.email_campaign_id and h.changed_at <= i.occurred_at
                order by h.changed_at desc limit 1
            ) <> 'AI_AUTO_SEND'
        """) == 0  # fmt: skip
        # Setter sends name a setter of the workspace.
        assert _scalar(conn, """
            select count(*) from messages m
            where m.sent_by = 'setter' and not exists (
                select 1 from memberships ms
                where ms.user_id = m.sent_by_user_id and ms.workspace_id = m.workspace_id
                  and ms.role = 'setter')
        """) == 0  # fmt: skip
        # A lead's tag is its latest reply's sentiment; Blacklist opts it out.
        assert _scalar(conn, """
            select count(*) from leads l
            where l.sentiment_tag is distinct from (
                select m.sentiment from messages m
                where m.lead_id = l.id and m.direction = 'inbound'
                order by m.occurred_at desc limit 1)
        """) == 0  # fmt: skip
        assert _scalar(conn, """
            select count(*) from leads l where l.opted_out <> exists (
                select 1 from messages m where m.lead_id = l.id and m.sentiment = 'Blacklist')
        """) == 0  # fmt: skip
        # All history is in the twelve weeks before --as-of.
        low, high = conn.execute(
            "select min(occurred_at), max(occurred_at) from messages"
        ).fetchone() or (None, None)
        assert str(low) >= "2026-08-10" and str(high) < "2026-11-02"


def test_campaign_arms_have_history_in_the_past(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        modes = {r[0] for r in conn.execute("select distinct response_mode from email_campaigns")}
        assert modes == {"SETTER_MANAGED", "AI_AUTO_SEND"}
        assert _scalar(conn, "select max(changed_at) < %s::timestamptz from campaign_mode_changes",
                       AS_OF)  # fmt: skip
        assert _scalar(conn, """
            select count(*) from email_campaigns c where (
                select count(*) from campaign_mode_changes h
                where h.email_campaign_id = c.id and h.reason = 'created') <> 1
        """) == 0  # fmt: skip
        # Some campaigns switch arm inside the twelve weeks.
        assert _scalar(conn, """
            select count(*) from campaign_mode_changes
            where reason <> 'created' and from_mode <> to_mode
              and changed_at >= %s::timestamptz - interval '84 days'
        """, AS_OF) > 0  # fmt: skip
        # Each campaign's current arm is its latest history row.
        assert _scalar(conn, """
            select count(*) from email_campaigns c where c.response_mode <> (
                select h.to_mode from campaign_mode_changes h where h.email_campaign_id = c.id
                order by h.changed_at desc limit 1)
        """) == 0  # fmt: skip


def test_bookings_are_stored_as_each_provider_stores_them(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        # Only the workspace's own provider's ids appear on its leads and events.
        assert _scalar(conn, """
            select count(*) from leads l join workspaces w on w.id = l.workspace_id
            where (w.booking_provider = 'GHL'
                   and (l.calendly_invitee_uri is not null
                        or l.calendly_scheduled_event_uri is not null))
               or (w.booking_provider = 'CALENDLY'
                   and (l.ghl_appointment_id is not null or l.ghl_contact_id is not null))
        """) == 0  # fmt: skip
        assert _scalar(conn, """
            select count(*) from booking_events e join workspaces w on w.id = e.workspace_id
            where e.provider <> w.booking_provider
        """) == 0  # fmt: skip
        # A lead with a status has its provider's booking ids, and its events end in that status.
        assert _scalar(conn, """
            select count(*) from leads l join workspaces w on w.id = l.workspace_id
            where l.appointment_status is not null and (
                (w.booking_provider = 'GHL' and l.ghl_appointment_id is null)
                or (w.booking_provider = 'CALENDLY' and l.calendly_invitee_uri is null)
                or l.booked_at is null or l.meeting_start_at is null
                or l.appointment_status <> (
                    select e.appointment_status from booking_events e where e.lead_id = l.id
                    order by e.occurred_at desc, e.event_type = 'created' desc limit 1))
        """) == 0  # fmt: skip
        # Booked leads (provider-aware, status not canceled) exist in both workspaces, and
        # every booking outcome appears.
        booked = conn.execute("""
            select w.booking_provider, count(*)
            from leads l join workspaces w on w.id = l.workspace_id
            where l.appointment_status <> 'canceled' and (
                (w.booking_provider = 'GHL' and l.ghl_appointment_id is not null)
                or (w.booking_provider = 'CALENDLY' and (l.calendly_invitee_uri is not null
                    or l.calendly_scheduled_event_uri is not null)))
            group by 1
        """).fetchall()  # fmt: skip
        assert {r[0] for r in booked} == {"GHL", "CALENDLY"}
        events = {r[0] for r in conn.execute("select distinct event_type from booking_events")}
        assert {"created", "canceled", "showed", "noshow"} <= events


def test_headcounts_are_messy_but_bucket(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        raw = [r[0] for r in conn.execute("select distinct headcount from leads")]
    buckets = {headcount_bucket(h) for h in raw}
    assert "unknown" in buckets and len(buckets) >= 6
    assert buckets <= set(HEADCOUNT_BUCKETS)


def test_seed_refuses_bad_input_and_keeps_existing_data(
    seeded: str, make_database: Callable[[], str], cli_runner: CliRunner
) -> None:
    before = _checksums(seeded)
    assert_refused(
        run(cli_runner, seeded, "seed", "--leads", "10", "--random-seed", "1"), "--reset"
    )
    assert_refused(run(cli_runner, seeded, "seed", "--leads", "0", "--random-seed", "1"), "--leads")
    assert_refused(
        run(cli_runner, seeded, "seed", "--leads", "5", "--random-seed", "x"), "--random-seed"
    )
    assert_refused(
        run(cli_runner, seeded, "seed", "--leads", "5", "--random-seed", "1", "--as-of",
            "2999-01-01", "--reset"),
        "future",
    )  # fmt: skip
    assert_refused(
        run(cli_runner, seeded, "seed", "--leads", "5", "--random-seed", "1", "--workspaces", "0"),
        "--workspaces",
    )
    assert _checksums(seeded) == before


def test_seeded_bookings_and_follow_ups_are_what_the_product_paths_store(seeded: str) -> None:
    """Replaying each seeded lead's booking events through the webhook path's `apply_to_lead`
    rebuilds the seeded booking state; Calendly event ids are the webhook's; follow-up bodies
    are their step's template as the follow-up sender renders it."""
    with session_scope(seeded) as session:
        leads = session.execute(
            select(Lead).where(Lead.booked_at.is_not(None)).order_by(Lead.id).limit(300)
        ).scalars()
        for lead in list(leads):
            workspace = session.get_one(Workspace, lead.workspace_id)
            clone = Lead(workspace_id=lead.workspace_id, email=lead.email)
            session.add(clone)
            session.flush()
            events = session.execute(
                select(BookingEvent)
                .where(BookingEvent.lead_id == lead.id)
                .order_by(BookingEvent.occurred_at, BookingEvent.event_type != "rescheduled")
            ).scalars()
            for event in list(events):
                if event.provider == "CALENDLY":
                    parsed = calendly.parse(json.dumps(event.payload).encode())
                    assert isinstance(parsed, BookingUpdate)
                    assert parsed.provider_event_id == event.provider_event_id
                apply_to_lead(session, workspace, clone, event)
            fields = (
                "ghl_appointment_id",
                "calendly_invitee_uri",
                "calendly_scheduled_event_uri",
                "appointment_status",
                "meeting_start_at",
                "booked_at",
            )
            assert {f: getattr(clone, f) for f in fields} == {f: getattr(lead, f) for f in fields}
            assert is_meeting_booked(clone, workspace) == is_meeting_booked(lead, workspace)
        sends = session.execute(
            select(Message, FollowupStep.template)
            .join(FollowupEnrollment, FollowupEnrollment.id == Message.followup_enrollment_id)
            .join(
                FollowupStep,
                (FollowupStep.sequence_id == FollowupEnrollment.sequence_id)
                & (FollowupStep.step_number == Message.follow_up_step),
            )
            .limit(300)
        ).all()
        assert sends
        for message, template in sends:
            lead = session.get_one(Lead, message.lead_id)
            values = lead_values(session.get_one(Workspace, lead.workspace_id), lead)
            rendered = render(template, values)
            assert rendered.sendable and rendered.text == message.body
        session.rollback()
