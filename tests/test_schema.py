"""The schema: migrations round-trip, the database enforces the invariants, the trigger works."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime

import psycopg
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from sender_service.db import migrate
from sender_service.db.engine import engine_for, session_scope
from sender_service.db.models import (
    DEFAULT_THRESHOLD,
    TABLES,
    EmailCampaign,
    Lead,
    Message,
    Workspace,
)


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select tablename from pg_tables where schemaname = 'public'"
            " and tablename <> 'alembic_version'"
        ).fetchall()
    return {r[0] for r in rows}


def test_migrations_round_trip_on_an_empty_database(make_database: Callable[[], str]) -> None:
    url = make_database()
    assert _tables(url) == set()
    migrate.upgrade(url)
    assert _tables(url) == set(TABLES)
    assert migrate.current_revision(url) == migrate.head_revision()
    migrate.downgrade(url, "base")
    assert _tables(url) == set()
    with psycopg.connect(url) as conn:
        leftovers = conn.execute(
            "select proname from pg_proc where proname = 'replyline_set_updated_at'"
        ).fetchall()
    assert leftovers == []
    migrate.upgrade(url)
    assert _tables(url) == set(TABLES)


def test_models_match_the_migrated_schema(db_url: str) -> None:
    """Autogenerate finds nothing to do: models and migrations describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from sender_service.db.models import Base

    with engine_for(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_every_table_has_uuid_pk_and_updated_at_trigger(db_url: str) -> None:
    inspector = inspect(engine_for(db_url))
    with psycopg.connect(db_url) as conn:
        triggers = {
            r[0]
            for r in conn.execute(
                "select event_object_table from information_schema.triggers"
                " where trigger_name like '%_set_updated_at'"
            )
        }
    for table in TABLES:
        pk = inspector.get_pk_constraint(table)["constrained_columns"]
        assert pk == ["id"], table
        id_type = next(c["type"] for c in inspector.get_columns(table) if c["name"] == "id")
        assert str(id_type) == "UUID", table
        assert table in triggers, table


def test_every_foreign_key_is_indexed(db_url: str) -> None:
    inspector = inspect(engine_for(db_url))
    for table in TABLES:
        indexed = [tuple(ix["column_names"]) for ix in inspector.get_indexes(table)]
        indexed += [tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(table)]
        for fk in inspector.get_foreign_keys(table):
            cols = tuple(fk["constrained_columns"])
            assert any(ix[: len(cols)] == cols for ix in indexed), (table, cols)


def _workspace(session: Session, provider: str = "GHL") -> Workspace:
    ws = Workspace(name="Acme", booking_provider=provider, webhook_secret_hash="0" * 64)
    session.add(ws)
    session.flush()
    return ws


def _violates(url: str, statement: str, params: dict[str, object]) -> str:
    with pytest.raises(Exception) as info, session_scope(url) as session:
        session.execute(text(statement), params)
    return str(info.value)


def test_check_constraints_reject_bad_enums_and_thresholds(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws = _workspace(session)
        campaign = EmailCampaign(workspace_id=ws.id, external_id="c1", name="One")
        session.add(campaign)
        session.flush()
        lead = Lead(workspace_id=ws.id, external_id="l1", email="a@b.co")
        session.add(lead)
        session.flush()
        ws_id, campaign_id, lead_id = ws.id, campaign.id, lead.id

    cases = [
        (
            "update email_campaigns set auto_send_confidence_threshold = 1.5 where id = :i",
            campaign_id,
            "threshold_in_unit_interval",
        ),
        (
            "update email_campaigns set auto_send_confidence_threshold = -0.1 where id = :i",
            campaign_id,
            "threshold_in_unit_interval",
        ),
        (
            "update email_campaigns set response_mode = 'YOLO' where id = :i",
            campaign_id,
            "response_mode_allowed",
        ),
        (
            "update leads set appointment_status = 'booked' where id = :i",
            lead_id,
            "appointment_status_allowed",
        ),
        (
            "update leads set sentiment_tag = 'interested' where id = :i",
            lead_id,
            "sentiment_tag_allowed",
        ),
        (
            "update workspaces set booking_provider = 'HUBSPOT' where id = :i",
            ws_id,
            "booking_provider_allowed",
        ),
    ]
    for statement, row_id, constraint in cases:
        assert constraint in _violates(db_url, statement, {"i": row_id})

    with session_scope(db_url) as session:
        stored = session.get_one(EmailCampaign, campaign_id)
        assert stored.response_mode == "SETTER_MANAGED"
        assert stored.auto_send_confidence_threshold == DEFAULT_THRESHOLD


def test_unique_invariants(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws = _workspace(session)
        other = _workspace(session, "CALENDLY")
        session.add_all(
            [
                EmailCampaign(workspace_id=ws.id, external_id="c1", name="One"),
                # The same platform id in another workspace is a different campaign.
                EmailCampaign(workspace_id=other.id, external_id="c1", name="One"),
                Lead(workspace_id=ws.id, external_id="l1"),
            ]
        )
        ws_id = ws.id

    assert "uq_email_campaigns_workspace_id_external_id" in _violates(
        db_url,
        "insert into email_campaigns (workspace_id, external_id, name) values (:w, 'c1', 'x')",
        {"w": ws_id},
    )
    assert "uq_leads_workspace_id_external_id" in _violates(
        db_url, "insert into leads (workspace_id, external_id) values (:w, 'l1')", {"w": ws_id}
    )

    insert_message = (
        "insert into messages (workspace_id, direction, channel, source, external_id, sent_by)"
        " values (:w, :d, :c, :s, :e, :by)"
    )
    with session_scope(db_url) as session:
        base = {
            "w": ws_id,
            "d": "inbound",
            "c": "email",
            "s": "emailbison_reply",
            "e": "r1",
            "by": None,
        }
        session.execute(text(insert_message), base)
        # Same id from another source or channel is a different message.
        session.execute(
            text(insert_message),
            {**base, "s": "emailbison_sent", "d": "outbound", "by": "campaign"},
        )
        session.execute(text(insert_message), {**base, "c": "sms"})
    assert "uq_messages_workspace_id_channel_source_external_id" in _violates(
        db_url, insert_message, base
    )
    assert "sent_by_matches_direction" in _violates(
        db_url, insert_message, {**base, "e": "r2", "by": "ai"}
    )


def test_one_send_per_draft(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws = _workspace(session)
        lead = Lead(workspace_id=ws.id, external_id="l1")
        session.add(lead)
        session.flush()
        inbound = Message(
            workspace_id=ws.id,
            lead_id=lead.id,
            direction="inbound",
            source="emailbison_reply",
            external_id="r1",
            body="Yes please",
        )
        session.add(inbound)
        session.flush()
        session.execute(
            text(
                "insert into ai_drafts (workspace_id, lead_id, inbound_message_id, body)"
                " values (:w, :l, :m, 'Great, here is my calendar')"
            ),
            {"w": ws.id, "l": lead.id, "m": inbound.id},
        )
        draft_id: uuid.UUID = session.execute(text("select id from ai_drafts")).scalar_one()
        session.add(
            Message(
                workspace_id=ws.id,
                lead_id=lead.id,
                direction="outbound",
                sent_by="ai",
                ai_draft_id=draft_id,
                source="replyline",
            )
        )
        ws_id, lead_id = ws.id, lead.id

    error = _violates(
        db_url,
        "insert into messages (workspace_id, lead_id, direction, sent_by, ai_draft_id, source)"
        " values (:w, :l, 'outbound', 'setter', :d, 'replyline')",
        {"w": ws_id, "l": lead_id, "d": draft_id},
    )
    assert "uq_messages_ai_draft_id" in error


def test_updated_at_trigger_sees_bulk_sql_updates(db_url: str) -> None:
    with session_scope(db_url) as session:
        ws = _workspace(session)
        session.add_all([Lead(workspace_id=ws.id, external_id=f"l{i}") for i in range(3)])
    with psycopg.connect(db_url) as conn:
        before: dict[uuid.UUID, datetime] = dict(
            conn.execute("select id, updated_at from leads").fetchall()
        )
    time.sleep(0.01)
    with psycopg.connect(db_url) as conn:
        # A bulk update that never mentions updated_at, as a script or psql would run it.
        conn.execute("update leads set industry = 'SaaS'")
        # Even an explicit attempt to keep an old timestamp is overridden.
        conn.execute("update leads set updated_at = '2000-01-01' where external_id = 'l0'")
    with psycopg.connect(db_url) as conn:
        after: dict[uuid.UUID, datetime] = dict(
            conn.execute("select id, updated_at from leads").fetchall()
        )
    assert before.keys() == after.keys()
    assert all(after[i] > before[i] for i in before)
