"""The ChatGPT dataset zip: contents, definitions, filters, workspace isolation, bad input."""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import socket
import threading
import time
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg
import pytest
from click.testing import CliRunner

from sender_service.api_tokens import issue_token
from sender_service.cli import cli
from sender_service.db.engine import session_scope
from sender_service.db.models import Workspace
from sender_service.exports.chatgpt import (
    _DUCKDB_MAX_MESSAGE_BYTES,
    APPLICATION_NAME,
    LEAD_COLUMNS,
    MESSAGE_KEYS,
    ExportFilters,
    UnknownWorkspaceError,
    chatgpt_export,
)
from sender_service.settings import SettingsError, load_settings
from sender_service.users import add_member
from tests import thread_builders as f
from tests.service import Service, run_service


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
    # `sentBy`, as the specification names it: who sent each outbound message, null inbound.
    assert {m["sentBy"] for m in messages if m["direction"] == "outbound"} == {
        "campaign",
        "ai",
        "setter",
    }
    assert all(m["sentBy"] is None for m in messages if m["direction"] == "inbound")
    assert not any("sent_by" in m for m in messages)
    first_reply = dana_thread[1]
    assert first_reply["body"] == 'Yes, "tell" me\nmore'
    assert first_reply["lead_name"] == "Dana =HYPERLINK(1)"
    assert first_reply["campaign_id"] == data["alpha"]
    readme = z.read("README.md").decode()
    assert "Interested, Information Requested, Meeting Requested, Call Requested" in readme
    assert "Acme Agency" in readme
    assert "| sentBy | on every outbound message" in readme and "sent_by" not in readme


_AWKWARD_TEXTS = (
    'quote " backslash \\ slash / <b>&amp;</b>',
    "lines\r\nand\ttabs, a bell \x07, an escape \x1b, a unit separator \x1f, a delete \x7f",
    "accents é ü, a check ✓, an emoji 😀, line separators \u2028 \u2029",
    "",
)


def _lines(z: zipfile.ZipFile) -> list[bytes]:
    return z.read("messages.jsonl").splitlines(keepends=True)


def test_both_writers_of_messages_jsonl_write_the_same_lines(
    db_url: str, cli_runner: CliRunner, tmp_path: Path
) -> None:
    """DuckDB writes messages.jsonl unless a message is too wide for its batches; Postgres
    then writes it. Both must write the lines orjson would: the same bytes, but for the case
    of the hex digits in a \\u escape (JSON allows either)."""
    with session_scope(db_url) as s:
        ws = f.workspace(s, "Awkward", "GHL")
        camp = f.campaign(s, ws, 'Spring "sale"')
        named = f.lead(s, ws, camp, email="n@a.test", first_name="Zoë", last_name="O'Brien")
        first_only = f.lead(s, ws, None, email="f@a.test", first_name="Solo")
        unnamed = f.lead(s, ws, camp, email="u@a.test", first_name="", last_name="")
        for minutes, text in enumerate(_AWKWARD_TEXTS):
            f.message(s, ws, named, "inbound", minutes, subject=text, body=text)
        f.message(s, ws, first_only, "outbound", 10, sent_by="ai", follow_up_step=2)
        f.message(s, ws, unnamed, "inbound", 11, sentiment="Interested", subject=None)
        workspace_id, campaign_id = ws.workspace.id, camp.id
    with psycopg.connect(db_url) as conn:
        # A message with no lead, and times with and without a fraction of a second.
        conn.execute(
            """insert into messages (workspace_id, email_campaign_id, direction, channel, body,
                   source, external_id, occurred_at)
               values (%s, %s, 'inbound', 'email', 'who am I', 'emailbison', 'orphan',
                   '2025-03-03 09:30:00.120000+00')""",
            (workspace_id, campaign_id),
        )
        conn.execute(
            "update messages set occurred_at = occurred_at + interval '0.000007 second'"
            " where workspace_id = %s and direction = 'outbound'",
            (workspace_id,),
        )

    by_duckdb = _lines(_export(cli_runner, db_url, tmp_path, str(workspace_id)))
    with session_scope(db_url) as s:
        row = s.get(Workspace, workspace_id)
        assert row is not None
        built = f.Built(row)
        wide = f.lead(s, built, None, email="w@a.test")
        f.message(
            s,
            built,
            wide,
            "inbound",
            99,
            body="x" * (_DUCKDB_MAX_MESSAGE_BYTES + 1),
        )
    by_postgres = [
        line
        for line in _lines(_export(cli_runner, db_url, tmp_path, str(workspace_id)))
        if b'"lead_email":"w@a.test"' not in line
    ]

    assert len(by_duckdb) == 7 and len(by_postgres) == 7

    def lower_hex(line: bytes) -> bytes:
        return re.sub(rb"\\u00([0-9A-Fa-f]{2})", lambda m: b"\\u00" + m.group(1).lower(), line)

    assert by_duckdb != by_postgres  # two writers: DuckDB spells \u001b as \u001B
    assert [lower_hex(line) for line in by_duckdb] == by_postgres
    for line in by_postgres:
        message = json.loads(line)
        assert tuple(message) == MESSAGE_KEYS
        assert line == orjson.dumps(message) + b"\n"
    messages = [json.loads(line) for line in by_duckdb]
    by_lead = {m["lead_email"]: m for m in messages}
    assert [m["body"] for m in messages if m["lead_email"] == "n@a.test"] == list(_AWKWARD_TEXTS)
    assert by_lead["n@a.test"]["lead_name"] == "Zoë O'Brien"
    assert by_lead["f@a.test"]["lead_name"] == "Solo"
    # concat_ws keeps empty names: two empty strings make a space, as before.
    assert by_lead["u@a.test"]["lead_name"] == " "
    orphan = messages[-1]
    assert (orphan["lead_id"], orphan["campaign_id"]) == (None, str(campaign_id))
    assert orphan["occurred_at"] == "2025-03-03T09:30:00.120000+00:00"
    assert next(m for m in messages if m["sentBy"] == "ai")["occurred_at"] == (
        "2025-03-03T09:10:00.000007+00:00"
    )
    assert by_lead["u@a.test"]["occurred_at"] == "2025-03-03T09:11:00+00:00"


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
    export = chatgpt_export(db_url, uuid.UUID(data["a"]), ExportFilters(positive_only=True))
    assert re.fullmatch(rf"replyline-{data['a']}-\d{{4}}-\d\d-\d\d\.zip", export.filename)
    chunks = list(export)
    assert all(isinstance(c, bytes) for c in chunks)
    z = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert [r["email"] for r in _leads(z)] == ["dana@a.test"]
    with pytest.raises(UnknownWorkspaceError):
        chatgpt_export(db_url, uuid.uuid4())


