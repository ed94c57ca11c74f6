"""The "Download dataset for ChatGPT" zip: leads.csv, messages.jsonl and README.md.

Everything is read in one read-only, repeatable-read transaction, streamed from the server in
fixed-size chunks and written into the zip as it is read, so memory stays flat whatever the
workspace's size. Each file is produced in a background thread while the zip compresses the
previous chunk, and messages.jsonl is written by Postgres itself (`COPY` of one JSON text per
row): Python only moves its bytes.
Only the requested workspace's rows are ever selected. The CLI writes the bytes to a file; the
HTTP endpoint and the Dagster asset iterate the same `ChatGPTExport`.

Everything that can be refused (the filters, the connection, the snapshot, both queries'
plans) is checked before the first byte, so a bad request never becomes a 200 download; a
failure after that raises from the iterator, and the caller must not pass the bytes on as a
finished zip (the server aborts the connection, the CLI exits non-zero and keeps no file).
"""

from __future__ import annotations

import csv
import functools
import io
import stat
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any, Final, Protocol

import psycopg
from isal import isal_zlib
from psycopg import sql
from stream_zip import ZIP_64, stream_zip

from sender_service.booking import is_meeting_booked
from sender_service.db.models import CHANNELS, DIRECTIONS, Lead, Workspace
from sender_service.definitions import (
    MEETING_REQUESTED_SENTIMENTS,
    POSITIVE_SENTIMENTS,
    headcount_bucket,
)
from sender_service.exports.prefetch import Prefetched

LEAD_COLUMNS: Final = (
    "lead_id",
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "industry",
    "headcount",
    "headcount_bucket",
    "campaign_id",
    "campaign_name",
    "response_mode",
    "sentiment",
    "is_positive",
    "is_meeting_requested",
    "is_booked",
    "booked_at",
    "booking_provider",
    "first_positive_at",
    "first_response_by",
)
MESSAGE_KEYS: Final = (
    "message_id",
    "lead_id",
    "lead_email",
    "lead_name",
    "campaign_id",
    "campaign_name",
    "direction",
    "channel",
    "subject",
    "body",
    "sentiment",
    "sentBy",
    "ai_draft_id",
    "follow_up_step",
    "occurred_at",
)
# Senders whose message counts as answering a lead (the platform's campaign email does not).
RESPONDERS: Final = ("ai", "setter", "sequence")
# Cells a spreadsheet would evaluate as a formula (OWASP "CSV injection").
_FORMULA_STARTS: Final = "=+-@\t\r"
_STREAM_ROWS: Final = 5_000
_CHUNK_BYTES: Final = 256 * 1024
_FILE_MODE: Final = stat.S_IFREG | 0o600  # as unzipped: personal data, for the owner only
# The export's connection, as pg_stat_activity shows it.
APPLICATION_NAME: Final = "replyline-export"
# COPY's CSV format with a delimiter and a quote that JSON text never holds (it escapes every
# control character): each row comes out as the JSON text as it is, plus "\n".
_JSON_LINES: Final = "(format csv, delimiter E'\\x01', quote E'\\x02')"


class UnknownWorkspaceError(LookupError):
    """No workspace has this id."""


