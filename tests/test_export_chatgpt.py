"""The ChatGPT dataset zip: contents, definitions, filters, workspace isolation, bad input."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from sender_service.cli import cli
from sender_service.db.engine import session_scope
from sender_service.exports.chatgpt import (
    LEAD_COLUMNS,
    MESSAGE_KEYS,
    ExportFilters,
    UnknownWorkspaceError,
    chatgpt_export,
)
from tests import thread_builders as f


@pytest.fixture
def data(db_url: str) -> dict[str, str]:
    """Workspace A (GHL): a booked positive lead, a negative one, a bare one; B (Calendly)."""
    with session_scope(db_url) as s:
        a = f.workspace(s, "Acme Agency", "GHL")
        alpha = f.campaign(s, a, "=Alpha")
        dana = f.lead(
            s,
            a,
            alpha,
            email="dana@a.test",
            first_name="Dana",
            last_name="=HYPERLINK(1)",
            company="+Acme",
            title="@boss",
            headcount="51-200",
            industry="SaaS",
            sentiment_tag="Meeting Requested",
            ghl_appointment_id="apt-1",
            appointment_status="confirmed",
            booked_at=datetime(2025, 3, 4, 12, tzinfo=UTC),
        )
        f.message(s, a, dana, "outbound", -60, sent_by="campaign")
        f.message(s, a, dana, "inbound", 0, sentiment="Interested", body='Yes, "tell" me\nmore')
        f.message(s, a, dana, "outbound", 3, sent_by="setter", delivery_status="failed")
        f.message(s, a, dana, "outbound", 5, sent_by="ai", delivery_status="sent")
        f.message(s, a, dana, "outbound", 10, sent_by="setter")
        f.message(s, a, dana, "inbound", 20, sentiment="Meeting Requested", channel="sms")
        eve = f.lead(s, a, alpha, email="eve@a.test", company="-5 Corp", headcount="\tten")
        f.message(s, a, eve, "inbound", 30, sentiment="Not Interested")
        f.lead(s, a, None, email="bare@a.test", headcount="2k")

        b = f.workspace(s, "Bolt", "CALENDLY")
        beta = f.campaign(s, b, "Beta")
        bob = f.lead(s, b, beta, email="bob@b.test", calendly_invitee_uri="https://c/i/1")
        f.message(s, b, bob, "inbound", 1, sentiment="Interested", body="secret of B")
        return {
            "a": str(a.workspace.id),
            "b": str(b.workspace.id),
            "dana": str(dana.id),
            "eve": str(eve.id),
            "bob": str(bob.id),
            "alpha": str(alpha.id),
        }


def _export(
    runner: CliRunner, db_url: str, tmp_path: Path, workspace: str, *args: str
) -> zipfile.ZipFile:
    out = tmp_path / "out.zip"
    result = runner.invoke(
        cli,
        ["export", "chatgpt", "--workspace", workspace, "--out", str(out), "--quiet", *args],
        env={"DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    return zipfile.ZipFile(out)


def _leads(z: zipfile.ZipFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(z.read("leads.csv").decode())))


def _messages(z: zipfile.ZipFile) -> list[dict[str, object]]:
    return [json.loads(line) for line in z.read("messages.jsonl").decode().splitlines()]


def test_zip_holds_leads_messages_and_readme(
    data: dict[str, str], db_url: str, cli_runner: CliRunner, tmp_path: Path
) -> None:
    z = _export(cli_runner, db_url, tmp_path, data["a"])
    assert z.testzip() is None
    assert sorted(z.namelist()) == ["README.md", "leads.csv", "messages.jsonl"]
    header = z.read("leads.csv").decode().splitlines()[0]
    assert header == ",".join(LEAD_COLUMNS)

    leads = {row["lead_id"]: row for row in _leads(z)}
    assert len(leads) == 3
    dana = leads[data["dana"]]
    assert dana["last_name"] == "'=HYPERLINK(1)"
    assert (dana["company"], dana["title"]) == ("'+Acme", "'@boss")
    assert dana["campaign_name"] == "'=Alpha"
    assert (dana["is_positive"], dana["is_meeting_requested"], dana["is_booked"]) == (
        "true",
        "true",
        "true",
    )
    assert dana["headcount_bucket"] == "51-200"
    assert dana["booked_at"] == "2025-03-04T12:00:00+00:00"
    assert dana["booking_provider"] == "GHL"
    assert dana["first_positive_at"] == "2025-03-03T09:00:00+00:00"
    # The failed setter send at +3 min never went out: the AI answered first.
    assert dana["first_response_by"] == "ai"
    eve = leads[data["eve"]]
    assert eve["company"] == "'-5 Corp" and eve["headcount"] == "'\tten"
    assert (eve["is_positive"], eve["is_booked"]) == ("false", "false")
    assert eve["first_response_by"] == ""
    bare = next(r for r in leads.values() if r["email"] == "bare@a.test")
    assert (bare["campaign_id"], bare["headcount_bucket"]) == ("", "1001-5000")

    messages = _messages(z)
    assert all(tuple(m) == MESSAGE_KEYS for m in messages)
    assert len(messages) == 6  # the failed send is not in the dataset
    dana_thread = [m for m in messages if m["lead_id"] == data["dana"]]
    times = [str(m["occurred_at"]) for m in dana_thread]
    assert times == sorted(times) and len(dana_thread) == 5
    assert all(m["sent_by"] for m in messages if m["direction"] == "outbound")
    assert all(m["sent_by"] is None for m in messages if m["direction"] == "inbound")
    first_reply = dana_thread[1]
    assert first_reply["body"] == 'Yes, "tell" me\nmore'
    assert first_reply["lead_name"] == "Dana =HYPERLINK(1)"
    assert first_reply["campaign_id"] == data["alpha"]
    readme = z.read("README.md").decode()
    assert "Interested, Information Requested, Meeting Requested, Call Requested" in readme
    assert "Acme Agency" in readme


def test_workspace_never_sees_another_workspaces_rows(
    data: dict[str, str], db_url: str, cli_runner: CliRunner, tmp_path: Path
) -> None:
    z = _export(cli_runner, db_url, tmp_path, data["a"])
    everything = b"".join(z.read(name) for name in z.namelist())
    for needle in ("bob@b.test", "secret of B", data["bob"], data["b"], "Beta"):
        assert needle.encode() not in everything

    zb = _export(cli_runner, db_url, tmp_path, data["b"])
    assert [r["email"] for r in _leads(zb)] == ["bob@b.test"]
    assert {m["lead_email"] for m in _messages(zb)} == {"bob@b.test"}
    assert _leads(zb)[0]["is_booked"] == "true"  # Calendly's rule: an invitee URI


@pytest.mark.parametrize(
    ("args", "lead_emails", "message_count"),
    [
        (["--positive-only"], {"dana@a.test"}, 5),
        (["--channels", "sms"], {"dana@a.test", "eve@a.test", "bare@a.test"}, 1),
        (["--directions", "inbound"], {"dana@a.test", "eve@a.test", "bare@a.test"}, 3),
        (["--from", "2025-03-03T09:04:00Z", "--to", "2025-03-03T09:25"], {"dana@a.test"}, 3),
        (["--from", "2025-03-03T09:25:00+00:00"], {"eve@a.test"}, 1),
    ],
)
def test_filters(
    data: dict[str, str],
    db_url: str,
    cli_runner: CliRunner,
    tmp_path: Path,
    args: list[str],
    lead_emails: set[str],
    message_count: int,
) -> None:
    z = _export(cli_runner, db_url, tmp_path, data["a"], *args)
    assert {r["email"] for r in _leads(z)} == lead_emails
    messages = _messages(z)
    assert len(messages) == message_count
    if "--channels" in args:
        assert {m["channel"] for m in messages} == {"sms"}
    if "--directions" in args:
        assert {m["direction"] for m in messages} == {"inbound"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspace", "00000000-0000-0000-0000-000000000000"], "no workspace"),
        (["--workspace", "nope"], "--workspace must be an id"),
        (["--channels", "fax"], "unknown channel 'fax'"),
        (["--directions", "sideways"], "unknown direction"),
        (["--from", "yesterday"], "--from must be an ISO 8601"),
        (["--from", "2025-03-04", "--to", "2025-03-03"], "from must be before to"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    data: dict[str, str],
    db_url: str,
    cli_runner: CliRunner,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    out = tmp_path / "out.zip"
    base = ["export", "chatgpt", "--out", str(out), "--quiet"]
    if "--workspace" not in args:
        base += ["--workspace", data["a"]]
    result = cli_runner.invoke(cli, [*base, *args], env={"DATABASE_URL": db_url})
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_streamed_bytes_for_the_endpoint(data: dict[str, str], db_url: str) -> None:
    import uuid

    export = chatgpt_export(db_url, uuid.UUID(data["a"]), ExportFilters(positive_only=True))
    assert re.fullmatch(rf"replyline-{data['a']}-\d{{4}}-\d\d-\d\d\.zip", export.filename)
    chunks = list(export)
    assert all(isinstance(c, bytes) for c in chunks)
    z = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert [r["email"] for r in _leads(z)] == ["dana@a.test"]
    with pytest.raises(UnknownWorkspaceError):
        chatgpt_export(db_url, uuid.uuid4())