def test_a_line_break_inside_a_lead_field_stays_in_its_cell(
    db_url: str, cli_runner: CliRunner, tmp_path: Path
) -> None:
    """A bare CR used to end the row for a spreadsheet and start the next with a live `=1+1`:
    RFC 4180 quoting keeps every value one cell, read back by the csv module and by pandas."""
    tricky = {
        "first_name": "Bob\r=1+1",
        "last_name": "two\nlines",
        "company": 'Quote "Co", Ltd',
        "title": "=cmd|' /C calc'!A0",
        "industry": "crlf\r\n@SUM(1)",
    }
    with session_scope(db_url) as s:
        ws = f.workspace(s, "Tricky", "GHL")
        lead = f.lead(s, ws, f.campaign(s, ws, "Spring"), email="bob@t.test", **tricky)
        f.lead(s, ws, None, email="plain@t.test")
        workspace_id = str(ws.workspace.id)
    raw = _export(cli_runner, db_url, tmp_path, workspace_id).read("leads.csv")

    assert raw.count(b"\r\n") >= 3 and raw.endswith(b"\r\n")  # CR LF rows
    assert b'"Bob\r=1+1"' in raw and b'"two\nlines"' in raw and b'"Quote ""Co"", Ltd"' in raw

    rows = list(csv.reader(io.StringIO(raw.decode(), newline="")))
    assert len(rows) == 3 and all(len(row) == len(LEAD_COLUMNS) for row in rows)
    bob = dict(zip(rows[0], next(r for r in rows if r[0] == str(lead.id)), strict=True))
    assert {k: bob[k] for k in tricky} == {**tricky, "title": "'" + tricky["title"]}

    import pandas as pd

    frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    assert frame.shape == (2, len(LEAD_COLUMNS))
    assert frame.loc[frame["lead_id"] == str(lead.id), "first_name"].item() == "Bob\r=1+1"
    # The formula guard holds on every logical cell: none starts a formula.
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


def _big_workspace(db_url: str) -> str:
    """A workspace whose zip is tens of MB of incompressible text: far more than the socket
    and queue buffers, so a download is still being produced when the test breaks it."""
    with session_scope(db_url) as s:
        ws = f.workspace(s, "Big", "GHL")
        lead = f.lead(s, ws, f.campaign(s, ws, "Spring"), email="big@b.test")
        workspace_id, lead_id = ws.workspace.id, lead.id
    with psycopg.connect(db_url) as conn:
        conn.execute(
            """insert into messages (workspace_id, lead_id, direction, channel, body, sentiment,
                   source, external_id, occurred_at)
               select %(ws)s, %(lead)s, 'inbound', 'email',
                   (select string_agg(md5(random()::text || g || i), '')
                    from generate_series(1, 48) i),
                   'Neutral', 'emailbison', 'big' || g, now() - interval '1 second' * g
               from generate_series(1, 12000) g""",
            {"ws": workspace_id, "lead": lead_id},
        )
    return str(workspace_id)