@dataclass(frozen=True)
class ExportFilters:
    positive_only: bool = False
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    channels: frozenset[str] = frozenset(CHANNELS)
    directions: frozenset[str] = frozenset(DIRECTIONS)

    def __post_init__(self) -> None:
        if unknown := self.channels - set(CHANNELS):
            raise ValueError(f"unknown channel {sorted(unknown)[0]!r}; use {', '.join(CHANNELS)}")
        if unknown := self.directions - set(DIRECTIONS):
            raise ValueError(
                f"unknown direction {sorted(unknown)[0]!r}; use {', '.join(DIRECTIONS)}"
            )
        if not self.channels or not self.directions:
            raise ValueError("channels and directions must name at least one value each")
        if self.occurred_from and self.occurred_to and self.occurred_from >= self.occurred_to:
            raise ValueError("from must be before to")
        for moment in (self.occurred_from, self.occurred_to):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("from and to need a time zone (e.g. 2025-01-31T00:00:00Z)")

    def describe(self) -> str:
        parts = []
        if self.positive_only:
            parts.append("positive leads only")
        if self.occurred_from:
            parts.append(f"from {self.occurred_from.isoformat()}")
        if self.occurred_to:
            parts.append(f"to {self.occurred_to.isoformat()}")
        if self.channels != set(CHANNELS):
            parts.append("channels " + ", ".join(sorted(self.channels)))
        if self.directions != set(DIRECTIONS):
            parts.append("directions " + ", ".join(sorted(self.directions)))
        return "; ".join(parts) or "none (every lead and message)"


class ExportProgress(Protocol):
    def start(self, leads: int, messages: int) -> None: ...

    def advance(self, kind: str, rows: int) -> None: ...


def _deflater() -> Any:
    """Raw deflate by ISA-L at level 1: compressing was a third of the export's time with
    zlib; ISA-L does the same work several times faster (and smaller on these files)."""
    return isal_zlib.compressobj(1, isal_zlib.DEFLATED, -isal_zlib.MAX_WBITS)


def export_filename(workspace_id: uuid.UUID, day: date) -> str:
    return f"replyline-{workspace_id}-{day.isoformat()}.zip"


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment else ""


def _text(value: str | None) -> str:
    """A text cell: empty for null, prefixed with `'` if a spreadsheet would run it."""
    if not value:
        return ""
    return "'" + value if value[0] in _FORMULA_STARTS else value


_BOOL: Final = {True: "true", False: "false"}


