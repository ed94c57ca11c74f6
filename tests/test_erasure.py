"""Erasure: no trace of the lead's email anywhere in Postgres or the next export; counts stay."""

from __future__ import annotations

import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from click.testing import CliRunner

from sender_service.cli import cli
from sender_service.db.engine import session_scope
from sender_service.db.models import TABLES, AIDraft, BookingEvent, UnmatchedBooking
from tests import thread_builders as f

EMAIL = "Dana.Secret@Initech.test"


def _seed(db_url: str) -> tuple[str, str, str]:
    with session_scope(db_url) as s:
        built = f.workspace(s, "Acme")
        camp = f.campaign(s, built, "Alpha")
        dana = f.lead(
            s,
            built,
            camp,
            email=EMAIL,
            first_name="Dana",
            last_name="Scully",
            phone="+1555",
            company="Initech",
            ghl_appointment_id="apt-9",
            appointment_status="confirmed",
            booked_at=datetime(2025, 3, 4, tzinfo=UTC),
        )
        inbound = f.message(
            s,
            built,
            dana,
            "inbound",
            0,
            sentiment="Interested",
            body="Call me on +1555, Dana",
            from_address=EMAIL,
        )
        f.message(
            s,
            built,
            dana,
            "outbound",
            5,
            sent_by="ai",
            to_address=EMAIL.lower(),
            body="Hi Dana Scully",
        )
        s.add(
            AIDraft(
                workspace_id=built.workspace.id,
                lead_id=dana.id,
                inbound_message_id=inbound.id,
                body="Hi Dana",
                evaluation_reason="Dana ok",
            )
        )
        event = BookingEvent(
            workspace_id=built.workspace.id,
            lead_id=dana.id,
            provider="GHL",
            event_type="created",
            provider_event_id="e1",
            invitee_email=EMAIL,
            payload={"email": EMAIL, "name": "Dana"},
        )
        stray = BookingEvent(
            workspace_id=built.workspace.id,
            provider="GHL",
            event_type="created",
            provider_event_id="e2",
            invitee_email=EMAIL.upper(),
            payload={"email": EMAIL},
        )
        s.add_all([event, stray])
        s.flush()
        s.add(
            UnmatchedBooking(
                workspace_id=built.workspace.id,
                booking_event_id=stray.id,
                invitee_email=EMAIL.upper(),
            )
        )
        other = f.lead(s, built, camp, email="keep@initech.test")
        f.message(s, built, other, "inbound", 1, sentiment="Interested", body="keep me")
        return str(built.workspace.id), str(dana.id), str(other.id)


def _traces(db_url: str, needle: str) -> list[str]:
    with psycopg.connect(db_url) as conn:
        return [
            table
            for table in TABLES
            if conn.execute(
                f"select count(*) from {table} t where t::text ilike %s", (f"%{needle}%",)
            ).fetchone()
            != (0,)
        ]


def test_erase_leaves_no_trace_and_keeps_counts(
    db_url: str, cli_runner: CliRunner, tmp_path: Path
) -> None:
    workspace, dana, other = _seed(db_url)
    assert _traces(db_url, EMAIL) != []
    with psycopg.connect(db_url) as conn:
        before = conn.execute("select updated_at from leads where id = %s", (dana,)).fetchone()
    result = cli_runner.invoke(cli, ["lead", "erase", "--lead", dana], env={"DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    assert EMAIL.lower() not in result.output.lower() and "Dana" not in result.output
    for needle in (EMAIL, "Scully", "+1555", "Dana.Secret", "apt-9"):
        assert _traces(db_url, needle) == [], needle
    assert _traces(db_url, "keep@initech.test") != []  # another lead is untouched

    with psycopg.connect(db_url) as conn:
        counts = conn.execute(
            "select count(*), count(sentiment), count(sent_by) from messages where lead_id = %s",
            (dana,),
        ).fetchone()
        assert counts == (2, 1, 1)
        lead = conn.execute(
            "select ghl_appointment_id, appointment_status, booked_at is not null, updated_at"
            " from leads where id = %s",
            (dana,),
        ).fetchone()
        assert lead is not None and lead[:3] == ("erased", "confirmed", True)  # still booked
        assert before is not None and lead[3] > before[0]  # the warehouse sees the change

    out = tmp_path / "after.zip"
    exported = cli_runner.invoke(
        cli,
        ["export", "chatgpt", "--workspace", workspace, "--out", str(out), "--quiet"],
        env={"DATABASE_URL": db_url},
    )
    assert exported.exit_code == 0
    with zipfile.ZipFile(out) as z:
        everything = b"".join(z.read(n) for n in z.namelist()).lower()
    assert EMAIL.lower().encode() not in everything and b"scully" not in everything
    assert b"keep@initech.test" in everything


def test_unknown_lead_is_one_line_exit_2(db_url: str, cli_runner: CliRunner) -> None:
    for value, message in ((str(uuid.uuid4()), "no lead"), ("x", "--lead must be an id")):
        result = cli_runner.invoke(
            cli, ["lead", "erase", "--lead", value], env={"DATABASE_URL": db_url}
        )
        assert result.exit_code == 2 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