def _break_export_connections(db_url: str) -> int:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return len(
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where application_name = %s and datname = current_database()"
                " and pid <> pg_backend_pid()",
                (APPLICATION_NAME,),
            ).fetchall()
        )


def test_a_failure_mid_download_aborts_the_connection(db_url: str, service: Service) -> None:
    """After the first byte the status is sent: a failure must break the connection (no
    terminating chunk), so the client never holds something that looks like a whole zip."""
    workspace_id = _big_workspace(db_url)
    with session_scope(db_url) as s:
        token = issue_token(s, add_member(s, "v@b.test", uuid.UUID(workspace_id), "viewer")[0])[1]
    headers = {"Authorization": f"Bearer {token}"}

    # Bad filters are refused before the first byte: a 400 naming the field, not a zip.
    status, body = service.request(
        "GET", f"/api/export/chatgpt?workspace_id={workspace_id}&to=2026-01-01", headers=headers
    )
    assert status == 400 and body["field"] == "to"

    conn = http.client.HTTPConnection(service.host, service.port, timeout=30)
    conn.request("GET", f"/api/export/chatgpt?workspace_id={workspace_id}", headers=headers)
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Cache-Control") == "no-store"
    received = response.read(4096)
    assert received.startswith(b"PK\x03\x04")
    assert _break_export_connections(db_url) == 2  # the export's two, on one snapshot
    with pytest.raises((http.client.IncompleteRead, ConnectionError)) as broken:
        received += response.read()
    if isinstance(broken.value, http.client.IncompleteRead):
        received += broken.value.partial
    conn.close()
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(received))


def test_a_download_past_export_max_seconds_is_cut_off(db_url: str) -> None:
    """A client reading slowly holds a thread no longer than EXPORT_MAX_SECONDS: the stream
    is cut (never a zip that looks whole) and the export's connections end."""
    workspace_id = _big_workspace(db_url)
    with session_scope(db_url) as s:
        token = issue_token(s, add_member(s, "v@b.test", uuid.UUID(workspace_id), "viewer")[0])[1]
    settings = load_settings({"EXPORT_MAX_SECONDS": "0.5"})
    with run_service(db_url, settings) as service:
        conn = http.client.HTTPConnection(service.host, service.port, timeout=30)
        conn.connect()
        # A small window, so the server cannot hand the whole zip to the kernel at once.
        assert conn.sock is not None
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.request(
            "GET",
            f"/api/export/chatgpt?workspace_id={workspace_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        response = conn.getresponse()
        assert response.status == 200
        received = response.read(1024)
        time.sleep(1.0)  # a slow reader: the server is past its limit when it writes again
        reading = time.monotonic()
        with pytest.raises((http.client.IncompleteRead, ConnectionError)) as broken:
            received += response.read()
        if isinstance(broken.value, http.client.IncompleteRead):
            received += broken.value.partial
        # Cut at the limit, not after the rest crawled through the 4 KB window (the server's
        # blocked write used to hold its thread ~35 s and the client read for ~100 s more).
        assert time.monotonic() - reading < 20
        response.close()  # a reset leaves the response holding the socket
        conn.close()
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(received))
    assert _break_export_connections(db_url) == 0  # closed with the stream


def test_export_max_seconds_must_be_a_positive_number() -> None:
    for raw in ("0", "-5", "ten"):
        with pytest.raises(SettingsError, match="EXPORT_MAX_SECONDS"):
            load_settings({"EXPORT_MAX_SECONDS": raw})


def test_a_failure_mid_export_exits_non_zero_and_writes_nothing(
    db_url: str, cli_runner: CliRunner, tmp_path: Path
) -> None:
    workspace_id = _big_workspace(db_url)
    broken: list[int] = []

    def break_once_copying() -> None:
        """Terminate the export once Postgres is writing messages.jsonl (after README.md and
        leads.csv have gone into the zip)."""
        with psycopg.connect(db_url, autocommit=True) as conn:
            for _ in range(3000):
                copying = conn.execute(
                    "select 1 from pg_stat_activity where application_name = %s"
                    " and datname = current_database()"
                    " and query ilike 'copy%%' and state = 'active'",
                    (APPLICATION_NAME,),
                ).fetchone()
                if copying:
                    broken.append(_break_export_connections(db_url))
                    return
                time.sleep(0.01)

    killer = threading.Thread(target=break_once_copying)
    killer.start()
    out = tmp_path / "out.zip"
    result = cli_runner.invoke(
        cli,
        ["export", "chatgpt", "--workspace", workspace_id, "--out", str(out), "--quiet"],
        env={"DATABASE_URL": db_url},
    )
    killer.join()
    assert broken == [2]
    assert result.exit_code == 1, result.output
    assert re.search(r"export failed after [\d,]+ bytes: .*; .*out\.zip not written", result.stderr)
    assert list(tmp_path.iterdir()) == []  # neither the zip nor its partial file