@dataclass
class ChatGPTExport:
    """One export, ready to stream: iterate it for the zip's bytes (once)."""

    database_url: str
    workspace: Workspace
    filters: ExportFilters
    progress: ExportProgress | None = None
    exported_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def filename(self) -> str:
        return export_filename(self.workspace.id, self.exported_at.date())

    def __iter__(self) -> Iterator[bytes]:
        """The zip's bytes (iterate once). Connecting, taking the snapshot and planning both
        queries with the filters bound happen here, before the first byte is produced."""
        chunks = self._zip()
        next(chunks)  # runs up to the first byte; any refusal raises now
        return chunks

    def _zip(self) -> Iterator[bytes]:
        # Two connections on one snapshot: the messages' query (its sort is most of the
        # database's work) runs while leads.csv is written on the first.
        with self._connect() as conn, conn.transaction():
            row = conn.execute("select pg_export_snapshot()").fetchone()
            assert row is not None
            with self._connect() as messages_conn, messages_conn.transaction():
                messages_conn.execute(
                    sql.SQL("set transaction snapshot {}").format(sql.Literal(row[0]))
                )
                for each in (conn, messages_conn):
                    each.execute("set local time zone 'UTC'")
                    # JIT compiling these plans cost more (seconds at 1M messages) than it saved.
                    each.execute("set local jit = off")
                self._plan(conn, messages_conn)
                if self.progress is not None:
                    self.progress.start(*self._counts(conn))
                yield b""
                with (
                    Prefetched(
                        self._messages_jsonl(messages_conn),
                        "export messages.jsonl",
                        messages_conn.cancel_safe,
                    ) as messages,
                    Prefetched(
                        self._leads_csv(conn), "export leads.csv", conn.cancel_safe
                    ) as leads,
                ):
                    at, mode = self.exported_at, _FILE_MODE
                    yield from stream_zip(
                        (
                            ("README.md", at, mode, ZIP_64, (self._readme(),)),
                            ("leads.csv", at, mode, ZIP_64, iter(leads)),
                            ("messages.jsonl", at, mode, ZIP_64, iter(messages)),
                        ),
                        chunk_size=_CHUNK_BYTES,
                        get_compressobj=_deflater,
                    )

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.database_url, application_name=APPLICATION_NAME)
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        return conn

    # -- queries -------------------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        f = self.filters
        return {
            "workspace_id": self.workspace.id,
            "positive": sorted(POSITIVE_SENTIMENTS),
            "meeting": sorted(MEETING_REQUESTED_SENTIMENTS),
            "responders": list(RESPONDERS),
            "from": f.occurred_from,
            "to": f.occurred_to,
            "channels": sorted(f.channels),
            "directions": sorted(f.directions),
        }

    def _message_conditions(self, alias: str) -> sql.Composable:
        """Which messages are exported: the workspace's, delivered if outbound, filtered."""
        m = sql.Identifier(alias)
        conditions = [
            sql.SQL("{m}.workspace_id = %(workspace_id)s"),
            sql.SQL(
                "({m}.direction = 'inbound' or coalesce({m}.delivery_status, 'sent') = 'sent')"
            ),
            sql.SQL("{m}.channel = any(%(channels)s)"),
            sql.SQL("{m}.direction = any(%(directions)s)"),
        ]
        if self.filters.occurred_from:
            conditions.append(sql.SQL("{m}.occurred_at >= %(from)s"))
        if self.filters.occurred_to:
            conditions.append(sql.SQL("{m}.occurred_at < %(to)s"))
        if self.filters.positive_only:
            conditions.append(
                sql.SQL(
                    "exists (select 1 from messages p where p.lead_id = {m}.lead_id"
                    " and p.workspace_id = %(workspace_id)s and p.direction = 'inbound'"
                    " and p.sentiment = any(%(positive)s))"
                )
            )
        return sql.SQL(" and ").join(c.format(m=m) for c in conditions)

    def _lead_conditions(self) -> sql.Composable:
        conditions: list[sql.Composable] = [sql.SQL("l.workspace_id = %(workspace_id)s")]
        if self.filters.positive_only:
            conditions.append(sql.SQL("coalesce(r.is_positive, false)"))
        if self.filters.occurred_from or self.filters.occurred_to:
            conditions.append(
                sql.SQL("exists (select 1 from messages w where w.lead_id = l.id and {})").format(
                    self._message_conditions("w")
                )
            )
        return sql.SQL(" and ").join(conditions)

    def _leads_query(self) -> sql.Composed:
        return sql.SQL(
            """
            with replies as (
                select
                    lead_id,
                    bool_or(sentiment = any(%(positive)s)) as is_positive,
                    bool_or(sentiment = any(%(meeting)s)) as is_meeting_requested,
                    min(occurred_at) filter (where sentiment = any(%(positive)s))
                        as first_positive_at
                from messages
                where workspace_id = %(workspace_id)s
                    and direction = 'inbound'
                    and lead_id is not null
                group by lead_id
            ),
            -- Who first answered each lead once it was positive: one pass over the outbound
            -- messages, not a subquery per lead.
            first_responses as (
                select distinct on (s.lead_id) s.lead_id, s.sent_by
                from messages s
                join replies r on r.lead_id = s.lead_id
                where s.direction = 'outbound'
                    and s.sent_by = any(%(responders)s)
                    and coalesce(s.delivery_status, 'sent') = 'sent'
                    and s.occurred_at >= r.first_positive_at
                order by s.lead_id, s.occurred_at, s.id
            )
            select
                l.id::text, l.email, l.first_name, l.last_name, l.company, l.title,
                l.industry, l.headcount, c.id::text, c.name, c.response_mode, l.sentiment_tag,
                coalesce(r.is_positive, false), coalesce(r.is_meeting_requested, false),
                l.ghl_appointment_id, l.calendly_invitee_uri, l.calendly_scheduled_event_uri,
                l.appointment_status, l.booked_at, r.first_positive_at,
                f.sent_by
            from leads l
            left join email_campaigns c on c.id = l.email_campaign_id
            left join replies r on r.lead_id = l.id
            left join first_responses f on f.lead_id = l.id
            where {conditions}
            order by l.created_at, l.id
            """
        ).format(conditions=self._lead_conditions())

    def _messages_query(self) -> sql.Composed:
        """One JSON text per message, keys in MESSAGE_KEYS order.

        `row_to_json` of the lateral row writes compact JSON (no spaces) that escapes text as
        orjson did; timestamps are spelt as Python's isoformat (microseconds only when there
        are some), so the file's bytes did not change when Postgres took over writing it.
        """
        return sql.SQL(
            """
            select row_to_json(j)
            from messages m
            left join leads l on l.id = m.lead_id
            left join email_campaigns c on c.id = coalesce(l.email_campaign_id, m.email_campaign_id)
            cross join lateral (
                select
                    m.id as message_id,
                    m.lead_id,
                    l.email as lead_email,
                    nullif(concat_ws(' ', l.first_name, l.last_name), '') as lead_name,
                    c.id as campaign_id,
                    c.name as campaign_name,
                    m.direction,
                    m.channel,
                    m.subject,
                    m.body,
                    m.sentiment,
                    m.sent_by as "sentBy",
                    m.ai_draft_id,
                    m.follow_up_step,
                    to_char(
                        m.occurred_at,
                        case when extract(microseconds from m.occurred_at)::bigint %% 1000000 = 0
                            then 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'
                            else 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'
                        end
                    ) as occurred_at
            ) j
            where {conditions}
            order by m.lead_id nulls last, m.occurred_at, m.id
            """
        ).format(conditions=self._message_conditions("m"))

    def _plan(self, conn: psycopg.Connection[Any], messages_conn: psycopg.Connection[Any]) -> None:
        """EXPLAIN both queries with the filters bound as they will be: the database refuses
        a value (or a query) here, before the first byte, not in the middle of the zip."""
        conn.execute(sql.SQL("explain {}").format(self._leads_query()), self._params())
        # COPY binds its values client-side
        with psycopg.ClientCursor(messages_conn) as client_side:
            client_side.execute(
                sql.SQL("explain {}").format(self._messages_query()), self._params()
            )

    def _counts(self, conn: psycopg.Connection[Any]) -> tuple[int, int]:
        leads = conn.execute(
            sql.SQL("select count(*) from ({}) q").format(self._leads_query()), self._params()
        ).fetchone()
        messages = conn.execute(
            sql.SQL("select count(*) from messages m where {}").format(
                self._message_conditions("m")
            ),
            self._params(),
        ).fetchone()
        return (leads[0] if leads else 0, messages[0] if messages else 0)

    # -- files ---------------------------------------------------------------------------------

    def _readme(self) -> bytes:
        template = resources.files(__package__).joinpath("chatgpt_readme.md").read_text()
        return template.format(
            workspace_name=self.workspace.name,
            workspace_id=self.workspace.id,
            exported_at=_iso(self.exported_at),
            filters=self.filters.describe(),
        ).encode()

    def _rows(self, conn: psycopg.Connection[Any], query: sql.Composed) -> Iterator[Any]:
        # Chunked streaming, not a named cursor: Postgres never runs a cursor's query in
        # parallel, and the 1M-message sort took twice as long serially. Memory stays bounded
        # by one chunk of rows either way.
        with conn.cursor(binary=True) as cursor:
            yield from cursor.stream(query, self._params(), size=_STREAM_ROWS)

    def _leads_csv(self, conn: psycopg.Connection[Any]) -> Iterator[bytes]:
        buffer = io.StringIO()
        # RFC 4180: CR LF rows, and QUOTE_MINIMAL then quotes every cell holding a CR, an LF,
        # a quote or a comma, so a line break inside a value never splits its row.
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(LEAD_COLUMNS)
        # A detached Lead carries the booking fields so the one booking rule can judge it.
        # Building one per row was a tenth of the export, so the common case of no booking
        # fields at all is judged once, and headcounts (few distinct values) bucketed once.
        # Each column is formatted by what it holds, not by a type test per cell: this loop
        # was most of the Python time spent on leads.csv.
        workspace = self.workspace
        unbooked_fields = (None, None, None, None)
        unbooked = is_meeting_booked(Lead(), workspace)
        bucket = functools.lru_cache(maxsize=4096)(lambda raw: _text(headcount_bucket(raw)))
        provider = _text(workspace.booking_provider)
        rows = 0
        for row in self._rows(conn, self._leads_query()):
            (lead_id, email, first, last, company, title, industry, headcount) = row[:8]
            (campaign_id, campaign_name, mode, sentiment, positive, meeting) = row[8:14]
            (ghl_appt, invitee, event, status, booked_at, first_positive, first_by) = row[14:]
            if (ghl_appt, invitee, event, status) == unbooked_fields:
                booked = unbooked
            else:
                booked = is_meeting_booked(
                    Lead(
                        ghl_appointment_id=ghl_appt,
                        calendly_invitee_uri=invitee,
                        calendly_scheduled_event_uri=event,
                        appointment_status=status,
                    ),
                    workspace,
                )
            writer.writerow(
                (
                    lead_id,  # ids are hex and dashes: never formula-like
                    _text(email),
                    _text(first),
                    _text(last),
                    _text(company),
                    _text(title),
                    _text(industry),
                    _text(headcount),
                    bucket(headcount),
                    campaign_id or "",
                    _text(campaign_name),
                    _text(mode),
                    _text(sentiment),
                    _BOOL[positive],
                    _BOOL[meeting],
                    _BOOL[booked],
                    _iso(booked_at) if booked else "",
                    provider,
                    _iso(first_positive),
                    _text(first_by),
                )
            )
            rows += 1
            if buffer.tell() >= _CHUNK_BYTES:
                yield from self._flush(buffer, "leads", rows)
                rows = 0
        yield from self._flush(buffer, "leads", rows)

    def _messages_jsonl(self, conn: psycopg.Connection[Any]) -> Iterator[bytes]:
        # Postgres writes each line; one COPY data message is one row.
        copy_sql = sql.SQL("copy ({}) to stdout {}").format(
            self._messages_query(), sql.SQL(_JSON_LINES)
        )
        chunk = bytearray()
        rows = 0
        with conn.cursor() as cursor, cursor.copy(copy_sql, self._params()) as copy:
            for line in copy:
                chunk += line
                rows += 1
                if len(chunk) >= _CHUNK_BYTES:
                    yield self._counted(chunk, "messages", rows)
                    chunk, rows = bytearray(), 0
        if chunk:
            yield self._counted(chunk, "messages", rows)

    def _counted(self, chunk: bytearray, kind: str, rows: int) -> bytes:
        if self.progress is not None:
            self.progress.advance(kind, rows)
        return bytes(chunk)

    def _flush(self, buffer: io.StringIO, kind: str, rows: int) -> Iterable[bytes]:
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if self.progress is not None and rows:
            self.progress.advance(kind, rows)
        return [data.encode()] if data else []


def chatgpt_export(
    database_url: str,
    workspace_id: uuid.UUID,
    filters: ExportFilters | None = None,
    progress: ExportProgress | None = None,
) -> ChatGPTExport:
    """The export of one workspace; raises UnknownWorkspaceError at once if there is none.

    The HTTP endpoint streams `iter(export)` with `export.filename`; nothing is read until then.
    """
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "select name, booking_provider from workspaces where id = %s", (workspace_id,)
        ).fetchone()
    if row is None:
        raise UnknownWorkspaceError(f"no workspace {workspace_id}")
    workspace = Workspace(id=workspace_id, name=row[0], booking_provider=row[1])
    return ChatGPTExport(database_url, workspace, filters or ExportFilters(), progress)
